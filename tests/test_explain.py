"""Exact explanations: chain rule, Shapley values and redundancy, against brute force."""

from __future__ import annotations

import copy
import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _random_nets import brute_force
from _random_specs import load_files, networks_with_evidence, random_network_files
from softcalc_bayes import EvidenceError, InvalidParameterError, Network, load_cases
from softcalc_bayes.explain import Explanation, explain


@pytest.fixture(scope="module")
def seed_case() -> dict[str, str]:
    case = next(c for c in load_cases() if c.id == "seed000_alt_shoulder")
    assert case.citation == "000_0d5cd09612c91bfd.txt"
    return dict(case.findings)


def _log_odds_db(post: np.ndarray, num: int, den: list[int]) -> float:
    return 10 * (math.log10(post[num]) - math.log10(post[den].sum()))


def _brute_game(net: Network, evidence: dict[str, str], state: str, versus: list[str]):
    nodes = list(net.spec.nodes.values())
    diagnoses = list(net.states("diagnosis"))
    codes = {f: net.states(f).index(s) for f, s in evidence.items()}
    names = list(evidence)

    def v(subset: tuple[str, ...]) -> float:
        post = brute_force(nodes, {f: codes[f] for f in subset}, "diagnosis")
        assert post is not None
        return _log_odds_db(post, diagnoses.index(state), [diagnoses.index(d) for d in versus])

    values = {s: v(s) for r in range(len(names) + 1) for s in itertools.combinations(names, r)}
    return names, lambda subset: values[tuple(n for n in names if n in subset)]


def _net_and_evidence() -> st.SearchStrategy[tuple[Network, dict[str, str]]]:
    return networks_with_evidence(max_findings=4)


@given(data=_net_and_evidence(), pick=st.integers(0, 10), order_seed=st.integers(0, 100))
@settings(max_examples=30, deadline=None)
def test_random_networks_match_brute_force(
    data: tuple[Network, dict[str, str]], pick: int, order_seed: int
) -> None:
    net, evidence = data
    diagnoses = list(net.states("diagnosis"))
    state = diagnoses[pick % len(diagnoses)]
    versus = [d for d in diagnoses if d != state]
    order = list(np.random.default_rng(order_seed).permutation(list(evidence)))
    ex = explain(net, evidence, state=state, order=order)
    names, v = _brute_game(net, evidence, state, versus)
    assert ex.prior_db == pytest.approx(v(()), abs=1e-9)
    assert ex.posterior_db == pytest.approx(v(tuple(names)), abs=1e-9)
    # chain rule in the stated order
    for i, f in enumerate(order):
        expected = v(tuple(order[: i + 1])) - v(tuple(order[:i]))
        assert ex.table.loc[f, "chain_db"] == pytest.approx(expected, abs=1e-9)
    # Shapley by its definition: the chain weight averaged over every order
    perms = list(itertools.permutations(names))
    for f in names:
        total = sum(v(p[: p.index(f) + 1]) - v(p[: p.index(f)]) for p in perms)
        assert ex.table.loc[f, "shapley_db"] == pytest.approx(total / len(perms), abs=1e-9)
        assert ex.table.loc[f, "alone_db"] == pytest.approx(v((f,)) - v(()), abs=1e-9)
    assert list(ex.table.index) == order


@given(data=_net_and_evidence())
@settings(max_examples=20, deadline=None)
def test_efficiency_and_chain_sum(data: tuple[Network, dict[str, str]]) -> None:
    net, evidence = data
    ex = explain(net, evidence)
    assert ex.table["chain_db"].sum() == pytest.approx(ex.total_db, abs=1e-9)
    assert ex.table["shapley_db"].sum() == pytest.approx(ex.total_db, abs=1e-9)


@given(files=random_network_files(max_nodes=4, latent=False), state_index=st.integers(0, 2))
@settings(max_examples=15, deadline=None)
def test_symmetric_findings_get_equal_shapley_values(files: dict, state_index: int) -> None:
    twin = copy.deepcopy(files["nodes/f0.yaml"])
    twin["node"] = "twin"
    files = {**files, "nodes/twin.yaml": twin}
    net = load_files(files)
    state = net.states("f0")[state_index % len(net.states("f0"))]
    evidence = {"f0": state, "twin": state}
    # a third finding that is no descendant of f0 keeps the two symmetric
    others = [
        f for f in net.findings if f not in evidence and set(net.node(f).parents) <= {"diagnosis"}
    ]
    if others:
        evidence[others[0]] = net.states(others[0])[0]
    ex = explain(net, evidence)
    assert ex.table.loc["f0", "shapley_db"] == pytest.approx(
        ex.table.loc["twin", "shapley_db"], abs=1e-9
    )


def test_seed_case_drivers_and_redundancy(net: Network, seed_case: dict[str, str]) -> None:
    ex = explain(net, seed_case)
    assert ex.state == "alt_wdlps"
    assert ex.table["chain_db"].sum() == pytest.approx(ex.total_db, abs=1e-9)
    top4 = set(ex.table["shapley_db"].nlargest(4).index)
    assert top4 == {
        "fat_in_lesion",
        "zonal_pattern",
        "mdm2_cdk4_ihc",
        "ring_or_giant_marker_chromosomes",
    }
    assert seed_case["zonal_pattern"] == "central_dense"
    # ring chromosomes after MDM2 IHC: one latent cause (12q amplification) behind both
    pair = ex.redundancy.set_index(["first", "second"]).loc[
        ("mdm2_cdk4_ihc", "ring_or_giant_marker_chromosomes")
    ]
    assert pair["relation"] == "redundant"
    assert pair["second_after_first_db"] < 0.5 * pair["second_alone_db"]
    assert tuple(ex.redundancy.iloc[0][["first", "second"]]) in {
        ("mdm2_cdk4_ihc", "ring_or_giant_marker_chromosomes"),
        ("ring_or_giant_marker_chromosomes", "mdm2_cdk4_ihc"),
    }
    assert (
        ex.table.loc["ring_or_giant_marker_chromosomes", "most_redundant_with"] == "mdm2_cdk4_ihc"
    )
    # in the order of the source (ring last) it adds under 1 dB
    assert ex.table.loc["ring_or_giant_marker_chromosomes", "chain_db"] < 1.0


def test_monte_carlo_is_efficient_and_close(net: Network, seed_case: dict[str, str]) -> None:
    evidence = dict(list(seed_case.items())[:8])
    exact = explain(net, evidence)
    sampled = explain(net, evidence, exact_max=4, n_permutations=400, seed=3)
    assert sampled.method == "monte_carlo"
    assert sampled.table["shapley_db"].sum() == pytest.approx(sampled.total_db, abs=1e-9)
    assert (sampled.table["shapley_se_db"] > 0).all()
    gap = (sampled.table["shapley_db"] - exact.table["shapley_db"]).abs()
    assert (gap <= 5 * sampled.table["shapley_se_db"] + 1e-9).all()
    pd_cols = ["chain_db", "alone_db", "last_db"]
    np.testing.assert_allclose(sampled.table[pd_cols], exact.table[pd_cols], atol=1e-9)
    again = explain(net, evidence, exact_max=4, n_permutations=400, seed=3)
    np.testing.assert_array_equal(again.table["shapley_db"], sampled.table["shapley_db"])


@pytest.mark.parametrize(
    ("versus", "expected"),
    [
        (None, "all other diagnoses"),
        ("ddlps", "ddlps"),
        ("malignant_neoplasm", "malignant_neoplasm"),
        ("intermediate_neoplasm", None),
    ],
)
def test_versus(net: Network, versus: str | None, expected: str | None) -> None:
    ev = {"fat_in_lesion": "present", "mdm2_fish": "amplified"}
    if expected is None:
        with pytest.raises(EvidenceError, match="holds only the explained state"):
            explain(net, ev, state="alt_wdlps", versus=versus)
        return
    ex = explain(net, ev, state="alt_wdlps", versus=versus)
    assert ex.versus == expected
    post = net.posterior(ev)
    assert ex.posterior_db == pytest.approx(
        10 * math.log10(post["alt_wdlps"] / post[list(ex.versus_states)].sum()), abs=1e-9
    )


def test_group_containing_state_is_reduced(net: Network) -> None:
    ex = explain(net, {"fat_in_lesion": "present"}, state="ddlps", versus="malignant_neoplasm")
    assert "ddlps" not in ex.versus_states
    assert ex.versus == "malignant_neoplasm (without ddlps)"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"state": "alt_wdlp"}, r"Unknown diagnosis 'alt_wdlp'\. Did you mean 'alt_wdlps'\?"),
        ({"versus": "malignant"}, r"Unknown diagnosis or group 'malignant'\. Did you mean"),
        ({"state": "ddlps", "versus": "ddlps"}, "is the explained state itself"),
        ({"order": ["fat_in_lesion"]}, "order must list every observed finding once"),
        ({"order": ["fat", "mdm2_fish"]}, r"Unknown observed finding 'fat'"),
    ],
)
def test_bad_arguments(net: Network, kwargs: dict, match: str) -> None:
    with pytest.raises(EvidenceError, match=match):
        explain(net, {"fat_in_lesion": "present", "mdm2_fish": "amplified"}, **kwargs)


_EX = "The '{}' parameter of explain must be "


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"exact_max": None}, _EX.format("exact_max") + r"an int in the range \[0, inf\)"),
        ({"exact_max": 1.5}, _EX.format("exact_max") + r"an int .* Got 1\.5 instead"),
        ({"exact_max": -1}, _EX.format("exact_max") + r"an int .* Got -1 instead"),
        ({"n_permutations": 0}, _EX.format("n_permutations") + r"an int in the range \[2, 20000\]"),
        ({"n_permutations": -5}, _EX.format("n_permutations") + r"an int .* Got -5 instead"),
        ({"n_permutations": 10.5}, _EX.format("n_permutations") + r"an int .* Got 10\.5 instead"),
        ({"n_permutations": 10**9}, _EX.format("n_permutations") + r"an int in the range \[2, 2"),
        ({"seed": -1}, _EX.format("seed") + r"None, an int in the range \[0, inf\) or a numpy"),
        ({"seed": "a"}, _EX.format("seed") + r"None, an int .* Got 'a' instead"),
        ({"seed": 1.5}, _EX.format("seed") + r"None, an int .* Got 1\.5 instead"),
        ({"order": "fat_in_lesion"}, _EX.format("order") + r"a sequence of finding names or None"),
    ],
)
def test_bad_options(net: Network, kwargs: dict, match: str) -> None:
    evidence = {"fat_in_lesion": "present", "mdm2_fish": "amplified"}
    with pytest.raises(InvalidParameterError, match=match):
        explain(net, evidence, **{"exact_max": 0, **kwargs})  # sampled: every option used


def test_seed_may_be_none_or_a_generator_and_exact_max_any_size(net: Network) -> None:
    evidence = {"fat_in_lesion": "present", "mdm2_fish": "amplified", "sex": "male"}
    drawn = explain(net, evidence, exact_max=0, n_permutations=30, seed=None)
    assert isinstance(drawn.seed, int)  # drawn and recorded, so the run can be repeated
    again = explain(net, evidence, exact_max=0, n_permutations=30, seed=drawn.seed)
    pd.testing.assert_frame_equal(drawn.table, again.table)
    gen = explain(net, evidence, exact_max=0, n_permutations=30, seed=np.random.default_rng(4))
    ref = explain(net, evidence, exact_max=0, n_permutations=30, seed=4)
    assert gen.seed is None
    pd.testing.assert_frame_equal(gen.table, ref.table)  # default_rng(4) is the same stream
    assert explain(net, evidence, exact_max=30).method == "exact"  # 3 findings: exact


def test_exact_values_beyond_the_cap_are_refused(net: Network) -> None:
    from softcalc_bayes.explain import MAX_EXACT
    from softcalc_bayes.workup import sample_cases

    drawn = sample_cases(net, 1, seed=0).iloc[0]  # one draw of every finding: possible
    evidence = {f: str(drawn[f]) for f in net.findings[: MAX_EXACT + 1]}
    with pytest.raises(InvalidParameterError, match=r"exact Shapley values over 21 findings"):
        explain(net, evidence, exact_max=25)
    assert explain(net, evidence, n_permutations=10).method == "monte_carlo"  # the default


def test_non_network_is_refused() -> None:
    with pytest.raises(InvalidParameterError, match=_EX.format("net") + "a Network"):
        explain(None, {"fat_in_lesion": "present"})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("order", "match"),
    [
        ([["fat_in_lesion"]], r"order: Unknown observed finding \['fat_in_lesion'\]"),
        (
            ["fat_in_lesion", "fat_in_lesion"],
            r"order must list every observed finding once; repeated: 'fat_in_lesion'; "
            r"missing: 'mdm2_fish'",
        ),
        (["mdm2_fish"], r"order must list every observed finding once; missing: 'fat_in_lesion'"),
    ],
)
def test_bad_order(net: Network, order: list, match: str) -> None:
    with pytest.raises(EvidenceError, match=match):
        explain(net, {"fat_in_lesion": "present", "mdm2_fish": "amplified"}, order=order)


def test_numpy_integer_options(net: Network) -> None:
    evidence = {"fat_in_lesion": "present", "mdm2_fish": "amplified"}
    ex = explain(
        net, evidence, exact_max=np.int64(0), n_permutations=np.int64(50), seed=np.int64(2)
    )
    assert ex.method == "monte_carlo" and ex.seed == 2 and ex.n_permutations == 50
    assert ex.table["shapley_db"].sum() == pytest.approx(ex.total_db, abs=1e-9)


def test_bad_evidence(net: Network) -> None:
    with pytest.raises(EvidenceError, match=r"Unknown finding 'fat'"):
        explain(net, {"fat": "present"})


def test_zero_probability_state_is_refused(tmp_path) -> None:
    from conftest import GATED_NODES, TINY, write_network
    from softcalc_bayes import load_network

    net = load_network(write_network(tmp_path, {**copy.deepcopy(TINY), **GATED_NODES}))
    with pytest.raises(EvidenceError, match="posterior probability zero"):
        explain(net, {"marker": "yes"}, state="d2")


def test_empty_evidence_and_outputs(net: Network, seed_case: dict[str, str]) -> None:
    empty = explain(net, {}, state="alt_wdlps")
    assert empty.table.empty and empty.total_db == 0.0
    assert empty.prior_probability == pytest.approx(float(net.posterior({})["alt_wdlps"]) / 1.0)
    ex = explain(net, dict(list(seed_case.items())[:4]))
    assert isinstance(ex, Explanation)
    text = repr(ex)
    assert "prior log-odds" in text and "posterior log-odds" in text
    assert all(f in text for f in ex.table.index)
    data = json.loads(json.dumps(ex.to_dict()))
    assert data["findings"][0]["finding"] == ex.table.index[0]
    assert data["total_db"] == pytest.approx(ex.total_db)


@pytest.mark.parametrize("kind", ["shapley", "chain"])
def test_plot_explanation_waterfall(net: Network, seed_case: dict[str, str], kind: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from softcalc_bayes.plotting import plot_explanation

    ex = explain(net, dict(list(seed_case.items())[:5]))
    fig, ax = plt.subplots()
    assert plot_explanation(ex, kind=kind, ax=ax) is ax
    bars = ax.patches
    assert len(bars) == len(ex.table) + 2
    # the last finding bar ends where the posterior bar ends
    last = bars[-2]
    assert last.get_x() + last.get_width() == pytest.approx(ex.posterior_db, abs=1e-9)
    assert bars[-1].get_width() == pytest.approx(ex.posterior_db)
    plt.close(fig)
    with pytest.raises(ValueError, match="kind must be"):
        plot_explanation(ex, kind="both")


def test_cli_explain(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    from softcalc_bayes.cli import main

    argv = ["explain", "fat_in_lesion=present", "mdm2_fish=amplified", "--versus", "ddlps"]
    plot = tmp_path / "w.png"
    assert main([*argv, "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert "Explanation of 'alt_wdlps' versus ddlps" in out and "mdm2_fish" in out
    assert plot.stat().st_size > 0
    assert main([*argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["versus"] == "ddlps"
    assert [r["finding"] for r in data["findings"]] == ["fat_in_lesion", "mdm2_fish"]
    assert sum(r["chain_db"] for r in data["findings"]) == pytest.approx(data["total_db"], abs=1e-9)
    assert main(["explain", "fat_in_lesion=present", "--versus", "malignnt"]) == 2
    assert "Did you mean 'malignant_neoplasm'?" in capsys.readouterr().err
