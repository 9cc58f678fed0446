"""Read one YAML data file of a network folder, within fixed limits.

Network folders are data that people edit and exchange, so a file is read only if:

- it is a regular file (not a folder, FIFO, socket or device) and, after following
  any symbolic link, lies inside the folder being loaded;
- it is at most :data:`MAX_FILE_BYTES` long and valid UTF-8;
- its YAML uses no anchors or aliases (network files never need them, and alias
  expansion is how a few hundred bytes become gigabytes), nests at most
  :data:`MAX_DEPTH` levels, has at most :data:`MAX_EVENTS` parser events, no scalar
  longer than :data:`MAX_SCALAR_CHARS` characters and no unquoted number longer than
  :data:`MAX_NUMBER_CHARS` characters.

The limits are checked on the parser's event stream (libyaml's C parser when it is
available), before anything is built; the document is then built by the safe loader
(``yaml.CSafeLoader`` if present, else ``yaml.SafeLoader``: plain data only, never
Python objects). Every failure is a
:class:`~softcalc_bayes.exceptions.NetworkSpecError` naming the file.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any

import yaml

from .exceptions import NetworkSpecError

__all__ = [
    "MAX_DEPTH",
    "MAX_EVENTS",
    "MAX_FILE_BYTES",
    "MAX_NUMBER_CHARS",
    "MAX_SCALAR_CHARS",
    "read_data_file",
]

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 32
MAX_EVENTS = 500_000
MAX_SCALAR_CHARS = 20_000
MAX_NUMBER_CHARS = 40

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OPENS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSES = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
_NUMERIC_START = frozenset("0123456789+-.")


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def _is_link(path: Path) -> bool:
    """Whether ``path`` is a symbolic link (False if it does not exist at all)."""
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        return False


def _open_regular(path: Path, root: Path | None) -> bytes:
    """The bytes of ``path`` if it is a regular file (inside ``root``), within the size cap."""
    try:
        linked = stat.S_ISLNK(os.lstat(path).st_mode)
        real = path.resolve(strict=True)
    except FileNotFoundError:
        if _is_link(path):
            raise NetworkSpecError(f"{path}: a symbolic link to a missing file") from None
        raise NetworkSpecError(f"{path}: file not found") from None
    except (OSError, RuntimeError):
        raise NetworkSpecError(
            f"{path}: cannot be resolved (a symbolic link loop, or no permission)"
        ) from None
    if root is not None and not _inside(real, root):
        what = "a symbolic link leading" if linked else "a file resolving"
        raise NetworkSpecError(
            f"{path}: {what} out of the network folder {root} (to {real}); "
            "network files must lie inside the folder"
        )
    # O_NONBLOCK: opening a FIFO never blocks; fstat then tells what was opened.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(real, flags)
    except OSError as exc:
        if exc.errno == errno.EISDIR:
            raise NetworkSpecError(f"{path}: is a folder, not a file") from None
        raise NetworkSpecError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise NetworkSpecError(f"{path}: is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise NetworkSpecError(
                f"{path}: not a regular file (a FIFO, socket or device); network files must be "
                "plain files"
            )
        if info.st_size > MAX_FILE_BYTES:
            raise NetworkSpecError(
                f"{path}: {info.st_size} bytes, more than the limit of {MAX_FILE_BYTES} bytes "
                f"({MAX_FILE_BYTES // 2**20} MB) for one network file"
            )
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise NetworkSpecError(f"{path}: cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise NetworkSpecError(
            f"{path}: more than the limit of {MAX_FILE_BYTES} bytes for one network file"
        )
    return data


def _check_events(text: str, path: Path) -> None:
    """Refuse anchors, aliases, deep nesting, floods of events and oversized scalars."""
    depth = 0
    for count, event in enumerate(yaml.parse(text, Loader=_LOADER)):
        if count > MAX_EVENTS:
            raise NetworkSpecError(f"{path}: more than {MAX_EVENTS} YAML elements")
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            line = event.start_mark.line + 1 if event.start_mark is not None else "?"
            raise NetworkSpecError(
                f"{path}, line {line}: YAML anchors and aliases (&name, *name) are not allowed "
                "in network files; write the value out"
            )
        if isinstance(event, _OPENS):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark is not None else "?"
                raise NetworkSpecError(
                    f"{path}, line {line}: nested more than {MAX_DEPTH} levels deep"
                )
        elif isinstance(event, _CLOSES):
            depth -= 1
        elif isinstance(event, yaml.ScalarEvent):
            value = event.value
            line = event.start_mark.line + 1 if event.start_mark is not None else "?"
            if len(value) > MAX_SCALAR_CHARS:
                raise NetworkSpecError(
                    f"{path}, line {line}: a value of {len(value)} characters, more than the "
                    f"limit of {MAX_SCALAR_CHARS}"
                )
            plain = event.style is None or event.style == ""
            if plain and len(value) > MAX_NUMBER_CHARS and value[:1] in _NUMERIC_START:
                if value.replace("_", "").lstrip("+-").replace(".", "", 1).isdigit():
                    raise NetworkSpecError(
                        f"{path}, line {line}: a number written with {len(value)} characters, "
                        f"more than the limit of {MAX_NUMBER_CHARS}"
                    )


def read_data_file(path: Path, root: Path | None = None) -> Any:
    """Parse the YAML file ``path`` (inside the folder ``root``) as plain data.

    Raises
    ------
    NetworkSpecError
        If the file is not a regular file inside ``root``, is too large, is not UTF-8
        or not valid YAML, or breaks one of the limits of this module.

    Examples
    --------
    >>> from softcalc_bayes.spec import default_network_path
    >>> folder = default_network_path()
    >>> read_data_file(folder / "network.yaml", folder.resolve())["target"]
    'diagnosis'
    """
    raw = _open_regular(path, root)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NetworkSpecError(
            f"{path}: not UTF-8 text (byte {exc.start}: {raw[exc.start : exc.start + 1]!r})"
        ) from None
    try:
        _check_events(text, path)
        return yaml.load(text, Loader=_LOADER)  # a safe loader (no Python objects)
    except NetworkSpecError:
        raise
    except yaml.YAMLError as exc:
        raise NetworkSpecError(f"{path}: not valid YAML: {exc}") from None
    except (ValueError, OverflowError, RecursionError, MemoryError) as exc:
        raise NetworkSpecError(f"{path}: cannot be read as YAML data ({exc})") from None
