"""Plots: the tornado draws what the table ranks; the network drawing shows its groups;
the reliability diagram draws the report's bins."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import softcalc_bayes as sb
from softcalc_bayes import EvidenceError, InvalidParameterError, Network
from softcalc_bayes.cases import load_examples
from softcalc_bayes.evaluate import EvaluationReport
from softcalc_bayes.plotting import (
    _label,
    plot_explanation,
    plot_network,
    plot_posterior,
    plot_reliability,
    plot_sensitivity_function,
    plot_tornado,
)


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
    ("change", "top", "message"),
    [
        (lambda t: t.drop(columns="swing"), 1, "missing columns: swing"),
        (
            lambda t: t,
            0,
            r"The 'top' parameter of plot_tornado must be an int in the range \[1, inf\)",
        ),
    ],
)
def test_tornado_refuses_bad_input(seed_table: pd.DataFrame, change, top, message) -> None:
    with pytest.raises(ValueError, match=message):
        plot_tornado(change(seed_table), top=top)


def test_plot_posterior_sorts_and_labels(net: Network) -> None:
    post = net.posterior({"fat_in_lesion": "present", "mdm2_fish": "amplified"})
    shuffled = post.sample(frac=1.0, random_state=0)  # the same probabilities, unsorted
    fig, ax = plt.subplots()
    plot_posterior(shuffled, top=4, labels=net.labels, ax=ax)
    names = [t.get_text() for t in ax.get_yticklabels()][::-1]  # top of the chart first
    widths = [p.get_width() for p in ax.patches][::-1]
    np.testing.assert_allclose(widths, post.to_numpy()[:4], atol=1e-15)  # the four largest
    by_label = {net.labels[k]: v for k, v in post.items()}
    assert [by_label[n] for n in names] == widths  # each bar carries its own state's label
    plt.close(fig)


@pytest.mark.parametrize(
    ("arg", "top", "message"),
    [
        ({"a": 0.5}, 3, r"'posterior' parameter of plot_posterior must be a pandas Series"),
        (pd.Series({"a": 0.5, "b": float("nan")}), 3, r"outside \[0, 1\] or NaN"),
        (pd.Series({"a": 1.5}), 3, r"outside \[0, 1\] or NaN"),
        (pd.Series({"a": 1.0}), 0, r"The 'top' parameter of plot_posterior must be an int"),
        (pd.Series({"a": 1.0}), True, r"The 'top' parameter of plot_posterior must be an int"),
    ],
)
def test_plot_posterior_refuses_bad_input(arg, top, message) -> None:
    with pytest.raises(ValueError, match=message):
        plot_posterior(arg, top=top)


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
        (
            lambda r: plot_reliability(r, by_group=1),
            "'by_group' parameter of plot_reliability must be a bool",
        ),
        (lambda r: plot_reliability(r, by_group=True, ax=[plt.gca()]), "needs 10 Axes, got 1"),
    ],
)
def test_reliability_diagram_refuses_bad_input(report: EvaluationReport, call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call(report)
    plt.close("all")


# ------------------------------------------------- bad input gets the library's errors
@pytest.fixture(scope="module")
def seed_evidence() -> dict[str, str]:
    return dict(load_examples()[0].findings)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda t, e, n: plot_tornado(n.posterior(e)),
            InvalidParameterError,
            r"'table' parameter of plot_tornado must be the table of sensitivity\(\).*Series",
        ),
        (
            lambda t, e, n: plot_tornado(t.iloc[:0]),
            InvalidParameterError,
            "at least one row",
        ),
        (
            lambda t, e, n: plot_tornado(t.assign(swing="x")),
            InvalidParameterError,
            "non-numeric columns: swing",
        ),
        (
            lambda t, e, n: plot_tornado(t, top=2.5),
            InvalidParameterError,
            r"The 'top' parameter of plot_tornado must be an int in the range \[1, inf\)",
        ),
        (
            lambda t, e, n: plot_sensitivity_function(t),
            InvalidParameterError,
            r"'row' parameter of plot_sensitivity_function must be one row .*table\.iloc\[0\]",
        ),
        (
            lambda t, e, n: plot_sensitivity_function(n.posterior(e)),
            InvalidParameterError,
            "missing: a, b, c, d",
        ),
        (
            lambda t, e, n: plot_sensitivity_function(pd.Series(t.iloc[0].to_dict() | {"a": "x"})),
            InvalidParameterError,
            "non-numeric: a",
        ),
        (
            lambda t, e, n: plot_sensitivity_function(t.iloc[0], threshold="x"),
            InvalidParameterError,
            r"The 'threshold' parameter of plot_sensitivity_function must be a float in the "
            r"range \[0, 1\] or None\. Got 'x' instead",
        ),
        (
            lambda t, e, n: plot_sensitivity_function(t.iloc[0], points=2.5),
            InvalidParameterError,
            "The 'points' parameter of plot_sensitivity_function must be an int",
        ),
        (
            lambda t, e, n: plot_explanation(sb.explain(n, e).table),
            InvalidParameterError,
            r"must be the Explanation returned by explain\(\)\. Got a DataFrame \(pass the Explanation itself, not its table\)",
        ),
        (
            lambda t, e, n: plot_explanation(sb.explain(n, e), kind="both"),
            InvalidParameterError,
            "kind must be",
        ),
        (
            lambda t, e, n: plot_network(None),
            InvalidParameterError,
            "The 'net' parameter of plot_network must be a Network",
        ),
        (
            lambda t, e, n: plot_network(n, evidence=["fat_in_lesion"]),
            EvidenceError,
            "Evidence must be a mapping",
        ),
        (
            lambda t, e, n: plot_network(n, evidence={"fat_in_lesion": "x"}),
            EvidenceError,
            r"Finding 'fat_in_lesion': Unknown state 'x'",
        ),
        (
            lambda t, e, n: plot_network(n, evidence={"diagnosis": "alt_wdlps"}),
            EvidenceError,
            "Evidence on the target 'diagnosis' itself",
        ),
        (
            lambda t, e, n: plot_network(n, influence="x"),
            InvalidParameterError,
            "The 'influence' parameter of plot_network must be a pandas Series",
        ),
        (
            lambda t, e, n: plot_network(n, influence=pd.Series({"fat_in_lesio": 1.0})),
            EvidenceError,
            "Unknown node 'fat_in_lesio'. Did you mean 'fat_in_lesion'",
        ),
        (
            lambda t, e, n: plot_network(n, influence=pd.Series({"fat_in_lesion": np.nan})),
            InvalidParameterError,
            r"finite numbers.*'fat_in_lesion'",
        ),
        (
            lambda t, e, n: plot_network(n, influence=pd.Series({"fat_in_lesion": "high"})),
            InvalidParameterError,
            r"finite numbers.*'fat_in_lesion'",
        ),
        (
            lambda t, e, n: plot_network(n, top=1.5),
            InvalidParameterError,
            r"The 'top' parameter of plot_network must be an int in the range \[0, inf\)",
        ),
        (
            lambda t, e, n: plot_reliability("report"),
            InvalidParameterError,
            "needs an EvaluationReport",
        ),
    ],
)
def test_plots_refuse_bad_input_with_library_errors(
    seed_table: pd.DataFrame, seed_evidence: dict[str, str], net: Network, call, error, message
) -> None:
    with pytest.raises(error, match=message):
        call(seed_table, seed_evidence, net)
    plt.close("all")


def test_plot_posterior_errors_are_library_errors() -> None:
    with pytest.raises(InvalidParameterError, match="must be a pandas Series"):
        plot_posterior({"a": 0.5})


def test_plot_network_draws_a_set_of_states(net: Network) -> None:
    fig, ax = plt.subplots(figsize=(10, 10))
    plot_network(net, evidence={"fat_in_lesion": ["present", "absent"], "sex": None}, ax=ax)
    assert ax.get_title().endswith("1 entered")
    assert any(t.get_text().startswith("fat_in_lesion = present or") for t in ax.texts)
    plt.close(fig)


def test_latent_nodes_are_drawn_apart(net: Network) -> None:
    from softcalc_bayes._display import finding_groups
    from softcalc_bayes.plotting import _network_layout

    pos, _, _ = _network_layout(net, finding_groups(net))
    points = np.array([pos[n] for n in net.latent])
    gaps = [np.linalg.norm(points[i] - points[j]) for i in range(len(points)) for j in range(i)]
    assert min(gaps) > 0.3  # three latent forms share their children's sector


def _circular_gaps(placed: dict[str, float]) -> np.ndarray:
    turn = np.sort(np.mod(list(placed.values()), 2 * np.pi))
    return np.diff(np.append(turn, turn[0] + 2 * np.pi))


@settings(max_examples=200, deadline=None)
@given(
    wanted=st.lists(st.floats(-10, 10, allow_nan=False), min_size=2, max_size=14),
    min_gap=st.floats(0.05, 1.5),
)
def test_spread_keeps_every_neighbour_apart(wanted: list[float], min_gap: float) -> None:
    from softcalc_bayes.plotting import _spread

    placed = _spread({f"n{i}": a for i, a in enumerate(wanted)}, min_gap=min_gap)
    gap = min(min_gap, 2 * np.pi / len(wanted))
    assert _circular_gaps(placed).min() >= gap - 1e-9  # the pair across the cut too


@pytest.mark.parametrize(
    "wanted",
    [
        [0.0, 0.0, np.pi],  # two antipodal directions, one of them shared
        [0.0] * 6 + [np.pi],
        [-2.04, 2.28, 0.03, -0.13, -0.05, -0.3, -0.24, 1.07, 0.09, 0.07],
    ],
)
def test_spread_leaves_a_lone_node_in_place(wanted: list[float]) -> None:
    from softcalc_bayes.plotting import _spread

    placed = _spread({f"n{i}": a for i, a in enumerate(wanted)}, min_gap=0.65)
    assert _circular_gaps(placed).min() >= min(0.65, 2 * np.pi / len(wanted)) - 1e-9
    counts = {a: wanted.count(a) for a in wanted}
    for i, a in enumerate(wanted):
        if (
            counts[a] == 1
            and min(abs(np.angle(np.exp(1j * (a - b)))) for b in wanted if b != a) > 2
        ):
            # far from every other node: it stays where its children are
            assert abs(np.angle(np.exp(1j * (placed[f"n{i}"] - a)))) < 1e-9


@pytest.mark.parametrize("wanted", [[1.0, 1.0, 1.0], [3.1, -3.1, 3.0], [0.0, 2.0, 4.0]])
def test_spread_keeps_order_and_gap(wanted: list[float]) -> None:
    from softcalc_bayes.plotting import _spread

    placed = _spread({f"n{i}": a for i, a in enumerate(wanted)}, min_gap=0.5)
    points = np.array([[np.cos(a), np.sin(a)] for a in placed.values()])
    chords = [np.linalg.norm(points[i] - points[j]) for i in range(3) for j in range(i)]
    assert min(chords) >= 2 * np.sin(0.25) - 1e-9  # the chord of a 0.5 rad arc
    if wanted == [0.0, 2.0, 4.0]:  # already apart: nothing moves
        np.testing.assert_allclose(
            [np.exp(1j * placed[f"n{i}"]) for i in range(3)], np.exp(1j * np.array(wanted))
        )


def test_valid_inputs_of_other_types_still_draw(seed_table: pd.DataFrame, net: Network) -> None:
    fig, (left, right) = plt.subplots(1, 2)
    post = net.posterior({"fat_in_lesion": "present"})
    plot_posterior(post, top=np.int64(3), ax=left)  # a numpy integer, as elsewhere
    assert len(left.patches) == 3
    plot_sensitivity_function(seed_table.iloc[0].to_dict(), ax=right)  # a dict row
    assert right.get_lines()
    plt.close(fig)
