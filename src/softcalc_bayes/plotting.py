"""Plots of computed results. The only module that draws; it computes nothing itself.

Every ``plot_*`` function takes a result and an optional ``ax=`` and returns the
Axes. matplotlib is an optional dependency (``pip install softcalc-bayes[plot]``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "plot_explanation",
    "plot_posterior",
    "plot_reliability",
    "plot_sensitivity_function",
    "plot_tornado",
]


def _axes(ax: Any | None) -> Any:
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'softcalc-bayes[plot]'") from exc
    _, new_ax = plt.subplots(figsize=(8, 5))
    return new_ax


def _label(row: pd.Series) -> str:
    parents = ", ".join(f"{k}={v}" for k, v in dict(row["parents"]).items())
    where = f" | {parents}" if parents else ""
    source = row["source"] if isinstance(row["source"], str) else "assumption"
    return f"{row['node']}={row['state']}{where}  [{source}]"


def plot_tornado(table: pd.DataFrame, *, top: int = 15, ax: Any | None = None) -> Any:
    """Tornado plot of the parameters whose full range moves the posterior most.

    Parameters
    ----------
    table : pandas.DataFrame
        The result of :func:`softcalc_bayes.sensitivity.sensitivity`.
    top : int
        Number of parameters shown (ranked by the range of ``f`` over [0, 1]).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax)
    span = (table["p_at_1"] - table["p_at_0"]).abs()
    shown = table.assign(_span=span).nlargest(top, "_span").iloc[::-1]
    base = float(table["posterior"].iloc[0])
    y = np.arange(len(shown))
    low = np.minimum(shown["p_at_0"], shown["p_at_1"])
    high = np.maximum(shown["p_at_0"], shown["p_at_1"])
    ax.barh(y, high - low, left=low, color="#8fb3d9", edgecolor="#2b5d8a")
    ax.scatter(shown["posterior"], y, color="#c0392b", zorder=3, s=14, label="current value")
    ax.axvline(base, color="#555555", lw=1, ls="--")
    ax.set_yticks(y, [_label(r) for _, r in shown.iterrows()], fontsize=7)
    ax.set_xlim(0, 1)
    state = table.attrs.get("state", "state")
    ax.set_xlabel(f"P({state} | evidence) as each parameter moves over [0, 1]")
    ax.set_title(f"One-way sensitivity of P({state} | e): top {len(shown)} parameters")
    ax.legend(loc="lower right", fontsize=7)
    return ax


def plot_sensitivity_function(
    row: pd.Series, *, threshold: float | None = None, ax: Any | None = None, points: int = 201
) -> Any:
    """The sensitivity function ``f(x) = (a x + b)/(c x + d)`` of one parameter.

    Marks the current value ``x0`` and shades the admissible range.

    Parameters
    ----------
    row : pandas.Series
        One row of the table returned by :func:`softcalc_bayes.sensitivity.sensitivity`.
    threshold : float, optional
        Draw a horizontal line at this probability.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax)
    x = np.linspace(0.0, 1.0, points)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = (row["a"] * x + row["b"]) / (row["c"] * x + row["d"])
    ax.plot(x, f, color="#2b5d8a", lw=2, label="f(x)")
    ax.axvspan(
        row["admissible_low"],
        row["admissible_high"],
        color="#d5e8d4",
        alpha=0.6,
        label="admissible range",
    )
    ax.axvline(row["x0"], color="#c0392b", ls="--", lw=1, label=f"x0 = {row['x0']:.3g}")
    ax.scatter([row["x0"]], [row["posterior"]], color="#c0392b", zorder=3)
    if threshold is not None:
        ax.axhline(threshold, color="#555555", lw=1, ls=":", label=f"threshold {threshold:g}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel(f"parameter: {_label(row)}", fontsize=8)
    ax.set_ylabel("posterior")
    ax.set_title(f"Sensitivity function, f'(x0) = {row['sensitivity_value']:.3g}")
    ax.legend(fontsize=7)
    return ax


def plot_posterior(posterior: pd.Series, *, top: int = 10, ax: Any | None = None) -> Any:
    """Horizontal bar chart of the ``top`` states of a posterior Series."""
    ax = _axes(ax)
    shown = posterior.head(top).iloc[::-1]
    ax.barh(np.arange(len(shown)), shown.to_numpy(), color="#8fb3d9")
    ax.set_yticks(np.arange(len(shown)), list(shown.index), fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("posterior probability")
    return ax


def plot_reliability(calibration: pd.DataFrame, *, ax: Any | None = None) -> Any:
    """Reliability diagram from :attr:`EvaluationReport.calibration`."""
    ax = _axes(ax)
    ax.plot([0, 1], [0, 1], color="#999999", ls="--", lw=1, label="perfect calibration")
    ax.plot(
        calibration["mean_predicted"],
        calibration["observed_frequency"],
        marker="o",
        color="#2b5d8a",
        label="network",
    )
    for _, r in calibration.iterrows():
        ax.annotate(
            str(int(r["count"])),
            (r["mean_predicted"], r["observed_frequency"]),
            fontsize=7,
            xytext=(3, -8),
            textcoords="offset points",
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed frequency")
    ax.legend(fontsize=8)
    return ax


def plot_explanation(explanation: Any, *, kind: str = "shapley", ax: Any | None = None) -> Any:
    """Waterfall from the prior log-odds to the posterior log-odds, one bar per finding.

    Parameters
    ----------
    explanation : Explanation
        The result of :func:`softcalc_bayes.explain.explain`.
    kind : {"shapley", "chain"}
        Which decomposition the bars show (both sum to the total weight of evidence).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    if kind not in ("shapley", "chain"):
        raise ValueError(f"kind must be 'shapley' or 'chain', got {kind!r}")
    ax = _axes(ax)
    table = explanation.table
    weights = table[f"{kind}_db"].to_numpy(dtype=float)
    labels = [f"{f} = {s}" for f, s in zip(table.index, table["state"], strict=True)]
    prior, posterior = float(explanation.prior_db), float(explanation.posterior_db)
    starts = prior + np.concatenate([[0.0], np.cumsum(weights)[:-1]])[: len(weights)]
    n = len(weights)
    y = np.arange(n + 2)[::-1]
    ax.barh(y[0], prior, color="#999999", edgecolor="#555555")
    for i, (start, w) in enumerate(zip(starts, weights, strict=True)):
        ax.barh(
            y[i + 1], w, left=start, color="#5b9f5b" if w >= 0 else "#c0392b", edgecolor="#333333"
        )
        ax.annotate(
            f"{w:+.1f}",
            (start + w, y[i + 1]),
            xytext=(3 if w >= 0 else -3, 0),
            textcoords="offset points",
            ha="left" if w >= 0 else "right",
            va="center",
            fontsize=7,
        )
    ax.barh(y[-1], posterior, color="#2b5d8a", edgecolor="#1b3d5a")
    ax.axvline(0.0, color="#555555", lw=1, ls=":")
    p_prior, p_post = explanation.prior_probability, explanation.posterior_probability
    ax.set_yticks(
        y,
        [f"prior (P = {p_prior:.3g})", *labels, f"posterior (P = {p_post:.3g})"],
        fontsize=7,
    )
    ax.set_xlabel(f"log-odds of {explanation.state} vs {explanation.versus} (decibans)")
    method = "Shapley values" if kind == "shapley" else "chain rule, in the order shown"
    ax.set_title(f"Weight of evidence ({method}): {explanation.total_db:+.1f} dB", fontsize=9)
    return ax
