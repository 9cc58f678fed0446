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
A row with structural zeros (a node's ``impossible`` rules, ``networks/FORMAT.md``) is
its diagnosis row drawn first and then masked: the evidence behind the diagnosis row
is spread over all its states, so the masked row keeps only the share on the possible
states, ``A = kept * sum_j strength_j * p_j`` (``kept`` from
:meth:`~softcalc_bayes.spec.NodeSpec.kept_share`). By the aggregation property of the
Dirichlet distribution this is exactly the law of the renormalised possible entries of
the diagnosis row's draw when the row has one strength. A row fitted to both margins
(``marginal_over``, :mod:`softcalc_bayes._margins`) is drawn the same way, centred on
the fitted row with the same concentration (an approximation: the fit is not redone
per draw). Each parent configuration is drawn on its own, as for every table with a
second parent.
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
first. A finding given as a set of states S needs only ``sum_{s in S} p_s`` of each
row, again a Beta by the aggregation property (unless another sampled table has it
as a parent: then whole rows are drawn and the states outside S are masked). Draws
are made in log space, so rare entries with tiny ``alpha`` never underflow to an
exact zero.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._engine.sampling import _Plan, build_plan
from ._params import (
    NETWORK,
    NONE,
    SEED,
    Interval,
    Options,
    check_name,
    seeded,
    usable_cores,
    validate_params,
)
from ._progress import progress_bar
from ._provenance_hash import stamp
from .exceptions import EngineError, InvalidParameterError
from .interop import require_strengths

if TYPE_CHECKING:
    from .network import Evidence, Network

__all__ = [
    "MAX_BASE",
    "MAX_SAMPLES",
    "UncertaintyResult",
    "posterior_uncertainty",
    "row_concentrations",
    "sobol_indices",
]

Seed = int | np.random.Generator | None

MAX_SAMPLES = 200_000
"""Most Monte Carlo samples of one :func:`posterior_uncertainty` call (about 10 kB each
with a dozen findings entered: the cap keeps one call near 2 GB)."""
MAX_BASE = 4096
"""Largest Saltelli base size of :func:`sobol_indices` (a few hundred MB per 1024)."""


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
        The diagnosis examined: ``state`` if given, else the diagnosis with
        the highest point posterior.
    p_top_stays : float
        Share of the samples in which ``top`` is the most probable diagnosis.
    credible : float
        Level of the ``low``-``high`` interval.
    seed : int or None
        The seed that reproduces these samples (drawn at random and recorded when
        none was given); None only when a ``numpy.random.Generator`` was passed.
    evidence : dict
        The evidence the posterior was conditioned on.
    """

    summary: pd.DataFrame
    samples: pd.DataFrame
    top: str
    p_top_stays: float
    credible: float = 0.9
    seed: int | None = None
    evidence: Mapping[str, str | tuple[str, ...]] | None = None

    @property
    def n_samples(self) -> int:
        """Number of Monte Carlo samples."""
        return len(self.samples)

    def __repr__(self) -> str:
        return (
            f"UncertaintyResult(top={self.top!r}, p_top_stays={self.p_top_stays:.3f}, "
            f"n_samples={self.n_samples}, credible={self.credible}, seed={self.seed})"
        )

    def _repr_html_(self) -> str:
        from ._display import uncertainty_html

        return uncertainty_html(self)


def row_concentrations(net: Network, name: str) -> np.ndarray:
    """Equivalent sample size of every row of a node's table: ``sum_j strength_j * p_j``.

    This is the total concentration of ``Dirichlet(strength_j * p_j)``; with one
    strength per row it is that strength. A row renormalised by an ``impossible``
    rule is scaled by the share of the row the rule kept (see the module notes).

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
    total = (strength * np.asarray(node.cpt, dtype=float)).sum(axis=1)
    return np.asarray(total * node.kept_share())


def _alphas(net: Network, name: str) -> np.ndarray:
    """Dirichlet parameters ``A_row * p`` of every row of a node, shape (rows, card)."""
    cpt = np.asarray(net.spec.nodes[name].cpt, dtype=float)
    return np.where(cpt > 0, row_concentrations(net, name)[:, None] * cpt, 0.0)


def _plan(net: Network, evidence: Evidence) -> _Plan:
    """The sampling plan of a query on ``net`` (see :mod:`softcalc_bayes._engine.sampling`);
    a finding given as a set of states enters the plan as that set."""
    require_strengths(net.spec)  # imported networks have none
    star = net.engine.star
    if star is None:
        raise EngineError(
            f"Parameter uncertainty samples the components around {net.target!r}, each "
            f"tabulated for every evidence configuration, and this network's are too large: "
            f"{net.engine.star_refusal()}. Declaring nodes that are never observed "
            f"`kind: latent` sums them inside their component instead"
        )
    codes, sets = net._encode(evidence, net.target, None)
    return build_plan(star, codes, lambda name: _alphas(net, name), set(net.latent), sets)


# --------------------------------------------------------------------------- checks
def _check_state(net: Network, state: Any, default: str, func: str, param: str) -> str:
    if state is None:
        return default
    return check_name(func, param, state, net.states(net.target), "diagnosis")


# --------------------------------------------------------------------------- API
@validate_params(
    {
        "net": [NETWORK],
        "n_samples": [Interval(int, 2, MAX_SAMPLES)],
        "credible": [Interval(float, 0.0, 1.0, closed="neither")],
        "seed": [SEED],
        "n_jobs": [Interval(int, 1, 1024), Interval(int, -1, -1), NONE],
    }
)
def posterior_uncertainty(
    net: Network,
    evidence: Evidence,
    *,
    state: str | None = None,
    n_samples: int = 10_000,
    credible: float = 0.9,
    seed: Seed = None,
    progress: bool | None = None,
    n_jobs: int | None = None,
    target_state: str | None = None,
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
        Finding -> observed state, or a set of states (a list, tuple or set: "one of
        these"), as for :meth:`Network.posterior`.
    state : str, optional
        The diagnosis whose stability as the top diagnosis is reported in
        ``p_top_stays`` (default: the diagnosis with the highest point posterior); the
        same name as in :func:`sensitivity`, :func:`tune`, :func:`explain` and
        :func:`sobol_indices`.
    n_samples : int
        Number of Monte Carlo samples, in ``[2, MAX_SAMPLES]`` (200,000).
    credible : float
        Level of the equal-tailed credible interval, in (0, 1).
    seed : int or numpy.random.Generator, optional
        Random seed, for reproducible samples. When None a seed is drawn and
        recorded in the result (``result.seed``), so any run can be repeated.
    progress : bool, optional
        Show a progress bar (needs tqdm). None: only in a notebook or when stderr
        is a terminal.
    n_jobs : int, optional
        Threads drawing the tables: None or -1 uses every core this process may run
        on, 1 draws serially. Each table draws from its own stream spawned from the
        seed, so the samples are the same whatever the number of threads.
    target_state : str, optional
        Deprecated name of ``state`` (a ``FutureWarning``); it will be removed.

    Returns
    -------
    UncertaintyResult
        ``summary.attrs`` also records ``seed``, ``n_samples``, ``credible`` and
        ``evidence``.

    Raises
    ------
    EvidenceError
        Bad evidence, evidence of probability zero, or an unknown ``state``.
    InvalidParameterError
        A bad ``n_samples``, ``credible`` or ``seed``, or both ``state`` and
        ``target_state`` given.

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
    name = "state"
    if target_state is not None:
        if state is not None:
            raise InvalidParameterError(
                "posterior_uncertainty: give state= only (target_state= is its deprecated "
                "name), not both"
            )
        warnings.warn(
            "posterior_uncertainty(target_state=...) is deprecated; use state=..., as in "
            "sensitivity, tune, explain and sobol_indices",
            FutureWarning,
            stacklevel=3,  # the caller of the validate_params wrapper
        )
        state, name = target_state, "target_state"
    point = net.posterior(evidence)  # validates the evidence
    top = _check_state(net, state, str(point.index[0]), "posterior_uncertainty", name)
    plan = _plan(net, evidence)
    used_seed, rng = seeded(seed)
    n = int(n_samples)
    jobs = usable_cores() if n_jobs in (None, -1) else int(n_jobs)
    desc = f"Monte Carlo ({n} samples)"
    with progress_bar(len(plan.blocks) + 1, desc=desc, progress=progress, unit="table") as bar:
        draws = plan.draw(rng, n, n_jobs=jobs, done=bar.update)
        samples = plan.posterior(draws)
        bar.update()
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
    observed = net._observed(evidence)
    summary.attrs.update(seed=used_seed, n_samples=n, credible=float(credible), evidence=observed)
    return UncertaintyResult(
        stamp(summary, net.spec), frame, top, stays, float(credible), used_seed, observed
    )


@validate_params(
    {
        "net": [NETWORK],
        "groups": [Options(("node", "table"))],
        "n_base": [Interval(int, 2, MAX_BASE, power_of_two=True)],
        "seed": [SEED],
    }
)
def sobol_indices(
    net: Network,
    evidence: Evidence,
    *,
    state: str | None = None,
    groups: str = "node",
    n_base: int = 512,
    seed: Seed = None,
    progress: bool | None = None,
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
        Finding -> observed state, or a set of states, as for :meth:`Network.posterior`.
    state : str, optional
        The diagnosis whose posterior is analysed (default: the top diagnosis).
    groups : {"node", "table"}
        ``"node"``: one group per entered finding that bears on the diagnosis, one
        per component built around latent nodes (named after the latent nodes, and
        holding the tables of their observed children too), and ``"prior"``.
        ``"table"``: one group per conditional table, named after its node (a finding
        below a latent node keeps a group of its own, apart from the latent node's
        table), and ``"prior"``: finer where a latent node ties several findings
        (e.g. ``cppd_form`` in the default network, which ties the site, compartment,
        distribution, relation to bone and soft-tissue component of CPPD).
    n_base : int
        Base sample size of the Saltelli design: a power of 2 in ``[2, MAX_BASE]`` (4096).
    seed : int or numpy.random.Generator, optional
        Seed for the design and the bootstrap confidence intervals; when None one is
        drawn and recorded in ``attrs["seed"]``.
    progress : bool, optional
        Show a progress bar (needs tqdm). None: only in a notebook or when stderr
        is a terminal.

    Returns
    -------
    pandas.DataFrame
        Indexed by group, with columns ``S1``, ``S1_conf``, ``ST``, ``ST_conf``
        (``_conf``: half-width of a 95% bootstrap interval), sorted by ``ST``
        descending. ``attrs`` records ``state``, ``groups``, ``seed``, ``n_base``,
        ``n_evaluations`` and ``evidence``, which reproduce the figures. These are
        Monte Carlo estimates: an index near 0 can come out slightly negative. If
        the posterior does not vary at all, every index is 0; with a single group
        (no evidence: the prior alone) ``S1 = ST = 1``.

    Raises
    ------
    EvidenceError
        Bad evidence, or an unknown ``state``.
    InvalidParameterError
        A bad ``groups``, ``n_base`` or ``seed``.

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
    >>> by_table = sobol_indices(net, {"fat_in_lesion": "present", "mdm2_fish": "amplified"},
    ...                          groups="table", n_base=64, seed=1)
    >>> sorted(by_table.index)
    ['amplification_12q', 'fat_in_lesion', 'mdm2_fish', 'prior']
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    point = net.posterior(evidence)
    state = _check_state(net, state, str(point.index[0]), "sobol_indices", "state")
    plan = _plan(net, evidence)
    names, var_groups = plan.variables(by="table" if groups == "table" else "node")
    group_names = list(dict.fromkeys(var_groups))
    columns = pd.Index(["S1", "S1_conf", "ST", "ST_conf"])
    index = pd.Index(group_names, name="group")
    used_seed, rng = seeded(seed)
    sample_seed, analyse_seed = (int(s) for s in rng.integers(1, 2**31 - 1, size=2))
    n_eval = int(n_base) * (len(group_names) + 2) if len(group_names) >= 2 else 0
    attrs = {
        "state": state,
        "groups": groups,
        "seed": used_seed,
        "n_base": int(n_base),
        "n_evaluations": n_eval,
        "evidence": net._observed(evidence),
    }
    if len(group_names) < 2:  # one group takes all the variance (SALib needs two)
        values = np.tile([1.0, 0.0, 1.0, 0.0], (len(group_names), 1))
        out = pd.DataFrame(values, index=index, columns=columns)
        out.attrs.update(attrs)
        return out
    problem: dict[str, Any] = {
        "num_vars": len(names),
        "names": names,
        "bounds": [[0.0, 1.0]] * len(names),
        "groups": var_groups,
    }
    x = sobol_sample.sample(problem, int(n_base), calc_second_order=False, seed=sample_seed)
    k = net.states(net.target).index(state)
    x = np.asarray(x)
    chunks = np.array_split(np.arange(len(x)), max(1, min(20, len(x) // 256)))
    desc = f"Sobol ({n_eval} evaluations)"
    with progress_bar(len(chunks) + 1, desc=desc, progress=progress, unit="chunk") as bar:
        parts = []
        for rows in chunks:  # row-wise deterministic: chunking does not change y
            parts.append(plan.posterior(plan.from_uniforms(x[rows]))[:, k])
            bar.update()
        y = np.concatenate(parts)
        if np.ptp(y) <= 1e-12 * max(1.0, float(np.abs(y).max())):
            out = pd.DataFrame(0.0, index=index, columns=columns)
            out.attrs.update(attrs)
            return out
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            si = sobol_analyze.analyze(
                problem, y, calc_second_order=False, num_resamples=100, seed=analyse_seed
            )
        bar.update()
    out = pd.DataFrame({c: np.asarray(si[c], dtype=float) for c in columns}, index=index)
    out = out.sort_values("ST", ascending=False, kind="stable")
    out.attrs.update(attrs)
    return out
