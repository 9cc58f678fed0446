"""Plots: the tornado draws what the table ranks; the network drawing shows its groups;
the reliability diagram draws the report's bins."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import softcalc_bayes as sb
from softcalc_bayes import Network
from softcalc_bayes.cases import load_examples
from softcalc_bayes.evaluate import EvaluationReport
from softcalc_bayes.plotting import _label, plot_network, plot_reliability, plot_tornado


@pytest.fixture(scope="module")
def seed_table(net: Network) -> pd.DataFrame:
    return sb.sensitivity(net, dict(load_examples()[0].findings))


@pytest.mark.parametrize("top", [1, 5, 12])
def test_tornado_shows_the_tables_top_rows(seed_table: pd.DataFrame, top: int) -> None:
    fig, ax = plt.subplots()
    plot_tornado(seed_table, top=top, ax=ax)
    labels = [t.get_text() for t in ax.get_yticklabels()][::-1]
    assert labels == [_label(r) for _, r in seed_table.head(top).iterrows()]
    widths = sorted((round(p.get_width(), 12) for p in ax.patches), reverse=True)
    np.testing.assert_allclose(widths, seed_table["swing"].head(top).to_numpy(), atol=1e-12)
    plt.close(fig)


def test_tornado_bars_are_not_the_full_unit_span(seed_table: pd.DataFrame) -> None:
    fig, ax = plt.subplots()
    plot_tornado(seed_table, top=10, ax=ax)
    assert max(p.get_width() for p in ax.patches) < 1.0
    assert len({round(p.get_width(), 6) for p in ax.patches}) > 1
    plt.close(fig)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.drop(columns="swing"), "missing columns: swing"),
        (lambda t: t, "top must be a positive integer"),
    ],
)
def test_tornado_refuses_bad_input(seed_table: pd.DataFrame, change, message) -> None:
    with pytest.raises(ValueError, match=message):
        plot_tornado(change(seed_table), top=0)


def test_plot_network_marks_evidence_and_influence(net: Network) -> None:
    evidence = dict(load_examples()[0].findings)
    whatif = sb.evidence_whatif(net, evidence)
    fig, ax = plt.subplots(figsize=(10, 10))
    plot_network(net, evidence=evidence, influence=whatif, top=3, ax=ax)
    texts = {t.get_text() for t in ax.texts}
    for group in ("clinical", "imaging", "laboratory", "molecular"):
        assert group in texts
    assert "fat_in_lesion = present" in texts
    assert "serum_pth" in texts and net.target in texts
    rings = [c for c in ax.collections if c.get_sizes().size and c.get_sizes()[0] == 420]
    assert len(rings) == 1 and len(rings[0].get_offsets()) == 3
    plt.close(fig)


def test_plot_network_rejects_unknown_evidence(net: Network) -> None:
    with pytest.raises(ValueError, match="Did you mean 'fat_in_lesion'"):
        plot_network(net, evidence={"fat_in_lesio": "present"})
    plt.close("all")


def test_plot_network_rejects_a_bad_influence_table(net: Network) -> None:
    with pytest.raises(ValueError, match="missing columns"):
        plot_network(net, influence=pd.DataFrame({"finding": ["fat_in_lesion"]}))
    plt.close("all")


@pytest.fixture(scope="module")
def report(net: Network) -> EvaluationReport:
    return sb.evaluate(net, sb.load_cases())


def test_reliability_diagram_draws_the_top_label_bins(report: EvaluationReport) -> None:
    fig, ax = plt.subplots()
    assert plot_reliability(report, ax=ax) is ax
    line = next(li for li in ax.get_lines() if li.get_label() == "network")
    np.testing.assert_allclose(line.get_xdata(), report.reliability["mean_confidence"])
    np.testing.assert_allclose(line.get_ydata(), report.reliability["accuracy"])
    assert f"{report.metrics['ece_top_label']:.3f}" in ax.get_title()
    assert [t.get_text() for t in ax.texts] == [str(c) for c in report.reliability["count"]]
    plt.close(fig)


def test_reliability_diagram_keeps_the_pooled_table(report: EvaluationReport) -> None:
    fig, ax = plt.subplots()
    plot_reliability(report.calibration, ax=ax)
    line = next(li for li in ax.get_lines() if li.get_label() == "network")
    np.testing.assert_allclose(line.get_xdata(), report.calibration["mean_predicted"])
    assert ax.get_xlabel() == "mean predicted probability"
    plt.close(fig)


def test_reliability_small_multiples_one_panel_per_group(report: EvaluationReport) -> None:
    panels = plot_reliability(report, by_group=True)
    groups = list(report.calibration_by_group.index)
    assert len(panels) == 1 + len(groups)
    assert panels[0].get_title().startswith(f"all cases (n={len(report.per_case)})")
    assert [p.get_title().split(" (")[0] for p in panels[1:]] == groups
    plt.close(panels[0].figure)
    fig, grid = plt.subplots(3, 3)
    panels = plot_reliability(report.reliability_by_group, by_group=True, ax=grid)
    assert len(panels) == len(set(report.reliability_by_group["group"]))
    plt.close(fig)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: plot_reliability(r.per_case), "missing columns"),
        (lambda r: plot_reliability("report"), "needs an EvaluationReport"),
        (lambda r: plot_reliability(r.reliability, by_group=True), "reliability_by_group"),
        (lambda r: plot_reliability(r, by_group=1), "by_group must be a bool"),
        (lambda r: plot_reliability(r, by_group=True, ax=[plt.gca()]), "needs 10 Axes, got 1"),
    ],
)
def test_reliability_diagram_refuses_bad_input(report: EvaluationReport, call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call(report)
    plt.close("all")
