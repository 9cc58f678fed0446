"""The compiled engine agrees with pgmpy and with brute-force enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from _random_nets import RandomNode, brute_force, random_networks
from softcalc_bayes import CompiledEngine, EngineError, EvidenceError, Network
from softcalc_bayes.build import pgmpy_model_from_nodes
from softcalc_bayes.engine import ZeroProbabilityError

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def default_evidence(draw: st.DrawFn, net: Network, k: int = 8) -> dict[str, str]:
    names = draw(st.lists(st.sampled_from(net.findings), min_size=0, max_size=k, unique=True))
    return {n: draw(st.sampled_from(net.states(n))) for n in names}


def _possible(net: Network, evidence: dict[str, str]) -> bool:
    return bool(np.isfinite(net.engine.log_evidence(net.encode(evidence))))


@given(data=st.data())
@SETTINGS
def test_default_network_agrees_with_pgmpy(net: Network, data: st.DataObject) -> None:
    evidence = data.draw(default_evidence(net))
    if not _possible(net, evidence):
        with pytest.raises(EvidenceError, match="probability zero"):
            net.posterior(evidence)
        return
    target = data.draw(st.sampled_from(["diagnosis", *[n for n in net.nodes if n not in evidence]]))
    ours = net.posterior(evidence, target=target)
    ref = net.posterior(evidence, target=target, engine="pgmpy")
    np.testing.assert_allclose(ours.to_numpy(), ref.reindex(ours.index).to_numpy(), atol=1e-9)
    assert ours.sum() == pytest.approx(1.0, abs=1e-12)


@given(data=st.data())
@SETTINGS
def test_evidence_order_does_not_matter(net: Network, data: st.DataObject) -> None:
    evidence = data.draw(default_evidence(net))
    assume(_possible(net, evidence))
    items = list(evidence.items())
    shuffled = dict(data.draw(st.permutations(items)))
    a, b = net.posterior(evidence), net.posterior(shuffled)
    np.testing.assert_allclose(a.to_numpy(), b.reindex(a.index).to_numpy(), atol=1e-12)


def test_every_finding_observed_is_finite(net: Network) -> None:
    """All findings observed at once: the log-space engine neither underflows nor NaNs."""
    rng = np.random.default_rng(0)
    done = 0
    for _ in range(200):
        evidence = {f: str(rng.choice(net.states(f))) for f in net.findings}
        if not _possible(net, evidence):
            continue
        post = net.posterior(evidence)
        assert np.isfinite(post.to_numpy()).all()
        assert post.sum() == pytest.approx(1.0, abs=1e-12)
        done += 1
    assert done > 0


def test_batch_equals_loop(net: Network) -> None:
    rng = np.random.default_rng(1)
    rows = []
    while len(rows) < 40:
        names = rng.choice(net.findings, size=6, replace=False)
        evidence = {str(n): str(rng.choice(net.states(str(n)))) for n in names}
        if _possible(net, evidence):
            rows.append(evidence)
    frame = pd.DataFrame(rows, index=[f"case{i}" for i in range(len(rows))])
    for target in ("diagnosis", "mineral_metabolism", "serum_pth"):
        sub = frame.drop(columns=[target], errors="ignore")
        batch = net.posterior_batch(sub, target=target)
        assert list(batch.index) == list(frame.index)
        for case_id, row in sub.iterrows():
            single = net.posterior(row.dropna().to_dict(), target=target)
            np.testing.assert_allclose(
                batch.loc[case_id].to_numpy(), single.reindex(batch.columns).to_numpy(), atol=1e-12
            )


def test_batch_errors_name_row_and_column(net: Network) -> None:
    frame = pd.DataFrame({"sex": ["male", "femal"], "pain": [None, "painful"]}, index=["a", "b"])
    with pytest.raises(
        EvidenceError,
        match=r"Row 'b', column 'sex': Unknown state 'femal'\. Did you mean 'female'\?",
    ):
        net.posterior_batch(frame)
    with pytest.raises(EvidenceError, match=r"Unknown finding 'gender'"):
        net.posterior_batch(pd.DataFrame({"gender": ["male"]}))


def _evidence_strategy(nodes: list[RandomNode], target: str) -> st.SearchStrategy[dict[str, int]]:
    others = [n for n in nodes if n.name != target]
    return st.fixed_dictionaries(
        {}, optional={n.name: st.integers(0, len(n.states) - 1) for n in others}
    )


@given(data=st.data(), nodes=random_networks())
@settings(max_examples=150, deadline=None)
def test_random_networks_agree_with_brute_force_and_pgmpy(
    data: st.DataObject, nodes: list[RandomNode]
) -> None:
    names = [n.name for n in nodes]
    pivot = data.draw(st.sampled_from([None, *names]))
    engine = CompiledEngine(nodes, pivot=pivot)
    target = data.draw(st.sampled_from(names))
    evidence = data.draw(_evidence_strategy(nodes, target))
    expected = brute_force(nodes, evidence, target)
    if expected is None:
        with pytest.raises(ZeroProbabilityError):
            engine.posterior(evidence, target)
        return
    ours = engine.posterior(evidence, target)
    np.testing.assert_allclose(ours, expected, atol=1e-9)
    assert ours.sum() == pytest.approx(1.0, abs=1e-12)
    from pgmpy.inference import VariableElimination

    model = pgmpy_model_from_nodes(nodes)
    named = {k: nodes[names.index(k)].states[v] for k, v in evidence.items()}
    factor = VariableElimination(model).query([target], evidence=named or None, show_progress=False)
    ref = dict(zip(factor.state_names[target], factor.values, strict=True))
    states = nodes[names.index(target)].states
    np.testing.assert_allclose(ours, [ref[s] for s in states], atol=1e-9)


@given(data=st.data(), nodes=random_networks(max_nodes=5))
@settings(max_examples=60, deadline=None)
def test_random_batch_equals_single(data: st.DataObject, nodes: list[RandomNode]) -> None:
    engine = CompiledEngine(nodes)
    target = data.draw(st.sampled_from([n.name for n in nodes]))
    cases = data.draw(st.lists(_evidence_strategy(nodes, target), min_size=1, max_size=6))
    possible = [c for c in cases if brute_force(nodes, c, target) is not None]
    assume(possible)
    codes = np.zeros((len(possible), len(nodes)), dtype=np.int64)
    for i, case in enumerate(possible):
        for name, state in case.items():
            codes[i, engine.index[name]] = state + 1
    batch = engine.posterior_batch(codes, target)
    for i, case in enumerate(possible):
        np.testing.assert_allclose(batch[i], engine.posterior(case, target), atol=1e-12)


def test_engine_refuses_oversized_component() -> None:
    rng = np.random.default_rng(0)
    nodes = [RandomNode("root", ("a", "b"), (), np.array([[0.5, 0.5]]))]
    previous = "root"
    for i in range(12):  # a chain: removing any node leaves a big component
        cpt = rng.dirichlet(np.ones(4), size=len(nodes[-1].states))
        nodes.append(RandomNode(f"c{i}", tuple("wxyz"), (previous,), cpt))
        previous = f"c{i}"
    with pytest.raises(EngineError, match="Use engine='pgmpy'"):
        CompiledEngine(nodes, pivot="root", max_table=10_000)


def test_all_latent_configurations_of_amplification(net: Network) -> None:
    """Three concordant 12q tests are not three independent proofs."""
    states = {
        "mdm2_fish": "amplified",
        "mdm2_cdk4_ihc": "positive",
        "ring_or_giant_marker_chromosomes": "present",
    }
    base = {"fat_in_lesion": "present"}
    odds = []
    for k in range(4):
        ev = {**base, **dict(itertools.islice(states.items(), k))}
        p = net.posterior(ev)
        odds.append(p["alt_wdlps"] / p["lipoma_fat_necrosis"])
    assert odds[1] > odds[0]
    # a third concordant test adds less than the first one did (dependence through the latent node)
    assert odds[3] / odds[2] < odds[1] / odds[0]


def test_engine_rejects_unknown_pivot() -> None:
    nodes = [RandomNode("a", ("x", "y"), (), np.array([[0.5, 0.5]]))]
    with pytest.raises(EngineError, match="Unknown pivot"):
        CompiledEngine(nodes, pivot="b")
