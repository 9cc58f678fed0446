"""Sampling plans for parameter uncertainty on the star plan (Monte Carlo and Sobol).

Under the star plan the diagnosis posterior factorises over the components of the
moral graph without the diagnosis, ``P(d | e) ∝ prior(d) * prod_C m_C(d; e_C)``. A
plan lists, for one query, the parameter blocks the answer depends on (components
without evidence contribute 1 and are skipped, as are barren nodes) and how to
combine sampled blocks into ``log P(d, e)`` per sample: a batched contraction with
the sample axis first. For an observed node only its observed entry matters (a Beta
block); latent nodes with observed children need whole Dirichlet rows. A finding
given as a set of states S is, by the aggregation property of the Dirichlet, a Beta
block of ``sum_{s in S} p_s`` when no other sampled table has it as a parent; when one
does, its whole rows are drawn and the states outside S are masked to zero. Draws are
made in log space so tiny entries never underflow to zero.

A row is one parameter however many parent configurations it serves: where a table's
rows are identical across the states of a parent that the query sums over (a latent
node such as the form of CPPD, or an unobserved second parent, for the diagnoses whose
row does not depend on it), those rows are drawn once and shared (``_Block.tie``).
Drawing each copy on its own would average independent draws in the sum over that
parent and understate the row's uncertainty.

Ties also make the combination cheaper. A latent node whose only parent is the
diagnosis (the form of CPPD, say) sums out of ``m_C(d)`` for every diagnosis ``d`` whose
rows do not depend on it, since its row sums to one: each component's einsum is split
by diagnosis into groups that leave out the latents they do not depend on
(:func:`_groups`), and gathers the drawn distinct rows directly instead of expanding
them to every parent configuration. Exact, and for a compartment observed without its
site about seven times faster than one einsum over all eight form configurations.

Each block draws from its own generator spawned from the seed, in block order, so the
blocks can be drawn on several threads (NumPy's Gamma sampler releases the GIL) and the
samples do not depend on the number of threads.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..exceptions import EngineError
from ._einsum import letters_for
from .star import StarEngine

__all__ = ["build_plan"]

_TINY = 1e-280  # below this an inverse CDF is replaced by its small-x asymptote
_U_EPS = 1e-12  # uniforms are clipped to [_U_EPS, 1 - _U_EPS]


# --------------------------------------------------------------------------- plan
POSTERIOR_SLICE = 1024
"""Samples combined at once by :meth:`_Plan.posterior` (bounds its intermediates)."""


@dataclass(frozen=True)
class _Block:
    """Uncertain parameters of one node's table, as far as the query needs them.

    ``beta``: the observed entry of every row; ``a`` is its alpha and ``b`` the alpha
    of the rest of the row, both of shape ``(rows,)``; values are ``log p_obs`` with
    shape ``(n, rows)``. ``dirichlet``: whole rows; ``a`` has shape ``(rows, card)``;
    values are ``log p`` with shape ``(n, rows, card)``. ``mask`` (dirichlet only, a
    boolean over the node's states) keeps the states of a set of states: the others
    are set to ``log 0`` after the draw. ``tie`` (optional) maps each row the query
    uses to its row in ``a`` and ``b``, which then hold only the distinct parameters
    (:func:`_ties`); the values are expanded to every row after the draw.
    """

    node: str
    kind: Literal["beta", "dirichlet"]
    group: str
    a: np.ndarray
    b: np.ndarray
    mask: np.ndarray | None = None
    tie: np.ndarray | None = None

    def expanded(self, values: np.ndarray) -> np.ndarray:
        """``values`` (sample axis first) for every row the query uses."""
        return values if self.tie is None else values[:, self.tie]

    def masked(self, values: np.ndarray) -> np.ndarray:
        """``values`` with the states outside ``mask`` at ``log 0`` (in place)."""
        if self.mask is not None:
            values[..., ~self.mask] = -np.inf
        return values

    @property
    def free(self) -> np.ndarray:
        """Entries that are random (need one uniform each in a Sobol design)."""
        if self.kind == "beta":
            return np.asarray((self.a > 0) & (self.b > 0))
        return np.asarray((self.a > 0) & ((self.a > 0).sum(axis=1, keepdims=True) > 1))

    def fixed(self, n: int) -> np.ndarray:
        """Values of size ``n`` with the deterministic entries filled in (free: NaN)."""
        out = np.full((n, *self.a.shape), np.nan)
        out[:, self.a == 0] = -np.inf
        out[:, (self.a > 0) & ~self.free] = 0.0  # the entry is 1 in every sample
        return out


@dataclass(frozen=True)
class _Group:
    """One einsum of a term, over the diagnoses ``rows`` that share its shape.

    ``gathers[i]`` picks, from block ``blocks[i]``'s drawn (distinct) rows, the row for
    every configuration of the parents the einsum keeps (the diagnosis axis restricted to
    ``rows``); the axes of latent nodes that no row of these diagnoses depends on are
    gone, and so are those latents' own blocks (:func:`_groups`).
    """

    rows: np.ndarray
    blocks: tuple[int, ...]
    gathers: tuple[np.ndarray, ...]
    subscripts: str


@dataclass(frozen=True)
class _Term:
    """One factor ``log m_C(d)`` of the posterior: a block, or einsums over blocks."""

    blocks: tuple[int, ...]
    groups: tuple[_Group, ...] = ()  # empty: the single block holds log m_C(d) directly

    @property
    def subscripts(self) -> str | None:
        """The einsum of the first group (None for a single block)."""
        return self.groups[0].subscripts if self.groups else None


@dataclass(frozen=True)
class _Plan:
    """What to sample for one query, and how to combine it into ``log P(d, e)``."""

    n_t: int
    blocks: tuple[_Block, ...]
    terms: tuple[_Term, ...]

    # ------------------------------------------------------------ Monte Carlo
    def draw(
        self,
        rng: np.random.Generator,
        n: int,
        *,
        n_jobs: int = 1,
        done: Callable[[], None] | None = None,
    ) -> list[np.ndarray]:
        """``n`` draws of every block (sample axis first).

        Each block draws from its own generator, spawned from ``rng`` in block order
        (:func:`_streams`), so the draws are the same whatever ``n_jobs``: with
        ``n_jobs > 1`` the blocks are drawn on that many threads (NumPy's Gamma sampler
        releases the GIL). ``done`` is called once per block drawn.
        """
        streams = _streams(rng, len(self.blocks))

        def one(i: int) -> np.ndarray:
            value = _draw_block(self.blocks[i], streams[i], n)
            if done is not None:
                done()
            return value

        if n_jobs > 1 and len(self.blocks) > 1:
            from concurrent.futures import ThreadPoolExecutor

            # the largest blocks first, so the threads finish together
            order = sorted(range(len(self.blocks)), key=lambda i: -self.blocks[i].a.size)
            with ThreadPoolExecutor(min(n_jobs, len(self.blocks))) as pool:
                found = dict(zip(order, pool.map(one, order), strict=True))
            return [found[i] for i in range(len(self.blocks))]
        return [one(i) for i in range(len(self.blocks))]

    # ------------------------------------------------------------ Sobol design
    def variables(self, by: Literal["node", "table"] = "node") -> tuple[list[str], list[str]]:
        """Names and groups of the uniform inputs, in column order.

        ``by="node"``: the blocks' groups (a latent node's component together);
        ``"table"``: the table each input belongs to (the prior's inputs stay ``"prior"``).
        """
        names: list[str] = []
        groups: list[str] = []
        for block in self.blocks:
            group = block.group if by == "node" or block.group == "prior" else block.node
            for idx in np.argwhere(block.free):
                names.append(f"{block.node}[{','.join(str(int(i)) for i in idx)}]")
                groups.append(group)
        return names, groups

    def from_uniforms(self, u: np.ndarray) -> list[np.ndarray]:
        """Block values as a deterministic function of uniforms ``u`` (n, n_variables)."""
        n = u.shape[0]
        params_a: list[np.ndarray] = []
        params_b: list[np.ndarray] = []
        for block in self.blocks:
            free = block.free
            params_a.append(block.a[free])
            params_b.append(block.b[free] if block.kind == "beta" else np.full(free.sum(), np.nan))
        a = np.concatenate(params_a) if params_a else np.zeros(0)
        b = np.concatenate(params_b) if params_b else np.zeros(0)
        logs = _inverse_cdf_columns(u, a, b)
        values: list[np.ndarray] = []
        start = 0
        for block in self.blocks:
            out = block.fixed(n)
            free = block.free
            k = int(free.sum())
            out[:, free] = logs[:, start : start + k]
            start += k
            out = out if block.kind == "beta" else block.masked(_log_normalise(out))
            values.append(out)
        return values

    # ------------------------------------------------------------ combination
    def posterior(self, values: Sequence[np.ndarray]) -> np.ndarray:
        """``P(d | e)`` per sample, shape ``(n, n_diagnoses)``.

        Samples are combined :data:`POSTERIOR_SLICE` at a time, so the einsum
        intermediates stay bounded whatever the number of samples (each sample's
        posterior depends on its own draws only: the answer is the same).
        """
        n = values[0].shape[0] if values else 1
        if n <= POSTERIOR_SLICE:
            return self._posterior(values)
        out = np.empty((n, self.n_t))
        for lo in range(0, n, POSTERIOR_SLICE):
            out[lo : lo + POSTERIOR_SLICE] = self._posterior(
                [v[lo : lo + POSTERIOR_SLICE] for v in values]
            )
        return out

    def _posterior(self, values: Sequence[np.ndarray]) -> np.ndarray:
        n = values[0].shape[0] if values else 1
        logj = np.zeros((n, self.n_t))
        for term in self.terms:
            if not term.groups:
                block = self.blocks[term.blocks[0]]
                logj += block.expanded(values[term.blocks[0]]).reshape(n, self.n_t)
                continue
            for group in term.groups:
                operands: list[np.ndarray] = []
                shift = np.zeros(n)
                for b, gather in zip(group.blocks, group.gathers, strict=True):
                    picked = values[b][:, gather]
                    flat = picked.reshape(n, -1)
                    peak = flat.max(axis=1)
                    peak = np.where(np.isfinite(peak), peak, 0.0)
                    operands.append(np.exp(flat - peak[:, None]).reshape(picked.shape))
                    shift += peak
                m = np.einsum(group.subscripts, *operands, optimize="greedy")
                with np.errstate(divide="ignore"):
                    logj[:, group.rows] += np.log(m) + shift[:, None]
        peak = logj.max(axis=1, keepdims=True)
        if not np.all(np.isfinite(peak)):
            raise EngineError(
                "Every diagnosis has probability zero in some sampled network "
                "(numerical underflow); please report this case"
            )
        p = np.exp(logj - peak)
        return np.asarray(p / p.sum(axis=1, keepdims=True))


def _prune(parents: Sequence[tuple[int, ...]], factors: Sequence[int], keep: set[int]) -> list[int]:
    """Drop barren nodes: factors outside ``keep`` with no kept child, repeatedly."""
    kept = set(factors)
    changed = True
    while changed:
        changed = False
        for f in sorted(kept):
            if f not in keep and not any(f in parents[g] for g in kept):
                kept.discard(f)
                changed = True
    return [f for f in factors if f in kept]


def _observed_rows(
    alpha: np.ndarray, parents: Sequence[int], cards: np.ndarray, observed: Mapping[int, int]
) -> tuple[np.ndarray, tuple[int, ...]]:
    """The rows of a table whose observed parents are in their observed states.

    ``alpha`` has one row per parent configuration (C order over ``parents``); the
    result keeps the rows consistent with the evidence, in C order over the parents
    left free, which are returned with it.
    """
    shape = [int(cards[p]) for p in parents] + [alpha.shape[1]]
    index = tuple(observed.get(p, slice(None)) for p in parents)
    free = tuple(p for p in parents if p not in observed)
    return alpha.reshape(shape)[index].reshape(-1, alpha.shape[1]), free


def _ties(
    alpha: np.ndarray, free: Sequence[int], cards: np.ndarray, pivot: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """Distinct rows of ``alpha`` and, when some repeat, the map of every row to them.

    ``alpha`` has one row per configuration of the parents ``free`` (C order). Rows that
    are identical across all the states of a summed parent (any free parent but the
    ``pivot``), the other parents fixed, are one written row applied to every state of
    that parent: one parameter, drawn once. Returns the indices of the distinct rows
    kept, and ``tie`` (None when every row is distinct).

    Examples
    --------
    >>> # rows over (diagnosis d, latent L): d0's row does not depend on L, d1's does
    >>> alpha = np.array([[1.0, 3.0], [1.0, 3.0], [2.0, 2.0], [3.0, 1.0]])
    >>> unique, tie = _ties(alpha, (0, 1), np.array([2, 2]), pivot=0)
    >>> unique.tolist(), tie.tolist()
    ([0, 2, 3], [0, 0, 1, 2])
    """
    shape = [int(cards[p]) for p in free]
    rows = alpha.shape[0]
    rep = np.arange(rows).reshape(shape) if shape else np.zeros((), dtype=int)
    table = alpha.reshape(*shape, alpha.shape[1])
    for axis, p in enumerate(free):
        if p == pivot or shape[axis] < 2:
            continue
        first = np.take(table, [0], axis=axis)
        same = np.all(table == first, axis=(axis, table.ndim - 1))  # per other configuration
        rep = np.where(np.expand_dims(same, axis), np.take(rep, [0], axis=axis), rep)
    rep = rep.reshape(-1)
    unique, tie = np.unique(rep, return_inverse=True)
    if unique.size == rows:
        return np.arange(rows), None
    return unique, tie.reshape(-1)


def _groups(
    pivot: int,
    cards: np.ndarray,
    factors: Sequence[tuple[int, tuple[int, ...], bool, np.ndarray | None]],
    first: int,
) -> tuple[_Group, ...]:
    """The einsums of one component's term, one per set of diagnoses of the same shape.

    ``factors`` lists, per sampled table in block order from ``first``: its node, the
    parents its rows run over (C order), whether only its observed entry is drawn, and
    its ``tie`` map. A latent node ``L`` whose only parent is the diagnosis sums out of
    ``m_C(d)`` for a diagnosis ``d`` when no other table's rows for ``d`` depend on it
    (tied across its states): then ``sum_l P(l | d) = 1``, so its axis and its own block
    are left out of that diagnosis's einsum. This is exact, and for a component with
    several latent forms, each a form of one diagnosis, it spares every other diagnosis
    the sum over all their configurations. Diagnoses that leave out the same latents share
    one einsum.
    """
    n_t = int(cards[pivot])
    dims = {f: [int(cards[p]) for p in parents] for f, parents, _, _ in factors}
    ties = {}
    for f, _, _, tie in factors:
        size = math.prod(dims[f])
        ties[f] = (np.arange(size) if tie is None else tie).reshape(dims[f])
    # latents that may sum out: own rows over the diagnosis only, whole rows drawn
    own = {f for f, parents, single, _ in factors if parents == (pivot,) and not single}
    droppable = [v for v in own if any(v in parents for g, parents, _, _ in factors if g != v)]

    def constant(f: int, parents: tuple[int, ...], v: int, t: int) -> bool:
        table = ties[f]
        if pivot in parents:
            table = np.take(table, [t], axis=parents.index(pivot))
        axis = parents.index(v)
        return bool(np.all(table == np.take(table, [0], axis=axis)))

    by_shape: dict[frozenset[int], list[int]] = {}
    for t in range(n_t):
        gone = frozenset(
            v
            for v in droppable
            if all(constant(g, parents, v, t) for g, parents, _, _ in factors if v in parents)
        )
        by_shape.setdefault(gone, []).append(t)
    out: list[_Group] = []
    for gone, rows in by_shape.items():
        names = [pivot, *(f for f, _, _, _ in factors), *(p for _, ps, _, _ in factors for p in ps)]
        letter = letters_for(["sample", *dict.fromkeys(names)])
        blocks: list[int] = []
        gathers: list[np.ndarray] = []
        subs: list[str] = []
        for i, (f, parents, single, _) in enumerate(factors):
            if f in gone:
                continue
            index: list[Any] = []
            kept_axes: list[int] = []
            for p in parents:
                if p == pivot:
                    index.append(np.asarray(rows))
                    kept_axes.append(p)
                elif p in gone:
                    index.append(0)
                else:
                    index.append(slice(None))
                    kept_axes.append(p)
            gather = _outer_take(ties[f], index)
            family = kept_axes if single else [*kept_axes, f]
            blocks.append(first + i)
            gathers.append(gather)
            subs.append(letter["sample"] + "".join(letter[v] for v in family))
        subscripts = ",".join(subs) + "->" + letter["sample"] + letter[pivot]
        out.append(_Group(np.asarray(rows), tuple(blocks), tuple(gathers), subscripts))
    return tuple(out)


def _outer_take(table: np.ndarray, index: Sequence[Any]) -> np.ndarray:
    """``table`` indexed axis by axis (an array keeps its axis, an int drops it)."""
    for axis in reversed(range(len(index))):
        i = index[axis]
        if isinstance(i, slice):
            continue
        table = np.take(table, i, axis=axis)
    return table


def build_plan(
    engine: StarEngine,
    codes: Mapping[str, int],
    alphas: Callable[[str], np.ndarray],
    latent: Collection[str],
    sets: Mapping[str, np.ndarray] | None = None,
) -> _Plan:
    """What to sample for ``codes``: Beta/Dirichlet blocks per table, combined per component.

    ``alphas(name)`` gives the Dirichlet parameters of a node's rows; nodes in ``latent``
    share one Sobol group with the children sampled alongside them. Only the rows
    consistent with the evidence are sampled: a parent that is observed (a second parent
    such as the site of a lesion) is fixed at its observed state, never summed over.
    ``sets`` maps findings given as a set of states to their 0/1 likelihood vectors.
    """
    pivot = engine.pivot
    n_t = int(engine.cards[pivot])
    observed = {engine.index[name]: state for name, state in codes.items()}
    in_set = {engine.index[name]: np.asarray(vec) > 0 for name, vec in (sets or {}).items()}
    blocks: list[_Block] = []
    terms: list[_Term] = []
    if engine.prior_factor:
        alpha = alphas(engine.names[pivot])
        blocks.append(_Block(engine.names[pivot], "dirichlet", "prior", alpha, np.zeros(0)))
        terms.append(_Term((0,)))
    for comp in engine.components:
        evident = [v for v in comp.variables if v in observed or v in in_set]
        if pivot not in comp.factors and not evident:
            continue  # no evidence: m_C = 1
        kept = _prune(engine.parents, comp.factors, {*observed, *in_set, pivot})
        if not any(pivot in (*engine.parents[f], f) for f in kept):
            continue  # constant in the diagnosis: cancels on normalisation
        hidden = [engine.names[f] for f in kept if engine.names[f] in latent]
        shared_group = "+".join(hidden) if hidden else None
        first = len(blocks)
        free: dict[int, tuple[int, ...]] = {}
        # a set whose node no other kept table has as a parent: one Beta entry per row
        summed = {f for f in kept if f in in_set and not any(f in engine.parents[g] for g in kept)}
        for f in kept:
            name = engine.names[f]
            alpha, free[f] = _observed_rows(alphas(name), engine.parents[f], engine.cards, observed)
            group = shared_group or name
            unique, tie = _ties(alpha, free[f], engine.cards, pivot)
            alpha = alpha[unique]
            if f in observed:
                s = observed[f]
                rest = np.delete(alpha, s, axis=1).sum(axis=1)
                blocks.append(_Block(name, "beta", group, alpha[:, s].copy(), rest, tie=tie))
            elif f in summed:
                keep = in_set[f]
                a_in, a_out = alpha[:, keep].sum(axis=1), alpha[:, ~keep].sum(axis=1)
                blocks.append(_Block(name, "beta", group, a_in, a_out, tie=tie))
            else:
                mask = in_set.get(f)
                blocks.append(_Block(name, "dirichlet", group, alpha, np.zeros(0), mask, tie))
        single = {*observed, *summed}
        if len(kept) == 1 and kept[0] in single and free[kept[0]] == (pivot,):
            terms.append(_Term((first,)))
            continue
        groups = _groups(
            pivot,
            engine.cards,
            [(f, free[f], f in single, blocks[first + i].tie) for i, f in enumerate(kept)],
            first,
        )
        terms.append(_Term(tuple(range(first, len(blocks))), groups))
    return _Plan(n_t, tuple(blocks), tuple(terms))


def _streams(rng: np.random.Generator, k: int) -> list[np.random.Generator]:
    """``k`` independent generators from ``rng``: its spawned children where its bit
    generator has a seed sequence, else generators seeded from ``rng``'s own draws."""
    try:
        return list(rng.spawn(k))
    except TypeError:  # a bit generator made without a SeedSequence
        return [np.random.default_rng(int(s)) for s in rng.integers(2**63 - 1, size=k)]


def _draw_block(block: _Block, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` draws of one block's distinct rows: log Beta entries or log Dirichlet rows."""
    if block.kind == "beta":
        lga = _log_gamma(rng, block.a, n)
        lgb = _log_gamma(rng, block.b, n)
        np.logaddexp(lga, lgb, out=lgb)
        return np.asarray(np.subtract(lga, lgb, out=lga))  # in place: bounded memory
    return block.masked(_log_normalise(_log_gamma(rng, block.a, n)))


# --------------------------------------------------------------------------- draws
def _log_gamma(rng: np.random.Generator, alpha: np.ndarray, n: int) -> np.ndarray:
    """Logs of independent Gamma(alpha) draws, shape ``(n, *alpha.shape)``.

    ``-inf`` where ``alpha == 0``. Shapes below 1 use ``G(a) = G(a + 1) U^(1/a)`` in
    log space, which never underflows.
    """
    small = (alpha > 0) & (alpha < 1)
    g = rng.standard_gamma(np.where(small, alpha + 1.0, alpha), size=(n, *alpha.shape))
    with np.errstate(divide="ignore"):
        out = np.log(g, out=g)
    if small.any():
        idx = np.flatnonzero(small)
        flat = out.reshape(n, -1)
        flat[:, idx] += np.log1p(-rng.random((n, idx.size))) / alpha.ravel()[idx]
    return out


def _log_normalise(logs: np.ndarray) -> np.ndarray:
    """Normalise log weights over the last axis, in place (a Dirichlet row from Gamma draws)."""
    peak = logs.max(axis=-1, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    with np.errstate(divide="ignore"):
        total = np.log(np.exp(logs - peak).sum(axis=-1, keepdims=True)) + peak
    logs -= total  # the draws are this function's to overwrite
    return logs


def _inverse_cdf_columns(u: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Log quantiles of column ``j`` of ``u``: Beta(a_j, b_j), or Gamma(a_j) where b_j is NaN.

    A Sobol design repeats every value of a column many times, so each column's
    inverse CDF is evaluated only at its distinct values.
    """
    n, d = u.shape
    uniques: list[np.ndarray] = []
    inverses: list[np.ndarray] = []
    for j in range(d):
        q, inv = np.unique(u[:, j], return_inverse=True)
        uniques.append(q)
        inverses.append(inv.ravel())
    if d == 0:
        return np.zeros((n, 0))
    lengths = np.array([q.size for q in uniques])
    flat_u = np.clip(np.concatenate(uniques), _U_EPS, 1.0 - _U_EPS)
    col = np.repeat(np.arange(d), lengths)
    aa, bb = a[col], b[col]
    res = np.empty(flat_u.size)
    beta = ~np.isnan(bb)
    res[beta] = _beta_log_ppf(aa[beta], bb[beta], flat_u[beta])
    res[~beta] = _gamma_log_ppf(aa[~beta], flat_u[~beta])
    out = np.empty((n, d))
    starts = np.concatenate([[0], np.cumsum(lengths)])
    for j in range(d):
        out[:, j] = res[starts[j] : starts[j + 1]][inverses[j]]
    return out


def _beta_log_ppf(a: np.ndarray, b: np.ndarray, u: np.ndarray) -> np.ndarray:
    from scipy import special  # imported on first use: keeps `import softcalc_bayes` light

    x = special.betaincinv(a, b, u)
    tiny = x < _TINY  # I_x(a, b) ~ x^a / (a B(a, b)) as x -> 0
    with np.errstate(divide="ignore"):
        out = np.log(x)
    out[tiny] = (np.log(u[tiny]) + np.log(a[tiny]) + special.betaln(a[tiny], b[tiny])) / a[tiny]
    return np.asarray(out)


def _gamma_log_ppf(a: np.ndarray, u: np.ndarray) -> np.ndarray:
    from scipy import special

    x = special.gammaincinv(a, u)
    tiny = x < _TINY  # P(a, x) ~ x^a / Gamma(a + 1) as x -> 0
    with np.errstate(divide="ignore"):
        out = np.log(x)
    out[tiny] = (np.log(u[tiny]) + special.gammaln(a[tiny] + 1.0)) / a[tiny]
    return np.asarray(out)
