"""The ``softcalc export`` and ``softcalc batch`` commands (see :mod:`softcalc_bayes.cli`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ._cli_args import (
    LazyHelpStore,
    add_command,
    json_option,
    network_from,
    network_options,
    positive_int,
)
from ._cli_output import emit_json

__all__ = ["register_batch", "register_export"]

_FORMATS = ("bif", "xmlbif", "uai", "net", "xdsl")


def _cmd_export(args: argparse.Namespace) -> int:
    from .export import SIDECAR_SUFFIX, export

    net = network_from(args)
    path = export(net, args.path, format=args.format, provenance=not args.no_provenance)
    sidecar = None if args.no_provenance else f"{path}{SIDECAR_SUFFIX}"
    if args.json:
        emit_json({"path": str(path), "provenance": sidecar, **_stamp(net)})
        return 0
    print(f"Wrote {path} ({net.spec.name}, profile {net.profile!r}, {net.spec.content_hash})")
    if sidecar:
        print(f"Provenance of every number: {sidecar}")
    return 0


def _stamp(net: Any) -> dict[str, str]:
    from ._provenance_hash import result_attrs

    return result_attrs(net.spec)


def register_export(sub: Any) -> None:
    p = add_command(
        sub,
        "export",
        _cmd_export,
        "write the network as BIF, XMLBIF, UAI, Hugin .net or GeNIe .xdsl",
    )
    network_options(p)
    p.add_argument("path", type=Path, metavar="PATH", help="file to write")
    p.add_argument(
        "--format",
        default=None,
        choices=_FORMATS,
        help="file format (default: from the suffix: .bif .xml .uai .net .xdsl)",
    )
    p.add_argument(
        "--no-provenance",
        action="store_true",
        help="do not write PATH.provenance.json (the provenance of every number)",
    )
    json_option(p)


class _Progress:
    """The ``scored N rows`` line on stderr, rewritten after each chunk."""

    def __init__(self) -> None:
        self.shown = False

    def __call__(self, done: int, total: int | None) -> None:
        shown = f"{done:,}/{total:,} rows ({done / total:.0%})" if total else f"{done:,} rows"
        print(f"\rscored {shown}", end="", file=sys.stderr, flush=True)
        self.shown = True

    def end(self) -> None:
        """End the line, so an error message that follows has a line of its own."""
        if self.shown:
            print(file=sys.stderr)


def _cmd_batch(args: argparse.Namespace) -> int:
    from .cohort import PROVENANCE_SUFFIX, score_file

    net = network_from(args)
    keep = list(dict.fromkeys(c for item in args.keep for c in item.split(",") if c))
    progress = _Progress()
    try:
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
    finally:
        progress.end()
    provenance = None
    if Path(args.output).suffix.lower() == ".csv":  # parquet keeps it in its metadata
        provenance = f"{args.output}{PROVENANCE_SUFFIX}"
    if args.json:
        emit_json({"rows": n, "output": str(args.output), "provenance": provenance, **_stamp(net)})
        return 0
    print(f"Wrote {n:,} posteriors to {args.output} ({net.spec.content_hash})")
    if provenance:
        print(f"Provenance (network, profile, content hash, target): {provenance}")
    return 0


def _input_help() -> str:
    """Help of ``batch INPUT``, naming the CSV cells that mean not observed (computed
    only when help is shown: it imports :mod:`softcalc_bayes.cohort`, hence pandas)."""
    from .cohort import CSV_NOT_OBSERVED

    missing = ", ".join(["empty", *CSV_NOT_OBSERVED[1:]])
    return (
        "cases: .csv or .parquet/.pq, one column per finding; in a CSV cell "
        f"{missing} mean not observed (other text, e.g. None, is read as a state), "
        "in parquet a null"
    )


def register_batch(sub: Any) -> None:
    p = add_command(
        sub,
        "batch",
        _cmd_batch,
        "posteriors for a CSV or parquet file of cases, streamed in chunks",
    )
    network_options(p)
    p.add_argument("input", type=Path, metavar="INPUT", action=LazyHelpStore, help_text=_input_help)
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="OUT",
        help=(
            "file to write, in the format of its suffix: .parquet or .pq (parquet) or .csv "
            "(CSV); not the input file"
        ),
    )
    p.add_argument("--target", default=None, help="node to query (default: the diagnosis)")
    p.add_argument(
        "--workers", type=positive_int, default=1, metavar="N", help="processes scoring chunks"
    )
    p.add_argument(
        "--keep",
        action="append",
        default=[],
        metavar="COL",
        help=(
            "input column copied to the output, e.g. a patient id (repeatable, or COL1,COL2; "
            "a name given twice is kept once)"
        ),
    )
    p.add_argument(
        "--chunk-rows", type=positive_int, default=50_000, metavar="N", help="rows per chunk"
    )
    p.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    json_option(p)
