"""The validator: every class of invalid file is rejected with a message naming it."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import TINY, with_marginal_place, with_place, write_network
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
        "state definition of an unknown state",
        _set("nodes/colour.yaml", ["state_definitions"], {"gren": "Green light."}),
        r"colour\.yaml: node 'colour': 'state_definitions': Unknown state 'gren'\. "
        r"Did you mean 'green'\?",
    ),
    (
        "state definitions not a mapping",
        _set("nodes/colour.yaml", ["state_definitions"], ["red is red"]),
        r"'state_definitions' must map states to text, got list",
    ),
    (
        "empty state definition",
        _set("nodes/colour.yaml", ["state_definitions"], {"red": " "}),
        r"'state_definitions' of 'red' must be non-empty text",
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


def test_state_definitions_are_read_in_state_order(tmp_path: Path, tiny_files: Files) -> None:
    """``state_definitions`` (networks/FORMAT.md) may cover some states; the others get ""."""
    tiny_files["nodes/colour.yaml"]["state_definitions"] = {
        "blue": "  Blue,\n  as the sky. ",
        "red": "Red.",
    }
    write_network(tmp_path, tiny_files)
    node = load_spec(tmp_path).nodes["colour"]
    assert node.states == ("red", "green", "blue")
    assert node.state_definitions == ("Red.", "", "Blue, as the sky.")


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


def test_single_unlisted_state_under_proportional_takes_the_row_provenance(
    tmp_path: Path, tiny_files: Files
) -> None:
    """With one state left unlisted, the row alone fixes its value (the whole complement), so
    it carries the row's provenance, as a declared remainder state does (networks/FORMAT.md);
    with two or more unlisted, their split and provenance follow the default row."""
    tiny_files["nodes/colour.yaml"]["rows"][0]["probs"] = {"red": 0.6, "green": 0.1}
    spec = load_spec(write_network(tmp_path, tiny_files))
    colour = spec.nodes["colour"]
    np.testing.assert_allclose(colour.cpt[1], [0.6, 0.1, 0.3])
    assert colour.is_default[1].tolist() == [False, False, False]
    assert colour.is_default[0].tolist() == [True, True, True]  # d1 has no row
    blue = colour.provenance[1][2]
    assert (blue.basis, blue.source) == ("clinical_inference", "src_a")


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
    """Every packaged file is plain YAML data, and the loader reads it exactly as safe_load."""
    from softcalc_bayes._safe_yaml import read_data_file

    spec = load_spec()
    paths = sorted(Path(str(spec.path)).rglob("*.yaml"))
    assert len(paths) > 50
    for path in paths:
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
        assert isinstance(data, dict | list), path
        assert read_data_file(path) == data, path


# --------------------------------------------------------------------------- hardening
# Every class of bad network file found by fuzzing (issue 12): a NetworkSpecError whose
# message names the file and the field, never a TypeError, a hang or a silent load.
NAN, INF = float("nan"), float("inf")

TYPED: list[tuple[str, Callable[[Files], None], str]] = [
    (
        "list as a group",
        _set("diagnosis.yaml", ["states", "d1", "group"], ["g1", "g2"]),
        r"diagnosis\.yaml: state 'd1': 'group' must be a name, got list",
    ),
    (
        "nested list of parents",
        _set("nodes/latent.yaml", ["parents"], [["diagnosis"]]),
        r"latent\.yaml: node 'latent': 'parents' must be a list of distinct names",
    ),
    (
        "list as a source",
        _set("nodes/latent.yaml", ["rows", 0, "source"], ["src_a"]),
        r"latent\.yaml: node 'latent', row 0 .*field 'source' must be text, got list",
    ),
    (
        "list as default_strength",
        _set("network.yaml", ["default_strength"], [1]),
        r"network\.yaml: 'default_strength': expected a mapping, got list",
    ),
    (
        "default strength not a number",
        _set("network.yaml", ["default_strength", "assumption"], "two"),
        r"network\.yaml: 'default_strength' of 'assumption': must be a finite number .*got str 'two'",
    ),
    (
        "constraint evidence as a string",
        lambda f: f.__setitem__(
            "constraints.yaml",
            [
                {
                    "id": "c1",
                    "kind": "posterior_order",
                    "evidence": "colour",
                    "greater": ["d1"],
                    "lesser": ["d2"],
                    "source": "src_a",
                }
            ],
        ),
        r"constraints\.yaml: constraint 'c1': 'evidence': expected a mapping, got str",
    ),
    (
        "constraint bound not a number",
        lambda f: f.__setitem__(
            "constraints.yaml",
            [
                {
                    "id": "c2",
                    "kind": "likelihood_bound",
                    "finding": "colour",
                    "state": "red",
                    "diagnoses": ["d1"],
                    "max": "lots",
                    "source": "src_a",
                }
            ],
        ),
        r"constraints\.yaml: constraint 'c2': field 'max': must be a finite number .*got str 'lots'",
    ),
    (
        "NaN profile weight",
        _set("profiles.yaml", ["profiles", "flat", "rows", 0, "probs", "d1"], NAN),
        r"profiles\.yaml: profile 'flat', row 0, diagnosis 'd1': a relative weight must be a finite",
    ),
    (
        "infinite profile weight",
        _set("profiles.yaml", ["profiles", "flat", "rows", 0, "probs", "d2"], INF),
        r"profiles\.yaml: profile 'flat', row 0, diagnosis 'd2': a relative weight must be a finite",
    ),
    (
        "NaN strength",
        _set("nodes/latent.yaml", ["rows", 0, "strength"], NAN),
        r"latent\.yaml: node 'latent', row 0 .*field 'strength' must be a finite number",
    ),
    (
        "infinite strength",
        _set("nodes/latent.yaml", ["default", "strength"], INF),
        r"latent\.yaml: node 'latent', default row.*field 'strength' must be a finite number",
    ),
    (
        "NaN probability",
        _set("nodes/latent.yaml", ["rows", 0, "probs"], {"on": NAN}),
        r"latent\.yaml: node 'latent', row 0 .*probability is outside \[0, 1\]",
    ),
    (
        "row sums to 1.0000005",
        _set(
            "nodes/colour.yaml",
            ["default", "probs"],
            {"red": 0.2, "green": 0.3, "blue": 0.5000005},
        ),
        r"colour\.yaml: node 'colour', default row: probabilities sum to 1\.0000005, more than 1 "
        r"\(tolerance 1e-09\)",
    ),
    (
        "empty when set",
        _set("nodes/latent.yaml", ["rows", 0, "when"], {"diagnosis": []}),
        r"latent\.yaml: node 'latent', row 0 .*field 'when': parent 'diagnosis' is given an "
        r"empty list of states",
    ),
    (
        "list as a state in when",
        _set("nodes/latent.yaml", ["rows", 0, "when"], {"diagnosis": [["d1"]]}),
        r"latent\.yaml: node 'latent', row 0 .*field 'when', parent 'diagnosis': Unknown state",
    ),
    (
        "number as a node name",
        _set("nodes/latent.yaml", ["node"], 5),
        r"latent\.yaml: missing 'node' name \(text\), got int 5",
    ),
    (
        "conflicting duplicate with a different url",
        lambda f: f.__setitem__(
            "sources/other.yaml",
            {"src_a": {**f["sources/main.yaml"]["src_a"], "url": "https://example.org"}},
        ),
        r"other\.yaml: source 'src_a': id already defined differently in .*main\.yaml",
    ),
]


@pytest.mark.parametrize(("label", "edit", "pattern"), TYPED, ids=[c[0] for c in TYPED])
def test_bad_types_and_numbers_are_rejected(
    tmp_path: Path, tiny_files: Files, label: str, edit: Callable[[Files], None], pattern: str
) -> None:
    edit(tiny_files)
    write_network(tmp_path, tiny_files)
    with pytest.raises(NetworkSpecError, match=pattern) as info:
        load_spec(tmp_path)
    assert str(tmp_path) in str(info.value)  # the message names the file


def test_identical_duplicate_sources_are_accepted(tmp_path: Path, tiny_files: Files) -> None:
    tiny_files["sources/other.yaml"] = copy.deepcopy(tiny_files["sources/main.yaml"])
    spec = load_spec(write_network(tmp_path, tiny_files))
    assert list(spec.sources) == ["src_a"]


BILLION_LAUGHS = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
)

TEXTS: list[tuple[str, bytes, str]] = [
    ("billion laughs", BILLION_LAUGHS.encode(), r"line 1: YAML anchors and aliases"),
    ("deep nesting", b"a: " + b"[" * 500 + b"]" * 500, r"line 1: nested more than 32 levels"),
    (
        "very deep nesting",
        b"a: " + b"[" * 100_000 + b"]" * 100_000,
        r"(nested more than 32 levels|maximum nesting depth)",
    ),
    ("400-digit probability", b"a: 0." + b"1" * 400, r"a number written with 402 characters"),
    ("4301-digit integer", b"a: " + b"9" * 4301, r"a number written with 4301 characters"),
    ("binary bytes", b"node: \xff\xfe\x00binary", r"not UTF-8 text"),
    ("20 MB string", b"a: " + b"x" * 20_000_000, r"more than the limit of 5242880 bytes"),
    ("long string", b"a: " + b"x" * 100_000, r"a value of 100000 characters"),
    ("duplicate key", b"node: test\nnode: other\n", r"line 2: key 'node' appears twice"),
    ("python tag", b"a: !!python/object/apply:os.system ['true']", r"not valid YAML: the tag"),
    ("two documents", b"a: 1\n---\nb: 2\n", r"holds one document"),
    ("unclosed", b"node: [unclosed", r"not valid YAML"),
]


@pytest.mark.parametrize(("label", "text", "pattern"), TEXTS, ids=[c[0] for c in TEXTS])
def test_hostile_yaml_is_rejected_quickly(
    tmp_path: Path, tiny_files: Files, label: str, text: bytes, pattern: str
) -> None:
    write_network(tmp_path, tiny_files)
    (tmp_path / "nodes" / "test.yaml").write_bytes(text)
    with pytest.raises(NetworkSpecError, match=r"nodes/test\.yaml.*" + pattern):
        load_spec(tmp_path)


def _folder_named_yaml(folder: Path) -> None:
    (folder / "nodes" / "extra.yaml").mkdir()


def _fifo(folder: Path) -> None:
    os.mkfifo(folder / "nodes" / "extra.yaml")


def _link_out(folder: Path) -> None:
    (folder / "nodes" / "extra.yaml").symlink_to("/etc/passwd")


def _link_loop(folder: Path) -> None:
    (folder / "nodes" / "extra.yaml").symlink_to(folder / "nodes" / "extra.yaml")


def _dangling(folder: Path) -> None:
    (folder / "nodes" / "extra.yaml").symlink_to(folder / "nowhere.yaml")


def _sources_out(folder: Path) -> None:
    outside = folder.parent / "elsewhere"
    (folder / "sources").rename(outside)
    (folder / "sources").symlink_to(outside)


FILESYSTEM: list[tuple[str, Callable[[Path], None], str]] = [
    ("folder named .yaml", _folder_named_yaml, r"nodes/extra\.yaml: is a folder, not a file"),
    ("FIFO named .yaml", _fifo, r"nodes/extra\.yaml: not a regular file \(a FIFO"),
    ("symlink out of the folder", _link_out, r"nodes/extra\.yaml: a symbolic link leading out"),
    ("symlink loop", _link_loop, r"nodes/extra\.yaml: cannot be resolved \(a symbolic link loop"),
    ("dangling symlink", _dangling, r"nodes/extra\.yaml: a symbolic link to a missing file"),
    ("linked folder outside", _sources_out, r"sources: a symbolic link leading out"),
]


@pytest.mark.parametrize(("label", "make", "pattern"), FILESYSTEM, ids=[c[0] for c in FILESYSTEM])
def test_only_regular_files_inside_the_folder_are_read(
    tmp_path: Path, tiny_files: Files, label: str, make: Callable[[Path], None], pattern: str
) -> None:
    folder = write_network(tmp_path / "net", tiny_files)
    make(folder)
    with pytest.raises(NetworkSpecError, match=pattern):
        load_spec(folder)


def test_symlink_inside_the_folder_is_followed(tmp_path: Path, tiny_files: Files) -> None:
    folder = write_network(tmp_path / "net", tiny_files)
    (folder / "nodes" / "colour.yaml").rename(folder / "colour_table.yml")
    (folder / "nodes" / "colour.yaml").symlink_to(folder / "colour_table.yml")
    assert "colour" in load_spec(folder).nodes


def test_oversized_table_is_refused(tmp_path: Path, tiny_files: Files) -> None:
    for i in range(4):
        tiny_files[f"nodes/wide{i}.yaml"] = {
            **copy.deepcopy(tiny_files["nodes/colour.yaml"]),
            "node": f"wide{i}",
            "states": [f"s{j}" for j in range(40)],
            "remainder": "proportional",
            "default": {
                "probs": {f"s{j}": 1 / 40 for j in range(40)},
                "basis": "assumption",
                "reason": "r",
            },
            "rows": [],
        }
    tiny_files["nodes/test.yaml"]["parents"] = ["latent", "wide0", "wide1", "wide2", "wide3"]
    tiny_files["nodes/test.yaml"]["rows"] = []
    write_network(tmp_path, tiny_files)
    with pytest.raises(
        NetworkSpecError, match=r"test\.yaml: node 'test', field 'parents': 5120000"
    ):
        load_spec(tmp_path)


# --------------------------------------------------------------------------- impossible rules
def _rule(i: int, key: str, value: Any) -> Callable[[Files], None]:
    def edit(files: Files) -> None:
        with_place(files)["nodes/colour.yaml"]["impossible"][i][key] = value

    return edit


def _after(
    setup: Callable[[Files], Files], edit: Callable[[Files], None]
) -> Callable[[Files], None]:
    """``edit`` applied to the files that ``setup`` prepared."""

    def both(files: Files) -> None:
        edit(setup(files))

    return both


def _placed(edit: Callable[[Files], None]) -> Callable[[Files], None]:
    return _after(with_place, edit)


def _rule_and_row(files: Files) -> None:
    with_place(files)["nodes/colour.yaml"]["rows"].append(
        {
            "when": {"diagnosis": "d1", "place": "belly"},
            "probs": {"red": 0.2, "green": 0.3, "blue": 0.5},
            "basis": "assumption",
            "reason": "r",
        }
    )


def _all_mass_excluded(files: Files) -> None:
    with_place(files)["nodes/colour.yaml"]["rows"][0]["probs"] = {"red": 1.0}


def _rules_exclude_all(files: Files) -> None:
    rules = with_place(files)["nodes/colour.yaml"]["impossible"]
    rules.append({**rules[1], "state": "belly", "excludes": ["green", "blue"]})


def _place_cycle(files: Files) -> None:
    with_place(files)["nodes/place.yaml"]["parents"] = ["diagnosis", "colour"]


COLOUR = r"colour\.yaml: node 'colour', "
IMPOSSIBLE_INVALID: list[tuple[str, Callable[[Files], None], str]] = [
    (
        "rules not a list",
        _placed(_set("nodes/colour.yaml", ["impossible"], {"parent": "place"})),
        COLOUR + r"field 'impossible': expected a list of rules",
    ),
    (
        "rule not a mapping",
        _placed(_set("nodes/colour.yaml", ["impossible", 0], "place")),
        COLOUR + r"impossible rule 0: a rule must be a mapping",
    ),
    (
        "unknown rule field",
        _rule(0, "exclude", ["red"]),
        COLOUR + r"impossible rule 0: Unknown field 'exclude'\. Did you mean 'excludes'\?",
    ),
    (
        "strength on a rule",
        _rule(0, "strength", 5),
        COLOUR + r"impossible rule 0: Unknown field 'strength'\.",
    ),
    (
        "unknown rule parent",
        _rule(0, "parent", "plac"),
        COLOUR + r"impossible rule 0: field 'parent': Unknown parent 'plac'\. Did you mean "
        r"'place'\? Valid parents: diagnosis, place \(a rule's parent must be listed",
    ),
    (
        "rule parent not among the parents",
        _rule(0, "parent", "latent"),
        r"Unknown parent 'latent'\..* Valid parents: diagnosis, place \(a rule's parent must be "
        r"listed under 'parents'\)",
    ),
    (
        "unknown parent state",
        _rule(0, "state", "bely"),
        COLOUR + r"impossible rule 0, field 'state' \(of 'place'\): Unknown state 'bely'\. Did you "
        r"mean 'belly'\? Valid states: limb, belly, neck",
    ),
    (
        "empty parent states",
        _rule(1, "state", []),
        COLOUR + r"impossible rule 1, field 'state' \(of 'place'\): an empty list of states",
    ),
    (
        "unknown excluded state",
        _rule(0, "excludes", ["rde"]),
        COLOUR + r"impossible rule 0, field 'excludes': Unknown state 'rde'\. Did you mean "
        r"'red'\? Valid states: red, green, blue",
    ),
    (
        "missing excludes",
        _placed(lambda f: f["nodes/colour.yaml"]["impossible"][0].pop("excludes")),
        COLOUR + r"impossible rule 0: missing 'excludes'",
    ),
    (
        "rule excludes every state",
        _rule(0, "excludes", ["red", "green", "blue"]),
        COLOUR + r"impossible rule 0: 'excludes' lists every state",
    ),
    (
        "rules together exclude every state",
        _rules_exclude_all,
        COLOUR + r"field 'impossible': parent configuration \{'diagnosis': 'd1', 'place': "
        r"'belly'\}: the rules exclude every state",
    ),
    (
        "row's mass all on excluded states",
        _all_mass_excluded,
        r"parent configuration \{'diagnosis': 'd2', 'place': 'belly'\}: the rules exclude every "
        r"state with a probability above 0",
    ),
    (
        "row gives an excluded state a value",
        _rule_and_row,
        COLOUR + r"row 1 .*state 'red' is given 0\.2, but impossible rule 0 excludes it when "
        r"place is \['belly'\]",
    ),
    (
        "assumed rule without reason",
        _rule(1, "reason", ""),
        COLOUR + r"impossible rule 1: basis 'assumption' needs a 'reason'",
    ),
    (
        "rule source unknown",
        _rule(0, "source", "src_b"),
        COLOUR + r"impossible rule 0: field 'source': Unknown source id 'src_b'",
    ),
    (
        "second parent not a node",
        _placed(_set("nodes/colour.yaml", ["parents"], ["diagnosis", "plase"])),
        COLOUR + r"field 'parents': Unknown parent 'plase'\. Did you mean 'place'\?",
    ),
    ("second parent in a cycle", _place_cycle, r"the parent links form a cycle: "),
]


# --------------------------------------------------------------------------- marginal_over
def _marginal(edit: Callable[[Files], None]) -> Callable[[Files], None]:
    return _after(with_marginal_place, edit)


def _marginal_row_for_site(files: Files) -> None:
    with_marginal_place(files)["nodes/colour.yaml"]["rows"].append(
        {
            "when": {"diagnosis": "d1", "place": "neck"},
            "probs": {"green": 0.4},
            "basis": "assumption",
            "reason": "r",
        }
    )


def _marginal_without_rule(files: Files) -> None:
    with_marginal_place(files)["nodes/colour.yaml"]["impossible"] = None


def _marginal_parent_with_other_parents(files: Files) -> None:
    with_marginal_place(files)
    files["nodes/place.yaml"]["parents"] = ["diagnosis", "latent"]


MARGINAL_INVALID: list[tuple[str, Callable[[Files], None], str]] = [
    (
        "misspelt field",
        _placed(_set("nodes/colour.yaml", ["marginal_ovr"], "place")),
        COLOUR.replace(", ", ": ") + r"Unknown field 'marginal_ovr'\. Did you mean "
        r"'marginal_over'\? Valid fields: node, kind, description, states, parents",
    ),
    (
        "not a name",
        _marginal(_set("nodes/colour.yaml", ["marginal_over"], ["place"])),
        COLOUR + r"field 'marginal_over': expected the name of a parent, got list",
    ),
    (
        "unknown parent",
        _marginal(_set("nodes/colour.yaml", ["marginal_over"], "plac")),
        COLOUR + r"field 'marginal_over': Unknown parent 'plac'\. Did you mean 'place'\? Valid "
        r"parents: diagnosis, place \(it must be listed under 'parents'\)",
    ),
    (
        "no rule with that parent",
        _marginal_without_rule,
        COLOUR + r"field 'marginal_over': no 'impossible' rule has parent 'place'",
    ),
    (
        "a row binds the parent",
        _marginal_row_for_site,
        COLOUR + r"row 1 .*the row binds 'place', but with 'marginal_over: place' every row is "
        r"marginal over it; leave 'place' out of 'when'",
    ),
    (
        "the parent has parents of its own",
        _marginal_parent_with_other_parents,
        COLOUR + r"field 'marginal_over' \('place'\): the parents of 'place' \(diagnosis, latent\) "
        r"must be this node's other parents \(diagnosis\)",
    ),
    (
        "no joint has both margins",
        _marginal(lambda f: f["nodes/place.yaml"]["rows"][0].update(probs={"limb": 0.6})),
        COLOUR + r"field 'marginal_over' \('place'\): for \{'diagnosis': 'd1'\} no table has the "
        r"'place' row and this node's row as margins with the impossible combinations at 0: "
        r"state 'blue' is given 0\.5, but the states of 'place' where it is possible carry only "
        r"0\.4 of that parent's row",
    ),
]


SECOND_PARENT_INVALID = IMPOSSIBLE_INVALID + MARGINAL_INVALID


@pytest.mark.parametrize(
    ("label", "edit", "pattern"), SECOND_PARENT_INVALID, ids=[c[0] for c in SECOND_PARENT_INVALID]
)
def test_invalid_impossible_rules_and_marginal_over_are_rejected(
    tmp_path: Path, tiny_files: Files, label: str, edit: Callable[[Files], None], pattern: str
) -> None:
    edit(tiny_files)
    write_network(tmp_path, tiny_files)
    with pytest.raises(NetworkSpecError, match=pattern):
        load_spec(tmp_path)


def test_impossible_rules_mask_and_renormalise(tmp_path: Path, tiny_files: Files) -> None:
    spec = load_spec(write_network(tmp_path, with_place(tiny_files)))
    colour = spec.nodes["colour"]
    assert colour.parents == ("diagnosis", "place")
    # configurations (d, place) in C order: place varies fastest
    cpt = colour.cpt.reshape(3, 3, 3)
    written = {"d1": [0.2, 0.3, 0.5], "d2": [0.6, 0.15, 0.25], "d3": [0.6, 0.15, 0.25]}
    for d, (name, row) in enumerate(written.items()):
        row_ = np.array(row)
        np.testing.assert_allclose(cpt[d, 2], row_, err_msg=name)  # neck: no rule
        np.testing.assert_allclose(cpt[d, 1], [0.0, *row_[1:] / row_[1:].sum()])  # belly
        np.testing.assert_allclose(cpt[d, 0], [*row_[:2] / row_[:2].sum(), 0.0])  # limb
    zeros = colour.structural_zeros().reshape(3, 3, 3)
    assert zeros[:, 1].tolist() == [[True, False, False]] * 3
    assert zeros[:, 0].tolist() == [[False, False, True]] * 3
    assert not zeros[:, 2].any()
    np.testing.assert_allclose(colour.kept_share().reshape(3, 3)[:, 2], 1.0)
    np.testing.assert_allclose(colour.kept_share().reshape(3, 3)[:, 1], [0.8, 0.4, 0.4])
    # the zeros carry the rule's provenance; the rest keeps the diagnosis row's
    belly_d1 = colour.provenance[1]
    assert belly_d1[0].reason == "nothing red lies in the belly"
    assert belly_d1[0].source == "src_a" and belly_d1[0].basis == "clinical_inference"
    assert belly_d1[1] == colour.provenance[2][1]
    assert not colour.is_default[1, 0]
    # a node without rules has neither mask
    assert spec.nodes["test"].excluded is None and spec.nodes["test"].kept is None
    assert not spec.nodes["test"].structural_zeros().any()
    params = load_network(tmp_path).parameters()
    assert int(params["structural_zero"].sum()) == 6


def test_impossible_rule_with_row_for_the_site(tmp_path: Path, tiny_files: Files) -> None:
    # A row written for (d1, belly) that leaves the excluded state out is renormalised too.
    with_place(tiny_files)["nodes/colour.yaml"]["rows"].append(
        {
            "when": {"diagnosis": "d1", "place": "belly"},
            "probs": {"green": 0.4},
            "basis": "assumption",
            "reason": "r",
        }
    )
    cpt = load_spec(write_network(tmp_path, tiny_files)).nodes["colour"].cpt
    # listed green 0.4; red and blue share 0.6 as 0.2 : 0.5, then red is removed
    np.testing.assert_allclose(cpt[1], np.array([0.0, 0.4, 0.6 * 5 / 7]) / (0.4 + 0.6 * 5 / 7))


@settings(max_examples=25, deadline=None)
@given(
    weights=st.lists(st.integers(1, 20), min_size=3, max_size=3),
    excluded=st.lists(
        st.sets(st.sampled_from(["red", "green", "blue"]), max_size=2), min_size=3, max_size=3
    ),
)
def test_every_site_slice_sums_to_one_with_zeros_exactly_where_excluded(
    tmp_path_factory: pytest.TempPathFactory, weights: list[int], excluded: list[set[str]]
) -> None:
    files = with_place(copy.deepcopy(TINY))
    total = sum(weights)
    probs = {s: w / total for s, w in zip(["red", "green", "blue"], weights, strict=True)}
    colour = files["nodes/colour.yaml"]
    colour["default"]["probs"] = probs
    colour["rows"] = []
    states = ["limb", "belly", "neck"]
    colour["impossible"] = [
        {
            "parent": "place",
            "state": place,
            "excludes": sorted(ex),
            "basis": "assumption",
            "reason": "test",
        }
        for place, ex in zip(states, excluded, strict=True)
        if ex
    ]
    if not colour["impossible"]:
        del colour["impossible"]
    folder = write_network(tmp_path_factory.mktemp("rules"), files)
    node = load_spec(folder).nodes["colour"]
    row = np.array(list(probs.values()))
    for c in range(node.cpt.shape[0]):
        place = states[c % 3]
        mask = np.array([s in excluded[states.index(place)] for s in ["red", "green", "blue"]])
        slice_ = node.cpt[c]
        assert abs(slice_.sum() - 1.0) <= 1e-12
        assert (slice_ == 0).tolist() == mask.tolist()
        assert node.structural_zeros()[c].tolist() == mask.tolist()
        np.testing.assert_allclose(slice_[~mask], row[~mask] / row[~mask].sum(), rtol=1e-12)
        np.testing.assert_allclose(node.kept_share()[c], row[~mask].sum(), rtol=1e-12)


def test_marginal_rows_are_fitted_to_both_margins(tmp_path: Path, tiny_files: Files) -> None:
    spec = load_spec(write_network(tmp_path, with_marginal_place(tiny_files)))
    colour, place = spec.nodes["colour"], spec.nodes["place"].cpt
    cpt = colour.cpt.reshape(3, 3, 3)
    written = np.array([[0.2, 0.3, 0.5], [0.6, 0.15, 0.25], [0.6, 0.15, 0.25]])
    # mixing the site slices over P(place | d) gives back the written row
    np.testing.assert_allclose(np.einsum("dp,dpc->dc", place, cpt), written, atol=1e-10)
    np.testing.assert_allclose(cpt.sum(axis=2), 1.0, atol=1e-12)
    # the zeros are where the rules put them, the masks and kept shares as without the fit
    masked = load_spec(write_network(tmp_path / "masked", with_place(copy.deepcopy(TINY))))
    masked_colour = masked.nodes["colour"]
    assert np.array_equal(cpt == 0, masked_colour.structural_zeros().reshape(3, 3, 3))
    assert np.array_equal(colour.structural_zeros(), masked_colour.structural_zeros())
    np.testing.assert_allclose(colour.kept_share(), masked_colour.kept_share())
    assert colour.provenance == masked_colour.provenance
    # closest to independence: the joint is the start times a site term and a colour term,
    # so every slice is the written row tilted by one factor per colour, then masked
    tilt = cpt[:, 2] / written  # neck: no rule
    for p in range(3):
        expected = np.where(cpt[:, p] > 0, written * tilt, 0.0)
        np.testing.assert_allclose(cpt[:, p], expected / expected.sum(axis=1, keepdims=True))
    # an association appears only where the zeros force it: d1 in the belly cannot be red,
    # so blue (possible there) is pushed into belly and neck and red into limb and neck
    assert cpt[0, 1, 2] > masked_colour.cpt.reshape(3, 3, 3)[0, 1, 2]


def test_marginal_table_agrees_with_pgmpy_and_keeps_impossible_evidence(
    tmp_path: Path, tiny_files: Files
) -> None:
    net = load_network(write_network(tmp_path, with_marginal_place(tiny_files)))
    post = net.posterior({"place": "belly", "colour": "blue"})
    reference = net.pgmpy_model
    from pgmpy.inference import VariableElimination

    ve = VariableElimination(reference).query(
        ["diagnosis"], evidence={"place": "belly", "colour": "blue"}, show_progress=False
    )
    ref = dict(zip(ve.state_names["diagnosis"], ve.values, strict=True))
    np.testing.assert_allclose(post.to_numpy(), [ref[d] for d in post.index], atol=1e-12)
    with pytest.raises(Exception, match="probability zero"):
        net.posterior({"place": "belly", "colour": "red"})
