"""Build conditional tables from default rows and cited overrides.

Rules (``networks/FORMAT.md``): a node has a ``default`` row and ``rows`` whose
``when`` binds some parents; each parent configuration takes the matching row that
binds the most parents. ``remainder`` is a state taking the complement of the listed
states, or ``proportional`` (unlisted states share the complement in the proportions
of the default row). Every entry carries provenance.

A node may also declare ``impossible`` combinations with one of its parents
(structural zeros): for every parent configuration in which the parent is in one of
the rule's states, the excluded states are set to 0 and the rest of the row is
renormalised. This is the only renormalisation in a table, and it is declared.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np

from ._validation import shown, unknown_message
from .exceptions import NetworkSpecError

BASES = ("stated_number", "verbal_term", "clinical_inference", "assumption")
# Not valid in network files: the basis of every number of a network imported from
# another tool (``softcalc_bayes.interop``), whose sources are unknown.
IMPORTED = "imported"
_NEEDS_REASON = ("clinical_inference", "assumption")
_PROV_KEYS = ("source", "locator", "basis", "reason", "strength")
IMPOSSIBLE_KEYS = ("parent", "state", "excludes", "source", "locator", "basis", "reason")
"""Fields of one ``impossible`` rule (no strength: a structural zero is not uncertain)."""
SUM_TOLERANCE = 1e-9
"""How far the probabilities of a row may sum above 1 (or away from 1 when all are
listed); nothing is renormalised to hide a larger difference."""
MAX_STRENGTH = 1e6
"""Largest equivalent sample size (``strength``) a number may carry."""
MAX_WEIGHT = 1e12
"""Largest relative weight of a profile row (``scale: relative``)."""


def described(value: object) -> str:
    """Type and (shortened) value, for a message: ``list ['a', 'b']``.

    Examples
    --------
    >>> described([1])
    'list [1]'
    """
    return f"{type(value).__name__} {shown(value)}"


def real_number(
    value: object, low: float, high: float, *, low_open: bool = False
) -> tuple[float, str]:
    """``value`` as a finite float in ``[low, high]``, and what is wrong with it ('' if nothing).

    Examples
    --------
    >>> real_number(float("nan"), 0.0, 1.0)
    (nan, 'must be a finite number in [0.0, 1.0], got float nan')
    >>> real_number(1, 0.0, 1.0)
    (1.0, '')
    """
    bracket = "(" if low_open else "["
    wanted = f"must be a finite number in {bracket}{low}, {high}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return math.nan, f"{wanted}, got {described(value)}"
    try:
        number = float(value)
    except (OverflowError, ValueError):
        return math.nan, f"{wanted}, got a number too large to represent"
    if not math.isfinite(number) or number < low or number > high or (low_open and number == low):
        return math.nan, f"{wanted}, got {described(value)}"
    return number, ""


@dataclass(frozen=True)
class Provenance:
    """Where one number comes from."""

    source: str | None
    locator: str | None
    basis: str
    reason: str | None
    strength: float


@dataclass(frozen=True)
class ProvenanceContext:
    """What entry resolution needs: sources, the verbal scale, and where we are."""

    sources: Mapping[str, Any]
    scale: Mapping[str, float]
    default_strength: Mapping[str, float]
    file: str = ""
    node: str = ""

    def at(self, file: str, node: str) -> ProvenanceContext:
        return replace(self, file=file, node=node)

    def fail(self, where: str, problem: str) -> NetworkSpecError:
        return NetworkSpecError(f"{self.file}: {self.node}, {where}: {problem}")


def _provenance(keys: Mapping[str, Any], ctx: ProvenanceContext, where: str) -> Provenance:
    basis = keys.get("basis")
    if not isinstance(basis, str) or basis not in BASES:
        raise ctx.fail(where, "field 'basis': " + unknown_message("basis", basis, BASES))
    for name in ("source", "locator", "reason"):
        if keys.get(name) is not None and not isinstance(keys[name], str):
            raise ctx.fail(where, f"field {name!r} must be text, got {described(keys[name])}")
    source = keys.get("source")
    if source is None and basis != "assumption":
        raise ctx.fail(
            where, f"basis {basis!r} needs a 'source' (only an assumption may have none)"
        )
    if source is not None and source not in ctx.sources:
        raise ctx.fail(
            where, "field 'source': " + unknown_message("source id", source, ctx.sources)
        )
    locator = keys.get("locator")
    if source is not None and not (locator and locator.strip()):
        raise ctx.fail(where, f"source {source!r} needs a 'locator' (section, table or paraphrase)")
    reason = keys.get("reason")
    if basis in _NEEDS_REASON and not (reason and reason.strip()):
        raise ctx.fail(where, f"basis {basis!r} needs a 'reason'")
    strength = keys.get("strength", ctx.default_strength.get(basis, 2.0))
    strength_value, problem = real_number(strength, 0.0, MAX_STRENGTH, low_open=True)
    if problem:
        raise ctx.fail(where, f"field 'strength' {problem}")
    return Provenance(
        source=source,
        locator=None if locator is None else " ".join(locator.split()),
        basis=basis,
        reason=None if reason is None else " ".join(reason.split()),
        strength=strength_value,
    )


def _row_keys(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in _PROV_KEYS if k in row}


def _entry(
    value: Any, row_keys: Mapping[str, Any], ctx: ProvenanceContext, where: str
) -> tuple[float, Provenance]:
    """Resolve one entry (number, verbal term, or mapping with own provenance)."""
    keys = dict(row_keys)
    if isinstance(value, dict):
        keys.update(_row_keys(value))
        if "value" not in value:
            raise ctx.fail(where, "an entry given as a mapping needs a 'value'")
        value = value["value"]
    prov = _provenance(keys, ctx, where)
    if isinstance(value, str):
        if value not in ctx.scale:
            raise ctx.fail(where, unknown_message("verbal term", value, ctx.scale))
        return ctx.scale[value], prov
    if prov.basis == "verbal_term":
        raise ctx.fail(
            where, f"basis 'verbal_term' needs a verbal term as value, got {described(value)}"
        )
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ctx.fail(
            where, f"probability must be a number or a verbal term, got {described(value)}"
        )
    number, problem = real_number(value, 0.0, 1.0)
    if problem:
        raise ctx.fail(where, f"probability is outside [0, 1]: it {problem}")
    return number, prov


def _listed(
    probs: Any,
    states: Sequence[str],
    row_keys: Mapping[str, Any],
    ctx: ProvenanceContext,
    where: str,
) -> dict[str, tuple[float, Provenance]]:
    if not isinstance(probs, dict) or not probs:
        raise ctx.fail(
            where,
            f"'probs' must be a non-empty mapping state -> probability, got {described(probs)}",
        )
    out: dict[str, tuple[float, Provenance]] = {}
    for state, value in probs.items():
        if not isinstance(state, str) or state not in states:
            hint = (
                " (quote 'yes'/'no': unquoted they are booleans)" if isinstance(state, bool) else ""
            )
            raise ctx.fail(where, unknown_message("state", state, states) + hint)
        out[state] = _entry(value, row_keys, ctx, f"{where}, state {state!r}")
    return out


def _complete(
    listed: Mapping[str, tuple[float, Provenance]],
    states: Sequence[str],
    remainder: str,
    row_prov: Provenance,
    default: tuple[np.ndarray, tuple[Provenance, ...]] | None,
    ctx: ProvenanceContext,
    where: str,
) -> tuple[np.ndarray, list[Provenance], list[bool]]:
    """Fill a row to sum to 1 with the declared remainder rule."""
    values = np.zeros(len(states))
    prov: list[Provenance] = [row_prov] * len(states)
    from_default = [False] * len(states)
    for state, (value, p) in listed.items():
        i = states.index(state)
        values[i], prov[i] = value, p
    total = float(sum(v for v, _ in listed.values()))
    if total > 1.0 + SUM_TOLERANCE:
        raise ctx.fail(
            where, f"probabilities sum to {total:.12g}, more than 1 (tolerance {SUM_TOLERANCE:g})"
        )
    rest = max(0.0, 1.0 - total)
    unlisted = [i for i, s in enumerate(states) if s not in listed]
    if remainder != "proportional":
        if remainder in listed:
            raise ctx.fail(where, f"the remainder state {remainder!r} is computed; do not list it")
        for i in unlisted:
            if states[i] == remainder:
                continue
            if default is None:  # the default row itself: an unlisted state is 0
                continue
            values[i], prov[i], from_default[i] = default[0][i], default[1][i], True
            total += float(default[0][i])
        if total > 1.0 + SUM_TOLERANCE:
            raise ctx.fail(
                where,
                f"probabilities sum to {total:.12g} with the default values of unlisted states, more than 1 "
                f"(tolerance {SUM_TOLERANCE:g})",
            )
        values[states.index(remainder)] = max(0.0, 1.0 - total)
        return values, prov, from_default
    if not unlisted:
        if abs(total - 1.0) > SUM_TOLERANCE:
            raise ctx.fail(
                where,
                f"probabilities sum to {total:.12g}; they must sum to 1 (tolerance {SUM_TOLERANCE:g})",
            )
        return values, prov, from_default
    if default is None:
        raise ctx.fail(where, "with remainder 'proportional' the default row must list every state")
    shape = default[0][unlisted]
    if shape.sum() <= 0:
        if rest > SUM_TOLERANCE:
            raise ctx.fail(
                where,
                "the complement has nowhere to go: the default row gives the unlisted states 0",
            )
        shape = np.ones(len(unlisted))
    values[unlisted] = rest * shape / shape.sum()
    if len(unlisted) == 1:
        # One unlisted state takes the whole complement: its value follows from the row's own
        # entries, so it carries the row's provenance, as a declared remainder state does.
        return values, prov, from_default
    for i in unlisted:
        prov[i], from_default[i] = default[1][i], True
    return values, prov, from_default


def _row_provenance(
    row: Mapping[str, Any],
    listed: Mapping[str, tuple[float, Provenance]],
    ctx: ProvenanceContext,
    where: str,
) -> Provenance:
    keys = _row_keys(row)
    if "basis" in keys:
        return _provenance(keys, ctx, where)
    if len(listed) == 1:
        return next(iter(listed.values()))[1]
    raise ctx.fail(
        where, "a row listing several entries needs row-level provenance (basis, source, ...)"
    )


def _matches(
    when: Any, parents: Mapping[str, tuple[str, ...]], ctx: ProvenanceContext, where: str
) -> dict[str, set[str]]:
    if not isinstance(when, dict) or not when:
        raise ctx.fail(where, "'when' must map parent names to a state or a list of states")
    bound: dict[str, set[str]] = {}
    for parent, value in when.items():
        if not isinstance(parent, str) or parent not in parents:
            raise ctx.fail(where, "field 'when': " + unknown_message("parent", parent, parents))
        wanted = value if isinstance(value, list) else [value]
        if not wanted:
            raise ctx.fail(
                where, f"field 'when': parent {parent!r} is given an empty list of states"
            )
        for state in wanted:
            if not isinstance(state, str) or state not in parents[parent]:
                raise ctx.fail(
                    where,
                    f"field 'when', parent {parent!r}: "
                    + unknown_message("state", state, parents[parent]),
                )
        bound[parent] = set(wanted)
    return bound


@dataclass(frozen=True)
class ImpossibleRule:
    """States of a node that cannot occur while ``parent`` is in one of ``when``."""

    parent: str
    when: tuple[str, ...]
    excludes: tuple[str, ...]
    provenance: Provenance


class Table(NamedTuple):
    """A resolved conditional table and everything known about each entry.

    ``excluded`` marks the entries an ``impossible`` rule set to 0; ``kept`` is, per
    row, the share of the row before the rules that the possible states hold (1 for a
    row no rule touches). Uncertainty analysis reads it: the evidence behind a row is
    spread over all its states, and only the share on the possible states is kept.
    """

    cpt: np.ndarray
    provenance: tuple[tuple[Provenance, ...], ...]
    is_default: np.ndarray
    excluded: np.ndarray
    kept: np.ndarray


def _state_list(
    value: Any, choices: Sequence[str], ctx: ProvenanceContext, where: str
) -> list[str]:
    """One state or a non-empty list of states, each one of ``choices``."""
    items = value if isinstance(value, list) else [value]
    if not items:
        raise ctx.fail(where, "an empty list of states")
    for item in items:
        if not isinstance(item, str) or item not in choices:
            hint = (
                " (quote 'yes'/'no': unquoted they are booleans)" if isinstance(item, bool) else ""
            )
            raise ctx.fail(where, unknown_message("state", item, choices) + hint)
    return list(dict.fromkeys(items))


def read_impossible(
    doc: Any,
    states: tuple[str, ...],
    parents: Mapping[str, tuple[str, ...]],
    ctx: ProvenanceContext,
) -> tuple[ImpossibleRule, ...]:
    """The ``impossible`` rules of a node (None or missing: no rule)."""
    if doc is None:
        return ()
    if not isinstance(doc, list):
        raise ctx.fail(
            "field 'impossible'",
            f"expected a list of rules (parent, state, excludes, ...), got {described(doc)}",
        )
    rules = []
    for i, rule in enumerate(doc):
        where = f"impossible rule {i}"
        if not isinstance(rule, dict):
            raise ctx.fail(where, f"a rule must be a mapping, got {described(rule)}")
        for key in rule:
            if key not in IMPOSSIBLE_KEYS:
                raise ctx.fail(where, unknown_message("field", key, IMPOSSIBLE_KEYS))
        for key in ("parent", "state", "excludes"):
            if key not in rule:
                raise ctx.fail(where, f"missing {key!r}")
        parent = rule["parent"]
        if not isinstance(parent, str) or parent not in parents:
            raise ctx.fail(
                where,
                "field 'parent': "
                + unknown_message("parent", parent, parents)
                + " (a rule's parent must be listed under 'parents')",
            )
        when = _state_list(
            rule["state"], parents[parent], ctx, f"{where}, field 'state' (of {parent!r})"
        )
        excludes = _state_list(rule["excludes"], states, ctx, f"{where}, field 'excludes'")
        if len(excludes) == len(states):
            raise ctx.fail(
                where, "'excludes' lists every state of the node: nothing would remain possible"
            )
        prov = _provenance(_row_keys(rule), ctx, where)
        rules.append(ImpossibleRule(parent, tuple(when), tuple(excludes), prov))
    return tuple(rules)


def _check_row_against_rules(
    bound: Mapping[str, set[str]],
    listed: Mapping[str, tuple[float, Provenance]],
    rules: Sequence[ImpossibleRule],
    ctx: ProvenanceContext,
    where: str,
) -> None:
    """A row written only for states a rule covers must not give an excluded state a value."""
    for i, rule in enumerate(rules):
        if rule.parent not in bound or not bound[rule.parent] <= set(rule.when):
            continue
        for state in rule.excludes:
            if state in listed and listed[state][0] > 0:
                raise ctx.fail(
                    where,
                    f"state {state!r} is given {listed[state][0]:g}, but impossible rule {i} "
                    f"excludes it when {rule.parent} is {sorted(bound[rule.parent])}; "
                    "leave it out (it is set to 0)",
                )


def _apply_impossible(
    rules: Sequence[ImpossibleRule],
    table: Table,
    states: tuple[str, ...],
    names: Sequence[str],
    configs: Sequence[tuple[str, ...]],
    ctx: ProvenanceContext,
) -> Table:
    """Set the excluded entries to 0 and renormalise each row a rule touches."""
    cpt, is_default = table.cpt, table.is_default
    excluded = np.zeros(cpt.shape, dtype=bool)
    kept = np.ones(len(configs))
    prov_rows = list(table.provenance)
    for c, config in enumerate(configs):
        why: dict[int, Provenance] = {}
        for rule in rules:
            if config[names.index(rule.parent)] in rule.when:
                for state in rule.excludes:
                    why.setdefault(states.index(state), rule.provenance)
        if not why:
            continue
        out = sorted(why)
        keep = [j for j in range(len(states)) if j not in why]
        mass = float(cpt[c, keep].sum())
        if not keep or mass <= 0.0:
            raise ctx.fail(
                "field 'impossible'",
                f"parent configuration {dict(zip(names, config, strict=True))}: the rules "
                "exclude every state with a probability above 0 "
                f"({', '.join(states[j] for j in out)}), so nothing remains possible",
            )
        cpt[c, out] = 0.0
        cpt[c, keep] /= mass
        is_default[c, out] = False
        excluded[c, out] = True
        kept[c] = mass
        row = list(prov_rows[c])
        for j, prov in why.items():
            row[j] = prov
        prov_rows[c] = tuple(row)
    return Table(cpt, tuple(prov_rows), is_default, excluded, kept)


def resolve_table(
    data: Mapping[str, Any],
    states: tuple[str, ...],
    parents: Mapping[str, tuple[str, ...]],
    ctx: ProvenanceContext,
    *,
    parent_tables: Mapping[str, tuple[Sequence[str], np.ndarray]] | None = None,
) -> Table:
    """Build a node's table ``(n_configs, n_states)`` with its provenance and masks.

    ``parent_tables`` (parent -> its own parents and table) is needed only by a node
    with ``marginal_over`` (:mod:`softcalc_bayes._margins`).
    """
    from ._margins import check_row_binding, fit_marginal, read_marginal_over

    remainder = data.get("remainder")
    if not isinstance(remainder, str) or (remainder != "proportional" and remainder not in states):
        raise ctx.fail(
            "field 'remainder'", unknown_message("state", remainder, [*states, "proportional"])
        )
    default_doc = data.get("default")
    if not isinstance(default_doc, dict):
        raise ctx.fail(
            "field 'default'", f"missing 'default' row (a mapping), got {described(default_doc)}"
        )
    listed = _listed(default_doc.get("probs"), states, _row_keys(default_doc), ctx, "default row")
    default_prov = _row_provenance(default_doc, listed, ctx, "default row")
    if remainder == "proportional" and len(listed) != len(states):
        missing = [s for s in states if s not in listed]
        raise ctx.fail(
            "default row",
            f"with remainder 'proportional' the default row must list every state; missing: {missing}",
        )
    dvals, dprov, _ = _complete(
        listed, states, str(remainder), default_prov, None, ctx, "default row"
    )
    default = (dvals, tuple(dprov))
    rules = read_impossible(data.get("impossible"), states, parents, ctx)
    marginal = read_marginal_over(data.get("marginal_over"), parents, rules, ctx)

    names = list(parents)
    configs = list(itertools.product(*(parents[p] for p in names)))
    best: list[tuple[int, int] | None] = [None] * len(configs)  # (specificity, row index)
    resolved: list[tuple[np.ndarray, list[Provenance], list[bool]]] = []
    rows = data.get("rows") or []
    if not isinstance(rows, list):
        raise ctx.fail("field 'rows'", f"'rows' must be a list, got {described(rows)}")
    for r, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ctx.fail(f"row {r}", "a row must be a mapping")
        where = f"row {r} (when {shown(row.get('when'))})"
        bound = _matches(row.get("when"), parents, ctx, where)
        listed = _listed(row.get("probs"), states, _row_keys(row), ctx, where)
        row_prov = _row_provenance(row, listed, ctx, where)
        _check_row_against_rules(bound, listed, rules, ctx, where)
        check_row_binding(bound, marginal, ctx, where)
        resolved.append(_complete(listed, states, str(remainder), row_prov, default, ctx, where))
        for c, config in enumerate(configs):
            if all(config[names.index(p)] in s for p, s in bound.items()):
                current = best[c]
                if current is None or len(bound) > current[0]:
                    best[c] = (len(bound), r)
                elif len(bound) == current[0]:
                    raise ctx.fail(
                        where,
                        f"parent configuration {dict(zip(names, config, strict=True))} is also "
                        f"matched by row {current[1]} with the same specificity",
                    )
    cpt = np.empty((len(configs), len(states)))
    prov_rows: list[tuple[Provenance, ...]] = []
    is_default = np.zeros((len(configs), len(states)), dtype=bool)
    for c, choice in enumerate(best):
        if choice is None:
            cpt[c], is_default[c] = dvals, True
            prov_rows.append(default[1])
        else:
            values, prov, from_default = resolved[choice[1]]
            cpt[c], is_default[c] = values, from_default
            prov_rows.append(tuple(prov))
    table = Table(
        cpt, tuple(prov_rows), is_default, np.zeros(cpt.shape, dtype=bool), np.ones(len(configs))
    )
    if not rules:
        return table
    written = cpt.copy()
    table = _apply_impossible(rules, table, states, names, configs, ctx)
    if marginal is None:
        return table
    if parent_tables is None or marginal not in parent_tables:
        raise ctx.fail("field 'marginal_over'", f"the table of {marginal!r} is not available")
    return fit_marginal(
        table, written, marginal, parent_tables[marginal], states, parents, configs, ctx
    )


def resolve_prior(
    entry: Mapping[str, Any], states: tuple[str, ...], ctx: ProvenanceContext
) -> tuple[np.ndarray, tuple[Provenance, ...]]:
    """Resolve a profile: rows of weights (``scale: relative``) or probabilities."""
    scale = entry.get("scale", "absolute")
    if not isinstance(scale, str) or scale not in ("absolute", "relative"):
        raise ctx.fail("field 'scale'", unknown_message("scale", scale, ["absolute", "relative"]))
    rows = entry.get("rows")
    if not isinstance(rows, list) or not rows:
        raise ctx.fail("field 'rows'", "a profile needs a non-empty list of 'rows'")
    values = np.full(len(states), np.nan)
    prov: list[Provenance | None] = [None] * len(states)
    for r, row in enumerate(rows):
        where = f"row {r}"
        if not isinstance(row, dict) or not isinstance(row.get("probs"), dict):
            raise ctx.fail(where, "each row needs 'probs' mapping diagnosis -> weight")
        keys = _row_keys(row)
        for state, value in row["probs"].items():
            if not isinstance(state, str) or state not in states:
                raise ctx.fail(
                    where, "field 'probs': " + unknown_message("diagnosis", state, states)
                )
            i = states.index(state)
            if prov[i] is not None:
                raise ctx.fail(where, f"diagnosis {state!r} is given a weight twice")
            here = f"{where}, diagnosis {state!r}"
            if scale == "relative":
                raw = value.get("value") if isinstance(value, dict) else value
                own = {**keys, **(_row_keys(value) if isinstance(value, dict) else {})}
                weight, problem = real_number(raw, 0.0, MAX_WEIGHT, low_open=True)
                if problem:
                    raise ctx.fail(here, f"a relative weight {problem}")
                values[i], prov[i] = weight, _provenance(own, ctx, here)
            else:
                values[i], prov[i] = _entry(value, keys, ctx, here)
    missing = [s for s, p in zip(states, prov, strict=True) if p is None]
    if missing:
        raise ctx.fail("field 'rows'", f"no weight for diagnoses: {', '.join(missing)}")
    total = float(values.sum())
    if scale == "relative":
        values = values / total
    elif abs(total - 1.0) > SUM_TOLERANCE:
        raise ctx.fail(
            "field 'rows'",
            f"probabilities sum to {total:.12g}; they must sum to 1 within {SUM_TOLERANCE:g} "
            "(or use scale: relative)",
        )
    return values, tuple(p for p in prov if p is not None)
