"""Test costs: which findings each test reveals, its cost, invasiveness and provenance.

The packaged file is ``networks/default/test_costs.yaml``; :func:`load_test_costs`
reads a file with the limits of network files (:mod:`softcalc_bayes._safe_yaml`: size,
UTF-8, no anchors or aliases, no repeated keys) and validates it against a network (every
finding and source id known, every number with a source or a reasoned assumption, no
cycle of prerequisites).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._params import NETWORK, NONE, PATH, validate_params
from ._safe_yaml import path_kind, read_data_file
from ._validation import shown, unknown_message
from .exceptions import EvidenceError, InvalidParameterError, NetworkSpecError

if TYPE_CHECKING:
    from .network import Network

__all__ = [
    "CATEGORIES",
    "INVASIVENESS",
    "DiagnosticTest",
    "WorkupCosts",
    "load_test_costs",
    "resolve_costs",
]

CATEGORIES = ("history", "imaging", "labs", "biopsy", "genetics", "other")
"""Test categories, in the fixed clinical order used by ``strategy="clinical"``."""
INVASIVENESS = ("none", "venepuncture", "radiation", "invasive")


@dataclass(frozen=True)
class DiagnosticTest:
    """One orderable test: the findings it reveals, its cost and its provenance."""

    name: str
    label: str
    category: str
    findings: tuple[str, ...]
    cost: float
    invasiveness: str = "none"
    requires: tuple[str, ...] = ()
    basis: str = "assumption"
    source: str | None = None
    locator: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class WorkupCosts:
    """Tests with costs; each finding belongs to at most one test.

    Examples
    --------
    >>> from softcalc_bayes import load_network
    >>> costs = load_test_costs(net=load_network())
    >>> costs.test_of["mdm2_fish"]
    'mdm2_fish'
    >>> costs.marginal_cost("mdm2_fish", done=set())  # FISH plus the biopsy it needs
    20.0
    >>> costs.marginal_cost("mdm2_fish", done={"core_biopsy"})
    5.0
    """

    tests: Mapping[str, DiagnosticTest]
    unit: str = "relative cost"

    @property
    def test_of(self) -> dict[str, str]:
        """Finding -> the test that reveals it."""
        return {f: t.name for t in self.tests.values() for f in t.findings}

    def done(self, observed: Sequence[str]) -> set[str]:
        """Tests already done: those revealing an observed finding, and what they require."""
        if isinstance(observed, str | bytes):  # one name, not a sequence of its letters
            raise InvalidParameterError(
                f"The 'observed' parameter of WorkupCosts.done must be a list of findings, "
                f"got the str {observed!r} (write [{observed!r}] for one)"
            )
        test_of = self.test_of
        out = {test_of[f] for f in observed if f in test_of}
        pending = list(out)
        while pending:
            for req in self.tests[pending.pop()].requires:
                if req not in out:
                    out.add(req)
                    pending.append(req)
        return out

    def _check_test(self, test: object) -> str:
        """``test`` if it names a test; else an :class:`EvidenceError` listing the tests."""
        if isinstance(test, str) and test in self.tests:
            return test
        raise EvidenceError(unknown_message("test", test, self.tests))

    def needed(self, test: str, done: set[str]) -> set[str]:
        """``test`` and its not-yet-done prerequisites (recursively).

        Raises
        ------
        EvidenceError
            If ``test`` is not one of :attr:`tests` (the message lists them).
        """
        self._check_test(test)
        out: set[str] = set()
        pending = [test]
        while pending:
            name = pending.pop()
            if name in done or name in out:
                continue
            out.add(name)
            pending.extend(self.tests[name].requires)
        return out

    def marginal_cost(self, test: str, *, done: set[str]) -> float:
        """Cost of doing ``test`` now: its own cost plus prerequisites not yet done.

        Raises
        ------
        EvidenceError
            If ``test`` is not one of :attr:`tests` (the message lists them).
        """
        self._check_test(test)
        return float(sum(self.tests[t].cost for t in self.needed(test, done)))

    def clinical_order(self) -> list[str]:
        """Tests by category (history, imaging, labs, biopsy, genetics), then file order."""
        names = list(self.tests)
        return sorted(
            names, key=lambda n: (CATEGORIES.index(self.tests[n].category), names.index(n))
        )

    def table(self) -> pd.DataFrame:
        """One row per test: label, category, findings, cost, invasiveness, provenance."""
        records = [
            {
                "test": t.name,
                "label": t.label,
                "category": t.category,
                "findings": ", ".join(t.findings),
                "requires": ", ".join(t.requires),
                "cost": t.cost,
                "invasiveness": t.invasiveness,
                "basis": t.basis,
                "source": t.source,
                "reason": t.reason,
            }
            for t in self.tests.values()
        ]
        return pd.DataFrame.from_records(records).set_index("test")

    @classmethod
    def per_finding(cls, costs: Mapping[str, float]) -> WorkupCosts:
        """Each finding its own test with the given cost (no grouping)."""
        tests = {}
        for finding, cost in costs.items():
            tests[finding] = DiagnosticTest(
                name=finding,
                label=finding,
                category="other",
                findings=(finding,),
                cost=_positive_cost(cost, f"cost of {finding!r}"),
                reason="given by the caller",
            )
        return cls(tests)


def _positive_cost(value: Any, where: str) -> float:
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise NetworkSpecError(f"{where}: cost must be a positive number, got {shown(value)}")
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        number = math.inf
    if not number > 0:
        raise NetworkSpecError(f"{where}: cost must be a positive number, got {shown(value)}")
    if not math.isfinite(number):
        raise NetworkSpecError(f"{where}: cost must be finite, got {shown(value)}")
    return number


_FIELDS = (
    "label",
    "category",
    "findings",
    "requires",
    "cost",
    "invasiveness",
    "basis",
    "source",
    "locator",
    "reason",
)
_BASES = ("stated_number", "verbal_term", "clinical_inference", "assumption")
_TOP_KEYS = ("unit", "tests")


def _given(value: Any) -> str:
    """``the list ['sex']``: a value and its YAML-level type, for a message."""
    return f"the {type(value).__name__} {shown(value)}"


def _text(entry: Mapping[str, Any], key: str, where: str) -> str | None:
    """The optional text field ``key`` of ``entry`` (None when absent or null)."""
    value = entry.get(key)
    if value is None or isinstance(value, str):
        return value
    raise NetworkSpecError(f"{where}, field {key!r}: a str is expected, got {_given(value)}")


def _names(entry: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    """The optional list of names ``key`` of ``entry``: a YAML list of strings, no repeats."""
    value = entry.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        hint = f" (write [{value}] for one)" if isinstance(value, str) else ""
        raise NetworkSpecError(
            f"{where}, field {key!r}: a list of names is expected{hint}, got {_given(value)}"
        )
    for item in value:
        if not isinstance(item, str):
            raise NetworkSpecError(
                f"{where}, field {key!r}: every item must be a name (a str), got {_given(item)}"
            )
    for i, item in enumerate(value):
        if item in value[:i]:
            raise NetworkSpecError(f"{where}, field {key!r}: {item!r} is listed twice")
    return tuple(value)


def _choice(
    entry: Mapping[str, Any], key: str, default: str, choices: Sequence[str], where: str
) -> str:
    value = entry.get(key, default)
    if isinstance(value, str) and value in choices:
        return value
    raise NetworkSpecError(f"{where}, field {key!r}: " + unknown_message(key, value, choices))


def _read_test(name: str, entry: Any, where: str) -> DiagnosticTest:
    where = f"{where}, test {name!r}"
    if not isinstance(entry, Mapping):
        raise NetworkSpecError(f"{where}: a mapping of fields is expected, got {_given(entry)}")
    for key in entry:
        if key not in _FIELDS:
            raise NetworkSpecError(f"{where}: " + unknown_message("key", key, _FIELDS))
    category = _choice(entry, "category", "other", CATEGORIES, where)
    invasiveness = _choice(entry, "invasiveness", "none", INVASIVENESS, where)
    basis = entry.get("basis")
    if not isinstance(basis, str) or basis not in _BASES:
        raise NetworkSpecError(
            f"{where}, field 'basis': " + unknown_message("basis", basis, _BASES)
        )
    source = _text(entry, "source", where)
    locator = _text(entry, "locator", where)
    reason = _text(entry, "reason", where)
    if basis == "assumption":
        if not reason:
            raise NetworkSpecError(f"{where}: basis 'assumption' needs a reason")
    elif not source or not locator:
        raise NetworkSpecError(f"{where}: basis {basis!r} needs a source and a locator")
    label = _text(entry, "label", where)
    return DiagnosticTest(
        name=name,
        label=name if label is None else label,
        category=category,
        findings=_names(entry, "findings", where),
        cost=_positive_cost(entry.get("cost"), f"{where}, field 'cost'"),
        invasiveness=invasiveness,
        requires=_names(entry, "requires", where),
        basis=basis,
        source=source,
        locator=locator,
        reason=reason,
    )


def _cycle(tests: Mapping[str, DiagnosticTest]) -> list[str] | None:
    """A cycle of ``requires`` (``[a, b, a]``), or None; every required test exists."""
    status: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in tests:
        if start in status:
            continue
        path, pending = [start], [iter(tests[start].requires)]
        status[start] = 1
        while pending:
            following = next(pending[-1], None)
            if following is None:
                status[path.pop()] = 2
                pending.pop()
            elif status.get(following) == 1:
                return [*path[path.index(following) :], following]
            elif following not in status:
                status[following] = 1
                path.append(following)
                pending.append(iter(tests[following].requires))
    return None


@validate_params(
    {
        "path": [PATH, NONE],
        "net": [NETWORK, NONE],
    }
)
def load_test_costs(path: str | Path | None = None, *, net: Network | None = None) -> WorkupCosts:
    """Read a test-cost file (default: ``test_costs.yaml`` of ``net``'s folder).

    The file is read with the limits of network files (a regular file of at most 5 MB,
    UTF-8, no YAML anchors or aliases, no key repeated in a mapping).

    Parameters
    ----------
    path : str or Path, optional
        A YAML file with ``unit`` and ``tests`` (see ``networks/default/test_costs.yaml``).
    net : Network, optional
        When given, every finding and source id is checked against it, and ``path``
        defaults to the network folder's ``test_costs.yaml``.

    Raises
    ------
    InvalidParameterError
        ``path`` is not a str or Path, or ``net`` not a Network.
    NetworkSpecError
        Naming the file (and the test and field): missing file or a folder, not UTF-8,
        not valid YAML or beyond the limits above; unknown key, category, invasiveness,
        basis, finding, test or source; a field of the wrong type (a name where a list
        is expected, a list where a name is); a finding in two tests; tests requiring
        each other in a cycle; a non-positive cost; an assumption without a reason.
    """
    if path is None:
        from .spec import default_network_path

        folder = net.spec.path if net is not None else None
        path = (folder if folder is not None else default_network_path()) / "test_costs.yaml"
    path = Path(path)
    kind = path_kind(path)
    if kind == "missing":
        raise NetworkSpecError(f"{path}: no such test-cost file")
    if kind == "folder":
        raise NetworkSpecError(f"{path}: is a folder, not a test-cost file")
    data = read_data_file(path)
    if not isinstance(data, Mapping):
        raise NetworkSpecError(f"{path}: expected a mapping with 'unit' and 'tests'")
    for key in data:
        if key not in _TOP_KEYS:
            raise NetworkSpecError(f"{path}: " + unknown_message("key", key, _TOP_KEYS))
    entries = data.get("tests")
    if not isinstance(entries, Mapping):
        raise NetworkSpecError(
            f"{path}: expected a mapping with 'unit' and 'tests' (test name -> fields), "
            f"got 'tests': {shown(entries)}"
        )
    if not entries:
        raise NetworkSpecError(f"{path}: no tests (the 'tests' mapping is empty)")
    unit = _text(data, "unit", str(path))
    tests: dict[str, DiagnosticTest] = {}
    for name, entry in entries.items():
        if not isinstance(name, str) or not name:
            raise NetworkSpecError(f"{path}: test names must be str, got {_given(name)}")
        tests[name] = _read_test(name, entry, str(path))
    seen: dict[str, str] = {}
    for test in tests.values():
        for req in test.requires:
            if req not in tests:
                raise NetworkSpecError(
                    f"{path}, test {test.name!r} requires " + unknown_message("test", req, tests)
                )
        for finding in test.findings:
            if finding in seen:
                raise NetworkSpecError(
                    f"{path}: finding {finding!r} is in two tests ({seen[finding]!r}, {test.name!r})"
                )
            seen[finding] = test.name
            if net is not None and finding not in net.findings:
                raise NetworkSpecError(
                    f"{path}, test {test.name!r}: "
                    + unknown_message("finding", finding, net.findings)
                )
        if net is not None and test.source is not None and test.source not in net.spec.sources:
            raise NetworkSpecError(
                f"{path}, test {test.name!r}: "
                + unknown_message("source", test.source, net.spec.sources)
            )
    cycle = _cycle(tests)
    if cycle is not None:
        raise NetworkSpecError(
            f"{path}: the 'requires' of the tests form a cycle: {' -> '.join(cycle)} "
            "(a test cannot require itself, even through others)"
        )
    return WorkupCosts(tests, unit="relative cost" if unit is None else unit)


def resolve_costs(
    net: Network, costs: WorkupCosts | Mapping[str, float] | str | Path | None
) -> WorkupCosts | None:
    if costs is None or isinstance(costs, WorkupCosts):
        return costs
    if isinstance(costs, str | Path):
        return load_test_costs(None if costs == "default" else costs, net=net)
    if isinstance(costs, Mapping):
        for finding in costs:
            if finding not in net.findings:
                raise EvidenceError("costs: " + unknown_message("finding", finding, net.findings))
        return WorkupCosts.per_finding(costs)
    raise EvidenceError(
        "costs must be None, 'default', a file path, a WorkupCosts or a mapping finding -> cost"
    )
