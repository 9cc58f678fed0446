"""Why this diagnosis: exact weights of evidence, chain-rule and Shapley decompositions.

The log-odds of one diagnosis (``state``) against an alternative (``versus``: all other
diagnoses together, one diagnosis, or a diagnosis group) are measured in decibans,
``10 log10(P(state | e) / P(versus | e))``. The change from the prior log-odds to the
posterior log-odds is the total weight of evidence, which :func:`explain` splits among
the observed findings in two exact ways:

- the **chain rule** in a stated order: finding ``i`` gets ``v(S_i) - v(S_{i-1})``,
  where ``S_i`` holds the first ``i`` findings and ``v(S)`` is the log-odds given the
  findings in ``S``; each weight is the deciban weight of evidence (10 log10 of the
  likelihood ratio) of that finding given the ones before it;
- the **Shapley values** of the game ``v``: the chain-rule weight averaged over every
  order, which depends on no order. Computed exactly by enumerating the ``2^k``
  subsets in one call of ``net.posterior_batch``, or by Monte Carlo permutation
  sampling (with a standard error) beyond ``exact_max`` findings.

Pairwise interactions ``v({i, j}) - v({i}) - v({j}) + v({})`` show which findings
are redundant (they carry the same information, e.g. two tests of one latent cause)
or synergistic.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._params import NETWORK, NONE, SEED, Check, Interval, seeded, validate_params
from ._validation import unknown_message
from .exceptions import EvidenceError, InvalidParameterError

if TYPE_CHECKING:
    from .network import Evidence, Network

__all__ = ["Explanation", "explain"]

_RELATION_DB = 1.0
"""Interactions smaller than this (decibans) are reported as 'independent'."""
MAX_EXACT = 20
"""Largest ``exact_max``: ``2^20`` subsets in one batched query is about the memory limit."""
MAX_PERMUTATIONS = 20_000
"""Largest ``n_permutations``: up to ``n_permutations * (k + 1)`` subsets are evaluated."""


@dataclass(frozen=True)
class Explanation:
    """Result of :func:`explain`.

    Attributes
    ----------
    state : str
        The diagnosis explained.
    versus : str
        What it is weighed against: ``"all other diagnoses"``, a diagnosis, or a group.
    versus_states : tuple of str
        The diagnoses making up ``versus``.
    prior_db, posterior_db : float
        Log-odds of ``state`` against ``versus`` in decibans before and after the
        evidence (``10 log10`` of the odds).
    table : pandas.DataFrame
        Indexed by finding, in the chain-rule order, with columns ``state`` (the
        observed state), ``alone_db`` (weight of evidence of the finding alone),
        ``chain_db`` (chain-rule weight given the findings before it), ``shapley_db``,
        ``shapley_se_db`` (Monte Carlo standard error; 0 when exact), ``last_db``
        (weight given all the other findings) and ``most_redundant_with`` (the finding
        after which this one loses most of its weight, or ``""``).
    redundancy : pandas.DataFrame
        One row per ordered pair (``first``, ``second``) of findings: ``second_alone_db``,
        ``second_after_first_db``, ``interaction_db`` (``after - alone``; symmetric in the
        pair) and ``relation`` (``redundant``, ``synergistic``, ``opposing`` or
        ``independent``), most redundant pairs first.
    method : str
        ``"exact"`` or ``"monte_carlo"`` (for the Shapley values).
    n_permutations : int
        Permutations sampled (0 when exact).
    """

    state: str
    versus: str
    versus_states: tuple[str, ...]
    prior_db: float
    posterior_db: float
    table: pd.DataFrame
    redundancy: pd.DataFrame
    method: str = "exact"
    n_permutations: int = 0
    seed: int | None = None
    order: tuple[str, ...] = field(default_factory=tuple)

    @property
    def total_db(self) -> float:
        """Total weight of evidence: ``posterior_db - prior_db``."""
        return self.posterior_db - self.prior_db

    @property
    def prior_probability(self) -> float:
        """``P(state) / (P(state) + P(versus))`` before the evidence."""
        return _probability(self.prior_db)

    @property
    def posterior_probability(self) -> float:
        """``P(state | e) / (P(state | e) + P(versus | e))``."""
        return _probability(self.posterior_db)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary of the whole result."""
        table = self.table.reset_index()
        return {
            "state": self.state,
            "versus": self.versus,
            "versus_states": list(self.versus_states),
            "prior_db": self.prior_db,
            "posterior_db": self.posterior_db,
            "total_db": self.total_db,
            "method": self.method,
            "n_permutations": self.n_permutations,
            "order": list(self.order),
            "findings": table.to_dict(orient="records"),
            "redundancy": self.redundancy.to_dict(orient="records"),
        }

    def _repr_html_(self) -> str:
        from ._display import explanation_html

        return explanation_html(self)

    def __repr__(self) -> str:
        shown = self.table.drop(columns=["shapley_se_db"]) if self.method == "exact" else self.table
        method = (
            "exact Shapley"
            if self.method == "exact"
            else f"Monte Carlo Shapley, {self.n_permutations} permutations, seed {self.seed}"
        )
        lines = [
            f"Explanation of {self.state!r} versus {self.versus} ({method})",
            f"  prior log-odds     {self.prior_db:+9.2f} dB  (P = {self.prior_probability:.4g})",
            f"  posterior log-odds {self.posterior_db:+9.2f} dB  "
            f"(P = {self.posterior_probability:.4g})",
            f"  total weight       {self.total_db:+9.2f} dB",
        ]
        if len(shown):
            lines += ["", shown.to_string(float_format=lambda x: f"{x:+.2f}")]
        strong = self.redundancy[self.redundancy["relation"] == "redundant"].head(5)
        if len(strong):
            lines += [
                "",
                "Most redundant pairs (second finding's weight alone -> after the first):",
            ]
            for _, r in strong.iterrows():
                lines.append(
                    f"  {r['second']} after {r['first']}: "
                    f"{r['second_alone_db']:+.2f} -> {r['second_after_first_db']:+.2f} dB"
                )
        return "\n".join(lines)


def _probability(db: float) -> float:
    return float(1.0 / (1.0 + 10.0 ** (-db / 10.0)))


def _resolve_versus(net: Network, state: str, versus: str | None) -> tuple[str, tuple[str, ...]]:
    diagnoses = net.states(net.target)
    groups = net.diagnosis_groups
    if versus is None:
        return "all other diagnoses", tuple(d for d in diagnoses if d != state)
    if not isinstance(versus, str) or (versus not in diagnoses and versus not in groups):
        raise EvidenceError(
            "versus: " + unknown_message("diagnosis or group", versus, [*diagnoses, *groups])
        )
    if versus in diagnoses:
        if versus == state:
            raise EvidenceError(f"versus: {versus!r} is the explained state itself")
        return versus, (versus,)
    members = tuple(d for d in groups[versus] if d != state)
    if not members:
        raise EvidenceError(f"versus: group {versus!r} holds only the explained state {state!r}")
    label = versus if len(members) == len(groups[versus]) else f"{versus} (without {state})"
    return label, members


class _Game:
    """The value function v(S) = log-odds (dB) given the findings in subset S (a bitmask)."""

    def __init__(
        self,
        net: Network,
        findings: Sequence[str],
        observed: Sequence[str | tuple[str, ...]],
        state: str,
        versus: Sequence[str],
    ) -> None:
        self.net = net
        self.findings = list(findings)
        self.observed = np.empty(len(observed), dtype=object)
        for i, value in enumerate(observed):  # one by one: a tuple (a set of states) is one cell
            self.observed[i] = value
        columns = list(net.states(net.target))
        self.num = columns.index(state)
        self.den = np.array([columns.index(d) for d in versus])

    def values(self, masks: np.ndarray) -> np.ndarray:
        """v(S) for every bitmask in ``masks`` (one batched posterior query)."""
        masks = np.asarray(masks, dtype=np.int64)
        bits = (masks[:, None] >> np.arange(len(self.findings))) & 1 == 1
        cells = np.full(bits.shape, None, dtype=object)
        cells[bits] = np.broadcast_to(self.observed[None, :], bits.shape)[bits]
        frame = pd.DataFrame(cells, columns=self.findings, index=pd.RangeIndex(len(masks)))
        post = self.net.posterior_batch(frame).to_numpy()
        num = post[:, self.num]
        den = post[:, self.den].sum(axis=1)
        with np.errstate(divide="ignore"):
            return np.asarray(10.0 * (np.log10(num) - np.log10(den)), dtype=float)


def _popcount(masks: np.ndarray, k: int) -> np.ndarray:
    sizes: np.ndarray = np.sum([(masks >> i) & 1 for i in range(k)], axis=0).astype(np.int64)
    return sizes


def _exact_shapley(v: np.ndarray, k: int) -> np.ndarray:
    """Shapley values from v over all 2^k subsets (index = bitmask)."""
    masks = np.arange(2**k, dtype=np.int64)
    sizes = _popcount(masks, k) if k else np.zeros(1, dtype=np.int64)
    weights = np.array(
        [math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k) for s in range(k)]
    )
    phi = np.zeros(k)
    for i in range(k):
        without = masks[(masks >> i) & 1 == 0]
        phi[i] = float(np.sum(weights[sizes[without]] * (v[without | (1 << i)] - v[without])))
    return phi


def _sampled_shapley(
    game: _Game, k: int, n_permutations: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Permutation-sampling Shapley estimates and their standard errors."""
    perms = np.array([rng.permutation(k) for _ in range(n_permutations)])
    bits = np.left_shift(np.int64(1), perms.astype(np.int64))
    prefixes = np.concatenate(
        [np.zeros((n_permutations, 1), dtype=np.int64), np.cumsum(bits, axis=1)], axis=1
    )
    unique, inverse = np.unique(prefixes, return_inverse=True)
    v = game.values(unique)[inverse.reshape(prefixes.shape)]
    steps = np.diff(v, axis=1)  # steps[p, j]: contribution of perms[p, j]
    contributions = np.zeros((n_permutations, k))
    np.put_along_axis(contributions, perms, steps, axis=1)
    se = contributions.std(axis=0, ddof=1) / np.sqrt(n_permutations)
    return contributions.mean(axis=0), se


def _pair_values(game: _Game, k: int, v_all: np.ndarray | None) -> dict[int, float]:
    """v for the empty set, every single finding and every pair."""
    masks = [0] + [1 << i for i in range(k)]
    masks += [(1 << i) | (1 << j) for i in range(k) for j in range(i + 1, k)]
    arr = np.array(masks, dtype=np.int64)
    values = v_all[arr] if v_all is not None else game.values(arr)
    return dict(zip(masks, values.tolist(), strict=True))


def _redundancy(findings: Sequence[str], pv: dict[int, float]) -> pd.DataFrame:
    records = []
    k = len(findings)
    for i in range(k):
        for j in range(k):
            if i == j:
                continue
            alone = pv[1 << j] - pv[0]
            after = pv[(1 << i) | (1 << j)] - pv[1 << i]
            interaction = after - alone
            if abs(interaction) < _RELATION_DB:
                relation = "independent"
            elif alone * after < 0:
                relation = "opposing"
            elif abs(after) < abs(alone):
                relation = "redundant"
            else:
                relation = "synergistic"
            records.append(
                {
                    "first": findings[i],
                    "second": findings[j],
                    "second_alone_db": alone,
                    "second_after_first_db": after,
                    "interaction_db": interaction,
                    "relation": relation,
                    "_lost": abs(alone) - abs(after),
                }
            )
    columns = [
        "first",
        "second",
        "second_alone_db",
        "second_after_first_db",
        "interaction_db",
        "relation",
        "_lost",
    ]
    frame = pd.DataFrame.from_records(records, columns=columns)
    frame = frame.sort_values("_lost", ascending=False, kind="stable").drop(columns="_lost")
    return frame.reset_index(drop=True)


def _is_names(value: Any) -> bool:
    return isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping)


def _check_order(order: Iterable[Any], given: list[str]) -> list[str]:
    """``order`` as a list, if it lists every observed finding (``given``) exactly once."""
    findings = list(order)
    for name in findings:
        if not isinstance(name, str) or name not in given:
            raise EvidenceError("order: " + unknown_message("observed finding", name, given))
    repeated = [f for i, f in enumerate(findings) if f in findings[:i]]
    missing = [f for f in given if f not in findings]
    if repeated or missing:
        parts = []
        if repeated:
            parts.append("repeated: " + ", ".join(repr(f) for f in dict.fromkeys(repeated)))
        if missing:
            parts.append("missing: " + ", ".join(repr(f) for f in missing))
        raise EvidenceError("order must list every observed finding once; " + "; ".join(parts))
    return findings


@validate_params(
    {
        "net": [NETWORK],
        "order": [Check(_is_names, "a sequence of finding names"), NONE],
        "exact_max": [Interval(int, 0, None)],
        "n_permutations": [Interval(int, 2, MAX_PERMUTATIONS)],
        "seed": [SEED],
    }
)
def explain(
    net: Network,
    evidence: Evidence,
    *,
    state: str | None = None,
    versus: str | None = None,
    order: Sequence[str] | None = None,
    exact_max: int = 15,
    n_permutations: int = 2000,
    seed: int = 0,
) -> Explanation:
    """Split the weight of evidence for ``state`` among the observed findings.

    Parameters
    ----------
    net : Network
        The network (any, latent nodes included: all weights are exact posteriors).
    evidence : mapping
        Finding -> observed state, or a set of states (list, tuple, set: one of them, see
        :meth:`Network.posterior`), which is weighed as one finding (its ``state`` in the
        table lists the states joined by commas).
    state : str, optional
        The diagnosis explained (default: the most probable one given ``evidence``).
    versus : str, optional
        The alternative: None for all other diagnoses together, a diagnosis, or a group
        of :attr:`Network.diagnosis_groups` (without ``state`` if it belongs to it).
    order : sequence of str, optional
        Order of the chain-rule decomposition (default: the order of ``evidence``):
        every observed finding once.
    exact_max : int
        Up to this many findings the Shapley values are exact (``2^k`` subsets);
        beyond, permutation sampling is used. Any int >= 0; exact values for more than
        :data:`MAX_EXACT` findings are refused (memory), so a larger ``exact_max``
        only matters for cases with at most that many findings.
    n_permutations : int
        Permutations sampled beyond ``exact_max`` (standard error in ``shapley_se_db``),
        in [2, :data:`MAX_PERMUTATIONS`].
    seed : int, numpy.random.Generator or None
        Seed of the permutation sampling. None draws a seed and records it in the
        result (``seed``), so the run can be repeated; a Generator is used as it is
        (``seed`` is then None).

    Returns
    -------
    Explanation
        ``table`` (one row per finding), ``redundancy`` (pairs), ``prior_db`` and
        ``posterior_db``. Chain-rule weights, and Shapley values (exactly when exact,
        by construction when sampled), sum to ``posterior_db - prior_db``.

    Raises
    ------
    InvalidParameterError
        ``net`` not a Network; ``exact_max``, ``n_permutations`` or ``seed`` not an
        int in its range (``seed`` may also be None or a Generator); exact values asked
        for more than :data:`MAX_EXACT` findings; ``order`` not a sequence of names (a
        single str).
    EvidenceError
        Bad evidence, ``state`` or ``versus``; an ``order`` naming an unobserved
        finding, repeating one or missing one (the message says which); evidence of
        probability zero; or ``state`` or ``versus`` of posterior probability zero
        (log-odds infinite).

    Examples
    --------
    >>> from softcalc_bayes import load_network
    >>> net = load_network()
    >>> ev = {"fat_in_lesion": "present", "mdm2_cdk4_ihc": "positive"}
    >>> ex = explain(net, ev, state="alt_wdlps")
    >>> list(ex.table.index)
    ['fat_in_lesion', 'mdm2_cdk4_ihc']
    >>> bool(abs(ex.table["chain_db"].sum() - (ex.posterior_db - ex.prior_db)) < 1e-9)
    True
    >>> bool(abs(ex.table["shapley_db"].sum() - ex.total_db) < 1e-9)
    True
    """
    posterior = net.posterior(evidence)
    diagnoses = net.states(net.target)
    if state is None:
        state = str(posterior.index[0])
    elif not isinstance(state, str) or state not in diagnoses:
        raise EvidenceError("state: " + unknown_message("diagnosis", state, diagnoses))
    versus_label, versus_states = _resolve_versus(net, state, versus)
    seen = net._observed(evidence)  # finding -> state, or -> tuple (a set of states)
    given = list(seen)
    findings = given if order is None else _check_order(order, given)
    exact_max, n_permutations = int(exact_max), int(n_permutations)
    recorded, rng = seeded(seed)
    if posterior[state] <= 0 or posterior[list(versus_states)].sum() <= 0:
        zero = state if posterior[state] <= 0 else versus_label
        raise EvidenceError(
            f"{zero!r} has posterior probability zero given the evidence: its log-odds are "
            "infinite and cannot be decomposed"
        )
    observed = [seen[f] for f in findings]
    game = _Game(net, findings, observed, state, versus_states)
    k = len(findings)
    full = (1 << k) - 1
    if MAX_EXACT < k <= exact_max:
        raise InvalidParameterError(
            f"The 'exact_max' parameter of explain asks for exact Shapley values over {k} "
            f"findings (2^{k} subsets); at most {MAX_EXACT} are computed exactly. Lower "
            f"exact_max to sample permutations."
        )
    if k <= exact_max:
        v_all: np.ndarray | None = game.values(np.arange(2**k, dtype=np.int64))
        assert v_all is not None
        shapley = _exact_shapley(v_all, k)
        shapley_se = np.zeros(k)
        prior_db, posterior_db = float(v_all[0]), float(v_all[full])
        method, n_perm = "exact", 0
    else:
        v_all = None
        shapley, shapley_se = _sampled_shapley(game, k, n_permutations, rng)
        prior_db, posterior_db = (float(x) for x in game.values(np.array([0, full])))
        method, n_perm = "monte_carlo", n_permutations
    prefixes = np.cumsum([0] + [1 << i for i in range(k)]).astype(np.int64)
    leave_one_out = np.array([full & ~(1 << i) for i in range(k)], dtype=np.int64)
    if v_all is not None:
        chain_v, loo_v = v_all[prefixes], v_all[leave_one_out]
    else:
        both = game.values(np.concatenate([prefixes, leave_one_out]))
        chain_v, loo_v = both[: k + 1], both[k + 1 :]
    chain_v[0], chain_v[-1] = prior_db, posterior_db
    pv = _pair_values(game, k, v_all)
    redundancy = _redundancy(findings, pv)
    most_redundant = []
    for name in findings:
        rows = redundancy[(redundancy["second"] == name) & (redundancy["relation"] == "redundant")]
        most_redundant.append(str(rows["first"].iloc[0]) if len(rows) else "")
    table = pd.DataFrame(
        {
            "state": [v if isinstance(v, str) else ",".join(v) for v in observed],
            "alone_db": [pv[1 << i] - pv[0] for i in range(k)],
            "chain_db": np.diff(chain_v),
            "shapley_db": shapley,
            "shapley_se_db": shapley_se,
            "last_db": posterior_db - loo_v,
            "most_redundant_with": most_redundant,
        },
        index=pd.Index(findings, name="finding", dtype=object),
    )
    return Explanation(
        state=state,
        versus=versus_label,
        versus_states=versus_states,
        prior_db=prior_db,
        posterior_db=posterior_db,
        table=table,
        redundancy=redundancy,
        method=method,
        n_permutations=n_perm,
        seed=recorded if method == "monte_carlo" else None,
        order=tuple(findings),
    )
