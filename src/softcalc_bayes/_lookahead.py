"""One-step look-ahead: every outcome of every candidate finding in one batched query."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .network import Network

_TIE = 1e-12
"""A top diagnosis changes only if another state beats it by more than this."""
SUMMARY = (
    "information_gain_bits",
    "p_top_changes",
    "expected_p_top",
    "expected_p_current_top",
    "p_current_top_min",
    "p_current_top_max",
)


def entropy_bits(p: np.ndarray) -> np.ndarray:
    """Shannon entropy in bits along the last axis (0 log 0 = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return np.asarray(terms.sum(axis=-1))


def predictive(
    net: Network, evidence: Mapping[str, Any], findings: Sequence[str]
) -> dict[str, np.ndarray]:
    """P(f = s | e) for each finding, in the order of ``net.states(f)``, from one pass.

    ``evidence`` (states, or sets of states) must be possible (the caller has computed a
    posterior from it).
    """
    if not findings:
        return {}
    engine = net.engine
    marginals, _ = engine.marginals(*net._encode(evidence, None, None))
    return {f: marginals[engine.index[f]] for f in findings}


@dataclass(frozen=True)
class Lookahead:
    """Every possible outcome ``F = s`` of every candidate, one row each.

    ``finding[r]`` indexes ``findings``; rows of one finding are contiguous and start at
    ``starts``; ``p[r] = P(F = s | e) > 0``; ``post[r] = P(T | e, F = s)``.
    """

    findings: list[str]
    prior: np.ndarray  # P(T | e)
    predictive: dict[str, np.ndarray]  # P(F = s | e) for every state of F
    states: np.ndarray  # state index of each row
    finding: np.ndarray
    starts: np.ndarray
    p: np.ndarray
    post: np.ndarray

    def _sum(self, values: np.ndarray) -> np.ndarray:
        return np.bincount(self.finding, weights=self.p * values, minlength=len(self.findings))

    def gains(self) -> np.ndarray:
        """I(T; F | e) = sum_s P(s) KL(P(T | e, s) || P(T | e)) in bits, clipped at 0."""
        post, prior = self.post, self.prior[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(post > 0, post / np.where(prior > 0, prior, 1.0), 1.0)
            kl = np.sum(np.where(post > 0, post * np.log2(ratio), 0.0), axis=1)
        return np.asarray(np.maximum(self._sum(kl), 0.0))

    def summary(self) -> dict[str, np.ndarray]:
        """The columns of :func:`next_best_test` other than costs."""
        if not self.findings:
            return {name: np.zeros(0) for name in SUMMARY}
        top = int(np.argmax(self.prior))
        best = self.post.max(axis=1)
        current = self.post[:, top]
        return {
            "information_gain_bits": self.gains(),
            "p_top_changes": self._sum((best > current + _TIE).astype(float)),
            "expected_p_top": self._sum(best),
            "expected_p_current_top": self._sum(current),
            "p_current_top_min": np.minimum.reduceat(current, self.starts),
            "p_current_top_max": np.maximum.reduceat(current, self.starts),
        }


def lookahead(
    net: Network, evidence: Mapping[str, Any], findings: Sequence[str], target: str
) -> Lookahead:
    """Every outcome of every candidate in ``findings``, as one batch of exact queries.

    Works on the engine's codes directly (no DataFrame): the evidence codes fill every
    row, and row ``r`` adds the outcome ``F = s`` it stands for.
    """
    prior = net._posterior_array(evidence, target, None)  # EvidenceError if impossible
    p_f = predictive(net, evidence, findings)
    where = [(j, i) for j, f in enumerate(findings) for i in np.flatnonzero(p_f[f] > 0)]
    finding = np.array([j for j, _ in where], dtype=np.int64)
    states = np.array([i for _, i in where], dtype=np.int64)
    post = np.zeros((len(where), len(prior)))
    if where:
        engine = net.engine
        codes = np.zeros((len(where), len(engine.names)), dtype=np.int64)
        given, sets = net._encode(evidence, target, None)  # sets of states: 0/1 likelihoods
        for name, i in given.items():
            codes[:, engine.index[name]] = i + 1
        columns = np.array([engine.index[f] for f in findings], dtype=np.int64)
        codes[np.arange(len(where)), columns[finding]] = states + 1
        soft = {n: np.broadcast_to(v, (len(where), len(v))) for n, v in sets.items()}
        post = engine.posterior_batch(codes, target, soft or None)
    p = np.array([p_f[findings[j]][i] for j, i in where], dtype=float)
    starts = np.searchsorted(finding, np.arange(len(findings)))
    return Lookahead(list(findings), prior, p_f, states, finding, starts, p, post)
