"""Rows written marginal over one parent: fit the table to both margins (``marginal_over``).

A node such as ``compartment`` has the diagnosis and ``anatomic_site`` as parents, and
``impossible`` rules that exclude some compartments at some sites. Its rows are written
per diagnosis only. By default (``networks/FORMAT.md``) a diagnosis row is read as the
*shape* of the distribution at every site, masked and renormalised where a rule applies;
then ``P(compartment | diagnosis)`` over the sites is no longer the written row.

With ``marginal_over: anatomic_site`` a row is read as what it usually is in the
literature, the distribution over all sites together. For every configuration of the
other parents (here, each diagnosis) the joint ``J(site, compartment)`` is fitted by
iterative proportional fitting (IPF; Deming and Stephan 1940): it starts from
independence, ``P(site | d) * row(c)`` with the impossible pairs set to 0, and
alternately rescales its rows to the parent's row ``P(site | d)`` and its columns to the
written row. The limit keeps both margins and the zeros and, among all such joints, is
the one closest to independence (smallest Kullback-Leibler divergence from the start):
it adds no association between site and compartment beyond what the zeros force. The
table is then ``J(site, c) / P(site | d)``. A site the parent's row gives probability 0
keeps the masked row (any row there leaves every posterior unchanged).

The fit needs a joint to exist. If the written row puts more mass on a state than the
sites where that state is possible carry, none does, and loading fails, naming the state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._rows import ImpossibleRule, ProvenanceContext, Table, described
from ._validation import unknown_message

MAX_ROUNDS = 20_000
"""Most IPF rounds (one row and one column rescaling each) before giving up."""
TOLERANCE = 1e-10
"""Largest difference allowed between a fitted margin and its written value."""


def read_marginal_over(
    value: Any,
    parents: Mapping[str, tuple[str, ...]],
    rules: Sequence[ImpossibleRule],
    ctx: ProvenanceContext,
) -> str | None:
    """The parent a node's rows are marginal over (None when the field is absent)."""
    if value is None:
        return None
    where = "field 'marginal_over'"
    if not isinstance(value, str):
        raise ctx.fail(where, f"expected the name of a parent, got {described(value)}")
    if value not in parents:
        raise ctx.fail(
            where,
            unknown_message("parent", value, parents) + " (it must be listed under 'parents')",
        )
    if not any(rule.parent == value for rule in rules):
        raise ctx.fail(
            where,
            f"no 'impossible' rule has parent {value!r}: without one every row is already "
            "marginal over it (remove the field)",
        )
    return value


def check_row_binding(
    bound: Mapping[str, Any], parent: str | None, ctx: ProvenanceContext, where: str
) -> None:
    """A row of a node whose rows are marginal over ``parent`` must not bind it."""
    if parent is not None and parent in bound:
        raise ctx.fail(
            where,
            f"the row binds {parent!r}, but with 'marginal_over: {parent}' every row is "
            f"marginal over it; leave {parent!r} out of 'when'",
        )


def ipf(
    margin: np.ndarray, row: np.ndarray, possible: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """Joints with row sums ``margin`` and column sums ``row``, 0 where not ``possible``.

    Parameters
    ----------
    margin : ndarray, shape (groups, n_parent)
        The parent's distribution, one per group.
    row : ndarray, shape (groups, n_states)
        The written row, one per group.
    possible : ndarray of bool, shape (groups, n_parent, n_states)
        False at the impossible pairs.

    Returns
    -------
    joint : ndarray, shape (groups, n_parent, n_states)
    error : ndarray, shape (groups,)
        Largest difference between a margin of the joint and its target.
    rounds : int
        Rounds run.

    Examples
    --------
    >>> joint, error, _ = ipf(
    ...     np.array([[0.6, 0.4]]), np.array([[0.8, 0.2]]), np.array([[[True, False], [True, True]]])
    ... )
    >>> joint.round(6).tolist(), bool(error[0] < 1e-10)
    ([[[0.6, 0.0], [0.2, 0.2]]], True)
    """
    joint = np.where(possible, margin[:, :, None] * row[:, None, :], 0.0)
    error = np.full(len(margin), np.inf)
    rounds = 0
    while rounds < MAX_ROUNDS:
        rounds += 1
        sums = joint.sum(axis=2)
        joint *= np.divide(margin, sums, out=np.zeros_like(margin), where=sums > 0)[:, :, None]
        sums = joint.sum(axis=1)
        joint *= np.divide(row, sums, out=np.zeros_like(row), where=sums > 0)[:, None, :]
        if rounds % 10 == 0 or rounds == 1:
            error = np.maximum(
                np.abs(joint.sum(axis=2) - margin).max(axis=1),
                np.abs(joint.sum(axis=1) - row).max(axis=1),
            )
            if error.max() <= TOLERANCE:
                break
    return joint, error, rounds


def _why_infeasible(
    margin: np.ndarray, row: np.ndarray, possible: np.ndarray, states: Sequence[str], parent: str
) -> str:
    """Name a state whose written share exceeds the mass of the sites where it is possible."""
    room = (margin[:, None] * possible).sum(axis=0)
    over = np.flatnonzero(row > room + TOLERANCE)
    if over.size:
        j = int(over[np.argmax(row[over] - room[over])])
        return (
            f"state {states[j]!r} is given {row[j]:.4g}, but the states of {parent!r} where it "
            f"is possible carry only {room[j]:.4g} of that parent's row"
        )
    return "the written shares cannot be placed on the possible combinations"


def fit_marginal(
    table: Table,
    written: np.ndarray,
    parent: str,
    parent_table: tuple[Sequence[str], np.ndarray],
    states: tuple[str, ...],
    parents: Mapping[str, tuple[str, ...]],
    configs: Sequence[tuple[str, ...]],
    ctx: ProvenanceContext,
) -> Table:
    """Replace the masked rows of ``table`` by the fitted ones (see the module notes).

    ``written`` is the table before the ``impossible`` rules; ``parent_table`` holds the
    parent's own parents and its table.
    """
    names = list(parents)
    own_parents, parent_cpt = parent_table
    others = [n for n in names if n != parent]
    if sorted(own_parents) != sorted(others):
        raise ctx.fail(
            f"field 'marginal_over' ({parent!r})",
            f"the parents of {parent!r} ({', '.join(own_parents) or 'none'}) must be this "
            f"node's other parents ({', '.join(others) or 'none'}), so that its table gives "
            f"the distribution of {parent!r} for each of this node's rows",
        )
    sizes = [len(parents[q]) for q in own_parents]
    n_parent = len(parents[parent])
    groups = int(np.prod(sizes)) if sizes else 1
    where = np.full((groups, n_parent), -1)
    for c, config in enumerate(configs):
        value = dict(zip(names, config, strict=True))
        index = tuple(parents[q].index(value[q]) for q in own_parents)
        g = int(np.ravel_multi_index(index, sizes)) if sizes else 0
        where[g, parents[parent].index(value[parent])] = c
    margin = np.asarray(parent_cpt, dtype=float)
    row = written[where[:, 0]]
    possible = ~table.excluded[where]
    joint, error, rounds = ipf(margin, row, possible)
    bad = np.flatnonzero(error > TOLERANCE)
    if bad.size:
        g = int(bad[0])
        bound = {n: v for n, v in zip(names, configs[where[g, 0]], strict=True) if n != parent}
        raise ctx.fail(
            f"field 'marginal_over' ({parent!r})",
            f"for {bound} no table has the {parent!r} row and this node's row as margins "
            "with the impossible combinations at 0: "
            + _why_infeasible(margin[g], row[g], possible[g], states, parent)
            + f" (largest margin error {error[g]:.2g} after {rounds} rounds)",
        )
    fitted = margin > 0  # a parent state of probability 0 keeps its masked row
    cpt = table.cpt.copy()
    cpt[where[fitted]] = joint[fitted] / joint[fitted].sum(axis=1, keepdims=True)
    return table._replace(cpt=cpt)
