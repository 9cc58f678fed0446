"""What-if views: prior profiles side by side, and findings left out or changed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import GATED_NODES, TINY, write_network
from softcalc_bayes import EvidenceError, Network, load_network
from softcalc_bayes.whatif import LEFT_OUT, compare_profiles, evidence_whatif

NET = load_network()
CASE = {
    "fat_in_lesion": "present",
    "mdm2_fish": "amplified",
    "trauma_history": "yes",
    "mineralization_pattern": "cloudlike_osteoid",
    "serum_calcium": "normal",
}
COLUMNS = [
    "finding",
    "observed",
    "alternative",
    "possible",
    "p_state",
    "delta",
    "top_diagnosis",
    "p_top",
    "top_changes",
]


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> Network:
    """TINY plus 'marker' (only d1 can show 'yes') and 'negative' ('never' is impossible
    under d1), so that some alternatives have probability zero."""
    files = copy.deepcopy(TINY)
    files.update(GATED_NODES)
    folder: Path = tmp_path_factory.mktemp("gated")
    return load_network(write_network(folder, files))


# --------------------------------------------------------------------------- profiles
@pytest.fixture(scope="module")
def by_profile() -> dict[str, Network]:
    return {p: NET if p == NET.profile else NET.with_profile(p) for p in NET.profiles}


def test_compare_profiles_columns_equal_each_profile(by_profile: dict[str, Network]) -> None:
    table = compare_profiles(NET, CASE)
    assert list(table.columns) == list(NET.profiles)
    assert table.columns.name == "profile"
    assert table.index.name == "diagnosis"
    assert sorted(table.index) == sorted(NET.states("diagnosis"))
    for profile, net in by_profile.items():
        expected = net.posterior(CASE).reindex(table.index)
        np.testing.assert_allclose(table[profile].to_numpy(), expected.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(table.sum(axis=0).to_numpy(), 1.0)
    assert np.all(np.diff(table[NET.profile].to_numpy()) <= 0)
    assert list(table.index) == list(NET.posterior(CASE).index)


def test_compare_profiles_sorted_by_current_profile(by_profile: dict[str, Network]) -> None:
    other = next(p for p in NET.profiles if p != NET.profile)
    net = by_profile[other]
    table = compare_profiles(net, CASE)
    assert list(table.columns) == list(NET.profiles)
    assert np.all(np.diff(table[other].to_numpy()) <= 0)
    assert list(table.index) == list(net.posterior(CASE).index)


def test_compare_profiles_errors(gated: Network) -> None:
    with pytest.raises(EvidenceError, match="Unknown finding 'fat'"):
        compare_profiles(NET, {"fat": "present"})
    with pytest.raises(EvidenceError, match="probability zero"):
        compare_profiles(gated, {"marker": "yes", "negative": "never"})


# --------------------------------------------------------------------------- what-ifs
def test_whatif_layout() -> None:
    table = evidence_whatif(NET, CASE)
    assert list(table.columns) == COLUMNS
    expected_rows = sum(len(NET.states(f)) for f in CASE)  # left out + other states
    assert len(table) == expected_rows
    assert list(dict.fromkeys(table["finding"])) == list(CASE)
    for finding, rows in table.groupby("finding", sort=False):
        assert rows["alternative"].iloc[0] == LEFT_OUT
        others = [s for s in NET.states(str(finding)) if s != CASE[str(finding)]]
        assert list(rows["alternative"].iloc[1:]) == others
        assert set(rows["observed"]) == {CASE[str(finding)]}
    assert table["possible"].dtype == bool and table["top_changes"].dtype == bool
    assert not table[["p_state", "delta", "p_top"]].isna().any().any()


def test_left_out_equals_reduced_posterior() -> None:
    full = NET.posterior(CASE)
    state = str(full.index[0])
    table = evidence_whatif(NET, CASE)
    for _, row in table[table["alternative"] == LEFT_OUT].iterrows():
        reduced = {k: v for k, v in CASE.items() if k != row["finding"]}
        post = NET.posterior(reduced)
        assert row["p_state"] == pytest.approx(post[state], rel=1e-12, abs=1e-15)
        assert row["delta"] == pytest.approx(post[state] - full[state], rel=1e-9, abs=1e-15)
        assert row["top_diagnosis"] == post.index[0]
        assert row["p_top"] == pytest.approx(post.iloc[0], rel=1e-12)
        assert row["top_changes"] == (post.index[0] != full.index[0])


def test_changed_state_equals_changed_posterior() -> None:
    table = evidence_whatif(NET, CASE, state="ddlps")
    for _, row in table[table["alternative"] != LEFT_OUT].iterrows():
        changed = {**CASE, row["finding"]: row["alternative"]}
        post = NET.posterior(changed)
        assert row["possible"]
        assert row["p_state"] == pytest.approx(post["ddlps"], rel=1e-12, abs=1e-15)
        assert row["top_diagnosis"] == post.index[0]


def test_state_option_and_default() -> None:
    default = evidence_whatif(NET, CASE)
    explicit = evidence_whatif(NET, CASE, state=str(NET.posterior(CASE).index[0]))
    pd.testing.assert_frame_equal(default, explicit)
    with pytest.raises(EvidenceError, match="Did you mean 'alt_wdlps'"):
        evidence_whatif(NET, CASE, state="alt_wdlp")


def test_whatif_records_its_question_for_a_caption() -> None:
    import softcalc_bayes as sb

    table = evidence_whatif(NET, CASE, state="ddlps")
    full = NET.posterior(CASE)
    assert table.attrs["state"] == "ddlps" and table.attrs["target"] == NET.target
    assert table.attrs["p_state"] == pytest.approx(full["ddlps"], rel=1e-12)
    assert table.attrs["top"] == full.index[0] and table.attrs["evidence"] == CASE
    assert table.attrs["content_hash"] == NET.spec.content_hash
    caption = repr(sb.captioned(table)).splitlines()[0]
    assert caption.startswith("target: diagnosis; state: ddlps; p_state: ")
    assert NET.spec.content_hash in caption


def test_impossible_alternatives_are_listed(gated: Network) -> None:
    evidence = {"marker": "yes", "negative": "other"}
    table = evidence_whatif(gated, evidence)
    impossible = table[~table["possible"]]
    assert impossible[["finding", "alternative"]].to_numpy().tolist() == [["negative", "never"]]
    row = impossible.iloc[0]
    full = gated.posterior(evidence)
    assert row["p_state"] == 0.0 and row["p_top"] == 0.0
    assert row["delta"] == pytest.approx(-full[full.index[0]])
    assert row["top_diagnosis"] == "" and not row["top_changes"]
    assert not table[["p_state", "delta", "p_top"]].isna().any().any()
    # With marker=no, d1 (prior 1/4, P(no | d1) = 0.3) falls behind d2: 1/7 against 4/7.
    swap = table[(table["finding"] == "marker") & (table["alternative"] == "no")].iloc[0]
    assert swap["possible"] and swap["top_changes"] and swap["top_diagnosis"] == "d2"
    assert swap["p_state"] == pytest.approx(1 / 7) and swap["p_top"] == pytest.approx(4 / 7)


def test_whatif_no_evidence() -> None:
    table = evidence_whatif(NET, {})
    assert table.empty and list(table.columns) == COLUMNS
    table = evidence_whatif(NET, {"fat_in_lesion": None})  # unobserved values are dropped
    assert table.empty


@pytest.mark.parametrize(
    ("evidence", "match"),
    [
        ({"fat": "present"}, "Unknown finding 'fat'"),
        ({"fat_in_lesion": "maybe"}, "Unknown state 'maybe'"),
        ("fat_in_lesion=present", "mapping"),
    ],
)
def test_whatif_bad_evidence(evidence: Any, match: str) -> None:
    with pytest.raises(EvidenceError, match=match):
        evidence_whatif(NET, evidence)


def test_whatif_impossible_evidence(gated: Network) -> None:
    with pytest.raises(EvidenceError, match="probability zero"):
        evidence_whatif(gated, {"marker": "yes", "negative": "never"})


# --------------------------------------------------------------------------- hypothesis
@st.composite
def evidences(draw: st.DrawFn, k: int = 4) -> dict[str, str]:
    names = draw(st.lists(st.sampled_from(NET.findings), max_size=k, unique=True))
    return {n: draw(st.sampled_from(NET.states(n))) for n in names}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(evidence=evidences(), data=st.data())
def test_whatif_matches_posterior_random(evidence: dict[str, str], data: st.DataObject) -> None:
    assume(np.isfinite(NET.engine.log_evidence(NET.encode(evidence))))
    state = data.draw(st.sampled_from(NET.states("diagnosis")))
    full = NET.posterior(evidence)
    table = evidence_whatif(NET, evidence, state=state)
    assert len(table) == sum(len(NET.states(f)) for f in evidence)
    for _, row in table.iterrows():
        changed = {k: v for k, v in evidence.items() if k != row["finding"]}
        if row["alternative"] != LEFT_OUT:
            changed[row["finding"]] = row["alternative"]
        if not row["possible"]:
            with pytest.raises(EvidenceError):
                NET.posterior(changed)
            continue
        post = NET.posterior(changed)
        assert row["p_state"] == pytest.approx(post[state], rel=1e-9, abs=1e-12)
        assert row["delta"] == pytest.approx(post[state] - full[state], rel=1e-9, abs=1e-12)
        assert row["top_changes"] == (row["top_diagnosis"] != full.index[0])


def test_a_set_is_left_out_narrowed_or_replaced() -> None:
    # A set of states ("one of these"): its alternatives are every single state.
    sites = ["thigh", "shoulder_girdle"]
    evidence = {**CASE, "anatomic_site": sites}
    table = evidence_whatif(NET, evidence, state="ddlps")
    rows = table[table["finding"] == "anatomic_site"]
    ordered = tuple(s for s in NET.states("anatomic_site") if s in sites)
    assert set(rows["observed"]) == {ordered}
    assert list(rows["alternative"]) == [LEFT_OUT, *NET.states("anatomic_site")]
    for _, row in rows.iterrows():
        changed = {k: v for k, v in evidence.items() if k != "anatomic_site"}
        if row["alternative"] != LEFT_OUT:
            changed["anatomic_site"] = row["alternative"]
        if not row["possible"]:
            with pytest.raises(EvidenceError, match="probability zero"):
                NET.posterior(changed)
            continue
        assert row["p_state"] == pytest.approx(NET.posterior(changed)["ddlps"], rel=1e-12)
    # another finding's rows keep the set as evidence
    other = table[(table["finding"] == "trauma_history") & (table["alternative"] == LEFT_OUT)].iloc[
        0
    ]
    reduced = {k: v for k, v in evidence.items() if k != "trauma_history"}
    assert other["p_state"] == pytest.approx(NET.posterior(reduced)["ddlps"], rel=1e-12)
