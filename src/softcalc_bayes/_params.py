"""The parameter contract of the public functions (modelled on scikit-learn's ``validate_params``).

Each option of a public function is declared with the constraints its value must meet;
a value meeting none of them raises
:class:`~softcalc_bayes.exceptions.InvalidParameterError` with one message shape::

    The 'n_samples' parameter of posterior_uncertainty must be an int in the range
    [2, 1000000]. Got 100000000 instead.

Names checked against the network (a diagnosis, a node) use the message shape of
:func:`~softcalc_bayes._validation.unknown_message` instead, through :func:`check_name`.
Sizes that would exhaust memory are capped; the cap is part of the message.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, ParamSpec, Protocol, TypeVar

import numpy as np

from ._validation import closest, shown, unknown_message
from .exceptions import EvidenceError, InvalidParameterError

__all__ = [
    "BOOLEAN",
    "NETWORK",
    "NONE",
    "SEED",
    "Check",
    "Constraint",
    "Interval",
    "Options",
    "check_columns",
    "check_name",
    "check_param",
    "check_query",
    "usable_cores",
    "validate_params",
]

P = ParamSpec("P")
R = TypeVar("R")


class Constraint(Protocol):
    """Anything with ``is_satisfied_by(value)`` and a description (``str``)."""

    def is_satisfied_by(self, value: Any) -> bool: ...


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _bound(value: float | None, low: bool) -> str:
    if value is None:
        return "-inf" if low else "inf"
    return str(value)


@dataclass(frozen=True)
class Interval:
    """An int (``kind=int``) or a finite real number (``kind=float``) in a range.

    ``None`` as a bound means unbounded on that side. ``power_of_two`` further asks for
    a power of 2 (for Sobol designs).

    Examples
    --------
    >>> Interval(int, 2, 10).is_satisfied_by(3), Interval(int, 2, 10).is_satisfied_by(3.0)
    (True, False)
    >>> str(Interval(float, 0, 1, closed="neither"))
    'a float in the range (0, 1)'
    """

    kind: type
    left: float | None
    right: float | None
    closed: Literal["both", "left", "right", "neither"] = "both"
    power_of_two: bool = False

    def is_satisfied_by(self, value: Any) -> bool:
        number: float
        if _is_int(value):
            number = int(value)  # exact, whatever its size
        elif self.kind is int or not _is_real(value) or not math.isfinite(float(value)):
            return False
        else:
            number = float(value)
        if self.left is not None:
            if number < self.left or (number == self.left and self.closed in ("right", "neither")):
                return False
        if self.right is not None:
            if number > self.right or (number == self.right and self.closed in ("left", "neither")):
                return False
        return not self.power_of_two or (number > 0 and int(number) & (int(number) - 1) == 0)

    def __str__(self) -> str:
        name = "an int" if self.kind is int else "a float"
        if self.power_of_two:
            name = "an int power of 2"
        left = "[" if self.closed in ("both", "left") and self.left is not None else "("
        right = "]" if self.closed in ("both", "right") and self.right is not None else ")"
        return f"{name} in the range {left}{_bound(self.left, True)}, {_bound(self.right, False)}{right}"


@dataclass(frozen=True)
class Options:
    """One of a fixed set of strings.

    Examples
    --------
    >>> str(Options(("node",)))
    "a str among {'node'}"
    """

    options: tuple[str, ...]

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, str) and value in self.options

    def __str__(self) -> str:
        return "a str among {" + ", ".join(repr(o) for o in self.options) + "}"


@dataclass(frozen=True)
class Check:
    """Any predicate, with the words that describe it in the message."""

    predicate: Callable[[Any], bool]
    description: str

    def is_satisfied_by(self, value: Any) -> bool:
        return bool(self.predicate(value))

    def __str__(self) -> str:
        return self.description


def _is_seed(value: Any) -> bool:
    if value is None:
        return True
    if _is_int(value):
        return int(value) >= 0
    return isinstance(value, np.random.Generator | np.random.SeedSequence | np.random.BitGenerator)


def _is_network(value: Any) -> bool:
    from .network import Network  # network.py imports the query modules' names lazily too

    return isinstance(value, Network)


BOOLEAN = Check(lambda v: isinstance(v, bool | np.bool_), "a bool")


def _is_path(value: Any) -> bool:
    """A str, or a path-like object naming a file as text (not bytes)."""
    if isinstance(value, str):
        return True
    if isinstance(value, os.PathLike):
        return isinstance(os.fspath(value), str)
    return False


PATH = Check(_is_path, "a str or Path")
"""A file name: a str or any ``os.PathLike`` of text (``export``, ``save``, cost files)."""
NONE = Check(lambda v: v is None, "None")
SEED = Check(_is_seed, "None, an int in the range [0, inf) or a numpy.random.Generator")


def seeded(seed: Any) -> tuple[int | None, np.random.Generator]:
    """The seed to record and the generator, for a ``seed`` that passed :data:`SEED`.

    None draws a seed, so that a run can be reported and repeated; an int seeds a new
    generator; a Generator is used as it is (a SeedSequence or BitGenerator is wrapped),
    and recorded as None.

    Examples
    --------
    >>> seeded(3)[0], seeded(None)[0] is not None
    (3, True)
    >>> gen = np.random.default_rng(1)
    >>> seeded(gen) == (None, gen)
    True
    """
    if seed is None:
        seed = int(np.random.default_rng().integers(2**31 - 1))
    if _is_int(seed):
        return int(seed), np.random.default_rng(int(seed))
    return None, np.random.default_rng(seed)


NETWORK = Check(_is_network, "a Network (from load_network)")


def _shown(value: Any) -> str:
    text = shown(value)
    if isinstance(value, str | bool | int | float | type(None)):
        return text
    return f"{text} (a {type(value).__name__})"


def _joined(descriptions: Sequence[str]) -> str:
    if len(descriptions) == 1:
        return descriptions[0]
    return ", ".join(descriptions[:-1]) + " or " + descriptions[-1]


def check_param(func: str, name: str, value: Any, constraints: Iterable[Constraint]) -> None:
    """Raise :class:`InvalidParameterError` unless ``value`` meets one of ``constraints``.

    Examples
    --------
    >>> check_param("f", "n", 5, [Interval(int, 1, 10)])
    >>> check_param("f", "n", "5", [Interval(int, 1, 10), NONE])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    softcalc_bayes...InvalidParameterError: ... must be an int in the range [1, 10] or None. Got '5' instead.
    """
    constraints = list(constraints)
    if any(c.is_satisfied_by(value) for c in constraints):
        return
    hint = ""
    if isinstance(value, str):
        options = [o for c in constraints if isinstance(c, Options) for o in c.options]
        match = closest(value, options) if options else None
        hint = f" Did you mean {match!r}?" if match is not None else ""
    raise InvalidParameterError(
        f"The {name!r} parameter of {func} must be {_joined([str(c) for c in constraints])}. "
        f"Got {_shown(value)} instead.{hint}"
    )


def usable_cores() -> int:
    """The number of cores this process may run on (its CPU affinity where known)."""
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no affinity on this platform
        return max(1, os.cpu_count() or 1)


def validate_params(
    constraints: Mapping[str, Sequence[Constraint]],
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a public function so its arguments are checked before it runs.

    Only the parameters named in ``constraints`` are checked, and only when given
    (defaults are valid by construction).

    Examples
    --------
    >>> @validate_params({"n": [Interval(int, 1, 10)]})
    ... def f(n: int = 1) -> int:
    ...     return n
    >>> f(n=11)
    Traceback (most recent call last):
    ...
    softcalc_bayes.exceptions.InvalidParameterError: The 'n' parameter of f must be an int in the range [1, 10]. Got 11 instead.
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(func)
        unknown = set(constraints) - set(signature.parameters)
        if unknown:  # pragma: no cover - a programming error in the declaration
            raise RuntimeError(f"{func.__qualname__}: no parameters {sorted(unknown)}")
        name = func.__qualname__

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            bound = signature.bind(*args, **kwargs)
            for param, allowed in constraints.items():
                if param in bound.arguments:
                    check_param(name, param, bound.arguments[param], allowed)
            return func(*args, **kwargs)

        return wrapper

    return decorate


def check_name(func: str, param: str, value: Any, choices: Sequence[str], what: str) -> str:
    """Return ``value`` if it is one of ``choices``; else an :class:`EvidenceError`.

    The message has the shape of :func:`unknown_message`, prefixed with the parameter
    and the function, so one check serves every argument naming a diagnosis or node.

    Examples
    --------
    >>> check_name("f", "state", "b", ["a", "b"], "diagnosis")
    'b'
    >>> check_name("f", "state", ["b"], ["a", "b"], "diagnosis")
    Traceback (most recent call last):
    ...
    softcalc_bayes.exceptions.EvidenceError: The 'state' parameter of f: Unknown diagnosis ['b']. Valid diagnoses: a, b
    """
    if isinstance(value, str) and value in choices:
        return value
    raise EvidenceError(
        f"The {param!r} parameter of {func}: " + unknown_message(what, value, choices)
    )


def check_query(func: str, net: Any, target: Any = None, **states: Any) -> None:
    """Check a query's ``target`` node and the states named for it (``state=``, ``above=``).

    ``None`` stands for the default (the diagnosis, the top state) and passes.

    Examples
    --------
    >>> from softcalc_bayes import load_network
    >>> check_query("tune", load_network(), None, state="alt_wdlp")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    softcalc_bayes...EvidenceError: ... Unknown state 'alt_wdlp'. Did you mean 'alt_wdlps'? ...
    """
    if target is not None:
        check_name(func, "target", target, net.nodes, "target")
    states_of = net.states(net.target if target is None else target)
    for param, value in states.items():
        if value is not None:
            check_name(func, param, value, states_of, "state")


def check_columns(frame: Any, findings: Sequence[str]) -> None:
    """Refuse a DataFrame whose column names cannot be looked up (a list, a dict).

    Examples
    --------
    >>> import pandas as pd
    >>> check_columns(pd.DataFrame({"sex": ["male"]}), ["sex"])
    """
    for column in getattr(frame, "columns", ()):
        try:
            hash(column)
        except TypeError:
            raise EvidenceError(
                "cases: column names must be finding names; "
                + unknown_message("finding", column, findings)
            ) from None
