"""Exceptions raised by softcalc-bayes.

Every error the library raises on bad input subclasses a builtin, so callers can
catch ``ValueError`` without importing this module.
"""

from __future__ import annotations

__all__ = [
    "EngineError",
    "EvidenceError",
    "ExportError",
    "InvalidParameterError",
    "NetworkSpecError",
    "SoftcalcError",
]


class SoftcalcError(Exception):
    """Base class of every softcalc-bayes error."""


class NetworkSpecError(SoftcalcError, ValueError):
    """A network file is invalid; the message names the file, node, row and problem."""


class EvidenceError(SoftcalcError, ValueError):
    """Evidence (or a query argument) is invalid or has probability zero."""


class InvalidParameterError(SoftcalcError, ValueError):
    """An option of a public function has the wrong type or is out of range.

    The message names the parameter and the function, states what is allowed
    (with the cap, for sizes that would exhaust memory) and shows what was given.
    """


class EngineError(SoftcalcError, RuntimeError):
    """The compiled engine cannot handle a network (e.g. a component is too large)."""


class ExportError(SoftcalcError, ValueError):
    """A network cannot be written to the requested file or format."""
