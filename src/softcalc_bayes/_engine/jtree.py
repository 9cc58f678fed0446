"""Exact inference by junction-tree propagation, compiled once into fixed array steps.

Compilation (:class:`JunctionTreeEngine`) triangulates the moral graph
(:mod:`._graph`), multiplies every conditional table into the smallest clique that
holds its family, and records for every clique and separator the axes to sum and the
shapes to broadcast. The plan never depends on the evidence: evidence enters as one
likelihood (lambda) vector per observed node, an indicator for a hard finding or any
non-negative vector for soft (virtual) evidence, multiplied into the smallest clique
holding the node. Every array carries a leading batch axis, so one plan answers a
batch of evidence sets at once.

* **Collect** (leaves to root) gives P(e); **distribute** (root to leaves, Hugin
  division with 0/0 = 0) calibrates every clique, hence the posterior marginal of every
  node. A single posterior needs only the collect pass and the path to the node's clique.
* **Max-product** collect with an argmax trace-back gives the most probable explanation.
* **Derivatives** (Darwiche 2003, differential semantics): a Shafer-Shenoy distribute
  pass (no division, so exact at zero parameters) gives, for every conditional table,
  dP(e)/d theta for all its entries at once.

Messages are rescaled to a maximum of 1 as they are formed, and the logs of the scales
are summed per batch row, so nothing underflows however many nodes are observed.

Cost model: time and memory of every query are proportional to the total size of the
clique tables (``table_entries``) times the batch size; compiling costs the same once.
The largest clique table must fit the memory budget (``max_entries``); otherwise
:class:`~softcalc_bayes.exceptions.EngineError` names the clique's size and nodes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..exceptions import EngineError
from ._graph import JunctionTree, build_junction_tree

__all__ = ["JunctionTreeEngine", "ZeroProbabilityError"]

_RESCALE_EVERY = 6  # multiply at most this many messages before rescaling a product
_UNDERFLOW_LOG = math.log(1e-250)  # below this total an unscaled pass is redone scaled
_TINY = 1e-300
_EMPTY = np.empty(0)
_UNIT = np.ones(1)  # marker: an up-message known to be identically 1 (never multiplied in)
_MARGINAL_GATHER_MAX = 1 << 16  # home-clique entries summed by one gather (small networks)
_add = np.add.reduce
_max = np.maximum.reduce


class ZeroProbabilityError(ArithmeticError):
    """The evidence has probability zero (``rows``: the batch rows concerned)."""

    def __init__(self, rows: np.ndarray | None = None) -> None:
        super().__init__("evidence has probability zero")
        self.rows = rows


def _view(sub: Sequence[int], full: Sequence[int], cards: Sequence[int]) -> tuple[int, ...]:
    """Shape (batch first) that broadcasts a table over sorted ``sub`` into ``full``."""
    members = set(sub)
    return (-1, *(cards[v] if v in members else 1 for v in full))


def _axes_without(keep: Sequence[int], full: Sequence[int]) -> tuple[int, ...]:
    """Axes (batch first, so offset by one) of ``full`` whose variable is not in ``keep``."""
    members = set(keep)
    return tuple(i + 1 for i, v in enumerate(full) if v not in members)


def _rescale(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Divide each batch row by its maximum; returns the table and log of the maxima."""
    peak = table.reshape(table.shape[0], -1).max(axis=1)
    safe = np.where(peak > 0, peak, 1.0)
    with np.errstate(divide="ignore"):
        logs = np.where(peak > 0, np.log(safe), -np.inf)
    return table / safe.reshape((-1,) + (1,) * (table.ndim - 1)), logs


class JunctionTreeEngine:
    """A compiled junction tree.

    Parameters
    ----------
    parents : sequence of tuple of int
        Parent indices of every node.
    cards : sequence of int
        State counts.
    tensors : sequence of numpy.ndarray
        Conditional table of every node with axes ``(*parents, node)``.
    root_var : int, optional
        Node whose smallest clique becomes the root (single posteriors of it then need
        only the collect pass).
    max_entries : int
        Largest clique table allowed (entries).
    """

    def __init__(
        self,
        parents: Sequence[tuple[int, ...]],
        cards: Sequence[int],
        tensors: Sequence[np.ndarray],
        *,
        root_var: int | None = None,
        max_entries: int = 1 << 28,
        names: Sequence[str] | None = None,
    ) -> None:
        self.cards = tuple(int(c) for c in cards)
        self.parents = tuple(tuple(p) for p in parents)
        n = len(self.cards)
        names = list(names) if names is not None else [f"v{i}" for i in range(n)]
        tree: JunctionTree = build_junction_tree(self.parents, self.cards, root_var=root_var)
        self.tree = tree
        sizes = [math.prod(self.cards[v] for v in c) for c in tree.cliques]
        worst = int(np.argmax(sizes)) if sizes else 0
        if sizes and sizes[worst] > max_entries:
            held = [names[u] for u in tree.cliques[worst]]
            raise EngineError(
                f"Cannot compile: the largest clique holds {sizes[worst]:,} table entries "
                f"({sizes[worst] * 8 / 2**20:,.0f} MiB; budget {max_entries:,} entries) over "
                f"{len(held)} nodes: {', '.join(held)}"
            )
        self.table_entries = int(sum(sizes))
        if self.table_entries > 4 * max_entries:
            raise EngineError(
                f"Cannot compile: the clique tables hold {self.table_entries:,} entries together "
                f"({self.table_entries * 8 / 2**30:,.1f} GiB; budget {4 * max_entries:,}); the "
                f"largest clique holds {sizes[worst]:,} entries over "
                f"{', '.join(names[u] for u in tree.cliques[worst])}"
            )
        self.max_clique = int(max(sizes)) if sizes else 0
        cliques = tree.cliques
        n_c = len(cliques)
        self.n_cliques = n_c
        self.shapes = tuple(tuple(self.cards[v] for v in c) for c in cliques)
        # home clique of every node (smallest clique holding it) and of every family
        holding: list[list[int]] = [[] for _ in range(n)]
        for c, members in enumerate(cliques):
            for v in members:
                holding[v].append(c)
        home = [min(h, key=lambda c: (sizes[c], c)) for h in holding]
        if root_var is not None:
            home[root_var] = 0  # the root holds it: its evidence and marginal live there
        self.home = tuple(home)
        fam_home: list[int] = []
        for v in range(n):
            fam_set = {*self.parents[v], v}
            cands = [c for c in holding[v] if fam_set <= set(cliques[c])]
            fam_home.append(min(cands, key=lambda c: (sizes[c], c)))
        self.family_home = tuple(fam_home)
        self.factors_at: tuple[tuple[int, ...], ...] = tuple(
            tuple(v for v in range(n) if fam_home[v] == c) for c in range(n_c)
        )
        # factors expanded to their clique's axes (batch axis of size 1 first)
        self.expanded: list[np.ndarray] = []
        self.family_perm: list[tuple[int, ...]] = []
        for v in range(n):
            family = (*self.parents[v], v)
            order = sorted(range(len(family)), key=lambda i: family[i])
            sorted_family = [family[i] for i in order]
            t = np.transpose(np.asarray(tensors[v], dtype=np.float64), order)
            shape = _view(sorted_family, cliques[fam_home[v]], self.cards)[1:]
            self.expanded.append(t.reshape((1, *shape)))
            # axes of the sorted family back to (*parents, node) order
            self.family_perm.append(tuple(int(i) for i in np.argsort(order)))
        self.phi: list[np.ndarray] = []
        for c in range(n_c):
            table = np.ones((1, *self.shapes[c]))
            for v in self.factors_at[c]:
                table = table * self.expanded[v]
            self.phi.append(table)
        self.lambda_view = tuple(_view((v,), cliques[self.home[v]], self.cards) for v in range(n))
        self.marg_axes = tuple(_axes_without((v,), cliques[self.home[v]]) for v in range(n))
        self.up_axes = tuple(_axes_without(tree.separator[c], cliques[c]) for c in range(n_c))
        self.down_axes = tuple(
            () if tree.parent[c] < 0 else _axes_without(tree.separator[c], cliques[tree.parent[c]])
            for c in range(n_c)
        )
        self.up_view = tuple(
            (-1,)
            if tree.parent[c] < 0
            else _view(tree.separator[c], cliques[tree.parent[c]], self.cards)
            for c in range(n_c)
        )
        self.down_view = tuple(_view(tree.separator[c], cliques[c], self.cards) for c in range(n_c))
        self.family_axes = tuple(
            _axes_without((*self.parents[v], v), cliques[fam_home[v]]) for v in range(n)
        )
        # path from the root to every clique (for single posteriors)
        paths: list[tuple[int, ...]] = []
        for c in range(n_c):
            path = [c]
            while tree.parent[path[-1]] >= 0:
                path.append(tree.parent[path[-1]])
            paths.append(tuple(reversed(path)))
        self.paths = tuple(paths)
        self._offsets = np.concatenate([[0], np.cumsum(self.cards)[:-1]]).astype(np.intp)
        self._marginal_plan()
        # An up-message is identically 1 without evidence below it when the factors of
        # its subtree are exactly the tables of the nodes eliminated inside it (a sum
        # of a product of conditionals over their own variables). A subtree where this
        # holds for every message is skipped in the collect pass of queries with no
        # evidence in it: its collect-time tables are the plain factor products.
        unit = [False] * n_c
        below_vars: list[set[int]] = [set() for _ in range(n_c)]
        below_factors: list[set[int]] = [set() for _ in range(n_c)]
        for c in range(n_c - 1, -1, -1):
            below_vars[c] |= set(cliques[c])
            below_factors[c] |= set(self.factors_at[c])
            p = tree.parent[c]
            if p >= 0:
                inside = below_vars[c] - set(tree.separator[c])
                unit[c] = below_factors[c] == inside and all(unit[d] for d in tree.children[c])
                below_vars[p] |= below_vars[c]
                below_factors[p] |= below_factors[c]
        self.unit_up = tuple(unit)

    # ------------------------------------------------------------------ helpers
    def _lambdas(self, lam: dict[int, np.ndarray]) -> list[list[np.ndarray]]:
        """Evidence vectors grouped by home clique, reshaped for broadcasting."""
        out: list[list[np.ndarray]] = [[] for _ in range(self.n_cliques)]
        for v, vec in lam.items():
            out[self.home[v]].append(vec.reshape(self.lambda_view[v]))
        return out

    @staticmethod
    def _multiply(
        table: np.ndarray, factors: Sequence[np.ndarray], logs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """``table * prod(factors)``, rescaled every few factors (logs accumulate)."""
        owned = False
        for i, f in enumerate(factors):
            if owned and table.shape == np.broadcast_shapes(table.shape, f.shape):
                table *= f
            else:
                table = table * f
                owned = True
            if (i + 1) % _RESCALE_EVERY == 0:
                table, s = _rescale(table)
                logs = logs + s
        return table, logs

    # ------------------------------------------------------------------ passes
    def collect(
        self,
        lam: dict[int, np.ndarray],
        batch: int,
        *,
        maximise: bool = False,
        scaled: bool | None = None,
    ) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], np.ndarray]:
        """Upward pass. Returns collect-time clique tables, up-messages, their
        cumulative log scales, and log of the root's total (``log P(e)`` for sums).

        ``scaled=None`` first runs without rescaling (every table entry is a
        probability, so nothing overflows) and reruns with per-message rescaling only
        when the root's total comes out below 1e-250 (underflow possible) or zero.
        """
        if scaled is None and not maximise:
            result = self._collect(lam, batch, maximise, False)
            if np.all(result[3] > _UNDERFLOW_LOG):
                return result
        return self._collect(lam, batch, maximise, True if scaled is None else scaled)

    def _collect(
        self, lam: dict[int, np.ndarray], batch: int, maximise: bool, scaled: bool
    ) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], np.ndarray]:
        n_c = self.n_cliques
        lams = self._lambdas(lam)
        tables: list[np.ndarray] = [_EMPTY] * n_c
        up: list[np.ndarray] = [_EMPTY] * n_c
        skip = [False] * n_c
        if not maximise and not scaled:  # unit messages of evidence-free subtrees
            touched = [False] * n_c
            parent_of = self.tree.parent
            for v in lam:
                c = self.home[v]
                while c >= 0 and not touched[c]:
                    touched[c] = True
                    c = parent_of[c]
            skip = [u and not t for u, t in zip(self.unit_up, touched, strict=True)]
        zero = np.zeros(batch)
        up_log: list[np.ndarray] = [zero] * n_c
        children, parent, phi = self.tree.children, self.tree.parent, self.phi
        up_axes, up_view = self.up_axes, self.up_view
        root_log = zero
        for c in range(n_c - 1, -1, -1):
            if skip[c]:
                tables[c] = phi[c]
                up[c] = _UNIT
                continue
            table = phi[c]
            owned = False
            logs = zero
            factors = lams[c]
            kids = children[c]
            if kids:
                factors = factors + [up[d].reshape(up_view[d]) for d in kids if up[d] is not _UNIT]
                if scaled:
                    for d in kids:
                        logs = logs + up_log[d]
            for i, f in enumerate(factors):
                if owned and table.shape[0] >= f.shape[0]:
                    table *= f
                else:
                    table = table * f
                    owned = True
                if scaled and (i + 1) % _RESCALE_EVERY == 0:
                    table, sc = _rescale(table)
                    logs = logs + sc
            tables[c] = table
            if parent[c] >= 0:
                axes = up_axes[c]
                if axes:
                    msg = _max(table, axis=axes) if maximise else _add(table, axis=axes)
                else:
                    msg = table
                if scaled:
                    if msg.shape[0] != batch:
                        msg = np.broadcast_to(msg, (batch, *msg.shape[1:]))
                    msg, sc = _rescale(msg)
                    up_log[c] = logs + sc
                up[c] = msg
            else:
                flat = table.reshape(table.shape[0], -1)
                total = flat.max(axis=1) if maximise else flat.sum(axis=1)
                with np.errstate(divide="ignore"):
                    root_log = np.broadcast_to(np.log(total) + logs, (batch,))
        return tables, up, up_log, root_log

    def _down(self, tables: list[np.ndarray], up: list[np.ndarray], c: int) -> np.ndarray:
        """Calibrated table of clique ``c`` from its parent's calibrated table (Hugin).

        Where the child's message is 0 the child's table is 0 too, so the quotient's
        value there does not matter; adding 1e-300 keeps it finite.
        """
        axes = self.down_axes[c]
        parent = tables[self.tree.parent[c]]
        msg = _add(parent, axis=axes) if axes else parent.copy()
        if up[c] is not _UNIT:
            msg /= up[c] + _TINY
        out: np.ndarray = tables[c] * msg.reshape(self.down_view[c])
        return out

    def distribute(self, tables: list[np.ndarray], up: list[np.ndarray]) -> list[np.ndarray]:
        """Downward pass: every clique's table becomes proportional to P(clique, e)."""
        out = list(tables)
        parent, down_axes, down_view = self.tree.parent, self.down_axes, self.down_view
        for c in range(1, self.n_cliques):
            axes = down_axes[c]
            msg = _add(out[parent[c]], axis=axes) if axes else out[parent[c]].copy()
            if up[c] is not _UNIT:
                msg /= up[c] + _TINY
            out[c] = out[c] * msg.reshape(down_view[c])
        return out

    def node_marginal(self, tables: list[np.ndarray], v: int) -> np.ndarray:
        """Unnormalised marginal of node ``v`` (batch, card) from calibrated tables."""
        t = tables[self.home[v]]
        axes = self.marg_axes[v]
        m = _add(t, axis=axes) if axes else t
        return np.asarray(m.reshape(m.shape[0], -1))

    def _marginal_plan(self) -> None:
        """For small networks, every node's marginal as one gather and one segment sum.

        With tables of a few hundred entries a reduction per node costs far more in
        call overhead than in arithmetic. Instead the home-clique tables are
        concatenated, the entries of every (node, state) pair are gathered next to each
        other (``_marg_gather``) and ``np.add.reduceat`` sums each run
        (``_marg_starts``). Used while the gathered entries stay below
        ``_MARGINAL_GATHER_MAX``; larger networks reduce node by node.
        """
        self._marg_cliques: tuple[int, ...] = tuple(sorted(set(self.home)))
        self._marg_gather: np.ndarray | None = None
        sizes = [math.prod(self.shapes[c]) for c in self._marg_cliques]
        if sum(math.prod(self.shapes[c]) for c in self.home) > _MARGINAL_GATHER_MAX:
            return
        start = dict(zip(self._marg_cliques, np.cumsum([0, *sizes[:-1]]).tolist(), strict=True))
        gather: list[np.ndarray] = []
        starts: list[int] = []
        filled = 0
        for v, c in enumerate(self.home):
            states = np.indices(self.shapes[c])[self.tree.cliques[c].index(v)].ravel()
            for k in range(self.cards[v]):
                entries = start[c] + np.flatnonzero(states == k)
                starts.append(filled)
                gather.append(entries)
                filled += entries.size
        self._marg_gather = np.concatenate(gather).astype(np.intp)
        self._marg_starts = np.array(starts, dtype=np.intp)

    def all_marginals(self, tables: list[np.ndarray]) -> list[np.ndarray]:
        """Normalised marginal of every node, each ``(batch, card)``, from calibrated tables."""
        if self._marg_gather is not None:
            parts = [tables[c].reshape(tables[c].shape[0], -1) for c in self._marg_cliques]
        else:
            parts = [self.node_marginal(tables, v) for v in range(len(self.cards))]
        batch = max(p.shape[0] for p in parts)
        if any(p.shape[0] != batch for p in parts):
            parts = [np.broadcast_to(p, (batch, p.shape[1])) for p in parts]
        flat = np.concatenate(parts, axis=1)
        if self._marg_gather is not None:
            flat = np.add.reduceat(flat[:, self._marg_gather], self._marg_starts, axis=1)
        sums = np.add.reduceat(flat, self._offsets, axis=1)
        flat /= np.repeat(sums, self.cards, axis=1)
        return [flat[:, o : o + k] for o, k in zip(self._offsets.tolist(), self.cards, strict=True)]

    def target_marginal(self, tables: list[np.ndarray], up: list[np.ndarray], v: int) -> np.ndarray:
        """Unnormalised marginal of ``v`` calibrating only the root-to-home path."""
        local = list(tables)
        for c in self.paths[self.home[v]][1:]:
            local[c] = self._down(local, up, c)
        return self.node_marginal(local, v)

    # ------------------------------------------------------------------ MPE
    def mpe(self, lam: dict[int, np.ndarray]) -> tuple[np.ndarray, float]:
        """Most probable joint state of all nodes and ``log max_x P(x, e)``."""
        tables, _, _, root_log = self.collect(lam, 1, maximise=True)
        assignment = np.full(len(self.cards), -1, dtype=np.int64)
        cliques = self.tree.cliques
        for c in range(self.n_cliques):
            table = tables[c][0]
            index: list[int | slice] = []
            for v in cliques[c]:
                index.append(int(assignment[v]) if assignment[v] >= 0 else slice(None))
            sub = table[tuple(index)]
            free = [v for v in cliques[c] if assignment[v] < 0]
            if free:
                flat = int(np.argmax(sub))
                for v, s in zip(free, np.unravel_index(flat, sub.shape), strict=True):
                    assignment[v] = int(s)
        return assignment, float(root_log[0])

    # ------------------------------------------------------------------ derivatives
    def gradients(
        self,
        lam: dict[int, np.ndarray],
        batch: int,
        *,
        ref_log: np.ndarray | None = None,
        keep: int | None = None,
    ) -> tuple[list[np.ndarray], np.ndarray]:
        """``dP(e)/d theta / exp(ref_log)`` for every table, and ``log P(e)`` per batch row.

        ``ref_log`` defaults to each row's own ``log P(e)`` (then a row of probability
        zero raises :class:`ZeroProbabilityError`).

        With ``keep = T`` (a node of the root clique) the rows are the states of ``T``
        (``batch`` must be its state count and ``lam`` must not clamp it): row ``t`` holds
        ``dP(e, T = t)/d theta`` and the returned logs are ``log P(e, T = t)``. In the
        cliques that hold ``T`` its axis is simply not summed, so one unbatched pass
        serves every state; only the subtrees without ``T`` carry a batch of messages.

        Returns one array per node of shape ``(batch, *parents, node)``. A Shafer-Shenoy
        distribute pass (products of all-but-one messages, no division) keeps the
        derivatives exact where parameters or messages are zero.
        """
        if keep is not None and keep not in self.tree.cliques[0]:
            raise ValueError("keep= needs a node held by the root clique")
        _, up, up_log, log_pe = self.collect(lam, 1 if keep is not None else batch, scaled=True)
        if ref_log is None:
            bad = ~np.isfinite(log_pe)
            if bad.any():
                raise ZeroProbabilityError(np.flatnonzero(bad))
            ref = log_pe
        else:
            ref = np.asarray(ref_log, dtype=float).reshape(-1)
        lams = self._lambdas(lam)
        n_c = self.n_cliques
        children, cliques = self.tree.children, self.tree.cliques
        has_t = [keep is not None and keep in members for members in cliques]
        down: list[np.ndarray | None] = [None] * n_c
        down_log: list[np.ndarray] = [np.zeros(1)] * n_c
        grads: list[np.ndarray] = [np.empty(0)] * len(self.cards)
        row_log = log_pe
        for c in range(n_c):
            parts = list(lams[c])
            logs = np.zeros(1)
            if down[c] is not None:
                parts.append(down[c].reshape(self.down_view[c]))  # type: ignore[union-attr]
                logs = logs + down_log[c]
            kids = children[c]
            msgs = [up[d].reshape(self.up_view[d]) for d in kids]
            # incoming product without the factors: lambda, down, every child message
            base, base_log = self._multiply(np.ones((1,) * (len(self.shapes[c]) + 1)), parts, logs)
            full, full_log = self._multiply(base, msgs, base_log + sum_logs(up_log, kids, 1))
            t_axis = cliques[c].index(keep) + 1 if has_t[c] else -1
            if keep is not None and c == self.home[keep]:  # P(e, T = t) for every t
                whole = np.broadcast_to(self.phi[c] * full, (1, *self.shapes[c]))
                other = tuple(i for i in range(1, whole.ndim) if i != t_axis)
                with np.errstate(divide="ignore"):
                    row_log = np.log(_add(whole, axis=other)[0] if other else whole[0]) + full_log
            for v in self.factors_at[c]:
                others = [self.expanded[u] for u in self.factors_at[c] if u != v]
                table, t_log = self._multiply(full, others, full_log)
                table = np.broadcast_to(table, (table.shape[0], *self.shapes[c]))
                axes = self.family_axes[v]
                if has_t[c]:
                    axes = tuple(i for i in axes if i != t_axis)
                g = _add(table, axis=axes) if axes else table
                g = g * np.exp(t_log - ref).reshape((-1,) + (1,) * (g.ndim - 1))
                if has_t[c]:
                    g = self._rows_of_kept(g, v, keep)  # type: ignore[arg-type]
                g = np.broadcast_to(g, (batch, *g.shape[1:]))
                grads[v] = np.transpose(g, (0, *(1 + i for i in self.family_perm[v])))
            if not kids:
                continue
            # Shafer-Shenoy messages to the children: prefix/suffix products
            with_phi, wp_log = self._multiply(self.phi[c], [base], base_log)
            prefix = [with_phi]
            prefix_log = [wp_log]
            for m, d in zip(msgs[:-1], kids[:-1], strict=True):
                t, lg = self._multiply(prefix[-1], [m], prefix_log[-1] + up_log[d])
                prefix.append(t)
                prefix_log.append(lg)
            suffix: np.ndarray | None = None
            suffix_log = np.zeros(1)
            for k in range(len(kids) - 1, -1, -1):
                d = kids[k]
                if suffix is None:
                    t, lg = prefix[k], prefix_log[k]
                else:
                    t, lg = self._multiply(prefix[k], [suffix], prefix_log[k] + suffix_log)
                t = np.broadcast_to(t, (t.shape[0], *self.shapes[c]))
                axes = self.down_axes[d]
                if has_t[c] and not has_t[d]:  # T leaves here: its states become the rows
                    axes = tuple(i for i in axes if i != t_axis)
                    msg = _add(t, axis=axes) if axes else t
                    pos = [
                        u
                        for u in cliques[c]
                        if u not in set(cliques[c]) - {*self.tree.separator[d], keep}
                    ]
                    msg = np.moveaxis(msg[0], pos.index(keep), 0)  # type: ignore[arg-type]
                    lg = np.broadcast_to(lg, (batch,))
                else:
                    msg = _add(t, axis=axes) if axes else t
                msg, s = _rescale(msg)
                down[d] = msg
                down_log[d] = lg + s
                if k > 0:
                    suffix = msgs[k] if suffix is None else suffix * msgs[k]
                    suffix, s2 = _rescale(suffix)
                    suffix_log = suffix_log + up_log[d] + s2
        return grads, row_log

    def _rows_of_kept(self, g: np.ndarray, v: int, keep: int) -> np.ndarray:
        """A derivative table with ``keep``'s axis left in, as one row per state of ``keep``.

        ``g`` has a leading axis of 1 and one axis per variable of ``family(v) | {keep}``
        (sorted). If ``keep`` is in the family, row ``t`` is ``g`` with every entry whose
        ``keep`` value differs from ``t`` set to 0; otherwise the ``keep`` axis moves first.
        """
        family = {*self.parents[v], v}
        kept = sorted(family | {keep})
        axis = kept.index(keep) + 1
        n_t = self.cards[keep]
        if keep in family:
            shape = [n_t] + [1] * (g.ndim - 1)
            shape[axis] = n_t
            return np.asarray(g * np.eye(n_t).reshape(shape))
        return np.moveaxis(g[0], axis - 1, 0)


def sum_logs(logs: Sequence[np.ndarray], members: Sequence[int], batch: int) -> np.ndarray:
    """Sum of the per-row log scales of the listed messages."""
    total = np.zeros(batch)
    for d in members:
        total = total + logs[d]
    return total
