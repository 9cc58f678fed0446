"""Random Bayesian networks (hypothesis strategies), brute-force inference, bnlearn loading."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st


@dataclass(frozen=True)
class RandomNode:
    name: str
    states: tuple[str, ...]
    parents: tuple[str, ...]
    cpt: np.ndarray


def _tables(
    rng: np.random.Generator, card: int, n_configs: int, alpha: float, zeros: bool
) -> np.ndarray:
    cpt = rng.dirichlet(np.full(card, alpha), size=n_configs)
    if zeros:  # sprinkle exact zeros (renormalised rows, one entry kept per row)
        mask = rng.random(cpt.shape) < 0.15
        mask[np.arange(n_configs), rng.integers(0, card, n_configs)] = False
        cpt = np.where(mask, 0.0, cpt)
        cpt = cpt / cpt.sum(axis=1, keepdims=True)
    return cpt


def build(
    rng: np.random.Generator,
    cards: list[int],
    parents: list[tuple[int, ...]],
    alpha: float = 1.0,
    zeros: bool = False,
) -> list[RandomNode]:
    """Nodes ``v0, v1, ...`` with the given state counts, parent indices and random tables."""
    nodes: list[RandomNode] = []
    for i, (card, pa) in enumerate(zip(cards, parents, strict=True)):
        n_configs = int(np.prod([cards[p] for p in pa])) if pa else 1
        nodes.append(
            RandomNode(
                f"v{i}",
                tuple(f"s{j}" for j in range(card)),
                tuple(f"v{p}" for p in pa),
                _tables(rng, card, n_configs, alpha, zeros),
            )
        )
    return nodes


@st.composite
def random_networks(draw: st.DrawFn, max_nodes: int = 6) -> list[RandomNode]:
    """A random DAG (topological order = list order), 2-5 states, random tables."""
    n = draw(st.integers(2, max_nodes))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    cards: list[int] = []
    parents: list[tuple[int, ...]] = []
    for i in range(n):
        cards.append(draw(st.integers(2, 4 if n > 4 else 5)))
        k = draw(st.integers(0, min(2, i)))
        parents.append(tuple(sorted(int(p) for p in rng.choice(i, size=k, replace=False))))
    alpha = draw(st.sampled_from([0.3, 1.0, 5.0]))
    return build(rng, cards, parents, alpha, draw(st.booleans()))


@st.composite
def shaped_networks(draw: st.DrawFn) -> list[RandomNode]:
    """Chains, polytrees, loopy DAGs and latent stars (up to 12 children), 2-5 states."""
    shape = draw(st.sampled_from(["chain", "polytree", "loopy", "latent_star"]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    parents: list[tuple[int, ...]] = []
    if shape == "chain":
        n = draw(st.integers(2, 9))
        parents = [()] + [(i - 1,) for i in range(1, n)]
    elif shape == "polytree":  # each node: at most one parent in a tree, or two roots joining
        n = draw(st.integers(2, 8))
        for i in range(n):
            parents.append(() if i == 0 else (int(rng.integers(0, i)),))
    elif shape == "loopy":
        n = draw(st.integers(3, 8))
        for i in range(n):
            k = min(i, int(rng.integers(0, 4)))
            parents.append(tuple(sorted(int(p) for p in rng.choice(i, size=k, replace=False))))
    else:  # a root and a latent node, with up to 12 children of the latent
        k = draw(st.integers(1, 12))
        parents = [(), (0,)] + [(1,) if rng.random() < 0.6 else (0, 1) for _ in range(k)]
    n = len(parents)
    small = n > 7
    cards = [draw(st.integers(2, 3 if small else 5)) for _ in range(n)]
    alpha = draw(st.sampled_from([0.3, 1.0, 5.0]))
    return build(rng, cards, parents, alpha, draw(st.booleans()))


def joint_table(nodes: list[RandomNode]) -> np.ndarray:
    """The full joint distribution, one axis per node (small networks only)."""
    names = [n.name for n in nodes]
    index = {n: i for i, n in enumerate(names)}
    cards = [len(n.states) for n in nodes]
    joint = np.ones(cards)
    for i, node in enumerate(nodes):
        axes = [index[p] for p in node.parents] + [i]
        table = node.cpt.reshape([cards[a] for a in axes])
        shape = [1] * len(cards)
        order = np.argsort(axes)
        for a in axes:
            shape[a] = cards[a]
        joint = joint * np.transpose(table, order).reshape(shape)
    return joint


def brute_force(
    nodes: list[RandomNode],
    evidence: dict[str, int],
    target: str,
    soft: dict[str, np.ndarray] | None = None,
) -> np.ndarray | None:
    """P(target | evidence, soft) by enumerating the joint; None if P(evidence) = 0."""
    names = [n.name for n in nodes]
    joint = joint_table(nodes)
    for name, state in evidence.items():
        ind = np.zeros(len(nodes[names.index(name)].states))
        ind[state] = 1.0
        shape = [1] * len(nodes)
        shape[names.index(name)] = ind.size
        joint = joint * ind.reshape(shape)
    for name, vec in (soft or {}).items():
        shape = [1] * len(nodes)
        shape[names.index(name)] = len(vec)
        joint = joint * np.asarray(vec).reshape(shape)
    t = names.index(target)
    out = joint.sum(axis=tuple(a for a in range(len(nodes)) if a != t))
    total = out.sum()
    return None if total == 0 else out / total


def brute_force_mpe(
    nodes: list[RandomNode], evidence: dict[str, int], subset: list[str]
) -> tuple[float, float]:
    """(max over ``subset`` of P(subset, e), P(e)) by enumeration."""
    names = [n.name for n in nodes]
    joint = joint_table(nodes)
    for name, state in evidence.items():
        index: list[Any] = [slice(None)] * len(nodes)
        keep = np.zeros(len(nodes[names.index(name)].states), dtype=bool)
        keep[state] = True
        index[names.index(name)] = ~keep
        joint[tuple(index)] = 0.0
    rest = tuple(i for i, n in enumerate(names) if n not in subset)
    marg = joint.sum(axis=rest) if rest else joint
    return float(marg.max()), float(joint.sum())


def from_pgmpy_model(model: Any) -> list[RandomNode]:
    """Nodes of a pgmpy model, topologically ordered (for reference tests)."""
    import networkx as nx

    nodes = []
    for v in nx.topological_sort(model):
        cpd = model.get_cpds(v)
        values = np.asarray(cpd.get_values(), dtype=float)
        nodes.append(
            RandomNode(
                str(v),
                tuple(str(s) for s in cpd.state_names[v]),
                tuple(str(p) for p in cpd.variables[1:]),
                values.T.copy(),
            )
        )
    return nodes


def itertools_product(cards: list[int]) -> itertools.product[tuple[int, ...]]:
    return itertools.product(*(range(c) for c in cards))
