"""The validator: every class of invalid file is rejected with a message naming it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from conftest import write_network
from softcalc_bayes import NetworkSpecError, load_network, load_spec

Files = dict[str, Any]


def _set(path: str, key_path: list[Any], value: Any) -> Callable[[Files], None]:
    def edit(files: Files) -> None:
        node = files[path]
        for key in key_path[:-1]:
            node = node[key]
        node[key_path[-1]] = value

    return edit


def _cycle(files: Files) -> None:
    files["nodes/latent.yaml"]["parents"] = ["test"]
    files["nodes/latent.yaml"]["rows"] = []
    files["nodes/test.yaml"]["rows"] = []


def _duplicate_source(files: Files) -> None:
    files["sources/other.yaml"] = {"src_a": {"citation": "Someone else. Another paper. 2001."}}


def _ambiguous(files: Files) -> None:
    rows = files["nodes/latent.yaml"]["rows"]
    rows.append({**copy.deepcopy(rows[0]), "probs": {"on": 0.5}})


INVALID: list[tuple[str, Callable[[Files], None], str]] = [
    (
        "unknown state",
        _set("nodes/test.yaml", ["default", "probs"], {"posi": 0.05}),
        r"test\.yaml: node 'test', default row: Unknown state 'posi'\. Did you mean 'pos'\?",
    ),
    ("too few states", _set("nodes/test.yaml", ["states"], ["pos"]), r"at least two states"),
    (
        "repeated states",
        _set("nodes/test.yaml", ["states"], ["pos", "pos"]),
        r"states are repeated",
    ),
    (
        "missing remainder state",
        _set("nodes/test.yaml", ["remainder"], "negative"),
        r"Unknown state 'negative'\. Did you mean 'neg'\?",
    ),
    (
        "probability above 1",
        _set("nodes/latent.yaml", ["rows", 0, "probs"], {"on": 1.5}),
        r"latent\.yaml: node 'latent', row 0 .*outside \[0, 1\]",
    ),
    (
        "negative probability",
        _set("nodes/latent.yaml", ["rows", 0, "probs"], {"on": -0.1}),
        r"outside \[0, 1\]",
    ),
    (
        "row sums above 1",
        _set("nodes/colour.yaml", ["rows", 0, "probs"], {"red": 0.7, "green": 0.6}),
        r"colour\.yaml: node 'colour', row 0 .*sum to 1\.3, more than 1",
    ),
    (
        "default does not sum to 1",
        _set("nodes/colour.yaml", ["default", "probs"], {"red": 0.2, "green": 0.3, "blue": 0.4}),
        r"default row: probabilities sum to 0\.9; they must sum to 1",
    ),
    (
        "unknown source",
        _set("nodes/latent.yaml", ["rows", 0, "source"], "src_b"),
        r"row 0 .*Unknown source id 'src_b'\. Did you mean 'src_a'\?",
    ),
    (
        "unknown verbal term",
        _set("nodes/test.yaml", ["rows", 0, "probs"], {"pos": "usualy"}),
        r"Unknown verbal term 'usualy'\. Did you mean 'usually'\?",
    ),
    (
        "verbal basis with a number",
        _set("nodes/test.yaml", ["rows", 0, "probs"], {"pos": 0.8}),
        r"basis 'verbal_term' needs a verbal term",
    ),
    (
        "unknown parent state",
        _set("nodes/latent.yaml", ["rows", 0, "when"], {"diagnosis": "d9"}),
        r"row 0 .*parent 'diagnosis': Unknown state 'd9'",
    ),
    (
        "unknown parent in when",
        _set("nodes/latent.yaml", ["rows", 0, "when"], {"diagnoses": "d1"}),
        r"Unknown parent 'diagnoses'\. Did you mean 'diagnosis'\?",
    ),
    (
        "unknown parent node",
        _set("nodes/test.yaml", ["parents"], ["latentt"]),
        r"test\.yaml: node 'test', field 'parents': Unknown parent 'latentt'\. Did you mean 'latent'\?",
    ),
    ("cycle", _cycle, r"cycle"),
    (
        "assumption without reason",
        _set("nodes/test.yaml", ["default", "reason"], ""),
        r"basis 'assumption' needs a 'reason'",
    ),
    (
        "inference without source",
        _set("nodes/colour.yaml", ["rows", 0, "source"], None),
        r"needs a 'source'",
    ),
    (
        "source without locator",
        _set("nodes/latent.yaml", ["rows", 0, "locator"], None),
        r"needs a 'locator'",
    ),
    (
        "unknown basis",
        _set("nodes/latent.yaml", ["rows", 0, "basis"], "stated"),
        r"Unknown basis 'stated'\. Did you mean 'stated_number'\?",
    ),
    ("unquoted yes", _set("nodes/test.yaml", ["default", "probs"], {True: 0.05}), r"booleans"),
    (
        "remainder listed",
        _set("nodes/test.yaml", ["default", "probs"], {"neg": 0.05}),
        r"remainder state 'neg' is computed",
    ),
    ("conflicting duplicate source id", _duplicate_source, r"already defined differently"),
    (
        "unknown source field",
        _set("sources/main.yaml", ["src_a", "notes"], "checked"),
        r"source 'src_a': Unknown field 'notes'\. Did you mean 'note'\?",
    ),
    ("ambiguous rows", _ambiguous, r"also matched by row 0 with the same specificity"),
    (
        "profile without a diagnosis",
        _set("profiles.yaml", ["profiles", "flat", "rows", 0, "probs"], {"d1": 1, "d2": 2}),
        r"profiles\.yaml: profile 'flat', field 'rows': no weight for diagnoses: d3",
    ),
    (
        "strength not positive",
        _set("nodes/latent.yaml", ["rows", 0, "strength"], 0),
        r"field 'strength' must be a finite number in \(0\.0, 1000000\.0\], got int 0",
    ),
]


@pytest.mark.parametrize(("label", "edit", "pattern"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_files_are_rejected(
    tmp_path: Path, tiny_files: Files, label: str, edit: Callable[[Files], None], pattern: str
) -> None:
    edit(tiny_files)
    write_network(tmp_path, tiny_files)
    with pytest.raises(NetworkSpecError, match=pattern):
        load_spec(tmp_path)


def test_not_yaml_is_rejected(tmp_path: Path, tiny_files: Files) -> None:
    write_network(tmp_path, tiny_files)
    (tmp_path / "nodes" / "test.yaml").write_text("node: [unclosed", encoding="utf-8")
    with pytest.raises(NetworkSpecError, match=r"test\.yaml: not valid YAML"):
        load_spec(tmp_path)


def test_network_spec_error_is_value_error() -> None:
    assert issubclass(NetworkSpecError, ValueError)


def test_tiny_network_tables(tmp_path: Path, tiny_files: Files) -> None:
    spec = load_spec(write_network(tmp_path, tiny_files))
    latent = spec.nodes["latent"]
    np.testing.assert_allclose(latent.cpt, [[0.9, 0.1], [0.1, 0.9], [0.1, 0.9]])
    test = spec.nodes["test"]
    np.testing.assert_allclose(test.cpt, [[0.85, 0.15], [0.05, 0.95]])  # verbal 'usually'
    colour = spec.nodes["colour"]
    # proportional remainder: green and blue share 0.4 in proportion 0.3 : 0.5
    np.testing.assert_allclose(colour.cpt[1], [0.6, 0.15, 0.25])
    assert colour.is_default[1].tolist() == [False, True, True]
    np.testing.assert_allclose(spec.nodes["diagnosis"].cpt[0], [0.25, 0.5, 0.25])


def test_more_specific_row_wins(tmp_path: Path, tiny_files: Files) -> None:
    tiny_files["nodes/test.yaml"]["parents"] = ["latent", "diagnosis"]
    tiny_files["nodes/test.yaml"]["rows"].append(
        {
            "when": {"latent": "on", "diagnosis": "d2"},
            "probs": {"pos": 0.5},
            "basis": "assumption",
            "reason": "override",
        }
    )
    spec = load_spec(write_network(tmp_path, tiny_files))
    cpt = spec.nodes["test"].cpt  # configs: (on,d1) (on,d2) (on,d3) (off,d1) ...
    np.testing.assert_allclose(cpt[:, 0], [0.85, 0.5, 0.85, 0.05, 0.05, 0.05])


def test_profiles_select_prior(tmp_path: Path, tiny_files: Files) -> None:
    tiny_files["profiles.yaml"]["profiles"]["skewed"] = {
        "rows": [{"probs": {"d1": 0.7, "d2": 0.2, "d3": 0.1}, "basis": "assumption", "reason": "x"}]
    }
    folder = write_network(tmp_path, tiny_files)
    net = load_network(folder, profile="skewed")
    assert net.profile == "skewed"
    np.testing.assert_allclose(net.spec.nodes["diagnosis"].cpt[0], [0.7, 0.2, 0.1])
    with pytest.raises(
        NetworkSpecError, match=r"Unknown profile 'skewd'\. Did you mean 'skewed'\?"
    ):
        load_network(folder, profile="skewd")


def test_files_are_read_as_data_not_code(tmp_path: Path, tiny_files: Files) -> None:
    write_network(tmp_path, tiny_files)
    marker = tmp_path / "executed"
    payload = f"!!python/object/apply:os.system ['touch {marker}']"
    (tmp_path / "network.yaml").write_text(f"name: {payload}\n", encoding="utf-8")
    with pytest.raises(NetworkSpecError, match="not valid YAML"):
        load_spec(tmp_path)
    assert not marker.exists()


def test_default_network_files_parse_with_safe_load() -> None:
    spec = load_spec()
    for path in Path(str(spec.path)).rglob("*.yaml"):
        with path.open(encoding="utf-8") as handle:
            yaml.safe_load(handle)
