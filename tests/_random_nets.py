"""Random small Bayesian networks (hypothesis strategies) and brute-force inference."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st


@dataclass(frozen=True)
class RandomNode:
    name: str
    states: tuple[str, ...]
    parents: tuple[str, ...]
    cpt: np.ndarray


@st.composite
def random_networks(draw: st.DrawFn, max_nodes: int = 6) -> list[RandomNode]:
    """A random DAG (topological order = list order), 2-5 states, random tables."""
    n = draw(st.integers(2, max_nodes))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    nodes: list[RandomNode] = []
    for i in range(n):
        card = draw(st.integers(2, 4 if n > 4 else 5))
        candidates = list(range(i))
        k = draw(st.integers(0, min(2, len(candidates))))
        parents = (
            tuple(f"v{j}" for j in sorted(rng.choice(candidates, size=k, replace=False)))
            if k
            else ()
        )
        n_configs = int(np.prod([len(nodes[int(p[1:])].states) for p in parents])) if parents else 1
        alpha = draw(st.sampled_from([0.3, 1.0, 5.0]))
        cpt = rng.dirichlet(np.full(card, alpha), size=n_configs)
        if draw(st.booleans()):  # sprinkle exact zeros (renormalised rows)
            mask = rng.random(cpt.shape) < 0.15
            mask[np.arange(n_configs), rng.integers(0, card, n_configs)] = False
            cpt = np.where(mask, 0.0, cpt)
            cpt = cpt / cpt.sum(axis=1, keepdims=True)
        nodes.append(RandomNode(f"v{i}", tuple(f"s{j}" for j in range(card)), parents, cpt))
    return nodes


def brute_force(
    nodes: list[RandomNode], evidence: dict[str, int], target: str
) -> np.ndarray | None:
    """P(target | evidence) by enumerating the joint; None if P(evidence) = 0."""
    names = [n.name for n in nodes]
    index = {n: i for i, n in enumerate(names)}
    cards = [len(n.states) for n in nodes]
    t = index[target]
    out = np.zeros(cards[t])
    for assignment in itertools.product(*(range(c) for c in cards)):
        if any(assignment[index[k]] != v for k, v in evidence.items()):
            continue
        p = 1.0
        for node in nodes:
            config = 0
            for parent in node.parents:
                j = index[parent]
                config = config * cards[j] + assignment[j]
            p *= node.cpt[config, assignment[index[node.name]]]
        out[assignment[t]] += p
    total = out.sum()
    return None if total == 0 else out / total
