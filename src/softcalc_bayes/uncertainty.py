"""How much a posterior can be trusted, given how well its numbers are documented.

Every probability in the network carries an equivalent sample size (its provenance
``strength``). Reading each conditional-table row ``p`` as a Dirichlet distribution
turns the point network into a distribution over networks, and the diagnosis
posterior into a random variable. The row's Dirichlet is ``alpha_j = A * p_j`` with
concentration ``A = sum_j strength_j * p_j`` (:func:`row_concentrations`); zero
entries stay zero. When a row has one strength ``s`` this is exactly
``Dirichlet(s * p)``. When its entries carry different strengths (cited entries next
to entries inherited from the default row), ``Dirichlet(strength_j * p_j)`` would
have the same concentration but a mean pulled towards the better-documented entries,
away from the documented values; scaling ``p`` keeps every row centred on the
network's own numbers, so very large strengths give back the point posterior.
:func:`posterior_uncertainty` samples it by Monte Carlo; :func:`sobol_indices`
apportions the variance of one posterior probability among groups of parameters
(the prior, and each finding that was entered).

Only what the query depends on is sampled. The compiled engine factorises

    P(d | e)  ∝  prior(d) * prod_C m_C(d; e_C)

over the components ``C`` of the moral graph without the diagnosis. A component
without evidence contributes 1 and is skipped, as are unobserved nodes without
observed descendants (barren nodes). For an observed node only the observed entry of
each row matters, and its Dirichlet marginal is a Beta distribution: a finding whose
only parent is the diagnosis is a matrix of Beta draws, one per (sample, diagnosis).
Latent nodes with observed children are sampled as full Dirichlet rows (normalised
Gamma draws), and ``m_C`` is a batched :func:`numpy.einsum` with the sample axis
first. Draws are made in log space, so rare entries with tiny ``alpha`` never
underflow to an exact zero.
"""

from __future__ import annotations

import string
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy import special

from ._validation import unknown_message
from .exceptions import EngineError, EvidenceError

if TYPE_CHECKING:
    from .network import Evidence, Network

__all__ = ["UncertaintyResult", "posterior_uncertainty", "row_concentrations", "sobol_indices"]

Seed = int | np.random.Generator | None

_LETTERS = string.ascii_letters
_TINY = 1e-280  # below this an inverse CDF is replaced by its small-x asymptote
_U_EPS = 1e-12  # uniforms are clipped to [_U_EPS, 1 - _U_EPS]


# --------------------------------------------------------------------------- results
@dataclass(frozen=True, eq=False)
class UncertaintyResult:
    """Monte Carlo summary of a posterior under parameter uncertainty.

    Attributes
    ----------
    summary : pandas.DataFrame
        Indexed by diagnosis, sorted by the point posterior (descending). Columns:
        ``posterior`` (the point posterior, as :meth:`Network.posterior`), ``mean``
        and ``sd`` (over the samples), ``low`` and ``high`` (equal-tailed credible
        interval at the requested level).
    samples : pandas.DataFrame
        One row per Monte Carlo sample, one column per diagnosis (in the order of
        ``summary``); each row sums to 1.
    top : str
        The diagnosis examined: ``target_state`` if given, else the diagnosis with
        the highest point posterior.
    p_top_stays : float
        Share of the samples in which ``top`` is the most probable diagnosis.
    credible : float
        Level of the ``low``-``high`` interval.
    """

    summary: pd.DataFrame
    samples: pd.DataFrame
    top: str
    p_top_stays: float
    credible: float = 0.9

    def __repr__(self) -> str:
        return (
            f"UncertaintyResult(top={self.top!r}, p_top_stays={self.p_top_stays:.3f}, "
            f"n_samples={len(self.samples)}, credible={self.credible})"
        )


# --------------------------------------------------------------------------- plan
@dataclass(frozen=True)
class _Block:
    """Uncertain parameters of one node's table, as far as the query needs them.

    ``beta``: the observed entry of every row; ``a`` is its alpha and ``b`` the alpha
    of the rest of the row, both of shape ``(rows,)``; values are ``log p_obs`` with
    shape ``(n, rows)``. ``dirichlet``: whole rows; ``a`` has shape ``(rows, card)``;
    values are ``log p`` with shape ``(n, rows, card)``.
    """

    node: str
    kind: Literal["beta", "dirichlet"]
    group: str
    a: np.ndarray
    b: np.ndarray

    @property
    def free(self) -> np.ndarray:
        """Entries that are random (need one uniform each in a Sobol design)."""
        if self.kind == "beta":
            return np.asarray((self.a > 0) & (self.b > 0))
        return np.asarray((self.a > 0) & ((self.a > 0).sum(axis=1, keepdims=True) > 1))

    def fixed(self, n: int) -> np.ndarray:
        """Values of size ``n`` with the deterministic entries filled in (free: NaN)."""
        out = np.full((n, *self.a.shape), np.nan)
        out[:, self.a == 0] = -np.inf
        out[:, (self.a > 0) & ~self.free] = 0.0  # the entry is 1 in every sample
        return out


@dataclass(frozen=True)
class _Term:
    """One factor ``log m_C(d)`` of the posterior: a block, or an einsum over blocks."""

    blocks: tuple[int, ...]
    subscripts: str | None = None  # None: the single block holds log m_C(d) directly
    shapes: tuple[tuple[int, ...], ...] = ()


@dataclass(frozen=True)
class _Plan:
    """What to sample for one query, and how to combine it into ``log P(d, e)``."""

    n_t: int
    blocks: tuple[_Block, ...]
    terms: tuple[_Term, ...]

    # ------------------------------------------------------------ Monte Carlo
    def draw(self, rng: np.random.Generator, n: int) -> list[np.ndarray]:
        values: list[np.ndarray] = []
        for block in self.blocks:
            if block.kind == "beta":
                lga = _log_gamma(rng, block.a, n)
                lgb = _log_gamma(rng, block.b, n)
                values.append(lga - np.logaddexp(lga, lgb))
            else:
                values.append(_log_normalise(_log_gamma(rng, block.a, n)))
        return values

    # ------------------------------------------------------------ Sobol design
    def variables(self) -> tuple[list[str], list[str]]:
        """Names and groups of the uniform inputs, in column order."""
        names: list[str] = []
        groups: list[str] = []
        for block in self.blocks:
            for idx in np.argwhere(block.free):
                names.append(f"{block.node}[{','.join(str(int(i)) for i in idx)}]")
                groups.append(block.group)
        return names, groups

    def from_uniforms(self, u: np.ndarray) -> list[np.ndarray]:
        """Block values as a deterministic function of uniforms ``u`` (n, n_variables)."""
        n = u.shape[0]
        params_a: list[np.ndarray] = []
        params_b: list[np.ndarray] = []
        for block in self.blocks:
            free = block.free
            params_a.append(block.a[free])
            params_b.append(block.b[free] if block.kind == "beta" else np.full(free.sum(), np.nan))
        a = np.concatenate(params_a) if params_a else np.zeros(0)
        b = np.concatenate(params_b) if params_b else np.zeros(0)
        logs = _inverse_cdf_columns(u, a, b)
        values: list[np.ndarray] = []
        start = 0
        for block in self.blocks:
            out = block.fixed(n)
            free = block.free
            k = int(free.sum())
            out[:, free] = logs[:, start : start + k]
            start += k
            values.append(out if block.kind == "beta" else _log_normalise(out))
        return values

    # ------------------------------------------------------------ combination
    def posterior(self, values: Sequence[np.ndarray]) -> np.ndarray:
        """``P(d | e)`` per sample, shape ``(n, n_diagnoses)``."""
        n = values[0].shape[0] if values else 1
        logj = np.zeros((n, self.n_t))
        for term in self.terms:
            if term.subscripts is None:
                logj += values[term.blocks[0]].reshape(n, self.n_t)
                continue
            operands: list[np.ndarray] = []
            shift = np.zeros(n)
            for b, shape in zip(term.blocks, term.shapes, strict=True):
                flat = values[b].reshape(n, -1)
                peak = flat.max(axis=1)
                peak = np.where(np.isfinite(peak), peak, 0.0)
                operands.append(np.exp(flat - peak[:, None]).reshape(n, *shape))
                shift += peak
            m = np.einsum(term.subscripts, *operands, optimize="greedy")
            with np.errstate(divide="ignore"):
                logj += np.log(m) + shift[:, None]
        peak = logj.max(axis=1, keepdims=True)
        if not np.all(np.isfinite(peak)):
            raise EngineError(
                "Every diagnosis has probability zero in some sampled network "
                "(numerical underflow); please report this case"
            )
        p = np.exp(logj - peak)
        return np.asarray(p / p.sum(axis=1, keepdims=True))


def row_concentrations(net: Network, name: str) -> np.ndarray:
    """Equivalent sample size of every row of a node's table: ``sum_j strength_j * p_j``.

    This is the total concentration of ``Dirichlet(strength_j * p_j)``; with one
    strength per row it is that strength.

    Examples
    --------
    >>> from softcalc_bayes import load_network
    >>> net = load_network()
    >>> a = row_concentrations(net, "fat_in_lesion")
    >>> a.shape, bool((a > 0).all())
    ((39,), True)
    """
    node = net.spec.nodes[name]
    strength = np.array([[p.strength for p in row] for row in node.provenance], dtype=float)
    return np.asarray((strength * np.asarray(node.cpt, dtype=float)).sum(axis=1))


def _alphas(net: Network, name: str) -> np.ndarray:
    """Dirichlet parameters ``A_row * p`` of every row of a node, shape (rows, card)."""
    cpt = np.asarray(net.spec.nodes[name].cpt, dtype=float)
    return np.where(cpt > 0, row_concentrations(net, name)[:, None] * cpt, 0.0)


def _prune(parents: Sequence[tuple[int, ...]], factors: Sequence[int], keep: set[int]) -> list[int]:
    """Drop barren nodes: factors outside ``keep`` with no kept child, repeatedly."""
    kept = set(factors)
    changed = True
    while changed:
        changed = False
        for f in sorted(kept):
            if f not in keep and not any(f in parents[g] for g in kept):
                kept.discard(f)
                changed = True
    return [f for f in factors if f in kept]


def _plan(net: Network, codes: Mapping[str, int]) -> _Plan:
    engine = net.engine.star
    if engine is None:
        raise EngineError(
            "Parameter uncertainty samples the components around the diagnosis; this "
            "network's components are too large to tabulate (star plan unavailable)"
        )
    pivot = engine.pivot
    n_t = int(engine.cards[pivot])
    observed = {engine.index[name]: state for name, state in codes.items()}
    blocks: list[_Block] = []
    terms: list[_Term] = []
    if engine.prior_factor:
        alpha = _alphas(net, engine.names[pivot])
        blocks.append(_Block(engine.names[pivot], "dirichlet", "prior", alpha, np.zeros(0)))
        terms.append(_Term((0,)))
    for comp in engine.components:
        if pivot not in comp.factors and not any(v in observed for v in comp.variables):
            continue  # no evidence: m_C = 1
        kept = _prune(engine.parents, comp.factors, {*observed, pivot})
        if not any(pivot in (*engine.parents[f], f) for f in kept):
            continue  # constant in the diagnosis: cancels on normalisation
        latent = [engine.names[f] for f in kept if net.spec.nodes[engine.names[f]].kind == "latent"]
        shared_group = "+".join(latent) if latent else None
        first = len(blocks)
        for f in kept:
            name = engine.names[f]
            alpha = _alphas(net, name)
            group = shared_group or name
            if f in observed:
                s = observed[f]
                rest = np.delete(alpha, s, axis=1).sum(axis=1)
                blocks.append(_Block(name, "beta", group, alpha[:, s].copy(), rest))
            else:
                blocks.append(_Block(name, "dirichlet", group, alpha, np.zeros(0)))
        if len(kept) == 1 and kept[0] in observed and engine.parents[kept[0]] == (pivot,):
            terms.append(_Term((first,)))
            continue
        used = dict.fromkeys([pivot, *kept, *(p for f in kept for p in engine.parents[f])])
        letter = {v: _LETTERS[i + 1] for i, v in enumerate(used)}
        subs: list[str] = []
        shapes: list[tuple[int, ...]] = []
        for f in kept:
            family = engine.parents[f] if f in observed else (*engine.parents[f], f)
            subs.append(_LETTERS[0] + "".join(letter[v] for v in family))
            shapes.append(tuple(int(engine.cards[v]) for v in family))
        terms.append(
            _Term(
                tuple(range(first, len(blocks))),
                ",".join(subs) + "->" + _LETTERS[0] + letter[pivot],
                tuple(shapes),
            )
        )
    return _Plan(n_t, tuple(blocks), tuple(terms))


# --------------------------------------------------------------------------- draws
def _log_gamma(rng: np.random.Generator, alpha: np.ndarray, n: int) -> np.ndarray:
    """Logs of independent Gamma(alpha) draws, shape ``(n, *alpha.shape)``.

    ``-inf`` where ``alpha == 0``. Shapes below 1 use ``G(a) = G(a + 1) U^(1/a)`` in
    log space, which never underflows.
    """
    small = (alpha > 0) & (alpha < 1)
    g = rng.standard_gamma(np.where(small, alpha + 1.0, alpha), size=(n, *alpha.shape))
    with np.errstate(divide="ignore"):
        out = np.log(g)
    if small.any():
        idx = np.flatnonzero(small)
        flat = out.reshape(n, -1)
        flat[:, idx] += np.log1p(-rng.random((n, idx.size))) / alpha.ravel()[idx]
    return out


def _log_normalise(logs: np.ndarray) -> np.ndarray:
    """Normalise log weights over the last axis (a Dirichlet row from Gamma draws)."""
    peak = logs.max(axis=-1, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    with np.errstate(divide="ignore"):
        total = np.log(np.exp(logs - peak).sum(axis=-1, keepdims=True)) + peak
    return np.asarray(logs - total)


def _inverse_cdf_columns(u: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Log quantiles of column ``j`` of ``u``: Beta(a_j, b_j), or Gamma(a_j) where b_j is NaN.

    A Sobol design repeats every value of a column many times, so each column's
    inverse CDF is evaluated only at its distinct values.
    """
    n, d = u.shape
    uniques: list[np.ndarray] = []
    inverses: list[np.ndarray] = []
    for j in range(d):
        q, inv = np.unique(u[:, j], return_inverse=True)
        uniques.append(q)
        inverses.append(inv.ravel())
    if d == 0:
        return np.zeros((n, 0))
    lengths = np.array([q.size for q in uniques])
    flat_u = np.clip(np.concatenate(uniques), _U_EPS, 1.0 - _U_EPS)
    col = np.repeat(np.arange(d), lengths)
    aa, bb = a[col], b[col]
    res = np.empty(flat_u.size)
    beta = ~np.isnan(bb)
    res[beta] = _beta_log_ppf(aa[beta], bb[beta], flat_u[beta])
    res[~beta] = _gamma_log_ppf(aa[~beta], flat_u[~beta])
    out = np.empty((n, d))
    starts = np.concatenate([[0], np.cumsum(lengths)])
    for j in range(d):
        out[:, j] = res[starts[j] : starts[j + 1]][inverses[j]]
    return out


def _beta_log_ppf(a: np.ndarray, b: np.ndarray, u: np.ndarray) -> np.ndarray:
    x = special.betaincinv(a, b, u)
    tiny = x < _TINY  # I_x(a, b) ~ x^a / (a B(a, b)) as x -> 0
    with np.errstate(divide="ignore"):
        out = np.log(x)
    out[tiny] = (np.log(u[tiny]) + np.log(a[tiny]) + special.betaln(a[tiny], b[tiny])) / a[tiny]
    return np.asarray(out)


def _gamma_log_ppf(a: np.ndarray, u: np.ndarray) -> np.ndarray:
    x = special.gammaincinv(a, u)
    tiny = x < _TINY  # P(a, x) ~ x^a / Gamma(a + 1) as x -> 0
    with np.errstate(divide="ignore"):
        out = np.log(x)
    out[tiny] = (np.log(u[tiny]) + special.gammaln(a[tiny] + 1.0)) / a[tiny]
    return np.asarray(out)


# --------------------------------------------------------------------------- checks
def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _check_state(net: Network, state: Any, default: str, what: str) -> str:
    if state is None:
        return default
    diagnoses = net.states(net.target)
    if not isinstance(state, str) or state not in diagnoses:
        raise EvidenceError(f"{what}: " + unknown_message("diagnosis", state, diagnoses))
    return state


# --------------------------------------------------------------------------- API
def posterior_uncertainty(
    net: Network,
    evidence: Evidence,
    *,
    target_state: str | None = None,
    n_samples: int = 10_000,
    credible: float = 0.9,
    seed: Seed = None,
) -> UncertaintyResult:
    """Monte Carlo distribution of the diagnosis posterior under parameter uncertainty.

    Each conditional-table row ``p`` (and the prior) is drawn from a Dirichlet
    distribution with mean ``p`` and concentration ``sum_j strength_j * p_j``, where
    ``strength_j`` is the equivalent sample size in the provenance of entry ``j``
    (see :func:`row_concentrations`); entries that are 0 stay 0. Only the parameters
    the query depends on are drawn (see the module notes).

    Parameters
    ----------
    net : Network
        The network.
    evidence : mapping
        Finding -> observed state, as for :meth:`Network.posterior`.
    target_state : str, optional
        The diagnosis whose stability as the top diagnosis is reported in
        ``p_top_stays`` (default: the diagnosis with the highest point posterior).
    n_samples : int
        Number of Monte Carlo samples (at least 2).
    credible : float
        Level of the equal-tailed credible interval, in (0, 1).
    seed : int or numpy.random.Generator, optional
        Random seed, for reproducible samples.

    Returns
    -------
    UncertaintyResult

    Raises
    ------
    EvidenceError
        Bad evidence, evidence of probability zero, an unknown ``target_state``, or
        a bad ``n_samples`` or ``credible``.

    Examples
    --------
    >>> from softcalc_bayes import load_network
    >>> net = load_network()
    >>> res = posterior_uncertainty(
    ...     net, {"fat_in_lesion": "present", "mdm2_fish": "amplified"},
    ...     n_samples=2000, seed=0)
    >>> res.top
    'alt_wdlps'
    >>> list(res.summary.columns)
    ['posterior', 'mean', 'sd', 'low', 'high']
    >>> bool(res.summary.loc["alt_wdlps", "low"] < res.summary.loc["alt_wdlps", "high"])
    True
    >>> 0.0 <= res.p_top_stays <= 1.0
    True
    """
    if not _is_int(n_samples) or n_samples < 2:
        raise EvidenceError(f"n_samples must be an integer >= 2, got {n_samples!r}")
    if (
        isinstance(credible, bool)
        or not isinstance(credible, int | float)
        or not (0.0 < float(credible) < 1.0)
    ):
        raise EvidenceError(f"credible must be a number strictly between 0 and 1, got {credible!r}")
    point = net.posterior(evidence)  # validates the evidence
    top = _check_state(net, target_state, str(point.index[0]), "target_state")
    plan = _plan(net, net.encode(evidence))
    rng = np.random.default_rng(seed)
    n = int(n_samples)
    samples = plan.posterior(plan.draw(rng, n))
    states = net.states(net.target)
    order = [states.index(s) for s in point.index]
    samples = samples[:, order]
    tail = (1.0 - float(credible)) / 2.0
    low, high = np.quantile(samples, [tail, 1.0 - tail], axis=0)
    index = pd.Index(point.index, name=net.target)
    summary = pd.DataFrame(
        {
            "posterior": point.to_numpy(),
            "mean": samples.mean(axis=0),
            "sd": samples.std(axis=0, ddof=1),
            "low": low,
            "high": high,
        },
        index=index,
    )
    frame = pd.DataFrame(samples, columns=index, index=pd.RangeIndex(n, name="sample"))
    k = list(point.index).index(top)
    stays = float(np.mean(samples.argmax(axis=1) == k))
    return UncertaintyResult(summary, frame, top, stays, float(credible))


def sobol_indices(
    net: Network,
    evidence: Evidence,
    *,
    state: str | None = None,
    groups: str = "node",
    n_base: int = 512,
    seed: Seed = None,
) -> pd.DataFrame:
    """Variance-based (Sobol) sensitivity of ``P(state | evidence)`` to groups of parameters.

    The uncertain parameters are those :func:`posterior_uncertainty` samples, each
    written as a deterministic function of a uniform(0, 1) input by its inverse CDF
    (the observed entry of a finding's row: Beta; a prior or latent-node entry: Gamma,
    normalised per row). Inputs are grouped, and SALib estimates first-order (``S1``)
    and total (``ST``) indices of each group from a Saltelli design of
    ``n_base * (n_groups + 2)`` evaluations.

    Parameters
    ----------
    net : Network
        The network.
    evidence : mapping
        Finding -> observed state.
    state : str, optional
        The diagnosis whose posterior is analysed (default: the top diagnosis).
    groups : {"node"}
        ``"node"``: one group per entered finding that bears on the diagnosis, one
        per component built around latent nodes (named after the latent nodes, and
        holding the tables of their observed children too), and ``"prior"``.
    n_base : int
        Base sample size of the Saltelli design: a power of 2 (at least 2).
    seed : int or numpy.random.Generator, optional
        Seed for the design and the bootstrap confidence intervals.

    Returns
    -------
    pandas.DataFrame
        Indexed by group, with columns ``S1``, ``S1_conf``, ``ST``, ``ST_conf``
        (``_conf``: half-width of a 95% bootstrap interval), sorted by ``ST``
        descending. These are Monte Carlo estimates: an index near 0 can come out
        slightly negative. If the posterior does not vary at all, every index is 0;
        with a single group (no evidence: the prior alone) ``S1 = ST = 1``.

    Raises
    ------
    EvidenceError
        Bad evidence, an unknown ``state`` or ``groups``, or a bad ``n_base``.

    Examples
    --------
    >>> from softcalc_bayes import load_network
    >>> net = load_network()
    >>> si = sobol_indices(net, {"fat_in_lesion": "present", "mdm2_fish": "amplified"},
    ...                    n_base=64, seed=1)
    >>> sorted(si.index)
    ['amplification_12q', 'fat_in_lesion', 'prior']
    >>> list(si.columns)
    ['S1', 'S1_conf', 'ST', 'ST_conf']
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    if groups != "node":
        raise EvidenceError(unknown_message("grouping", groups, ["node"]))
    if not _is_int(n_base) or n_base < 2 or (int(n_base) & (int(n_base) - 1)) != 0:
        raise EvidenceError(f"n_base must be a power of 2 (e.g. 256, 512, 1024), got {n_base!r}")
    point = net.posterior(evidence)
    state = _check_state(net, state, str(point.index[0]), "state")
    plan = _plan(net, net.encode(evidence))
    names, var_groups = plan.variables()
    group_names = list(dict.fromkeys(var_groups))
    columns = pd.Index(["S1", "S1_conf", "ST", "ST_conf"])
    index = pd.Index(group_names, name="group")
    rng = np.random.default_rng(seed)
    sample_seed, analyse_seed = (int(s) for s in rng.integers(1, 2**31 - 1, size=2))
    if len(group_names) < 2:  # one group takes all the variance (SALib needs two)
        values = np.tile([1.0, 0.0, 1.0, 0.0], (len(group_names), 1))
        return pd.DataFrame(values, index=index, columns=columns)
    problem: dict[str, Any] = {
        "num_vars": len(names),
        "names": names,
        "bounds": [[0.0, 1.0]] * len(names),
        "groups": var_groups,
    }
    x = sobol_sample.sample(problem, int(n_base), calc_second_order=False, seed=sample_seed)
    k = net.states(net.target).index(state)
    y = plan.posterior(plan.from_uniforms(np.asarray(x)))[:, k]
    if np.ptp(y) <= 1e-12 * max(1.0, float(np.abs(y).max())):
        return pd.DataFrame(0.0, index=index, columns=columns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        si = sobol_analyze.analyze(
            problem, y, calc_second_order=False, num_resamples=100, seed=analyse_seed
        )
    out = pd.DataFrame({c: np.asarray(si[c], dtype=float) for c in columns}, index=index)
    return out.sort_values("ST", ascending=False, kind="stable")
