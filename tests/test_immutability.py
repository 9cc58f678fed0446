"""Knowledge is immutable: nothing a caller gets back can change a later result."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pandas as pd
import pytest

from softcalc_bayes import Network, load_network, sensitivity

EVIDENCE = {"fat_in_lesion": "present", "mdm2_fish": "amplified"}


@pytest.fixture
def fresh() -> Network:
    return load_network()


def test_every_table_is_read_only(fresh: Network) -> None:
    for name, node in fresh.spec.nodes.items():
        for array in (node.cpt, node.is_default):
            assert not array.flags.writeable, name
            with pytest.raises(ValueError, match="read-only"):
                array[0, 0] = array[0, 0]
    for profile in fresh.spec.profiles.values():
        with pytest.raises(ValueError, match="read-only"):
            profile.probs[0] = 0.5
    node = fresh.node("fat_in_lesion")
    with pytest.raises(ValueError, match="read-only"):
        node.cpt[:] = 0.5


@pytest.mark.parametrize(
    "mapping", ["nodes", "labels", "groups", "group_labels", "sources", "verbal_scale", "profiles"]
)
def test_spec_mappings_are_read_only(fresh: Network, mapping: str) -> None:
    table = getattr(fresh.spec, mapping)
    key = next(iter(table))
    with pytest.raises(TypeError):
        table[key] = table[key]
    with pytest.raises(TypeError):
        del table[key]
    assert not hasattr(table, "update")


def test_labels_and_constraint_evidence_are_read_only(fresh: Network) -> None:
    with pytest.raises(TypeError):
        fresh.labels["alt_wdlps"] = "something else"  # type: ignore[index]
    evidence = next(c.evidence for c in fresh.spec.constraints if c.evidence)
    with pytest.raises(TypeError):
        evidence["x"] = "y"  # type: ignore[index]


def test_with_profile_copies_share_read_only_tables(fresh: Network) -> None:
    other = fresh.with_profile("msk_referral")
    assert not other.node("fat_in_lesion").cpt.flags.writeable
    assert not other.node(other.target).cpt.flags.writeable


def _snapshot(frame: pd.DataFrame) -> pd.DataFrame:
    """A deep copy whose ``parents`` dicts are frozen into sorted tuples (comparable)."""
    out = frame.copy()
    out["parents"] = [tuple(sorted(p.items())) for p in frame["parents"]]
    return out


def test_mutating_parameters_changes_nothing_later(fresh: Network) -> None:
    before_params = _snapshot(fresh.parameters())
    before_post = fresh.posterior(EVIDENCE)
    before_sens = _snapshot(sensitivity(fresh, EVIDENCE))
    params = fresh.parameters()
    params["value"] = 0.0
    params["source"] = "tampered"
    for parents in params["parents"]:
        parents.clear()
        parents["diagnosis"] = "tampered"
    pd.testing.assert_frame_equal(_snapshot(fresh.parameters()), before_params)
    pd.testing.assert_series_equal(fresh.posterior(EVIDENCE), before_post)
    pd.testing.assert_frame_equal(_snapshot(sensitivity(fresh, EVIDENCE)), before_sens)
    for parents in sensitivity(fresh, EVIDENCE)["parents"]:
        parents.clear()
    pd.testing.assert_frame_equal(_snapshot(fresh.parameters()), before_params)


def test_mutating_results_changes_nothing_later(fresh: Network) -> None:
    before = fresh.posterior(EVIDENCE)
    result = fresh.posterior(EVIDENCE)
    result.iloc[:] = 0.0
    result.index.name = "tampered"
    table = sensitivity(fresh, EVIDENCE)
    table["x0"] = -1.0
    table.attrs["state"] = "tampered"
    pd.testing.assert_series_equal(fresh.posterior(EVIDENCE), before)
    assert sensitivity(fresh, EVIDENCE).attrs["state"] == before.index[0]
    states = fresh.states("fat_in_lesion")
    assert isinstance(states, tuple)


def test_spec_survives_copy_and_pickle(fresh: Network) -> None:
    for clone in (copy.deepcopy(fresh.spec), pickle.loads(pickle.dumps(fresh.spec))):
        assert dict(clone.labels) == dict(fresh.spec.labels)
        np.testing.assert_array_equal(
            clone.nodes["fat_in_lesion"].cpt, fresh.spec.nodes["fat_in_lesion"].cpt
        )
        pd.testing.assert_series_equal(
            Network(clone).posterior(EVIDENCE), fresh.posterior(EVIDENCE)
        )
