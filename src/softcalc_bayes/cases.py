"""The case library: published cases stored as YAML (``networks/cases/``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .exceptions import NetworkSpecError
from .spec import default_network_path

__all__ = [
    "Case",
    "cases_frame",
    "default_cases_path",
    "holdout_cases_path",
    "load_cases",
    "load_examples",
]


@dataclass(frozen=True)
class Case:
    """One published case: its final diagnosis, findings and citation."""

    id: str
    diagnosis: str
    citation: str
    confirmation: str
    findings: Mapping[str, str] = field(default_factory=dict)
    notes: str = ""
    file: str = ""


def default_cases_path() -> Path:
    """Folder of the packaged case library."""
    return default_network_path().parent / "cases"


def holdout_cases_path() -> Path:
    """Folder of the packaged held-out cases (collected after the knowledge was written).

    They are kept apart from :func:`default_cases_path` and reported separately; see
    ``networks/holdout/README.md``.
    """
    return default_network_path().parent / "holdout"


def _read(path: Path) -> list[Case]:
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or []
    if not isinstance(data, list):
        raise NetworkSpecError(f"{path}: expected a list of cases")
    out = []
    for i, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise NetworkSpecError(f"{path}: case {i}: expected a mapping")
        for key in ("id", "diagnosis", "citation"):
            if not entry.get(key):
                raise NetworkSpecError(f"{path}: case {entry.get('id', i)!r}: missing {key!r}")
        findings: Any = entry.get("findings") or {}
        if not isinstance(findings, dict):
            raise NetworkSpecError(f"{path}: case {entry['id']!r}: 'findings' must be a mapping")
        for name, value in findings.items():
            if not isinstance(value, str):
                raise NetworkSpecError(
                    f"{path}: case {entry['id']!r}: finding {name!r} has non-text value {value!r} "
                    "(quote 'yes' and 'no')"
                )
        out.append(
            Case(
                id=str(entry["id"]),
                diagnosis=str(entry["diagnosis"]),
                citation=str(entry["citation"]),
                confirmation=str(entry.get("confirmation", "")),
                findings=dict(findings),
                notes=str(entry.get("notes", "")),
                file=str(path),
            )
        )
    return out


def load_cases(path: str | Path | None = None) -> tuple[Case, ...]:
    """Load cases from a YAML file or every ``*.yaml`` in a folder (None: the library).

    Examples
    --------
    >>> cases = load_cases()
    >>> len(cases) >= 60
    True
    """
    where = default_cases_path() if path is None else Path(path)
    files = sorted(where.glob("*.yaml")) if where.is_dir() else [where]
    if not files or not files[0].exists():
        raise NetworkSpecError(f"{where}: no case files found")
    cases = [case for f in files for case in _read(f)]
    seen: set[str] = set()
    for case in cases:
        if case.id in seen:
            raise NetworkSpecError(f"{case.file}: case id {case.id!r} is used twice")
        seen.add(case.id)
    return tuple(cases)


def load_examples() -> tuple[Case, ...]:
    """The built-in example cases of the default network (the seed case reports)."""
    return tuple(_read(default_network_path() / "examples.yaml"))


def cases_frame(cases: Iterable[Case]) -> pd.DataFrame:
    """Findings of ``cases`` as a DataFrame (index: case id; NaN = not observed)."""
    cases = list(cases)
    frame = pd.DataFrame([dict(c.findings) for c in cases], index=[c.id for c in cases])
    frame.index.name = "case"
    return frame.astype(object).where(frame.notna(), None)
