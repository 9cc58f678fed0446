"""Plots of computed results. The only module that draws; it computes nothing itself.

Every ``plot_*`` function takes a result and an optional ``ax=`` and returns the
Axes. matplotlib is an optional dependency (``pip install softcalc-bayes[plot]``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plot_posterior", "plot_reliability", "plot_sensitivity_function", "plot_tornado"]


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
