"""The disk cache of validated specs: same result as a fresh load, never stale, never unsafe."""

from __future__ import annotations

import dataclasses
import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from softcalc_bayes import NetworkSpecError, load_network
from softcalc_bayes._cache import MAX_ENTRIES, _cache_key, cache_dir, load_spec_cached
from softcalc_bayes.network import Network
from softcalc_bayes.spec import NetworkSpec, default_network_path, load_spec

EVIDENCE = {"fat_in_lesion": "present", "mdm2_fish": "amplified"}


@pytest.fixture(scope="module")
def fresh() -> NetworkSpec:
    return load_spec()


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("SOFTCALC_CACHE_DIR", str(folder))
    monkeypatch.delenv("SOFTCALC_CACHE", raising=False)
    return folder


@pytest.fixture()
def network_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "net"
    shutil.copytree(default_network_path(), folder)
    return folder


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.spec.pickle")) if folder.exists() else []


def default_entry(cache: Path) -> Path:
    name = _cache_key(None, None)
    assert name is not None
    return cache / name


def plant(entry: Path, spec: NetworkSpec, mode: int = 0o600) -> None:
    entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    entry.write_bytes(pickle.dumps(spec))
    entry.chmod(mode)


def same_spec(a: NetworkSpec, b: NetworkSpec) -> None:
    assert (a.name, a.path, a.profile) == (b.name, b.path, b.profile)
    assert list(a.profiles) == list(b.profiles) and list(a.nodes) == list(b.nodes)
    for name, node in a.nodes.items():
        np.testing.assert_array_equal(node.cpt, b.nodes[name].cpt)
        assert node.cpt.flags.writeable == b.nodes[name].cpt.flags.writeable
        assert node.provenance == b.nodes[name].provenance
    assert a.sources == b.sources and a.constraints == b.constraints
    assert Network(a).posterior(EVIDENCE).equals(Network(b).posterior(EVIDENCE))


def test_cache_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOFTCALC_CACHE_DIR", str(tmp_path / "a"))
    assert cache_dir() == tmp_path / "a"
    monkeypatch.delenv("SOFTCALC_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "softcalc-bayes"


def test_a_hit_equals_a_fresh_load(cache: Path, fresh: NetworkSpec) -> None:
    first = load_spec_cached()  # a miss: loads and stores
    assert entries(cache) == [default_entry(cache)]
    same_spec(first, fresh)
    same_spec(load_spec_cached(), fresh)  # a hit
    assert load_network().parameters().equals(Network(fresh).parameters())


def test_the_profile_is_part_of_the_key(cache: Path, fresh: NetworkSpec) -> None:
    plant(default_entry(cache), fresh)
    spec = load_spec_cached(profile="msk_referral")
    assert spec.profile == "msk_referral" and len(entries(cache)) == 2
    with pytest.raises(NetworkSpecError, match="Unknown profile 'nope'"):
        load_spec_cached(profile="nope")


def test_every_edit_is_seen(cache: Path, network_copy: Path) -> None:
    before = load_network(network_copy).posterior(EVIDENCE)
    node_file = network_copy / "nodes" / "fat_in_lesion.yaml"
    with node_file.open("a", encoding="utf-8") as handle:
        handle.write("\n# a comment changes the key, not the numbers\n")
    assert load_network(network_copy).posterior(EVIDENCE).equals(before)
    assert len(entries(cache)) == 2
    text = node_file.read_text(encoding="utf-8")
    edited = text.replace("    present: 0.95\n", "    present: 0.5\n", 1)
    assert edited != text, "the row this test edits is no longer in fat_in_lesion.yaml"
    node_file.write_text(edited, encoding="utf-8")
    after = load_spec_cached(network_copy)
    assert not np.allclose(Network(after).posterior(EVIDENCE).reindex(before.index), before)
    same_spec(after, load_spec(network_copy))


def test_turned_off(cache: Path, monkeypatch: pytest.MonkeyPatch, fresh: NetworkSpec) -> None:
    plant(default_entry(cache), dataclasses.replace(fresh, name="planted"))
    monkeypatch.setenv("SOFTCALC_CACHE", "off")
    assert load_spec_cached().name == fresh.name


def test_errors_are_never_cached(cache: Path, network_copy: Path) -> None:
    (network_copy / "network.yaml").write_text("name: [unterminated\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(NetworkSpecError, match=r"network\.yaml"):
            load_spec_cached(network_copy)
    assert entries(cache) == []


def test_a_symbolic_link_is_left_to_the_loader(cache: Path, network_copy: Path) -> None:
    target = network_copy / "nodes" / "sex.yaml"
    moved = network_copy / "sex.txt"
    target.rename(moved)
    target.symlink_to(moved)
    assert _cache_key(network_copy, None) is None
    assert entries(cache) == []


def test_a_corrupt_entry_is_replaced(cache: Path, fresh: NetworkSpec) -> None:
    entry = default_entry(cache)
    entry.parent.mkdir(parents=True)
    entry.write_bytes(b"not a pickle")
    same_spec(load_spec_cached(), fresh)
    assert pickle.loads(entry.read_bytes()).name == fresh.name


def test_an_entry_others_can_write_is_not_read(cache: Path, fresh: NetworkSpec) -> None:
    entry = default_entry(cache)
    planted = dataclasses.replace(fresh, name="planted")
    plant(entry, planted, mode=0o666)
    assert load_spec_cached().name == fresh.name  # not read, and replaced by a private entry
    assert entry.stat().st_mode & 0o077 == 0
    plant(entry, planted)
    assert load_spec_cached().name == "planted"  # the same entry, private: trusted


def test_an_unusable_cache_folder_does_not_break_loading(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fresh: NetworkSpec
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("SOFTCALC_CACHE_DIR", str(blocker / "cache"))
    same_spec(load_spec_cached(), fresh)


def test_old_entries_are_pruned(cache: Path, fresh: NetworkSpec) -> None:
    cache.mkdir(mode=0o700)
    for i in range(MAX_ENTRIES + 3):
        old = cache / f"{i:064x}.spec.pickle"
        old.write_bytes(b"old")
        os.utime(old, (1_000_000 + i, 1_000_000 + i))
    load_spec_cached()
    kept = entries(cache)
    assert len(kept) == MAX_ENTRIES and default_entry(cache) in kept
    assert not [p for p in cache.iterdir() if p.name.startswith(".tmp-")]


def test_the_path_is_kept_as_given(cache: Path, network_copy: Path) -> None:
    relative = Path(os.path.relpath(network_copy))
    assert load_spec_cached(relative).path == load_spec(relative).path == relative
    assert _cache_key(relative, None) != _cache_key(network_copy, None)
