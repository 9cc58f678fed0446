"""The exact engine agrees with brute-force enumeration and with pgmpy, on any structure."""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from _random_nets import (
    RandomNode,
    brute_force,
    brute_force_mpe,
    build,
    joint_table,
    random_networks,
    shaped_networks,
)
from softcalc_bayes import EngineError, EvidenceError, Network
from softcalc_bayes._engine import Engine, ZeroProbabilityError
from softcalc_bayes.build import pgmpy_model_from_nodes

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def default_evidence(draw: st.DrawFn, net: Network, k: int = 8) -> dict[str, str]:
    names = draw(st.lists(st.sampled_from(net.findings), min_size=0, max_size=k, unique=True))
    return {n: draw(st.sampled_from(net.states(n))) for n in names}


def _possible(net: Network, evidence: dict[str, str]) -> bool:
    return bool(np.isfinite(net.log_evidence(evidence)))


@st.composite
def evidence_for(
    draw: st.DrawFn, nodes: list[RandomNode], soft: bool = True
) -> tuple[dict[str, int], dict[str, np.ndarray]]:
    """Random hard evidence and random soft (likelihood) evidence on other nodes."""
    hard: dict[str, int] = {}
    lik: dict[str, np.ndarray] = {}
    for node in nodes:
        kind = draw(st.sampled_from(["none", "none", "hard", "soft"] if soft else ["none", "hard"]))
        if kind == "hard":
            hard[node.name] = draw(st.integers(0, len(node.states) - 1))
        elif kind == "soft":
            values = draw(
                st.lists(
                    st.sampled_from([0.0, 0.1, 0.5, 1.0, 3.0]),
                    min_size=len(node.states),
                    max_size=len(node.states),
                )
            )
            assume(max(values) > 0)
            lik[node.name] = np.array(values) / max(values)
    return hard, lik


# ----------------------------------------------------------------- exactness
@given(nodes=shaped_networks(), data=st.data())
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_all_marginals_agree_with_brute_force(nodes: list[RandomNode], data: st.DataObject) -> None:
    hard, soft = data.draw(evidence_for(nodes))
    engine = Engine(nodes, target=data.draw(st.sampled_from([n.name for n in nodes])))
    first = brute_force(nodes, hard, nodes[0].name, soft)
    if first is None:
        with pytest.raises(ZeroProbabilityError):
            engine.marginals(hard, soft)
        return
    marginals, log_pe = engine.marginals(hard, soft)
    for i, node in enumerate(nodes):
        expected = brute_force(nodes, hard, node.name, soft)
        np.testing.assert_allclose(marginals[i], expected, atol=1e-9)
        np.testing.assert_allclose(engine.posterior(hard, node.name, soft), expected, atol=1e-9)
    joint = joint_table(nodes)
    for name, state in hard.items():
        idx = [n.name for n in nodes].index(name)
        joint = np.take(joint, [state], axis=idx)
    for name, vec in soft.items():
        idx = [n.name for n in nodes].index(name)
        shape = [1] * joint.ndim
        shape[idx] = vec.size
        joint = joint * vec.reshape(shape)
    assert log_pe == pytest.approx(math.log(joint.sum()), abs=1e-9)


@given(nodes=random_networks(max_nodes=6), data=st.data())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_marginals_agree_with_pgmpy(nodes: list[RandomNode], data: st.DataObject) -> None:
    from pgmpy.inference import VariableElimination

    hard, _ = data.draw(evidence_for(nodes, soft=False))
    assume(brute_force(nodes, hard, nodes[0].name) is not None)
    marginals, _ = Engine(nodes, target=nodes[-1].name).marginals(hard)
    model = pgmpy_model_from_nodes(nodes)
    names = [n.name for n in nodes]
    named = {k: nodes[names.index(k)].states[v] for k, v in hard.items()}
    for i, node in enumerate(nodes):
        if node.name in hard:
            continue
        factor = VariableElimination(model).query(
            [node.name], evidence=named or None, show_progress=False
        )
        ref = dict(zip(factor.state_names[node.name], factor.values, strict=True))
        np.testing.assert_allclose(marginals[i], [ref[s] for s in node.states], atol=1e-9)


@given(nodes=shaped_networks(), data=st.data())
@SETTINGS
def test_batch_equals_single_queries(nodes: list[RandomNode], data: st.DataObject) -> None:
    target = data.draw(st.sampled_from([n.name for n in nodes]))
    engine = Engine(nodes, target=nodes[0].name)
    cases = [data.draw(evidence_for(nodes, soft=False))[0] for _ in range(4)]
    cases = [c for c in cases if target not in c and brute_force(nodes, c, target) is not None]
    assume(cases)
    codes = np.zeros((len(cases), len(nodes)), dtype=np.int64)
    for i, case in enumerate(cases):
        for name, state in case.items():
            codes[i, engine.index[name]] = state + 1
    soft_vec = np.linspace(1.0, 0.2, len(nodes[-1].states))
    soft = None
    if nodes[-1].name != target and all(nodes[-1].name not in c for c in cases):
        soft = {nodes[-1].name: np.tile(soft_vec, (len(cases), 1))}
        assume(
            all(
                brute_force(nodes, c, target, {nodes[-1].name: soft_vec}) is not None for c in cases
            )
        )
    batch = engine.posterior_batch(codes, target, soft, chunk_size=3)
    for i, case in enumerate(cases):
        single_soft = None if soft is None else {nodes[-1].name: soft_vec}
        np.testing.assert_allclose(
            batch[i], engine.posterior(case, target, single_soft), atol=1e-12
        )


@given(nodes=shaped_networks(), data=st.data())
@SETTINGS
def test_derivatives_match_finite_recomputation(
    nodes: list[RandomNode], data: st.DataObject
) -> None:
    """P(e) is multilinear: adding h to one entry changes P(e, clamp=t) by h * derivative."""
    assume(len(nodes) <= 8)
    hard, soft = data.draw(evidence_for(nodes))
    engine = Engine(nodes, target=nodes[0].name)
    assume(brute_force(nodes, hard, nodes[0].name, soft) is not None)
    clamp = data.draw(st.sampled_from([None, *[n.name for n in nodes if n.name not in hard]]))
    grads, rows = engine.gradients(hard, soft, clamp=clamp)
    v = data.draw(st.integers(0, len(nodes) - 1))
    node = nodes[v]
    u = data.draw(st.integers(0, node.cpt.shape[0] - 1))
    j = data.draw(st.integers(0, node.cpt.shape[1] - 1))
    bumped = node.cpt.copy()
    bumped[u, j] += 0.5
    changed = [
        RandomNode(n.name, n.states, n.parents, bumped) if i == v else n
        for i, n in enumerate(nodes)
    ]

    def evidence_mass(net: list[RandomNode], t: int | None) -> float:
        joint = joint_table(net)
        names = [n.name for n in net]
        extra = dict(hard)
        if clamp is not None and t is not None:
            extra[clamp] = t
        for name, state in extra.items():
            ind = np.zeros(joint.shape[names.index(name)])
            ind[state] = 1.0
            shape = [1] * joint.ndim
            shape[names.index(name)] = ind.size
            joint = joint * ind.reshape(shape)
        for name, vec in soft.items():
            shape = [1] * joint.ndim
            shape[names.index(name)] = vec.size
            joint = joint * vec.reshape(shape)
        return float(joint.sum())

    pe = evidence_mass(nodes, None)
    g = grads[v].reshape(grads[v].shape[0], -1, len(node.states))
    for t in range(g.shape[0]):
        key = t if clamp is not None else None
        expected = (evidence_mass(changed, key) - evidence_mass(nodes, key)) / 0.5 / pe
        # relative: a derivative divided by a small P(e) can be large
        assert g[t, u, j] == pytest.approx(expected, rel=1e-7, abs=1e-9)
        assert rows[t] == pytest.approx(evidence_mass(nodes, key) / pe, rel=1e-9, abs=1e-12)


@given(nodes=shaped_networks(), data=st.data())
@SETTINGS
def test_mpe_and_map_agree_with_brute_force(nodes: list[RandomNode], data: st.DataObject) -> None:
    assume(len(nodes) <= 8)
    hard, _ = data.draw(evidence_for(nodes, soft=False))
    engine = Engine(nodes, target=nodes[0].name)
    names = [n.name for n in nodes]
    best, pe = brute_force_mpe(nodes, hard, names)
    if pe == 0:
        with pytest.raises(ZeroProbabilityError):
            engine.mpe(hard)
        return
    assignment, probability = engine.mpe(hard)
    assert probability == pytest.approx(best / pe, rel=1e-9)
    joint = joint_table(nodes)
    assert joint[tuple(int(s) for s in assignment)] == pytest.approx(best, rel=1e-9)
    subset = data.draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
    best_m, _ = brute_force_mpe(nodes, hard, subset)
    found, p_map = engine.map(hard, subset)
    assert p_map == pytest.approx(best_m / pe, rel=1e-9)
    assert set(found) == set(subset)


# ----------------------------------------------------------------- structures that must compile
def _naive(rng: np.random.Generator, n_root: int, n_children: int, card: int) -> list[RandomNode]:
    return build(rng, [n_root] + [card] * n_children, [()] + [(0,)] * n_children)


@pytest.mark.parametrize(
    ("label", "make"),
    [
        (
            "latent node with 12 binary children",
            lambda rng: build(rng, [3, 2] + [2] * 12, [(), (0,)] + [(1,)] * 12),
        ),
        (
            "chain of 20 findings",
            lambda rng: build(rng, [4] * 21, [()] + [(i,) for i in range(20)]),
        ),
        (
            "TAN-like: diagnosis plus a chain of 11 findings",
            lambda rng: build(rng, [5] + [3] * 11, [()] + [(0,)] + [(0, i) for i in range(1, 11)]),
        ),
        ("400 diagnoses x 300 findings", lambda rng: _naive(rng, 400, 300, 3)),
    ],
)
def test_no_engine_error(label: str, make: object) -> None:
    nodes = make(np.random.default_rng(0))  # type: ignore[operator]
    engine = Engine(nodes, target=nodes[0].name)
    evidence = {nodes[-1].name: 0, nodes[len(nodes) // 2].name: 1}
    marginals, log_pe = engine.marginals(evidence)
    assert np.isfinite(log_pe)
    for m in marginals:
        assert m.sum() == pytest.approx(1.0, abs=1e-12)
    first = brute_force(nodes[:2], {}, nodes[0].name) if len(nodes) < 0 else None
    del first, label


def test_engine_error_names_the_clique() -> None:
    rng = np.random.default_rng(0)
    # a 6-clique: every node a parent of the next ones
    nodes = build(rng, [4] * 6, [tuple(range(i)) for i in range(6)])
    with pytest.raises(EngineError, match=r"largest clique holds 4,096 table entries .* v0, v1"):
        Engine(nodes, target="v0", max_entries=1000).marginals({})


def test_every_node_observed_does_not_underflow() -> None:
    rng = np.random.default_rng(3)
    nodes = build(
        rng, [3] * 400, [()] + [(max(0, i - 2), i - 1) if i > 1 else (0,) for i in range(1, 400)]
    )
    engine = Engine(nodes, target="v0")
    marginals, _ = engine.marginals({})
    sample: dict[str, int] = {}
    for i, node in enumerate(nodes[1:], start=1):
        sample[node.name] = int(np.argmax(marginals[i]))
    post = engine.posterior(sample, "v0")
    assert np.isfinite(post).all() and post.sum() == pytest.approx(1.0)
    assert engine.log_evidence(sample) < -250  # far below the double-precision range of P(e)
    grads, _ = engine.gradients(sample, clamp="v0")
    assert all(np.isfinite(g).all() for g in grads)


# ----------------------------------------------------------------- the default network
@given(data=st.data())
@SETTINGS
def test_default_network_agrees_with_pgmpy(net: Network, data: st.DataObject) -> None:
    evidence = data.draw(default_evidence(net))
    if not _possible(net, evidence):
        with pytest.raises(EvidenceError, match="probability zero"):
            net.posterior(evidence)
        with pytest.raises(EvidenceError, match="probability zero"):
            net.posterior(evidence, engine="pgmpy")
        return
    target = data.draw(st.sampled_from(["diagnosis", *[n for n in net.nodes if n not in evidence]]))
    ours = net.posterior(evidence, target=target)
    ref = net.posterior(evidence, target=target, engine="pgmpy")
    np.testing.assert_allclose(ours.to_numpy(), ref.reindex(ours.index).to_numpy(), atol=1e-9)
    marg = net.marginals(evidence)[target]
    np.testing.assert_allclose(marg.reindex(ours.index).to_numpy(), ours.to_numpy(), atol=1e-9)


@given(data=st.data())
@SETTINGS
def test_soft_evidence_agrees_with_pgmpy(net: Network, data: st.DataObject) -> None:
    evidence = data.draw(default_evidence(net, k=4))
    node = data.draw(
        st.sampled_from([n for n in net.nodes if n not in evidence and n != "diagnosis"])
    )
    weights = data.draw(
        st.lists(
            st.floats(0.05, 5.0), min_size=len(net.states(node)), max_size=len(net.states(node))
        )
    )
    soft = {node: dict(zip(net.states(node), weights, strict=True))}
    assume(np.isfinite(net.log_evidence(evidence, soft=soft)))
    ours = net.posterior(evidence, soft=soft)
    ref = net.posterior(evidence, soft=soft, engine="pgmpy")
    np.testing.assert_allclose(ours.to_numpy(), ref.reindex(ours.index).to_numpy(), atol=1e-9)


def test_soft_evidence_of_equal_likelihoods_changes_nothing(net: Network) -> None:
    evidence = {"fat_in_lesion": "present"}
    flat = {"mdm2_cdk4_ihc": {"positive": 2.0, "negative": 2.0}}
    np.testing.assert_allclose(
        net.posterior(evidence, soft=flat).to_numpy(),
        net.posterior(evidence).to_numpy(),
        atol=1e-12,
    )


def test_soft_evidence_matches_a_virtual_child(net: Network) -> None:
    """Likelihood 3:1 on IHC equals observing a virtual child with P(c | +) / P(c | -) = 3."""
    evidence = {"fat_in_lesion": "present"}
    soft = net.posterior(evidence, soft={"mdm2_cdk4_ihc": {"positive": 3.0, "negative": 1.0}})
    pos = net.posterior({**evidence, "mdm2_cdk4_ihc": "positive"})
    neg = net.posterior({**evidence, "mdm2_cdk4_ihc": "negative"})
    p_pos = net.posterior(evidence, target="mdm2_cdk4_ihc")["positive"]
    w = 3.0 * p_pos / (3.0 * p_pos + (1.0 - p_pos))
    expected = w * pos + (1.0 - w) * neg.reindex(pos.index)
    np.testing.assert_allclose(soft.reindex(pos.index).to_numpy(), expected.to_numpy(), atol=1e-12)


@pytest.mark.parametrize(
    ("soft", "match"),
    [
        ({"fat": {"present": 1.0, "absent": 1.0}}, "Unknown node 'fat'"),
        ({"fat_in_lesion": {"present": 1.0}}, "missing absent"),
        ({"fat_in_lesion": {"present": 1.0, "maybe": 2.0}}, "Unknown state 'maybe'"),
        ({"fat_in_lesion": {"present": -1.0, "absent": 1.0}}, "finite and >= 0"),
        ({"fat_in_lesion": {"present": float("nan"), "absent": 1.0}}, "finite and >= 0"),
        ({"fat_in_lesion": {"present": 0.0, "absent": 0.0}}, "at least one likelihood"),
        ({"fat_in_lesion": {"present": "high", "absent": 1.0}}, "must be a number"),
        ({"fat_in_lesion": [1.0, 2.0]}, "mapping state -> likelihood"),
        ({"diagnosis": {}}, "target"),
        (["fat_in_lesion"], "soft must be a mapping"),
    ],
)
def test_bad_soft_evidence(net: Network, soft: object, match: str) -> None:
    with pytest.raises(EvidenceError, match=match):
        net.posterior({}, soft=soft)  # type: ignore[arg-type]


def test_soft_and_hard_on_the_same_node(net: Network) -> None:
    with pytest.raises(EvidenceError, match="also given as a hard finding"):
        net.posterior({"sex": "male"}, soft={"sex": {"male": 1.0, "female": 2.0}})


def test_every_finding_observed_is_finite(net: Network) -> None:
    """All findings observed at once: the engine neither underflows nor NaNs."""
    rng = np.random.default_rng(0)
    done = 0
    for _ in range(200):
        evidence = {f: str(rng.choice(net.states(f))) for f in net.findings}
        if not _possible(net, evidence):
            continue
        post = net.posterior(evidence)
        assert np.isfinite(post.to_numpy()).all()
        assert post.sum() == pytest.approx(1.0, abs=1e-12)
        marg = net.marginals(evidence)
        assert all(abs(s.sum() - 1.0) < 1e-12 for s in marg.values())
        done += 1
    assert done > 0


def test_mpe_and_map_on_the_default_network(net: Network) -> None:
    evidence = {"fat_in_lesion": "present", "mdm2_fish": "amplified"}
    res = net.mpe(evidence)
    assert set(res.assignment) == set(net.nodes) - set(evidence)
    full = {**evidence, **{k: v for k, v in res.assignment.items()}}
    # its probability is P(x | e): P(x, e) / P(e)
    log_joint = net.log_evidence({k: v for k, v in full.items() if k in net.findings}, soft=None)
    assert 0 < res.probability <= 1
    assert log_joint <= 0
    single = net.map(evidence, ["diagnosis"])
    post = net.posterior(evidence)
    assert single.assignment["diagnosis"] == post.index[0]
    assert single.probability == pytest.approx(float(post.iloc[0]), rel=1e-9)


@pytest.mark.parametrize(
    ("nodes", "match"),
    [
        ([], "non-empty"),
        ("diagnosis", "non-empty"),
        (["diagnoses"], "Unknown node 'diagnoses'"),
        (["fat_in_lesion"], "observed"),
        (["diagnosis", "diagnosis"], "twice"),
    ],
)
def test_bad_map_nodes(net: Network, nodes: object, match: str) -> None:
    with pytest.raises(EvidenceError, match=match):
        net.map({"fat_in_lesion": "present"}, nodes)  # type: ignore[arg-type]


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
    assert odds[3] / odds[2] < odds[1] / odds[0]


def test_engine_rejects_unknown_target() -> None:
    nodes = [RandomNode("a", ("x", "y"), (), np.array([[0.5, 0.5]]))]
    with pytest.raises(EngineError, match="Unknown target"):
        Engine(nodes, target="b")


def test_star_and_junction_tree_agree(net: Network) -> None:
    engine = net.engine
    assert engine.star is not None
    rng = np.random.default_rng(5)
    for _ in range(20):
        names = rng.choice(net.findings, size=6, replace=False)
        evidence = {str(n): int(rng.integers(len(net.states(str(n))))) for n in names}
        if not np.isfinite(engine.log_evidence(evidence)):
            continue
        star = engine.star.posterior(evidence, "diagnosis")
        marginals, log_pe = engine.marginals(evidence)
        np.testing.assert_allclose(marginals[engine.index["diagnosis"]], star, atol=1e-12)
        assert log_pe == pytest.approx(engine.star.log_evidence(evidence), abs=1e-9)


# ----------------------------------------------------------------- hidden nodes
@given(nodes=shaped_networks(), data=st.data())
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_hidden_nodes_are_summed_exactly(nodes: list[RandomNode], data: st.DataObject) -> None:
    """Nodes declared hidden (never observed) are summed inside the star plan's tables:
    the plan stays exact for every other node, is never larger than without them, and a
    posterior of a hidden node comes from the junction tree."""
    target = nodes[0].name
    others = [n.name for n in nodes[1:]]
    hidden = data.draw(st.lists(st.sampled_from(others), unique=True)) if others else []
    hard, _ = data.draw(evidence_for([n for n in nodes if n.name not in hidden], soft=False))
    engine = Engine(nodes, target=target, hidden=hidden)
    plain = Engine(nodes, target=target)
    if plain.star is not None:
        assert engine.star is not None
        assert engine.star.delta.shape[0] <= plain.star.delta.shape[0]
    for node in nodes:
        expected = brute_force(nodes, hard, node.name)
        if expected is None:
            with pytest.raises(ZeroProbabilityError):
                engine.posterior(hard, node.name)
            return
        np.testing.assert_allclose(engine.posterior(hard, node.name), expected, atol=1e-9)
        if node.name not in hard:
            codes = np.zeros((1, len(nodes)), dtype=np.int64)
            for name, state in hard.items():
                codes[0, [n.name for n in nodes].index(name)] = state + 1
            np.testing.assert_allclose(
                engine.posterior_batch(codes, node.name)[0], expected, atol=1e-9
            )


def test_hidden_node_in_the_star_plan_is_not_tabulated(net: Network) -> None:
    """The default network's latent nodes cost the star plan no code axis."""
    engine = net.engine
    assert engine.hidden == frozenset(net.latent)
    star = engine.star
    assert star is not None
    for comp in star.components:
        for v in comp.variables:
            radix = 1 if engine.names[v] in engine.hidden else engine.cards[v] + 1
            assert int(star.radix[v]) == radix
        assert comp.size == math.prod(int(star.radix[v]) for v in comp.variables)
    with pytest.raises(EngineError, match="hidden in the star plan"):
        star.posterior({}, "cppd_form")
    # the Network routes a latent target to the junction tree, which agrees with the joint
    post = net.posterior({"anatomic_site": "head_neck"}, target="cppd_form")
    marginals, _ = engine.marginals(
        {"anatomic_site": net.states("anatomic_site").index("head_neck")}
    )
    expected = marginals[engine.index["cppd_form"]]
    np.testing.assert_allclose(post[list(net.states("cppd_form"))], expected, atol=1e-12)


def _three_states(name: str, parents: tuple[str, ...], n_rows: int) -> RandomNode:
    return RandomNode(name, ("u", "v", "w"), parents, np.tile([0.2, 0.3, 0.5], (n_rows, 1)))


ROOT = RandomNode("a", ("p", "q"), (), np.array([[0.4, 0.6]]))
# a -> x0 -> x1 -> x2 -> x3 (each also a child of a): one component of four findings
CHAIN = [ROOT, _three_states("x0", ("a",), 2)] + [
    _three_states(f"x{i}", ("a", f"x{i - 1}"), 6) for i in range(1, 4)
]
# two findings that are children of a alone: two components of one finding each
STAR = [ROOT, _three_states("x0", ("a",), 2), _three_states("x1", ("a",), 2)]


@pytest.mark.parametrize(
    ("nodes", "kwargs", "match"),
    [
        # 4**4 evidence configurations x 2 target states = 512 entries in one component
        (
            CHAIN,
            {"star_entries": 511},
            r"component around 'a' of at least \['x0', 'x1', .*over 511 table entries",
        ),
        # work: 512 entries x 3 (widest node) x 4 (nodes) = 6,144
        (
            CHAIN,
            {"star_work": 100},
            r"\['x0', 'x1', 'x2', 'x3'\] takes 6,144 units of work \(limit 100\)",
        ),
        # 4 x 2 entries per component, 16 together
        (STAR, {"star_entries": 9}, r"need 16 table entries together \(limit 9\)"),
    ],
)
def test_star_refusal_names_the_component_and_the_limit(
    nodes: list[RandomNode], kwargs: dict[str, int], match: str
) -> None:
    engine = Engine(nodes, target="a", **kwargs)  # type: ignore[arg-type]
    refusal = engine.star_refusal()
    assert refusal is not None and re.search(match, refusal), refusal
    assert engine.star is None
    # within the default budget the same network compiles, and there is no refusal
    fits = Engine(nodes, target="a")  # type: ignore[arg-type]
    assert fits.star_refusal() is None and fits.star is not None
    # hidden nodes are summed inside their component: with every finding hidden it fits
    findings = [node.name for node in nodes[1:]]
    hidden = Engine(nodes, target="a", hidden=findings, **kwargs)  # type: ignore[arg-type]
    assert hidden.star_refusal() is None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"hidden": ["zz"]}, r"Unknown hidden node\(s\) \['zz'\]"),
        ({"hidden": ["a"]}, "The target 'a' cannot be hidden"),
    ],
)
def test_bad_hidden_nodes(kwargs: dict[str, list[str]], match: str) -> None:
    nodes = [
        RandomNode("a", ("x", "y"), (), np.array([[0.5, 0.5]])),
        RandomNode("b", ("x", "y"), ("a",), np.array([[0.9, 0.1], [0.2, 0.8]])),
    ]
    with pytest.raises(EngineError, match=match):
        Engine(nodes, target="a", **kwargs)  # type: ignore[arg-type]
