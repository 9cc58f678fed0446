"""Test costs: which findings each test reveals, its cost, invasiveness and provenance.

The packaged file is ``networks/default/test_costs.yaml``; :func:`load_test_costs`
validates a file against a network (every finding and source id known, every number
with a source or a reasoned assumption).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

from ._validation import unknown_message
from .exceptions import EvidenceError, NetworkSpecError

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
        test_of = self.test_of
        out = {test_of[f] for f in observed if f in test_of}
        pending = list(out)
        while pending:
            for req in self.tests[pending.pop()].requires:
                if req not in out:
                    out.add(req)
                    pending.append(req)
        return out

    def needed(self, test: str, done: set[str]) -> set[str]:
        """``test`` and its not-yet-done prerequisites (recursively)."""
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
        """Cost of doing ``test`` now: its own cost plus prerequisites not yet done."""
        if test not in self.tests:
            raise EvidenceError(unknown_message("test", test, self.tests))
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
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise NetworkSpecError(f"{where}: cost must be a positive number, got {value!r}")
    if not np.isfinite(value):
        raise NetworkSpecError(f"{where}: cost must be finite, got {value!r}")
    return float(value)


def _read_test(name: str, entry: Any, where: str) -> DiagnosticTest:
    if not isinstance(entry, Mapping):
        raise NetworkSpecError(f"{where}: test {name!r} must be a mapping")
    allowed = {
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
    }
    for key in entry:
        if key not in allowed:
            raise NetworkSpecError(
                f"{where}, test {name!r}: " + unknown_message("key", key, allowed)
            )
    category = entry.get("category", "other")
    if category not in CATEGORIES:
        raise NetworkSpecError(
            f"{where}, test {name!r}: " + unknown_message("category", category, CATEGORIES)
        )
    invasiveness = entry.get("invasiveness", "none")
    if invasiveness not in INVASIVENESS:
        raise NetworkSpecError(
            f"{where}, test {name!r}: "
            + unknown_message("invasiveness", invasiveness, INVASIVENESS)
        )
    basis = entry.get("basis")
    if basis == "assumption":
        if not entry.get("reason"):
            raise NetworkSpecError(f"{where}, test {name!r}: basis 'assumption' needs a reason")
    elif basis in ("stated_number", "verbal_term", "clinical_inference"):
        if not entry.get("source") or not entry.get("locator"):
            raise NetworkSpecError(
                f"{where}, test {name!r}: basis {basis!r} needs a source and a locator"
            )
    else:
        raise NetworkSpecError(
            f"{where}, test {name!r}: "
            + unknown_message(
                "basis", basis, ["stated_number", "verbal_term", "clinical_inference", "assumption"]
            )
        )
    return DiagnosticTest(
        name=name,
        label=str(entry.get("label", name)),
        category=category,
        findings=tuple(entry.get("findings") or ()),
        cost=_positive_cost(entry.get("cost"), f"{where}, test {name!r}"),
        invasiveness=invasiveness,
        requires=tuple(entry.get("requires") or ()),
        basis=basis,
        source=entry.get("source"),
        locator=entry.get("locator"),
        reason=entry.get("reason"),
    )


def load_test_costs(path: str | Path | None = None, *, net: Network | None = None) -> WorkupCosts:
    """Read a test-cost file (default: ``test_costs.yaml`` of ``net``'s folder).

    Parameters
    ----------
    path : str or Path, optional
        A YAML file with ``unit`` and ``tests`` (see ``networks/default/test_costs.yaml``).
    net : Network, optional
        When given, every finding and source id is checked against it, and ``path``
        defaults to the network folder's ``test_costs.yaml``.

    Raises
    ------
    NetworkSpecError
        Missing file, unknown key, category, finding, test or source; a finding in two
        tests; a non-positive cost; an assumption without a reason.
    """
    if path is None:
        from .spec import default_network_path

        folder = net.spec.path if net is not None else None
        path = (folder if folder is not None else default_network_path()) / "test_costs.yaml"
    path = Path(path)
    if not path.is_file():
        raise NetworkSpecError(f"{path}: no such test-cost file")
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, Mapping) or not isinstance(data.get("tests"), Mapping):
        raise NetworkSpecError(f"{path}: expected a mapping with 'unit' and 'tests'")
    tests = {str(n): _read_test(str(n), e, str(path)) for n, e in data["tests"].items()}
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
    return WorkupCosts(tests, unit=str(data.get("unit", "relative cost")))


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
