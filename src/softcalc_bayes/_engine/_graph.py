"""Triangulation and junction-tree construction (pure Python, no numerics).

The moral graph of the network is triangulated by greedy elimination. Two classic
heuristics are run, *min-fill* (fewest fill-in edges, ties broken by the smallest
clique table) and *min-weight* (smallest clique table), and the order whose cliques
hold fewer table entries in total is kept. The elimination cliques are linked into a
tree (each clique to the clique of its first-eliminated neighbour), non-maximal
cliques are absorbed into a neighbour that contains them, and the components of a
disconnected network are joined by empty separators, so one rooted tree always
results.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["JunctionTree", "build_junction_tree", "elimination_order", "moral_graph"]


def moral_graph(parents: Sequence[Sequence[int]]) -> list[set[int]]:
    """Adjacency sets of the moral graph (families married, directions dropped)."""
    adj: list[set[int]] = [set() for _ in parents]
    for v, pa in enumerate(parents):
        family = [*pa, v]
        for i, a in enumerate(family):
            for b in family[i + 1 :]:
                if a != b:
                    adj[a].add(b)
                    adj[b].add(a)
    return adj


def _fill(adj: list[set[int]], v: int) -> int:
    nbrs = list(adj[v])
    missing = 0
    for i, a in enumerate(nbrs):
        row = adj[a]
        for b in nbrs[i + 1 :]:
            if b not in row:
                missing += 1
    return missing


def elimination_order(
    adj: Sequence[set[int]], log_cards: Sequence[float], *, heuristic: str = "min_fill"
) -> tuple[list[int], list[frozenset[int]]]:
    """Greedy elimination order and the clique created at each step.

    ``heuristic`` is ``"min_fill"`` (fill-in, then clique weight) or ``"min_weight"``.
    """
    work = [set(a) for a in adj]
    alive = set(range(len(work)))

    def weight(v: int) -> float:
        return log_cards[v] + sum(log_cards[u] for u in work[v])

    score: dict[int, tuple[float, float]] = {}

    def rescore(v: int) -> None:
        w = weight(v)
        score[v] = (_fill(work, v), w) if heuristic == "min_fill" else (w, 0.0)

    for v in alive:
        rescore(v)
    order: list[int] = []
    cliques: list[frozenset[int]] = []
    while alive:
        v = min(alive, key=lambda u: (score[u], u))
        nbrs = work[v]
        cliques.append(frozenset((v, *nbrs)))
        order.append(v)
        touched = set(nbrs)
        for a in nbrs:
            work[a].discard(v)
            new = nbrs - work[a] - {a}
            if new:
                work[a] |= new
                for b in new:
                    touched |= work[b]
        alive.discard(v)
        work[v] = set()
        for u in touched:
            if u in alive:
                rescore(u)
        score.pop(v, None)
    return order, cliques


@dataclass(frozen=True)
class JunctionTree:
    """A rooted junction tree: ``cliques[0]`` is the root.

    ``parent[c]`` is the parent clique (-1 for the root); cliques are listed so that
    every parent comes before its children (``cliques`` order is a pre-order);
    ``separator[c]`` is ``cliques[c] & cliques[parent[c]]``.
    """

    cliques: tuple[tuple[int, ...], ...]
    parent: tuple[int, ...]
    separator: tuple[tuple[int, ...], ...]
    children: tuple[tuple[int, ...], ...]

    def table_size(self, cards: Sequence[int]) -> int:
        """Entries of all clique tables together."""
        return sum(math.prod(cards[v] for v in c) for c in self.cliques)


def _tree_from_elimination(
    order: Sequence[int], cliques: Sequence[frozenset[int]]
) -> tuple[list[frozenset[int]], list[set[int]]]:
    position = {v: i for i, v in enumerate(order)}
    n = len(order)
    nbrs: list[set[int]] = [set() for _ in range(n)]
    for i, v in enumerate(order):
        rest = [u for u in cliques[i] if u != v]
        if rest:
            j = min(position[u] for u in rest)
            nbrs[i].add(j)
            nbrs[j].add(i)
    members = list(cliques)
    alive = [True] * n
    changed = True
    while changed:  # absorb every non-maximal clique into a neighbour that contains it
        changed = False
        for i in range(n):
            if not alive[i]:
                continue
            host = next((j for j in nbrs[i] if members[i] <= members[j]), None)
            if host is None:
                continue
            for k in nbrs[i]:
                nbrs[k].discard(i)
                if k != host:
                    nbrs[k].add(host)
                    nbrs[host].add(k)
            nbrs[i] = set()
            alive[i] = False
            changed = True
    keep = [i for i in range(n) if alive[i]]
    renumber = {old: new for new, old in enumerate(keep)}
    return [members[i] for i in keep], [{renumber[j] for j in nbrs[i]} for i in keep]


def build_junction_tree(
    parents: Sequence[Sequence[int]], cards: Sequence[int], *, root_var: int | None = None
) -> JunctionTree:
    """Junction tree of a Bayesian network given parent lists and state counts.

    The root is the smallest clique holding ``root_var`` (if given).
    """
    adj = moral_graph(parents)
    log_cards = [math.log(max(c, 1)) for c in cards]
    best: tuple[list[frozenset[int]], list[set[int]]] | None = None
    best_size = math.inf
    for heuristic in ("min_fill", "min_weight"):
        order, elim = elimination_order(adj, log_cards, heuristic=heuristic)
        cl, nb = _tree_from_elimination(order, elim)
        size = sum(math.prod(cards[v] for v in c) for c in cl)
        if size < best_size:
            best, best_size = (cl, nb), size
    assert best is not None
    members, nbrs = best
    # join components with empty separators: link every component to the first one
    seen: set[int] = set()
    comps: list[int] = []
    for start in range(len(members)):
        if start in seen:
            continue
        comps.append(start)
        stack = [start]
        seen.add(start)
        while stack:
            c = stack.pop()
            for d in nbrs[c]:
                if d not in seen:
                    seen.add(d)
                    stack.append(d)
    root = 0
    if root_var is not None:
        holding = [c for c, m in enumerate(members) if root_var in m]
        root = min(holding, key=lambda c: (math.prod(cards[v] for v in members[c]), c))
    for c in comps:
        if c != root and not _connected(nbrs, c, root):
            nbrs[c].add(root)
            nbrs[root].add(c)
    # root the tree: pre-order numbering from the root
    visit: list[int] = []
    parent_old: dict[int, int] = {root: -1}
    stack = [root]
    while stack:
        c = stack.pop()
        visit.append(c)
        for d in sorted(nbrs[c], reverse=True):
            if d not in parent_old:
                parent_old[d] = c
                stack.append(d)
    new = {old: i for i, old in enumerate(visit)}
    cliques = tuple(tuple(sorted(members[old])) for old in visit)
    parent = tuple(-1 if parent_old[old] < 0 else new[parent_old[old]] for old in visit)
    separator = tuple(
        () if p < 0 else tuple(sorted(set(cliques[c]) & set(cliques[p])))
        for c, p in enumerate(parent)
    )
    children_l: list[list[int]] = [[] for _ in cliques]
    for c, p in enumerate(parent):
        if p >= 0:
            children_l[p].append(c)
    return JunctionTree(cliques, parent, separator, tuple(tuple(ch) for ch in children_l))


def _connected(nbrs: Sequence[set[int]], a: int, b: int) -> bool:
    seen = {a}
    stack = [a]
    while stack:
        c = stack.pop()
        if c == b:
            return True
        for d in nbrs[c]:
            if d not in seen:
                seen.add(d)
                stack.append(d)
    return False
