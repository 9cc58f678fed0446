"""Iterative proportional fitting of rows written marginal over a parent (``_margins``)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from softcalc_bayes._margins import TOLERANCE, ipf


@st.composite
def feasible(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """A positive joint on a random pattern of possible cells (every row and column keeps one)."""
    n_p, n_s = draw(st.integers(1, 5)), draw(st.integers(2, 5))
    possible = draw(arrays(bool, (n_p, n_s), elements=st.booleans()))
    possible[np.arange(n_p), np.arange(n_p) % n_s] = True
    possible[np.arange(n_s) % n_p, np.arange(n_s)] = True
    weights = draw(arrays(float, (n_p, n_s), elements=st.integers(1, 20).map(float)))
    joint = np.where(possible, weights, 0.0)
    return joint / joint.sum(), possible


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    on = p > 0
    return float((p[on] * np.log(p[on] / q[on])).sum())


@settings(max_examples=200, deadline=None)
@given(case=feasible())
def test_fit_keeps_both_margins_the_zeros_and_is_closest_to_independence(
    case: tuple[np.ndarray, np.ndarray],
) -> None:
    truth, possible = case
    margin, row = truth.sum(axis=1), truth.sum(axis=0)
    joint, error, _ = ipf(margin[None], row[None], possible[None])
    fit = joint[0]
    assert error[0] <= TOLERANCE
    np.testing.assert_allclose(fit.sum(axis=1), margin, atol=1e-9)
    np.testing.assert_allclose(fit.sum(axis=0), row, atol=1e-9)
    assert np.all(fit[~possible] == 0) and np.all(fit[possible] > 0)
    # the I-projection of the start: no other joint with these margins and zeros is closer
    start = np.where(possible, np.outer(margin, row), 0.0)
    start /= start.sum()
    assert _kl(fit, start) <= _kl(truth, start) + 1e-9
    # and it has the product form start * a(parent) * b(state) on the possible cells
    ii, jj = np.nonzero(possible)
    design = np.zeros((ii.size, margin.size + row.size))
    design[np.arange(ii.size), ii] = 1.0
    design[np.arange(ii.size), margin.size + jj] = 1.0
    target = np.log(fit[possible] / start[possible])
    coef, *_ = np.linalg.lstsq(design, target, rcond=None)
    np.testing.assert_allclose(design @ coef, target, atol=1e-6)


def test_independence_is_returned_when_nothing_is_excluded() -> None:
    margin, row = np.array([[0.2, 0.8]]), np.array([[0.5, 0.3, 0.2]])
    joint, error, rounds = ipf(margin, row, np.ones((1, 2, 3), dtype=bool))
    np.testing.assert_allclose(joint[0], np.outer(margin[0], row[0]), atol=1e-15)
    assert rounds == 1 and error[0] <= TOLERANCE


def test_infeasible_margins_are_reported_by_the_error() -> None:
    # the second state is possible only with the first parent state, which carries 0.3 < 0.5
    possible = np.array([[[True, True], [True, False]]])
    _, error, _ = ipf(np.array([[0.3, 0.7]]), np.array([[0.5, 0.5]]), possible)
    assert error[0] > 0.1
