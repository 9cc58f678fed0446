"""Constrained variable elimination for MAP over a chosen set of nodes.

``max_{m} sum_{h} P(m, h, e)`` needs every summed node eliminated before any maximised
one (sums and maxima do not commute). The order is greedy within each phase: the node
whose elimination creates the smallest table goes next. Each maximisation keeps its
table, and a trace-back in reverse order reads off the maximising states. Intermediate
tables are rescaled to a maximum of 1 (logs summed), so nothing underflows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from ._einsum import contract

__all__ = ["map_assignment"]

Factor = tuple[tuple[int, ...], np.ndarray]


def map_assignment(
    parents: Sequence[tuple[int, ...]],
    cards: Sequence[int],
    tensors: Sequence[np.ndarray],
    lam: Mapping[int, np.ndarray],
    map_vars: Sequence[int],
) -> tuple[dict[int, int], float]:
    """Most probable joint state of ``map_vars`` and ``log max_m P(m, e)``."""
    factors: list[Factor] = [((*parents[v], v), np.asarray(tensors[v])) for v in range(len(cards))]
    factors += [((v,), np.asarray(vec).reshape(-1)) for v, vec in lam.items()]
    targets = set(map_vars)
    remaining = set(range(len(cards)))
    log_scale = 0.0
    kept: list[tuple[int, tuple[int, ...], np.ndarray]] = []

    def cost(v: int) -> int:
        scope = {u for s, _ in factors if v in s for u in s}
        return math.prod(cards[u] for u in scope)

    while remaining:
        phase = [v for v in remaining if v not in targets] or list(remaining)
        v = min(phase, key=lambda u: (cost(u), u))
        remaining.discard(v)
        bucket = [f for f in factors if v in f[0]]
        factors = [f for f in factors if v not in f[0]]
        scope = tuple(sorted({u for s, _ in bucket for u in s}))
        table = contract([t for _, t in bucket], [s for s, _ in bucket], scope)
        axis = scope.index(v)
        rest = scope[:axis] + scope[axis + 1 :]
        if v in targets:
            kept.append((v, scope, table))
            reduced = table.max(axis=axis)
        else:
            reduced = table.sum(axis=axis)
        peak = float(np.max(reduced)) if reduced.size else 0.0
        if peak > 0:
            reduced = reduced / peak
            log_scale += math.log(peak)
        else:
            return {}, -math.inf
        factors.append((rest, reduced))
    total = 1.0
    for _, t in factors:
        total *= float(t)
    if total <= 0:
        return {}, -math.inf
    assignment: dict[int, int] = {}
    for v, scope, table in reversed(kept):
        index = tuple(slice(None) if u == v else assignment[u] for u in scope)
        assignment[v] = int(np.argmax(table[index]))
    return assignment, log_scale + math.log(total)
