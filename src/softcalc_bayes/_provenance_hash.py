"""Content hashes that tie a result to the exact knowledge that produced it.

A network folder is hashed over the files the loader reads (``network.yaml``,
``diagnosis.yaml``, ``profiles.yaml``, ``verbal_scale.yaml``, ``constraints.yaml``,
``sources/*.yaml``, ``nodes/*.yaml``): SHA-256 over each file's relative POSIX path and
its bytes, in sorted path order, with CRLF line ends read as LF so that a checkout on
any machine gives the same hash. Case files (``examples.yaml``) are not knowledge and
are left out. A network built in memory (imported from another tool) is hashed over
its canonical content instead: node names, states, parents and the IEEE-754 bytes of
every table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "KNOWLEDGE_FILES",
    "content_hash",
    "folder_files",
    "library_version",
    "result_attrs",
    "stamp",
    "tables_hash",
]

KNOWLEDGE_FILES = (
    "network.yaml",
    "diagnosis.yaml",
    "profiles.yaml",
    "verbal_scale.yaml",
    "constraints.yaml",
    "sources/*.yaml",
    "nodes/*.yaml",
)
_PREFIX = "sha256:"
_Table = TypeVar("_Table", "pd.DataFrame", "pd.Series")


def folder_files(folder: str | Path) -> list[Path]:
    """The knowledge files of a network folder, in the (sorted) order they are hashed."""
    root = Path(folder)
    found = {p for pattern in KNOWLEDGE_FILES for p in root.glob(pattern) if p.is_file()}
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def content_hash(folder: str | Path) -> str:
    """SHA-256 of a network folder's knowledge files, as ``"sha256:<hex>"``.

    Examples
    --------
    >>> from softcalc_bayes.spec import default_network_path
    >>> h = content_hash(default_network_path())
    >>> h.startswith("sha256:"), len(h)
    (True, 71)
    """
    root = Path(folder)
    digest = hashlib.sha256()
    for path in folder_files(root):
        data = path.read_bytes().replace(b"\r\n", b"\n")
        _update(digest, path.relative_to(root).as_posix().encode(), data)
    return _PREFIX + digest.hexdigest()


def tables_hash(nodes: Iterable[Any]) -> str:
    """SHA-256 over names, states, parents and table bytes of nodes (in the given order).

    Examples
    --------
    >>> from softcalc_bayes.spec import load_spec
    >>> tables_hash(load_spec().nodes.values()).startswith("sha256:")
    True
    """
    digest = hashlib.sha256()
    for node in nodes:
        header = "\x1f".join([node.name, *node.states, "|", *node.parents]).encode()
        table = np.ascontiguousarray(node.cpt, dtype="<f8").tobytes()
        _update(digest, header, table)
    return _PREFIX + digest.hexdigest()


def _update(digest: Any, *parts: bytes) -> None:
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)


def library_version() -> str:
    """The installed softcalc-bayes version (``"unknown"`` when not installed)."""
    import importlib.metadata  # not at import time: it costs tens of milliseconds

    try:
        return importlib.metadata.version("softcalc-bayes")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - source tree only
        return "unknown"


def result_attrs(spec: Any) -> dict[str, str]:
    """What every result table carries in ``.attrs``: network, hash, profile, version.

    Examples
    --------
    >>> from softcalc_bayes.spec import load_spec
    >>> sorted(result_attrs(load_spec()))
    ['content_hash', 'network', 'network_version', 'profile', 'softcalc_version']
    """
    return {
        "network": str(spec.name),
        "network_version": str(spec.version),
        "content_hash": str(getattr(spec, "content_hash", "") or tables_hash(spec.nodes.values())),
        "profile": str(spec.profile),
        "softcalc_version": library_version(),
    }


def stamp(table: _Table, spec: Any, extra: Mapping[str, Any] | None = None) -> _Table:
    """Set :func:`result_attrs` (and ``extra``) on a pandas object's ``.attrs``; return it."""
    table.attrs.update(result_attrs(spec))
    if extra:
        table.attrs.update(extra)
    return table
