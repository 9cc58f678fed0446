"""The private exact-inference engine: one small interface over two compiled plans.

:class:`Engine` is what :mod:`softcalc_bayes.network`, :mod:`~softcalc_bayes.sensitivity`
and :mod:`~softcalc_bayes.uncertainty` use. Evidence crosses this interface as node
name -> state index (hard findings) and node name -> likelihood vector (soft findings);
everything is checked by the caller (``Network``) before it arrives here.

Two compiled plans, chosen automatically per question:

* **Junction tree** (:mod:`.jtree`): any discrete network. Compile cost and the cost
  of every query grow with the total size of the clique tables (the product of the
  state counts of each clique's nodes), i.e. exponentially in the treewidth, not
  with the number of nodes. One collect pass gives P(e) and any single posterior; a
  distribute pass adds the posterior of every node; a Shafer-Shenoy distribute pass
  gives the derivative of P(e) with respect to every parameter; max-product gives the
  MPE. A network whose largest clique table exceeds ``max_entries`` (default 2**28
  entries, 2 GiB of float64), or whose clique tables together exceed four times that,
  raises :class:`~softcalc_bayes.exceptions.EngineError` naming the clique's size and
  nodes.
* **Star tabulation** (:mod:`.star`): when removing the target from the moral graph
  leaves only small components (the default network: findings that are independent
  given the diagnosis, plus two small latent groups), each component's message is
  tabulated for every evidence configuration at compile time, so a hard-evidence query
  is a gather and a sum (about 10 us) and a batch is one sparse product. Used for hard
  evidence whenever it compiles within ``star_entries`` table entries and within
  ``star_work`` units of tabulation work (per component: its evidence configurations
  times the target's states, times its number of nodes and its largest state count,
  the order of the einsum that fills the table one summed axis at a time). Past it the
  junction tree answers instead, where a query costs microseconds to milliseconds, and
  ``Engine.star_refusal()`` names the component and the limit it passes.
  Nodes declared ``hidden`` (the latent nodes, which evidence can never name) are
  summed inside their component's table rather than tabulated by state, so a latent
  node costs the plan nothing beyond the findings it ties; a query *about* a hidden
  node goes to the junction tree.

MAP over a chosen node set uses constrained variable elimination (:mod:`._elimination`).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from functools import cached_property

import numpy as np

from ..exceptions import EngineError
from ._elimination import map_assignment
from .jtree import JunctionTreeEngine, ZeroProbabilityError
from .star import NodeLike, StarEngine, components_without, moral_graph

__all__ = ["Engine", "NodeLike", "ZeroProbabilityError"]

Codes = Mapping[str, int]
Soft = Mapping[str, np.ndarray]

DEFAULT_CHUNK = 8192


def _normalise_rows(joint: np.ndarray) -> np.ndarray:
    total = joint.sum(axis=1, keepdims=True)
    bad = ~(total[:, 0] > 0)
    if bad.any():
        raise ZeroProbabilityError(np.flatnonzero(bad))
    return np.asarray(joint / total)


class Engine:
    """Exact inference on one discrete Bayesian network (compiled lazily, once).

    Parameters
    ----------
    nodes : sequence of NodeLike
        Nodes with ``name``, ``states``, ``parents`` and ``cpt`` of shape
        ``(n_parent_configurations, n_states)`` (parent configurations in C order).
    target : str
        The node most queries ask about (the root of the junction tree and the pivot
        of the star plan).
    max_entries : int
        Largest clique table the junction tree may hold.
    star_entries : int
        Largest total table the star plan may tabulate.
    star_work : int
        Largest total tabulation work (per component: configurations x target states x
        nodes x largest state count, summed) the star plan may spend at compile time.
        The default, 2**29 units, compiles in about 0.2 s on the default network (whose
        compiled plan the spec cache keeps, so a warm start does not pay it).
    hidden : collection of str
        Nodes that evidence never names (latent nodes). The star plan sums them out
        instead of tabulating their states; posteriors of a hidden node come from the
        junction tree.

    Examples
    --------
    >>> from softcalc_bayes.spec import load_spec
    >>> engine = Engine(list(load_spec().nodes.values()), target="diagnosis")
    >>> p = engine.posterior({"fat_in_lesion": 0}, "diagnosis")
    >>> round(float(p.sum()), 12)
    1.0
    """

    def __init__(
        self,
        nodes: Sequence[NodeLike],
        *,
        target: str,
        max_entries: int = 1 << 28,
        star_entries: int = 1 << 22,
        star_work: int = 1 << 29,
        hidden: Collection[str] = (),
    ) -> None:
        self._nodes = list(nodes)
        self.names: tuple[str, ...] = tuple(n.name for n in nodes)
        self.index: dict[str, int] = {n: i for i, n in enumerate(self.names)}
        self.states: tuple[tuple[str, ...], ...] = tuple(tuple(n.states) for n in nodes)
        self.cards: tuple[int, ...] = tuple(len(s) for s in self.states)
        self.parents: tuple[tuple[int, ...], ...] = tuple(
            tuple(self.index[p] for p in n.parents) for n in nodes
        )
        self.tensors: tuple[np.ndarray, ...] = tuple(
            np.asarray(n.cpt, dtype=float).reshape(
                [self.cards[p] for p in self.parents[i]] + [self.cards[i]]
            )
            for i, n in enumerate(nodes)
        )
        if target not in self.index:
            raise EngineError(f"Unknown target node {target!r}")
        self.target = target
        self.max_entries = max_entries
        self.star_entries = star_entries
        self.star_work = star_work
        unknown = sorted(set(hidden) - set(self.index))
        if unknown:
            raise EngineError(f"Unknown hidden node(s) {unknown}")
        if target in hidden:
            raise EngineError(f"The target {target!r} cannot be hidden")
        self.hidden: frozenset[str] = frozenset(hidden)

    # ------------------------------------------------------------ compiled plans
    @cached_property
    def jt(self) -> JunctionTreeEngine:
        """The junction-tree plan (compiled on first use)."""
        return JunctionTreeEngine(
            self.parents,
            self.cards,
            self.tensors,
            root_var=self.index[self.target],
            max_entries=self.max_entries,
            names=self.names,
        )

    def star_refusal(self) -> str | None:
        """Why the star plan is not compiled, or None when it is.

        Names the first component around the target past ``star_entries`` table entries or
        ``star_work`` units of tabulation work, or the total past ``star_entries``.
        """
        pivot = self.index[self.target]
        n_t = self.cards[pivot]
        total = work = 0
        for comp in components_without(moral_graph(self.parents), pivot):
            members = [self.names[v] for v in comp]
            size = math.prod(
                1 if n in self.hidden else self.cards[self.index[n]] + 1 for n in members
            )
            if size * n_t > self.star_entries:
                return (
                    f"the component around {self.target!r} of at least {_listed(members)} "
                    f"needs over {self.star_entries:,} table entries, the limit (one per "
                    f"evidence configuration of its observable nodes and state of the target)"
                )
            total += size * n_t
            if len(members) > 1:  # one finding alone is tabulated without einsum
                work += size * n_t * max(self.cards[v] for v in comp) * len(members)
            if work > self.star_work:
                return (
                    f"tabulating the components around {self.target!r} up to that of "
                    f"{_listed(members)} takes {work:,} units of work (limit {self.star_work:,})"
                )
            if total > self.star_entries:
                return (
                    f"the components around {self.target!r} need {total:,} table entries "
                    f"together (limit {self.star_entries:,})"
                )
        return None

    @cached_property
    def star(self) -> StarEngine | None:
        """The star plan around the target, or None where it would be too large
        (:meth:`star_refusal` says why)."""
        if self.star_refusal() is not None:
            return None
        return StarEngine(
            self._nodes, pivot=self.target, max_table=self.star_entries, hidden=self.hidden
        )

    def _star_for(self, target: str) -> StarEngine | None:
        """The star plan when it can answer about ``target`` (not a hidden node)."""
        return None if target in self.hidden else self.star

    # ------------------------------------------------------------ evidence
    def lambdas(self, evidence: Codes, soft: Soft | None = None) -> dict[int, np.ndarray]:
        """Likelihood vectors (1, card) per node: indicators for hard, vectors for soft."""
        lam: dict[int, np.ndarray] = {}
        for name, state in evidence.items():
            v = self.index[name]
            vec = np.zeros((1, self.cards[v]))
            vec[0, state] = 1.0
            lam[v] = vec
        for name, vec in (soft or {}).items():
            v = self.index[name]
            arr = np.asarray(vec, dtype=float).reshape(1, self.cards[v])
            lam[v] = lam[v] * arr if v in lam else arr
        return lam

    # ------------------------------------------------------------ queries
    def posterior(
        self, evidence: Codes, target: str | None = None, soft: Soft | None = None
    ) -> np.ndarray:
        """``P(target | evidence)`` as an array over the target's states.

        Raises
        ------
        ZeroProbabilityError
            If the evidence has probability zero.
        """
        target = self.target if target is None else target
        if target in evidence:  # an observed target: its posterior is the observation
            if not np.isfinite(self.log_evidence(evidence, soft)):
                raise ZeroProbabilityError()
            return np.asarray(np.eye(self.cards[self.index[target]])[evidence[target]])
        star = None if soft else self._star_for(target)
        if star is not None:
            return np.asarray(star.posterior(evidence, target))
        jt = self.jt
        tables, up, _, root_log = jt.collect(self.lambdas(evidence, soft), 1)
        if not np.isfinite(root_log[0]):
            raise ZeroProbabilityError()
        return np.asarray(_normalise_rows(jt.target_marginal(tables, up, self.index[target]))[0])

    def log_evidence(self, evidence: Codes, soft: Soft | None = None) -> float:
        """``log P(evidence)`` (``-inf`` when impossible)."""
        if not soft and self.star is not None:
            return self.star.log_evidence(evidence)
        return float(self.jt.collect(self.lambdas(evidence, soft), 1)[3][0])

    def marginals(
        self, evidence: Codes, soft: Soft | None = None
    ) -> tuple[list[np.ndarray], float]:
        """Posterior of every node (one array per node, network order) and ``log P(e)``."""
        jt = self.jt
        tables, up, _, root_log = jt.collect(self.lambdas(evidence, soft), 1)
        if not np.isfinite(root_log[0]):
            raise ZeroProbabilityError()
        calibrated = jt.distribute(tables, up)
        return [m[0] for m in jt.all_marginals(calibrated)], float(root_log[0])

    def posterior_batch(
        self,
        codes: np.ndarray,
        target: str | None = None,
        soft: Mapping[str, np.ndarray] | None = None,
        *,
        chunk_size: int = DEFAULT_CHUNK,
        n_jobs: int = 1,
    ) -> np.ndarray:
        """Posteriors for a batch, in chunks of ``chunk_size`` rows.

        ``codes[n, v]`` is 0 (unobserved) or state index + 1; ``soft[name]`` is an
        array ``(n, card)`` of likelihoods (rows of ones where there is none).
        With ``n_jobs > 1`` the chunks run on that many threads (NumPy and SciPy
        release the GIL in the array work); each chunk is computed exactly as it
        would be alone, so the result does not depend on ``n_jobs``. Rows whose
        evidence has probability zero raise :class:`ZeroProbabilityError` listing
        those rows.
        """
        target = self.target if target is None else target
        n = codes.shape[0]
        out = np.empty((n, self.cards[self.index[target]]))
        starts = range(0, n, chunk_size)

        def run(lo: int) -> np.ndarray | None:
            hi = min(n, lo + chunk_size)
            part = {k: v[lo:hi] for k, v in soft.items()} if soft else None
            try:
                out[lo:hi] = self._batch_chunk(codes[lo:hi], target, part)
            except ZeroProbabilityError as exc:
                return lo + (exc.rows if exc.rows is not None else np.arange(hi - lo))
            return None

        if n_jobs > 1 and len(starts) > 1:
            from concurrent.futures import ThreadPoolExecutor

            if soft or self._star_for(target) is None:  # compile before the threads share it
                _ = self.jt

            with ThreadPoolExecutor(min(n_jobs, len(starts))) as pool:
                found = list(pool.map(run, starts))
        else:
            found = [run(lo) for lo in starts]
        bad = [rows for rows in found if rows is not None]
        if bad:
            raise ZeroProbabilityError(np.concatenate(bad))
        return out

    def _batch_chunk(self, codes: np.ndarray, target: str, soft: Soft | None) -> np.ndarray:
        star = None if soft else self._star_for(target)
        if star is not None:
            return star.posterior_batch(codes, target)
        b = codes.shape[0]
        lam: dict[int, np.ndarray] = {}
        for v in np.flatnonzero(codes.any(axis=0)).tolist():
            col = codes[:, v].astype(np.intp)
            vec = np.zeros((b, self.cards[v] + 1))
            vec[np.arange(b), col] = 1.0
            vec[col == 0] = 1.0
            lam[v] = vec[:, 1:]
        for name, arr in (soft or {}).items():
            v = self.index[name]
            lam[v] = lam[v] * arr if v in lam else np.asarray(arr, dtype=float)
        jt = self.jt
        tables, up, _, root_log = jt.collect(lam, b)
        bad = ~np.isfinite(root_log)
        if bad.any():
            raise ZeroProbabilityError(np.flatnonzero(bad))
        return _normalise_rows(jt.target_marginal(tables, up, self.index[target]))

    def gradients(
        self,
        evidence: Codes,
        soft: Soft | None = None,
        *,
        clamp: str | None = None,
    ) -> tuple[list[np.ndarray], np.ndarray]:
        """Derivatives of the evidence probability with respect to every parameter.

        Returns, per node, an array ``(rows, *parents, node)`` holding
        ``dP(e, clamp = t)/d theta / P(e)`` (one row per state ``t`` of ``clamp``; a
        single row ``dP(e)/d theta / P(e)`` without ``clamp``) and ``P(e, clamp = t) /
        P(e)`` per row.
        """
        lam = self.lambdas(evidence, soft)
        log_pe = np.array([self.log_evidence(evidence, soft)])
        if not np.isfinite(log_pe[0]):
            raise ZeroProbabilityError()
        if clamp is None:
            grads, log_rows = self.jt.gradients(lam, 1, ref_log=log_pe)
        else:
            v = self.index[clamp]
            if v in self.jt.tree.cliques[0]:  # the root holds it: one unbatched pass
                grads, log_rows = self.jt.gradients(lam, self.cards[v], ref_log=log_pe, keep=v)
            else:  # one batch row per state of the clamped node
                eye = np.eye(self.cards[v])
                lam[v] = lam[v] * eye if v in lam else eye
                grads, log_rows = self.jt.gradients(lam, self.cards[v], ref_log=log_pe)
        return grads, np.exp(log_rows - log_pe)

    def mpe(self, evidence: Codes, soft: Soft | None = None) -> tuple[np.ndarray, float]:
        """Most probable joint state of all nodes, and its probability given the evidence."""
        lam = self.lambdas(evidence, soft)
        log_pe = self.log_evidence(evidence, soft)
        if not np.isfinite(log_pe):
            raise ZeroProbabilityError()
        assignment, log_max = self.jt.mpe(lam)
        return assignment, math.exp(log_max - log_pe)

    def map(
        self, evidence: Codes, nodes: Sequence[str], soft: Soft | None = None
    ) -> tuple[dict[str, int], float]:
        """Most probable joint state of ``nodes`` (others summed out), and its probability."""
        lam = self.lambdas(evidence, soft)
        log_pe = self.log_evidence(evidence, soft)
        if not np.isfinite(log_pe):
            raise ZeroProbabilityError()
        found, log_max = map_assignment(
            self.parents, self.cards, self.tensors, lam, [self.index[n] for n in nodes]
        )
        return {self.names[v]: s for v, s in found.items()}, math.exp(log_max - log_pe)


def _listed(names: Sequence[str], most: int = 6) -> str:
    """Up to ``most`` node names, sorted, for a message."""
    shown = sorted(names)
    more = f" and {len(shown) - most} others" if len(shown) > most else ""
    return "[" + ", ".join(repr(n) for n in shown[:most]) + "]" + more
