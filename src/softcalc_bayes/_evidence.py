"""Checking and encoding evidence: hard findings, sets of states, soft findings, DataFrames.

Everything a user passes as evidence goes through here before it reaches the engine,
and every problem becomes an :class:`~softcalc_bayes.exceptions.EvidenceError` in the
one message shape of :mod:`softcalc_bayes._validation`.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ._validation import shown, unknown_message
from .exceptions import EvidenceError

if TYPE_CHECKING:
    import pandas as pd

    from .spec import NetworkSpec, NodeSpec

__all__ = [
    "comma_set",
    "encode_frame",
    "encode_hard",
    "encode_soft",
    "is_missing",
    "is_state_set",
    "state_set_likelihood",
]

Soft = Mapping[str, Any]


def is_state_set(value: Any) -> bool:
    """A list, tuple, set, frozenset or 1-d array: "the finding is one of these states".

    Arrays are what a list cell becomes after a round trip through Parquet.
    """
    if isinstance(value, list | tuple | set | frozenset):
        return True
    return isinstance(value, np.ndarray) and value.ndim == 1


def comma_set(value: str, states: tuple[str, ...]) -> str | tuple[str, ...]:
    """``"state1,state2"`` as a set of states, the way text input writes one (the command
    line, CSV fields); a value without a comma, or that is itself one of ``states``, is
    returned as it is."""
    if "," not in value or value in states:
        return value
    return tuple(value.split(","))


def state_set_likelihood(node: NodeSpec, value: Any, where: str) -> np.ndarray:
    """The 0/1 likelihood of "``node`` is one of the states in ``value``".

    Conditioning on this likelihood is conditioning on the event that the node's state
    lies in the set (exact, not an approximation); a set of one state is the same as
    that state given alone, a set of every state the same as leaving the node out.
    """
    members = sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
    if not members:
        raise EvidenceError(
            f"{where}: an empty set of states; give at least one of {', '.join(node.states)}"
        )
    vec = np.zeros(len(node.states))
    for state in members:
        index = node.states.index(state) if isinstance(state, str) and state in node.states else -1
        if index < 0:
            raise EvidenceError(f"{where}: " + unknown_message("state", state, node.states))
        vec[index] = 1.0
    return vec


def is_missing(value: Any) -> bool:
    """None, NaN or ``pd.NA``: the finding was not observed."""
    if value is None:
        return True
    if type(value) is float:  # the common case (NaN cells of a DataFrame), answered first
        return math.isnan(value)
    pandas = sys.modules.get("pandas")  # pd.NA exists only once pandas is imported
    if pandas is not None and value is pandas.NA:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def observable(spec: NetworkSpec, name: Any, target: str, findings: tuple[str, ...]) -> NodeSpec:
    """The node of an observable finding, or an EvidenceError saying why not."""
    node = spec.nodes.get(name) if isinstance(name, str) else None
    if node is None:
        raise EvidenceError(unknown_message("finding", name, findings))
    if node.kind == "latent":
        raise EvidenceError(
            f"{name!r} is a latent node and cannot be observed; enter its tests "
            f"instead (or give it soft evidence with soft=). Valid findings: {', '.join(findings)}"
        )
    if name == target:
        raise EvidenceError(
            f"Evidence on the target {target!r} itself: remove {name!r} from the "
            "evidence or query another target"
        )
    return node


def encode_hard(
    spec: NetworkSpec,
    evidence: Any,
    target: str,
    findings: tuple[str, ...],
    observable_index: Mapping[str, Mapping[str, int]],
    sets: dict[str, np.ndarray] | None = None,
) -> dict[str, int]:
    """Validate hard evidence and return it as node -> state index (missing dropped).

    ``observable_index`` maps every node that may be observed (all but the latent
    ones) to its state -> index dict; a well-formed pair is looked up there
    directly, and anything else takes the slow path that explains what is wrong.
    A set of states is refused unless ``sets`` is given: then its 0/1 likelihood
    (:func:`state_set_likelihood`) is stored there under the finding's name.
    """
    if not isinstance(evidence, Mapping):
        raise EvidenceError(
            f"Evidence must be a mapping finding -> state, got {type(evidence).__name__}"
        )
    out: dict[str, int] = {}
    for name, value in evidence.items():
        if type(name) is str and type(value) is str and name != target:
            states = observable_index.get(name)
            index = states.get(value) if states is not None else None
            if index is not None:
                out[name] = index
                continue
        if is_missing(value):
            continue
        node = observable(spec, name, target, findings)
        if is_state_set(value) and sets is not None:
            sets[name] = state_set_likelihood(node, value, f"Finding {name!r}")
            continue
        if is_state_set(value):
            listed = ", ".join(shown(v) for v in list(value)[:5]) + (
                ", ..." if len(value) > 5 else ""
            )
            raise EvidenceError(
                f"Finding {name!r}: give one state here, not a set of states "
                f"({listed}); Network.encode gives one state index per finding, while "
                "posterior and the other query and analysis functions accept sets of states"
            )
        index = observable_index[name].get(value) if isinstance(value, str) else None
        if index is None:
            raise EvidenceError(
                f"Finding {name!r}: " + unknown_message("state", value, node.states)
            )
        out[name] = index
    return out


def _likelihoods(node: NodeSpec, given: Any, where: str) -> np.ndarray:
    if not isinstance(given, Mapping):
        raise EvidenceError(
            f"{where}: soft evidence must be a mapping state -> likelihood, "
            f"e.g. {{{node.states[0]!r}: 3, {node.states[1]!r}: 1}}; got {type(given).__name__}"
        )
    vec = np.empty(len(node.states))
    for state in given:
        if state not in node.states:
            raise EvidenceError(f"{where}: " + unknown_message("state", state, node.states))
    missing = [s for s in node.states if s not in given]
    if missing:
        raise EvidenceError(
            f"{where}: give a likelihood for every state; missing {', '.join(missing)} "
            f"(states: {', '.join(node.states)})"
        )
    for i, state in enumerate(node.states):
        value = given[state]
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise EvidenceError(
                f"{where}: the likelihood of {state!r} must be a number, got {value!r}"
            )
        try:
            x = float(value)
        except OverflowError:  # an int beyond the float range, e.g. 10**400
            x = math.inf
        if not math.isfinite(x) or x < 0:
            raise EvidenceError(
                f"{where}: the likelihood of {state!r} must be finite and >= 0, got {shown(value)}"
            )
        vec[i] = x
    peak = vec.max()
    if peak <= 0:
        raise EvidenceError(f"{where}: at least one likelihood must be positive")
    return np.asarray(vec / peak)  # only ratios matter; a maximum of 1 keeps every table <= 1


def encode_soft(
    spec: NetworkSpec, soft: Soft | None, target: str, hard: Mapping[str, int]
) -> dict[str, np.ndarray]:
    """Validate ``soft`` = {node: {state: likelihood}} and return likelihood vectors."""
    if soft is None:
        return {}
    if not isinstance(soft, Mapping):
        raise EvidenceError(
            "soft must be a mapping node -> {state: likelihood}, got " + type(soft).__name__
        )
    out: dict[str, np.ndarray] = {}
    for name, given in soft.items():
        node = spec.nodes.get(name) if isinstance(name, str) else None
        if node is None:
            raise EvidenceError("soft: " + unknown_message("node", name, spec.nodes))
        if name == target:
            raise EvidenceError(
                f"soft: evidence on the target {target!r} itself; query another target"
            )
        if name in hard:
            raise EvidenceError(
                f"soft: {name!r} is also given as a hard finding; give it one way or the other"
            )
        out[name] = _likelihoods(node, given, f"soft evidence on {name!r}")
    return out


def encode_frame(
    spec: NetworkSpec,
    cases: Any,
    target: str,
    findings: tuple[str, ...],
    index: Mapping[str, int],
    *,
    n_jobs: int = 1,
) -> tuple[np.ndarray, dict[str, dict[int, Any]]]:
    """Codes ``(n_cases, n_nodes)`` (uint8: 0 unobserved, state index + 1) of a DataFrame,
    and the cells that hold a set of states.

    A cell holding a list, tuple, set or frozenset (a set of states) is coded 0 here and
    returned as ``{column: {row position: value}}``, for the caller to turn into a
    likelihood; its states are checked there.

    Each column is factorised once (hashing every cell once), and its few distinct
    values are mapped to state indices, so plain string columns with NaN for
    unobserved findings encode at about the cost of one hash per cell. With
    ``n_jobs > 1`` long frames factorise their columns on that many threads (the
    hashing releases the GIL); the first bad value in column order is reported
    either way.
    """
    import pandas as pd

    if not isinstance(cases, pd.DataFrame):
        raise EvidenceError(f"cases must be a pandas DataFrame, got {type(cases).__name__}")
    duplicated = cases.columns[cases.columns.duplicated()]
    if len(duplicated):
        raise EvidenceError(f"cases has duplicate columns: {', '.join(map(str, duplicated))}")
    dtype = (
        np.uint8 if max((len(n.states) for n in spec.nodes.values()), default=1) < 255 else np.int32
    )
    # column-major: each finding's codes are written to (and later read from) one
    # contiguous block
    codes = np.zeros((len(cases), len(index)), dtype=dtype, order="F")
    nodes = [observable(spec, column, target, findings) for column in cases.columns]
    small = len(cases) <= _SMALL_FRAME
    sets: list[dict[int, Any]] = [{} for _ in nodes]  # one per column: written by its own thread

    def encode(j: int) -> None:
        column, node = cases.columns[j], nodes[j]
        values = cases[column]  # columns are unique (checked above)
        if small and _encode_small(
            codes, index[column], values, node, column, cases.index, sets[j]
        ):
            return
        codes[:, index[column]] = _encode_column(values, node, column, cases.index, dtype, sets[j])

    if n_jobs > 1 and not small and len(nodes) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(min(n_jobs, len(nodes))) as pool:
            list(pool.map(encode, range(len(nodes))))  # re-raises the first error in order
    else:
        for j in range(len(nodes)):
            encode(j)
    return codes, {str(cases.columns[j]): cells for j, cells in enumerate(sets) if cells}


def _encode_column(
    values: pd.Series,
    node: NodeSpec,
    column: Any,
    rows: pd.Index,
    dtype: type,
    sets: dict[int, Any],
) -> np.ndarray:
    """State index + 1 (0: not observed) of every cell of one column, by factorising.

    Cells holding a set of states are coded 0 and recorded in ``sets`` by row position.
    """
    fast = _encode_arrow(values, node, dtype)
    if fast is not None:
        return fast
    try:
        labels, uniques = _factorize(values)
    except TypeError:  # unhashable cells: lists and sets of states, or bad values
        out: np.ndarray = np.zeros((len(values), 1), dtype=dtype)
        _encode_small(out, 0, values, node, column, rows, sets, strict=True)
        return np.asarray(out[:, 0])
    lookup: np.ndarray = np.zeros(len(uniques) + 1, dtype=dtype)  # slot 0: not observed (label -1)
    for u, value in enumerate(uniques):
        state = node.states.index(value) if isinstance(value, str) and value in node.states else -1
        if state < 0:
            if is_missing(value):
                continue
            if is_state_set(value):  # a tuple or frozenset (hashable)
                for at in np.flatnonzero(labels == u).tolist():
                    sets[at] = value
                continue
            row = int(np.flatnonzero(labels == u)[0])
            raise EvidenceError(
                f"Row {rows[row]!r}, column {column!r}: "
                + unknown_message("state", value, node.states)
            )
        lookup[u + 1] = state + 1
    return np.asarray(lookup[labels + 1])


_SMALL_FRAME = 512  # below this many rows a dict lookup per cell beats factorising


def _encode_small(
    codes: np.ndarray,
    j: int,
    values: pd.Series,
    node: NodeSpec,
    column: Any,
    rows: pd.Index,
    sets: dict[int, Any],
    *,
    strict: bool = False,
) -> bool:
    """Encode a column cell by cell; cells holding a set of states are coded 0 and
    recorded in ``sets``. On an unhashable cell of another kind: False (nothing
    written), or with ``strict`` an EvidenceError naming the row and the type."""
    lookup = {s: i + 1 for i, s in enumerate(node.states)}
    out = np.zeros(len(values), dtype=codes.dtype)
    found: dict[int, Any] = {}
    for i, value in enumerate(values.tolist()):
        if isinstance(value, str):
            code = lookup.get(value)
        elif is_state_set(value):
            found[i] = value
            continue
        elif is_missing(value):
            continue
        elif not _hashable(value):
            if not strict:
                return False  # the factorising path names the row and the type
            raise EvidenceError(
                f"Row {rows[i]!r}, column {column!r}: a cell holds "
                f"{type(value).__name__}, not a state name"
            )
        else:
            code = None
        if code is None:
            raise EvidenceError(
                f"Row {rows[i]!r}, column {column!r}: "
                + unknown_message("state", value, node.states)
            )
        out[i] = code
    codes[:, j] = out
    sets.update(found)
    return True


def _encode_arrow(values: pd.Series, node: NodeSpec, dtype: type) -> np.ndarray | None:
    """Codes of an Arrow-backed string column (pandas' default ``str`` storage), or None.

    ``pyarrow.compute.index_in`` looks every cell up in the node's state names in one
    pass (about twice as fast as factorising). Missing cells match the null added to
    the value set; an unknown name comes back null, and then the column goes to the
    general path, which names the first bad cell.
    """
    import pandas as pd

    to_arrow = getattr(values.array, "__arrow_array__", None)
    if to_arrow is None or not isinstance(values.dtype, pd.StringDtype):
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    cells = to_arrow()
    try:
        # the null in the value set matches missing cells (skip_nulls=False), so only
        # an unknown name comes back null and a full lookup has no null to fill
        value_set = pa.array([*node.states, None], type=cells.type)
        found = pc.index_in(cells, value_set=value_set, skip_nulls=False)
    except (pa.ArrowException, TypeError):  # an odd storage type: the general path decides
        return None
    if found.null_count:  # a name that is not a state
        return None
    lookup: np.ndarray = np.arange(1, len(node.states) + 2, dtype=dtype)
    lookup[-1] = 0  # the null slot: not observed
    return np.asarray(lookup[found.to_numpy(zero_copy_only=False)])


def _factorize(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    if isinstance(values.dtype, pd.CategoricalDtype):
        cats = np.asarray(values.cat.categories, dtype=object)
        return np.asarray(values.cat.codes.to_numpy(), dtype=np.int64), cats
    # the Series' own factorize hashes its native storage (e.g. Arrow strings) directly,
    # several times faster than converting the column to Python objects first
    labels, uniques = values.factorize(use_na_sentinel=True)
    return np.asarray(labels), np.asarray(uniques, dtype=object)


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
