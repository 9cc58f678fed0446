"""Read networks written by other tools: a pgmpy model or a BIF file becomes a ``Network``.

Every number of an imported network gets the provenance basis ``"imported"``: its
source, locator and strength are unknown (strength is NaN, so
:func:`~softcalc_bayes.posterior_uncertainty` refuses such a network instead of
inventing a Dirichlet). Posterior queries, batches and sensitivity analysis work as
for the packaged network.

Choices made on import (also in ``docs/interop.md``):

- **Target.** ``target=`` names the node that :meth:`Network.posterior` answers by
  default. Without it: a node named ``diagnosis`` or ``disease`` (any case), else the
  root with the most descendants (ties: first in name order). A file written by
  :func:`softcalc_bayes.export.export` names its target, which is used.
- **Kinds.** Every other node is an observable ``finding``, except the names given in
  ``latent=`` (or marked latent by a file written by this library).
- **Rows that do not sum to 1.** Published files round their numbers (alarm: rows off
  by 1e-7). A row whose sum is within 1e-12 of 1 is kept bit for bit. A row off by more,
  up to ``ROW_TOLERANCE``, is divided by its sum, and the entries' provenance says so
  (``reason``: "row renormalised on import: entries summed to ..."). A row off by more
  than that, a negative or non-finite entry, raises
  :class:`~softcalc_bayes.exceptions.NetworkSpecError` naming node and row.
"""

from __future__ import annotations

import gzip
import itertools
import math
import os
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from ._bif import parse_bif
from ._params import Check, check_param
from ._provenance_hash import tables_hash
from ._rows import IMPORTED, Provenance, described
from ._safe_yaml import path_kind
from ._validation import unknown_message
from .exceptions import InvalidParameterError, NetworkSpecError
from .network import Network
from .spec import NetworkSpec, NodeSpec, Profile

__all__ = ["ROW_TOLERANCE", "default_target", "from_bif", "from_pgmpy", "require_strengths"]

ROW_TOLERANCE = 1e-3
_EXACT = 1e-12
_TARGET_NAMES = ("diagnosis", "disease")


def default_target(parents: Mapping[str, Sequence[str]]) -> str:
    """The node an imported network is queried for by default (rules in the module docstring).

    Examples
    --------
    >>> default_target({"smoke": [], "asia": [], "lung": ["smoke"], "xray": ["lung"]})
    'smoke'
    >>> default_target({"a": [], "Disease": ["a"]})
    'Disease'
    """
    for name in sorted(parents):
        if name.lower() in _TARGET_NAMES:
            return name
    graph = _graph(parents)
    roots = sorted(n for n in graph if graph.in_degree(n) == 0)
    best: str = min(roots, key=lambda n: (-len(nx.descendants(graph, n)), n))
    return best


def require_strengths(spec: NetworkSpec) -> None:
    """Raise unless every parameter has a strength (imported networks have none).

    Raises
    ------
    NetworkSpecError
        Naming the network, where its numbers came from, and what works without.

    Examples
    --------
    >>> from softcalc_bayes.spec import load_spec
    >>> require_strengths(load_spec())  # the packaged network documents every strength
    """
    for node in spec.nodes.values():
        for row in node.provenance:
            for prov in row:
                if not math.isfinite(prov.strength):
                    raise NetworkSpecError(
                        f"Network {spec.name!r} has no strength (equivalent sample size) for "
                        f"node {node.name!r}: its numbers were {prov.basis} ({prov.locator}), "
                        "basis unknown, so parameter uncertainty cannot be sampled. Posterior, "
                        "batch and sensitivity analyses work; for uncertainty, write the "
                        "network as a folder with strengths (networks/FORMAT.md)."
                    )


def _graph(parents: Mapping[str, Sequence[str]]) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(parents)
    graph.add_edges_from((p, n) for n, ps in parents.items() for p in ps)
    return graph


def _row_provenance(
    origin: str, sums: np.ndarray, n_states: int
) -> tuple[tuple[Provenance, ...], ...]:
    plain = Provenance(
        source=None,
        locator=origin,
        basis=IMPORTED,
        reason=f"imported from {origin}; basis unknown",
        strength=math.nan,
    )
    rows = []
    for total in sums:
        prov = plain
        if abs(total - 1.0) > _EXACT:
            prov = Provenance(
                source=None,
                locator=origin,
                basis=IMPORTED,
                reason=f"{plain.reason}; row renormalised on import: entries summed to {float(total)!r}",
                strength=math.nan,
            )
        rows.append((prov,) * n_states)
    return tuple(rows)


def _checked_table(
    name: str, values: np.ndarray, states: Sequence[str], parent_states: Sequence[Sequence[str]]
) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``values`` (n_configs, n_states); renormalise rows off by <= ROW_TOLERANCE."""
    table = np.asarray(values, dtype=float)
    configs = list(itertools.product(*parent_states))
    for c, row in enumerate(table):
        where = f"node {name!r}, row {c}" + (f" ({', '.join(configs[c])})" if configs[c] else "")
        if not np.all(np.isfinite(row)) or np.any(row < 0):
            raise NetworkSpecError(
                f"{where}: probabilities must be finite and >= 0, got {row.tolist()}"
            )
    sums = table.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1.0) > ROW_TOLERANCE)
    if bad.size:
        c = int(bad[0])
        label = f" ({', '.join(configs[c])})" if configs[c] else ""
        raise NetworkSpecError(
            f"node {name!r}, row {c}{label}: entries sum to {float(sums[c])!r}, more than "
            f"{ROW_TOLERANCE} away from 1 (states {', '.join(states)})"
        )
    off = np.abs(sums - 1.0) > _EXACT
    table[off] /= sums[off, None]
    return table, sums


def _spec(
    tables: Mapping[str, tuple[tuple[str, ...], tuple[str, ...], np.ndarray]],
    *,
    target: str | None,
    latent: Iterable[str],
    name: str,
    origin: str,
    path: Path | None,
) -> NetworkSpec:
    """A NetworkSpec from ``{node: (states, parents, values (n_configs, n_states))}``."""
    parents = {n: t[1] for n, t in tables.items()}
    for node, ps in parents.items():
        for p in ps:
            if p not in tables:
                raise NetworkSpecError(f"node {node!r}: " + unknown_message("parent", p, tables))
    graph = _graph(parents)
    if not nx.is_directed_acyclic_graph(graph):
        raise NetworkSpecError(f"{origin}: the parent links form a cycle")
    target = default_target(parents) if target is None else target
    if target not in tables:
        raise NetworkSpecError(unknown_message("target", target, tables))
    latent = set(latent)
    for node in latent:
        if node not in tables or node == target:
            raise NetworkSpecError(
                unknown_message("latent node", node, [n for n in tables if n != target])
            )
    nodes: dict[str, NodeSpec] = {}
    for node in nx.lexicographical_topological_sort(graph):
        states, ps, values = tables[node]
        cpt, sums = _checked_table(node, values, states, [tables[p][0] for p in ps])
        kind = "target" if node == target else "latent" if node in latent else "finding"
        nodes[node] = NodeSpec(
            name=node,
            kind=kind,
            states=states,
            parents=ps,
            cpt=cpt,
            provenance=_row_provenance(origin, sums, len(states)),
            is_default=np.zeros(cpt.shape, dtype=bool),
            description=f"imported from {origin}",
            file=origin,
        )
    tnode = nodes[target]
    profiles = {}
    if not tnode.parents:
        profiles[IMPORTED] = Profile(
            IMPORTED,
            f"prior of {target!r} as imported from {origin}",
            tnode.cpt[0],
            tnode.provenance[0],
        )
    return NetworkSpec(
        name=name,
        version="",
        path=path,
        target=target,
        nodes=nodes,
        labels={s: s for s in tnode.states},
        groups={s: s for s in tnode.states},
        group_labels={s: s for s in tnode.states},
        sources={},
        verbal_scale={},
        profiles=profiles,
        profile=IMPORTED,
        default_profile=IMPORTED,
        content_hash=tables_hash(nodes.values()),
    )


def _names(values: Iterable[Any], what: str) -> tuple[str, ...]:
    out = tuple(str(v) for v in values)
    if len(set(out)) != len(out):
        raise NetworkSpecError(f"{what}: names repeat once written as text: {', '.join(out)}")
    return out


def _known(name: Any) -> str:
    """A network name, or "" when absent or a placeholder ("unknown")."""
    text = "" if name is None else str(name).strip()
    return "" if text.lower() in ("", "unknown", "untitled") else text


def _pgmpy_tables(model: Any) -> dict[str, tuple[tuple[str, ...], tuple[str, ...], np.ndarray]]:
    tables = {}
    for node in model.nodes():
        cpd = model.get_cpds(node)
        if cpd is None:
            raise NetworkSpecError(f"node {node!r} has no conditional table (pgmpy TabularCPD)")
        variables = list(cpd.variables)
        states = _names(cpd.state_names[variables[0]], f"states of node {node!r}")
        ps = _names(variables[1:], f"parents of node {node!r}")
        values = np.asarray(cpd.values, dtype=float).reshape(len(states), -1).T
        tables[str(node)] = (states, ps, values)
    return tables


def _is_pgmpy_model(model: Any) -> bool:
    """Whether ``model`` looks like a pgmpy network (``nodes()`` and ``get_cpds``)."""
    return callable(getattr(model, "nodes", None)) and callable(getattr(model, "get_cpds", None))


_PGMPY_MODEL = "a pgmpy DiscreteBayesianNetwork (with a TabularCPD for every node)"


def from_pgmpy(
    model: Any,
    *,
    target: str | None = None,
    latent: Iterable[str] = (),
    name: str | None = None,
    origin: str = "a pgmpy model",
) -> Network:
    """Wrap a pgmpy ``DiscreteBayesianNetwork`` as a :class:`~softcalc_bayes.Network`.

    Parameters
    ----------
    model : pgmpy.models.DiscreteBayesianNetwork
        A model with a ``TabularCPD`` for every node.
    target : str, optional
        The default query node (module docstring: how it is chosen when omitted).
    latent : iterable of str
        Nodes that are never observed (evidence on them is refused).
    name : str, optional
        Network name (default: the model's ``name`` if it has one, else "imported").
    origin : str
        Where the model came from; written into every entry's provenance.

    Returns
    -------
    Network
        Every entry's provenance has basis ``"imported"``.

    Raises
    ------
    InvalidParameterError
        ``model`` is not a pgmpy model (for example None, or a
        :class:`~softcalc_bayes.Network`, which needs no import).
    NetworkSpecError
        A node without a table, an unknown target or latent node, a row that does not
        sum to 1 (beyond ``ROW_TOLERANCE``) or has a negative entry.

    Examples
    --------
    >>> from importlib.resources import files
    >>> from pgmpy.readwrite import BIFReader
    >>> path = files("pgmpy").joinpath("utils/example_models/cancer.bif.gz")
    >>> model = BIFReader(string=gzip.decompress(path.read_bytes()).decode()).get_model()
    >>> net = from_pgmpy(model, target="Cancer")
    >>> net.posterior({"Xray": "positive"}).round(4).to_dict()
    {'False': 0.9497, 'True': 0.0503}
    """
    if isinstance(model, Network):
        raise InvalidParameterError(
            f"The 'model' parameter of from_pgmpy must be {_PGMPY_MODEL}. Got the network "
            f"{model.spec.name!r}, which is already a softcalc-bayes Network: use it as it is "
            "(its pgmpy_model attribute is the pgmpy model)."
        )
    check_param("from_pgmpy", "model", model, [Check(_is_pgmpy_model, _PGMPY_MODEL)])
    tables = _pgmpy_tables(model)
    label = name or _known(getattr(model, "name", None)) or "imported"
    spec = _spec(tables, target=target, latent=latent, name=label, origin=origin, path=None)
    return Network(spec)


def _read_text(path: Path) -> str:
    """The text of a BIF file; a missing, unreadable or binary file is a NetworkSpecError."""
    kind = path_kind(path)
    if kind == "missing":
        raise NetworkSpecError(f"{path}: file not found")
    if kind == "folder":
        raise NetworkSpecError(f"{path}: is a folder, not a BIF file")
    if not path.is_file():  # a FIFO, socket or device would block or never end
        raise NetworkSpecError(f"{path}: not a regular file, so not read as a BIF file")
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                return handle.read()
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NetworkSpecError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise NetworkSpecError(f"{path}: not UTF-8 text (is it a BIF file?)") from None
    except (OSError, EOFError, zlib.error) as exc:  # unreadable, or a damaged .gz
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise NetworkSpecError(f"{path}: cannot be read ({reason})") from None


def from_bif(
    path: str | Path, *, target: str | None = None, latent: Iterable[str] | None = None
) -> Network:
    """Read a BIF file (optionally ``.gz``) into a :class:`~softcalc_bayes.Network`.

    Numbers are read as doubles (:mod:`softcalc_bayes._bif`). Properties written by
    :func:`softcalc_bayes.export.export` (``softcalc_kind`` per variable, name and
    version of the network) are read back: target and latent nodes come from the file
    unless given here.

    Parameters
    ----------
    path : str or Path
        A ``.bif`` or ``.bif.gz`` file.
    target : str, optional
        The default query node (see module docstring).
    latent : iterable of str, optional
        Nodes never observed (default: those the file marks latent, else none).

    Raises
    ------
    NetworkSpecError
        ``path`` is not a str or Path; the file is missing, a folder, unreadable, not
        UTF-8 text or not valid BIF; or a table is invalid.

    Examples
    --------
    >>> from importlib.resources import files
    >>> asia = files("pgmpy").joinpath("utils/example_models/asia.bif.gz")
    >>> net = from_bif(asia, target="lung")
    >>> round(float(net.posterior({"xray": "yes", "smoke": "yes"})["yes"]), 4)
    0.646
    """
    if not isinstance(path, str | os.PathLike | Traversable):
        raise NetworkSpecError(f"path must be a BIF file (str or Path), got {described(path)}")
    path = Path(str(path))
    bif = parse_bif(_read_text(path), where=str(path))
    marked = {n: props.get("softcalc_kind") for n, props in bif.node_properties.items()}
    if target is None:
        target = next((n for n, kind in marked.items() if kind == "target"), None)
    if latent is None:
        latent = [n for n, kind in marked.items() if kind == "latent" and n != target]
    tables = {n: (bif.states[n], bif.parents[n], bif.tables[n]) for n in bif.states}
    spec = _spec(
        tables,
        target=target,
        latent=latent,
        name=bif.properties.get("softcalc_network") or _known(bif.name) or path.name.split(".")[0],
        origin=path.name,
        path=path,
    )
    return Network(replace(spec, version=bif.properties.get("softcalc_network_version", "")))
