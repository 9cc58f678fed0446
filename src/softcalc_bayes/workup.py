"""Which test next: value of information and sequential work-up.

:func:`next_best_test` ranks every unobserved finding by the information it is expected
to give about the target (the mutual information ``I(T; F | e)`` in bits), the chance
that it changes the top diagnosis, and, with costs, the gain per unit cost.
:func:`sequential_workup` applies a strategy (value of information, a random order or a
fixed clinical order) step by step until the top diagnosis reaches ``stop_at``.
Test costs are read by :func:`~softcalc_bayes.costs.load_test_costs`
(``networks/default/test_costs.yaml``).

Everything is computed through the public :class:`~softcalc_bayes.network.Network`
queries: one batched posterior over every (finding, state) look-ahead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._lookahead import entropy_bits, lookahead, predictive
from ._params import (
    NETWORK,
    NONE,
    SEED,
    Check,
    Interval,
    Options,
    check_name,
    validate_params,
)
from ._validation import unknown_message
from .costs import (
    CATEGORIES,
    DiagnosticTest,
    WorkupCosts,
    load_test_costs,
    resolve_costs,
)
from .exceptions import EvidenceError

if TYPE_CHECKING:
    from .network import Evidence, Network

__all__ = [
    "CATEGORIES",
    "DiagnosticTest",
    "WorkupCosts",
    "load_test_costs",
    "next_best_test",
    "sample_cases",
    "sequential_workup",
]

CRITERIA = ("information_gain", "gain_per_cost", "p_top_changes", "expected_p_top")
STRATEGIES = ("voi", "random", "clinical")
MAX_CASES = 1_000_000
"""Most cases :func:`sample_cases` draws in one call (memory: one object cell per node)."""


def _is_names(value: Any) -> bool:
    """A collection of names: iterable, but not one str (which would be split into letters)."""
    return isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping)


_FINDING_NAMES = Check(_is_names, "a sequence of finding names")
_TEST_NAMES = Check(_is_names, "a sequence of test names")
_COLUMN = {
    "information_gain": "information_gain_bits",
    "gain_per_cost": "gain_per_cost",
    "p_top_changes": "p_top_changes",
    "expected_p_top": "expected_p_top",
}


def _candidates(
    net: Network, codes: Mapping[str, Any], target: str, only: Sequence[str] | None
) -> list[str]:
    if only is None:
        return [f for f in net.findings if f not in codes and f != target]
    out: list[str] = []
    for f in only:
        check_name("next_best_test", "candidates", f, net.findings, "finding")
        if f not in codes and f != target and f not in out:
            out.append(f)
    return out


def _named(net: Network, evidence: Evidence, target: str) -> dict[str, str | tuple[str, ...]]:
    """Validated evidence: finding -> state, or -> tuple of states (a set of states)."""
    return net._observed(evidence, target)


@validate_params(
    {
        "net": [NETWORK],
        "criterion": [Options(CRITERIA), NONE],
        "candidates": [_FINDING_NAMES, NONE],
        "lookahead": [Interval(int, 1, 2)],
        "n_lookahead": [Interval(int, 1, None)],
    }
)
def next_best_test(
    net: Network,
    evidence: Evidence,
    *,
    target: str | None = None,
    costs: WorkupCosts | Mapping[str, float] | str | Path | None = None,
    criterion: str | None = None,
    candidates: Sequence[str] | None = None,
    lookahead: int = 1,
    n_lookahead: int = 5,
) -> pd.DataFrame:
    """Rank the unobserved findings by their expected value for the diagnosis.

    Parameters
    ----------
    net : Network
    evidence : mapping
        Finding -> observed state.
    target : str, optional
        The node whose uncertainty counts (default: the diagnosis).
    costs : WorkupCosts, mapping, path or "default", optional
        Test costs: a :class:`WorkupCosts`, a YAML file (``"default"``: the network's
        ``test_costs.yaml``), or a mapping finding -> cost (each finding its own test).
    criterion : {"information_gain", "gain_per_cost", "p_top_changes", "expected_p_top"}
        Sort key (default: ``gain_per_cost`` with costs, else ``information_gain``).
    candidates : sequence of str, optional
        Restrict the ranking to these findings (default: every unobserved finding); a
        list even for one finding.
    lookahead : {1, 2}
        With 2, the ``n_lookahead`` best candidates are paired with every other
        candidate: ``pair_gain_bits`` is the information of the best pair,
        ``I(T; F, G | e) = I(T; F | e) + E_f[I(T; G | e, f)]``, and ``pair_with`` its
        second test.
    n_lookahead : int
        With ``lookahead=2``, how many of the best candidates are paired (at least 1).

    Returns
    -------
    pandas.DataFrame
        Indexed by finding, best first, with columns

        - ``information_gain_bits``: ``H(T | e) - sum_s P(F=s | e) H(T | e, F=s)``
          (exactly 0 when ``F`` is independent of ``T`` given ``e``);
        - ``p_top_changes``: probability that the outcome makes another state the most
          probable one;
        - ``expected_p_top``: expected posterior of the most probable state after the
          test;
        - ``expected_p_current_top``: expected posterior of the *current* top state
          after the test. By the law of total probability it equals its current
          posterior for every test (a check of exactness, not a ranking); its range over
          the outcomes is ``p_current_top_min`` to ``p_current_top_max``;
        - with costs: ``test`` (the test revealing the finding), ``cost`` (its cost now,
          prerequisites not yet done included; 0 when the test was already done for
          another of its findings), ``gain_per_cost`` (``inf`` for a free informative
          finding);
        - with ``lookahead=2``: ``pair_with``, ``pair_gain_bits`` (NaN beyond the
          ``n_lookahead`` first rows).

        ``attrs`` holds ``target``, ``top``, ``p_top``, ``entropy_bits`` and ``criterion``.

    Raises
    ------
    InvalidParameterError
        ``net`` not a Network; a bad ``criterion``, ``lookahead`` or ``n_lookahead``;
        ``candidates`` not a sequence of names (a single str).
    EvidenceError
        Bad evidence or target; an unknown candidate; bad costs, or costs revealing
        no test for a candidate; ``criterion="gain_per_cost"`` without costs.
    NetworkSpecError
        A malformed cost file (see :func:`~softcalc_bayes.costs.load_test_costs`).

    Examples
    --------
    >>> from softcalc_bayes import load_network
    >>> net = load_network()
    >>> ev = {"age_group": "adult_60_plus", "fat_in_lesion": "present"}
    >>> table = next_best_test(net, ev)
    >>> table.index[0] in net.findings
    True
    >>> bool((table["information_gain_bits"] >= 0).all())
    True
    """
    target = net.target if target is None else target
    check_name("next_best_test", "target", target, net.nodes, "target")
    model = resolve_costs(net, costs)
    if criterion is None:
        criterion = "gain_per_cost" if model is not None else "information_gain"
    if criterion == "gain_per_cost" and model is None:
        raise EvidenceError("criterion 'gain_per_cost' needs costs")
    named = _named(net, evidence, target)
    findings = _candidates(net, named, target, candidates)
    if model is not None:
        test_of = model.test_of
        missing = [f for f in findings if f not in test_of]
        if missing:
            raise EvidenceError(f"costs: no test reveals the findings {missing}")
    table = _rank(net, named, findings, target, model)
    table = _sort(table, _COLUMN[criterion])
    if lookahead == 2:
        table = _add_pairs(net, named, table, target, model, int(n_lookahead))
    prior = net.posterior(named, target=target)
    table.attrs.update(
        target=target,
        top=str(prior.index[0]),
        p_top=float(prior.iloc[0]),
        entropy_bits=float(entropy_bits(prior.to_numpy(dtype=float))),
        criterion=criterion,
    )
    return table


def _sort(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """Best first by ``column``, ties by information gain, then by name."""
    names = np.array(table.index, dtype=str)
    gain = table["information_gain_bits"].to_numpy()
    order = np.lexsort((names, -gain, -table[column].to_numpy(dtype=float)))
    return table.iloc[order]


def _rank(
    net: Network,
    named: Mapping[str, str | tuple[str, ...]],
    findings: Sequence[str],
    target: str,
    model: WorkupCosts | None,
) -> pd.DataFrame:
    la = lookahead(net, named, findings, target)
    index = pd.Index(list(findings), name="finding", dtype=object)  # type: ignore[arg-type]
    table = pd.DataFrame(la.summary(), index=index)
    if model is not None:
        done = model.done(list(named))
        test_of = model.test_of
        table["test"] = [test_of[f] for f in findings]
        table["cost"] = [model.marginal_cost(test_of[f], done=done) for f in findings]
        gain, cost = table["information_gain_bits"].to_numpy(), table["cost"].to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            table["gain_per_cost"] = np.where(
                cost > 0, gain / np.where(cost > 0, cost, 1.0), np.where(gain > 0, np.inf, 0.0)
            )
    return table


def _add_pairs(
    net: Network,
    named: Mapping[str, str | tuple[str, ...]],
    table: pd.DataFrame,
    target: str,
    model: WorkupCosts | None,
    n_lookahead: int,
) -> pd.DataFrame:
    findings = list(table.index)
    pair_with: list[str | None] = [None] * len(findings)
    pair_gain = np.full(len(findings), np.nan)
    first = findings[:n_lookahead]
    first_la = lookahead(net, named, first, target)
    first_gains = first_la.gains()
    for row, f in enumerate(first):
        others = [g for g in findings if g != f]
        if not others:
            continue
        expected = np.zeros(len(others))
        for i, s in enumerate(net.states(f)):
            p = first_la.predictive[f][i]
            if p <= 0:
                continue
            expected += p * lookahead(net, {**named, f: s}, others, target).gains()
        scores = first_gains[row] + expected
        best = int(np.argmax(scores))
        pair_with[row], pair_gain[row] = others[best], float(scores[best])
    out = table.copy()
    out["pair_with"] = pair_with
    out["pair_gain_bits"] = pair_gain
    if model is not None:
        done = model.done(list(named))
        test_of = model.test_of
        costs = []
        for f, g in zip(findings, pair_with, strict=True):
            if g is None:
                costs.append(np.nan)
                continue
            needed = model.needed(test_of[f], done) | model.needed(test_of[g], done)
            costs.append(float(sum(model.tests[t].cost for t in needed)))
        out["pair_cost"] = costs
    return out


# ----------------------------------------------------------------- simulation
@validate_params(
    {"net": [NETWORK], "n": [Interval(int, 1, MAX_CASES)], "seed": [SEED]},
)
def sample_cases(
    net: Network, n: int, *, seed: int | np.random.Generator | None = 0
) -> pd.DataFrame:
    """Draw ``n`` complete cases from the network (exact ancestral sampling).

    The findings are drawn one after the other from ``P(f | findings drawn so far)``
    and the diagnosis last from ``P(T | all findings)``: by the chain rule this is a
    draw from the joint distribution, computed with batched posterior queries.

    Parameters
    ----------
    net : Network
    n : int
        Number of cases, in [1, :data:`MAX_CASES`].
    seed : int, numpy.random.Generator or None
        Seed of the draws (a non-negative int; None: fresh entropy).

    Returns
    -------
    pandas.DataFrame
        One row per case: the target column, then one column per finding.

    Raises
    ------
    InvalidParameterError
        ``net`` not a Network, ``n`` not an int in range, or a bad ``seed``.

    Examples
    --------
    >>> from softcalc_bayes import load_network
    >>> cases = sample_cases(load_network(), 5, seed=1)
    >>> cases.shape
    (5, 38)
    """
    n = int(n)
    rng = np.random.default_rng(seed)
    drawn = pd.DataFrame(index=pd.RangeIndex(n))
    for node in [*net.findings, net.target]:
        probs = net.posterior_batch(drawn, target=node).to_numpy()
        u = rng.random(n)[:, None]
        index = np.minimum((np.cumsum(probs, axis=1) < u).sum(axis=1), probs.shape[1] - 1)
        drawn[node] = np.array(net.states(node), dtype=object)[index]
    return drawn[[net.target, *net.findings]]


def _strategy_order(
    strategy: str | Sequence[str],
    tests: Sequence[str],
    model: WorkupCosts | None,
    rng: np.random.Generator,
) -> list[str] | None:
    if isinstance(strategy, str):  # one of STRATEGIES (checked by validate_params)
        if strategy == "voi":
            return None
        if strategy == "random":
            return [tests[i] for i in rng.permutation(len(tests))]
        if model is None:
            raise EvidenceError("strategy 'clinical' needs costs (test categories)")
        return [t for t in model.clinical_order() if t in tests]
    order = list(strategy)
    for name in order:
        if not isinstance(name, str) or name not in tests:
            raise EvidenceError("strategy: " + unknown_message("test", name, tests))
    return order


@validate_params(
    {
        "net": [NETWORK],
        "stop_at": [Interval(float, 0, 1, closed="right")],
        "strategy": [Options(STRATEGIES), _TEST_NAMES],
        "criterion": [Options(CRITERIA), NONE],
        "max_tests": [Interval(int, 0, None), NONE],
        "min_gain": [Interval(float, 0, None)],
        "seed": [SEED],
    }
)
def sequential_workup(
    net: Network,
    evidence: Evidence,
    *,
    truth: Evidence | None = None,
    stop_at: float = 0.9,
    costs: WorkupCosts | Mapping[str, float] | str | Path | None = None,
    strategy: str | Sequence[str] = "voi",
    criterion: str | None = None,
    max_tests: int | None = None,
    min_gain: float = 1e-9,
    seed: int | np.random.Generator | None = 0,
) -> pd.DataFrame:
    """Order tests one at a time until the top diagnosis reaches ``stop_at``.

    Parameters
    ----------
    net : Network
    evidence : mapping
        The findings known at the start.
    truth : mapping, optional
        The case's true findings: a chosen test reveals those of its findings that
        ``truth`` holds, and tests revealing none of them are not available. None
        simulates the outcomes from the network's predictive distribution (``seed``).
    stop_at : float
        Stop once the most probable diagnosis has at least this posterior, in (0, 1].
    costs : optional
        As in :func:`next_best_test`. With costs, a chosen finding reveals all findings
        of its test (one radiograph gives several findings), and the cost is counted
        once per test, prerequisites (the biopsy) included. Without, each finding is
        its own test.
    strategy : {"voi", "random", "clinical"} or sequence of test names
        ``"voi"``: greedy :func:`next_best_test` by ``criterion``; ``"random"``: a random
        order of the available tests (``seed``); ``"clinical"``: history, imaging, labs,
        biopsy, genetics (needs costs); or a fixed order of tests (a list even for one).
    criterion : str, optional
        The ``"voi"`` ranking, as in :func:`next_best_test`.
    max_tests : int, optional
        Stop after this many tests (0: only the start).
    min_gain : float
        The ``"voi"`` strategy stops when no test has more information gain (bits, at
        least 0).
    seed : int, numpy.random.Generator or None
        Seed of the ``"random"`` order and of simulated outcomes.

    Returns
    -------
    pandas.DataFrame
        One row per step (step 0 is the start): ``test``, ``revealed`` (finding=state,
        ...), ``cost``, ``total_cost``, ``top``, ``p_top``, ``information_gain_bits``
        (of the chosen finding, ``"voi"`` only: NaN at step 0, where no test is chosen,
        and for an order given by the caller or ``"random"``). ``attrs["stop_reason"]`` says why it
        stopped: ``"reached stop_at"``, ``"no tests left"``, ``"no informative test"``
        or ``"max_tests"``.

    Raises
    ------
    InvalidParameterError
        ``net`` not a Network; a bad ``stop_at``, ``strategy`` (type or name),
        ``criterion``, ``max_tests``, ``min_gain`` or ``seed``.
    EvidenceError
        Bad evidence, truth or costs; an unknown test in a ``strategy`` list;
        ``strategy="clinical"`` without costs.
    NetworkSpecError
        A malformed cost file (see :func:`~softcalc_bayes.costs.load_test_costs`).

    Examples
    --------
    >>> from softcalc_bayes import load_network
    >>> net = load_network()
    >>> steps = sequential_workup(net, {"fat_in_lesion": "present"},
    ...                           truth={"mdm2_fish": "amplified"}, stop_at=0.95)
    >>> steps["test"].tolist()
    ['', 'mdm2_fish']
    """
    model = resolve_costs(net, costs)
    named = _named(net, evidence, net.target)
    truth_named = None if truth is None else _named(net, truth, net.target)
    rng = np.random.default_rng(seed)
    test_of = model.test_of if model is not None else {f: f for f in net.findings}
    members: dict[str, list[str]] = {}
    for f, t in test_of.items():
        members.setdefault(t, []).append(f)

    def revealable(test: str) -> list[str]:
        return [
            f for f in members[test] if f not in named and (truth_named is None or f in truth_named)
        ]

    done = model.done(list(named)) if model is not None else set(named)
    available = [t for t in members if revealable(t)]
    order = _strategy_order(strategy, available, model, rng)
    steps: list[dict[str, Any]] = []
    total = 0.0

    def record(test: str, revealed: str, cost: float, gain: float) -> float:
        post = net.posterior(named)
        steps.append(
            {
                "test": test,
                "revealed": revealed,
                "cost": cost,
                "total_cost": total,
                "top": str(post.index[0]),
                "p_top": float(post.iloc[0]),
                "information_gain_bits": gain,
            }
        )
        return float(post.iloc[0])

    p_top = record("", "", 0.0, np.nan)
    reason = "reached stop_at"
    while p_top < stop_at:
        if max_tests is not None and len(steps) - 1 >= max_tests:
            reason = "max_tests"
            break
        available = [t for t in available if revealable(t)]
        if order is not None:
            available = [t for t in order if t in available]
        if not available:
            reason = "no tests left"
            break
        gain = np.nan
        if order is None:
            candidates = [f for t in available for f in revealable(t)]
            ranked = next_best_test(
                net, named, costs=model, criterion=criterion, candidates=candidates
            )
            gain = float(ranked["information_gain_bits"].iloc[0])
            if float(ranked["information_gain_bits"].max()) <= min_gain:
                reason = "no informative test"
                break
            test = test_of[str(ranked.index[0])]
        else:
            test = available[0]
        cost = model.marginal_cost(test, done=done) if model is not None else 1.0
        shown = []
        for f in revealable(test):
            if truth_named is not None:
                state = truth_named[f]
            else:
                p = predictive(net, named, [f])[f]
                state = net.states(f)[int(rng.choice(len(p), p=p / p.sum()))]
            named[f] = state
            shown.append(f"{f}={state}")
        done |= model.needed(test, done) if model is not None else {test}
        available.remove(test)
        total += cost
        p_top = record(test, ", ".join(shown), cost, gain)
    out = pd.DataFrame.from_records(
        steps,
        columns=["test", "revealed", "cost", "total_cost", "top", "p_top", "information_gain_bits"],
    )
    out.index.name = "step"
    out.attrs["stop_reason"] = reason
    out.attrs["evidence"] = dict(named)
    return out
