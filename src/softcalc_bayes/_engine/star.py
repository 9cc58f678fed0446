"""The star fast path: pivot-component tabulation for networks shaped like a star.

Compilation picks a *pivot* node (by default the network's target) and splits the
rest of the moral graph into the connected components left when the pivot is
removed. The joint then factorises as

    P(pivot = t, e) = prior(t) * prod_C m_C(t; e_C),

where ``m_C`` sums the component's conditional tables times the evidence
indicators of its own nodes, and depends only on the evidence inside ``C``. Each
component has few nodes, so ``log m_C`` is tabulated at compile time for every
evidence configuration of its nodes (each node unobserved or in one of its states,
indexed in mixed radix). A query is then a gather and a sum in log space: no
underflow however many findings are observed, and a batch of cases is one sparse
matrix product. A *hidden* node (a latent node, never observed) is summed inside its
component's table and gets no code axis of its own: the table's size is the product
over the observable nodes only. The posterior of a non-pivot node ``X`` is obtained by entering
each state of ``X`` in turn, which only re-indexes the component holding ``X``.

The engine is exact: it is variable elimination with a fixed plan whose
per-component results are precomputed.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..exceptions import EngineError
from ._einsum import letters_for
from .jtree import ZeroProbabilityError

__all__ = ["Component", "NodeLike", "StarEngine"]


class NodeLike(Protocol):
    """What the engine needs of a node: name, states, parents and table."""

    @property
    def name(self) -> str: ...
    @property
    def states(self) -> tuple[str, ...]: ...
    @property
    def parents(self) -> tuple[str, ...]: ...
    @property
    def cpt(self) -> np.ndarray: ...


@dataclass(frozen=True)
class Component:
    """One component of the moral graph without the pivot, with its log table."""

    variables: tuple[int, ...]
    factors: tuple[int, ...]  # nodes whose conditional table belongs to this component
    strides: np.ndarray
    offset: int
    size: int
    has_pivot: bool


def _factor_tensor(node: NodeLike, cards: Mapping[str, int]) -> np.ndarray:
    shape = [cards[p] for p in node.parents] + [len(node.states)]
    return np.asarray(node.cpt, dtype=float).reshape(shape)


def moral_graph(parents: Sequence[Sequence[int]]) -> dict[int, set[int]]:
    """Neighbours of every node in the moral graph (each family made a clique)."""
    graph: dict[int, set[int]] = {v: set() for v in range(len(parents))}
    for v, pa in enumerate(parents):
        family = [*pa, v]
        for i, a in enumerate(family):
            for b in family[i + 1 :]:
                graph[a].add(b)
                graph[b].add(a)
    return graph


def components_without(graph: dict[int, set[int]], removed: int) -> list[set[int]]:
    """Connected components of ``graph`` without the node ``removed``."""
    seen = {removed}
    out = []
    for start in graph:
        if start in seen:
            continue
        comp, stack = {start}, [start]
        seen.add(start)
        while stack:
            for w in graph[stack.pop()]:
                if w not in seen:
                    seen.add(w)
                    comp.add(w)
                    stack.append(w)
        out.append(comp)
    return out


class StarEngine:
    """Exact inference on a discrete Bayesian network, compiled once.

    Parameters
    ----------
    nodes : sequence of NodeLike
        Nodes with ``name``, ``states``, ``parents`` and ``cpt`` of shape
        ``(n_parent_configurations, n_states)`` (parent configurations in C order).
    pivot : str, optional
        The node kept out of every component. Default: the node that gives the
        smallest tables.
    max_table : int
        Largest table (configurations x pivot states) compiled for one component.
    hidden : collection of str
        Nodes never observed: summed out inside their component (one code, 0), so
        they add nothing to the table's size. Their posterior is not available from
        this plan.

    Examples
    --------
    >>> from softcalc_bayes.spec import load_spec
    >>> spec = load_spec()
    >>> latent = [name for name, node in spec.nodes.items() if node.kind == "latent"]
    >>> engine = StarEngine(list(spec.nodes.values()), pivot="diagnosis", hidden=latent)
    >>> p = engine.posterior({"fat_in_lesion": 0})
    >>> round(float(p.sum()), 12)
    1.0
    """

    def __init__(
        self,
        nodes: Sequence[NodeLike],
        *,
        pivot: str | None = None,
        max_table: int = 1 << 22,
        hidden: Collection[str] = (),
    ) -> None:
        self.names: tuple[str, ...] = tuple(n.name for n in nodes)
        self.index: dict[str, int] = {n: i for i, n in enumerate(self.names)}
        self.states: tuple[tuple[str, ...], ...] = tuple(tuple(n.states) for n in nodes)
        self.cards = np.array([len(s) for s in self.states], dtype=np.int64)
        self.is_hidden = np.array([n.name in hidden for n in nodes], dtype=bool)
        # codes per node in the tables: unobserved plus each state; a hidden node has only 0
        self.radix = np.where(self.is_hidden, 1, self.cards + 1)
        cards = {n.name: len(n.states) for n in nodes}
        self.parents: tuple[tuple[int, ...], ...] = tuple(
            tuple(self.index[p] for p in n.parents) for n in nodes
        )
        self.tensors: tuple[np.ndarray, ...] = tuple(_factor_tensor(n, cards) for n in nodes)
        self._moral = moral_graph(self.parents)
        if pivot is None:
            pivot = min(self.names, key=lambda n: self._plan_size(self.index[n]))
        if pivot not in self.index:
            raise EngineError(f"Unknown pivot node {pivot!r}")
        if self.is_hidden[self.index[pivot]]:
            raise EngineError(f"The pivot {pivot!r} cannot be hidden")
        self.pivot = self.index[pivot]
        self.max_table = max_table
        self._compile()

    # ------------------------------------------------------------------ compile
    def _plan_size(self, pivot: int) -> int:
        total = 0
        for comp in components_without(self._moral, pivot):
            total += math.prod(int(self.radix[v]) for v in comp)
        return total

    def _compile(self) -> None:
        pivot = self.pivot
        n_t = int(self.cards[pivot])
        comps = sorted(
            (sorted(c) for c in components_without(self._moral, pivot)), key=lambda c: c[0]
        )
        self.component_of = np.full(len(self.names), -1, dtype=np.int64)
        for c, members in enumerate(comps):
            self.component_of[members] = c
        factors: list[list[int]] = [[] for _ in comps]
        self.prior_factor = not self.parents[pivot]
        for v in range(len(self.names)):
            if v == pivot:
                if self.parents[v]:
                    factors[int(self.component_of[self.parents[v][0]])].append(v)
            else:
                factors[int(self.component_of[v])].append(v)
        self.log_prior = np.zeros(n_t)
        if self.prior_factor:
            with np.errstate(divide="ignore"):
                self.log_prior = np.log(self.tensors[pivot])
        components: list[Component] = []
        tables: list[np.ndarray] = []
        offset = 0
        for c, members in enumerate(comps):
            radix = [int(self.radix[v]) for v in members]
            size = math.prod(radix)
            if size * n_t > self.max_table:
                names = [self.names[v] for v in members]
                raise EngineError(
                    f"Cannot compile: the component {names} around pivot "
                    f"{self.names[pivot]!r} has {size} evidence configurations "
                    f"(limit {self.max_table // n_t})"
                )
            strides = np.cumprod([1, *radix[::-1]])[:-1][::-1].astype(np.int64)
            has_pivot = any(pivot in (*self.parents[f], f) for f in factors[c])
            comp = Component(tuple(members), tuple(factors[c]), strides, offset, size, has_pivot)
            components.append(comp)
            tables.append(self._tabulate(comp))
            offset += size
        self.components: tuple[Component, ...] = tuple(components)
        with np.errstate(divide="ignore"):
            logs = [np.log(t) for t in tables]
        # log m_C(t; no evidence) per component, shape (n_components, n_pivot)
        self.log_empty = np.array([lt[0] for lt in logs]).reshape(len(logs), n_t)
        self.log_base = self.log_prior + self.log_empty.sum(axis=0)
        deltas = []
        for lt in logs:
            with np.errstate(invalid="ignore"):
                d = lt - lt[0]
            d[:, ~np.isfinite(lt[0])] = 0.0  # base is already -inf there
            deltas.append(d)
        self.delta = np.concatenate(deltas, axis=0) if deltas else np.zeros((0, n_t))
        self.stride_of = np.zeros(len(self.names), dtype=np.int64)
        for comp in self.components:
            self.stride_of[list(comp.variables)] = comp.strides
        self._offsets = np.array([c.offset for c in self.components], dtype=np.int64)
        # plain-Python lookups for the single-query hot path
        self._comp_list = [int(c) for c in self.component_of]
        self._stride_list = [int(s) for s in self.stride_of]
        self._offset_list = [c.offset for c in self.components]
        mat = np.zeros((len(self.names), len(self.components)))
        for c, comp in enumerate(self.components):
            mat[list(comp.variables), c] = comp.strides
        self._stride_matrix = mat

    def _tabulate(self, comp: Component) -> np.ndarray:
        """``m_C(t; config)`` for every evidence configuration: shape (size, n_pivot)."""
        if comp.factors == comp.variables and len(comp.variables) == 1:
            v = comp.variables[0]  # one finding, child of the pivot or a root: no einsum
            if self.parents[v] in ((self.pivot,), ()):
                cpt = np.atleast_2d(self.tensors[v])  # (n_pivot or 1, states)
                if self.is_hidden[v]:
                    table = cpt.sum(axis=1)[None, :]
                else:
                    table = np.vstack([cpt.sum(axis=1), cpt.T])
                if table.shape[1] != int(self.cards[self.pivot]):
                    table = np.repeat(table, int(self.cards[self.pivot]), axis=1)
                return np.asarray(table, dtype=float)
        # Each variable v gets a code axis (0 = unobserved, k = state k - 1) through the
        # matrix E_v = [ones; identity] of shape (card + 1, card); contracting the factors
        # with every E_v leaves one axis per code, in the component's (C-order) strides.
        # Far cheaper than an indicator batch axis: each step sums out one state axis.
        variables = comp.variables
        keys = [*variables, self.pivot, *(("code", v) for v in variables)]
        operands: list[np.ndarray] = []
        scopes: list[tuple[object, ...]] = []
        for f in comp.factors:
            operands.append(self.tensors[f])
            scopes.append((*self.parents[f], f))
        for v in variables:
            card = int(self.cards[v])
            if self.is_hidden[v]:  # summed out: a single code, "unobserved"
                operands.append(np.ones((1, card)))
            else:
                operands.append(np.vstack([np.ones((1, card)), np.eye(card)]))
            scopes.append((("code", v), v))
        out: tuple[object, ...] = tuple(("code", v) for v in variables)
        if comp.has_pivot:
            out = (*out, self.pivot)
        letter = letters_for(keys)
        spec = ",".join("".join(letter[k] for k in sc) for sc in scopes)
        spec += "->" + "".join(letter[k] for k in out)
        table = np.einsum(spec, *operands, optimize="greedy")
        table = table.reshape(comp.size, -1) if comp.has_pivot else table.reshape(comp.size)
        if not comp.has_pivot:
            table = np.repeat(table[:, None], int(self.cards[self.pivot]), axis=1)
        return np.asarray(table, dtype=float)

    # ------------------------------------------------------------------ queries
    def _flat(self, evidence: Mapping[str, int]) -> tuple[list[int], dict[int, int], np.ndarray]:
        """Table rows touched by ``evidence``, per-component local codes, and the base."""
        local: dict[int, int] = {}
        base = self.log_base
        index, comps, strides = self.index, self._comp_list, self._stride_list
        for name, state in evidence.items():
            v = index[name]
            if v == self.pivot:  # evidence on the pivot: an indicator in log space
                base = np.full_like(base, -np.inf)
                base[state] = self.log_base[state]
                continue
            c = comps[v]
            local[c] = local.get(c, 0) + (state + 1) * strides[v]
        offsets = self._offset_list
        return [offsets[c] + i for c, i in local.items()], local, base

    def log_joint(self, evidence: Mapping[str, int]) -> np.ndarray:
        """``log P(pivot = t, evidence)`` for every pivot state ``t``.

        ``evidence`` maps node names to state indices.
        """
        flat, _, base = self._flat(evidence)
        if not flat:
            return base.copy()
        # take + add.reduce: about half the dispatch cost of delta[flat].sum(axis=0)
        return np.asarray(base + np.add.reduce(self.delta.take(flat, axis=0), axis=0))

    def posterior(self, evidence: Mapping[str, int], target: str | None = None) -> np.ndarray:
        """Posterior of ``target`` (default: the pivot) given ``evidence`` (state indices).

        Raises
        ------
        ZeroProbabilityError
            If the evidence has probability zero.
        """
        if target is None or self.index[target] == self.pivot:
            return _normalise(self.log_joint(evidence))
        x = self.index[target]
        self._check_not_hidden(x)
        c = int(self.component_of[x])
        flat, local, base = self._flat(evidence)
        comp = self.components[c]
        rest = [i for i in flat if not comp.offset <= i < comp.offset + comp.size]
        logp = base + (np.add.reduce(self.delta.take(rest, axis=0), axis=0) if rest else 0.0)
        codes = (
            comp.offset
            + local.get(c, 0)
            + np.arange(1, int(self.cards[x]) + 1) * int(self.stride_of[x])
        )
        joint = logp[None, :] + self.delta[codes]
        return _normalise(_logsumexp(joint, axis=1))

    def component_messages(
        self, evidence: Mapping[str, int]
    ) -> tuple[np.ndarray, np.ndarray, dict[int, int]]:
        """Per-component ``log m_C(t; e_C)`` (n_components, n_pivot), the log prior
        with any pivot evidence applied, and the local evidence code of each touched
        component."""
        _, local, base = self._flat(evidence)
        messages = self.log_empty.copy()
        for c, code in local.items():
            messages[c] = self.log_empty[c] + self.delta[self.components[c].offset + code]
        prior = self.log_prior.copy()
        if base is not self.log_base:  # the pivot is observed
            prior[~np.isfinite(base)] = -np.inf
        return messages, prior, local

    def log_evidence(self, evidence: Mapping[str, int]) -> float:
        """``log P(evidence)`` (``-inf`` when impossible)."""
        return float(_logsumexp(self.log_joint(evidence), axis=0))

    def _batch_index(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        local = np.rint(codes.astype(float) @ self._stride_matrix).astype(np.int64)
        return local, local + self._offsets

    def _batch_rows(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Table rows of a batch, as CSR parts: ``(flat, indptr)``.

        Only the observed cells are visited: each contributes ``stride * code`` to its
        component's local code, duplicates within a component are summed by the CSR
        construction, and the component's offset turns the local code into a row.
        """
        from scipy import sparse

        n, width = codes.shape
        if codes.strides[0] == codes.itemsize and width > 1:  # column-major (encode_frame)
            cells = np.flatnonzero(codes.T.ravel() != 0)  # faster than np.nonzero
            cols, rows = np.divmod(cells, n)
        else:
            cells = np.flatnonzero(codes.ravel() != 0)
            rows, cols = np.divmod(cells, width)
        keep = cols != self.pivot
        rows, cols = rows[keep], cols[keep]
        local = sparse.csr_matrix(
            (self.stride_of[cols] * codes[rows, cols], (rows, self.component_of[cols])),
            shape=(n, len(self.components)),
        )
        local.sum_duplicates()
        return self._offsets[local.indices] + local.data, local.indptr

    def posterior_batch(self, codes: np.ndarray, target: str | None = None) -> np.ndarray:
        """Posteriors for a batch: ``codes[n, v]`` is 0 (unobserved) or state index + 1.

        Returns an array ``(n_cases, n_target_states)``; rows whose evidence has
        probability zero raise :class:`ZeroProbabilityError` listing those rows.
        """
        from scipy import sparse

        codes = np.asarray(codes)
        n = codes.shape[0]
        x = self.pivot if target is None else self.index[target]
        if x != self.pivot:
            self._check_not_hidden(x)
            return self._batch_other(codes, x)
        flat, indptr = self._batch_rows(codes)
        mat = sparse.csr_matrix((np.ones(flat.size), flat, indptr), shape=(n, self.delta.shape[0]))
        logp = np.asarray(mat @ self.delta)
        logp += self.log_base
        self._clamp_pivot(codes, logp)
        return _normalise_rows(logp, inplace=True)

    def _check_not_hidden(self, x: int) -> None:
        if self.is_hidden[x]:
            raise EngineError(
                f"{self.names[x]!r} is hidden in the star plan (summed out); "
                "ask the junction tree for its posterior"
            )

    def _clamp_pivot(self, codes: np.ndarray, logp: np.ndarray) -> None:
        """Evidence on the pivot: keep only the observed state (in place)."""
        pivot_codes = codes[:, self.pivot]
        if pivot_codes.any():
            seen = pivot_codes > 0
            keep = np.zeros((int(seen.sum()), logp.shape[1]), dtype=bool)
            keep[np.arange(keep.shape[0]), pivot_codes[seen] - 1] = True
            logp[seen] = np.where(keep, logp[seen], -np.inf)

    def _batch_other(self, codes: np.ndarray, x: int) -> np.ndarray:
        """Posteriors of a non-pivot node ``x``: its component is entered state by state."""
        from scipy import sparse

        n = codes.shape[0]
        local, flat = self._batch_index(codes)
        skip = int(self.component_of[x])
        touched = local != 0
        touched[:, skip] = False
        rows, cols = np.nonzero(touched)
        mat = sparse.csr_matrix(
            (np.ones(rows.size), (rows, flat[rows, cols])), shape=(n, self.delta.shape[0])
        )
        logp = self.log_base + np.asarray(mat @ self.delta)
        self._clamp_pivot(codes, logp)
        steps = np.arange(1, int(self.cards[x]) + 1) * int(self.stride_of[x])
        out = np.empty((n, int(self.cards[x])))
        for lo in range(0, n, 4096):
            hi = min(n, lo + 4096)
            idx = flat[lo:hi, skip][:, None] + steps[None, :]
            joint = logp[lo:hi, None, :] + self.delta[idx]
            out[lo:hi] = _logsumexp(joint, axis=2)
        return _normalise_rows(out, inplace=True)


def _logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    m = np.max(a, axis=axis, keepdims=True)
    safe = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        s = np.log(np.sum(np.exp(a - safe), axis=axis, keepdims=True)) + safe
    return np.asarray(np.squeeze(s, axis=axis))


def _normalise(logp: np.ndarray) -> np.ndarray:
    m = float(logp.max())
    if not math.isfinite(m):
        raise ZeroProbabilityError()
    p = np.exp(logp - m)
    p /= p.sum()
    return p


def _normalise_rows(logp: np.ndarray, *, inplace: bool = False) -> np.ndarray:
    m = np.max(logp, axis=1, keepdims=True)
    bad = ~np.isfinite(m[:, 0])
    if bad.any():
        raise ZeroProbabilityError(np.flatnonzero(bad))
    p = logp if inplace else logp.copy()
    p -= m
    np.exp(p, out=p)
    p /= p.sum(axis=1, keepdims=True)
    return p
