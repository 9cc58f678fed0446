"""What a network forecasts for its own scores on a set of finding sets.

For one case with posterior ``p`` over ``K`` diagnoses, suppose the true diagnosis were
drawn from ``p`` itself (the network is right about the case). Then

- the true diagnosis ranks within the top ``k`` with probability
  ``q_k = sum_j p_j [rank_j <= k]``, where ``rank_j = 1 + #{i : p_i > p_j}`` is the
  rank :func:`~softcalc_bayes.evaluate.evaluate` gives diagnosis ``j`` (ties share the
  better rank);
- the Brier score ``b_j = sum_i p_i^2 - 2 p_j + 1`` has mean ``1 - sum_i p_i^2``;
- the log loss ``l_j = -log(max(p_j, eps))`` has mean ``sum_j p_j l_j`` (the entropy
  of ``p`` when no probability is below ``eps``).

Over ``N`` independent cases the mean of each score has that mean and the variance
``sum_case Var / N^2``. A network whose observed scores lie far outside these
forecasts is mis-calibrated on the set; one whose observed scores match them scores
what its own numbers allow on those findings, so a better score needs findings
that discriminate more or knowledge that is sharper (and right).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SCORES = ("top1", "top3", "top5", "brier", "log_loss")
"""The scores forecast, in the order of :func:`self_consistency`'s index."""

_CHUNK = 4096


def top_k_mass(values: np.ndarray, k: int) -> np.ndarray:
    """``q_k`` of each row: the probability mass of diagnoses whose rank is at most ``k``."""
    return _split_mass(values, k)[0]


def _split_mass(values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The mass ranked within the top ``k`` and the mass ranked below, each summed directly."""
    inside, outside = np.empty(len(values)), np.empty(len(values))
    for start in range(0, len(values), _CHUNK):
        block = values[start : start + _CHUNK]
        within = 1 + (block[:, None, :] > block[:, :, None]).sum(axis=2) <= k
        inside[start : start + _CHUNK] = np.where(within, block, 0.0).sum(axis=1)
        outside[start : start + _CHUNK] = np.where(within, 0.0, block).sum(axis=1)
    return inside, outside


def _moments(values: np.ndarray, eps: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per-case mean and variance of each score when the truth is drawn from the row."""
    moments: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for k in (1, 3, 5):
        q, rest = _split_mass(values, k)
        # 1 - q summed from the ranks below k: exact 0 when nothing lies outside
        moments[f"top{k}"] = (q, q * rest)
    square = (values**2).sum(axis=1)
    brier = square[:, None] - 2.0 * values + 1.0  # b_j for every j
    loss = -np.log(np.clip(values, eps, 1.0))  # l_j for every j
    for score, per_truth in (("brier", brier), ("log_loss", loss)):
        mean = (values * per_truth).sum(axis=1)
        # centred form: no cancellation when every truth scores alike
        moments[score] = (mean, (values * (per_truth - mean[:, None]) ** 2).sum(axis=1))
    return moments


def self_consistency(
    values: np.ndarray, observed: dict[str, float], *, eps: float
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The forecast table and the per-case top-k masses.

    Parameters
    ----------
    values : numpy.ndarray
        Posteriors, cases x diagnoses, rows summing to 1.
    observed : dict
        The observed mean of each score in :data:`SCORES`.
    eps : float
        The clip of the log loss, as in ``evaluate``.

    Returns
    -------
    table : pandas.DataFrame
        Indexed by score: ``observed``, ``expected``, ``sd`` (standard deviation of the
        mean score over the cases when each truth is drawn from its posterior) and
        ``z`` (``(observed - expected) / sd``; 0 when both differences are 0, and
        +-inf when ``sd`` is 0 but the scores differ).
    per_case : dict
        ``expected_top1`` and ``expected_top3``: each case's ``q_1`` and ``q_3``.
    """
    n = len(values)
    moments = _moments(values, eps)
    rows = []
    for score in SCORES:
        mean, var = moments[score]
        expected = float(mean.mean())
        sd = float(np.sqrt(var.sum()) / n)
        diff = observed[score] - expected
        if sd > 0:
            z = diff / sd
        else:
            z = 0.0 if abs(diff) <= 1e-12 else float(np.copysign(np.inf, diff))
        rows.append({"observed": observed[score], "expected": expected, "sd": sd, "z": z})
    table = pd.DataFrame(rows, index=pd.Index(SCORES, name="score"))
    per_case = {"expected_top1": moments["top1"][0], "expected_top3": moments["top3"][0]}
    return table, per_case
