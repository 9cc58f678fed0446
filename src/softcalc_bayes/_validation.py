"""The message shape of every validation error (used by the validator and the queries).

Messages follow one pattern::

    Unknown finding 'fat'. Did you mean 'fat_in_lesion'? Valid findings: age_group, ...
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

_MAX_LISTED = 60
_MAX_NAME = 80  # longer names are cut in messages and get no close match (difflib is quadratic)


def closest(name: str, choices: Iterable[str]) -> str | None:
    """Return the closest match of ``name`` among ``choices`` (or None).

    Examples
    --------
    >>> closest("fat", ["fat_in_lesion", "sex"])
    'fat_in_lesion'
    """
    options = [o for o in choices if isinstance(o, str)]
    if len(name) > _MAX_NAME:
        return None
    hits = difflib.get_close_matches(name, options, n=1, cutoff=0.5)
    if hits:
        return hits[0]
    prefix = [o for o in options if o.startswith(name) or name.startswith(o)]
    if prefix:
        return prefix[0]
    contains = [o for o in options if name and name in o]
    return contains[0] if contains else None


def shown(value: object) -> str:
    """``repr(value)``, cut to a readable length for an error message.

    Examples
    --------
    >>> shown("x" * 200)[-5:], len(shown("x" * 200))
    ('xx...', 80)
    """
    text = repr(value)
    return text if len(text) <= _MAX_NAME else text[: _MAX_NAME - 3] + "..."


def _plural(noun: str) -> str:
    """The plural of ``noun`` (each side of an "or"), for the nouns messages use.

    Examples
    --------
    >>> [_plural(w) for w in ("finding", "diagnosis", "basis", "category", "criterion", "key")]
    ['findings', 'diagnoses', 'bases', 'categories', 'criteria', 'keys']
    >>> [_plural(w) for w in ("strategy", "class", "diagnosis or group", "source id")]
    ['strategies', 'classes', 'diagnoses or groups', 'source ids']
    """
    if " or " in noun:
        return " or ".join(_plural(part) for part in noun.split(" or "))
    if noun.endswith("is"):  # diagnosis -> diagnoses, basis -> bases
        return noun[:-2] + "es"
    if noun.endswith("criterion"):
        return noun[:-2] + "a"
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "i", "o", "u"):
        return noun[:-1] + "ies"
    return noun + ("es" if noun.endswith(("s", "sh", "ch", "x")) else "s")


def unknown_message(what: str, name: object, choices: Iterable[str]) -> str:
    """Format the one message shape for an unknown name.

    Examples
    --------
    >>> unknown_message("finding", "fat", ["fat_in_lesion", "sex"])
    "Unknown finding 'fat'. Did you mean 'fat_in_lesion'? Valid findings: fat_in_lesion, sex"
    """
    options = [str(o) for o in choices]
    hint = closest(str(name), options) if isinstance(name, str) else None
    listed = ", ".join(options[:_MAX_LISTED]) + (" ..." if len(options) > _MAX_LISTED else "")
    plural = _plural(what)
    msg = f"Unknown {what} {shown(name)}."
    if hint is not None:
        msg += f" Did you mean {hint!r}?"
    return f"{msg} Valid {plural}: {listed}"
