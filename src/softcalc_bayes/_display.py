"""Text and HTML renderings of the library's results, for the console and Jupyter.

The classes' ``__repr__`` and ``_repr_html_`` methods delegate here, so every
rendering lives in one place. Everything shown is a labelled table (states,
parent configurations, diagnoses): never a bare array. The HTML is plain tables
that Jupyter styles itself; no scripts.
"""

from __future__ import annotations

import html
import itertools
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .coverage import CoverageReport
    from .evaluate import EvaluationReport
    from .explain import Explanation
    from .network import Network
    from .spec import NodeSpec
    from .uncertainty import UncertaintyResult

__all__ = [
    "Captioned",
    "captioned",
    "coverage_html",
    "evaluation_html",
    "explanation_html",
    "network_html",
    "node_frame",
    "node_html",
    "node_repr",
    "uncertainty_html",
]

MAX_ROWS = 60
"""Longest table drawn in full; longer ones show their first rows and a count."""

_STYLE = "font-size:90%;margin:0.3em 0"


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):.4g}"
    return str(value)


def _frame(df: pd.DataFrame | pd.Series, *, caption: str = "", rows: int = MAX_ROWS) -> str:
    """A pandas table as HTML with an optional caption, cut to ``rows`` rows."""
    frame = df.to_frame() if isinstance(df, pd.Series) else df
    shown = frame.head(rows)
    body = shown.to_html(float_format=lambda x: f"{x:.4g}", border=0, escape=True)
    more = f"<p><i>... {len(frame) - rows} more rows</i></p>" if len(frame) > rows else ""
    cap = f"<b>{_esc(caption)}</b>" if caption else ""
    return f"<div style='{_STYLE}'>{cap}{body}{more}</div>"


def _details(summary: str, content: str) -> str:
    return f"<details><summary>{_esc(summary)}</summary>{content}</details>"


def _evidence_text(evidence: Mapping[str, Any] | None) -> str:
    if not evidence:
        return "no evidence"
    return ", ".join(f"{k}={v}" for k, v in evidence.items())


# --------------------------------------------------------------------- nodes
def node_frame(node: NodeSpec) -> pd.DataFrame:
    """The conditional table of ``node``: one row per parent configuration, one column per state.

    Examples
    --------
    >>> from softcalc_bayes import load_network
    >>> table = node_frame(load_network().node("fat_in_lesion"))
    >>> list(table.columns)
    ['present', 'absent']
    >>> table.index.names
    FrozenList(['diagnosis'])
    """
    columns = pd.Index(list(node.states), name=node.name)
    values = np.asarray(node.cpt, dtype=float)
    if not node.parents:
        return pd.DataFrame(values, index=pd.Index(["prior"], name=""), columns=columns)
    if len(node.parent_states) == len(node.parents):
        configs = list(itertools.product(*node.parent_states))
        index = pd.MultiIndex.from_tuples(configs, names=list(node.parents))
    else:  # a NodeSpec built by hand without parent states: number the rows
        index = pd.MultiIndex.from_arrays([np.arange(len(values))], names=["configuration"])
    return pd.DataFrame(values, index=index, columns=columns)


def _row_provenance(node: NodeSpec) -> pd.DataFrame:
    """Per row: its sources, bases and strengths (distinct, in order) and whether it is default."""
    records = []
    for c, row in enumerate(node.provenance):
        records.append(
            {
                "source": ", ".join(dict.fromkeys(p.source or "-" for p in row)),
                "basis": ", ".join(dict.fromkeys(p.basis for p in row)),
                "strength": ", ".join(dict.fromkeys(f"{p.strength:g}" for p in row)),
                "default": bool(np.asarray(node.is_default)[c].all()),
            }
        )
    return pd.DataFrame.from_records(records)


def node_repr(node: NodeSpec) -> str:
    """One line: name, kind, states, parents and the table's size (no array)."""
    rows = int(np.asarray(node.cpt).shape[0])
    documented = sum(p.basis != "assumption" for row in node.provenance for p in row)
    total = sum(len(row) for row in node.provenance)
    states = repr(node.states)
    if len(node.states) > 6:
        states = f"({', '.join(map(repr, node.states[:4]))}, ... {len(node.states)} states)"
    return (
        f"NodeSpec({node.name!r}, kind={node.kind!r}, states={states}, "
        f"parents={node.parents!r}, {rows} rows, {documented}/{total} entries documented)"
    )


def _tip(p: Any, *, full: bool) -> str:
    """One entry's provenance as a tooltip: short (source, basis, strength) or in full."""
    tip = f"source {p.source or '-'}; basis {p.basis}; strength {p.strength:g}"
    if full:
        tip += f"; {p.locator}" if p.locator else ""
        tip += f"; reason: {p.reason}" if p.reason else ""
    return tip


def node_html(node: NodeSpec) -> str:
    """The labelled conditional table with the provenance of every row.

    Each value's tooltip names the source, basis and strength of that entry; the row's
    source cell carries the full provenance (locator and reason), or names the earlier
    row (1-based) that gives the same. An entry whose locator or reason differs from the
    rest of its row carries its own in full. Rows inherited from the node's default row
    are shown in grey.
    """
    table = node_frame(node)
    prov = _row_provenance(node)
    names = list(table.index.names)
    head = "".join(f"<th>{_esc(n)}</th>" for n in names)
    head += "".join(f"<th>{_esc(s)}</th>" for s in node.states)
    head += "<th>source</th><th>basis</th><th>strength</th>"
    body: list[str] = []
    shown: dict[tuple[str, str, str], int] = {}  # a row's full provenance -> its row number
    given: dict[tuple[str, str, str], tuple[int, str]] = {}  # an entry's -> (row, state)
    for c, (config, values) in enumerate(table.iterrows()):
        if c >= MAX_ROWS:
            break
        labels = config if isinstance(config, tuple) else (config,)
        style = " style='color:#888'" if prov.loc[c, "default"] else ""
        cells = "".join(f"<th>{_esc(v)}</th>" for v in labels)
        row = node.provenance[c]
        # the row's most common (locator, reason) goes once on its source cell
        texts = [(p.locator or "", p.reason or "") for p in row]
        common = Counter(texts).most_common(1)[0][0]  # ties: the first in the row
        for s, value in enumerate(values):
            tip = _tip(row[s], full=False)
            if texts[s] != common:  # an entry of its own: its locator and reason, once
                key = (row[s].source or "", *texts[s])
                if key in given:
                    tip += f"; locator and reason as in row {given[key][0]}, {given[key][1]}"
                else:
                    given[key] = (c + 1, node.states[s])
                    tip = _tip(row[s], full=True)
            cells += f"<td title='{_esc(tip)}'>{float(value):.4g}</td>"
        first = next(p for p, t in zip(row, texts, strict=True) if t == common)
        key = (first.source or "", *common)
        if key in shown:  # the same provenance as an earlier row: say which, not again
            tip = _tip(first, full=False) + f"; locator and reason as in row {shown[key]}"
        else:
            shown[key] = c + 1
            tip = _tip(first, full=True)
        cells += f"<td title='{_esc(tip)}'>{_esc(prov.loc[c, 'source'])}</td>"
        cells += "".join(f"<td>{_esc(prov.loc[c, k])}</td>" for k in ("basis", "strength"))
        body.append(f"<tr{style}>{cells}</tr>")
    more = len(table) - MAX_ROWS
    note = f"<p><i>... {more} more rows</i></p>" if more > 0 else ""
    parents = ", ".join(node.parents) or "none"
    where = "/".join(Path(node.file).parts[-2:]) if node.file else "-"
    return (
        f"<div style='{_STYLE}'><b>{_esc(node.name)}</b> ({_esc(node.kind)}; parents: "
        f"{_esc(parents)})<br><i>{_esc(node.description)}</i>"
        f"<table border='0'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        f"{note}<small>Grey rows come from the node's default row; hover a value for its "
        f"source, basis and strength, and a row's source for its locator and reason. "
        f"File: {_esc(where)}</small></div>"
    )


# --------------------------------------------------------------------- network
def finding_groups(net: Network) -> dict[str, tuple[str, ...]]:
    """Group -> findings, from ``network.yaml: finding_groups``; the rest under ``other``.

    Examples
    --------
    >>> from softcalc_bayes import load_network
    >>> groups = finding_groups(load_network())
    >>> "fat_in_lesion" in groups["imaging"]
    True
    """
    declared = dict(getattr(net.spec, "finding_groups", {}) or {})
    listed = {f for names in declared.values() for f in names}
    rest = tuple(f for f in net.findings if f not in listed)
    out = {g: tuple(f for f in names if f in net.findings) for g, names in declared.items()}
    if rest:
        out["other"] = rest
    return {g: names for g, names in out.items() if names}


def _list(names: Iterable[str]) -> str:
    return ", ".join(_esc(n) for n in names)


def network_html(net: Network) -> str:
    """Nodes by group, the profile, and how much of the network is documented."""
    from .coverage import coverage

    report = coverage(net)
    diagnoses = net.diagnosis_groups
    labels = net.spec.group_labels
    rows = [
        ("profile", f"<b>{_esc(net.profile)}</b> (available: {_list(net.profiles)})"),
        (
            f"{net.target} ({len(net.states(net.target))} states)",
            "<br>".join(
                f"{_esc(labels.get(g, g))}: {len(members)}" for g, members in diagnoses.items()
            ),
        ),
    ]
    for group, names in finding_groups(net).items():
        rows.append((f"{group} findings ({len(names)})", _list(names)))
    rows.append((f"latent nodes ({len(net.latent)})", _list(net.latent)))
    shares = "   ".join(f"{_esc(b)} {v:.1%}" for b, v in report.overall.items())
    rows.append(("parameters by basis", shares))
    rows.append(
        (
            "written rows documented",
            f"{report.documented_row_share:.1%} of {len(report.written_rows)}",
        )
    )
    body = "".join(
        f"<tr><th style='text-align:left'>{_esc(k)}</th><td style='text-align:left'>{v}</td></tr>"
        for k, v in rows
    )
    version = f" {net.spec.version}" if net.spec.version else ""
    return (
        f"<div style='{_STYLE}'><b>Network {_esc(net.spec.name)}{_esc(version)}</b>"
        f"<table border='0'>{body}</table></div>"
    )


# --------------------------------------------------------------------- reports
def evaluation_html(report: EvaluationReport) -> str:
    """Metrics, the by-group table and the calibration table; the cases folded away."""
    m = report.metrics
    head = (
        f"<b>Evaluation on {int(m['n_cases'])} cases ({int(m['n_diagnoses'])} diagnoses)</b>: "
        f"top-1 {m['top1']:.1%}, top-3 {m['top3']:.1%}, top-5 {m['top5']:.1%}, "
        f"mean rank {m['mean_rank']:.2f}, Brier {m['brier']:.3f}, log loss {m['log_loss']:.3f}"
    )
    if "ece_top_label" in m:
        head += f", ECE top-label {m['ece_top_label']:.3f}, classwise {m['ece_classwise']:.3f}"
    by_group = report.calibration_by_group
    return (
        f"<div style='{_STYLE}'>{head}"
        + _frame(report.per_group, caption="By diagnosis group")
        + _frame(report.calibration, caption="Calibration (every case x diagnosis probability)")
        + (
            _frame(by_group, caption="Calibration by diagnosis group (top call; its diagnoses)")
            if len(by_group)
            else ""
        )
        + (
            _frame(
                report.expected,
                caption="Scores the network forecasts for these findings (truth drawn from "
                "each posterior)",
            )
            if len(report.expected)
            else ""
        )
        + _details(f"Per case ({len(report.per_case)} rows)", _frame(report.per_case, rows=10_000))
        + "</div>"
    )


def coverage_html(report: CoverageReport) -> str:
    """Share of parameters by basis, documented rows, thin diagnoses; per node folded away."""
    shares = ", ".join(f"{b} {v:.1%}" for b, v in report.overall.items())
    weak = report.per_diagnosis[report.per_diagnosis["assumed"] > 0]
    head = (
        f"<b>Coverage</b>: {len(report.written_rows)} written rows, "
        f"{report.documented_row_share:.1%} documented; parameters by basis: {shares}; "
        f"fewest documented findings of a diagnosis: {report.min_documented_findings}"
    )
    return (
        f"<div style='{_STYLE}'>{head}"
        + _frame(
            weak[["assumed", "assumed_findings"]],
            caption=f"Diagnoses with findings resting on assumptions ({len(weak)})",
        )
        + _details(f"Per node ({len(report.per_node)} nodes)", _frame(report.per_node, rows=10_000))
        + _details(
            "Per diagnosis", _frame(report.per_diagnosis[["documented", "assumed"]], rows=10_000)
        )
        + "</div>"
    )


def uncertainty_html(result: UncertaintyResult, *, top: int = 10) -> str:
    """Credible intervals of the leading diagnoses, with the seed and sample size."""
    head = (
        f"<b>Posterior under parameter uncertainty</b>: P({_esc(result.top)} stays the most "
        f"likely diagnosis) = {result.p_top_stays:.3f}; {result.credible:.0%} credible "
        f"intervals from {result.n_samples} Monte Carlo samples, seed {result.seed}; "
        f"evidence: {_esc(_evidence_text(result.evidence))}"
    )
    return f"<div style='{_STYLE}'>{head}" + _frame(result.summary, rows=top) + "</div>"


def explanation_html(ex: Explanation) -> str:
    """The weights of evidence of an :func:`~softcalc_bayes.explain` result, in dB.

    The head gives the prior and posterior log-odds and the method (with the seed and
    number of permutations of a Monte Carlo run); the table the weight of each finding,
    the most redundant pairs fold away.
    """
    method = (
        "exact Shapley"
        if ex.method == "exact"
        else f"Monte Carlo Shapley, {ex.n_permutations} permutations, seed {ex.seed}"
    )
    head = (
        f"<b>Why {_esc(ex.state)}</b> versus {_esc(ex.versus)} ({_esc(method)}): prior "
        f"log-odds {ex.prior_db:+.2f} dB (P = {ex.prior_probability:.4g}), posterior "
        f"{ex.posterior_db:+.2f} dB (P = {ex.posterior_probability:.4g}), total weight "
        f"{ex.total_db:+.2f} dB"
    )
    table = ex.table.drop(columns=["shapley_se_db"]) if ex.method == "exact" else ex.table
    pairs = ex.redundancy[ex.redundancy["relation"] == "redundant"]
    body = _frame(table, rows=len(table))
    if len(pairs):
        body += _details(f"Redundant pairs ({len(pairs)})", _frame(pairs, rows=len(pairs)))
    return f"<div style='{_STYLE}'>{head}{body}</div>"


# --------------------------------------------------------------------- tables
def _attrs_caption(attrs: Mapping[Any, Any]) -> str:
    """``key: value`` pairs of ``attrs``; a key set to None (e.g. no threshold) is left out."""
    parts = [
        f"{k}: {_evidence_text(v) if k == 'evidence' else _fmt(v)}"
        for k, v in attrs.items()
        if v is not None
    ]
    return "; ".join(parts)


class Captioned:
    """A DataFrame shown with its ``attrs`` as a caption (see :func:`captioned`)."""

    def __init__(self, table: pd.DataFrame, *, top: int | None = None) -> None:
        self.table = table
        self.top = top

    def __repr__(self) -> str:
        shown = self.table if self.top is None else self.table.head(self.top)
        return f"{_attrs_caption(self.table.attrs)}\n{shown.to_string()}"

    def _repr_html_(self) -> str:
        rows = len(self.table) if self.top is None else self.top
        return _frame(self.table, caption=_attrs_caption(self.table.attrs), rows=rows)


def captioned(table: pd.DataFrame, *, top: int | None = 10) -> Captioned:
    """Show a result table with what it is about (its ``attrs``) as a caption.

    Sensitivity, tuning and Sobol tables record their question in ``attrs``
    (state, evidence, level, seed, sample size); pandas does not display them.

    Parameters
    ----------
    table : pandas.DataFrame or pandas.Series
        For example the result of :func:`~softcalc_bayes.sensitivity.sensitivity`.
    top : int, optional
        Rows shown (0 or more; None: all).

    Raises
    ------
    InvalidParameterError
        If ``table`` is not a pandas DataFrame or Series, or ``top`` is neither None
        nor an int >= 0.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"swing": [0.3, 0.1]})
    >>> t.attrs["state"] = "alt_wdlps"
    >>> print(repr(captioned(t)))
    state: alt_wdlps
       swing
    0    0.3
    1    0.1
    """
    from ._params import NONE, Check, Interval, check_param

    tables = Check(
        lambda t: isinstance(t, pd.DataFrame | pd.Series), "a pandas DataFrame or Series"
    )
    check_param("captioned", "table", table, [tables])
    check_param("captioned", "top", top, [Interval(int, 0, None), NONE])
    return Captioned(table, top=None if top is None else int(top))
