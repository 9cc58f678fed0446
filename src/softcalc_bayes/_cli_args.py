"""Argument parsing shared by the ``softcalc`` commands (see :mod:`softcalc_bayes.cli`).

Argument types check a value before any work is done; an option whose help depends
on the network (``--profile``) computes it only when help is shown.
"""

from __future__ import annotations

import argparse
import functools
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from .exceptions import SoftcalcError

if TYPE_CHECKING:
    from .network import Network

__all__ = [
    "PLOT_SUFFIXES",
    "LazyHelpStore",
    "Parser",
    "UsageError",
    "add_command",
    "evidence_argument",
    "int_between",
    "json_option",
    "network_from",
    "network_options",
    "output_file",
    "parse_evidence",
    "positive_int",
    "seed_int",
    "top_option",
]

PLOT_SUFFIXES = (".png", ".pdf", ".svg")


class UsageError(Exception):
    """Bad command-line input (reported like a library error: one line, exit 2)."""


class Parser(argparse.ArgumentParser):
    """Raises :class:`UsageError` instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("softcalc").strip()
        raise UsageError(f"{command}: {message}" if command else message)


def _whole_number(text: str, low: int, high: int | None = None) -> int:
    """``text`` as a whole number written plainly (no sign but '+', no leading zeros) in
    ``[low, high]``; else the ``argparse`` error naming the range."""
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    inside = low <= value and (high is None or value <= high)
    if not inside or str(value) != text.strip().lstrip("+"):
        wanted = f"of at least {low}" if high is None else f"from {low} to {high}"
        raise argparse.ArgumentTypeError(f"must be a whole number {wanted}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An ``argparse`` type: a whole number of at least 1."""
    return _whole_number(text, 1)


def int_between(low: int, high: int) -> Callable[[str], int]:
    """An ``argparse`` type: a whole number from ``low`` to ``high``.

    Used where the library function has bounds of its own (``--samples``: 2 to 200,000,
    ``--permutations``: 2 to 20,000), so that the message names the option.
    """

    def parse(text: str) -> int:
        return _whole_number(text, low, high)

    parse.__name__ = f"int_between_{low}_{high}"  # argparse shows it in some errors
    return parse


def seed_int(text: str) -> int:
    """An ``argparse`` type: a whole number of at least 0 (a random seed)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 0, got {text!r}")
    return value


def output_file(text: str) -> Path:
    """An ``argparse`` type: a plot file that can be written (checked before any work)."""
    path = Path(text).expanduser()
    shown = ", ".join(PLOT_SUFFIXES)
    if path.is_dir():
        raise argparse.ArgumentTypeError(
            f"{text!r} is a folder; give a file name ending in {shown}"
        )
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise argparse.ArgumentTypeError(f"{text!r}: the file name must end in {shown}")
    folder = path.parent
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r}: the folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise argparse.ArgumentTypeError(f"{text!r}: no permission to write there")
    return path


def parse_soft(tokens: Sequence[str]) -> dict[str, dict[str, float]]:
    """Soft findings ``finding~state=ratio``: likelihood ``ratio`` for ``state`` (others 1).

    ``mdm2_cdk4_ihc~positive=3`` reads an equivocal stain as three times likelier under
    a positive than a negative result. Several states of one finding may be given.
    """
    soft: dict[str, dict[str, float]] = {}
    for token in tokens:
        if "~" not in token:
            continue
        name, _, rest = token.partition("~")
        state, sep, ratio = rest.partition("=")
        if not name or not state or not sep or not ratio:
            raise UsageError(f"Soft evidence must be written finding~state=ratio, got {token!r}")
        try:
            value = float(ratio)
        except ValueError:
            raise UsageError(f"{token!r}: the ratio must be a number, got {ratio!r}") from None
        if state in soft.setdefault(name, {}):
            raise UsageError(f"Soft evidence on {name}~{state} is given twice")
        soft[name][state] = value
    return soft


def complete_soft(net: Network, soft: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Give every state not named a likelihood of 1 (unknown nodes are left to the library)."""
    out: dict[str, dict[str, float]] = {}
    for name, given in soft.items():
        states = net.states(name) if name in net.nodes else tuple(given)
        out[name] = {s: given.get(s, 1.0) for s in states} | given
    return out


def parse_evidence(
    tokens: Sequence[str], net: Network | None = None
) -> dict[str, str | tuple[str, ...]]:
    """``["finding=state", "finding=state1,state2", ...]`` as a dict (a comma-separated
    value is a set of states: the finding is one of them, unless ``net`` has a state of
    that name; soft ``finding~state=ratio`` tokens are skipped: see :func:`parse_soft`);
    :class:`UsageError` on a malformed token."""
    from ._evidence import comma_set  # here: `softcalc --version` needs no numpy

    evidence: dict[str, str | tuple[str, ...]] = {}
    for token in tokens:
        if "~" in token:
            continue
        name, sep, value = token.partition("=")
        if not sep or not name or not value:
            raise UsageError(f"Evidence must be written finding=state, got {token!r}")
        if name in evidence:
            raise UsageError(f"Finding {name!r} is given twice")
        parsed = comma_set(value, net.states(name) if net and name in net.nodes else ())
        if isinstance(parsed, tuple) and not all(parsed):
            raise UsageError(
                f"A set of states must be written finding=state1,state2, got {token!r}"
            )
        evidence[name] = parsed
    return evidence


class LazyHelpStore(argparse.Action):
    """``store`` with a help text computed only when help is shown."""

    def __init__(self, *args: Any, help_text: Callable[[], str], **kwargs: Any) -> None:
        self._help_text = help_text
        super().__init__(*args, **kwargs)

    @property  # type: ignore[override]
    def help(self) -> str:
        return self._help_text().replace("%", "%%")

    @help.setter
    def help(self, value: str | None) -> None:
        pass

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, *_: Any
    ) -> None:
        setattr(namespace, self.dest, values)


@functools.cache
def profile_help() -> str:
    """Help of ``--profile``, naming the packaged network's profiles (loads it once)."""
    from .network import load_network

    try:
        net = load_network()
        names = ", ".join(net.profiles)
        default = net.spec.default_profile
    except SoftcalcError:  # pragma: no cover - only if the packaged network is broken
        return "prior profile (clinical setting)"
    return (
        f"prior profile (clinical setting) of the network; the packaged network has {names} "
        f"(default: {default})"
    )


def add_command(
    sub: Any, name: str, func: Callable[[argparse.Namespace], int], help: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help + ".")
    parser.set_defaults(func=func)
    return parser


def network_options(parser: argparse.ArgumentParser, *, profile: bool = True) -> None:
    parser.add_argument(
        "--network",
        type=Path,
        default=None,
        metavar="FOLDER",
        help="network folder (default: the packaged network)",
    )
    if profile:
        parser.add_argument("--profile", action=LazyHelpStore, help_text=profile_help, default=None)


def json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print JSON (the fields of the Python result)"
    )


def plot_option(parser: argparse.ArgumentParser, what: str) -> None:
    """``--plot FILE``: also write ``what`` (a plot) to a checked, writable image path."""
    parser.add_argument(
        "--plot",
        type=output_file,
        default=None,
        metavar="FILE",
        help=f"also write {what} ({', '.join(PLOT_SUFFIXES)}; needs matplotlib)",
    )


def top_option(parser: argparse.ArgumentParser, default: int, what: str) -> None:
    parser.add_argument(
        "--top",
        type=positive_int,
        default=default,
        metavar="N",
        help=f"show the N {what} (a whole number of at least 1; default {default})",
    )


def evidence_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "evidence",
        nargs="*",
        metavar="FINDING=STATE",
        help=(
            "observed findings, e.g. fat_in_lesion=present (softcalc nodes lists them); "
            "soft findings as FINDING~STATE=RATIO, e.g. mdm2_cdk4_ihc~positive=3 "
            "(likelihood 3 for that state, 1 for the others)"
        ),
    )


def network_from(args: argparse.Namespace) -> Network:
    """The network of ``--network`` and ``--profile`` (the packaged one by default)."""
    from .network import load_network

    return load_network(getattr(args, "network", None), profile=getattr(args, "profile", None))
