"""The ``softcalc`` command line. The only module that prints.

Exit status: 0 on success, 2 on bad input (one line on stderr), 1 when a check
(``validate``, ``check``) finds problems.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .exceptions import EvidenceError, SoftcalcError
from .network import Network, load_network

__all__ = ["main"]


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(f"{self.prog}: {message}")


def _parse_evidence(tokens: Sequence[str]) -> dict[str, str]:
    evidence: dict[str, str] = {}
    for token in tokens:
        name, sep, value = token.partition("=")
        if not sep or not name or not value:
            raise _UsageError(f"Evidence must be written finding=state, got {token!r}")
        if name in evidence:
            raise _UsageError(f"Finding {name!r} is given twice")
        evidence[name] = value
    return evidence


def _network(args: argparse.Namespace) -> Network:
    return load_network(getattr(args, "network", None), profile=getattr(args, "profile", None))


def _print_table(frame: pd.DataFrame, as_json: bool, floatfmt: str = "{:.4f}") -> None:
    if as_json:
        print(frame.to_json(orient="records", indent=2))
        return
    shown = frame.copy()
    for column in shown.columns:
        if pd.api.types.is_float_dtype(shown[column]):
            shown[column] = shown[column].map(floatfmt.format)
        else:
            shown[column] = shown[column].astype(object).where(shown[column].notna(), "-")
    print(shown.to_string(index=False))


def _differential(net: Network, evidence: dict[str, str], top: int) -> pd.DataFrame:
    post = net.posterior(evidence).head(top)
    return pd.DataFrame(
        {
            "diagnosis": post.index,
            "label": [net.labels[d] for d in post.index],
            "probability": post.to_numpy(),
        }
    )


def _cmd_diagnose(args: argparse.Namespace) -> int:
    net = _network(args)
    _print_table(_differential(net, _parse_evidence(args.evidence), args.top), args.json)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from .cases import load_examples

    net = _network(args)
    case = load_examples()[0]
    print(f"Example case {case.id} ({case.citation}); profile {net.profile!r}")
    for name, value in case.findings.items():
        print(f"  {name} = {value}")
    print()
    _print_table(_differential(net, dict(case.findings), args.top), False)
    print(f"\nFinal diagnosis in the source: {case.diagnosis}")
    return 0


def _cmd_nodes(args: argparse.Namespace) -> int:
    net = _network(args)
    names = [args.node] if args.node else list(net.findings)
    rows = []
    for name in names:
        node = net.node(name)
        rows.append({"node": name, "kind": node.kind, "states": ", ".join(node.states)})
    frame = pd.DataFrame(rows)
    if args.json:
        print(frame.to_json(orient="records", indent=2))
    else:
        print(frame.to_string(index=False))
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    net = load_network(args.path)
    net.pgmpy_model.check_model()
    params = net.parameters()
    documented = (params["basis"] != "assumption").mean()
    print(
        f"OK: {net.spec.name} at {net.spec.path}: {len(net.nodes)} nodes, "
        f"{len(params)} parameters ({documented:.1%} documented), "
        f"{len(net.spec.sources)} sources, profiles: {', '.join(net.profiles)}"
    )
    print(f"content hash: {net.spec.content_hash} (version {net.spec.version or '-'})")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from .cases import holdout_cases_path, load_cases
    from .evaluate import evaluate

    if args.holdout and args.cases is not None:
        raise EvidenceError("Give either a case file/folder or --holdout, not both")
    net = _network(args)
    report = evaluate(net, load_cases(holdout_cases_path() if args.holdout else args.cases))
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
        return 0
    print(report.summary_text())
    return 0


def _cmd_coverage(args: argparse.Namespace) -> int:
    from .coverage import coverage

    net = _network(args)
    report = coverage(net)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
        return 0
    print(report.summary_text())
    return 0


def _cmd_sensitivity(args: argparse.Namespace) -> int:
    from .sensitivity import sensitivity

    net = _network(args)
    table = sensitivity(net, _parse_evidence(args.evidence), target=args.target, state=args.state)
    cols = [
        "node",
        "parents",
        "state",
        "x0",
        "sensitivity_value",
        "admissible_low",
        "admissible_high",
        "source",
        "basis",
    ]
    shown = table.head(args.top)[cols].copy()
    shown["parents"] = shown["parents"].map(lambda d: ",".join(f"{k}={v}" for k, v in d.items()))
    _print_table(shown, args.json)
    if args.plot:
        from .plotting import plot_tornado

        ax = plot_tornado(table, top=args.top)
        ax.figure.savefig(args.plot, dpi=120, bbox_inches="tight")
        print(f"\nTornado plot written to {args.plot}")
    return 0


def _cmd_uncertainty(args: argparse.Namespace) -> int:
    from .uncertainty import posterior_uncertainty

    net = _network(args)
    result = posterior_uncertainty(
        net, _parse_evidence(args.evidence), n_samples=args.samples, seed=args.seed
    )
    _print_table(result.summary.head(args.top).reset_index(), args.json)
    if not args.json:
        print(
            f"\nP({result.top!r} stays the most likely diagnosis) = {result.p_top_stays:.3f} "
            f"over {args.samples} samples"
        )
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from .export import SIDECAR_SUFFIX, export

    net = _network(args)
    path = export(net, args.path, format=args.format, provenance=not args.no_provenance)
    print(f"Wrote {path} ({net.spec.name}, profile {net.profile!r}, {net.spec.content_hash})")
    if not args.no_provenance:
        print(f"Provenance of every number: {path}{SIDECAR_SUFFIX}")
    return 0


def _cmd_batch(args: argparse.Namespace) -> int:
    from .cohort import score_file

    net = _network(args)
    keep = [c for item in args.keep for c in item.split(",") if c]

    def progress(done: int, total: int | None) -> None:
        shown = f"{done:,}/{total:,} rows ({done / total:.0%})" if total else f"{done:,} rows"
        print(f"\rscored {shown}", end="", file=sys.stderr, flush=True)

    n = score_file(
        net,
        args.input,
        args.output,
        target=args.target,
        keep=keep,
        workers=args.workers,
        chunk_rows=args.chunk_rows,
        progress=None if args.quiet else progress,
    )
    if not args.quiet:
        print(file=sys.stderr)
    print(f"Wrote {n:,} posteriors to {args.output} ({net.spec.content_hash})")
    return 0


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="softcalc", description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(p: argparse.ArgumentParser, evidence: bool = False) -> None:
        p.add_argument(
            "--network", type=Path, default=None, help="network folder (default: packaged)"
        )
        p.add_argument("--profile", default=None, help="prior profile (clinical setting)")
        p.add_argument("--json", action="store_true", help="print JSON instead of a table")
        if evidence:
            p.add_argument("evidence", nargs="*", help="findings as finding=state")

    p = sub.add_parser("diagnose", help="ranked differential for the given findings")
    common(p, evidence=True)
    p.add_argument("--top", type=int, default=10)
    p.set_defaults(func=_cmd_diagnose)

    p = sub.add_parser("demo", help="the ranked differential of a built-in example case")
    common(p)
    p.add_argument("--top", type=int, default=10)
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("nodes", help="list findings and their states")
    common(p)
    p.add_argument("node", nargs="?", default=None)
    p.set_defaults(func=_cmd_nodes)

    p = sub.add_parser("validate", help="validate a network folder (default: packaged)")
    p.add_argument("path", nargs="?", type=Path, default=None)
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("evaluate", help="accuracy and calibration on a case library")
    common(p)
    p.add_argument("cases", nargs="?", type=Path, default=None, help="case file or folder")
    p.add_argument(
        "--holdout", action="store_true", help="the packaged held-out cases instead of the library"
    )
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("coverage", help="share of documented vs assumed parameters")
    common(p)
    p.set_defaults(func=_cmd_coverage)

    p = sub.add_parser("sensitivity", help="one-way sensitivity of a posterior to every parameter")
    common(p, evidence=True)
    p.add_argument("--target", default=None)
    p.add_argument("--state", default=None)
    p.add_argument("--top", type=int, default=15)
    p.add_argument("--plot", type=Path, default=None, help="write a tornado plot (PNG)")
    p.set_defaults(func=_cmd_sensitivity)

    p = sub.add_parser("uncertainty", help="Monte Carlo over the documented parameter uncertainty")
    common(p, evidence=True)
    p.add_argument("--samples", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--top", type=int, default=10)
    p.set_defaults(func=_cmd_uncertainty)

    p = sub.add_parser(
        "export", help="write the network to BIF, XMLBIF, UAI, Hugin .net or GeNIe .xdsl"
    )
    common(p)
    p.add_argument("path", type=Path, help="file to write")
    p.add_argument(
        "--format",
        default=None,
        choices=["bif", "xmlbif", "uai", "net", "xdsl"],
        help="default: from the file suffix",
    )
    p.add_argument(
        "--no-provenance", action="store_true", help="do not write <path>.provenance.json"
    )
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("batch", help="posteriors for a CSV or parquet file of cases, streamed")
    common(p)
    p.add_argument("input", type=Path, help="cases: .csv or .parquet, one column per finding")
    p.add_argument("-o", "--output", type=Path, required=True, help="parquet file to write")
    p.add_argument("--target", default=None, help="node to query (default: the diagnosis)")
    p.add_argument("--workers", type=int, default=1, help="processes scoring chunks")
    p.add_argument(
        "--keep",
        action="append",
        default=[],
        metavar="COL",
        help="column to pass through (repeatable)",
    )
    p.add_argument("--chunk-rows", type=int, default=50_000, help="rows per chunk")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(func=_cmd_batch)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``softcalc`` command line; return the exit status."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
        status: int = args.func(args)
        return status
    except (_UsageError, SoftcalcError, ValueError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"softcalc: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
