"""Read one YAML data file of a network folder, within fixed limits.

Network folders are data that people edit and exchange, so a file is read only if:

- it is a regular file (not a folder, FIFO, socket or device) and, after following
  any symbolic link, lies inside the folder being loaded;
- it is at most :data:`MAX_FILE_BYTES` long and valid UTF-8;
- its YAML uses no anchors or aliases (network files never need them, and alias
  expansion is how a few hundred bytes become gigabytes) and repeats no key within a
  mapping (YAML would silently keep the last), nests at most
  :data:`MAX_DEPTH` levels, has at most :data:`MAX_EVENTS` parser events, no scalar
  longer than :data:`MAX_SCALAR_CHARS` characters and no unquoted number longer than
  :data:`MAX_NUMBER_CHARS` characters.

A file's parsed data is remembered, keyed by a hash of its bytes (:data:`MEMO_MAX_FILES`
files and :data:`MEMO_MAX_BYTES` bytes at most, most recent kept, held pickled so
that every read returns fresh objects): reloading a folder after editing one file
parses only that file. The file checks above run on every read; only the parse of
identical, already accepted bytes is skipped, and failures are never remembered.

The document is built in one pass over the parser's event stream (libyaml's C parser
through ``yaml.CSafeLoader`` when present, else ``yaml.SafeLoader``), with the limits
checked as it goes: scalars are resolved exactly as :func:`yaml.safe_load` resolves them
(strings, numbers, booleans, null, dates), and no other tag is accepted, so only plain
data can come out; no recursion is involved however deep the input. Every failure is a
:class:`~softcalc_bayes.exceptions.NetworkSpecError` naming the file.
"""

from __future__ import annotations

import errno
import hashlib
import os
import pickle
import stat
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import yaml

from ._validation import shown
from .exceptions import NetworkSpecError

__all__ = [
    "MAX_DEPTH",
    "MAX_EVENTS",
    "MAX_FILE_BYTES",
    "MAX_NUMBER_CHARS",
    "MAX_SCALAR_CHARS",
    "MEMO_MAX_BYTES",
    "MEMO_MAX_FILES",
    "path_kind",
    "read_data_file",
]

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 32
MAX_EVENTS = 500_000
MAX_SCALAR_CHARS = 20_000
MAX_NUMBER_CHARS = 40
MEMO_MAX_FILES = 256
MEMO_MAX_BYTES = 32 * 1024 * 1024
_MEMO: OrderedDict[bytes, bytes] = OrderedDict()  # hash of a file's bytes -> pickled data
_MEMO_LOCK = threading.Lock()
_memo_bytes = 0

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


def path_kind(path: Path) -> str:
    """``"folder"``, ``"file"`` (anything else that exists) or ``"missing"``.

    A path the system cannot even look up (too long, a NUL byte) is a
    :class:`NetworkSpecError`, not an ``OSError``.

    Examples
    --------
    >>> path_kind(Path("/"))
    'folder'
    """
    try:
        if path.is_dir():
            return "folder"
        return "file" if path.exists() or path.is_symlink() else "missing"
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise NetworkSpecError(f"{shown(str(path))}: cannot be looked up ({reason})") from None


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


def _line(event: Any) -> str:
    mark = getattr(event, "start_mark", None)
    return "?" if mark is None else str(mark.line + 1)


_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp"))
_CONSTRUCTORS = {
    _TAG + t: f"construct_yaml_{t}" for t in ("int", "float", "bool", "null", "timestamp")
}
# implicit tag of a short plain scalar: (text, implicit flags) -> tag (values repeat a lot)
_RESOLVED: dict[tuple[str, Any], str] = {}
_RESOLVED_MAX = 65_536


class _Builder:
    """Builds plain data from the parser's events in one pass, with every limit checked.

    It does what ``yaml.safe_load`` does for the documents network files hold (mappings,
    sequences, strings, numbers, booleans, null, dates), without recursion and without
    the generic constructor; anything else (anchors, aliases, tags, merge keys,
    collections as keys, duplicate keys) is refused with the line where it occurs.
    """

    def __init__(self, loader: Any, path: Path) -> None:
        self.loader = loader
        self.path = path
        # one frame per open collection: [container, pending key or _NO_KEY, start event]
        self.stack: list[list[Any]] = []
        self.root: Any = None
        self.done = False

    def fail(self, event: Any, problem: str) -> NetworkSpecError:
        return NetworkSpecError(f"{self.path}, line {_line(event)}: {problem}")

    def scalar(self, event: Any) -> Any:
        value: str = event.value
        if len(value) > MAX_SCALAR_CHARS:
            raise self.fail(
                event,
                f"a value of {len(value)} characters, more than the limit of {MAX_SCALAR_CHARS}",
            )
        tag = event.tag
        if tag is None or tag == "!":
            key = (value, event.implicit)
            tag = _RESOLVED.get(key)
            if tag is None:  # the resolver's regular expressions, once per distinct value
                tag = self.loader.resolve(yaml.ScalarNode, value, event.implicit)
                if len(value) <= 64 and len(_RESOLVED) < _RESOLVED_MAX:  # bounded memory
                    _RESOLVED[key] = tag
        if tag not in _SCALAR_TAGS:
            raise self.fail(
                event, f"not valid YAML: the tag {tag!r} is not allowed in network files"
            )
        if tag == _TAG + "str":
            return value
        if len(value) > MAX_NUMBER_CHARS:
            raise self.fail(
                event,
                f"a number written with {len(value)} characters, more than the limit of "
                f"{MAX_NUMBER_CHARS}",
            )
        node = yaml.ScalarNode(tag, value, event.start_mark, event.end_mark, event.style)
        return getattr(self.loader, _CONSTRUCTORS[tag])(node)

    def add(self, value: Any, event: Any) -> None:
        """Put a finished node into the open collection (or make it the document)."""
        if not self.stack:
            self.root, self.done = value, True
            return
        frame = self.stack[-1]
        container = frame[0]
        if isinstance(container, list):
            container.append(value)
        elif frame[1] is _NO_KEY:
            if isinstance(value, dict | list):
                raise self.fail(event, "a mapping or list used as a key is not allowed")
            if value in container:
                raise self.fail(
                    event,
                    f"key {value!r} appears twice in one mapping (YAML would silently keep only "
                    "the last)",
                )
            frame[1] = value
        else:
            container[frame[1]] = value
            frame[1] = _NO_KEY

    def feed(self, event: Any) -> None:
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise self.fail(
                event,
                "YAML anchors and aliases (&name, *name) are not allowed in network files; "
                "write the value out",
            )
        if isinstance(event, yaml.ScalarEvent):
            self.add(self.scalar(event), event)  # a merge key (<<) has a tag not allowed
        elif isinstance(event, _OPENS):
            if event.tag not in (None, "!", _TAG + "map", _TAG + "seq"):
                raise self.fail(
                    event, f"not valid YAML: the tag {event.tag!r} is not allowed in network files"
                )
            if len(self.stack) >= MAX_DEPTH:
                raise self.fail(event, f"nested more than {MAX_DEPTH} levels deep")
            container: Any = {} if isinstance(event, yaml.MappingStartEvent) else []
            self.stack.append([container, _NO_KEY, event])
        elif isinstance(event, _CLOSES):
            container = self.stack.pop()[0]
            self.add(container, event)
        elif isinstance(event, yaml.DocumentStartEvent) and self.done:
            raise self.fail(event, "not valid YAML: a network file holds one document")


_NO_KEY = object()


def _build(text: str, path: Path) -> Any:
    loader = _LOADER(text)
    builder = _Builder(loader, path)
    try:
        count = 0
        while loader.check_event():
            count += 1
            if count > MAX_EVENTS:
                raise NetworkSpecError(f"{path}: more than {MAX_EVENTS} YAML elements")
            builder.feed(loader.get_event())
    finally:
        loader.dispose()
    return builder.root


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
    key = hashlib.blake2b(raw, digest_size=20).digest()
    with _MEMO_LOCK:
        blob = _MEMO.get(key)
        if blob is not None:
            _MEMO.move_to_end(key)
    if blob is not None:
        return pickle.loads(blob)  # our own bytes, pickled below from plain data
    data = _parse(raw, path)
    _remember(key, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
    return data


def _remember(key: bytes, blob: bytes) -> None:
    """Keep ``blob`` under ``key``, dropping the least recently used past the caps."""
    global _memo_bytes
    if len(blob) > MEMO_MAX_BYTES // 4:
        return
    with _MEMO_LOCK:
        if key in _MEMO:
            return
        _MEMO[key] = blob
        _memo_bytes += len(blob)
        while len(_MEMO) > MEMO_MAX_FILES or _memo_bytes > MEMO_MAX_BYTES:
            _memo_bytes -= len(_MEMO.popitem(last=False)[1])


def _parse(raw: bytes, path: Path) -> Any:
    """The plain data of a file's bytes (every limit of this module checked)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NetworkSpecError(
            f"{path}: not UTF-8 text (byte {exc.start}: {raw[exc.start : exc.start + 1]!r})"
        ) from None
    try:
        return _build(text, path)
    except NetworkSpecError:
        raise
    except yaml.YAMLError as exc:  # on one line: "... in <unicode string>, line 3, column 7"
        raise NetworkSpecError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
    except (ValueError, OverflowError, RecursionError, MemoryError) as exc:
        raise NetworkSpecError(f"{path}: cannot be read as YAML data ({exc})") from None
