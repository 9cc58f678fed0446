"""Measure a network on published cases: accuracy, proper scores, calibration."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._params import NETWORK, Check, Interval, validate_params
from ._progress import progress_bar
from ._provenance_hash import stamp
from ._validation import unknown_message
from .cases import Case, cases_frame
from .exceptions import EvidenceError, InvalidParameterError
from .network import Network

MAX_CASES = 1_000_000
"""Most cases one :func:`evaluate` call scores."""

__all__ = ["EvaluationReport", "evaluate"]


@dataclass(frozen=True)
class EvaluationReport:
    """Result of :func:`evaluate`.

    Attributes
    ----------
    metrics : pandas.Series
        n_cases, n_diagnoses, top1, top3, top5, mean_rank, brier, log_loss.
    per_case : pandas.DataFrame
        One row per case: true diagnosis, its rank and probability, the top call.
    per_group : pandas.DataFrame
        Accuracy by diagnosis group of the true diagnosis.
    calibration : pandas.DataFrame
        Reliability table over every (case, diagnosis) probability.
    posteriors : pandas.DataFrame
        The full posterior of every case.
    """

    metrics: pd.Series
    per_case: pd.DataFrame
    per_group: pd.DataFrame
    calibration: pd.DataFrame
    posteriors: pd.DataFrame

    def __repr__(self) -> str:
        m = self.metrics
        return (
            f"EvaluationReport(n_cases={int(m['n_cases'])}, top1={m['top1']:.3f}, "
            f"top3={m['top3']:.3f}, brier={m['brier']:.3f}, log_loss={m['log_loss']:.3f})"
        )

    def _repr_html_(self) -> str:
        from ._display import evaluation_html

        return evaluation_html(self)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form (for JSON)."""
        return {
            "metrics": {k: float(v) for k, v in self.metrics.items()},
            "per_group": self.per_group.reset_index().to_dict(orient="records"),
            "calibration": self.calibration.to_dict(orient="records"),
            "per_case": self.per_case.reset_index().to_dict(orient="records"),
        }

    def summary_text(self) -> str:
        """A plain-text report (used by the CLI and the README)."""
        m = self.metrics
        lines = [
            f"Cases: {int(m['n_cases'])} covering {int(m['n_diagnoses'])} diagnoses",
            f"top-1 {m['top1']:.1%}   top-3 {m['top3']:.1%}   top-5 {m['top5']:.1%}   "
            f"mean rank {m['mean_rank']:.2f}",
            f"Brier score {m['brier']:.3f}   log loss {m['log_loss']:.3f}",
            "",
            "By diagnosis group:",
            self.per_group.to_string(float_format=lambda x: f"{x:.2f}"),
            "",
            "Calibration (all case x diagnosis probabilities):",
            self.calibration.to_string(index=False, float_format=lambda x: f"{x:.3f}"),
        ]
        return "\n".join(lines)


@validate_params(
    {
        "net": [NETWORK],
        "cases": [
            Check(
                lambda c: not isinstance(c, str | bytes | dict) and hasattr(c, "__iter__"),
                "an iterable of Case (from load_cases)",
            )
        ],
        "bins": [Interval(int, 1, 1000)],
        "eps": [Interval(float, 0.0, 0.5, closed="right")],
    }
)
def evaluate(
    net: Network,
    cases: Iterable[Case],
    *,
    bins: int = 10,
    eps: float = 1e-15,
    progress: bool | None = None,
) -> EvaluationReport:
    """Score ``net`` on ``cases`` (each with a known final diagnosis).

    Parameters
    ----------
    net : Network
    cases : iterable of Case
        For example :func:`softcalc_bayes.cases.load_cases`.
    bins : int
        Number of equal-width probability bins of the calibration table, in [1, 1000].
    eps : float
        Probabilities are clipped to ``[eps, 1]`` in the log loss; ``eps`` in (0, 0.5].
    progress : bool, optional
        Show a progress bar (needs tqdm). None: only in a notebook or when stderr
        is a terminal.

    Returns
    -------
    EvaluationReport

    Examples
    --------
    >>> from softcalc_bayes import load_network
    >>> from softcalc_bayes.cases import load_examples
    >>> report = evaluate(load_network(), load_examples())
    >>> int(report.metrics["n_cases"])
    2
    """
    cases = list(itertools.islice(cases, MAX_CASES + 1))
    if not cases:
        raise EvidenceError("No cases to evaluate")
    if len(cases) > MAX_CASES:
        raise InvalidParameterError(
            f"The 'cases' parameter of evaluate holds more than {MAX_CASES} cases; "
            "score them in parts"
        )
    for i, case in enumerate(cases):
        if not isinstance(case, Case) or not isinstance(case.findings, Mapping):
            raise InvalidParameterError(
                "The 'cases' parameter of evaluate must be an iterable of Case (from "
                f"load_cases). Got item {i} of type {type(case).__name__} instead."
            )
    states = net.states(net.target)
    for case in cases:
        if case.diagnosis not in states:
            raise EvidenceError(
                f"Case {case.id!r}: " + unknown_message("diagnosis", case.diagnosis, states)
            )
    frame = cases_frame(cases)
    chunks = [frame.iloc[i : i + 256] for i in range(0, len(frame), 256)]
    parts: list[pd.DataFrame] = []
    with progress_bar(len(chunks), desc="Evaluating", progress=progress, unit="batch") as bar:
        for chunk in chunks:
            try:
                parts.append(net.posterior_batch(chunk))
            except EvidenceError as exc:
                raise EvidenceError(f"Case library: {exc}") from None
            bar.update()
    post = pd.concat(parts)
    truth = np.array([states.index(c.diagnosis) for c in cases])
    values = post.to_numpy()
    n = len(cases)
    p_true = values[np.arange(n), truth]
    rank = 1 + (values > p_true[:, None]).sum(axis=1)
    onehot = np.zeros_like(values)
    onehot[np.arange(n), truth] = 1.0
    groups = [net.spec.groups[c.diagnosis] for c in cases]
    per_case = pd.DataFrame(
        {
            "diagnosis": [c.diagnosis for c in cases],
            "group": groups,
            "rank": rank,
            "p_true": p_true,
            "top_call": [states[i] for i in values.argmax(axis=1)],
            "p_top": values.max(axis=1),
            "n_findings": [len(c.findings) for c in cases],
        },
        index=pd.Index([c.id for c in cases], name="case"),
    )
    metrics = pd.Series(
        {
            "n_cases": n,
            "n_diagnoses": len(set(per_case["diagnosis"])),
            "top1": float(np.mean(rank <= 1)),
            "top3": float(np.mean(rank <= 3)),
            "top5": float(np.mean(rank <= 5)),
            "mean_rank": float(rank.mean()),
            "brier": float(((values - onehot) ** 2).sum(axis=1).mean()),
            "log_loss": float(-np.log(np.clip(p_true, eps, 1.0)).mean()),
        }
    )
    per_group = per_case.groupby("group").agg(
        n=("rank", "size"),
        top1=("rank", lambda r: float((r <= 1).mean())),
        top3=("rank", lambda r: float((r <= 3).mean())),
        mean_rank=("rank", "mean"),
    )
    edges = np.linspace(0.0, 1.0, bins + 1)
    flat_p, flat_y = values.ravel(), onehot.ravel()
    which = np.clip(np.digitize(flat_p, edges[1:-1]), 0, bins - 1)
    rows = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            rows.append(
                {
                    "bin_low": edges[b],
                    "bin_high": edges[b + 1],
                    "count": int(mask.sum()),
                    "mean_predicted": float(flat_p[mask].mean()),
                    "observed_frequency": float(flat_y[mask].mean()),
                }
            )
    tables = (per_case, per_group, pd.DataFrame(rows), post)
    per_case, per_group, calibration, post = (stamp(t, net.spec) for t in tables)
    return EvaluationReport(stamp(metrics, net.spec), per_case, per_group, calibration, post)
