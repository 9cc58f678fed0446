"""The one einsum helper: subscript letters for named axes.

``numpy.einsum`` names axes by single letters; every contraction in the engine (star
tabulation, elimination, sampling plans) asks this helper for them, so the letter
set-up exists once.
"""

from __future__ import annotations

import string
from collections.abc import Hashable, Iterable, Sequence

import numpy as np

__all__ = ["contract", "letters_for"]

_LETTERS = string.ascii_letters


def letters_for(keys: Iterable[Hashable]) -> dict[Hashable, str]:
    """One distinct einsum letter per key, in order (at most 52 keys).

    Examples
    --------
    >>> letters_for(["a", 7, "b"])
    {'a': 'a', 7: 'b', 'b': 'c'}
    """
    keys = list(dict.fromkeys(keys))
    if len(keys) > len(_LETTERS):
        raise ValueError(f"einsum supports at most {len(_LETTERS)} axes, got {len(keys)}")
    return {k: _LETTERS[i] for i, k in enumerate(keys)}


def contract(
    operands: Sequence[np.ndarray],
    scopes: Sequence[Sequence[Hashable]],
    out: Sequence[Hashable],
) -> np.ndarray:
    """``einsum`` of ``operands`` whose axes are named by ``scopes``, keeping ``out``.

    Examples
    --------
    >>> a, b = np.ones((2, 3)), np.ones(3)
    >>> contract([a, b], [("x", "y"), ("y",)], ("x",)).tolist()
    [3.0, 3.0]
    """
    letter = letters_for([k for scope in (*scopes, out) for k in scope])
    spec = ",".join("".join(letter[k] for k in s) for s in scopes)
    spec += "->" + "".join(letter[k] for k in out)
    return np.asarray(np.einsum(spec, *operands, optimize="greedy"))
