"""Real networks nobody here wrote: the bnlearn repository networks shipped with pgmpy.

All marginals agree with pgmpy's variable elimination under random evidence, and the
MPE with pgmpy's ``map_query``. The larger networks (hepar2 ... pigs, link, munin1) are
compiled and timed in ``benchmarks/bench_engine.py``; the suite keeps to the small ones
so that it stays fast.
"""

from __future__ import annotations

import warnings
from functools import cache
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


@pytest.mark.parametrize("name", ["asia", "cancer", "sachs"])
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

    def log_joint(states: dict[str, str]) -> float:
        total = 0.0
        index = {n.name: n for n in nodes}
        for node in nodes:
            config = 0
            for parent in node.parents:
                config = config * len(index[parent].states) + index[parent].states.index(
                    states[parent]
                )
            total += float(np.log(node.cpt[config, node.states.index(states[node.name])]))
        return total

    # ties are possible: compare the probability of the two explanations, not the labels
    assert log_joint(ours) == pytest.approx(log_joint({**named, **ref}), abs=1e-9)
    assert np.exp(log_joint(ours) - engine.log_evidence(evidence)) == pytest.approx(
        probability, rel=1e-9
    )
