"""Exact one-way sensitivity analysis and SamIam-style parameter tuning.

Under proportional co-variation of the other entries of its row, a posterior is a
linear fraction of any single parameter x (Coupé & van der Gaag; Kjaerulff & van
der Gaag, UAI 2000)::

    f(x) = P(t | e)(x) = (a x + b) / (c x + d)

The coefficients follow from the partial derivatives of P(t, e) with respect to
every parameter of the network polynomial (Darwiche, JACM 2003). The engine gives
them for all parameters at once and for any network structure: one collect pass
and one Shafer-Shenoy distribute pass of the junction tree, with the target's
states entered as a batch of indicator vectors.
With ``G_j = dP(t, e)/d theta_j`` for the entries of one row, proportional
co-variation gives the slope ``(G_x - sum_j theta_j G_j) / (1 - theta_x)``.

A parameter is a number as written, not a table entry: a row written once and applied
to every state of a parent other than the diagnosis (e.g. every diagnosis but CPPD has
one site row for both states of the latent ``cppd_form``) fills several entries, and
:func:`sensitivity` and :func:`tune` move those entries together (``n_entries``). Every
joint configuration uses one entry of a node's table, so ``P(t, e)`` stays linear in the
shared value and the slopes of its entries add up.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._engine import ZeroProbabilityError
from ._params import BOOLEAN, NETWORK, NONE, Interval, check_query, validate_params
from ._provenance_hash import stamp
from ._validation import unknown_message
from .exceptions import EvidenceError
from .network import Evidence, Network

__all__ = ["SensitivityCoefficients", "sensitivity", "sensitivity_coefficients", "tune"]


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


def _exclusive_sums(a: np.ndarray) -> np.ndarray:
    """``sum_{j != x} a_j`` along the last axis, by additions only (no cancellation)."""
    zero = np.zeros_like(a[..., :1])
    before = np.concatenate([zero, np.cumsum(a[..., :-1], axis=-1)], axis=-1)
    after = np.concatenate([np.cumsum(a[..., :0:-1], axis=-1)[..., ::-1], zero], axis=-1)
    return np.asarray(before + after)


def _covaried_slopes(
    grad: np.ndarray, theta: np.ndarray, fixed: np.ndarray | None = None
) -> np.ndarray:
    """Slopes dP/dx under proportional co-variation; grad (T, n_cfg, k), theta (n_cfg, k).

    Moving entry x by dx moves every other entry j of its row by
    ``-dx * theta_j / sum_{k != x} theta_k``, so the slope is ``G_x`` minus the
    theta-weighted mean of the other entries' derivatives. The sums over the other
    entries are formed by additions only, which stays exact for rows such as
    ``[1 - 1e-10, 1e-10]`` where ``1 - theta_x`` would lose most of its digits. A row
    whose other entries are all 0 (``theta_x = 1``) shares the change evenly among the
    entries that may move: ``fixed`` (n_cfg, k) marks structural zeros, which stay 0.
    """
    others = _exclusive_sums(theta)[None]
    weighted = _exclusive_sums(grad * theta[None])
    free = np.ones(theta.shape) if fixed is None else (~fixed).astype(float)
    n_free = np.maximum(_exclusive_sums(free), 1.0)[None]
    mean_others = _exclusive_sums(grad * free[None]) / n_free
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(others > 0, grad - weighted / others, grad - mean_others)
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
    codes, sets = net._encode(evidence, net._check_target(target), None)
    nodes = list(net.spec.nodes.values())
    states = net.spec.nodes[target].states
    try:  # a set of states enters as its 0/1 likelihood: P(e) stays linear in every x
        grads, pte = net.engine.gradients(codes, sets or None, clamp=target)
    except ZeroProbabilityError:
        raise EvidenceError(net._conflict_message(codes, sets)) from None
    n_t = len(states)
    slopes = [
        _covaried_slopes(
            g.reshape(n_t, -1, len(node.states)), node.cpt, node.structural_zeros()
        ).reshape(n_t, -1)
        for g, node in zip(grads, nodes, strict=True)
    ]
    a = np.concatenate(slopes, axis=1).T
    x0 = np.concatenate([node.cpt.ravel() for node in nodes])
    c = a.sum(axis=1)
    b = pte[None, :] - a * x0[:, None]
    d = pte.sum() - c * x0
    return SensitivityCoefficients(target, tuple(states), x0, a, b, c, d)


_WRITTEN: weakref.WeakKeyDictionary[Network, tuple[np.ndarray, dict[int, frozenset[str]]]] = (
    weakref.WeakKeyDictionary()
)
""":func:`_written_parameters` per network (a network's tables never change)."""


def _written_parameters(net: Network) -> tuple[np.ndarray, dict[int, frozenset[str]]]:
    """See :func:`_find_written_parameters`; computed once per network."""
    found = _WRITTEN.get(net)
    if found is None:
        found = _WRITTEN[net] = _find_written_parameters(net)
    return found


def _find_written_parameters(net: Network) -> tuple[np.ndarray, dict[int, frozenset[str]]]:
    """Per table entry, the entry that stands for its written parameter; and per such
    representative entry, the parents over which its parameter is repeated.

    Rows of a table that are identical, values and provenance, across all the states of
    a parent other than the network's target (the other parents fixed) are one written
    row (the rule of the uncertainty sampler, :func:`softcalc_bayes._engine.sampling._ties`).
    Entries are in the order of :meth:`Network.parameters`.
    """
    from ._engine.sampling import _ties

    reps: list[np.ndarray] = []
    over: dict[int, frozenset[str]] = {}
    offset = 0
    for node in net.spec.nodes.values():
        n_cfg, k = node.cpt.shape
        cards = np.array([len(net.spec.nodes[p].states) for p in node.parents], dtype=int)
        ids: dict[object, int] = {}
        labels = np.array(
            [[ids.setdefault(prov, len(ids)) for prov in row] for row in node.provenance],
            dtype=float,
        ).reshape(n_cfg, k)
        signature = np.concatenate([node.cpt, labels], axis=1)
        target = node.parents.index(net.target) if net.target in node.parents else -1
        unique, tie = _ties(signature, tuple(range(len(node.parents))), cards, target)
        rows = np.arange(n_cfg) if tie is None else unique[tie]
        reps.append(offset + (rows[:, None] * k + np.arange(k)[None, :]).ravel())
        if tie is not None:  # rows repeated over some parent: name the parents it spans
            grid = np.array(np.unravel_index(np.arange(n_cfg), tuple(cards))).T
            for rep in unique:
                spans = grid[rows == rep]
                names = frozenset(
                    p
                    for i, p in enumerate(node.parents)
                    if i != target and cards[i] > 1 and len(set(spans[:, i])) == cards[i]
                )
                over.update({offset + rep * k + s: names for s in range(k)})
        offset += n_cfg * k
    return np.concatenate(reps), over


def _by_written_parameter(
    net: Network, coef: SensitivityCoefficients
) -> tuple[SensitivityCoefficients, pd.DataFrame, np.ndarray]:
    """The coefficients of every written parameter (its entries moved together), its
    row of :meth:`Network.parameters` (parents it is repeated over left out of
    ``parents``; ``n_entries`` the entries it fills), and the table entry that stands
    for each (an index into :meth:`Network.parameters`)."""
    rep, over = _written_parameters(net)
    keep, inverse = np.unique(rep, return_inverse=True)
    inverse = inverse.reshape(-1)
    n = len(keep)
    a = np.zeros((n, coef.a.shape[1]))
    np.add.at(a, inverse, coef.a)
    c = np.zeros(n)
    np.add.at(c, inverse, coef.c)
    x0 = coef.x0[keep]
    # P(t, e) at x0 is the same from any entry: b_i + a_i x0_i, d_i + c_i x0_i
    pte = coef.b[keep] + coef.a[keep] * x0[:, None]
    pe = coef.d[keep] + coef.c[keep] * x0
    merged = SensitivityCoefficients(
        coef.target, coef.states, x0, a, pte - a * x0[:, None], c, pe - c * x0
    )
    table = net.parameters().iloc[keep].reset_index(drop=True)
    table["parents"] = pd.Series(
        [
            {q: v for q, v in parents.items() if q not in over.get(int(i), frozenset())}
            for parents, i in zip(table["parents"], keep, strict=True)
        ],
        index=table.index,
        dtype=object,
    )
    table["n_entries"] = np.bincount(inverse, minlength=n)
    return merged, table, keep


def _interval(alpha: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the sub-interval of [0, 1] where alpha x + beta >= 0 for every column."""
    # a tiny alpha sends the root past the float range: +-inf is the right limit there
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
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
    level: float = 0.9,
) -> pd.DataFrame:
    """One-way sensitivity of ``P(target = state | evidence)`` to every parameter.

    Parameters
    ----------
    net : Network
    evidence : mapping
        Finding -> observed state, or a set of states (a list, tuple or set: "one of
        these"), as for :meth:`Network.posterior`.
    target : str, optional
        Queried node (default: the diagnosis).
    state : str, optional
        Queried state (default: the most probable state given the evidence).
    threshold : float, optional
        If given, the admissible range is where ``f`` stays on the same side of
        ``threshold``; otherwise it is where the most probable state stays the same.
    level : float
        Probability of the plausible range of each parameter (default 0.9), in (0, 1).

    Returns
    -------
    pandas.DataFrame
        One row per written parameter (a row repeated over the states of a parent
        other than the diagnosis is one parameter whose entries move together, as in
        the module notes; ``n_entries`` counts them, and ``parents`` leaves out the
        parents it is repeated over), ranked by ``swing`` (ties by
        ``|sensitivity_value|``): the provenance columns of :meth:`Network.parameters`
        and ``n_entries``, ``x0``, ``a``, ``b``,
        ``c``, ``d`` (``f(x) = (a x + b) / (c x + d)``), ``posterior`` (``f(x0)``),
        ``sensitivity_value`` (``f'(x0)``), ``p_at_0``, ``p_at_1`` (NaN where the
        evidence would be impossible with the parameter at 0 or 1), ``admissible_low``,
        ``admissible_high``, and the plausible range:
        ``plausible_low`` and ``plausible_high`` (the equal-tailed ``level`` interval
        of the parameter's Beta marginal ``Beta(A x0, A (1 - x0))``, widened to
        include ``x0`` where a very skewed Beta leaves it outside; ``A`` is the
        row's equivalent sample size, as in
        :func:`~softcalc_bayes.uncertainty.row_concentrations`), ``p_at_low`` and
        ``p_at_high`` (``f`` at its ends) and ``swing`` (``|p_at_high - p_at_low|``,
        how far the posterior moves when the parameter moves over its plausible range).
        ``attrs`` holds ``target``, ``state``, ``threshold``, ``level``, ``evidence``
        and ``ranked_by``.

    Notes
    -----
    ``sensitivity_value`` ranks by the local slope, which is large for parameters
    that can hardly move (a well-documented 0.97); ``swing`` weighs the slope by how
    far the documentation lets the number move, so the top rows are the numbers whose
    uncertainty matters for this question. A structural zero (``structural_zero``: an
    ``impossible`` rule) has no plausible range and a swing of 0; under proportional
    co-variation the structural zeros of a row stay 0 when another entry moves.
    :func:`~softcalc_bayes.plotting.plot_tornado` draws the same ranking.

    Examples
    --------
    >>> from softcalc_bayes import load_network
    >>> net = load_network()
    >>> table = sensitivity(net, {"fat_in_lesion": "present", "mdm2_fish": "amplified"})
    >>> table.attrs["state"]
    'alt_wdlps'
    >>> bool((table["admissible_low"] <= table["x0"]).all())
    True
    >>> bool(table["swing"].is_monotonic_decreasing)
    True
    """
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0.0 < level < 1.0:
        raise EvidenceError(f"level must be a number strictly between 0 and 1, got {level!r}")
    check_query("sensitivity", net, target, state=state)
    coef, table, entries = _by_written_parameter(
        net, sensitivity_coefficients(net, evidence, target=target)
    )
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
    table["x0"], table["a"], table["b"], table["c"], table["d"] = x0, a, b, c, d
    table["posterior"] = f0
    table["sensitivity_value"] = slope
    with np.errstate(divide="ignore", invalid="ignore"):  # 0/0: impossible evidence there
        table["p_at_0"] = b / d
        table["p_at_1"] = (a + b) / (c + d)
    table["admissible_low"], table["admissible_high"] = low, high
    plo, phi = _plausible_range(net, x0, float(level), entries)
    with np.errstate(divide="ignore", invalid="ignore"):
        f_lo = (a * plo + b) / (c * plo + d)
        f_hi = (a * phi + b) / (c * phi + d)
    table["plausible_low"], table["plausible_high"] = plo, phi
    table["p_at_low"], table["p_at_high"] = f_lo, f_hi
    table["swing"] = np.abs(f_hi - f_lo)
    order = np.lexsort((-np.abs(slope), -table["swing"].to_numpy()))
    table = table.iloc[order].reset_index(drop=True)
    table.attrs.update(
        target=coef.target,
        state=coef.states[s],
        threshold=threshold,
        level=float(level),
        evidence=net._observed(evidence, coef.target),
        ranked_by="swing",
    )
    return stamp(table, net.spec)


def _plausible_range(
    net: Network, x0: np.ndarray, level: float, entries: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed ``level`` interval of every parameter's Beta marginal.

    Each row ``p`` of a table is read as ``Dirichlet(A p)`` with ``A`` the row's
    equivalent sample size, so entry ``x0`` is ``Beta(A x0, A (1 - x0))``; entries at 0
    or 1 stay put. Parameters are in the order of :meth:`Network.parameters`, or, with
    ``entries`` (indices into that order), the parameters those entries stand for.
    """
    from scipy import special

    from .uncertainty import row_concentrations

    conc = np.concatenate(
        [
            np.repeat(row_concentrations(net, n), len(node.states))
            for n, node in net.spec.nodes.items()
        ]
    )
    if entries is not None:
        conc = conc[entries]
    inner = (x0 > 0.0) & (x0 < 1.0) & (conc > 0.0)
    low, high = x0.astype(float).copy(), x0.astype(float).copy()
    tail = (1.0 - level) / 2.0
    alpha, beta = conc[inner] * x0[inner], conc[inner] * (1.0 - x0[inner])
    low[inner] = special.betaincinv(alpha, beta, tail)
    high[inner] = special.betaincinv(alpha, beta, 1.0 - tail)
    # a very skewed Beta (tiny A x0) can have its mean outside the equal-tailed
    # interval: the range always reaches the documented value itself
    return np.minimum(low, x0), np.maximum(high, x0)


@validate_params(
    {
        "net": [NETWORK],
        "at_least": [Interval(float, 0, 1), NONE],
        "feasible_only": [BOOLEAN],
    }
)
def tune(
    net: Network,
    evidence: Evidence,
    *,
    state: str,
    at_least: float | None = None,
    above: str | None = None,
    target: str | None = None,
    feasible_only: bool = True,
) -> pd.DataFrame:
    """Minimal single-parameter changes that satisfy a constraint (as in SamIam).

    The constraint is ``P(state | e) >= at_least`` or ``P(state | e) >= P(above | e)``.

    Parameters
    ----------
    net : Network
    evidence : mapping
        Finding -> observed state, or a set of states, as for :func:`sensitivity`.
    state : str
        The target state the constraint is about.
    at_least : float, optional
        Required probability of ``state``.
    above : str, optional
        Another state, that ``state`` must reach (give exactly one of ``at_least`` and
        ``above``).
    target : str, optional
        Queried node (default: the diagnosis).
    feasible_only : bool
        Keep only the parameters whose change can satisfy the constraint (default).
        ``False`` returns every parameter, the infeasible ones last with ``x_new``
        NaN.

    Returns
    -------
    pandas.DataFrame
        One row per written parameter (as for :func:`sensitivity`; ``n_entries``):
        provenance columns, ``x0``, ``x_new`` (the nearest
        value in [0, 1] that satisfies the constraint, NaN where none does),
        ``change`` and ``feasible``; smallest change first. Structural zeros
        (``impossible`` rules) are never proposed: they are infeasible by definition. ``attrs`` holds
        ``state``, ``at_least``, ``above``, ``evidence``, ``n_parameters`` (all
        parameters examined) and ``n_feasible``.

    Raises
    ------
    InvalidParameterError
        ``net`` not a Network, ``at_least`` not in [0, 1] or ``feasible_only`` not a
        bool.
    EvidenceError
        Bad evidence, ``target``, ``state`` or ``above``; ``above`` equal to
        ``state``; neither or both of ``at_least`` and ``above``.

    Examples
    --------
    >>> from softcalc_bayes import load_network
    >>> net = load_network()
    >>> t = tune(net, {"fat_in_lesion": "present"}, state="alt_wdlps", at_least=0.5)
    >>> bool(t["feasible"].all()), len(t) < len(net.parameters())
    (True, True)
    """
    check_query("tune", net, target, state=state, above=above)
    if (at_least is None) == (above is None):
        raise EvidenceError("give exactly one of at_least= or above=")
    if above == state:
        raise EvidenceError(
            f"The 'above' parameter of tune: {above!r} is the tuned state itself; name "
            "another state (a state cannot be raised above itself)"
        )
    coef, table, _ = _by_written_parameter(
        net, sensitivity_coefficients(net, evidence, target=target)
    )
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
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # clipped below
        root = np.clip(-beta / alpha, 0.0, 1.0)
    x_new = np.where(ok_now, x0, np.nan)
    up = ~ok_now & (alpha > 0) & (alpha * 1.0 + beta >= -tol)
    down = ~ok_now & (alpha < 0) & (beta >= -tol)
    x_new = np.where(up | down, root, x_new)
    # a structural zero (an impossible combination) is fixed by definition: never moved
    x_new = np.where(table["structural_zero"].to_numpy() & ~ok_now, np.nan, x_new)
    table["x0"], table["x_new"] = x0, x_new
    table["change"] = x_new - x0
    table["feasible"] = ~np.isnan(x_new)
    table = table.assign(_abs=np.abs(table["change"]).fillna(np.inf))
    table = table.sort_values(["_abs"], kind="stable").drop(columns="_abs").reset_index(drop=True)
    n_all, n_feasible = len(table), int(table["feasible"].sum())
    if feasible_only:
        table = table[table["feasible"]].reset_index(drop=True)
    table.attrs.update(
        state=state,
        at_least=at_least,
        above=above,
        evidence=net._observed(evidence, coef.target),
        n_parameters=n_all,
        n_feasible=n_feasible,
    )
    return stamp(table, net.spec)
