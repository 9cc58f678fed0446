"""Read and validate a network folder into plain, immutable dataclasses.

The network is data: every file is read with :func:`yaml.safe_load` and checked
before anything is built from it. Any problem raises
:class:`~softcalc_bayes.exceptions.NetworkSpecError` whose message names the file,
the node, the row and what is wrong. The conditional-table rules (default rows,
remainder states, most-specific-row matching) live in :mod:`softcalc_bayes._rows`;
the file format is described in ``networks/FORMAT.md``.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ._provenance_hash import content_hash as folder_hash
from ._rows import (
    BASES,
    MAX_STRENGTH,
    Provenance,
    ProvenanceContext,
    described,
    real_number,
    resolve_prior,
    resolve_table,
)
from ._validation import unknown_message
from .exceptions import NetworkSpecError

__all__ = [
    "BASES",
    "Constraint",
    "NetworkSpec",
    "NodeSpec",
    "Provenance",
    "Source",
    "default_network_path",
    "load_spec",
    "select_profile",
]

CONSTRAINT_KINDS = ("likelihood_order", "posterior_order", "likelihood_bound")
NODE_KINDS = ("finding", "latent")
NODE_KEYS = (
    "node",
    "kind",
    "description",
    "states",
    "parents",
    "remainder",
    "default",
    "rows",
    "impossible",
    "marginal_over",
    "state_definitions",
)
"""Fields of a node file (``networks/FORMAT.md``); any other is refused with the closest."""
MAX_STATES = 500
"""Most states a node may have."""
MAX_CONFIGS = 20_000
"""Most parent configurations of one conditional table (the product of the parents' states)."""

K = TypeVar("K")
V = TypeVar("V")


class FrozenMap(Mapping[K, V]):
    """A read-only mapping (the knowledge of a loaded network cannot be edited in place).

    Unlike :class:`types.MappingProxyType` it can be pickled and deep-copied.

    Examples
    --------
    >>> labels = FrozenMap({"a": "A"})
    >>> labels["a"], dict(labels)
    ('A', {'a': 'A'})
    >>> labels["b"] = "B"
    Traceback (most recent call last):
    ...
    TypeError: 'FrozenMap' object does not support item assignment
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[K, V] | None = None) -> None:
        self._data: dict[K, V] = dict(data or {})

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        try:
            return key in self._data
        except TypeError:  # an unhashable key (a list, a dict) is simply not there
            return False

    def get(self, key: K, default: Any = None) -> Any:
        return self._data.get(key, default) if key in self else default

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMap, (self._data,))


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class Source:
    """One bibliography entry."""

    id: str
    citation: str
    kind: str
    doi: str | None = None
    url: str | None = None
    note: str | None = None


SOURCE_KEYS = ("citation", "kind", "doi", "url", "note")


@dataclass(frozen=True)
class NodeSpec:
    """A node with its full conditional table and the provenance of every number.

    ``cpt`` has shape ``(n_parent_configurations, n_states)``; parent
    configurations are enumerated in C order over ``parents`` (the last parent
    varies fastest), as in :func:`itertools.product`; ``parent_states`` holds the
    states of each parent, which label those rows.

    ``excluded`` (same shape as ``cpt``) marks the structural zeros set by the node's
    ``impossible`` rules, and ``kept`` holds, per row, the share of the row before
    those rules that the possible states carry (see ``networks/FORMAT.md``). Both are
    None for a node without rules (and for tables imported from other tools).
    """

    name: str
    kind: str
    states: tuple[str, ...]
    parents: tuple[str, ...]
    cpt: np.ndarray
    provenance: tuple[tuple[Provenance, ...], ...]
    is_default: np.ndarray
    description: str = ""
    file: str = ""
    parent_states: tuple[tuple[str, ...], ...] = ()
    state_definitions: tuple[str, ...] = ()
    """What each state means, in the order of ``states`` ("" where none is written)."""
    excluded: np.ndarray | None = None
    kept: np.ndarray | None = None

    def __repr__(self) -> str:
        from ._display import node_repr

        return node_repr(self)

    def _repr_html_(self) -> str:
        from ._display import node_html

        return node_html(self)

    def __post_init__(self) -> None:
        _read_only(self.cpt)
        _read_only(self.is_default)
        for mask in (self.excluded, self.kept):
            if mask is not None:
                _read_only(mask)

    def __setstate__(self, state: dict[str, Any]) -> None:  # unpickled (the spec cache)
        self.__dict__.update(state)
        self.__post_init__()

    def structural_zeros(self) -> np.ndarray:
        """Boolean mask of the entries an ``impossible`` rule sets to 0 (all False if none)."""
        if self.excluded is None:
            return np.zeros(np.shape(self.cpt), dtype=bool)
        return np.asarray(self.excluded, dtype=bool)

    def kept_share(self) -> np.ndarray:
        """Per row, the share of the row before the ``impossible`` rules that is kept (1 if none)."""
        if self.kept is None:
            return np.ones(np.shape(self.cpt)[0])
        return np.asarray(self.kept, dtype=float)


@dataclass(frozen=True)
class Constraint:
    """A cited directional claim the network must satisfy (see ``constraints.yaml``)."""

    id: str
    kind: str
    source: str
    locator: str
    statement: str
    finding: str | None = None
    state: str | None = None
    greater: tuple[str, ...] = ()
    lesser: tuple[str, ...] = ()
    diagnoses: tuple[str, ...] = ()
    evidence: Mapping[str, str] = field(default_factory=dict)
    max: float | None = None
    min: float | None = None


@dataclass(frozen=True)
class Profile:
    """A prior distribution over the target (one clinical setting)."""

    name: str
    description: str
    probs: np.ndarray
    provenance: tuple[Provenance, ...]

    def __post_init__(self) -> None:
        _read_only(self.probs)

    def __setstate__(self, state: dict[str, Any]) -> None:  # unpickled (the spec cache)
        self.__dict__.update(state)
        self.__post_init__()


@dataclass(frozen=True)
class NetworkSpec:
    """A validated network: nodes in topological order, target first."""

    name: str
    version: str
    path: Path | None
    target: str
    nodes: Mapping[str, NodeSpec]
    labels: Mapping[str, str]
    groups: Mapping[str, str]
    group_labels: Mapping[str, str]
    sources: Mapping[str, Source]
    verbal_scale: Mapping[str, float]
    profiles: Mapping[str, Profile]
    profile: str
    default_profile: str
    constraints: tuple[Constraint, ...] = ()
    finding_groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    content_hash: str = ""  # see _provenance_hash: folder hash, or table hash when imported


def _target_node(target: str, states: tuple[str, ...], prior: Profile, file: str) -> NodeSpec:
    return NodeSpec(
        name=target,
        kind="target",
        states=states,
        parents=(),
        cpt=prior.probs[None, :],
        provenance=(prior.provenance,),
        is_default=_read_only(np.zeros((1, len(states)), dtype=bool)),
        file=file,
    )


def select_profile(spec: NetworkSpec, profile: str) -> NetworkSpec:
    """The same validated network with the target's prior taken from ``profile``.

    Nothing is re-read from disk: only the target node's table changes.

    Raises
    ------
    NetworkSpecError
        If ``profile`` is not one of ``spec.profiles``.

    Examples
    --------
    >>> spec = load_spec()
    >>> select_profile(spec, "msk_referral").profile
    'msk_referral'
    """
    if not isinstance(profile, str) or profile not in spec.profiles:
        raise NetworkSpecError(unknown_message("profile", profile, spec.profiles))
    old = spec.nodes[spec.target]
    nodes = dict(spec.nodes)
    nodes[spec.target] = _target_node(spec.target, old.states, spec.profiles[profile], old.file)
    return replace(spec, nodes=FrozenMap(nodes), profile=profile)


def default_network_path() -> Path:
    """Folder of the packaged default network (works from a wheel or a checkout)."""
    packaged = importlib.resources.files("softcalc_bayes").joinpath("networks", "default")
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / "networks" / "default"
    if checkout.is_dir():
        return checkout
    raise NetworkSpecError(
        "The packaged default network was not found: neither softcalc_bayes/networks/default "
        f"in the installed package nor {checkout}"
    )


def _mapping(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise NetworkSpecError(f"{where}: expected a mapping, got {described(data)}")
    for key in data:
        if not isinstance(key, str):
            hint = (
                " (quote 'yes'/'no': unquoted they are booleans)" if isinstance(key, bool) else ""
            )
            raise NetworkSpecError(f"{where}: every key must be text, got {described(key)}{hint}")
    return data


def _text(value: Any, where: str, field_name: str, *, optional: bool = False) -> str:
    """A text field; with ``optional``, None reads as the empty string."""
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise NetworkSpecError(f"{where}: {field_name!r} must be text, got {described(value)}")
    return value


def _names(value: Any, where: str, field_name: str) -> list[str]:
    """A list of names (or one name): every element must be text."""
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, str):
            raise NetworkSpecError(
                f"{where}: {field_name!r} must be a name or a list of names, got {described(item)}"
            )
    return list(items)


class _Reader:
    """Reads the files of one network folder, refusing anything outside it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        try:
            self.root = folder.resolve(strict=True)
        except (OSError, RuntimeError, ValueError):
            raise NetworkSpecError(
                f"{folder / 'network.yaml'}: file not found (no network folder at {folder})"
            ) from None
        if not self.root.is_dir():
            raise NetworkSpecError(f"{folder}: not a folder")

    def read(self, path: Path) -> Any:
        from ._safe_yaml import read_data_file  # PyYAML only when files are read

        return read_data_file(path, self.root)

    def glob(self, sub: str) -> list[Path]:
        where = self.folder / sub
        try:
            inner = where.resolve(strict=True)
        except (OSError, RuntimeError):
            return []
        if not inner.is_relative_to(self.root):
            raise NetworkSpecError(
                f"{where}: a symbolic link leading out of the network folder {self.root}"
            )
        if not inner.is_dir():
            raise NetworkSpecError(f"{where}: not a folder")
        return sorted(where.glob("*.yaml"))


def _load_sources(reader: _Reader) -> dict[str, Source]:
    """The bibliography: ``sources/*.yaml``.

    An id may appear in several files only with identical entries (files written by
    different knowledge passes share some sources); a second, different entry under the
    same id is an error naming both files.
    """
    folder = reader.folder
    sources: dict[str, Source] = {}
    origin: dict[str, Path] = {}
    files = reader.glob("sources")
    if not files:
        raise NetworkSpecError(f"{folder / 'sources'}: no bibliography files (*.yaml)")
    for path in files:
        data = reader.read(path)
        data = {} if data is None else data
        for key, entry in _mapping(data, str(path)).items():
            where = f"{path}: source {key!r}"
            entry = _mapping(entry, where)
            for field_name in entry:
                if field_name not in SOURCE_KEYS:
                    raise NetworkSpecError(
                        f"{where}: " + unknown_message("field", field_name, SOURCE_KEYS)
                    )
            citation = _text(entry.get("citation"), where, "citation", optional=True).strip()
            if not citation:
                raise NetworkSpecError(f"{where}: missing 'citation'")
            optional = {k: _text(entry.get(k), where, k, optional=True) for k in SOURCE_KEYS[2:]}
            src = Source(
                id=key,
                citation=citation,
                kind=_text(entry.get("kind", "literature"), where, "kind"),
                doi=optional["doi"] or None,
                url=optional["url"] or None,
                note=optional["note"] or None,
            )
            if key in sources and sources[key] != src:
                raise NetworkSpecError(
                    f"{where}: id already defined differently in {origin[key]} "
                    "(an id may be repeated only with identical content)"
                )
            sources[key] = src
            origin.setdefault(key, path)
    return sources


def _load_verbal_scale(reader: _Reader) -> dict[str, float]:
    path = reader.folder / "verbal_scale.yaml"
    data = _mapping(reader.read(path), str(path))
    terms = _mapping(data.get("terms"), f"{path}: 'terms'")
    scale: dict[str, float] = {}
    for term, entry in terms.items():
        value = entry.get("value") if isinstance(entry, dict) else entry
        scale[term], problem = real_number(value, 0.0, 1.0)
        if problem:
            raise NetworkSpecError(f"{path}: term {term!r}, field 'value': {problem}")
    return scale


def _default_strengths(meta: Mapping[str, Any], path: Path) -> dict[str, float]:
    doc = meta.get("default_strength")
    doc = _mapping({} if doc is None else doc, f"{path}: 'default_strength'")
    out: dict[str, float] = {}
    for basis, value in doc.items():
        if basis not in BASES:
            raise NetworkSpecError(
                f"{path}: 'default_strength': " + unknown_message("basis", basis, BASES)
            )
        out[basis], problem = real_number(value, 0.0, MAX_STRENGTH, low_open=True)
        if problem:
            raise NetworkSpecError(f"{path}: 'default_strength' of {basis!r}: {problem}")
    return out


def _node_order(
    raw: Mapping[str, dict[str, Any]], target: str, files: Mapping[str, str]
) -> list[str]:
    import networkx as nx  # only when a folder is read (never on a cache hit)

    graph = nx.DiGraph()
    graph.add_node(target)
    for name, data in raw.items():
        graph.add_node(name)
        for parent in data["parents"]:
            if parent != target and parent not in raw:
                raise NetworkSpecError(
                    f"{files[name]}: node {name!r}, field 'parents': "
                    + unknown_message("parent", parent, [target, *raw])
                )
            graph.add_edge(parent, name)
    if not nx.is_directed_acyclic_graph(graph):
        cycle = [edge[0] for edge in nx.find_cycle(graph)]
        raise NetworkSpecError(
            f"{files.get(cycle[0], 'nodes')}: node {cycle[0]!r}, field 'parents': the parent "
            f"links form a cycle: {' -> '.join(cycle)}"
        )
    return [n for n in nx.lexicographical_topological_sort(graph) if n != target]


def _read_node(path: Path, data: Any) -> dict[str, Any]:
    data = _mapping(data, str(path))
    name = data.get("node")
    if not isinstance(name, str) or not name:
        raise NetworkSpecError(f"{path}: missing 'node' name (text), got {described(name)}")
    where = f"{path}: node {name!r}"
    for key in data:
        if key not in NODE_KEYS:
            raise NetworkSpecError(f"{where}: " + unknown_message("field", key, NODE_KEYS))
    kind = data.get("kind", "finding")
    if kind not in NODE_KINDS:
        raise NetworkSpecError(f"{where}: " + unknown_message("kind", kind, NODE_KINDS))
    states = data.get("states")
    if not isinstance(states, list) or not 2 <= len(states) <= MAX_STATES:
        raise NetworkSpecError(
            f"{where}: 'states' must list at least two states (at most {MAX_STATES})"
        )
    if any(not isinstance(s, str) or not s for s in states):
        raise NetworkSpecError(
            f"{where}: every state must be a non-empty string "
            "(quote 'yes' and 'no': unquoted they are read as booleans)"
        )
    if len(set(states)) != len(states):
        raise NetworkSpecError(f"{where}: states are repeated")
    parents = data.get("parents") or []
    if (
        not isinstance(parents, list)
        or any(not isinstance(p, str) for p in parents)
        or len(set(parents)) != len(parents)
    ):
        raise NetworkSpecError(f"{where}: 'parents' must be a list of distinct names")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise NetworkSpecError(f"{where}: 'description' must be text, got {described(description)}")
    definitions = data.get("state_definitions") or {}
    if not isinstance(definitions, dict):
        raise NetworkSpecError(
            f"{where}: 'state_definitions' must map states to text, got {described(definitions)}"
        )
    for state, text in definitions.items():
        if state not in states:
            raise NetworkSpecError(
                f"{where}: 'state_definitions': " + unknown_message("state", state, states)
            )
        if not isinstance(text, str) or not text.strip():
            raise NetworkSpecError(
                f"{where}: 'state_definitions' of {state!r} must be non-empty text, "
                f"got {described(text)}"
            )
    return {**data, "states": states, "parents": parents, "kind": kind}


def _read_nodes(reader: _Reader, target: str) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    raw: dict[str, dict[str, Any]] = {}
    files: dict[str, str] = {}
    for path in reader.glob("nodes"):
        data = _read_node(path, reader.read(path))
        name = data["node"]
        if name in raw or name == target:
            raise NetworkSpecError(f"{path}: node {name!r} is defined twice")
        raw[name] = data
        files[name] = str(path)
    if not raw:
        raise NetworkSpecError(f"{reader.folder / 'nodes'}: no node files (*.yaml)")
    return raw, files


def _check_table_size(
    raw: Mapping[str, dict[str, Any]], name: str, target: str, n_target: int, file: str
) -> None:
    size = 1
    for parent in raw[name]["parents"]:
        size *= n_target if parent == target else len(raw[parent]["states"])
    if size > MAX_CONFIGS:
        raise NetworkSpecError(
            f"{file}: node {name!r}, field 'parents': {size} parent configurations, more than "
            f"the limit of {MAX_CONFIGS} for one table"
        )


def _load_target(
    reader: _Reader,
) -> tuple[str, dict[str, str], dict[str, str], dict[str, str], str]:
    path = reader.folder / "diagnosis.yaml"
    data = _mapping(reader.read(path), str(path))
    name = data.get("node", "diagnosis")
    if not isinstance(name, str) or not name:
        raise NetworkSpecError(f"{path}: 'node' must be a name, got {described(name)}")
    groups_doc = _mapping(data.get("groups", {}) or {}, f"{path}: 'groups'")
    group_labels = {g: _text(v, f"{path}: group {g!r}", "label") for g, v in groups_doc.items()}
    states = _mapping(data.get("states"), f"{path}: 'states'")
    if not 2 <= len(states) <= MAX_STATES:
        raise NetworkSpecError(
            f"{path}: 'states' must list at least two diagnoses (at most {MAX_STATES})"
        )
    labels: dict[str, str] = {}
    groups: dict[str, str] = {}
    for state, entry in states.items():
        where = f"{path}: state {state!r}"
        entry = _mapping(entry, where)
        group = entry.get("group")
        if group is not None and not isinstance(group, str):
            raise NetworkSpecError(f"{where}: 'group' must be a name, got {described(group)}")
        if groups_doc and group not in groups_doc:
            raise NetworkSpecError(f"{where}: " + unknown_message("group", group, groups_doc))
        labels[state] = _text(entry.get("label", state), where, "label")
        groups[state] = str(group)
    return name, labels, groups, group_labels, str(path)


def _load_profiles(
    reader: _Reader, states: tuple[str, ...], ctx: ProvenanceContext
) -> tuple[dict[str, Profile], str]:
    path = reader.folder / "profiles.yaml"
    data = _mapping(reader.read(path), str(path))
    profiles_doc = _mapping(data.get("profiles"), f"{path}: 'profiles'")
    profiles: dict[str, Profile] = {}
    for name, entry in profiles_doc.items():
        where = f"{path}: profile {name!r}"
        entry = _mapping(entry, where)
        probs, prov = resolve_prior(entry, states, ctx.at(str(path), f"profile {name!r}"))
        description = _text(entry.get("description", ""), where, "description", optional=True)
        profiles[name] = Profile(name, description.strip(), _read_only(probs), prov)
    default = data.get("default", next(iter(profiles), None))
    if not isinstance(default, str) or default not in profiles:
        raise NetworkSpecError(
            f"{path}: field 'default': " + unknown_message("profile", default, profiles)
        )
    return profiles, default


def _bound(entry: Mapping[str, Any], key: str, where: str) -> float | None:
    value = entry.get(key)
    if value is None:
        return None
    number, problem = real_number(value, 0.0, 1.0)
    if problem:
        raise NetworkSpecError(f"{where}: field {key!r}: {problem}")
    return number


def _constraint(
    entry: dict[str, Any],
    i: int,
    path: Path,
    nodes: Mapping[str, tuple[str, ...]],
    target: str,
    sources: Mapping[str, Source],
    latent: frozenset[str],
) -> Constraint:
    cid = entry.get("id", str(i))
    if not isinstance(cid, str | int) or isinstance(cid, bool):
        raise NetworkSpecError(f"{path}: constraint {i}: 'id' must be text, got {described(cid)}")
    where = f"{path}: constraint {str(cid)!r}"
    kind = entry.get("kind")
    if not isinstance(kind, str) or kind not in CONSTRAINT_KINDS:
        raise NetworkSpecError(f"{where}: " + unknown_message("kind", kind, CONSTRAINT_KINDS))
    source = entry.get("source")
    if not isinstance(source, str) or source not in sources:
        raise NetworkSpecError(f"{where}: " + unknown_message("source", source, sources))
    finding = entry.get("finding")
    state = entry.get("state")
    if kind != "posterior_order":
        if not isinstance(finding, str) or finding not in nodes or finding == target:
            raise NetworkSpecError(f"{where}: " + unknown_message("node", finding, list(nodes)[1:]))
        if not isinstance(state, str) or state not in nodes[finding]:
            raise NetworkSpecError(f"{where}: " + unknown_message("state", state, nodes[finding]))
    evidence_doc = entry.get("evidence")
    evidence = _mapping({} if evidence_doc is None else evidence_doc, f"{where}: 'evidence'")
    for node, value in evidence.items():
        if node not in nodes or node == target or node in latent:
            observable = [n for n in list(nodes)[1:] if n not in latent]
            raise NetworkSpecError(
                f"{where}: evidence " + unknown_message("finding", node, observable)
            )
        if not isinstance(value, str) or value not in nodes[node]:
            raise NetworkSpecError(
                f"{where}: evidence on {node!r}: " + unknown_message("state", value, nodes[node])
            )
    names: dict[str, tuple[str, ...]] = {}
    for key in ("greater", "lesser", "diagnoses"):
        values = () if entry.get(key) is None else tuple(_names(entry[key], where, key))
        for value in values:
            if value not in nodes[target]:
                raise NetworkSpecError(
                    f"{where}: {key}: " + unknown_message("diagnosis", value, nodes[target])
                )
        names[key] = values
    needed = {
        "likelihood_order": ("greater", "lesser"),
        "posterior_order": ("greater", "lesser"),
        "likelihood_bound": ("diagnoses",),
    }[kind]
    for key in needed:
        if not names[key]:
            raise NetworkSpecError(
                f"{where}: a {kind} constraint needs {key!r} (a list of diagnoses)"
            )
    low, high = _bound(entry, "min", where), _bound(entry, "max", where)
    if kind == "likelihood_bound" and low is None and high is None:
        raise NetworkSpecError(f"{where}: a likelihood_bound constraint needs 'min' or 'max'")
    return Constraint(
        id=str(cid),
        kind=kind,
        source=source,
        locator=_text(entry.get("locator", ""), where, "locator", optional=True),
        statement=_text(entry.get("statement", ""), where, "statement", optional=True),
        finding=finding if kind != "posterior_order" else None,
        state=state if kind != "posterior_order" else None,
        greater=names["greater"],
        lesser=names["lesser"],
        diagnoses=names["diagnoses"],
        evidence=FrozenMap(evidence),
        max=high,
        min=low,
    )


def _load_constraints(
    reader: _Reader,
    nodes: Mapping[str, tuple[str, ...]],
    target: str,
    sources: Mapping[str, Source],
    latent: frozenset[str],
) -> tuple[Constraint, ...]:
    path = reader.folder / "constraints.yaml"
    if not path.exists() and not path.is_symlink():
        return ()
    data = reader.read(path)
    data = [] if data is None else data
    if not isinstance(data, list):
        raise NetworkSpecError(f"{path}: expected a list of constraints, got {described(data)}")
    return tuple(
        _constraint(
            _mapping(entry, f"{path}: constraint {i}"), i, path, nodes, target, sources, latent
        )
        for i, entry in enumerate(data)
    )


def load_spec(path: str | Path | None = None, *, profile: str | None = None) -> NetworkSpec:
    """Read and validate the network folder at ``path`` (None: the packaged default).

    Parameters
    ----------
    path : str or Path, optional
        A network folder (with ``network.yaml``). None loads the packaged default.
    profile : str, optional
        Name of the prior profile to use for the target node; None takes the
        folder's default profile.

    Returns
    -------
    NetworkSpec

    Raises
    ------
    NetworkSpecError
        If any file is missing or invalid; the message names file, node, row and problem.

    Examples
    --------
    >>> spec = load_spec()
    >>> spec.target, len(spec.nodes["diagnosis"].states)
    ('diagnosis', 39)
    """
    if path is not None and not isinstance(path, str | Path):
        raise NetworkSpecError(f"path must be a folder (str or Path), got {described(path)}")
    from ._safe_yaml import path_kind

    folder = Path(path) if path is not None else default_network_path()
    if path_kind(folder) == "file":
        folder = folder.parent
    reader = _Reader(folder)
    meta_path = folder / "network.yaml"
    meta = _mapping(reader.read(meta_path), str(meta_path))
    sources = _load_sources(reader)
    scale = _load_verbal_scale(reader)
    strengths = _default_strengths(meta, meta_path)
    ctx = ProvenanceContext(sources=sources, scale=scale, default_strength=strengths)
    target, labels, groups, group_labels, target_file = _load_target(reader)
    if meta.get("target", target) != target:
        raise NetworkSpecError(
            f"{meta_path}: field 'target': {described(meta.get('target'))} is not the node of "
            f"diagnosis.yaml ({target!r})"
        )
    name = meta.get("name", folder.name)
    version = meta.get("version", "")
    for key, value in (("name", name), ("version", version)):
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise NetworkSpecError(f"{meta_path}: {key!r} must be text, got {described(value)}")
    target_states = tuple(labels)
    profiles, default_profile = _load_profiles(reader, target_states, ctx)
    chosen = default_profile if profile is None else profile
    if not isinstance(chosen, str) or chosen not in profiles:
        raise NetworkSpecError(
            f"{folder / 'profiles.yaml'}: " + unknown_message("profile", chosen, profiles)
        )
    raw, files = _read_nodes(reader, target)
    order = _node_order(raw, target, files)
    state_map: dict[str, tuple[str, ...]] = {target: target_states}
    state_map.update({n: tuple(raw[n]["states"]) for n in order})
    nodes: dict[str, NodeSpec] = {
        target: _target_node(target, target_states, profiles[chosen], target_file)
    }
    for node_name in order:
        data = raw[node_name]
        parents = tuple(data["parents"])
        _check_table_size(raw, node_name, target, len(target_states), files[node_name])
        table = resolve_table(
            data,
            tuple(data["states"]),
            {p: state_map[p] for p in parents},
            ctx.at(files[node_name], f"node {node_name!r}"),
            parent_tables={p: (nodes[p].parents, nodes[p].cpt) for p in parents},
        )
        ruled = bool(table.excluded.any())
        nodes[node_name] = NodeSpec(
            name=node_name,
            kind=data["kind"],
            states=tuple(data["states"]),
            parents=parents,
            cpt=_read_only(table.cpt),
            provenance=table.provenance,
            is_default=_read_only(table.is_default),
            description=" ".join(str(data.get("description", "")).split()),
            file=files[node_name],
            parent_states=tuple(state_map[p] for p in parents),
            state_definitions=tuple(
                " ".join((data.get("state_definitions") or {}).get(state, "").split())
                for state in data["states"]
            ),
            excluded=table.excluded if ruled else None,
            kept=table.kept if ruled else None,
        )
    latent = frozenset(n for n in order if raw[n]["kind"] == "latent")
    constraints = _load_constraints(reader, state_map, target, sources, latent)
    finding_groups = _load_finding_groups(meta, meta_path, raw)
    return NetworkSpec(
        name=str(name),
        version=str(version),
        path=folder,
        target=target,
        nodes=FrozenMap(nodes),
        labels=FrozenMap(labels),
        groups=FrozenMap(groups),
        group_labels=FrozenMap(group_labels),
        sources=FrozenMap(sources),
        verbal_scale=FrozenMap(scale),
        profiles=FrozenMap(profiles),
        profile=chosen,
        default_profile=default_profile,
        constraints=constraints,
        finding_groups=finding_groups,
        content_hash=folder_hash(folder),
    )


def _load_finding_groups(
    meta: Mapping[str, Any], path: Path, raw: Mapping[str, dict[str, Any]]
) -> dict[str, tuple[str, ...]]:
    """``finding_groups`` of ``network.yaml``: group -> findings, each finding at most once."""
    doc = _mapping(meta.get("finding_groups") or {}, f"{path}: 'finding_groups'")
    findings = [n for n, data in raw.items() if data["kind"] == "finding"]
    seen: dict[str, str] = {}
    out: dict[str, tuple[str, ...]] = {}
    for group, names in doc.items():
        if not isinstance(names, list):
            raise NetworkSpecError(f"{path}: finding group {group!r}: expected a list of findings")
        for name in names:
            if name not in findings:
                raise NetworkSpecError(
                    f"{path}: finding group {group!r}: "
                    + unknown_message("finding", name, findings)
                )
            if name in seen:
                raise NetworkSpecError(
                    f"{path}: finding {name!r} is in two groups ({seen[name]!r} and {group!r})"
                )
            seen[name] = str(group)
        out[str(group)] = tuple(str(n) for n in names)
    return out
