"""Measure a network on published cases: accuracy, proper scores, calibration.

Calibration is reported in two ways, both with equal-width probability bins
(bin ``b`` of ``B`` holds the probabilities ``p`` with ``b <= p * B < b + 1``;
``p = 1`` falls in the last bin):

- **top-label ECE**: for each case the probability of its top diagnosis (the
  confidence) against whether that diagnosis is the true one;
  ``ECE = sum_b (n_b / N) * |accuracy_b - mean confidence_b|`` over the ``N`` cases.
- **classwise ECE** (Kull et al. 2019, "Beyond temperature scaling", NeurIPS): the
  same sum for each diagnosis ``k`` over all ``N`` probabilities ``P(k | case)``
  against whether ``k`` is the true diagnosis, averaged over the ``K`` diagnoses, so
  it uses every case x diagnosis probability.

By diagnosis group, the top-label figure is taken over the cases whose top call
lies in the group (calibration is a property of what the network says, so the
cases are grouped by the call, not by the true diagnosis), and the classwise
figure is the mean over the group's diagnoses.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._params import NETWORK, Check, Interval, Options, validate_params
from ._progress import progress_bar
from ._provenance_hash import stamp
from ._self_consistency import self_consistency
from ._validation import unknown_message
from .cases import Case, cases_frame
from .exceptions import EvidenceError, InvalidParameterError
from .network import Network

MAX_CASES = 1_000_000
"""Most cases one :func:`evaluate` call scores."""

ECE_METHODS = ("top_label", "classwise")
"""The two ways :func:`expected_calibration_error` bins the probabilities."""

__all__ = ["ECE_METHODS", "EvaluationReport", "evaluate", "expected_calibration_error"]


@dataclass(frozen=True)
class EvaluationReport:
    """Result of :func:`evaluate`.

    Attributes
    ----------
    metrics : pandas.Series
        n_cases, n_diagnoses, top1, top3, top5, mean_rank, brier, log_loss.
    per_case : pandas.DataFrame
        One row per case: true diagnosis, its rank and probability, the top call. A
        diagnosis tied with the true one counts as ahead of it when it comes first in the
        network's order of diagnoses, the order in which ``top_call`` and the top-label
        calibration break ties, so ``rank == 1`` exactly when ``top_call`` is the truth.
    per_group : pandas.DataFrame
        Accuracy by diagnosis group of the true diagnosis.
    calibration : pandas.DataFrame
        Reliability table over every (case, diagnosis) probability.
    posteriors : pandas.DataFrame
        The full posterior of every case.
    reliability : pandas.DataFrame
        Top-label reliability table: one row per non-empty confidence bin with
        ``bin_low``, ``bin_high``, ``count``, ``mean_confidence``, ``accuracy`` and
        ``gap`` (mean confidence minus accuracy; positive means over-confident).
        ``attrs["ece"]`` and ``attrs["bins"]`` hold the top-label ECE and bin count.
    reliability_by_group : pandas.DataFrame
        The same table for the cases whose top call lies in each diagnosis group,
        with a leading ``group`` column.
    calibration_by_group : pandas.DataFrame
        One row per diagnosis group of the network (every group, in the network's
        order): ``n_diagnoses``, ``n_top_calls``, ``mean_confidence``, ``accuracy``,
        ``overconfidence`` (their difference), ``top_label_ece`` (NaN when no case
        is called in the group) and ``classwise_ece``.
    expected : pandas.DataFrame
        The network's forecast of its own scores on these finding sets, indexed by
        ``top1``, ``top3``, ``top5``, ``brier``, ``log_loss``: ``observed``,
        ``expected`` (the mean score if each case's true diagnosis were drawn from its
        posterior), ``sd`` (the standard deviation of that mean over the cases) and
        ``z`` (``(observed - expected) / sd``). Observed scores near the forecast mean
        the network scores what its own numbers allow on these findings (the README,
        "Evaluation", says how to read them). ``per_case`` holds each case's
        ``expected_top1`` and ``expected_top3``.

    Notes
    -----
    ``metrics`` also holds ``ece_top_label`` and ``ece_classwise``; see the module
    docstring for both definitions.
    """

    metrics: pd.Series
    per_case: pd.DataFrame
    per_group: pd.DataFrame
    calibration: pd.DataFrame
    posteriors: pd.DataFrame
    reliability: pd.DataFrame = field(default_factory=pd.DataFrame)
    reliability_by_group: pd.DataFrame = field(default_factory=pd.DataFrame)
    calibration_by_group: pd.DataFrame = field(default_factory=pd.DataFrame)
    expected: pd.DataFrame = field(default_factory=pd.DataFrame)

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
            "reliability": self.reliability.to_dict(orient="records"),
            "reliability_by_group": self.reliability_by_group.to_dict(orient="records"),
            "calibration_by_group": self.calibration_by_group.reset_index().to_dict(
                orient="records"
            ),
            "per_case": self.per_case.reset_index().to_dict(orient="records"),
            "expected": self.expected.reset_index().to_dict(orient="records"),
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
        if "ece_top_label" in m:
            bins = self.reliability.attrs.get("bins", "?")
            lines += [
                "",
                f"Expected calibration error ({bins} equal-width bins): "
                f"top-label {m['ece_top_label']:.3f}   classwise {m['ece_classwise']:.3f}",
                "",
                "Top-label reliability (confidence of the top diagnosis; gap > 0: over-confident):",
                self.reliability.to_string(index=False, float_format=lambda x: f"{x:.3f}"),
                "",
                "Calibration by diagnosis group (top-label over the cases called in the group; "
                "classwise over its diagnoses):",
                self.calibration_by_group.to_string(float_format=lambda x: f"{x:.3f}", na_rep="-"),
            ]
        if not self.expected.empty:
            lines += [
                "",
                "Scores the network forecasts for these findings (truth drawn from each "
                "posterior; z = (observed - expected) / sd):",
                self.expected.to_string(float_format=lambda x: f"{x:.3f}"),
            ]
        return "\n".join(lines)


def _bin_index(p: np.ndarray, bins: int) -> np.ndarray:
    """Equal-width bin of each probability: ``b`` with ``b <= p * bins < b + 1``, 1 in the last."""
    which: np.ndarray = np.clip(np.floor(p * bins), 0, bins - 1).astype(np.intp)
    return which


def _ece(p: np.ndarray, y: np.ndarray, bins: int) -> float:
    """``sum_b (n_b / N) |mean(y)_b - mean(p)_b|``, i.e. ``sum_b |sum(p)_b - sum(y)_b| / N``."""
    if p.size == 0:
        return float("nan")
    which = _bin_index(p, bins)
    sum_p = np.bincount(which, weights=p, minlength=bins)
    sum_y = np.bincount(which, weights=y, minlength=bins)
    return float(np.abs(sum_p - sum_y).sum() / p.size)


def _top_label(values: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Confidence of the top diagnosis (the first on ties) and whether it is the true one."""
    top = values.argmax(axis=1)
    confidence = values[np.arange(len(values)), top]
    return confidence, (top == truth).astype(float)


def _classwise(values: np.ndarray, truth: np.ndarray, bins: int) -> np.ndarray:
    """The ECE of each diagnosis (column) over all cases."""
    onehot = np.zeros_like(values)
    onehot[np.arange(len(values)), truth] = 1.0
    return np.array([_ece(values[:, k], onehot[:, k], bins) for k in range(values.shape[1])])


def _reliability(confidence: np.ndarray, hit: np.ndarray, bins: int) -> pd.DataFrame:
    """Top-label reliability table: the non-empty bins."""
    which = _bin_index(confidence, bins)
    counts = np.bincount(which, minlength=bins)
    sum_c = np.bincount(which, weights=confidence, minlength=bins)
    sum_h = np.bincount(which, weights=hit, minlength=bins)
    used = counts > 0
    index = np.flatnonzero(used)
    mean_c, acc = sum_c[used] / counts[used], sum_h[used] / counts[used]
    table = pd.DataFrame(
        {
            "bin_low": index / bins,
            "bin_high": (index + 1) / bins,
            "count": counts[used].astype(int),
            "mean_confidence": mean_c,
            "accuracy": acc,
            "gap": mean_c - acc,
        }
    )
    table.attrs.update({"ece": _ece(confidence, hit, bins), "bins": bins})
    return table


def _diagnosis_groups(net: Network) -> list[str]:
    """The network's diagnosis groups in its own order (labelled groups first)."""
    order = list(net.spec.group_labels)
    for diagnosis in net.states(net.target):
        group = net.spec.groups.get(diagnosis)
        if group is not None and group not in order:
            order.append(group)
    return order


def _check_probabilities(posteriors: pd.DataFrame, truth: Any) -> tuple[np.ndarray, np.ndarray]:
    func = "expected_calibration_error"
    try:
        values = posteriors.to_numpy(dtype=float)
    except (TypeError, ValueError):
        values = np.array([np.nan])
    if values.ndim != 2 or values.size == 0 or not np.all((values >= 0) & (values <= 1)):
        raise InvalidParameterError(
            f"The 'posteriors' parameter of {func} must be a non-empty table of probabilities "
            "in [0, 1] (cases x diagnoses)"
        )
    if isinstance(truth, str | bytes) or not hasattr(truth, "__iter__"):
        raise InvalidParameterError(
            f"The 'truth' parameter of {func} must be a sequence of diagnoses, one per row of "
            f"posteriors. Got {type(truth).__name__} instead."
        )
    labels = list(truth)
    if len(labels) != len(values):
        raise InvalidParameterError(
            f"The 'truth' parameter of {func} must name one diagnosis per row of posteriors "
            f"({len(values)}). Got {len(labels)} instead."
        )
    columns = [str(c) for c in posteriors.columns]
    where = {c: i for i, c in enumerate(posteriors.columns)}
    codes = np.empty(len(labels), dtype=np.intp)
    for i, label in enumerate(labels):
        try:
            codes[i] = where[label]
        except (KeyError, TypeError):
            raise EvidenceError(
                f"The 'truth' parameter of {func}: " + unknown_message("diagnosis", label, columns)
            ) from None
    return values, codes


@validate_params(
    {
        "posteriors": [
            Check(lambda p: isinstance(p, pd.DataFrame), "a pandas DataFrame (cases x diagnoses)")
        ],
        "bins": [Interval(int, 1, 1000)],
        "method": [Options(ECE_METHODS)],
    }
)
def expected_calibration_error(
    posteriors: pd.DataFrame,
    truth: Sequence[str] | pd.Series,
    *,
    bins: int = 10,
    method: str = "top_label",
) -> float:
    """Expected calibration error of posteriors against the true diagnoses.

    Parameters
    ----------
    posteriors : pandas.DataFrame
        One row per case, one column per diagnosis, probabilities in [0, 1] (for
        example :attr:`EvaluationReport.posteriors` or ``Network.posterior_batch``).
    truth : sequence of str
        The true diagnosis of each row (a column name of ``posteriors``).
    bins : int
        Number of equal-width probability bins, in [1, 1000]. Bin ``b`` holds
        ``b <= p * bins < b + 1``; ``p = 1`` falls in the last bin.
    method : {"top_label", "classwise"}
        ``"top_label"``: the confidence of each row's top diagnosis (the first
        column on ties) against whether it is the true one,
        ``sum_b (n_b / N) |accuracy_b - confidence_b|``. ``"classwise"``: the same sum
        for every column over all rows, averaged over the columns (Kull et al. 2019).

    Returns
    -------
    float
        In [0, 1]; 0 when each bin's mean probability equals its observed frequency.

    Raises
    ------
    InvalidParameterError
        A bad ``bins`` or ``method``, probabilities outside [0, 1], or a ``truth`` of
        the wrong length.
    EvidenceError
        A ``truth`` value that is not a column of ``posteriors``.

    Examples
    --------
    >>> import pandas as pd
    >>> post = pd.DataFrame({"a": [0.8, 0.8, 0.8, 0.8, 0.8], "b": [0.2] * 5})
    >>> round(expected_calibration_error(post, ["a", "a", "a", "a", "b"]), 12)
    0.0
    >>> round(expected_calibration_error(post, ["a", "b", "b", "b", "b"]), 3)
    0.6
    >>> round(expected_calibration_error(post, ["a", "b", "b", "b", "b"], method="classwise"), 3)
    0.6
    """
    values, codes = _check_probabilities(posteriors, truth)
    if method == "top_label":
        confidence, hit = _top_label(values, codes)
        return _ece(confidence, hit, bins)
    return float(_classwise(values, codes, bins).mean())


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
        Number of equal-width probability bins of the calibration table and of the
        expected calibration errors (top-label and classwise, overall and by group),
        in [1, 1000].
    eps : float
        Probabilities are clipped to ``[eps, 1]`` in the log loss; ``eps`` in (0, 0.5].
    progress : bool, optional
        Show a progress bar counting cases (needs tqdm). None: only for more than
        one batch of 256 cases, and only in a notebook or when stderr is a terminal.

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
    >>> bool(report.metrics[["ece_top_label", "ece_classwise"]].between(0, 1).all())
    True
    >>> list(report.calibration_by_group.columns)  # doctest: +NORMALIZE_WHITESPACE
    ['n_diagnoses', 'n_top_calls', 'mean_confidence', 'accuracy', 'overconfidence',
     'top_label_ece', 'classwise_ece']
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
    if progress is None and len(chunks) <= 1:
        progress = False  # one batch: nothing to watch
    with progress_bar(len(frame), desc="Evaluating", progress=progress, unit="case") as bar:
        for chunk in chunks:
            try:
                parts.append(net.posterior_batch(chunk))
            except EvidenceError as exc:
                raise EvidenceError(f"Case library: {exc}") from None
            bar.update(len(chunk))
    post = pd.concat(parts)
    truth = np.array([states.index(c.diagnosis) for c in cases])
    values = post.to_numpy()
    n = len(cases)
    p_true = values[np.arange(n), truth]
    # ties with the true diagnosis are broken by the network's order of diagnoses, as for
    # the top call and the top-label calibration (argmax: the first column on ties)
    ahead = (values > p_true[:, None]) | (
        (values == p_true[:, None]) & (np.arange(values.shape[1]) < truth[:, None])
    )
    rank = 1 + ahead.sum(axis=1)
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
    expected, expected_per_case = self_consistency(
        values,
        {s: float(metrics[s]) for s in ("top1", "top3", "top5", "brier", "log_loss")},
        eps=eps,
    )
    per_case = per_case.assign(**expected_per_case)
    confidence, hit = _top_label(values, truth)
    per_diagnosis_ece = _classwise(values, truth, bins)
    metrics["ece_top_label"] = _ece(confidence, hit, bins)
    metrics["ece_classwise"] = float(per_diagnosis_ece.mean())
    reliability = _reliability(confidence, hit, bins)
    group_of = np.array([net.spec.groups.get(s) for s in states], dtype=object)
    called = group_of[values.argmax(axis=1)]
    by_group_rows, by_group_tables = [], []
    for group in _diagnosis_groups(net):
        mine = called == group
        table = _reliability(confidence[mine], hit[mine], bins)
        by_group_tables.append(table.assign(group=group))
        n_calls = int(mine.sum())
        mean_c = float(confidence[mine].mean()) if n_calls else float("nan")
        acc = float(hit[mine].mean()) if n_calls else float("nan")
        by_group_rows.append(
            {
                "group": group,
                "n_diagnoses": int((group_of == group).sum()),
                "n_top_calls": n_calls,
                "mean_confidence": mean_c,
                "accuracy": acc,
                "overconfidence": mean_c - acc,
                "top_label_ece": table.attrs["ece"],
                "classwise_ece": float(per_diagnosis_ece[group_of == group].mean()),
            }
        )
    calibration_by_group = pd.DataFrame(by_group_rows).set_index("group")
    reliability_by_group = pd.concat(
        [reliability.iloc[:0].assign(group=pd.Series(dtype=object)), *by_group_tables],
        ignore_index=True,
    )[["group", *reliability.columns]]
    reliability_by_group.attrs.update({"bins": bins})
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
    tables = (
        per_case,
        per_group,
        pd.DataFrame(rows),
        post,
        reliability,
        reliability_by_group,
        calibration_by_group,
        expected,
    )
    return EvaluationReport(stamp(metrics, net.spec), *(stamp(t, net.spec) for t in tables))
