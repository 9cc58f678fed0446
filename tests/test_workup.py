"""Value of information, test costs and sequential work-up, against brute force."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from _random_nets import brute_force
from _random_specs import load_files, networks_with_evidence, random_network_files
from conftest import TINY
from softcalc_bayes import (
    EvidenceError,
    InvalidParameterError,
    Network,
    NetworkSpecError,
    load_cases,
)
from softcalc_bayes.workup import (
    WorkupCosts,
    load_test_costs,
    next_best_test,
    sample_cases,
    sequential_workup,
)


def _entropy(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def _brute(net: Network, evidence: dict[str, str], target: str) -> np.ndarray:
    codes = {f: net.states(f).index(s) for f, s in evidence.items()}
    out = brute_force(list(net.spec.nodes.values()), codes, target)
    assert out is not None
    return out


def _net_and_evidence() -> st.SearchStrategy[tuple[Network, dict[str, str]]]:
    return networks_with_evidence(max_findings=2)


@given(data=_net_and_evidence())
@settings(max_examples=30, deadline=None)
def test_gain_equals_entropy_drop_by_brute_force(data: tuple[Network, dict[str, str]]) -> None:
    net, evidence = data
    table = next_best_test(net, evidence)
    prior = _brute(net, evidence, "diagnosis")
    top = int(np.argmax(prior))
    assert set(table.index) == {f for f in net.findings if f not in evidence}
    for f in table.index:
        p_f = _brute(net, evidence, f)
        posts = [_brute(net, {**evidence, f: s}, "diagnosis") for s in net.states(f)]
        expected = _entropy(prior) - sum(p * _entropy(q) for p, q in zip(p_f, posts, strict=True))
        assert table.loc[f, "information_gain_bits"] == pytest.approx(expected, abs=1e-9)
        best = sum(p * q.max() for p, q in zip(p_f, posts, strict=True))
        assert table.loc[f, "expected_p_top"] == pytest.approx(best, abs=1e-9)
        current = sum(p * q[top] for p, q in zip(p_f, posts, strict=True))
        assert current == pytest.approx(prior[top], abs=1e-9)  # the law of total probability
        assert table.loc[f, "expected_p_current_top"] == pytest.approx(current, abs=1e-9)
        changes = sum(p for p, q in zip(p_f, posts, strict=True) if q.max() > q[top] + 1e-9)
        assert table.loc[f, "p_top_changes"] == pytest.approx(changes, abs=1e-9)
    gains = table["information_gain_bits"].to_numpy()
    assert (np.diff(gains) <= 0).all()


@given(data=_net_and_evidence())
@settings(max_examples=10, deadline=None)
def test_pair_gain_is_joint_information(data: tuple[Network, dict[str, str]]) -> None:
    net, evidence = data
    table = next_best_test(net, evidence, lookahead=2, n_lookahead=2)
    prior = _brute(net, evidence, "diagnosis")
    for f, row in table.head(2).iterrows():
        g = row["pair_with"]
        if not isinstance(g, str):
            assert len(table) == 1
            continue
        expected = _entropy(prior)
        for s in net.states(f):
            p_s = _brute(net, evidence, f)[net.states(f).index(s)]
            p_t = _brute(net, {**evidence, f: s}, g)
            for t, p in zip(net.states(g), p_t, strict=True):
                expected -= p_s * p * _entropy(_brute(net, {**evidence, f: s, g: t}, "diagnosis"))
        assert row["pair_gain_bits"] == pytest.approx(expected, abs=1e-9)
        assert row["pair_gain_bits"] >= row["information_gain_bits"] - 1e-12


@given(files=random_network_files(max_nodes=4), state=st.integers(0, 2))
@settings(max_examples=15, deadline=None)
def test_conditionally_independent_finding_has_zero_gain(files: dict, state: int) -> None:
    files = copy.deepcopy(files)
    parent = copy.deepcopy(files["nodes/f0.yaml"])
    # 'child' depends on the diagnosis only through f0: observed f0 blocks it.
    child = {
        "node": "child",
        "states": ["a", "b", "c"],
        "parents": ["f0"],
        "remainder": "c",
        "default": {"probs": {"a": 0.1, "b": 0.3}, "basis": "assumption", "reason": "r"},
        "rows": [
            {
                "when": {"f0": s},
                "probs": {"a": 0.7 - 0.2 * i, "b": 0.1 + 0.1 * i},
                "basis": "assumption",
                "reason": "r",
            }
            for i, s in enumerate(parent["states"])
        ],
    }
    # 'loner' has no parents at all.
    loner = {
        "node": "loner",
        "states": ["x", "y"],
        "parents": [],
        "remainder": "y",
        "default": {"probs": {"x": 0.3}, "basis": "assumption", "reason": "r"},
    }
    net = load_files({**files, "nodes/child.yaml": child, "nodes/loner.yaml": loner})
    f0_state = net.states("f0")[state % len(net.states("f0"))]
    table = next_best_test(net, {"f0": f0_state})
    assert abs(table.loc["child", "information_gain_bits"]) <= 1e-12
    assert abs(table.loc["loner", "information_gain_bits"]) <= 1e-12
    assert table.loc["child", "p_top_changes"] == 0.0
    unblocked = next_best_test(net, {})
    assert unblocked.loc["loner", "information_gain_bits"] <= 1e-12


@pytest.fixture(scope="module")
def costs(net: Network) -> WorkupCosts:
    return load_test_costs(net=net)


def test_default_costs_cover_every_finding_with_provenance(
    net: Network, costs: WorkupCosts
) -> None:
    assert set(costs.test_of) == set(net.findings)
    table = costs.table()
    assert (table["cost"] > 0).all()
    for name, row in table.iterrows():
        assert row["basis"] == "assumption" and row["reason"], name
    assert costs.tests["mdm2_ihc"].requires == ("core_biopsy",)
    assert costs.done(["mdm2_cdk4_ihc"]) == {"mdm2_ihc", "core_biopsy"}
    assert costs.marginal_cost("mdm2_fish", done={"mdm2_ihc", "core_biopsy"}) == 5.0
    assert costs.clinical_order()[:3] == ["referral", "history_and_exam", "radiograph"]


def _write_costs(tmp_path: Path, tests: dict) -> Path:
    path = tmp_path / "costs.yaml"
    data = json.loads(json.dumps({"unit": "u", "tests": tests}))  # no shared objects: no aliases
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


_GOOD = {"findings": ["mdm2_fish"], "cost": 2, "basis": "assumption", "reason": "r"}


@pytest.mark.parametrize(
    ("tests", "match"),
    [
        (
            {"t": {**_GOOD, "findings": ["mdm2_fsh"]}},
            r"Unknown finding 'mdm2_fsh'\. Did you mean 'mdm2_fish'\?",
        ),
        ({"t": _GOOD, "u": _GOOD}, r"finding 'mdm2_fish' is in two tests"),
        ({"t": {**_GOOD, "cost": -1}}, "cost must be a positive number"),
        ({"t": {**_GOOD, "cost": "cheap"}}, "cost must be a positive number"),
        ({"t": {**_GOOD, "reason": None}}, "basis 'assumption' needs a reason"),
        ({"t": {**_GOOD, "requires": ["biopsy"]}}, r"requires Unknown test 'biopsy'"),
        (
            {"t": {**_GOOD, "basis": "stated_number", "source": "nope", "locator": "p1"}},
            r"Unknown source 'nope'",
        ),
        (
            {"t": {**_GOOD, "category": "imagin"}},
            r"Unknown category 'imagin'\. Did you mean 'imaging'\?",
        ),
        ({"t": {**_GOOD, "price": 3}}, r"Unknown key 'price'"),
    ],
)
def test_bad_cost_files(net: Network, tmp_path: Path, tests: dict, match: str) -> None:
    with pytest.raises(NetworkSpecError, match=match):
        load_test_costs(_write_costs(tmp_path, tests), net=net)


_GOOD_YAML = "unit: u\ntests:\n  t:\n    findings: [mdm2_fish]\n    cost: 2\n    basis: assumption\n    reason: r\n"


def _entry(**fields: str) -> str:
    """A one-test cost file, ``fields`` written as raw YAML (overriding the good ones)."""
    good = {"findings": "[mdm2_fish]", "cost": "2", "basis": "assumption", "reason": "r"}
    lines = [f"    {k}: {v}" for k, v in {**good, **fields}.items()]
    return "unit: u\ntests:\n  t:\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("tests: {t: [1, 2}\n", r"costs\.yaml: not valid YAML"),
        (b"unit: \xff\xfe\ntests: {}\n", r"costs\.yaml: not UTF-8"),
        (_entry(findings="[[sex]]"), r"costs\.yaml, test 't', field 'findings': .*\['sex'\]"),
        (_entry(findings="sex"), r"test 't', field 'findings': a list .* got the str 'sex'"),
        (_entry(findings="{sex: 1}"), r"test 't', field 'findings': a list"),
        (_entry(requires="core"), r"test 't', field 'requires': a list .* got the str 'core'"),
        (_entry(requires="[t]"), r"costs\.yaml: the 'requires' of the tests form a cycle: t -> t"),
        (_entry(label="[a]"), r"test 't', field 'label': a str"),
        (_entry(reason="[a]"), r"test 't', field 'reason': a str"),
        (_entry(category="[imaging]"), r"test 't', field 'category': Unknown category"),
        (
            _GOOD_YAML + "  a: &x {findings: [sex], cost: 1, basis: assumption, reason: r}\n",
            r"costs\.yaml, line \d+: YAML anchors and aliases",
        ),
        (_GOOD_YAML + "  t: {cost: 1}\n", r"costs\.yaml, line \d+: key 't' appears twice"),
        (_GOOD_YAML + "unit: v\n", r"key 'unit' appears twice"),
        (_GOOD_YAML + "test: {}\n", r"costs\.yaml: Unknown key 'test'\. Did you mean 'tests'\?"),
        ("unit: u\ntests: {}\n", r"costs\.yaml: no tests"),
        ("unit: u\ntests: {1: {cost: 1}}\n", r"costs\.yaml: test names must be str"),
        ("unit: [u]\ntests: {t: {cost: 1}}\n", r"costs\.yaml, field 'unit': a str"),
        ("- a\n", r"costs\.yaml: expected a mapping with 'unit' and 'tests'"),
        (
            "unit: u\ntests:\n"
            "  a: {requires: [b], cost: 1, basis: assumption, reason: r}\n"
            "  b: {requires: [a], cost: 1, basis: assumption, reason: r}\n",
            r"the 'requires' of the tests form a cycle: a -> b -> a",
        ),
    ],
)
def test_malformed_cost_files(net: Network, tmp_path: Path, text: str | bytes, match: str) -> None:
    path = tmp_path / "costs.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(NetworkSpecError, match=match):
        load_test_costs(path, net=net)


def test_cost_file_that_is_a_folder(net: Network, tmp_path: Path) -> None:
    with pytest.raises(NetworkSpecError, match=r"is a folder, not a test-cost file"):
        load_test_costs(tmp_path, net=net)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (
            (5,),
            {},
            r"The 'path' parameter of load_test_costs must be a str or Path or None\. Got 5",
        ),
        ((), {"net": "x"}, r"The 'net' parameter of load_test_costs must be a Network"),
    ],
)
def test_load_test_costs_bad_arguments(args: tuple, kwargs: dict, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        load_test_costs(*args, **kwargs)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda c: c.needed("radiograf", set()), r"Unknown test 'radiograf'\. Did you mean 'radi"),
        (lambda c: c.needed("xray", set()), r"Unknown test 'xray'\. Valid tests: referral, "),
        (lambda c: c.needed(["x"], set()), r"Unknown test \['x'\]\. .*Valid tests: referral"),
        (lambda c: c.marginal_cost(["x"], done=set()), r"Unknown test \['x'\]"),
    ],
)
def test_unknown_test_names(costs: WorkupCosts, call: Any, match: str) -> None:
    with pytest.raises(EvidenceError, match=match):
        call(costs)


def test_costs_and_criteria(net: Network, costs: WorkupCosts) -> None:
    ev = {"age_group": "adult_60_plus", "sex": "male", "anatomic_site": "shoulder_girdle"}
    plain = next_best_test(net, ev)
    with_costs = next_best_test(net, ev, costs=costs)
    assert with_costs.attrs["criterion"] == "gain_per_cost"
    assert {"test", "cost", "gain_per_cost"} <= set(with_costs.columns)
    assert (np.diff(with_costs["gain_per_cost"].to_numpy()) <= 0).all()
    np.testing.assert_allclose(
        with_costs.loc[plain.index, "information_gain_bits"],
        plain["information_gain_bits"],
        atol=1e-15,
    )
    assert with_costs.loc["mdm2_fish", "cost"] == 20.0  # FISH plus the biopsy
    after_biopsy = next_best_test(net, {**ev, "mdm2_cdk4_ihc": "positive"}, costs=costs)
    assert after_biopsy.loc["mdm2_fish", "cost"] == 5.0
    simple = next_best_test(net, ev, costs={f: 1.0 for f in net.findings})
    np.testing.assert_allclose(
        simple.loc[plain.index, "gain_per_cost"], plain["information_gain_bits"], atol=1e-15
    )
    by_change = next_best_test(net, ev, criterion="p_top_changes")
    assert (np.diff(by_change["p_top_changes"].to_numpy()) <= 0).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"criterion": "gain_per_cost"}, "needs costs"),
        ({"target": "diagnoses"}, r"Unknown target 'diagnoses'"),
        ({"candidates": ["mdm2"]}, r"Unknown finding 'mdm2'"),
        ({"costs": {"fat": 1.0}}, r"Unknown finding 'fat'"),
        ({"costs": 3}, "costs must be None"),
    ],
)
def test_next_best_test_bad_arguments(net: Network, kwargs: dict, match: str) -> None:
    with pytest.raises(EvidenceError, match=match):
        next_best_test(net, {"fat_in_lesion": "present"}, **kwargs)


def test_latent_target_prefers_its_tests(net: Network) -> None:
    table = next_best_test(net, {"fat_in_lesion": "present"}, target="amplification_12q")
    assert set(table.index[:3]) == {
        "mdm2_fish",
        "mdm2_cdk4_ihc",
        "ring_or_giant_marker_chromosomes",
    }


@pytest.fixture(scope="module")
def seed_case() -> dict[str, str]:
    return dict(next(c for c in load_cases() if c.id == "seed000_alt_shoulder").findings)


START = ("age_group", "sex", "anatomic_site")


@pytest.mark.parametrize("strategy", ["voi", "clinical", "random"])
def test_workup_on_seed_case(
    net: Network, costs: WorkupCosts, seed_case: dict, strategy: str
) -> None:
    start = {k: seed_case[k] for k in START}
    steps = sequential_workup(net, start, truth=seed_case, costs=costs, strategy=strategy, seed=1)
    assert steps["test"].iloc[0] == ""
    assert steps.attrs["stop_reason"] in {"reached stop_at", "no tests left"}
    if steps.attrs["stop_reason"] == "reached stop_at":
        assert steps["p_top"].iloc[-1] >= 0.9 > steps["p_top"].iloc[-2]
    revealed = steps.attrs["evidence"]
    assert all(seed_case[k] == v for k, v in revealed.items())
    post = net.posterior(revealed)
    assert steps["p_top"].iloc[-1] == pytest.approx(float(post.iloc[0]))
    assert steps["total_cost"].iloc[-1] == pytest.approx(steps["cost"].sum())
    if strategy == "clinical":
        order = costs.clinical_order()
        positions = [order.index(t) for t in steps["test"].iloc[1:]]
        assert positions == sorted(positions)


def test_workup_reveals_groups_and_counts_biopsy_once(
    net: Network, costs: WorkupCosts, seed_case: dict
) -> None:
    start = {k: seed_case[k] for k in START}
    order = ["mdm2_ihc", "cytogenetics"]
    steps = sequential_workup(net, start, truth=seed_case, costs=costs, strategy=order, stop_at=1.0)
    assert steps["test"].tolist()[:3] == ["", "mdm2_ihc", "cytogenetics"]
    assert steps["cost"].tolist()[1:3] == [17.0, 6.0]
    radiograph = sequential_workup(
        net, start, truth=seed_case, costs=costs, strategy=["radiograph"], stop_at=1.0
    )
    assert radiograph["revealed"].iloc[1].count("=") == 4


def test_workup_simulated_outcomes_are_reproducible(net: Network, costs: WorkupCosts) -> None:
    start = {"age_group": "adult_40_59", "sex": "female", "anatomic_site": "thigh"}
    a = sequential_workup(net, start, costs=costs, seed=5, max_tests=3)
    b = sequential_workup(net, start, costs=costs, seed=5, max_tests=3)
    assert a.equals(b)
    assert len(a) <= 4


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"strategy": "clinical"}, "needs costs"),
        ({"strategy": ["mdm2"]}, r"Unknown test 'mdm2'"),
    ],
)
def test_workup_bad_arguments(net: Network, kwargs: dict, match: str) -> None:
    with pytest.raises(EvidenceError, match=match):
        sequential_workup(net, {"fat_in_lesion": "present"}, **kwargs)


def test_sample_cases_follow_the_network() -> None:
    net = load_files(copy.deepcopy(TINY))
    n = 4000
    cases = sample_cases(net, n, seed=11)
    assert list(cases.columns) == ["diagnosis", *net.findings]
    joint = cases.groupby(["diagnosis", "test"]).size() / n
    for (d, t), share in joint.items():
        cond = _brute(net, {"test": t}, "diagnosis")[net.states("diagnosis").index(d)]
        p = cond * _brute(net, {}, "test")[net.states("test").index(t)]
        assert abs(share - p) <= 5 * np.sqrt(p * (1 - p) / n)


_NBT = "The '{}' parameter of next_best_test must be "


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"candidates": "sex"}, _NBT.format("candidates") + r"a sequence of finding names.*'sex'"),
        ({"n_lookahead": 1.5}, _NBT.format("n_lookahead") + r"an int in the range \[1, inf\)"),
        ({"n_lookahead": -1}, _NBT.format("n_lookahead") + r"an int .* Got -1 instead"),
        (
            {"lookahead": True},
            _NBT.format("lookahead") + r"an int in the range \[1, 2\]\. Got True",
        ),
        ({"lookahead": 2.0}, _NBT.format("lookahead") + r"an int in the range \[1, 2\]\. Got 2\.0"),
        ({"lookahead": 3}, _NBT.format("lookahead") + r"an int in the range \[1, 2\]\. Got 3"),
        ({"criterion": "gain"}, _NBT.format("criterion") + r"a str among .*Did you mean 'gain_per"),
        ({"criterion": ["gain"]}, _NBT.format("criterion") + r"a str among"),
    ],
)
def test_next_best_test_bad_options(net: Network, kwargs: dict, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        next_best_test(net, {"fat_in_lesion": "present"}, **kwargs)


def test_next_best_test_refuses_a_non_network() -> None:
    with pytest.raises(InvalidParameterError, match=r"'net' parameter of next_best_test"):
        next_best_test("x", {})  # type: ignore[arg-type]


def test_next_best_test_accepts_numpy_integers(net: Network) -> None:
    ev = {"fat_in_lesion": "present"}
    table = next_best_test(net, ev, lookahead=np.int64(2), n_lookahead=np.int64(1))
    assert np.isfinite(table["pair_gain_bits"].iloc[0])
    assert table["pair_gain_bits"].iloc[1:].isna().all()
    assert list(next_best_test(net, ev, candidates=("sex", "pain")).index) in (
        ["sex", "pain"],
        ["pain", "sex"],
    )


_SW = "The '{}' parameter of sequential_workup must be "


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"stop_at": "0.9"}, _SW.format("stop_at") + r"a float in the range \(0, 1\]\. Got '0\.9'"),
        ({"stop_at": 2}, _SW.format("stop_at") + r"a float in the range \(0, 1\]\. Got 2 instead"),
        ({"stop_at": 0.0}, _SW.format("stop_at") + r"a float in the range \(0, 1\]"),
        ({"max_tests": "2"}, _SW.format("max_tests") + r"an int in the range \[0, inf\) or None"),
        ({"max_tests": -1}, _SW.format("max_tests") + r"an int .* Got -1 instead"),
        ({"max_tests": 1.5}, _SW.format("max_tests") + r"an int .* Got 1\.5 instead"),
        ({"min_gain": "x"}, _SW.format("min_gain") + r"a float in the range \[0, inf\)"),
        (
            {"strategy": None},
            _SW.format("strategy") + r"a str among .* or a sequence of test names",
        ),
        ({"strategy": "greedy"}, _SW.format("strategy") + r"a str among \{'voi', 'random'"),
        ({"criterion": "gain"}, _SW.format("criterion") + r"a str among"),
        ({"seed": -1}, _SW.format("seed") + r"None, an int in the range \[0, inf\)"),
    ],
)
def test_workup_bad_options(net: Network, kwargs: dict, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        sequential_workup(net, {"fat_in_lesion": "present"}, **kwargs)


def test_workup_max_tests_zero_stops_at_the_start(net: Network) -> None:
    steps = sequential_workup(net, {"fat_in_lesion": "present"}, max_tests=0)
    assert len(steps) == 1 and steps.attrs["stop_reason"] == "max_tests"


_SC = "The '{}' parameter of sample_cases must be "


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((0,), {}, _SC.format("n") + r"an int in the range \[1, 1000000\]\. Got 0 instead"),
        ((2.0,), {}, _SC.format("n") + r"an int"),
        ((10**9,), {}, _SC.format("n") + r"an int in the range \[1, 1000000\]"),
        ((2,), {"seed": -1}, _SC.format("seed") + r"None, an int in the range \[0, inf\)"),
        ((2,), {"seed": 1.5}, _SC.format("seed")),
    ],
)
def test_sample_cases_bad_options(net: Network, args: tuple, kwargs: dict, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        sample_cases(net, *args, **kwargs)


def test_sample_cases_refuses_a_non_network_and_takes_numpy_integers(net: Network) -> None:
    with pytest.raises(InvalidParameterError, match=_SC.format("net") + "a Network"):
        sample_cases("x", 2)  # type: ignore[arg-type]
    cases = sample_cases(net, np.int64(3), seed=np.int64(1))
    assert cases.equals(sample_cases(net, 3, seed=1))


def test_cli_next_test(capsys: pytest.CaptureFixture[str]) -> None:
    from softcalc_bayes.cli import main

    argv = ["next-test", "age_group=adult_60_plus", "fat_in_lesion=present", "--top", "4"]
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Current top:") and "information_gain" in out[0]
    assert out[1].split()[:2] == ["finding", "information_gain_bits"]
    assert len(out) == 6
    assert main([*argv, "--costs", "default", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["criterion"] == "gain_per_cost" and len(data["tests"]) == 4
    assert {"test", "cost", "gain_per_cost"} <= set(data["tests"][0])
    assert main([*argv, "--costs", "/nonexistent.yaml"]) == 2
    assert "no such test-cost file" in capsys.readouterr().err


def test_done_refuses_a_single_name_as_a_list(costs: WorkupCosts) -> None:
    assert costs.done(["mdm2_fish"]) == costs.done(("mdm2_fish",))
    with pytest.raises(InvalidParameterError, match=r"write \['mdm2_fish'\] for one"):
        costs.done("mdm2_fish")  # type: ignore[arg-type]
