"""The scores a network forecasts for itself (``EvaluationReport.expected``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from softcalc_bayes import Network
from softcalc_bayes._self_consistency import SCORES, self_consistency, top_k_mass
from softcalc_bayes.cases import load_cases
from softcalc_bayes.evaluate import EvaluationReport, evaluate

EPS = 1e-15


def enumerate_scores(row: Sequence[float], truth: int) -> dict[str, float]:
    """Every score of one case with a given true diagnosis, in plain Python."""
    p_true = row[truth]
    rank = 1 + sum(1 for p in row if p > p_true)
    return {
        "top1": float(rank <= 1),
        "top3": float(rank <= 3),
        "top5": float(rank <= 5),
        "brier": sum((p - (1.0 if j == truth else 0.0)) ** 2 for j, p in enumerate(row)),
        "log_loss": -math.log(min(max(p_true, EPS), 1.0)),
    }


def reference(rows: Sequence[Sequence[float]]) -> dict[str, tuple[float, float]]:
    """Mean and sd of each mean score, the truth of each case enumerated over its row."""
    out = {}
    for score in SCORES:
        means, variances = [], []
        for row in rows:
            values = [enumerate_scores(row, j)[score] for j in range(len(row))]
            mean = sum(p * v for p, v in zip(row, values, strict=True))
            means.append(mean)
            variances.append(sum(p * (v - mean) ** 2 for p, v in zip(row, values, strict=True)))
        out[score] = (sum(means) / len(rows), math.sqrt(sum(variances)) / len(rows))
    return out


posterior_rows = st.integers(2, 8).flatmap(
    lambda k: st.lists(
        st.lists(
            st.one_of(st.just(0.0), st.just(1.0), st.floats(1e-6, 10.0)), min_size=k, max_size=k
        ).filter(lambda r: sum(r) > 0),
        min_size=1,
        max_size=12,
    )
)


@settings(max_examples=150, deadline=None)
@given(posterior_rows)
def test_forecast_equals_enumeration_over_the_truth(raw: list[list[float]]) -> None:
    values = np.asarray(raw, dtype=float)
    values /= values.sum(axis=1, keepdims=True)  # ties (equal weights) are kept exact
    observed = dict.fromkeys(SCORES, 0.5)
    table, per_case = self_consistency(values, observed, eps=EPS)
    expected = reference(values.tolist())
    for score in SCORES:
        mean, sd = expected[score]
        assert table.loc[score, "expected"] == pytest.approx(mean, rel=1e-9, abs=1e-12)
        assert table.loc[score, "sd"] == pytest.approx(sd, rel=1e-6, abs=1e-9)
    np.testing.assert_allclose(
        per_case["expected_top3"],
        [sum(p for p in row if 1 + sum(q > p for q in row) <= 3) for row in values.tolist()],
        rtol=1e-12,
        atol=1e-15,
    )


def test_ties_share_the_better_rank() -> None:
    values = np.array([[0.4, 0.4, 0.2], [0.25, 0.25, 0.5]])
    np.testing.assert_allclose(top_k_mass(values, 1), [0.8, 0.5])
    np.testing.assert_allclose(top_k_mass(values, 2), [0.8, 1.0])


def test_truths_drawn_from_the_posteriors_score_near_the_forecast() -> None:
    rng = np.random.default_rng(20261205)
    values = rng.dirichlet(np.full(12, 0.3), size=4000)
    truth = np.array([rng.choice(12, p=row) for row in values])
    observed = {
        score: float(
            np.mean([enumerate_scores(r, t)[score] for r, t in zip(values, truth, strict=True)])
        )
        for score in SCORES
    }
    table, _ = self_consistency(values, observed, eps=EPS)
    assert (table["z"].abs() < 4).all(), table  # 4 sd: a seeded draw, not a flaky bound
    # a network that is right more often than it says lies far outside its forecast
    sharpened = values**4
    sharpened /= sharpened.sum(axis=1, keepdims=True)
    too_sure, _ = self_consistency(sharpened, observed, eps=EPS)
    assert too_sure.loc["log_loss", "z"] > 4 and too_sure.loc["top1", "expected"] > 0.7


def test_degenerate_posteriors_give_a_finite_or_signed_z() -> None:
    values = np.array([[1.0, 0.0], [1.0, 0.0]])
    right, _ = self_consistency(values, dict.fromkeys(SCORES, 0.0) | {"top1": 1.0}, eps=EPS)
    assert right.loc["top1", "z"] == 0.0 and right.loc["top1", "sd"] == 0.0
    wrong, _ = self_consistency(values, dict.fromkeys(SCORES, 0.0), eps=EPS)
    assert wrong.loc["top1", "z"] == -math.inf


@pytest.fixture(scope="module")
def library(net: Network) -> EvaluationReport:
    return evaluate(net, load_cases())


def test_report_carries_the_forecast(library: EvaluationReport) -> None:
    table = library.expected
    assert list(table.index) == list(SCORES)
    for score in SCORES:
        assert table.loc[score, "observed"] == library.metrics[score]
    assert table["sd"].gt(0).all() and np.isfinite(table.to_numpy()).all()
    cases = library.per_case
    assert cases["expected_top1"].le(cases["expected_top3"] + 1e-12).all()
    np.testing.assert_allclose(table.loc["top1", "expected"], cases["expected_top1"].mean())
    unique_top = library.posteriors.apply(lambda r: (r == r.max()).sum() == 1, axis=1)
    np.testing.assert_allclose(
        cases.loc[unique_top, "expected_top1"], cases.loc[unique_top, "p_top"], rtol=1e-12
    )
    assert "Scores the network forecasts" in library.summary_text()
    assert len(library.to_dict()["expected"]) == len(SCORES)
