"""Sets of states as evidence: "the finding is one of these states".

A set is exact conditioning on the event that the finding's state lies in the set, so the
posterior must equal the mixture of the single-state posteriors weighted by the probability
of each state given the rest of the evidence, and agree with pgmpy (given the 0/1 indicator
as virtual evidence). Batches, case files and the command line must give the same answers.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _random_specs import networks_with_evidence
from softcalc_bayes import (
    EvidenceError,
    Network,
    evaluate,
    explain,
    next_best_test,
    posterior_uncertainty,
    sensitivity,
    sequential_workup,
    sobol_indices,
)
from softcalc_bayes.cases import load_cases
from softcalc_bayes.cli import main
from softcalc_bayes.exceptions import NetworkSpecError
from softcalc_bayes.network import load_network

PATTERN = "mineralization_pattern"
SOME = ("chondroid_rings_arcs", "punctate_stippled")


def _mixture(net: Network, evidence: dict[str, Any], name: str, states: tuple[str, ...]) -> Any:
    """P(diagnosis | evidence, name in states) as the weighted mixture of single states."""
    weights, posteriors = [], []
    for state in states:
        try:
            log_p = net.log_evidence({**evidence, name: state})
        except EvidenceError:
            continue  # this state has probability zero with the rest of the evidence
        if math.isfinite(log_p):
            weights.append(math.exp(log_p))
            posteriors.append(net.posterior({**evidence, name: state}).sort_index())
    if not weights or sum(weights) == 0:
        return None
    return sum(w * p for w, p in zip(weights, posteriors, strict=True)) / sum(weights)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_set_is_the_mixture_of_its_states_and_agrees_with_pgmpy(data: st.DataObject) -> None:
    net, evidence = data.draw(networks_with_evidence(max_findings=3))
    free = [f for f in net.findings if f not in evidence]
    if not free:
        return
    name = data.draw(st.sampled_from(free))
    states = tuple(data.draw(st.lists(st.sampled_from(net.states(name)), min_size=1, unique=True)))
    expected = _mixture(net, evidence, name, states)
    if expected is None:
        with pytest.raises(EvidenceError, match="probability zero"):
            net.posterior({**evidence, name: list(states)})
        return
    got = net.posterior({**evidence, name: list(states)}).sort_index()
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), atol=1e-9)
    reference = net.posterior({**evidence, name: set(states)}, engine="pgmpy").sort_index()
    np.testing.assert_allclose(got.to_numpy(), reference.to_numpy(), atol=1e-9)
    log_p = net.log_evidence({**evidence, name: states})
    total = sum(
        math.exp(net.log_evidence({**evidence, name: s}))
        for s in states
        if math.isfinite(net.log_evidence({**evidence, name: s}))
    )
    assert log_p == pytest.approx(math.log(total), abs=1e-9)


def test_one_state_is_the_state_and_every_state_is_nothing(net: Network) -> None:
    evidence = {"anatomic_site": "forearm_wrist_hand", "age_group": "adult_40_59"}
    alone = net.posterior({**evidence, PATTERN: "phleboliths"})
    as_set = net.posterior({**evidence, PATTERN: ("phleboliths",)})
    pd.testing.assert_series_equal(as_set.sort_index(), alone.sort_index(), atol=1e-12)
    everything = net.posterior({**evidence, PATTERN: list(net.states(PATTERN))})
    pd.testing.assert_series_equal(
        everything.sort_index(), net.posterior(evidence).sort_index(), atol=1e-12
    )


def test_the_order_and_the_container_do_not_matter(net: Network) -> None:
    base = net.posterior({PATTERN: list(SOME)}).sort_index()
    for value in (tuple(reversed(SOME)), set(SOME), frozenset(SOME), [*SOME, SOME[0]]):
        got = net.posterior({PATTERN: value}).sort_index()
        pd.testing.assert_series_equal(got, base, atol=1e-15)


def test_the_set_constrains_the_finding_itself(net: Network) -> None:
    marginal = net.marginals({PATTERN: list(SOME)})[PATTERN]
    assert set(marginal[marginal > 0].index) == set(SOME)
    assert marginal.sum() == pytest.approx(1.0)
    assert net.mpe({PATTERN: list(SOME)}).assignment[PATTERN] in SOME


@pytest.mark.parametrize(
    ("evidence", "message"),
    [
        ({PATTERN: []}, "an empty set of states; give at least one of mature_trabecular_bone"),
        ({PATTERN: ["phlebolith"]}, "Unknown state 'phlebolith'. Did you mean 'phleboliths'?"),
        ({PATTERN: ["phleboliths", 3]}, "Unknown state 3"),
        ({"lesion_stage": ["maturing"]}, "'lesion_stage' is a latent node"),
        ({"diagnosis": ["ddlps"]}, "Evidence on the target 'diagnosis' itself"),
        ({"patern": ["phleboliths"]}, "Unknown finding 'patern'"),
    ],
)
def test_bad_sets_are_refused_with_a_clear_message(
    net: Network, evidence: dict[str, Any], message: str
) -> None:
    with pytest.raises(EvidenceError, match=message.replace("(", r"\(").replace("?", r"\?")):
        net.posterior(evidence)


def test_a_set_and_soft_evidence_on_one_finding_are_refused(net: Network) -> None:
    flat = dict.fromkeys(net.states(PATTERN), 1.0)
    with pytest.raises(EvidenceError, match="both as a set of states and in soft"):
        net.posterior({PATTERN: list(SOME)}, soft={PATTERN: flat})


def test_encode_needs_one_state_and_says_so(net: Network) -> None:
    with pytest.raises(EvidenceError, match="give one state here, not a set of states"):
        net.encode({PATTERN: list(SOME)})


@pytest.mark.parametrize(
    "analysis",
    [
        lambda net, ev: sensitivity(net, ev).attrs["evidence"],
        lambda net, ev: posterior_uncertainty(net, ev, n_samples=50, seed=0).evidence,
        lambda net, ev: sobol_indices(net, ev, n_base=8, seed=0).attrs["evidence"],
    ],
    ids=["sensitivity", "posterior_uncertainty", "sobol_indices"],
)
def test_parameter_analyses_take_a_set(net: Network, analysis: Any) -> None:
    evidence = {"anatomic_site": "forearm_wrist_hand", PATTERN: list(SOME)}
    recorded = analysis(net, evidence)
    assert recorded[PATTERN] == tuple(s for s in net.states(PATTERN) if s in SOME)


def test_next_best_test_ranks_the_other_findings_given_a_set(net: Network) -> None:
    evidence = {"anatomic_site": "forearm_wrist_hand", PATTERN: list(SOME)}
    table = next_best_test(net, evidence)
    assert PATTERN not in table.index  # observed (as a set), not a candidate

    def entropy(p: Any) -> float:
        p = p[p > 0]
        return float(-(p * np.log2(p)).sum())

    for finding in table.index[:3]:
        outcome = net.posterior(evidence, target=finding)
        expected = entropy(net.posterior(evidence).to_numpy()) - sum(
            float(outcome[s]) * entropy(net.posterior({**evidence, finding: s}).to_numpy())
            for s in outcome.index
            if outcome[s] > 0
        )
        got = table.loc[finding, "information_gain_bits"]
        assert got == pytest.approx(expected, abs=1e-9)
    steps = sequential_workup(net, evidence, stop_at=0.9, seed=0)
    assert steps.attrs["evidence"][PATTERN] == SOME


def test_explain_weighs_a_set_as_one_finding(net: Network) -> None:
    evidence = {"anatomic_site": "forearm_wrist_hand", PATTERN: list(SOME), "sex": "male"}
    ex = explain(net, evidence, state="soft_tissue_chondroma")
    assert ex.table.loc[PATTERN, "state"] == ",".join(SOME)
    assert ex.table["shapley_db"].sum() == pytest.approx(ex.total_db, abs=1e-9)

    def log_odds_db(given: dict[str, Any]) -> float:
        p = float(net.posterior(given)["soft_tissue_chondroma"])
        return 10 * math.log10(p / (1 - p))

    alone = log_odds_db({PATTERN: list(SOME)}) - log_odds_db({})
    assert ex.table.loc[PATTERN, "alone_db"] == pytest.approx(alone, abs=1e-9)
    assert ex.posterior_db == pytest.approx(log_odds_db(evidence), abs=1e-9)


@pytest.mark.parametrize("repeat", [1, 300])  # cell by cell, and factorised (> 512 rows)
def test_batches_with_sets_equal_single_queries(net: Network, repeat: int) -> None:
    rows: list[dict[str, Any]] = [
        {"anatomic_site": "forearm_wrist_hand", PATTERN: list(SOME)},
        {"anatomic_site": "thigh", PATTERN: "phleboliths"},
        {"sex": "female"},
        {PATTERN: ("phleboliths", "curvilinear_rim"), "sex": "male"},
        {PATTERN: frozenset({"phleboliths"})},
        {PATTERN: {"lobulated_amorphous", "homogeneous_globular"}},
    ]
    frame = pd.DataFrame(rows * repeat)
    batch = net.posterior_batch(frame)
    for i, row in enumerate(rows):
        single = net.posterior(row).reindex(batch.columns)
        np.testing.assert_allclose(batch.iloc[i].to_numpy(), single.to_numpy(), atol=1e-12)
    np.testing.assert_allclose(batch.sum(axis=1), 1.0, atol=1e-12)


def test_sets_survive_a_parquet_round_trip(net: Network, tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    # Parquet holds a column of lists (no mixing with strings): one state is a list of one
    frame = pd.DataFrame({PATTERN: [list(SOME), ["phleboliths"], None], "sex": ["male"] * 3})
    frame.to_parquet(tmp_path / "cases.parquet")
    back = pd.read_parquet(tmp_path / "cases.parquet")
    assert not isinstance(back[PATTERN].iloc[0], list)  # an array after the round trip
    pd.testing.assert_frame_equal(net.posterior_batch(back), net.posterior_batch(frame))


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        (["phlebolith"], r"Row 0, column 'mineralization_pattern': Unknown state 'phlebolith'"),
        ([], r"Row 0, column 'mineralization_pattern': an empty set of states"),
        ({"a": 1}, r"Row 0, column 'mineralization_pattern': a cell holds dict"),
    ],
)
@pytest.mark.parametrize("repeat", [1, 600])
def test_bad_sets_in_a_batch_name_the_row_and_column(
    net: Network, cell: Any, message: str, repeat: int
) -> None:
    frame = pd.DataFrame({PATTERN: [cell] * repeat})
    with pytest.raises(EvidenceError, match=message):
        net.posterior_batch(frame)


def test_a_set_column_and_soft_evidence_on_it_are_refused(net: Network) -> None:
    flat = dict.fromkeys(net.states(PATTERN), 1.0)
    with pytest.raises(EvidenceError, match="is also a column of cases"):
        net.posterior_batch(pd.DataFrame({PATTERN: [list(SOME)]}), soft={PATTERN: flat})


def test_case_files_take_lists_of_states(net: Network, tmp_path: Path) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text(
        "- id: c1\n  diagnosis: soft_tissue_chondroma\n  citation: test\n"
        "  findings: {anatomic_site: forearm_wrist_hand, "
        "mineralization_pattern: [chondroid_rings_arcs, punctate_stippled]}\n",
        encoding="utf-8",
    )
    (case,) = load_cases(path)
    assert case.findings[PATTERN] == SOME
    report = evaluate(net, [case])
    expected = net.posterior(dict(case.findings))["soft_tissue_chondroma"]
    assert report.per_case.loc["c1", "p_true"] == pytest.approx(float(expected), abs=1e-12)


@pytest.mark.parametrize(
    ("value", "message"),
    [("[]", "is an empty list of states"), ("[1, 2]", "non-text name or value")],
)
def test_bad_lists_in_case_files_are_refused(tmp_path: Path, value: str, message: str) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text(
        f"- id: c1\n  diagnosis: ddlps\n  citation: test\n  findings: {{sex: {value}}}\n",
        encoding="utf-8",
    )
    with pytest.raises(NetworkSpecError, match=message):
        load_cases(path)


def test_the_command_line_reads_comma_separated_sets(
    net: Network, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    code = main(["diagnose", f"{PATTERN}={','.join(SOME)}", "--json", "--top", "1"])
    rows = json.loads(capsys.readouterr().out)
    assert code == 0
    expected = net.posterior({PATTERN: list(SOME)})
    assert rows[0]["diagnosis"] == expected.index[0]
    assert rows[0]["probability"] == pytest.approx(float(expected.iloc[0]), abs=1e-12)


def test_the_command_line_analyses_take_a_set(
    net: Network, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    evidence = ["anatomic_site=forearm_wrist_hand", f"{PATTERN}={','.join(SOME)}"]
    expected = net.posterior({"anatomic_site": "forearm_wrist_hand", PATTERN: list(SOME)})
    code = main(["uncertainty", *evidence, "--samples", "50", "--seed", "0", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["top"] == expected.index[0]
    assert result["summary"][0]["posterior"] == pytest.approx(float(expected.iloc[0]), abs=1e-12)
    assert main(["sensitivity", *evidence, "--top", "2", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 2 and rows[0]["node"] in net.nodes


@pytest.mark.parametrize("token", [f"{PATTERN}=phleboliths,", f"{PATTERN}=,phleboliths"])
def test_malformed_sets_on_the_command_line_exit_2(
    token: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diagnose", token]) == 2
    assert "finding=state1,state2" in capsys.readouterr().err


def test_a_state_whose_name_holds_a_comma_stays_one_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from conftest import TINY, assumed_node, write_network

    files = {
        **TINY,
        "nodes/shade.yaml": assumed_node(
            "shade", ["dark,red", "pale"], "pale", {"dark,red": 0.3}, d1={"dark,red": 0.8}
        ),
    }
    folder = write_network(tmp_path / "net", files)
    net = load_network(folder)
    argv = ["diagnose", "--network", str(folder), "--json", "--top", "3"]
    assert main([*argv[:1], "shade=dark,red", *argv[1:]]) == 0
    rows = json.loads(capsys.readouterr().out)
    expected = net.posterior({"shade": "dark,red"})
    assert rows[0]["probability"] == pytest.approx(float(expected.iloc[0]), abs=1e-12)
    assert main([*argv[:1], "colour=red,green", *argv[1:]]) == 0  # a set of two states
    rows = json.loads(capsys.readouterr().out)
    expected = net.posterior({"colour": ["red", "green"]})
    assert rows[0]["probability"] == pytest.approx(float(expected.iloc[0]), abs=1e-12)


def test_score_file_reads_sets_from_csv_and_parquet(net: Network, tmp_path: Path) -> None:
    from softcalc_bayes.cohort import score_file

    rows = {"id": [1, 2, 3], PATTERN: [",".join(SOME), "phleboliths", None]}
    pd.DataFrame(rows).to_csv(tmp_path / "cases.csv", index=False)
    lists = {"id": [1, 2], PATTERN: [list(SOME), ["phleboliths"]]}
    pd.DataFrame(lists).to_parquet(tmp_path / "cases.parquet")
    for source in ("cases.csv", "cases.parquet"):
        score_file(net, tmp_path / source, tmp_path / "out.parquet", keep=["id"])
        out = pd.read_parquet(tmp_path / "out.parquet")
        expected_rows: list[dict[str, Any]] = [{PATTERN: list(SOME)}, {PATTERN: "phleboliths"}]
        for i, evidence in enumerate(expected_rows):
            expected = net.posterior(evidence)
            got = out.iloc[i][list(expected.index)].to_numpy(dtype=float)
            np.testing.assert_allclose(got, expected.to_numpy(), atol=1e-12)


def test_score_file_names_a_bad_state_inside_a_csv_set(net: Network, tmp_path: Path) -> None:
    from softcalc_bayes.cohort import score_file

    pd.DataFrame({PATTERN: ["phleboliths", "chondroid_rings_arcs,phlebolith"]}).to_csv(
        tmp_path / "cases.csv", index=False
    )
    with pytest.raises(EvidenceError, match=r"Row 1, column 'mineralization_pattern': Unknown"):
        score_file(net, tmp_path / "cases.csv", tmp_path / "out.parquet")
    assert not (tmp_path / "out.parquet").exists()


def test_a_csv_field_that_is_a_state_with_a_comma_stays_one_state(tmp_path: Path) -> None:
    from conftest import TINY, assumed_node, write_network
    from softcalc_bayes.cohort import score_file

    shade = assumed_node(
        "shade", ["dark,red", "pale"], "pale", {"dark,red": 0.3}, d1={"dark,red": 0.8}
    )
    net = load_network(write_network(tmp_path / "net", {**TINY, "nodes/shade.yaml": shade}))
    pd.DataFrame({"shade": ["dark,red"], "colour": ["red,green"]}).to_csv(
        tmp_path / "cases.csv", index=False
    )
    score_file(net, tmp_path / "cases.csv", tmp_path / "out.parquet")
    expected = net.posterior({"shade": "dark,red", "colour": ["red", "green"]})
    got = pd.read_parquet(tmp_path / "out.parquet").iloc[0][list(expected.index)]
    np.testing.assert_allclose(got.to_numpy(dtype=float), expected.to_numpy(), atol=1e-12)
