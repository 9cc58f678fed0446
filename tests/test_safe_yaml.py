"""The YAML reader's memo of parsed files: fresh objects, edits seen, bounded, no failures kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from softcalc_bayes import NetworkSpecError, load_spec
from softcalc_bayes import _safe_yaml as safe_yaml
from softcalc_bayes.spec import default_network_path


def test_each_read_returns_fresh_objects(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("rows:\n- probs: {x: 1}\n", encoding="utf-8")
    first = safe_yaml.read_data_file(path, tmp_path)
    first["rows"][0]["probs"]["x"] = 99
    first["extra"] = True
    assert safe_yaml.read_data_file(path, tmp_path) == {"rows": [{"probs": {"x": 1}}]}


def test_an_edit_is_seen_and_the_old_bytes_still_parse_the_same(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("value: 1\n", encoding="utf-8")
    assert safe_yaml.read_data_file(path, tmp_path) == {"value": 1}
    path.write_text("value: 2\n", encoding="utf-8")
    assert safe_yaml.read_data_file(path, tmp_path) == {"value": 2}
    path.write_text("value: 1\n", encoding="utf-8")
    assert safe_yaml.read_data_file(path, tmp_path) == {"value": 1}


def test_failures_are_not_remembered_and_name_their_own_file(tmp_path: Path) -> None:
    bad = "a: &x 1\nb: *x\n"
    for name in ("one.yaml", "two.yaml"):
        path = tmp_path / name
        path.write_text(bad, encoding="utf-8")
        with pytest.raises(NetworkSpecError, match=rf"{name}, line \d+: YAML anchors"):
            safe_yaml.read_data_file(path, tmp_path)


def test_the_file_checks_run_even_when_the_bytes_are_remembered(tmp_path: Path) -> None:
    inside = tmp_path / "net"
    inside.mkdir()
    outside = tmp_path / "outside.yaml"
    outside.write_text("value: 1\n", encoding="utf-8")
    safe_yaml.read_data_file(outside, tmp_path)  # remembered
    link = inside / "link.yaml"
    link.symlink_to(outside)
    with pytest.raises(NetworkSpecError, match="out of the network folder"):
        safe_yaml.read_data_file(link, inside.resolve())


def test_the_memo_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safe_yaml, "MEMO_MAX_FILES", 5)
    for i in range(12):
        path = tmp_path / f"f{i}.yaml"
        path.write_text(f"value: {i}\n", encoding="utf-8")
        assert safe_yaml.read_data_file(path, tmp_path) == {"value": i}
    assert len(safe_yaml._MEMO) <= 5
    assert safe_yaml._memo_bytes == sum(len(b) for b in safe_yaml._MEMO.values())


def test_a_reloaded_network_equals_a_fresh_load() -> None:
    first = load_spec(default_network_path())
    second = load_spec(default_network_path())  # every file now served from the memo
    assert first.nodes.keys() == second.nodes.keys()
    for name, node in first.nodes.items():
        assert (node.cpt == second.nodes[name].cpt).all()
        assert node.provenance == second.nodes[name].provenance
