"""Import (from_pgmpy, from_bif), export to five formats, and round trips through pyAgrum."""

from __future__ import annotations

import functools
import gzip
import itertools
import json
import re
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from _random_nets import random_networks
from softcalc_bayes import Network, coverage, posterior_uncertainty
from softcalc_bayes._bif import parse_bif
from softcalc_bayes._provenance_hash import content_hash, tables_hash
from softcalc_bayes.build import pgmpy_model_from_nodes
from softcalc_bayes.exceptions import (
    EvidenceError,
    ExportError,
    InvalidParameterError,
    NetworkSpecError,
)
from softcalc_bayes.export import FORMATS, SIDECAR_SUFFIX, export
from softcalc_bayes.interop import default_target, from_bif, from_pgmpy

gum = pytest.importorskip("pyagrum")

EXAMPLES = Path(str(files("pgmpy").joinpath("utils/example_models")))
# Bundled bnlearn networks compared node by node with pgmpy (alarm: rows renormalised)
SMALL = ["cancer", "asia", "child", "alarm"]
# random evidence sets compared with pyAgrum where it reads doubles (about 1 min of the suite)
N_EVIDENCE = 1000


def _bundled(name: str) -> Path:
    return EXAMPLES / f"{name}.bif.gz"


@functools.cache
def _pgmpy_model(name: str) -> Any:
    """pgmpy's own reading of a bundled file (no network access)."""
    from pgmpy.readwrite import BIFReader

    return BIFReader(string=gzip.open(_bundled(name), "rt").read()).get_model()


def _marginals(net: Network, evidence: dict[str, str]) -> dict[str, pd.Series]:
    """Posterior of every unobserved node."""
    return dict(net.marginals(evidence))


def _forward_samples(net: Network, n: int, seed: int) -> list[dict[str, str]]:
    """Evidence sets of positive probability: ancestral samples, a random subset kept."""
    rng = np.random.default_rng(seed)
    spec = net.spec
    observable = [m for m in net.nodes if spec.nodes[m].kind == "finding"]
    out = []
    for _ in range(n):
        values: dict[str, int] = {}
        for name, node in spec.nodes.items():
            config = 0
            for p in node.parents:
                config = config * len(spec.nodes[p].states) + values[p]
            row = node.cpt[config]
            values[name] = int(rng.choice(len(row), p=row / row.sum()))
        k = int(rng.integers(0, min(8, len(observable)) + 1))
        chosen = rng.choice(observable, size=k, replace=False)
        out.append({str(m): spec.nodes[str(m)].states[values[str(m)]] for m in chosen})
    return out


@pytest.fixture(scope="module")
def asia() -> Network:
    return from_bif(_bundled("asia"), target="lung", latent=["either"])


@pytest.fixture(scope="module")
def exported(net: Network, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("export")
    # .bifxml: the suffix pyAgrum reads XMLBIF under
    return {fmt: export(net, folder / f"softcalc{FORMATS[fmt][-1]}") for fmt in FORMATS}


# ----------------------------------------------------------------- import
def test_bif_reader_matches_pgmpy() -> None:

    for name in ["child"]:  # state names such as "<7.5" and ">=7.5"
        ours = parse_bif(gzip.open(_bundled(name), "rt").read())
        model = _pgmpy_model(name)
        for cpd in model.get_cpds():
            node = cpd.variable
            assert ours.states[node] == tuple(cpd.state_names[node])
            assert ours.parents[node] == tuple(cpd.variables[1:])
            values = cpd.values.reshape(cpd.variable_card, -1).T
            assert np.array_equal(ours.tables[node], values)


@pytest.mark.parametrize("name", SMALL)
def test_imported_posteriors_match_pgmpy_on_the_original(name: str) -> None:
    from pgmpy.inference import VariableElimination

    model = _pgmpy_model(name).copy()  # pgmpy's own reader, pgmpy's own inference
    for cpd in model.get_cpds():
        cpd.normalize()  # rows that do not sum to 1 are read as from_bif reads them
    net = from_bif(_bundled(name))
    reference = VariableElimination(model)
    for evidence in _forward_samples(net, 3, seed=1):
        ours = _marginals(net, evidence)
        for node, post in ours.items():
            factor = reference.query([node], evidence=evidence or None, show_progress=False)
            expected = pd.Series(factor.values, index=factor.state_names[node])
            assert np.allclose(post.reindex(expected.index), expected, rtol=0, atol=1e-12)


def test_from_pgmpy_keeps_tables_and_marks_provenance_imported() -> None:
    model = _pgmpy_model("cancer")
    net = from_pgmpy(model, target="Cancer", name="cancer")
    assert net.target == "Cancer" and net.spec.name == "cancer"
    for cpd in model.get_cpds():
        node = net.node(cpd.variable)
        assert node.parents == tuple(cpd.variables[1:])
        assert np.array_equal(node.cpt, cpd.values.reshape(cpd.variable_card, -1).T)
    params = net.parameters()
    assert set(params["basis"]) == {"imported"}
    assert params["strength"].isna().all() and params["source"].isna().all()
    report = coverage(net)
    assert report.overall["imported"] == 1.0 and report.documented_row_share == 0.0


def test_default_network_is_unaffected_by_the_imported_basis(net: Network) -> None:
    assert "imported" not in coverage(net).overall.index


@pytest.mark.parametrize(
    ("parents", "expected"),
    [
        ({"smoke": [], "asia": [], "lung": ["smoke"], "xray": ["lung"]}, "smoke"),
        ({"a": [], "b": [], "c": ["a"], "d": ["b"]}, "a"),  # tie: name order
        ({"x": [], "DIAGNOSIS": ["x"]}, "DIAGNOSIS"),
        ({"x": [], "disease": ["x"], "diagnosis": ["x"]}, "diagnosis"),
    ],
)
def test_default_target(parents: dict[str, list[str]], expected: str) -> None:
    assert default_target(parents) == expected


def test_kinds_and_target(asia: Network) -> None:
    assert asia.target == "lung" and asia.latent == ("either",)
    assert asia.node("lung").kind == "target"
    with pytest.raises(EvidenceError, match="latent"):
        asia.posterior({"either": "yes"})
    assert asia.posterior({"xray": "yes"}).sum() == pytest.approx(1.0, abs=1e-12)


def test_sensitivity_runs_on_an_imported_network(asia: Network) -> None:
    from softcalc_bayes import sensitivity

    table = sensitivity(asia, {"xray": "yes", "dysp": "yes"})
    assert set(table["basis"]) == {"imported"}
    assert table["sensitivity_value"].abs().max() > 0


def test_uncertainty_refuses_an_imported_network(asia: Network) -> None:
    with pytest.raises(NetworkSpecError, match=r"no strength .* basis unknown"):
        posterior_uncertainty(asia, {"xray": "yes"}, n_samples=10)


def _bif(rows: str, extra: str = "") -> str:
    return (
        "network t { }\n"
        "variable a { type discrete [ 2 ] { yes, no }; }\n"
        "variable b { type discrete [ 2 ] { yes, no }; }\n"
        + extra
        + "probability ( a ) { table 0.3, 0.7; }\n"
        f"probability ( b | a ) {{ {rows} }}\n"
    )


def test_rows_off_by_a_little_are_renormalised_and_say_so(tmp_path: Path) -> None:
    path = tmp_path / "t.bif"
    path.write_text(_bif("(yes) 0.2, 0.8000001; (no) 0.5, 0.5;"))
    net = from_bif(path)
    row = net.node("b").cpt[0]
    assert row.sum() == pytest.approx(1.0, abs=1e-15)
    assert row[0] == pytest.approx(0.2 / 1.0000001, rel=1e-15)
    params = net.parameters()
    noted = params[params["reason"].str.contains("renormalised", na=False)]
    assert list(noted["node"]) == ["b", "b"] and "1.0000001" in noted["reason"].iloc[0]
    assert net.node("b").cpt[1].tolist() == [0.5, 0.5]  # exact rows are kept bit for bit


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (_bif("(yes) 0.2, 0.9; (no) 0.5, 0.5;"), r"node 'b', row 0 \(yes\): entries sum to 1.1"),
        (_bif("(yes) -0.2, 1.2; (no) 0.5, 0.5;"), r"node 'b', row 0 \(yes\): .* >= 0"),
        (_bif("(yes) 0.2, 0.8;"), r"no numbers for parent states \('no',\)"),
        (_bif("(yes) 0.2, 0.8; (maybe) 0.5, 0.5;"), r"unknown parent states \('maybe',\)"),
        (_bif("(yes) 0.2, x; (no) 0.5, 0.5;"), "expected numbers"),
        (
            "network t { }\nvariable a { type discrete [ 3 ] { y, n }; }",
            "3 states declared, 2 listed",
        ),
        ("variable a { type discrete [ 2 ] { y, n }; }", "variable 'a' has no probability block"),
        ("node a { }", "expected 'network', 'variable' or 'probability'"),
    ],
)
def test_bad_bif_files_name_the_problem(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "bad.bif"
    path.write_text(text)
    with pytest.raises(NetworkSpecError, match=match):
        from_bif(path)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"target": "lungs"}, "Unknown target 'lungs'. Did you mean 'lung'"),
        ({"latent": ["eithr"]}, "Unknown latent node 'eithr'. Did you mean 'either'"),
    ],
)
def test_bad_import_arguments(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(NetworkSpecError, match=match):
        from_bif(_bundled("asia"), **kwargs)


def test_missing_file() -> None:
    with pytest.raises(NetworkSpecError, match="file not found"):
        from_bif("no/such/file.bif")


def _binary_file(folder: Path) -> Path:
    path = folder / "binary.bif"
    path.write_bytes(b"\xff\xfe\x00network")
    return path


@pytest.mark.parametrize(
    ("path", "match"),
    [
        (lambda tmp: tmp, r"is a folder, not a BIF file"),
        (_binary_file, r"binary\.bif: not UTF-8 text"),
        (lambda tmp: str(tmp).encode(), r"path must be a BIF file \(str or Path\), got bytes"),
        (lambda tmp: None, r"path must be a BIF file \(str or Path\), got NoneType None"),
    ],
)
def test_unreadable_bif_paths(tmp_path: Path, path: Any, match: str) -> None:
    with pytest.raises(NetworkSpecError, match=match):
        from_bif(path(tmp_path))


@pytest.mark.parametrize(
    ("model", "match"),
    [
        (None, r"The 'model' parameter of from_pgmpy must be a pgmpy DiscreteBayesianNetwork"),
        ("asia", r"must be a pgmpy DiscreteBayesianNetwork.*Got 'asia' instead"),
        ("net", r"is already a softcalc-bayes Network: use it as it is"),
    ],
)
def test_from_pgmpy_refuses_what_is_not_a_pgmpy_model(net: Network, model: Any, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        from_pgmpy(net if model == "net" else model)


# ----------------------------------------------------------------- export
def test_bif_round_trip_is_bit_exact(net: Network, exported: dict[str, Path]) -> None:
    back = from_bif(exported["bif"])
    assert tables_hash(back.spec.nodes.values()) == tables_hash(net.spec.nodes.values())
    assert back.target == net.target and back.latent == net.latent
    assert back.findings == net.findings
    assert (back.spec.name, back.spec.version) == (net.spec.name, net.spec.version)
    for evidence in _forward_samples(net, 20, seed=2):
        ours, theirs = _marginals(net, evidence), _marginals(back, evidence)
        for node, post in ours.items():
            assert np.array_equal(post.to_numpy(), theirs[node].reindex(post.index).to_numpy())


def test_xmlbif_round_trip_through_pgmpy_is_bit_exact(
    net: Network, exported: dict[str, Path]
) -> None:
    from pgmpy.readwrite import XMLBIFReader

    back = from_pgmpy(XMLBIFReader(str(exported["xmlbif"])).get_model(), target=net.target)
    assert tables_hash(back.spec.nodes.values()) == tables_hash(net.spec.nodes.values())


def _numbers(text: str) -> np.ndarray:
    return np.array([float(x) for x in re.findall(r"[-+]?\d[\d.]*(?:[eE][-+]?\d+)?", text)])


def test_uai_and_net_hold_every_number_exactly(net: Network, exported: dict[str, Path]) -> None:
    expected = np.concatenate([np.ravel(node.cpt) for node in net.spec.nodes.values()])
    net_text = exported["net"].read_text()
    data = "".join(re.findall(r"data = (\(.*?\));", net_text))
    assert np.array_equal(_numbers(data), expected)
    uai = exported["uai"].read_text().split("\n\n", 1)[1]  # after the preamble
    sizes = [node.cpt.size for node in net.spec.nodes.values()]
    numbers = _numbers(uai)
    tables, at = [], 0
    for size in sizes:
        assert numbers[at] == size
        tables.append(numbers[at + 1 : at + 1 + size])
        at += 1 + size
    assert np.array_equal(np.concatenate(tables), expected)


def _pyagrum_marginals(
    ie: Any, ids: dict[str, Any], evidence: dict[str, str], nodes: list[str]
) -> dict[str, np.ndarray]:
    ie.eraseAllEvidence()
    ie.setEvidence({ids[n]["id"]: ids[n]["label"][s] for n, s in evidence.items()})
    ie.makeInference()
    out = {}
    for node in nodes:
        values = ie.posterior(ids[node]["id"]).toarray()
        out[node] = values[ids[node]["order"]]
    return out


def _pyagrum_ids(bn: Any, side: dict[str, Any]) -> dict[str, Any]:
    ids = {}
    for name, entry in side["nodes"].items():
        var_id = bn.idFromName(entry["id"])
        labels = list(bn.variable(var_id).labels())
        order = [labels.index(sid) for sid in entry["state_ids"]]
        ids[name] = {
            "id": var_id,
            "order": order,
            "label": {s: labels[order[i]] for i, s in enumerate(entry["states"])},
        }
    return ids


# pyAgrum reads XMLBIF and .xdsl numbers as doubles, but .bif, .net and .uai numbers as
# single-precision floats: agreement there is limited by its reader, not by the file.
PYAGRUM_TOLERANCE = {"xmlbif": 1e-12, "bif": 1e-5, "net": 1e-5}


@pytest.mark.parametrize("fmt", list(PYAGRUM_TOLERANCE))
def test_pyagrum_reads_each_export_and_agrees(
    net: Network, exported: dict[str, Path], fmt: str
) -> None:
    path = exported[fmt]
    side = json.loads(Path(str(path) + SIDECAR_SUFFIX).read_text())
    bn = gum.loadBN(str(path))
    assert bn.size() == len(net.nodes)
    ids = _pyagrum_ids(bn, side)
    for name in net.nodes:
        parents = {bn.variable(p).name() for p in bn.parents(ids[name]["id"])}
        assert parents == {side["nodes"][p]["id"] for p in net.node(name).parents}
    n = N_EVIDENCE if PYAGRUM_TOLERANCE[fmt] < 1e-9 else 30
    worst = 0.0
    states = {name: list(net.states(name)) for name in net.nodes}
    # Shafer-Shenoy: pyAgrum's other exact junction-tree engine, about 5x faster than
    # LazyPropagation at posteriors of every node (the same answers either way)
    ie = gum.ShaferShenoyInference(bn)
    for evidence in _forward_samples(net, n, seed=3):
        ours = _marginals(net, evidence)
        theirs = _pyagrum_marginals(ie, ids, evidence, list(ours))
        for node, post in ours.items():
            assert post.index.tolist() == states[node]  # network order, as theirs[node]
            worst = max(worst, float(np.abs(post.to_numpy() - theirs[node]).max()))
    assert worst <= PYAGRUM_TOLERANCE[fmt]


def _pyagrum_table_errors(
    net: Network, bn: Any, names: dict[str, str], first_fastest: bool
) -> tuple[float, float]:
    """Largest |pyAgrum - ours| over tables with at most one parent, and with two or more.

    Row ``r`` of our table is parent configuration ``r`` in C order (last parent
    fastest); ``first_fastest`` reads it in Fortran order instead (first parent fastest).
    """
    worst = [0.0, 0.0]
    for node in net.spec.nodes.values():
        cards = [len(net.states(p)) for p in node.parents]
        k = int(len(cards) > 1)
        for r in range(node.cpt.shape[0]):
            config = (
                np.unravel_index(r, cards, order="F" if first_fastest else "C") if cards else ()
            )
            assignment = {names[p]: int(v) for p, v in zip(node.parents, config, strict=True)}
            for s in range(len(node.states)):
                assignment[names[node.name]] = s
                err = abs(bn.cpt(names[node.name])[assignment] - node.cpt[r, s])
                worst[k] = max(worst[k], err)
    return worst[0], worst[1]


@pytest.mark.parametrize(("fmt", "tolerance"), [("xdsl", 1e-15), ("uai", 1e-7)])
def test_pyagrum_reads_xdsl_and_uai_multi_parent_tables_in_its_own_order(
    net: Network, exported: dict[str, Path], fmt: str, tolerance: float
) -> None:
    """Both formats list a table row-major (last parent fastest, as pgmpy reads XDSL);
    pyAgrum 3 reads (and writes) nodes with two or more parents with the first parent
    fastest. Every table with at most one parent agrees; the others agree once the
    parents' order is reversed, which pins the difference down to that convention."""
    side = json.loads(Path(str(exported[fmt]) + SIDECAR_SUFFIX).read_text())
    names = {n: entry["id"] for n, entry in side["nodes"].items()}
    bn = gum.loadBN(str(exported[fmt]))
    single, multi = _pyagrum_table_errors(net, bn, names, first_fastest=False)
    assert single <= tolerance and multi > 0.01
    assert max(_pyagrum_table_errors(net, bn, names, first_fastest=True)) <= tolerance


def test_xdsl_round_trip_through_pgmpy_is_bit_exact(
    net: Network, exported: dict[str, Path]
) -> None:
    from pgmpy.readwrite import XDSLReader

    model = XDSLReader(str(exported["xdsl"])).get_model()
    side = json.loads(Path(str(exported["xdsl"]) + SIDECAR_SUFFIX).read_text())
    for name, entry in side["nodes"].items():
        cpd = model.get_cpds(entry["id"])
        assert list(cpd.variables[1:]) == [side["nodes"][p]["id"] for p in entry["parents"]]
        values = cpd.values.reshape(cpd.variable_card, -1).T
        assert np.array_equal(values, net.node(name).cpt)


def test_sidecar_carries_hash_version_and_every_parameter(
    net: Network, exported: dict[str, Path]
) -> None:
    side = json.loads(Path(str(exported["uai"]) + SIDECAR_SUFFIX).read_text())
    assert side["content_hash"] == content_hash(net.spec.path) == net.spec.content_hash
    assert side["network_version"] == net.spec.version and side["profile"] == net.profile
    assert side["tables_hash"] == tables_hash(net.spec.nodes.values())
    params = net.parameters()
    assert len(side["parameters"]) == len(params)
    assert [p["basis"] for p in side["parameters"]] == list(params["basis"])
    # the structural zeros of impossible combinations (compartment given site) are flagged
    flagged = [p["structural_zero"] for p in side["parameters"]]
    assert flagged == list(params["structural_zero"]) and sum(flagged) > 0
    assert side["nodes"]["amplification_12q"]["kind"] == "latent"
    assert set(side["sources"]) == set(net.spec.sources)


def test_in_file_provenance(net: Network, exported: dict[str, Path]) -> None:
    bif = parse_bif(exported["bif"].read_text())
    assert bif.properties["softcalc_content_hash"] == net.spec.content_hash
    props = bif.node_properties["fat_in_lesion"]
    assert props["softcalc_kind"] == "finding"
    assert any(
        "basis stated_number" in v or "basis clinical_inference" in v for v in props.values()
    )
    xdsl = exported["xdsl"].read_text()
    assert (
        net.spec.content_hash in xdsl and '<property id="softcalc_kind">latent</property>' in xdsl
    )
    assert "softcalc_kind" in exported["net"].read_text()


def test_names_a_format_cannot_hold_are_rewritten(net: Network, exported: dict[str, Path]) -> None:
    side = json.loads(Path(str(exported["xdsl"]) + SIDECAR_SUFFIX).read_text())
    states = dict(
        zip(
            side["nodes"]["lesion_size"]["states"],
            side["nodes"]["lesion_size"]["state_ids"],
            strict=True,
        )
    )
    assert states["3_to_10cm"] == "s_3_to_10cm"
    assert 'id="s_3_to_10cm"' in exported["xdsl"].read_text()


@pytest.mark.parametrize(
    ("path", "fmt", "match"),
    [
        ("x.bif", "gexf", "Unknown format 'gexf'"),
        ("x.dne", None, r"Cannot tell the format .* '\.dne'"),
        ("missing/x.bif", None, "folder .* does not exist"),
    ],
)
def test_export_errors(
    net: Network, tmp_path: Path, path: str, fmt: str | None, match: str
) -> None:
    with pytest.raises(ExportError, match=match):
        export(net, tmp_path / path, format=fmt)


def _folder(tmp: Path, name: str) -> Path:
    (tmp / name).mkdir()
    return tmp / name


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda n, tmp: n.save(None),
            InvalidParameterError,
            "The 'path' parameter of Network.save",
        ),
        (lambda n, tmp: n.save(5), InvalidParameterError, r"must be a str or Path\. Got 5"),
        (lambda n, tmp: export(n, b"x.bif"), InvalidParameterError, "'path' parameter of export"),
        (lambda n, tmp: export(None, tmp / "x.bif"), InvalidParameterError, "'net' parameter"),
        (
            lambda n, tmp: export(n, tmp / "x.bif", provenance="no"),
            InvalidParameterError,
            "The 'provenance' parameter of export must be a bool",
        ),
        (
            lambda n, tmp: n.save(_folder(tmp, "d.bif")),
            ExportError,
            r"Cannot write .*d\.bif: it is a folder",
        ),
        (
            lambda n, tmp: n.save(tmp / "x.bif") if _folder(tmp, "x.bif" + SIDECAR_SUFFIX) else 0,
            ExportError,
            r"Cannot write .*x\.bif\.provenance\.json: it is a folder",
        ),
    ],
)
def test_save_refuses_bad_paths(
    net: Network, tmp_path: Path, call: Any, error: Any, match: str
) -> None:
    with pytest.raises(error, match=match):
        call(net, tmp_path)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_export_to_a_full_disk_names_the_path_and_the_os_error(net: Network) -> None:
    with pytest.raises(ExportError, match=r"Cannot write /dev/full: .*No space left on device"):
        net.save("/dev/full", format="bif", provenance=False)


def test_format_is_case_insensitive(net: Network, tmp_path: Path) -> None:
    path = net.save(tmp_path / "x.txt", format="BIF")
    side = json.loads(Path(f"{path}{SIDECAR_SUFFIX}").read_text())
    assert side["format"] == "bif" and path.read_text().startswith("network ")


def test_cli_export_to_a_folder_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from softcalc_bayes.cli import main

    assert main(["export", str(_folder(tmp_path, "d.bif"))]) == 2
    assert "softcalc: error: Cannot write" in capsys.readouterr().err


def test_imported_network_exports_and_reimports(asia: Network, tmp_path: Path) -> None:
    back = from_bif(export(asia, tmp_path / "asia.bif"))
    assert back.target == "lung" and back.latent == ("either",)
    assert back.spec.content_hash == asia.spec.content_hash  # tables hash, bit-exact


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(nodes=random_networks(max_nodes=5))
def test_random_networks_round_trip_through_bif_and_xmlbif(
    nodes: list[Any], tmp_path: Path
) -> None:
    net = from_pgmpy(pgmpy_model_from_nodes(nodes))
    back = from_bif(export(net, tmp_path / "r.bif"))
    assert back.spec.content_hash == net.spec.content_hash
    bn = gum.loadBN(str(export(net, tmp_path / "r.bifxml")))
    for node in net.spec.nodes.values():
        configs = itertools.product(*(range(len(net.states(p))) for p in node.parents))
        for c, config in enumerate(configs):
            for s in range(len(node.states)):
                assignment = {**dict(zip(node.parents, config, strict=True)), node.name: s}
                assert bn.cpt(node.name)[assignment] == node.cpt[c, s]
