"""The case library: published cases stored as YAML (``networks/cases/``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ._params import NONE, Check, validate_params
from ._rows import described
from ._safe_yaml import path_kind, read_data_file
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
    """One published case: its final diagnosis, findings and citation.

    A finding's value is a state, or a tuple of states when the source allows several
    (a set of states: the finding is one of them).
    """

    id: str
    diagnosis: str
    citation: str
    confirmation: str
    findings: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
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


def _read(path: Path, root: Path | None = None) -> list[Case]:
    data = read_data_file(path, root)
    data = [] if data is None else data
    if not isinstance(data, list):
        raise NetworkSpecError(f"{path}: expected a list of cases, got {described(data)}")
    out = []
    for i, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise NetworkSpecError(f"{path}: case {i}: expected a mapping, got {described(entry)}")
        for key in ("id", "diagnosis", "citation"):
            value = entry.get(key)
            if not value or not isinstance(value, str | int) or isinstance(value, bool):
                raise NetworkSpecError(
                    f"{path}: case {i}: field {key!r} is missing or not text, got {described(value)}"
                )
        where = f"{path}: case {str(entry['id'])!r}"
        for key in ("confirmation", "notes"):
            if not isinstance(entry.get(key, ""), str | type(None)):
                raise NetworkSpecError(
                    f"{where}: field {key!r} must be text, got {described(entry[key])}"
                )
        findings: Any = entry.get("findings") or {}
        if not isinstance(findings, dict):
            raise NetworkSpecError(
                f"{where}: 'findings' must be a mapping, got {described(findings)}"
            )
        for name, value in findings.items():
            is_set = isinstance(value, list) and all(isinstance(v, str) for v in value)
            if not isinstance(name, str) or not (isinstance(value, str) or is_set):
                raise NetworkSpecError(
                    f"{where}: finding {name!r} has non-text name or value {described(value)} "
                    "(a state, or a list of states when the source allows several; quote "
                    "'yes' and 'no')"
                )
            if is_set and not value:
                raise NetworkSpecError(f"{where}: finding {name!r} is an empty list of states")
        out.append(
            Case(
                id=str(entry["id"]),
                diagnosis=str(entry["diagnosis"]),
                citation=str(entry["citation"]),
                confirmation=str(entry.get("confirmation") or ""),
                findings={k: tuple(v) if isinstance(v, list) else v for k, v in findings.items()},
                notes=str(entry.get("notes") or ""),
                file=str(path),
            )
        )
    return out


@validate_params({"path": [Check(lambda p: isinstance(p, str | Path), "a str or Path"), NONE]})
def load_cases(path: str | Path | None = None) -> tuple[Case, ...]:
    """Load cases from a YAML file or every ``*.yaml`` in a folder (None: the library).

    Files are read with the limits of network files (regular files only, 5 MB, no
    YAML anchors); a malformed file raises
    :class:`~softcalc_bayes.exceptions.NetworkSpecError` naming it.

    Examples
    --------
    >>> cases = load_cases()
    >>> len(cases) >= 60
    True
    """
    where = default_cases_path() if path is None else Path(path)
    folder = path_kind(where) == "folder"
    files = sorted(where.glob("*.yaml")) if folder else [where]
    if not files or path_kind(files[0]) == "missing":
        raise NetworkSpecError(f"{where}: no case files found")
    root = where.resolve() if folder else None
    cases = [case for f in files for case in _read(f, root)]
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
