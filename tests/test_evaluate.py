"""Evaluation: the expected calibration errors (top-label, classwise, by group)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from softcalc_bayes import EvidenceError, InvalidParameterError, Network
from softcalc_bayes.cases import load_cases, load_examples
from softcalc_bayes.evaluate import EvaluationReport, evaluate, expected_calibration_error


def brute_force_ece(
    rows: Sequence[Sequence[float]], truth: Sequence[int], bins: int, method: str
) -> float:
    """The documented definitions, one bin and one diagnosis at a time, in plain Python."""

    def binned(pairs: list[tuple[float, float]]) -> float:
        total = 0.0
        for b in range(bins):
            members = [(p, y) for p, y in pairs if min(math.floor(p * bins), bins - 1) == b]
            if members:
                confidence = sum(p for p, _ in members) / len(members)
                observed = sum(y for _, y in members) / len(members)
                total += len(members) / len(pairs) * abs(observed - confidence)
        return total

    if method == "top_label":
        pairs = []
        for row, t in zip(rows, truth, strict=True):
            top = max(range(len(row)), key=lambda k: (row[k], -k))  # the first on ties
            pairs.append((row[top], 1.0 if top == t else 0.0))
        return binned(pairs)
    k_count = len(rows[0])
    per_class = [
        binned([(row[k], 1.0 if t == k else 0.0) for row, t in zip(rows, truth, strict=True)])
        for k in range(k_count)
    ]
    return sum(per_class) / k_count


def frame(rows: Sequence[Sequence[float]]) -> pd.DataFrame:
    return pd.DataFrame(
        np.asarray(rows, dtype=float), columns=[f"d{k}" for k in range(len(rows[0]))]
    )


@pytest.fixture(scope="module")
def library(net: Network) -> EvaluationReport:
    return evaluate(net, load_cases())


# --- synthetic reports -----------------------------------------------------------------


def test_exactly_calibrated_bins_give_zero() -> None:
    # 10 cases at confidence 0.8 of which 8 right, 4 at 0.6 of which 3 (rounded bins hold one value)
    rows = [[0.8, 0.2]] * 10 + [[0.4, 0.6]] * 5
    truth = ["d0"] * 8 + ["d1"] * 2 + ["d1"] * 3 + ["d0"] * 2
    assert expected_calibration_error(frame(rows), truth) == pytest.approx(0.0, abs=1e-12)
    assert expected_calibration_error(frame(rows), truth, method="classwise") == pytest.approx(
        0.0, abs=1e-12
    )


def test_calibrated_sample_is_near_zero_and_overconfident_is_larger() -> None:
    rng = np.random.default_rng(20261205)
    n, k = 20_000, 5
    calibrated = rng.dirichlet(np.full(k, 0.7), size=n)
    truth = [f"d{rng.choice(k, p=row)}" for row in calibrated]  # labels drawn from the posterior
    sharpened = calibrated**3
    sharpened /= sharpened.sum(axis=1, keepdims=True)  # same ranking, more extreme
    for method in ("top_label", "classwise"):
        good = expected_calibration_error(frame(calibrated), truth, method=method)
        over = expected_calibration_error(frame(sharpened), truth, method=method)
        assert good < 0.02, (method, good)
        assert over > 0.05 and over > 4 * good, (method, good, over)


def test_overconfident_report_is_measured_exactly() -> None:
    # always 90% sure, right 60% of the time: top-label ECE 0.3
    rows = [[0.9, 0.1]] * 10
    truth = ["d0"] * 6 + ["d1"] * 4
    assert expected_calibration_error(frame(rows), truth) == pytest.approx(0.3)
    # d0: 0.9 vs 0.6 -> 0.3; d1: 0.1 vs 0.4 -> 0.3
    assert expected_calibration_error(frame(rows), truth, method="classwise") == pytest.approx(0.3)


@st.composite
def posteriors_and_truth(draw: st.DrawFn) -> tuple[list[list[float]], list[int]]:
    n = draw(st.integers(1, 25))
    k = draw(st.integers(1, 6))
    weights = st.one_of(st.sampled_from([0.0, 0.5, 1.0, 3.0]), st.floats(0.0, 10.0))
    rows = []
    for _ in range(n):
        row = draw(st.lists(weights, min_size=k, max_size=k))
        assume(sum(row) > 0)
        rows.append([w / sum(row) for w in row])
    truth = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    return rows, truth


@given(
    data=posteriors_and_truth(),
    bins=st.one_of(st.integers(1, 20), st.sampled_from([1, 3, 7, 10, 1000])),
    method=st.sampled_from(["top_label", "classwise"]),
)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
def test_ece_equals_the_brute_force_reference(
    data: tuple[list[list[float]], list[int]], bins: int, method: str
) -> None:
    rows, truth = data
    got = expected_calibration_error(
        frame(rows), [f"d{t}" for t in truth], bins=bins, method=method
    )
    assert got == pytest.approx(brute_force_ece(rows, truth, bins, method), abs=1e-12)
    assert 0.0 <= got <= 1.0


# --- options -----------------------------------------------------------------------------

ROWS = frame([[0.7, 0.3], [0.2, 0.8]])


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"bins": 0}, InvalidParameterError, r"The 'bins' parameter of expected_calibration_"),
        ({"bins": 1001}, InvalidParameterError, r"'bins' .* an int in the range \[1, 1000\]"),
        ({"bins": 2.0}, InvalidParameterError, r"'bins' .* Got 2\.0 instead"),
        ({"bins": True}, InvalidParameterError, r"'bins' .* Got True instead"),
        ({"method": "toplabel"}, InvalidParameterError, r"Did you mean 'top_label'\?"),
        ({"posteriors": [[0.5, 0.5]]}, InvalidParameterError, r"'posteriors' .* DataFrame"),
        ({"posteriors": frame([[1.5, -0.5]] * 2)}, InvalidParameterError, r"in \[0, 1\]"),
        ({"posteriors": frame([[np.nan, 1.0]] * 2)}, InvalidParameterError, r"in \[0, 1\]"),
        ({"truth": ["d0"]}, InvalidParameterError, r"one diagnosis per row .* Got 1 instead"),
        ({"truth": "d0"}, InvalidParameterError, r"'truth' parameter .* sequence"),
        ({"truth": ["d0", "d"]}, EvidenceError, r"Unknown diagnosis 'd'\. Did you mean"),
    ],
)
def test_ece_options_are_validated(kwargs: dict, error: type, pattern: str) -> None:
    args = {"posteriors": ROWS, "truth": ["d0", "d1"], **kwargs}
    with pytest.raises(error, match=pattern):
        expected_calibration_error(**args)


@pytest.mark.parametrize("bins", [0, 1001, "10"])
def test_evaluate_bins_are_validated(net: Network, bins: object) -> None:
    with pytest.raises(InvalidParameterError, match=r"The 'bins' parameter of evaluate"):
        evaluate(net, load_examples(), bins=bins)  # type: ignore[arg-type]


# --- the report ---------------------------------------------------------------------------


def test_report_ece_matches_the_function(library: EvaluationReport) -> None:
    truth = library.per_case["diagnosis"]
    for method, key in (("top_label", "ece_top_label"), ("classwise", "ece_classwise")):
        assert library.metrics[key] == pytest.approx(
            expected_calibration_error(library.posteriors, truth, method=method), abs=1e-12
        )
    assert library.reliability.attrs["ece"] == library.metrics["ece_top_label"]
    assert library.reliability["count"].sum() == len(library.per_case)
    gaps = library.reliability["mean_confidence"] - library.reliability["accuracy"]
    np.testing.assert_allclose(library.reliability["gap"], gaps)
    weighted = (library.reliability["count"] * library.reliability["gap"].abs()).sum()
    assert weighted / len(library.per_case) == pytest.approx(library.metrics["ece_top_label"])


def test_per_group_values_cover_every_group(net: Network, library: EvaluationReport) -> None:
    table = library.calibration_by_group
    groups = list(dict.fromkeys(net.spec.groups[d] for d in net.states(net.target)))
    assert sorted(table.index) == sorted(groups)
    assert table["n_diagnoses"].sum() == len(net.states(net.target))
    assert table["n_top_calls"].sum() == len(library.per_case)
    assert table["classwise_ece"].notna().all()
    called = library.per_case["top_call"].map(net.spec.groups)
    truth = library.per_case["diagnosis"].to_numpy()
    per_diagnosis = {  # one column at a time; -1 marks "not this diagnosis"
        d: brute_force_ece(
            [[p] for p in library.posteriors[d]], [0 if t == d else -1 for t in truth], 10, "x"
        )
        for d in net.states(net.target)
    }
    for group, row in table.iterrows():
        mine = (called == group).to_numpy()
        if row["n_top_calls"]:
            assert row["top_label_ece"] == pytest.approx(
                expected_calibration_error(
                    library.posteriors[mine], library.per_case["diagnosis"][mine]
                ),
                abs=1e-12,
            )
            part = library.reliability_by_group[library.reliability_by_group["group"] == group]
            assert part["count"].sum() == row["n_top_calls"]
        else:
            assert math.isnan(row["top_label_ece"])
        # the group's classwise figure is the mean over its diagnoses
        members = [d for d in net.states(net.target) if net.spec.groups[d] == group]
        assert row["classwise_ece"] == pytest.approx(
            np.mean([per_diagnosis[d] for d in members]), abs=1e-12
        )


def test_every_group_is_listed_even_without_cases(net: Network) -> None:
    report = evaluate(net, load_examples())
    assert len(report.calibration_by_group) == len(set(net.spec.groups.values()))
    empty = report.calibration_by_group[report.calibration_by_group["n_top_calls"] == 0]
    assert len(empty) > 0 and empty["top_label_ece"].isna().all()
    assert set(report.reliability_by_group["group"]) <= set(report.calibration_by_group.index)


@pytest.mark.parametrize("bins", [1, 5, 20])
def test_bin_option_reaches_every_table(net: Network, bins: int) -> None:
    report = evaluate(net, load_examples(), bins=bins)
    assert report.reliability.attrs["bins"] == bins
    assert report.reliability["bin_high"].max() <= 1.0
    widths = report.reliability["bin_high"] - report.reliability["bin_low"]
    np.testing.assert_allclose(widths, 1 / bins)
    assert f"({bins} equal-width bins)" in report.summary_text()


def test_report_text_and_json(library: EvaluationReport) -> None:
    text = library.summary_text()
    assert "Expected calibration error" in text and "classwise" in text
    data = library.to_dict()
    assert {"ece_top_label", "ece_classwise"} <= set(data["metrics"])
    assert len(data["calibration_by_group"]) == len(library.calibration_by_group)
    json.dumps(data)  # plain Python throughout


def test_ties_with_the_truth_follow_the_top_calls_order(net: Network) -> None:
    """A case without findings: every diagnosis at its prior; ties broken as the top call."""
    from softcalc_bayes.cases import Case

    states = list(net.states("diagnosis"))
    prior = net.posterior({}).reindex(states).to_numpy()
    cases = [
        Case(id=f"empty_{d}", diagnosis=d, citation="-", confirmation="-", findings={})
        for d in states
    ]
    report = evaluate(net, cases)
    ranks = report.per_case["rank"].to_numpy()
    for k, d in enumerate(states):  # ahead: larger prior, or equal prior and earlier in order
        ahead = sum(p > prior[k] or (p == prior[k] and j < k) for j, p in enumerate(prior))
        assert ranks[k] == 1 + ahead, d
    top_is_truth = report.per_case["top_call"] == report.per_case["diagnosis"]
    assert ((ranks == 1) == top_is_truth.to_numpy()).all()
    assert sorted(ranks) == list(range(1, len(states) + 1))  # a strict order: no shared ranks
    assert report.metrics["top1"] == pytest.approx(1 / len(states))


@pytest.mark.parametrize(
    ("n_cases", "progress", "shown"),
    [(2, None, False), (300, None, None), (2, True, True), (300, False, False)],
)
def test_progress_counts_cases_and_stays_quiet_for_one_batch(
    net: Network, monkeypatch: pytest.MonkeyPatch, n_cases: int, progress, shown
) -> None:
    import contextlib
    import importlib

    ev = importlib.import_module("softcalc_bayes.evaluate")  # the module, not the function

    seen: list[tuple[int, str, object]] = []
    steps: list[int] = []

    class Bar:
        def update(self, n: int = 1) -> None:
            steps.append(n)

    @contextlib.contextmanager
    def spy(total: int, *, desc: str, progress: object, unit: str = "it"):
        seen.append((total, unit, progress))
        yield Bar()

    monkeypatch.setattr(ev, "progress_bar", spy)
    case = load_examples()[0]
    evaluate(net, [case] * n_cases, progress=progress)
    assert seen == [(n_cases, "case", shown)]  # None: left to the notebook/terminal check
    assert sum(steps) == n_cases
