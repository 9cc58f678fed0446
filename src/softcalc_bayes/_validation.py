"""The message shape of every validation error (used by the validator and the queries).

Messages follow one pattern::

    Unknown finding 'fat'. Did you mean 'fat_in_lesion'? Valid findings: age_group, ...
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

_MAX_LISTED = 60


def closest(name: str, choices: Iterable[str]) -> str | None:
    """Return the closest match of ``name`` among ``choices`` (or None).

    Examples
    --------
    >>> closest("fat", ["fat_in_lesion", "sex"])
    'fat_in_lesion'
    """
    options = list(choices)
    hits = difflib.get_close_matches(name, options, n=1, cutoff=0.5)
    if hits:
        return hits[0]
    prefix = [o for o in options if o.startswith(name) or name.startswith(o)]
    if prefix:
        return prefix[0]
    contains = [o for o in options if name and name in o]
    return contains[0] if contains else None


def unknown_message(what: str, name: object, choices: Iterable[str]) -> str:
    """Format the one message shape for an unknown name.

    Examples
    --------
    >>> unknown_message("finding", "fat", ["fat_in_lesion", "sex"])
    "Unknown finding 'fat'. Did you mean 'fat_in_lesion'? Valid findings: fat_in_lesion, sex"
    """
    options = list(choices)
    hint = closest(str(name), options)
    listed = ", ".join(options[:_MAX_LISTED]) + (" ..." if len(options) > _MAX_LISTED else "")
    plural = what + ("es" if what.endswith(("s", "sh", "ch")) else "s")
    msg = f"Unknown {what} {name!r}."
    if hint is not None:
        msg += f" Did you mean {hint!r}?"
    return f"{msg} Valid {plural}: {listed}"
