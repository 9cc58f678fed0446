"""The built-in ``softcalc`` commands: one ``register_<name>`` function each.

A registration function adds the command's sub-parser (every option with a help
text, ``--json`` included) and sets ``func``, which runs the command on the parsed
arguments and returns the exit status. Modules are imported inside the commands.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._cli_args import (
    UsageError,
    add_command,
    complete_soft,
    evidence_argument,
    int_between,
    json_option,
    network_from,
    network_options,
    parse_evidence,
    parse_soft,
    plot_option,
    positive_int,
    seed_int,
    top_option,
)
from ._cli_output import emit_json, print_rows, print_table, records
from .exceptions import EvidenceError

if TYPE_CHECKING:
    from .network import Network

__all__ = [
    "register_coverage",
    "register_demo",
    "register_diagnose",
    "register_evaluate",
    "register_nodes",
    "register_sensitivity",
    "register_uncertainty",
    "register_validate",
]


DIFFERENTIAL_COLUMNS = ("diagnosis", "label", "probability")


def differential(
    net: Network,
    evidence: Mapping[str, Any],
    top: int,
    soft: dict[str, dict[str, float]] | None = None,
) -> list[dict[str, Any]]:
    """The ``top`` most probable diagnoses as plain rows (no pandas: a fast start)."""
    import numpy as np  # not at import: `softcalc --version` and usage errors need none

    values = net._posterior_array(evidence, net.target, soft or None)
    states = net.states(net.target)
    order = np.argsort(-values, kind="stable")[:top]  # the order of net.posterior
    return [
        {"diagnosis": states[i], "label": net.labels[states[i]], "probability": float(values[i])}
        for i in order.tolist()
    ]


def _cmd_diagnose(args: argparse.Namespace) -> int:
    net = network_from(args)
    soft = complete_soft(net, parse_soft(args.evidence))
    rows = differential(net, parse_evidence(args.evidence, net), args.top, soft)
    if args.json:
        emit_json(rows)
    else:
        print_rows(rows, DIFFERENTIAL_COLUMNS)
    return 0


def register_diagnose(sub: Any) -> None:
    p = add_command(sub, "diagnose", _cmd_diagnose, "ranked differential for the given findings")
    evidence_argument(p)
    network_options(p)
    top_option(p, 10, "most probable diagnoses")
    json_option(p)


def _cmd_demo(args: argparse.Namespace) -> int:
    from .cases import load_examples

    net = network_from(args)
    case = load_examples()[0]
    rows = differential(net, dict(case.findings), args.top)
    if args.json:
        emit_json(
            {
                "case": {
                    "id": case.id,
                    "citation": case.citation,
                    "findings": dict(case.findings),
                    "diagnosis": case.diagnosis,
                },
                "profile": net.profile,
                "posterior": rows,
            }
        )
        return 0
    print(f"Example case {case.id} ({case.citation}); profile {net.profile!r}")
    for name, value in case.findings.items():
        print(f"  {name} = {value}")
    print()
    print_rows(rows, DIFFERENTIAL_COLUMNS)
    print(f"\nFinal diagnosis in the source: {case.diagnosis}")
    return 0


def register_demo(sub: Any) -> None:
    p = add_command(sub, "demo", _cmd_demo, "the ranked differential of a built-in example case")
    network_options(p)
    top_option(p, 10, "most probable diagnoses")
    json_option(p)


def _cmd_nodes(args: argparse.Namespace) -> int:
    import textwrap

    net = network_from(args)
    names = [args.node] if args.node else list(net.findings)
    if args.json:
        emit_json(
            [
                {
                    "node": name,
                    "kind": net.node(name).kind,
                    "states": list(net.states(name)),
                    "description": net.node(name).description,
                    "state_definitions": net.definitions(name).to_dict(),
                }
                for name in names
            ]
        )
        return 0
    if not args.node:
        # one finding per line, its states wrapped under the states column
        width = max(map(len, names))
        print(f"{'finding':<{width}}  states")
        for name in names:
            print(
                textwrap.fill(
                    ", ".join(net.states(name)),
                    width=max(88, width + 40),
                    initial_indent=f"{name:<{width}}  ",
                    subsequent_indent=" " * (width + 2),
                )
            )
        print("\n`softcalc nodes NODE` prints a finding's definition (what each state means).")
        return 0
    # one node: its states, its definition and what each state means (how to encode a case)
    node = net.node(args.node)
    print(
        textwrap.fill(
            ", ".join(node.states),
            width=88,
            initial_indent=f"{node.name} ({node.kind}): ",
            subsequent_indent="    ",
        )
    )
    print()
    print(textwrap.fill(node.description or "(no definition written)", width=88))
    states = net.definitions(args.node)
    if states.str.len().any():  # what each state means, where written
        width = max(map(len, states.index))
        for state, text in states.items():
            print(
                textwrap.fill(
                    text or "-",
                    width=88,
                    initial_indent=f"  {state:<{width}}  ",
                    subsequent_indent=" " * (width + 4),
                )
            )
    return 0


def register_nodes(sub: Any) -> None:
    p = add_command(sub, "nodes", _cmd_nodes, "list the findings, their states and definitions")
    p.add_argument(
        "node", nargs="?", default=None, help="show only this node (default: every finding)"
    )
    network_options(p, profile=False)
    json_option(p)


def _cmd_validate(args: argparse.Namespace) -> int:
    from .network import Network
    from .spec import load_spec

    net = Network(load_spec(args.path))  # always read afresh, never from the cache
    net.pgmpy_model.check_model()
    params = net.parameters()
    result = {
        "name": net.spec.name,
        "version": net.spec.version,
        "path": str(net.spec.path),
        "nodes": len(net.nodes),
        "parameters": len(params),
        "documented_share": float((params["basis"] != "assumption").mean()),
        "sources": len(net.spec.sources),
        "profiles": list(net.profiles),
        "content_hash": net.spec.content_hash,
    }
    if args.json:
        emit_json(result)
        return 0
    print(
        f"OK: {result['name']} at {result['path']}: {result['nodes']} nodes, "
        f"{result['parameters']} table entries ({result['documented_share']:.1%} documented), "
        f"{result['sources']} sources, profiles: {', '.join(net.profiles)}"
    )
    print(f"content hash: {net.spec.content_hash} (version {net.spec.version or '-'})")
    return 0


def register_validate(sub: Any) -> None:
    p = add_command(
        sub, "validate", _cmd_validate, "read and check a network folder (default: packaged)"
    )
    p.add_argument(
        "path",
        nargs="?",
        type=Path,
        default=None,
        metavar="FOLDER",
        help="network folder with network.yaml (default: the packaged network)",
    )
    json_option(p)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from .cases import holdout_cases_path, load_cases
    from .evaluate import evaluate

    if args.holdout and args.cases is not None:
        raise EvidenceError("Give either a case file/folder or --holdout, not both")
    net = network_from(args)
    cases = load_cases(holdout_cases_path() if args.holdout else args.cases)
    report = evaluate(net, cases, bins=args.bins)
    if args.json:
        emit_json(report.to_dict())
    else:
        print(report.summary_text())
    if args.plot:
        from .plotting import plot_reliability

        panels = plot_reliability(report, by_group=True)
        figure = panels[0].figure
        m = report.metrics
        figure.suptitle(
            f"Top-label reliability, {int(m['n_cases'])} cases, {args.bins} bins: "
            f"ECE {m['ece_top_label']:.3f} (classwise {m['ece_classwise']:.3f})",
            fontsize=10,
        )
        try:
            figure.savefig(args.plot, dpi=110, bbox_inches="tight")
        except OSError as exc:
            raise UsageError(f"--plot {str(args.plot)!r}: {exc.strerror or exc}") from None
        if not args.json:
            print(f"\nReliability diagram written to {args.plot}")
    return 0


def register_evaluate(sub: Any) -> None:
    p = add_command(sub, "evaluate", _cmd_evaluate, "accuracy and calibration on a case library")
    p.add_argument(
        "cases",
        nargs="?",
        type=Path,
        default=None,
        metavar="CASES",
        help="case file or folder of *.yaml cases (default: the packaged case library)",
    )
    p.add_argument(
        "--holdout", action="store_true", help="the packaged held-out cases instead of the library"
    )
    p.add_argument(
        "--bins",
        type=positive_int,
        default=10,
        metavar="N",
        help="equal-width probability bins of the calibration tables and of the expected "
        "calibration errors (1 to 1000; default 10)",
    )
    network_options(p)
    plot_option(p, "a top-label reliability diagram, all cases and by diagnosis group")
    json_option(p)


def _cmd_coverage(args: argparse.Namespace) -> int:
    from .coverage import coverage

    report = coverage(network_from(args))
    if args.json:
        emit_json(report.to_dict())
    else:
        print(report.summary_text())
    return 0


def register_coverage(sub: Any) -> None:
    p = add_command(sub, "coverage", _cmd_coverage, "share of documented and assumed parameters")
    network_options(p, profile=False)
    json_option(p)


def _cmd_sensitivity(args: argparse.Namespace) -> int:
    from .sensitivity import sensitivity

    net = network_from(args)
    table = sensitivity(
        net, parse_evidence(args.evidence, net), target=args.target, state=args.state
    )
    if args.json:
        emit_json(records(table.head(args.top)))
    else:
        cols = ["node", "parents", "state", "x0", "plausible_low", "plausible_high", "swing"]
        cols += ["sensitivity_value", "admissible_low", "admissible_high", "source", "basis"]
        shown = table.head(args.top)[cols].copy()
        shown["parents"] = shown["parents"].map(
            lambda d: ",".join(f"{k}={v}" for k, v in d.items())
        )
        print_table(shown)
    if args.plot:
        from .plotting import plot_tornado

        ax = plot_tornado(table, top=args.top)
        try:
            ax.figure.savefig(args.plot, dpi=120, bbox_inches="tight")
        except OSError as exc:
            raise UsageError(f"--plot {str(args.plot)!r}: {exc.strerror or exc}") from None
        if not args.json:
            print(f"\nTornado plot written to {args.plot}")
    return 0


def register_sensitivity(sub: Any) -> None:
    p = add_command(
        sub,
        "sensitivity",
        _cmd_sensitivity,
        "one-way sensitivity of a posterior to every parameter",
    )
    evidence_argument(p)
    p.add_argument(
        "--target", default=None, metavar="NODE", help="queried node (default: the diagnosis)"
    )
    p.add_argument(
        "--state",
        default=None,
        metavar="STATE",
        help="queried state of the target (default: the most probable one)",
    )
    network_options(p)
    top_option(p, 15, "most influential parameters")
    plot_option(p, "a tornado plot")
    json_option(p)


def _cmd_uncertainty(args: argparse.Namespace) -> int:
    from .uncertainty import posterior_uncertainty

    net = network_from(args)
    result = posterior_uncertainty(
        net, parse_evidence(args.evidence, net), n_samples=args.samples, seed=args.seed
    )
    summary = result.summary.head(args.top).reset_index()
    if args.json:
        emit_json(
            {
                "top": result.top,
                "p_top_stays": result.p_top_stays,
                "credible": result.credible,
                "n_samples": len(result.samples),
                "seed": args.seed,
                "summary": records(summary),
            }
        )
        return 0
    print_table(summary)
    print(
        f"\nP({result.top!r} stays the most likely diagnosis) = {result.p_top_stays:.3f} "
        f"over {len(result.samples)} samples (seed {args.seed})"
    )
    return 0


def register_uncertainty(sub: Any) -> None:
    p = add_command(
        sub,
        "uncertainty",
        _cmd_uncertainty,
        "Monte Carlo over the documented parameter uncertainty",
    )
    evidence_argument(p)
    p.add_argument(
        "--samples",
        type=int_between(2, 200_000),
        default=10_000,
        metavar="N",
        help="number of Monte Carlo samples, 2 to 200000 (default 10000)",
    )
    p.add_argument(
        "--seed",
        type=seed_int,
        default=0,
        metavar="SEED",
        help="random seed, a whole number of at least 0 (default 0)",
    )
    network_options(p)
    top_option(p, 10, "most probable diagnoses")
    json_option(p)
