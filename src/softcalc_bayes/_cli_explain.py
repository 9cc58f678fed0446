"""The ``softcalc explain`` and ``softcalc next-test`` commands (see :mod:`softcalc_bayes.cli`)."""

from __future__ import annotations

import argparse
from typing import Any

from ._cli_args import (
    UsageError,
    add_command,
    evidence_argument,
    int_between,
    json_option,
    network_from,
    network_options,
    parse_evidence,
    plot_option,
    seed_int,
    top_option,
)
from ._cli_output import emit_json, print_table, records

__all__ = ["register_explain", "register_next_test"]


def _cmd_explain(args: argparse.Namespace) -> int:
    from .explain import explain

    net = network_from(args)
    result = explain(
        net,
        parse_evidence(args.evidence, net),
        state=args.state,
        versus=args.versus,
        n_permutations=args.permutations,
        seed=args.seed,
    )
    if args.json:
        emit_json(result.to_dict())
    else:
        print(repr(result))
    if args.plot:
        from .plotting import plot_explanation

        ax = plot_explanation(result)
        try:
            ax.figure.savefig(args.plot, dpi=120, bbox_inches="tight")
        except OSError as exc:
            raise UsageError(f"--plot {str(args.plot)!r}: {exc.strerror or exc}") from None
        if not args.json:
            print(f"\nWaterfall plot written to {args.plot}")
    return 0


def register_explain(sub: Any) -> None:
    p = add_command(
        sub, "explain", _cmd_explain, "why this diagnosis: weight of evidence of each finding (dB)"
    )
    evidence_argument(p)
    p.add_argument(
        "--state",
        default=None,
        metavar="DIAGNOSIS",
        help="diagnosis explained (default: the most probable one)",
    )
    p.add_argument(
        "--versus",
        default=None,
        metavar="DIAGNOSIS_OR_GROUP",
        help="weighed against one diagnosis or a group (default: all other diagnoses)",
    )
    p.add_argument(
        "--permutations",
        type=int_between(2, 20_000),
        default=2000,
        metavar="N",
        help="permutations sampled for Shapley values beyond 15 findings, 2 to 20000 "
        "(default 2000)",
    )
    p.add_argument(
        "--seed", type=seed_int, default=0, help="seed of the permutation sampling (default 0)"
    )
    network_options(p)
    plot_option(p, "a waterfall plot")
    json_option(p)


def _cmd_next_test(args: argparse.Namespace) -> int:
    from .workup import next_best_test

    net = network_from(args)
    table = next_best_test(
        net,
        parse_evidence(args.evidence, net),
        target=args.target,
        costs=args.costs,
        criterion=args.criterion,
        lookahead=2 if args.pairs else 1,
    )
    shown = table.head(args.top)
    if args.json:
        emit_json({**table.attrs, "tests": records(shown)})
        return 0
    attrs = table.attrs
    print(
        f"Current top: {attrs['top']} (P = {attrs['p_top']:.4f}); uncertainty "
        f"H({attrs['target']} | e) = {attrs['entropy_bits']:.3f} bits; "
        f"ranked by {attrs['criterion']}"
    )
    print_table(shown.reset_index())
    return 0


def register_next_test(sub: Any) -> None:
    p = add_command(
        sub, "next-test", _cmd_next_test, "which test next: expected information gain per finding"
    )
    evidence_argument(p)
    p.add_argument(
        "--costs",
        default=None,
        metavar="FILE",
        help="test-cost YAML file, or 'default' for the network's test_costs.yaml",
    )
    p.add_argument(
        "--target",
        default=None,
        metavar="NODE",
        help="node whose uncertainty counts (default: the diagnosis)",
    )
    p.add_argument(
        "--criterion",
        default=None,
        choices=["information_gain", "gain_per_cost", "p_top_changes", "expected_p_top"],
        help="sort key (default: gain_per_cost with costs, else information_gain)",
    )
    p.add_argument(
        "--pairs", action="store_true", help="two-step look-ahead: the best pair of tests"
    )
    network_options(p)
    top_option(p, 10, "best tests")
    json_option(p)
