"""Exact one-way sensitivity analysis and SamIam-style parameter tuning.

Under proportional co-variation of the other entries of its row, a posterior is a
linear fraction of any single parameter x (Coupé & van der Gaag; Kjaerulff & van
der Gaag, UAI 2000)::

    f(x) = P(t | e)(x) = (a x + b) / (c x + d)

The coefficients follow from the partial derivatives of P(t, e) with respect to
every parameter of the network polynomial (Darwiche, JACM 2003). The compiled
engine gives them for all parameters at once: for each component of the network
that holds evidence, one contraction per conditional table yields the derivative
with respect to all of that table's entries, for every target state together.
With ``G_j = dP(t, e)/d theta_j`` for the entries of one row, proportional
co-variation gives the slope ``(G_x - sum_j theta_j G_j) / (1 - theta_x)``.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._params import NETWORK, NONE, Interval, check_query, validate_params
from ._validation import unknown_message
from .engine import CompiledEngine
from .exceptions import EvidenceError
from .network import Evidence, Network

__all__ = ["SensitivityCoefficients", "sensitivity", "sensitivity_coefficients", "tune"]

_LETTERS = string.ascii_letters


@dataclass(frozen=True)
class SensitivityCoefficients:
    """Coefficients of every one-way sensitivity function of a query.

    ``a`` and ``b`` have shape (n_parameters, n_target_states); ``c`` and ``d``
    have shape (n_parameters,). Parameters are in the row order of
    :meth:`Network.parameters`. All four are scaled by the same constant, which
    cancels in ``f(x) = (a x + b) / (c x + d)``.
    """

    target: str
    states: tuple[str, ...]
    x0: np.ndarray
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    d: np.ndarray

    def posterior(self, x: np.ndarray | float) -> np.ndarray:
        """``f(x)`` for every parameter and target state: shape (n_parameters, n_states)."""
        x = np.asarray(x, dtype=float)
        x = np.broadcast_to(x, self.x0.shape)[:, None]
        return np.asarray((self.a * x + self.b) / (self.c[:, None] * x + self.d[:, None]))


def _component_gradients(
    engine: CompiledEngine, codes: Mapping[str, int]
) -> tuple[dict[int, np.ndarray], np.ndarray, float]:
    """dP(pivot=t, e)/d(theta) for every table touched by evidence, scaled.

    Returns ``{node index: array (n_pivot, n_configs, n_states)}``, the joint
    ``P(pivot = t, e)`` on the same scale, and the log of that scale.
    """
    messages, log_prior, local = engine.component_messages(codes)
    pivot, n_t = engine.pivot, int(engine.cards[engine.pivot])
    total = log_prior + messages.sum(axis=0)
    shift = float(np.max(total))
    if not np.isfinite(shift):
        raise ZeroDivisionError("evidence has probability zero")
    joint = np.exp(total - shift)
    grads: dict[int, np.ndarray] = {}
    if engine.prior_factor:  # dP(t, e)/d prior(s) = [t = s] prod_C m_C(s)
        rest = np.exp(messages.sum(axis=0) - shift)
        name = engine.names[pivot]
        if name in codes:  # an observed pivot: only its state contributes
            keep = np.zeros(n_t)
            keep[codes[name]] = 1.0
            rest = rest * keep
        grads[pivot] = np.diag(rest)[:, None, :]
    n_comp = len(engine.components)
    # prefix/suffix sums give prod_{C' != C} m_C' without subtracting -inf
    prefix = np.vstack([np.zeros(n_t), np.cumsum(messages, axis=0)])
    suffix = np.vstack([np.cumsum(messages[::-1], axis=0)[::-1], np.zeros(n_t)])
    observed = {engine.index[n]: s for n, s in codes.items()}
    for c in range(n_comp):
        comp = engine.components[c]
        if c not in local and pivot not in comp.factors:
            continue  # no evidence here: co-varied derivatives are exactly zero
        others = log_prior + prefix[c] + suffix[c + 1] - shift
        weight = np.exp(others)
        letter = {v: _LETTERS[i] for i, v in enumerate((*comp.variables, pivot))}
        tlet = letter[pivot]
        operands: list[np.ndarray] = [weight]
        subs: list[str] = [tlet]
        for v in comp.variables:
            ind = np.ones(int(engine.cards[v]))
            if v in observed:
                ind = np.zeros(int(engine.cards[v]))
                ind[observed[v]] = 1.0
            operands.append(ind)
            subs.append(letter[v])
        factor_subs = {f: "".join(letter[v] for v in (*engine.parents[f], f)) for f in comp.factors}
        for f in comp.factors:
            ops = operands + [engine.tensors[g] for g in comp.factors if g != f]
            ss = subs + [factor_subs[g] for g in comp.factors if g != f]
            fam = factor_subs[f]
            out = fam if tlet in fam else tlet + fam
            g = np.einsum(",".join(ss) + "->" + out, *ops, optimize="greedy")
            shape = engine.tensors[f].shape
            n_cfg, k = int(np.prod(shape[:-1], dtype=np.int64)), shape[-1]
            if tlet in fam:  # derivative is non-zero only where the pivot parent equals t
                axis = fam.index(tlet)
                full = np.zeros((n_t, *shape))
                moved = np.moveaxis(full, 1 + axis, 1)
                gm = np.moveaxis(g, axis, 0)
                for t in range(n_t):
                    moved[t, t] = gm[t]
                grads[f] = full.reshape(n_t, n_cfg, k)
            else:
                grads[f] = np.asarray(g).reshape(n_t, n_cfg, k)
    return grads, joint, shift


def _covaried_slopes(grad: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Slopes dP/dx under proportional co-variation; grad (T, n_cfg, k), theta (n_cfg, k)."""
    weighted = np.einsum("tuj,uj->tu", grad, theta)[:, :, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (grad - weighted) / (1.0 - theta)[None]
    certain = np.isclose(theta, 1.0)
    if certain.any():  # theta_x = 1: the others share 1 - x evenly
        k = theta.shape[1]
        mean_others = (grad.sum(axis=2, keepdims=True) - grad) / max(k - 1, 1)
        slope = np.where(certain[None], grad - mean_others, slope)
    return np.asarray(slope)


@validate_params({"net": [NETWORK]})
def sensitivity_coefficients(
    net: Network, evidence: Evidence, *, target: str | None = None
) -> SensitivityCoefficients:
    """Coefficients a, b, c, d of every one-way sensitivity function.

    Examples
    --------
    >>> from softcalc_bayes import load_network
    >>> net = load_network()
    >>> coef = sensitivity_coefficients(net, {"fat_in_lesion": "present"})
    >>> coef.a.shape == (len(net.parameters()), 39)
    True
    """
    check_query("sensitivity_coefficients", net, target)
    target = net.target if target is None else target
    codes = net.encode(evidence, target=target)
    engine = net.engine
    nodes = list(net.spec.nodes.values())
    states = net.spec.nodes[target].states
    if engine.index[target] == engine.pivot:
        evidence_sets = [codes]
    else:
        evidence_sets = [{**codes, target: s} for s in range(len(states))]
    slopes: list[list[np.ndarray]] = []
    values: list[np.ndarray] = []
    try:
        runs = [_component_gradients(engine, ev) for ev in evidence_sets]
    except ZeroDivisionError:
        raise EvidenceError(net._conflict_message(codes)) from None
    top_shift = max(shift for _, _, shift in runs)
    scale = max(float(j.sum()) * np.exp(shift - top_shift) for _, j, shift in runs)
    for grads, joint, shift in runs:
        factor = np.exp(shift - top_shift)  # bring every run to one common scale
        joint = joint * factor
        per_node = []
        for v, node in enumerate(nodes):
            n_t = len(joint)
            g = grads.get(v)
            if g is None:
                per_node.append(np.zeros((n_t, node.cpt.size)))
            else:
                per_node.append(factor * _covaried_slopes(g, node.cpt).reshape(n_t, -1))
        slopes.append(per_node)
        values.append(joint)
    if len(runs) == 1:  # target is the pivot: one column per pivot state
        a = np.concatenate(slopes[0], axis=1).T
        pte = values[0]
    else:  # one evidence set per target state: sum over the pivot axis
        a = np.stack([np.concatenate(s, axis=1).sum(axis=0) for s in slopes], axis=1)
        pte = np.array([j.sum() for j in values])
    a, pte = a / scale, pte / scale
    x0 = np.concatenate([node.cpt.ravel() for node in nodes])
    c = a.sum(axis=1)
    b = pte[None, :] - a * x0[:, None]
    d = pte.sum() - c * x0
    return SensitivityCoefficients(target, tuple(states), x0, a, b, c, d)


def _interval(alpha: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the sub-interval of [0, 1] where alpha x + beta >= 0 for every column."""
    with np.errstate(divide="ignore", invalid="ignore"):
        root = -beta / alpha
    low = np.where(alpha > 0, root, -np.inf).max(axis=1)
    high = np.where(alpha < 0, root, np.inf).min(axis=1)
    return np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)


@validate_params({"net": [NETWORK], "threshold": [Interval(float, 0, 1), NONE]})
def sensitivity(
    net: Network,
    evidence: Evidence,
    *,
    target: str | None = None,
    state: str | None = None,
    threshold: float | None = None,
) -> pd.DataFrame:
    """One-way sensitivity of ``P(target = state | evidence)`` to every parameter.

    Parameters
    ----------
    net : Network
    evidence : mapping
        Finding -> observed state.
    target : str, optional
        Queried node (default: the diagnosis).
    state : str, optional
        Queried state (default: the most probable state given the evidence).
    threshold : float, optional
        If given, the admissible range is where ``f`` stays on the same side of
        ``threshold``; otherwise it is where the most probable state stays the same.

    Returns
    -------
    pandas.DataFrame
        One row per parameter, ranked by ``|sensitivity_value|``: the provenance
        columns of :meth:`Network.parameters` and ``x0``, ``a``, ``b``, ``c``, ``d``
        (``f(x) = (a x + b) / (c x + d)``), ``posterior`` (``f(x0)``),
        ``sensitivity_value`` (``f'(x0)``), ``p_at_0``, ``p_at_1``,
        ``admissible_low``, ``admissible_high``.

    Examples
    --------
    >>> from softcalc_bayes import load_network
    >>> net = load_network()
    >>> table = sensitivity(net, {"fat_in_lesion": "present", "mdm2_fish": "amplified"})
    >>> table.attrs["state"]
    'alt_wdlps'
    >>> bool((table["admissible_low"] <= table["x0"]).all())
    True
    """
    check_query("sensitivity", net, target, state=state)
    coef = sensitivity_coefficients(net, evidence, target=target)
    post = coef.b[0] + coef.a[0] * coef.x0[0]
    top = int(np.argmax(post))
    if state is None:
        s = top
    elif state in coef.states:
        s = coef.states.index(state)
    else:
        raise EvidenceError(unknown_message("state", state, coef.states))
    a, b, c, d, x0 = coef.a[:, s], coef.b[:, s], coef.c, coef.d, coef.x0
    denom = c * x0 + d
    f0 = (a * x0 + b) / denom
    slope = (a * d - b * c) / denom**2
    if threshold is None:
        alpha = coef.a[:, [top]] - coef.a
        beta = coef.b[:, [top]] - coef.b
        low, high = _interval(alpha, beta)
    else:
        if not 0.0 <= threshold <= 1.0:
            raise EvidenceError(f"threshold must be in [0, 1], got {threshold!r}")
        sign = np.where(f0 >= threshold, 1.0, -1.0)
        low, high = _interval(
            (sign * (a - threshold * c))[:, None], (sign * (b - threshold * d))[:, None]
        )
    table = net.parameters()
    table["x0"], table["a"], table["b"], table["c"], table["d"] = x0, a, b, c, d
    table["posterior"] = f0
    table["sensitivity_value"] = slope
    table["p_at_0"] = b / d
    with np.errstate(divide="ignore", invalid="ignore"):
        table["p_at_1"] = (a + b) / (c + d)
    table["admissible_low"], table["admissible_high"] = low, high
    order = np.argsort(-np.abs(slope), kind="stable")
    table = table.iloc[order].reset_index(drop=True)
    table.attrs.update(target=coef.target, state=coef.states[s], threshold=threshold)
    return table


@validate_params({"net": [NETWORK], "at_least": [Interval(float, 0, 1), NONE]})
def tune(
    net: Network,
    evidence: Evidence,
    *,
    state: str,
    at_least: float | None = None,
    above: str | None = None,
    target: str | None = None,
) -> pd.DataFrame:
    """Minimal single-parameter changes that satisfy a constraint (as in SamIam).

    The constraint is ``P(state | e) >= at_least`` or ``P(state | e) >= P(above | e)``.

    Returns
    -------
    pandas.DataFrame
        One row per parameter: provenance columns, ``x0``, ``x_new`` (the nearest
        value in [0, 1] that satisfies the constraint, NaN where none does),
        ``change`` and ``feasible``; feasible changes first, smallest first.

    Examples
    --------
    >>> from softcalc_bayes import load_network
    >>> net = load_network()
    >>> t = tune(net, {"fat_in_lesion": "present"}, state="alt_wdlps", at_least=0.5)
    >>> bool(t["feasible"].iloc[0])
    True
    """
    check_query("tune", net, target, state=state, above=above)
    if (at_least is None) == (above is None):
        raise EvidenceError("give exactly one of at_least= or above=")
    coef = sensitivity_coefficients(net, evidence, target=target)
    if state not in coef.states:
        raise EvidenceError(unknown_message("state", state, coef.states))
    s = coef.states.index(state)
    if at_least is not None:
        if not 0.0 <= at_least <= 1.0:
            raise EvidenceError(f"at_least must be in [0, 1], got {at_least!r}")
        alpha = coef.a[:, s] - at_least * coef.c
        beta = coef.b[:, s] - at_least * coef.d
    else:
        if above not in coef.states:
            raise EvidenceError(unknown_message("state", above, coef.states))
        o = coef.states.index(str(above))
        alpha, beta = coef.a[:, s] - coef.a[:, o], coef.b[:, s] - coef.b[:, o]
    x0 = coef.x0
    tol = 1e-12
    ok_now = alpha * x0 + beta >= -tol
    with np.errstate(divide="ignore", invalid="ignore"):
        root = np.clip(-beta / alpha, 0.0, 1.0)
    x_new = np.where(ok_now, x0, np.nan)
    up = ~ok_now & (alpha > 0) & (alpha * 1.0 + beta >= -tol)
    down = ~ok_now & (alpha < 0) & (beta >= -tol)
    x_new = np.where(up | down, root, x_new)
    table = net.parameters()
    table["x0"], table["x_new"] = x0, x_new
    table["change"] = x_new - x0
    table["feasible"] = ~np.isnan(x_new)
    table = table.assign(_abs=np.abs(table["change"]).fillna(np.inf))
    table = table.sort_values(["_abs"], kind="stable").drop(columns="_abs").reset_index(drop=True)
    table.attrs.update(state=state, at_least=at_least, above=above)
    return table
