"""Plots of computed results. The only module that draws; it computes nothing itself.

Every ``plot_*`` function takes a result and an optional ``ax=`` and returns the
Axes. matplotlib is an optional dependency (``pip install softcalc-bayes[plot]``).

Bad input raises :class:`~softcalc_bayes.exceptions.InvalidParameterError` (a
``ValueError``) naming the parameter and what it must be, before anything is drawn;
evidence and node names are checked as the queries check them
(:class:`~softcalc_bayes.exceptions.EvidenceError`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._params import BOOLEAN, NETWORK, NONE, Interval, check_name, check_param, validate_params
from .exceptions import InvalidParameterError

if TYPE_CHECKING:
    from .network import Network

__all__ = [
    "plot_explanation",
    "plot_network",
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


def _refused(func: str, param: str, what: str, got: str) -> InvalidParameterError:
    """The error for an argument that is not the result the plot draws."""
    return InvalidParameterError(
        f"The {param!r} parameter of {func} must be {what}. Got {got} instead."
    )


def _a(value: Any) -> str:
    """``a DataFrame``, ``a Series``, ``None``: what was given, for a message."""
    return "None" if value is None else f"a {type(value).__name__}"


def _non_numeric(values: Any, names: tuple[str, ...]) -> list[str]:
    """The names whose values (columns of a table, or entries of a row) are not numbers."""
    if isinstance(values, pd.DataFrame):
        return [c for c in names if not pd.api.types.is_numeric_dtype(values[c])]
    return [
        c
        for c in names
        if isinstance(values[c], bool | np.bool_)
        or not isinstance(values[c], int | float | np.integer | np.floating)
    ]


def _check_fields(
    func: str,
    param: str,
    value: pd.DataFrame | pd.Series,
    what: str,
    needed: tuple[str, ...],
    numbers: tuple[str, ...],
) -> None:
    """Refuse a table (or row) without the columns (or entries) the plot reads, or with
    non-numeric values where it draws numbers."""
    table = isinstance(value, pd.DataFrame)
    present = value.columns if table else value.index
    missing = [k for k in needed if k not in present]
    if missing:
        got = "a table missing columns" if table else "a Series with missing"
        raise _refused(func, param, what, f"{got}: {', '.join(missing)}")
    bad = _non_numeric(value, numbers)
    if bad:
        got = "a table with non-numeric columns" if table else "a row with non-numeric"
        raise _refused(func, param, what, f"{got}: {', '.join(bad)}")


_TORNADO_COLUMNS = ("swing", "p_at_low", "p_at_high", "posterior", "node", "state", "parents")
_TORNADO_NUMBERS = ("swing", "p_at_low", "p_at_high", "posterior")
_FUNCTION_NUMBERS = (
    "a",
    "b",
    "c",
    "d",
    "x0",
    "posterior",
    "admissible_low",
    "admissible_high",
    "sensitivity_value",
)
_FUNCTION_KEYS = (*_FUNCTION_NUMBERS, "node", "state", "parents", "source")
_MAX_POINTS = 100_000


def _label(row: pd.Series) -> str:
    parents = ", ".join(f"{k}={v}" for k, v in dict(row["parents"]).items())
    where = f" | {parents}" if parents else ""
    source = row["source"] if isinstance(row["source"], str) else "assumption"
    return f"{row['node']}={row['state']}{where}  [{source}]"


@validate_params({"top": [Interval(int, 1, None)]})
def plot_tornado(table: pd.DataFrame, *, top: int = 15, ax: Any | None = None) -> Any:
    """Tornado plot of the parameters whose plausible range moves the posterior most.

    Each bar spans ``p_at_low`` to ``p_at_high``: the posterior as the parameter
    moves over its plausible range (``plausible_low`` to ``plausible_high``, the
    Dirichlet interval implied by its documented strength). Bars are ranked by
    ``swing``, the measure that orders the table itself, so the plot and
    ``table.head(top)`` show the same parameters.

    Parameters
    ----------
    table : pandas.DataFrame
        The result of :func:`softcalc_bayes.sensitivity.sensitivity`.
    top : int
        Number of parameters shown (at least 1).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    InvalidParameterError
        If ``table`` is not a non-empty table with the (numeric) columns of
        :func:`~softcalc_bayes.sensitivity.sensitivity`, or ``top`` is not a positive
        integer.
    """
    what = "the table of sensitivity()"
    if not isinstance(table, pd.DataFrame):
        raise _refused("plot_tornado", "table", what, _a(table))
    _check_fields("plot_tornado", "table", table, what, _TORNADO_COLUMNS, _TORNADO_NUMBERS)
    if table.empty:
        raise _refused("plot_tornado", "table", f"{what} with at least one row", "an empty table")
    ax = _axes(ax)
    shown = table.sort_values("swing", ascending=False, kind="stable").head(top).iloc[::-1]
    base = float(table["posterior"].iloc[0])
    y = np.arange(len(shown))
    lo, hi = shown["p_at_low"].to_numpy(float), shown["p_at_high"].to_numpy(float)
    low, high = np.minimum(lo, hi), np.maximum(lo, hi)
    up = hi >= lo  # the posterior rises with the parameter
    colours = np.where(up, "#8fb3d9", "#e6a57e")
    ax.barh(y, high - low, left=low, color=colours, edgecolor="#555555", lw=0.5)
    ax.axvline(base, color="#c0392b", lw=1, ls="--", label=f"current {base:.3g}")
    ax.set_yticks(y, [_label(r) for _, r in shown.iterrows()], fontsize=7)
    span = max(float(high.max() - low.min()) if len(shown) else 0.0, 1e-3)
    ax.set_xlim(max(0.0, float(low.min()) - 0.05 * span), min(1.0, float(high.max()) + 0.05 * span))
    state = table.attrs.get("state", "state")
    level = table.attrs.get("level", 0.9)
    ax.set_xlabel(
        f"P({state} | evidence) as each parameter moves over its {level:.0%} plausible range"
    )
    ax.set_title(f"What matters for P({state} | e): top {len(shown)} parameters by swing")
    from matplotlib.patches import Patch

    handles = [
        *ax.get_legend_handles_labels()[0],
        Patch(facecolor="#8fb3d9", edgecolor="#555555", label="raising it raises P"),
        Patch(facecolor="#e6a57e", edgecolor="#555555", label="raising it lowers P"),
    ]
    ax.legend(handles=handles, loc="best", fontsize=7)
    return ax


@validate_params(
    {"threshold": [Interval(float, 0, 1), NONE], "points": [Interval(int, 2, _MAX_POINTS)]}
)
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
        Draw a horizontal line at this probability (in [0, 1]).
    ax : matplotlib Axes, optional
    points : int
        Points on the curve (2 to 100,000).

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    InvalidParameterError
        If ``row`` is not one row of that table (a whole table, a posterior, a row
        missing its coefficients), ``threshold`` is not a probability or ``points`` is
        not an int in the range [2, 100000].
    """
    what = "one row of the table of sensitivity() (a pandas Series such as table.iloc[0])"
    if isinstance(row, Mapping) and not isinstance(row, pd.Series | pd.DataFrame):
        row = pd.Series(row, dtype=object)  # e.g. table.iloc[0].to_dict()
    if isinstance(row, pd.DataFrame):
        raise _refused(
            "plot_sensitivity_function",
            "row",
            what,
            f"a DataFrame with {len(row)} rows",
        )
    if not isinstance(row, pd.Series):
        raise _refused("plot_sensitivity_function", "row", what, _a(row))
    _check_fields("plot_sensitivity_function", "row", row, what, _FUNCTION_KEYS, _FUNCTION_NUMBERS)
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


def plot_posterior(
    posterior: pd.Series,
    *,
    top: int = 10,
    labels: Mapping[str, str] | None = None,
    ax: Any | None = None,
) -> Any:
    """Horizontal bar chart of the ``top`` most probable states of a posterior.

    Parameters
    ----------
    posterior : pandas.Series
        Probabilities indexed by state, e.g. :meth:`Network.posterior` or
        :meth:`Network.posterior_groups`. It is sorted here (most probable on top,
        ties in the Series' order), so an unsorted Series is drawn correctly.
    top : int
        Number of states shown (at least 1; all of them if the Series is shorter).
    labels : mapping of str to str, optional
        Display names for the states, e.g. ``net.labels``; states without one keep
        their id.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    InvalidParameterError
        If ``posterior`` is not a numeric Series with values in [0, 1], or ``top`` is
        not a positive integer.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from softcalc_bayes import load_network
    >>> net = load_network()
    >>> post = net.posterior({"fat_in_lesion": "present", "mdm2_fish": "amplified"})
    >>> ax = plot_posterior(post, top=3, labels=net.labels)
    >>> ax.get_yticklabels()[-1].get_text() == net.labels[post.index[0]]
    True
    """
    what = "a pandas Series of probabilities (net.posterior(...))"
    if not isinstance(posterior, pd.Series):
        raise _refused("plot_posterior", "posterior", what, _a(posterior))
    check_param("plot_posterior", "top", top, [Interval(int, 1, None)])
    top = int(top)
    values = pd.to_numeric(posterior, errors="coerce").to_numpy(float)
    if not np.all(np.isfinite(values)) or np.any(values < 0) or np.any(values > 1):
        raise _refused(
            "plot_posterior", "posterior", what, "a Series with values outside [0, 1] or NaN"
        )
    shown = posterior.astype(float).sort_values(ascending=False, kind="stable").head(top)
    shown = shown.iloc[::-1]
    names = [str((labels or {}).get(str(k), k)) for k in shown.index]
    ax = _axes(ax)
    ax.barh(np.arange(len(shown)), shown.to_numpy(), color="#8fb3d9")
    ax.set_yticks(np.arange(len(shown)), names, fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("posterior probability")
    return ax


def _annotate_counts(ax: Any, table: pd.DataFrame, x: str, y: str) -> None:
    """Write each bin's case count next to its point of a reliability diagram."""
    for _, r in table.iterrows():
        ax.annotate(
            str(int(r["count"])),
            (r[x], r[y]),
            fontsize=7,
            xytext=(3, -8),
            textcoords="offset points",
        )


def _reliability_panel(table: pd.DataFrame, ax: Any, title: str | None) -> None:
    """One top-label reliability diagram: bins as points, the gap to the diagonal in red."""
    ax.plot([0, 1], [0, 1], color="#999999", ls="--", lw=1, label="perfect calibration")
    if len(table):
        x, y = table["mean_confidence"], table["accuracy"]
        ax.vlines(x, y, x, color="#c0392b", lw=1.5, alpha=0.7, label="gap (above: over-confident)")
        ax.plot(x, y, marker="o", color="#2b5d8a", label="network")
        _annotate_counts(ax, table, "mean_confidence", "accuracy")
    else:
        ax.text(0.5, 0.5, "no case called here", ha="center", va="center", fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.02)
    if title is not None:
        ax.set_title(title, fontsize=8)


def _top_label_report(obj: Any) -> bool:
    return hasattr(obj, "reliability") and hasattr(obj, "calibration_by_group")


@validate_params({"by_group": [BOOLEAN]})
def plot_reliability(calibration: Any, *, by_group: bool = False, ax: Any | None = None) -> Any:
    """Reliability diagram of an evaluation.

    Parameters
    ----------
    calibration : EvaluationReport or pandas.DataFrame
        An :class:`~softcalc_bayes.evaluate.EvaluationReport` (its top-label table
        :attr:`~softcalc_bayes.evaluate.EvaluationReport.reliability` is drawn: the
        confidence of the top diagnosis against how often it is right), a top-label
        table itself (``reliability``, or ``reliability_by_group`` with
        ``by_group=True``), or the pooled table
        :attr:`~softcalc_bayes.evaluate.EvaluationReport.calibration` (every case x
        diagnosis probability against its observed frequency).
    by_group : bool
        Small multiples: one top-label panel per diagnosis group (the cases whose
        top call lies in the group), after a panel of all cases when a report is
        given.
    ax : matplotlib Axes, or a sequence of Axes when ``by_group``, optional
        Where to draw; by default a new figure.

    Returns
    -------
    matplotlib Axes, or a numpy array of Axes when ``by_group`` (one per panel,
    unused grid cells switched off).

    Raises
    ------
    InvalidParameterError
        If ``calibration`` is none of the above, ``by_group`` is not a bool, or ``ax``
        has too few Axes.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from softcalc_bayes import evaluate, load_network
    >>> from softcalc_bayes.cases import load_examples
    >>> report = evaluate(load_network(), load_examples())
    >>> plot_reliability(report).get_xlabel()
    'confidence of the top diagnosis'
    >>> len(plot_reliability(report, by_group=True)) == 1 + len(report.calibration_by_group)
    True
    """
    report = calibration if _top_label_report(calibration) else None
    if by_group:
        return _plot_reliability_groups(calibration, report, ax)
    table = report.reliability if report is not None else calibration
    if not isinstance(table, pd.DataFrame):
        raise InvalidParameterError(
            "plot_reliability needs an EvaluationReport or one of its calibration tables, "
            f"got {type(calibration).__name__}"
        )
    if {"mean_confidence", "accuracy", "count"} <= set(table.columns):
        ax = _axes(ax)
        ece = table.attrs.get("ece")
        title = (
            None
            if ece is None
            else f"Top-label reliability: ECE {ece:.3f} ({len(table)} bins used)"
        )
        _reliability_panel(table, ax, title)
        ax.set_xlabel("confidence of the top diagnosis")
        ax.set_ylabel("share of cases where it is the true diagnosis")
        ax.legend(fontsize=8, loc="upper left")
        return ax
    missing = {"mean_predicted", "observed_frequency", "count"} - set(table.columns)
    if missing:
        raise InvalidParameterError(
            "plot_reliability needs an EvaluationReport or one of its calibration tables; "
            f"missing columns: {', '.join(sorted(missing))}"
        )
    ax = _axes(ax)
    ax.plot([0, 1], [0, 1], color="#999999", ls="--", lw=1, label="perfect calibration")
    ax.plot(
        table["mean_predicted"],
        table["observed_frequency"],
        marker="o",
        color="#2b5d8a",
        label="network",
    )
    _annotate_counts(ax, table, "mean_predicted", "observed_frequency")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed frequency")
    ax.legend(fontsize=8)
    return ax


def _plot_reliability_groups(calibration: Any, report: Any, ax: Any | None) -> Any:
    """The small multiples of :func:`plot_reliability` (``by_group=True``)."""
    panels: list[tuple[pd.DataFrame, str]] = []
    if report is not None:
        m = report.metrics
        panels.append(
            (
                report.reliability,
                f"all cases (n={int(m['n_cases'])}), ECE {m['ece_top_label']:.3f}",
            )
        )
        table = report.reliability_by_group
        for group, row in report.calibration_by_group.iterrows():
            ece = row["top_label_ece"]
            shown = "-" if pd.isna(ece) else f"{ece:.3f}"
            panels.append(
                (
                    table[table["group"] == group],
                    f"{group} (n={int(row['n_top_calls'])}), ECE {shown}",
                )
            )
    elif isinstance(calibration, pd.DataFrame) and {
        "group",
        "mean_confidence",
        "accuracy",
        "count",
    } <= set(calibration.columns):
        for group, part in calibration.groupby("group", sort=False):
            panels.append((part, str(group)))
    else:
        raise InvalidParameterError(
            "plot_reliability(by_group=True) needs an EvaluationReport or its "
            "reliability_by_group table"
        )
    if ax is None:
        import matplotlib.pyplot as plt

        cols = min(4, len(panels))
        rows = -(-len(panels) // cols)
        fig, grid = plt.subplots(
            rows, cols, figsize=(3.4 * cols, 3.0 * rows), sharex=True, sharey=True, squeeze=False
        )
        axes = grid.ravel()
        for extra in axes[len(panels) :]:
            extra.axis("off")
        fig.supxlabel("confidence of the top diagnosis")
        fig.supylabel("share of cases where it is the true diagnosis")
    else:
        axes = np.asarray(ax, dtype=object).ravel()
        if len(axes) < len(panels):
            raise InvalidParameterError(
                f"plot_reliability(by_group=True) needs {len(panels)} Axes, got {len(axes)}"
            )
    for (table, title), panel in zip(panels, axes, strict=False):
        _reliability_panel(table, panel, title)
    return axes[: len(panels)]


def _score(value: Any) -> float:
    """``value`` as a float; NaN when it is not a real number (text, a bool, a list)."""
    if isinstance(value, str | bytes | bool | np.bool_):
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _influence_scores(net: Network, influence: pd.Series | pd.DataFrame | None) -> pd.Series:
    """Node -> score; an :func:`evidence_whatif` table gives |delta| when left out.

    Every name must be a node of ``net`` and every score a finite number.
    """
    what = "a pandas Series node -> score (finite numbers) or the table of evidence_whatif()"
    if influence is None:
        return pd.Series(dtype=float)
    if isinstance(influence, pd.DataFrame):
        needed = {"finding", "alternative", "delta"}
        if not needed <= set(influence.columns):
            missing = ", ".join(sorted(needed - set(influence.columns)))
            raise _refused("plot_network", "influence", what, f"a table missing columns: {missing}")
        from .whatif import LEFT_OUT

        left_out = influence[influence["alternative"] == LEFT_OUT]
        scores = left_out.set_index("finding")["delta"]
    elif isinstance(influence, pd.Series):
        scores = influence
    else:
        raise _refused("plot_network", "influence", what, _a(influence))
    for name in scores.index:
        check_name("plot_network", "influence", name, net.nodes, "node")
    values = np.array([_score(v) for v in scores], dtype=float)
    bad = [repr(name) for name, v in zip(scores.index, values, strict=True) if not np.isfinite(v)]
    if bad:
        listed = ", ".join(bad[:5]) + (" ..." if len(bad) > 5 else "")
        raise _refused("plot_network", "influence", what, f"no finite number for {listed}")
    return pd.Series(
        np.abs(values) if isinstance(influence, pd.DataFrame) else values, index=scores.index
    )


def _network_layout(
    net: Network, groups: Mapping[str, tuple[str, ...]]
) -> tuple[dict[str, tuple[float, float]], dict[str, float], dict[str, tuple[float, str]]]:
    """Diagnosis in the centre, findings on a circle by group, latent nodes inside."""
    order = [f for names in groups.values() for f in names]
    gap = 1.0  # empty slots between groups
    slots = len(order) + gap * len(groups)
    angle: dict[str, float] = {}
    group_angle: dict[str, tuple[float, str]] = {}
    position = 0.0
    for group, names in groups.items():
        first = position
        for name in names:
            angle[name] = 2 * np.pi * position / slots
            position += 1
        mid = 2 * np.pi * (first + position - 1) / 2 / slots
        group_angle[group] = (mid, group)
        position += gap
    pos: dict[str, tuple[float, float]] = {net.target: (0.0, 0.0)}
    for name in order:
        pos[name] = (float(np.cos(angle[name])), float(np.sin(angle[name])))
    toward: dict[str, float] = {}  # each latent node's direction: the mean of its children's
    for latent in net.latent:
        children = [n for n in order if latent in net.node(n).parents]
        if children:
            vec = np.mean([[np.cos(angle[c]), np.sin(angle[c])] for c in children], axis=0)
        else:
            vec = np.array([1.0, 0.0])
        toward[latent] = float(np.arctan2(vec[1], vec[0]))
    for latent, theta in _spread(toward, min_gap=0.65).items():
        pos[latent] = (0.55 * float(np.cos(theta)), 0.55 * float(np.sin(theta)))
    return pos, angle, group_angle


def _spread(angles: Mapping[str, float], *, min_gap: float) -> dict[str, float]:
    """Move angles apart until neighbours on the circle are at least ``min_gap`` apart.

    Latent nodes whose children lie in one sector (three latent forms of the site and
    compartment) would otherwise be drawn on top of each other. Nodes that crowd are
    merged into clusters, each laid out at the gap around the mean of its members'
    wanted angles (so a node apart from the others stays where it is); with too many
    nodes for the circle the gap shrinks to ``2 pi / n``.
    """
    if len(angles) < 2:
        return dict(angles)
    n = len(angles)
    gap = min(min_gap, 2 * np.pi / n)
    turn = {name: float(a) % (2 * np.pi) for name, a in angles.items()}
    names = sorted(turn, key=lambda name: turn[name])
    circle = np.array([turn[name] for name in names])
    # cut the circle at its widest empty arc: the order becomes a line with free ends
    arcs = np.diff(np.append(circle, circle[0] + 2 * np.pi))
    start = (int(np.argmax(arcs)) + 1) % n
    names = names[start:] + names[:start]
    wanted = np.concatenate([circle[start:], circle[:start] + 2 * np.pi])
    clusters = [[i] for i in range(n)]

    def layout(members: list[int]) -> np.ndarray:
        centre = float(np.mean(wanted[members]))
        return centre + gap * (np.arange(len(members)) - (len(members) - 1) / 2)

    merged = True
    while merged:
        merged = False
        for j in range(len(clusters) - 1):
            if layout(clusters[j + 1])[0] < layout(clusters[j])[-1] + gap - 1e-12:
                clusters[j : j + 2] = [clusters[j] + clusters[j + 1]]
                merged = True
                break
    placed = np.concatenate([layout(c) for c in clusters])
    if placed[0] + 2 * np.pi - placed[-1] < gap - 1e-12:  # the two ends meet: one cluster
        placed = layout(list(range(n)))
    return dict(zip(names, (float(a) for a in placed), strict=True))


@validate_params({"net": [NETWORK], "top": [Interval(int, 0, None)]})
def plot_network(
    net: Network,
    *,
    evidence: Mapping[str, Any] | None = None,
    influence: pd.Series | pd.DataFrame | None = None,
    top: int = 5,
    ax: Any | None = None,
) -> Any:
    """Draw the network: the diagnosis in the centre, latent nodes, findings by group.

    Findings sit on a circle in the sectors of ``network.yaml: finding_groups``
    (imaging, clinical, laboratory, molecular; the rest under ``other``), each
    group in its own colour; latent nodes sit inside, next to the findings they
    explain. Arrows follow the parent links.

    Parameters
    ----------
    net : Network
    evidence : mapping, optional
        Finding -> observed state (or a set of states), checked as
        :meth:`Network.posterior` checks it: these findings are filled and labelled
        with their state. Missing values (None, NaN) are not drawn as entered.
    influence : pandas.Series or pandas.DataFrame, optional
        How much each finding matters for the current case: a Series finding ->
        score, or the table of :func:`~softcalc_bayes.whatif.evidence_whatif`
        (the score is then ``|delta|`` when the finding is left out). The ``top``
        findings by score get a red ring.
    top : int
        Number of findings ringed when ``influence`` is given (0 or more).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    EvidenceError
        If ``evidence`` is not a mapping, or names an unknown or latent finding, an
        unknown state or the diagnosis; or ``influence`` names a node ``net`` lacks
        (with the closest match).
    InvalidParameterError
        If ``net`` is not a Network, ``influence`` is neither a Series nor the table of
        :func:`~softcalc_bayes.whatif.evidence_whatif` or has a score that is not a
        finite number, or ``top`` is not an int >= 0.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from softcalc_bayes import load_network
    >>> ax = plot_network(load_network(), evidence={"fat_in_lesion": "present"})
    >>> ax.get_title()
    'softcalc-default: 37 findings, 6 latent nodes; 1 entered'
    """
    import networkx as nx

    from ._display import finding_groups

    observed = net._observed({} if evidence is None else evidence)
    shown_state = {
        name: state if isinstance(state, str) else " or ".join(state)
        for name, state in observed.items()
    }
    scores = _influence_scores(net, influence)
    ringed = set(scores.sort_values(ascending=False, kind="stable").head(top).index)
    groups = finding_groups(net)
    pos, angle, group_angle = _network_layout(net, groups)
    graph = nx.DiGraph()
    graph.add_nodes_from(pos)
    for name in pos:
        graph.add_edges_from((p, name) for p in net.node(name).parents if p in pos)
    ax = _axes(ax)
    if ax.figure.get_figwidth() < 9:
        ax.figure.set_size_inches(10, 10)
    colours = dict(
        zip(
            groups,
            ["#4c72b0", "#55a868", "#c44e52", "#8172b2", "#ccb974", "#64b5cd"] * 3,
            strict=False,
        )
    )
    from_target = [(u, v) for u, v in graph.edges if u == net.target]
    others = [(u, v) for u, v in graph.edges if u != net.target]
    nx.draw_networkx_edges(
        graph, pos, edgelist=from_target, ax=ax, edge_color="#cccccc", width=0.6, arrowsize=6
    )
    nx.draw_networkx_edges(
        graph, pos, edgelist=others, ax=ax, edge_color="#666666", width=1.0, arrowsize=8
    )
    nx.draw_networkx_nodes(
        graph, pos, nodelist=[net.target], ax=ax, node_color="#333333", node_size=900
    )
    nx.draw_networkx_nodes(
        graph,
        pos,
        nodelist=list(net.latent),
        ax=ax,
        node_color="#bbbbbb",
        node_shape="D",
        node_size=300,
    )
    for group, names in groups.items():
        entered = [n for n in names if n in shown_state]
        plain = [n for n in names if n not in shown_state]
        c = colours[group]
        nx.draw_networkx_nodes(
            graph,
            pos,
            nodelist=plain,
            ax=ax,
            node_color="white",
            edgecolors=c,
            node_size=120,
            linewidths=1.5,
        )
        nx.draw_networkx_nodes(
            graph,
            pos,
            nodelist=entered,
            ax=ax,
            node_color=c,
            edgecolors=c,
            node_size=180,
            linewidths=1.5,
        )
    if ringed:
        nx.draw_networkx_nodes(
            graph,
            pos,
            nodelist=sorted(ringed & set(pos)),
            ax=ax,
            node_color="none",
            edgecolors="#c0392b",
            node_size=420,
            linewidths=2.2,
        )
    ax.text(0, 0, net.target, color="white", ha="center", va="center", fontsize=7, zorder=5)
    for latent in net.latent:
        x, y = pos[latent]
        ax.text(x, y - 0.07, latent, ha="center", va="top", fontsize=7, color="#444444")
    for name, a in angle.items():
        text = f"{name} = {shown_state[name]}" if name in shown_state else name
        deg = float(np.degrees(a))
        flip = 90 < deg < 270
        ax.text(
            1.07 * np.cos(a),
            1.07 * np.sin(a),
            text,
            rotation=deg + 180 if flip else deg,
            rotation_mode="anchor",
            ha="right" if flip else "left",
            va="center",
            fontsize=7,
            fontweight="bold" if name in shown_state else "normal",
        )
    for group, (a, label) in group_angle.items():
        ax.text(
            1.75 * np.cos(a),
            1.75 * np.sin(a),
            label,
            ha="center",
            va="center",
            fontsize=10,
            color=colours[group],
            fontweight="bold",
        )
    ax.set_xlim(-2.0, 2.0)
    ax.set_ylim(-2.0, 2.0)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(
        f"{net.spec.name}: {len(net.findings)} findings, {len(net.latent)} latent nodes; {len(shown_state)} entered"
    )
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

    Raises
    ------
    InvalidParameterError
        If ``explanation`` is not an Explanation (for example its ``table``), or
        ``kind`` is neither "shapley" nor "chain".
    """
    from .explain import Explanation

    if not isinstance(explanation, Explanation):
        got = _a(explanation)
        if isinstance(explanation, pd.DataFrame):
            got += " (pass the Explanation itself, not its table)"
        raise _refused(
            "plot_explanation", "explanation", "the Explanation returned by explain()", got
        )
    if kind not in ("shapley", "chain"):
        raise InvalidParameterError(f"kind must be 'shapley' or 'chain', got {kind!r}")
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
