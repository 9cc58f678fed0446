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
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import yaml

from ._provenance_hash import content_hash as folder_hash
from ._rows import BASES, Provenance, ProvenanceContext, resolve_prior, resolve_table
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

    def __repr__(self) -> str:
        from ._display import node_repr

        return node_repr(self)

    def _repr_html_(self) -> str:
        from ._display import node_html

        return node_html(self)


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
        is_default=np.zeros((1, len(states)), dtype=bool),
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
    if profile not in spec.profiles:
        raise NetworkSpecError(unknown_message("profile", profile, spec.profiles))
    old = spec.nodes[spec.target]
    nodes = dict(spec.nodes)
    nodes[spec.target] = _target_node(spec.target, old.states, spec.profiles[profile], old.file)
    return replace(spec, nodes=nodes, profile=profile)


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


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError:
        raise NetworkSpecError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise NetworkSpecError(f"{path}: not valid YAML: {exc}") from None


def _mapping(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise NetworkSpecError(f"{where}: expected a mapping, got {type(data).__name__}")
    return data


def _load_sources(folder: Path) -> dict[str, Source]:
    sources: dict[str, Source] = {}
    origin: dict[str, Path] = {}
    files = sorted((folder / "sources").glob("*.yaml"))
    if not files:
        raise NetworkSpecError(f"{folder / 'sources'}: no bibliography files (*.yaml)")
    for path in files:
        data = _read_yaml(path) or {}
        for key, entry in _mapping(data, str(path)).items():
            where = f"{path}: source {key!r}"
            entry = _mapping(entry, where)
            if not isinstance(entry.get("citation"), str) or not entry["citation"].strip():
                raise NetworkSpecError(f"{where}: missing 'citation'")
            for field_name in entry:
                if field_name not in SOURCE_KEYS:
                    raise NetworkSpecError(
                        f"{where}: " + unknown_message("field", str(field_name), SOURCE_KEYS)
                    )
            src = Source(
                id=str(key),
                citation=entry["citation"].strip(),
                kind=str(entry.get("kind", "literature")),
                doi=entry.get("doi"),
                url=entry.get("url"),
                note=entry.get("note"),
            )
            if key in sources and sources[key].citation != src.citation:
                raise NetworkSpecError(f"{where}: id already defined differently in {origin[key]}")
            sources[str(key)] = src
            origin[str(key)] = path
    return sources


def _load_verbal_scale(folder: Path) -> dict[str, float]:
    path = folder / "verbal_scale.yaml"
    data = _mapping(_read_yaml(path), str(path))
    terms = _mapping(data.get("terms"), f"{path}: 'terms'")
    scale: dict[str, float] = {}
    for term, entry in terms.items():
        value = entry.get("value") if isinstance(entry, dict) else entry
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise NetworkSpecError(f"{path}: term {term!r}: value must be a number in [0, 1]")
        scale[str(term)] = float(value)
    return scale


def _node_order(
    raw: Mapping[str, dict[str, Any]], target: str, files: Mapping[str, str]
) -> list[str]:
    graph = nx.DiGraph()
    graph.add_node(target)
    for name, data in raw.items():
        graph.add_node(name)
        for parent in data["parents"]:
            if parent != target and parent not in raw:
                raise NetworkSpecError(
                    f"{files[name]}: node {name!r}: "
                    + unknown_message("parent", parent, [target, *raw])
                )
            graph.add_edge(parent, name)
    if not nx.is_directed_acyclic_graph(graph):
        cycle = " -> ".join(edge[0] for edge in nx.find_cycle(graph))
        raise NetworkSpecError(
            f"{files.get(target, 'nodes')}: the parent links form a cycle: {cycle}"
        )
    return [n for n in nx.lexicographical_topological_sort(graph) if n != target]


def _read_nodes(folder: Path, target: str) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    raw: dict[str, dict[str, Any]] = {}
    files: dict[str, str] = {}
    for path in sorted((folder / "nodes").glob("*.yaml")):
        data = _mapping(_read_yaml(path), str(path))
        name = data.get("node")
        if not isinstance(name, str):
            raise NetworkSpecError(f"{path}: missing 'node' name")
        if name in raw or name == target:
            raise NetworkSpecError(f"{path}: node {name!r} is defined twice")
        kind = data.get("kind", "finding")
        if kind not in NODE_KINDS:
            raise NetworkSpecError(
                f"{path}: node {name!r}: " + unknown_message("kind", kind, NODE_KINDS)
            )
        states = data.get("states")
        if not isinstance(states, list) or len(states) < 2:
            raise NetworkSpecError(f"{path}: node {name!r}: 'states' must list at least two states")
        if any(not isinstance(s, str) for s in states):
            raise NetworkSpecError(
                f"{path}: node {name!r}: every state must be a string "
                "(quote 'yes' and 'no': unquoted they are read as booleans)"
            )
        if len(set(states)) != len(states):
            raise NetworkSpecError(f"{path}: node {name!r}: states are repeated")
        parents = data.get("parents") or []
        if not isinstance(parents, list) or len(set(parents)) != len(parents):
            raise NetworkSpecError(
                f"{path}: node {name!r}: 'parents' must be a list of distinct names"
            )
        data = {**data, "states": states, "parents": parents, "kind": kind}
        raw[name] = data
        files[name] = str(path)
    if not raw:
        raise NetworkSpecError(f"{folder / 'nodes'}: no node files (*.yaml)")
    return raw, files


def _load_target(folder: Path) -> tuple[str, dict[str, str], dict[str, str], dict[str, str], str]:
    path = folder / "diagnosis.yaml"
    data = _mapping(_read_yaml(path), str(path))
    name = data.get("node", "diagnosis")
    groups_doc = _mapping(data.get("groups", {}), f"{path}: 'groups'")
    states = _mapping(data.get("states"), f"{path}: 'states'")
    labels: dict[str, str] = {}
    groups: dict[str, str] = {}
    for state, entry in states.items():
        entry = _mapping(entry, f"{path}: state {state!r}")
        group = entry.get("group")
        if groups_doc and group not in groups_doc:
            raise NetworkSpecError(
                f"{path}: state {state!r}: " + unknown_message("group", group, groups_doc)
            )
        labels[str(state)] = str(entry.get("label", state))
        groups[str(state)] = str(group)
    return str(name), labels, groups, {str(k): str(v) for k, v in groups_doc.items()}, str(path)


def _load_profiles(
    folder: Path, states: tuple[str, ...], ctx: ProvenanceContext
) -> tuple[dict[str, Profile], str]:
    path = folder / "profiles.yaml"
    data = _mapping(_read_yaml(path), str(path))
    profiles_doc = _mapping(data.get("profiles"), f"{path}: 'profiles'")
    profiles: dict[str, Profile] = {}
    for name, entry in profiles_doc.items():
        entry = _mapping(entry, f"{path}: profile {name!r}")
        probs, prov = resolve_prior(entry, states, ctx.at(str(path), f"profile {name!r}"))
        profiles[str(name)] = Profile(
            str(name), str(entry.get("description", "")).strip(), probs, prov
        )
    default = data.get("default", next(iter(profiles), None))
    if default not in profiles:
        raise NetworkSpecError(f"{path}: default " + unknown_message("profile", default, profiles))
    return profiles, str(default)


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)


def _load_constraints(
    folder: Path, nodes: Mapping[str, tuple[str, ...]], target: str, sources: Mapping[str, Source]
) -> tuple[Constraint, ...]:
    path = folder / "constraints.yaml"
    if not path.exists():
        return ()
    data = _read_yaml(path) or []
    if not isinstance(data, list):
        raise NetworkSpecError(f"{path}: expected a list of constraints")
    out: list[Constraint] = []
    diagnoses = nodes[target]
    for i, entry in enumerate(data):
        entry = _mapping(entry, f"{path}: constraint {i}")
        cid = str(entry.get("id", i))
        where = f"{path}: constraint {cid!r}"
        kind = entry.get("kind")
        if kind not in CONSTRAINT_KINDS:
            raise NetworkSpecError(f"{where}: " + unknown_message("kind", kind, CONSTRAINT_KINDS))
        source = entry.get("source")
        if source not in sources:
            raise NetworkSpecError(f"{where}: " + unknown_message("source", source, sources))
        finding = None if entry.get("finding") is None else str(entry["finding"])
        state = None if entry.get("state") is None else str(entry["state"])
        if kind != "posterior_order":
            if finding is None or finding not in nodes or finding == target:
                raise NetworkSpecError(
                    f"{where}: " + unknown_message("node", finding, list(nodes)[1:])
                )
            if state is None or state not in nodes[finding]:
                raise NetworkSpecError(
                    f"{where}: " + unknown_message("state", state, nodes[finding])
                )
        evidence = {str(k): v for k, v in (entry.get("evidence") or {}).items()}
        for node, value in evidence.items():
            if node not in nodes:
                raise NetworkSpecError(f"{where}: evidence " + unknown_message("node", node, nodes))
            if value not in nodes[node]:
                raise NetworkSpecError(
                    f"{where}: evidence on {node!r}: "
                    + unknown_message("state", value, nodes[node])
                )
        names = {key: _as_tuple(entry.get(key)) for key in ("greater", "lesser", "diagnoses")}
        for key, values in names.items():
            for value in values:
                if value not in diagnoses:
                    raise NetworkSpecError(
                        f"{where}: {key}: " + unknown_message("diagnosis", value, diagnoses)
                    )
        out.append(
            Constraint(
                id=cid,
                kind=str(kind),
                source=str(source),
                locator=str(entry.get("locator", "")),
                statement=str(entry.get("statement", "")),
                finding=finding,
                state=state,
                greater=names["greater"],
                lesser=names["lesser"],
                diagnoses=names["diagnoses"],
                evidence=evidence,
                max=entry.get("max"),
                min=entry.get("min"),
            )
        )
    return tuple(out)


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
    folder = Path(path) if path is not None else default_network_path()
    if folder.is_file():
        folder = folder.parent
    meta_path = folder / "network.yaml"
    meta = _mapping(_read_yaml(meta_path), str(meta_path))
    sources = _load_sources(folder)
    scale = _load_verbal_scale(folder)
    strengths = {str(k): float(v) for k, v in (meta.get("default_strength") or {}).items()}
    ctx = ProvenanceContext(sources=sources, scale=scale, default_strength=strengths)
    target, labels, groups, group_labels, target_file = _load_target(folder)
    if meta.get("target", target) != target:
        raise NetworkSpecError(
            f"{meta_path}: target {meta.get('target')!r} is not the node of diagnosis.yaml ({target!r})"
        )
    target_states = tuple(labels)
    profiles, default_profile = _load_profiles(folder, target_states, ctx)
    chosen = default_profile if profile is None else profile
    if chosen not in profiles:
        raise NetworkSpecError(unknown_message("profile", chosen, profiles))
    raw, files = _read_nodes(folder, target)
    order = _node_order(raw, target, files)
    state_map: dict[str, tuple[str, ...]] = {target: target_states}
    state_map.update({n: tuple(raw[n]["states"]) for n in order})
    nodes: dict[str, NodeSpec] = {
        target: _target_node(target, target_states, profiles[chosen], target_file)
    }
    for name in order:
        data = raw[name]
        parents = tuple(data["parents"])
        cpt, prov, is_default = resolve_table(
            data,
            tuple(data["states"]),
            {p: state_map[p] for p in parents},
            ctx.at(files[name], f"node {name!r}"),
        )
        nodes[name] = NodeSpec(
            name=name,
            kind=data["kind"],
            states=tuple(data["states"]),
            parents=parents,
            cpt=cpt,
            provenance=prov,
            is_default=is_default,
            description=" ".join(str(data.get("description", "")).split()),
            file=files[name],
            parent_states=tuple(state_map[p] for p in parents),
        )
    constraints = _load_constraints(folder, state_map, target, sources)
    finding_groups = _load_finding_groups(meta, meta_path, raw)
    return NetworkSpec(
        name=str(meta.get("name", folder.name)),
        version=str(meta.get("version", "")),
        path=folder,
        target=target,
        nodes=nodes,
        labels=labels,
        groups=groups,
        group_labels=group_labels,
        sources=sources,
        verbal_scale=scale,
        profiles=profiles,
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
