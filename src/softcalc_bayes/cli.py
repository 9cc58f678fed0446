"""The ``softcalc`` command line. The only module that prints.

Exit status: 0 on success; 2 on bad input (one line ``softcalc: error: ...`` on
stderr: argument errors and every :class:`~softcalc_bayes.exceptions.SoftcalcError`);
70 on an internal error, i.e. a bug (one line asking for a report, or the traceback
when ``SOFTCALC_DEBUG=1``); 130 when interrupted; 141 when the reader of the
output goes away (``softcalc evaluate | head``), silently, as other tools do.

To add a command, write a ``register_<name>(sub)`` function (see
:mod:`softcalc_bayes._cli_commands`; the option helpers are in
:mod:`softcalc_bayes._cli_args`) and list it in :data:`COMMANDS`. It adds a
sub-parser with :func:`~softcalc_bayes._cli_args.add_command`, gives every option a
help text and ``--json``, and sets ``func``, which runs on the parsed arguments and
returns the exit status. Raise :class:`~softcalc_bayes._cli_args.UsageError` or a
``SoftcalcError`` for bad input. Heavy modules (pandas, the network) are imported
inside the commands, so ``softcalc --help`` and ``--version`` answer at once.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from . import _cli_commands as commands
from ._cli_args import Parser, UsageError
from .exceptions import SoftcalcError

__all__ = ["COMMANDS", "EXIT_BUG", "EXIT_PIPE", "EXIT_USAGE", "build_parser", "main"]

EXIT_USAGE = 2
EXIT_BUG = 70  # EX_SOFTWARE (sysexits.h)
EXIT_INTERRUPTED = 130
EXIT_PIPE = 141  # 128 + SIGPIPE, what a tool killed by a closed pipe reports
DEBUG_VARIABLE = "SOFTCALC_DEBUG"

DESCRIPTION = (
    "Bayesian differential diagnosis of soft-tissue calcification and ossification, "
    "from documented priors."
)
EPILOG = (
    "Findings are given as finding=state (softcalc nodes lists them). "
    "Exit status: 0 success, 2 bad input, 70 internal error (please report it)."
)

COMMANDS: tuple[Callable[[Any], None], ...] = (
    commands.register_diagnose,
    commands.register_demo,
    commands.register_nodes,
    commands.register_validate,
    commands.register_evaluate,
    commands.register_coverage,
    commands.register_sensitivity,
    commands.register_uncertainty,
)
"""One registration function per command, in the order ``--help`` lists them."""


class _VersionAction(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from . import __version__

        print(f"softcalc {__version__}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The ``softcalc`` parser with every command of :data:`COMMANDS`."""
    parser = Parser(prog="softcalc", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument(
        "--version", action=_VersionAction, nargs=0, help="print the version and exit"
    )
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", title="commands", parser_class=Parser
    )
    for register in COMMANDS:
        register(sub)
    return parser


def _command_names(parser: argparse.ArgumentParser) -> list[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []  # pragma: no cover


def _error(message: str) -> int:
    print(f"softcalc: error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_USAGE


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            names = ", ".join(_command_names(parser))
            return _error(f"no command given; choose one of: {names} (softcalc --help)")
        status: int = args.func(args)
        return status
    except (UsageError, SoftcalcError) as exc:
        return _error(str(exc) or type(exc).__name__)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``softcalc`` command line; return the exit status."""
    try:
        return _run(argv)
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_PIPE
    except KeyboardInterrupt:
        print("softcalc: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # anything else is a bug in softcalc-bayes
        if os.environ.get(DEBUG_VARIABLE, "") not in ("", "0"):
            raise
        print(
            f"softcalc: internal error: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}. "
            "This is a bug in softcalc-bayes: please report it with the command you ran "
            f"({DEBUG_VARIABLE}=1 shows the traceback)",
            file=sys.stderr,
        )
        return EXIT_BUG


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
