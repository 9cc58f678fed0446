"""Real networks nobody here wrote: the bnlearn repository networks shipped with pgmpy.

All marginals agree with pgmpy's variable elimination under random hard evidence (and
hard plus soft evidence on the larger networks, read with our own ``from_bif``), and the
MPE with pgmpy's ``map_query``. Covered: asia, cancer, earthquake, survey, sachs, alarm,
child, insurance, hailfinder, water, mildew, hepar2, win95pts, pathfinder, andes and pigs.
Not covered here: barley, link and munin1, where pgmpy's elimination (and our
compilation of munin1) is too slow for the suite; they are compared with pgmpy, under
hard and soft evidence, in ``benchmarks/bench_large_bnlearn.py``, and compiled (the
others timed against pyAgrum) in ``benchmarks/bench_engine.py``.
"""

from __future__ import annotations

import warnings
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from _random_nets import RandomNode, from_pgmpy_model
from softcalc_bayes._engine import Engine, ZeroProbabilityError

NETWORKS = [("asia", 2), ("cancer", 2), ("sachs", 2), ("alarm", 1), ("child", 1), ("insurance", 1)]


@cache
def load(name: str) -> tuple[Any, list[RandomNode]]:
    from pgmpy.utils import get_example_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = get_example_model(name)
    return model, from_pgmpy_model(model)


def _evidence(nodes: list[RandomNode], rng: np.random.Generator, k: int) -> dict[str, int]:
    picked = rng.choice(len(nodes), size=min(k, len(nodes) - 1), replace=False)
    return {nodes[i].name: int(rng.integers(len(nodes[i].states))) for i in picked}


@pytest.mark.parametrize(("name", "n_sets"), NETWORKS)
def test_all_marginals_agree_with_pgmpy(name: str, n_sets: int) -> None:
    from pgmpy.inference import VariableElimination

    model, nodes = load(name)
    engine = Engine(nodes, target=nodes[0].name)
    infer = VariableElimination(model)
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(6):
        evidence = _evidence(nodes, rng, 4)
        try:
            marginals, _ = engine.marginals(evidence)
        except ZeroProbabilityError:
            continue
        named = {n: nodes[[x.name for x in nodes].index(n)].states[s] for n, s in evidence.items()}
        for i in sorted(rng.choice(len(nodes), size=min(12, len(nodes)), replace=False)):
            node = nodes[i]
            if node.name in evidence:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                factor = infer.query([node.name], evidence=named, show_progress=False)
            ref = dict(zip(factor.state_names[node.name], factor.values, strict=True))
            np.testing.assert_allclose(
                marginals[i], [ref[s] for s in node.states], atol=1e-9, err_msg=node.name
            )
        checked += 1
        if checked == n_sets:
            break
    assert checked >= 1


def _log_joint(nodes: list[RandomNode], states: dict[str, str]) -> float:
    """log P(x) of a full assignment, from the conditional tables."""
    total = 0.0
    index = {n.name: n for n in nodes}
    for node in nodes:
        config = 0
        for parent in node.parents:
            config = config * len(index[parent].states) + index[parent].states.index(states[parent])
        total += float(np.log(node.cpt[config, node.states.index(states[node.name])]))
    return total


# pgmpy answers these. On alarm, insurance, water, hailfinder, hepar2 and win95pts its
# map_query (VariableElimination or BeliefPropagation) and max_marginal stop with a
# MemoryError (29 GiB to 1.3 PiB asked), and pyAgrum 3.3's LazyPropagation.mpe raised
# "Empty tensor" for every evidence set tried there; on those networks the MPE is checked
# by the property tests of test_engine.py (brute force on random networks) only.
@pytest.mark.parametrize("name", ["asia", "cancer", "sachs", "earthquake", "survey", "child"])
def test_mpe_agrees_with_pgmpy_map_query(name: str) -> None:
    from pgmpy.inference import VariableElimination

    model, nodes = load(name)
    engine = Engine(nodes, target=nodes[0].name)
    rng = np.random.default_rng(1)
    evidence = _evidence(nodes, rng, 3)
    named = {n: nodes[[x.name for x in nodes].index(n)].states[s] for n, s in evidence.items()}
    assignment, probability = engine.mpe(evidence)
    ours = {nodes[i].name: nodes[i].states[int(s)] for i, s in enumerate(assignment)}
    free = [n.name for n in nodes if n.name not in evidence]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = VariableElimination(model).map_query(free, evidence=named, show_progress=False)

    # ties are possible: compare the probability of the two explanations, not the labels
    assert _log_joint(nodes, ours) == pytest.approx(_log_joint(nodes, {**named, **ref}), abs=1e-9)
    assert np.exp(_log_joint(nodes, ours) - engine.log_evidence(evidence)) == pytest.approx(
        probability, rel=1e-9
    )


LARGER = [
    "earthquake",
    "survey",
    "hailfinder",
    "water",
    "mildew",
    "hepar2",
    "win95pts",
    "pathfinder",
    "andes",
    "pigs",
]


@pytest.mark.parametrize("name", LARGER)
def test_larger_networks_agree_with_pgmpy_under_hard_and_soft_evidence(name: str) -> None:
    """Read with ``from_bif``; eight random nodes against pgmpy VE, hard and soft evidence."""
    import pgmpy

    import softcalc_bayes as sb

    path = Path(pgmpy.__file__).parent / "utils" / "example_models" / f"{name}.bif.gz"
    net = sb.from_bif(path)
    rng = np.random.default_rng(7)
    nodes = list(net.nodes)
    for _ in range(20):
        picked = [str(n) for n in rng.choice(nodes, size=min(6, len(nodes) - 1), replace=False)]
        hard = {n: str(rng.choice(net.states(n))) for n in picked[:4]}
        soft = {
            n: {
                s: float(w)
                for s, w in zip(
                    net.states(n), rng.uniform(0.2, 1.0, len(net.states(n))), strict=True
                )
            }
            for n in picked[4:]
        }
        if net.target in hard or net.target in soft:
            continue
        if np.isfinite(net.log_evidence(hard, soft=soft)):
            break
    else:
        pytest.fail("no possible evidence drawn")
    marginals = net.marginals(hard, soft=soft)
    free = [n for n in nodes if n not in hard and n not in soft]
    for node in rng.choice(free, size=min(8, len(free)), replace=False):
        node = str(node)
        ref = net.posterior(hard, target=node, soft=soft, engine="pgmpy")
        np.testing.assert_allclose(
            marginals[node].reindex(ref.index).to_numpy(), ref.to_numpy(), atol=1e-9, err_msg=node
        )
