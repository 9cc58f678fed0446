"""Write a network to the exchange formats of other tools, with its provenance.

Formats (``FORMATS``): BIF, XMLBIF, UAI, Hugin ``.net`` and GeNIe ``.xdsl``. Numbers are
written with 17 significant digits (``repr``), so a reader that parses doubles gets
back the same bits. Every export also writes a sidecar ``<file>.provenance.json`` with
the full parameter table (source, locator, basis, reason, strength of every entry),
node kinds, the original node and state names, the bibliography, the network's content
hash, its table hash, the profile and the library version. Inside the file itself:

- BIF: ``property softcalc_* = "...";`` lines (network block: name, version, hashes,
  profile, target; variable blocks: kind and one line per table row with basis,
  source and locator).
- XMLBIF: ``<PROPERTY>`` elements, the same content.
- Hugin ``.net``: node attributes ``softcalc_kind`` and ``softcalc_row_<i>`` and
  network attributes, the same content.
- GeNIe ``.xdsl``: ``<property id="softcalc_...">`` elements in each node, and the
  network's properties in a comment.
- UAI: numbers only (no names, no properties); the sidecar holds everything else.

XMLBIF is written by pgmpy's ``XMLBIFWriter``. The other four are written here: pgmpy's
UAI writer orders table entries with the parents varying fastest (the UAI format wants
the child fastest, as pyAgrum reads it), pgmpy's ``.net`` writer rounds to 8 decimals,
pyAgrum's ``.xdsl`` and ``.uai`` writers to 6 significant digits, and neither writes
provenance. Names that a format cannot hold are rewritten (``_ids``) and the mapping is
in the sidecar.
"""

from __future__ import annotations

import itertools
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._params import BOOLEAN, NETWORK, PATH, validate_params
from ._provenance_hash import result_attrs, tables_hash
from ._rows import Provenance
from ._validation import unknown_message
from .exceptions import ExportError
from .network import Network
from .spec import NodeSpec

__all__ = ["FORMATS", "SIDECAR_SUFFIX", "ExportError", "export", "format_for", "sidecar"]

FORMATS: dict[str, tuple[str, ...]] = {
    "bif": (".bif",),
    "xmlbif": (".xmlbif", ".xml", ".bifxml"),
    "uai": (".uai",),
    "net": (".net",),
    "xdsl": (".xdsl",),
}
SIDECAR_SUFFIX = ".provenance.json"
_WORD = re.compile(r"[A-Za-z0-9_]+")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_XDSL_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


@validate_params({"path": [PATH]})
def format_for(path: str | Path, format: str | None = None) -> str:
    """The export format: ``format`` if given (any case), else from the file suffix.

    Raises
    ------
    ExportError
        Unknown format (with the closest match), or a suffix that names none.
    InvalidParameterError
        ``path`` is not a str or Path.

    Examples
    --------
    >>> format_for("model.xdsl"), format_for("x.txt", "bif"), format_for("x.txt", "XDSL")
    ('xdsl', 'bif', 'xdsl')
    """
    if format is not None:
        name = format.lower() if isinstance(format, str) else None
        if name not in FORMATS:
            raise ExportError(unknown_message("format", format, FORMATS))
        return name
    suffix = Path(path).suffix.lower()
    for name, suffixes in FORMATS.items():
        if suffix in suffixes:
            return name
    known = [s for suffixes in FORMATS.values() for s in suffixes]
    raise ExportError(
        f"Cannot tell the format of {str(path)!r} from its suffix {suffix!r}: give format= "
        f"(one of {', '.join(FORMATS)}) or use one of {', '.join(known)}"
    )


def _ids(names: Sequence[str], pattern: re.Pattern[str]) -> dict[str, str]:
    """A file-safe id for each name (kept when valid), unique within ``names``."""
    out: dict[str, str] = {}
    taken = set(n for n in names if pattern.fullmatch(n))
    for name in names:
        if pattern.fullmatch(name):
            out[name] = name
            continue
        base = re.sub(r"[^A-Za-z0-9_]", "_", name)
        base = base if pattern.fullmatch(base) else f"s_{base}"
        candidate, k = base, 1
        while candidate in taken:
            k += 1
            candidate = f"{base}_{k}"
        taken.add(candidate)
        out[name] = candidate
    return out


class _Names:
    """Node and state ids for one format."""

    def __init__(self, net: Network, pattern: re.Pattern[str]) -> None:
        self.node = _ids(list(net.nodes), pattern)
        self.state = {n: _ids(list(net.states(n)), pattern) for n in net.nodes}

    def states(self, node: str) -> list[str]:
        return list(self.state[node].values())


def _prov_text(prov: Provenance) -> str:
    parts = [f"basis {prov.basis}"]
    if prov.source:
        parts.append(f"source {prov.source}")
    if prov.locator:
        parts.append(f"locator {prov.locator}")
    return " | ".join(parts)


def _row_texts(node: NodeSpec) -> list[str]:
    """One line per table row: its provenance (per state when the entries differ)."""
    rows = []
    for row in node.provenance:
        if len(set(row)) == 1:
            rows.append(_prov_text(row[0]))
        else:
            rows.append(
                " || ".join(f"{s}: {_prov_text(p)}" for s, p in zip(node.states, row, strict=True))
            )
    return rows


def _meta(net: Network) -> dict[str, str]:
    meta = dict(result_attrs(net.spec))
    meta["tables_hash"] = tables_hash(net.spec.nodes.values())
    meta["target"] = net.target
    return meta


def _quoted(text: str) -> str:
    """A property value that BIF and .net readers (pgmpy, pyAgrum) accept inside quotes."""
    return '"' + " ".join(text.replace('"', "'").replace(";", ",").replace("=", ":").split()) + '"'


def _num(values: Iterable[float], sep: str = " ") -> str:
    return sep.join(repr(float(v)) for v in values)


def _configs(net: Network, node: NodeSpec, names: _Names) -> list[tuple[str, ...]]:
    return list(itertools.product(*(names.states(p) for p in node.parents)))


def _write_bif(net: Network, path: Path) -> None:
    names = _Names(net, _WORD)
    word = _ids([net.spec.name], _WORD)[net.spec.name]
    lines = [f"network {word} {{"]
    lines += [f"    property softcalc_{k} = {_quoted(v)};" for k, v in _meta(net).items()]
    lines.append("}")
    for name, node in net.spec.nodes.items():
        lines.append(f"variable {names.node[name]} {{")
        states = ", ".join(names.states(name))
        lines.append(f"    type discrete [ {len(node.states)} ] {{ {states} }};")
        lines.append(f"    property softcalc_kind = {_quoted(node.kind)};")
        for c, text in enumerate(_row_texts(node)):
            lines.append(f"    property softcalc_row_{c} = {_quoted(text)};")
        lines.append("}")
    for name, node in net.spec.nodes.items():
        scope = names.node[name]
        if node.parents:
            scope += " | " + ", ".join(names.node[p] for p in node.parents)
        lines.append(f"probability ( {scope} ) {{")
        if not node.parents:
            lines.append(f"    table {_num(node.cpt[0], ', ')};")
        for config, row in zip(_configs(net, node, names), node.cpt, strict=False):
            if node.parents:
                lines.append(f"    ( {', '.join(config)} ) {_num(row, ', ')};")
        lines.append("}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_xmlbif(net: Network, path: Path) -> None:
    from pgmpy.readwrite import XMLBIFWriter

    from .build import pgmpy_model_from_nodes

    model = pgmpy_model_from_nodes(list(net.spec.nodes.values()))
    for name, node in net.spec.nodes.items():
        model.nodes[name]["softcalc_kind"] = node.kind
        for c, text in enumerate(_row_texts(node)):
            model.nodes[name][f"softcalc_row_{c}"] = text.replace("=", ":")
    XMLBIFWriter(model).write(str(path))
    tree = ET.parse(path)
    network = tree.getroot().find("NETWORK")
    if network is None:  # pragma: no cover - pgmpy always writes one
        raise ExportError(f"{path}: pgmpy wrote no NETWORK element")
    title = network.find("NAME")
    if title is not None:
        title.text = net.spec.name
    for k, (key, value) in enumerate(_meta(net).items()):
        prop = ET.Element("PROPERTY")
        prop.text = f"softcalc_{key} = {value.replace('=', ':')}"
        network.insert(1 + k, prop)
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def _write_uai(net: Network, path: Path) -> None:
    order = list(net.spec.nodes)
    index = {n: i for i, n in enumerate(order)}
    nodes = list(net.spec.nodes.values())
    lines = ["BAYES", str(len(nodes)), " ".join(str(len(n.states)) for n in nodes), str(len(nodes))]
    for node in nodes:  # scope: parents, then the child (which varies fastest)
        scope = [index[p] for p in node.parents] + [index[node.name]]
        lines.append(" ".join(str(v) for v in [len(scope), *scope]))
    lines.append("")
    for node in nodes:
        lines.append(str(node.cpt.size))
        lines += [_num(row) for row in node.cpt]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def _write_net(net: Network, path: Path) -> None:
    names = _Names(net, _IDENT)
    lines = ["net", "{"]
    lines += [f"    softcalc_{k} = {_quoted(v)};" for k, v in _meta(net).items()]
    lines.append("}")
    for name, node in net.spec.nodes.items():
        lines.append(f"node {names.node[name]}")
        lines.append("{")
        lines.append(f"    label = {_quoted(name)};")
        lines.append(f"    states = ({' '.join(_quoted(s) for s in names.states(name))});")
        lines.append(f"    softcalc_kind = {_quoted(node.kind)};")
        for c, text in enumerate(_row_texts(node)):
            lines.append(f"    softcalc_row_{c} = {_quoted(text)};")
        lines.append("}")
    for name, node in net.spec.nodes.items():
        parents = " ".join(names.node[p] for p in node.parents)
        lines.append(f"potential ( {names.node[name]}{' | ' + parents if parents else ''} )")
        lines.append("{")
        lines.append("    data = (" + " ".join(f"({_num(row)})" for row in node.cpt) + ");")
        lines.append("}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_xdsl(net: Network, path: Path) -> None:
    names = _Names(net, _XDSL_ID)
    word = _ids([net.spec.name], _XDSL_ID)[net.spec.name]
    root = ET.Element("smile", {"version": "1.0", "id": word, "numsamples": "10000"})
    meta = "; ".join(f"softcalc_{k} = {v}" for k, v in _meta(net).items())
    root.append(ET.Comment(f" {meta} "))
    nodes_el = ET.SubElement(root, "nodes")
    for name, node in net.spec.nodes.items():
        cpt = ET.SubElement(nodes_el, "cpt", {"id": names.node[name]})
        for state in names.states(name):
            ET.SubElement(cpt, "state", {"id": state})
        if node.parents:
            ET.SubElement(cpt, "parents").text = " ".join(names.node[p] for p in node.parents)
        ET.SubElement(cpt, "probabilities").text = _num(np.ravel(node.cpt))
        ET.SubElement(cpt, "property", {"id": "softcalc_kind"}).text = node.kind
        for c, text in enumerate(_row_texts(node)):
            ET.SubElement(cpt, "property", {"id": f"softcalc_row_{c}"}).text = text
    ext = ET.SubElement(root, "extensions")
    genie = ET.SubElement(
        ext, "genie", {"version": "1.0", "app": "softcalc-bayes", "name": net.spec.name}
    )
    for name in net.spec.nodes:
        gnode = ET.SubElement(genie, "node", {"id": names.node[name]})
        ET.SubElement(gnode, "name").text = name
    tree = ET.ElementTree(root)
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)


_WRITERS: dict[str, Callable[[Network, Path], None]] = {
    "bif": _write_bif,
    "xmlbif": _write_xmlbif,
    "uai": _write_uai,
    "net": _write_net,
    "xdsl": _write_xdsl,
}
_PATTERNS = {"bif": _WORD, "xmlbif": _WORD, "uai": None, "net": _IDENT, "xdsl": _XDSL_ID}


def sidecar(net: Network, format: str) -> dict[str, Any]:
    """Everything the sidecar file holds (see module docstring), as plain Python."""
    pattern = _PATTERNS[format]
    names = None if pattern is None else _Names(net, pattern)
    nodes = {}
    for i, (name, node) in enumerate(net.spec.nodes.items()):
        nodes[name] = {
            "id": str(i) if names is None else names.node[name],
            "kind": node.kind,
            "states": list(node.states),
            "state_ids": list(node.states) if names is None else names.states(name),
            "parents": list(node.parents),
            "description": node.description,
        }
    params = net.parameters()
    params["strength"] = params["strength"].astype(object).where(params["strength"].notna(), None)
    records = json.loads(params.to_json(orient="records"))
    return {
        "format": format,
        **_meta(net),
        "limits": _LIMITS[format],
        "nodes": nodes,
        "sources": {k: vars(v) for k, v in net.spec.sources.items()},
        "parameters": records,
    }


_LIMITS = {
    "bif": "names outside [A-Za-z0-9_] are rewritten; per row basis, source and locator "
    "in properties; reasons and strengths only in this sidecar",
    "xmlbif": "names outside [A-Za-z0-9_] are rewritten; per row basis, source and locator "
    "in PROPERTY elements; reasons and strengths only in this sidecar",
    "uai": "no node or state names, no kinds, no provenance: nodes are numbered in the "
    "order of 'nodes' in this sidecar",
    "net": "node names outside [A-Za-z_][A-Za-z0-9_]* are rewritten (label keeps the name); "
    "per row basis, source and locator in node attributes",
    "xdsl": "ids start with a letter: other names are rewritten (the node's <name> keeps "
    "it; original state names only in this sidecar); per row provenance in node properties",
}


def _written(target: Path, write: Callable[[], object]) -> None:
    """Run ``write``; an OS error (disk full, no permission) names ``target`` and the cause."""
    try:
        write()
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise ExportError(f"Cannot write {target}: {reason}") from exc


@validate_params({"net": [NETWORK], "path": [PATH], "provenance": [BOOLEAN]})
def export(
    net: Network, path: str | Path, *, format: str | None = None, provenance: bool = True
) -> Path:
    """Write ``net`` to ``path`` in an exchange format, with a provenance sidecar.

    Parameters
    ----------
    net : Network
        The network (its current profile is written as the target's prior).
    path : str or Path
        The file to write; its folder must exist.
    format : {"bif", "xmlbif", "uai", "net", "xdsl"}, optional
        In any case (``"BIF"`` is ``"bif"``). Default: from the suffix of ``path`` (``.bif``, ``.xml``/``.xmlbif``/``.bifxml``,
        ``.uai``, ``.net``, ``.xdsl``).
    provenance : bool
        Also write ``<path>.provenance.json`` (default True).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ExportError
        Unknown format; the folder of ``path`` does not exist; ``path`` (or its
        sidecar) is a folder; or a file cannot be written (the message names the file
        and the system's reason, e.g. "No space left on device").
    InvalidParameterError
        ``net`` is not a Network, ``path`` not a str or Path, ``provenance`` not a bool.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from softcalc_bayes import load_network
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> export(load_network(), folder / "softcalc.xdsl").name
    'softcalc.xdsl'
    >>> sorted(p.name for p in folder.iterdir())
    ['softcalc.xdsl', 'softcalc.xdsl.provenance.json']
    """
    path = Path(path)
    fmt = format_for(path, format)
    if "\x00" in str(path):
        raise ExportError(f"Cannot write {str(path)!r}: a file name cannot hold a NUL character")
    if not path.parent.is_dir():
        raise ExportError(f"Cannot write {path}: folder {path.parent} does not exist")
    side = path.with_name(path.name + SIDECAR_SUFFIX) if provenance else None
    for target in (path, side):
        if target is not None and target.is_dir():
            raise ExportError(f"Cannot write {target}: it is a folder")
    _written(path, lambda: _WRITERS[fmt](net, path))
    if side is not None:
        text = json.dumps(sidecar(net, fmt), indent=1, ensure_ascii=False)
        _written(side, lambda: side.write_text(text, encoding="utf-8"))
    return path
