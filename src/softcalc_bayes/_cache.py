"""A disk cache of validated network specs, keyed by a hash of the folder's contents.

Reading and validating the default network takes a few hundred milliseconds, most
of it building Python objects from YAML; unpickling the validated
:class:`~softcalc_bayes.spec.NetworkSpec` takes a few. :func:`load_spec_cached`
returns exactly what :func:`~softcalc_bayes.spec.load_spec` returns, and falls back
to it whenever the cache cannot be used safely:

- the key hashes the bytes and relative names of every ``*.yaml`` file of the
  folder, the folder's resolved path, the profile, the Python and numpy versions
  and the size and time stamp of the library's own modules, so an edited network
  file or an edited (or upgraded) library is never served a stale spec;
- only a valid network is cached; every error comes from a fresh
  :func:`~softcalc_bayes.spec.load_spec`;
- a folder holding anything but plain files under ``*.yaml`` names (a symbolic
  link, a FIFO, a folder), more than :data:`MAX_FILES` of them or more than
  :data:`MAX_BYTES` in total is not cached, and is left to ``load_spec`` to judge;
- a cache entry is read only if it and its folder belong to the current user and
  are writable by no one else (it is a pickle); an unreadable or corrupt entry is
  deleted and the network loaded afresh.

The cache lives in ``$SOFTCALC_CACHE_DIR``, else ``$XDG_CACHE_HOME/softcalc-bayes``,
else ``~/.cache/softcalc-bayes``, and keeps the :data:`MAX_ENTRIES` most recent
entries. ``SOFTCALC_CACHE=0`` turns it off.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import stat
import sys
import tempfile
from pathlib import Path

import numpy as np

from .spec import NetworkSpec, default_network_path, load_spec

__all__ = ["MAX_BYTES", "MAX_ENTRIES", "MAX_FILES", "cache_dir", "load_spec_cached"]

MAX_FILES = 2_000
MAX_BYTES = 64 * 2**20
MAX_ENTRIES = 16
_FORMAT = b"softcalc-spec-cache-2"  # 2: NodeSpec.excluded and .kept
_SUFFIX = ".spec.pickle"
_OFF = frozenset({"0", "false", "no", "off"})


def cache_dir() -> Path:
    """The folder of the spec cache (it need not exist yet)."""
    explicit = os.environ.get("SOFTCALC_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "softcalc-bayes"


@functools.cache
def _code_stamp() -> bytes:
    """Names, sizes and time stamps of the library's modules (stat only, no reads)."""
    package = Path(__file__).resolve().parent
    parts = [sys.version.encode(), np.__version__.encode(), _FORMAT]
    for module in sorted(package.rglob("*.py")):
        info = module.stat()
        parts.append(f"{module.relative_to(package)}:{info.st_size}:{info.st_mtime_ns}".encode())
    return b"\0".join(parts)


def _folder_digest(folder: Path) -> hashlib._Hash | None:
    """Hash of every ``*.yaml`` file under ``folder``, or None if it must not be cached."""
    digest = hashlib.sha256(_code_stamp())
    digest.update(b"\0folder\0" + str(folder).encode(errors="surrogateescape"))
    files, total = 0, 0
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            if not name.endswith((".yaml", ".yml")):
                continue
            path = Path(root, name)
            info = os.lstat(path)
            files += 1
            total += info.st_size
            if not stat.S_ISREG(info.st_mode) or files > MAX_FILES or total > MAX_BYTES:
                return None
            digest.update(b"\0file\0" + str(path.relative_to(folder)).encode())
            digest.update(path.read_bytes())
        for name in dirs:
            if Path(root, name).is_symlink():
                return None
    return digest


def _cache_key(path: str | Path | None, profile: str | None) -> str | None:
    """The cache file name for ``load_spec(path, profile=profile)``, or None if not cacheable."""
    folder = Path(path) if path is not None else default_network_path()
    try:
        if folder.is_file():
            folder = folder.parent
        folder = folder.resolve(strict=True)
        if not (folder / "network.yaml").is_file():
            return None
        digest = _folder_digest(folder)
    except (OSError, RuntimeError, ValueError):
        return None
    if digest is None:
        return None
    # the spec records the path as given: the spelling is part of the key
    digest.update(b"\0call\0" + repr((str(path), profile)).encode(errors="surrogateescape"))
    return digest.hexdigest() + _SUFFIX


def _private(info: os.stat_result) -> bool:
    """Owned by this user and writable by no one else (always true where uids do not exist)."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:  # pragma: no cover - Windows
        return True
    return info.st_uid == getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _read(entry: Path) -> NetworkSpec | None:
    try:
        if not (_private(os.stat(entry.parent)) and _private(os.lstat(entry))):
            return None
        data = entry.read_bytes()
    except OSError:  # no entry yet, or no cache folder
        return None
    try:
        spec = pickle.loads(data)
    except Exception:  # a corrupt or incompatible entry: it is rewritten after a fresh load
        return None
    return spec if isinstance(spec, NetworkSpec) else None


def _write(entry: Path, spec: NetworkSpec) -> None:
    folder = entry.parent
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(os.stat(folder)):
            return
        handle, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=_SUFFIX)
        try:
            with os.fdopen(handle, "wb") as out:
                pickle.dump(spec, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, entry)
        finally:
            Path(tmp).unlink(missing_ok=True)
        old = sorted(folder.glob("*" + _SUFFIX), key=lambda p: p.stat().st_mtime_ns)
        for stale in old[:-MAX_ENTRIES]:
            stale.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        return  # the cache is an optimisation; a read-only home must not break loading


def load_spec_cached(path: str | Path | None = None, *, profile: str | None = None) -> NetworkSpec:
    """:func:`~softcalc_bayes.spec.load_spec`, served from the disk cache when possible.

    Examples
    --------
    >>> from softcalc_bayes.spec import load_spec
    >>> cached = load_spec_cached()
    >>> cached.nodes.keys() == load_spec().nodes.keys()
    True
    """
    if os.environ.get("SOFTCALC_CACHE", "1").strip().lower() in _OFF:
        return load_spec(path, profile=profile)
    name = _cache_key(path, profile)
    if name is None:
        return load_spec(path, profile=profile)
    entry = cache_dir() / name
    spec = _read(entry)
    if spec is None:
        spec = load_spec(path, profile=profile)
        _write(entry, spec)
    return spec
