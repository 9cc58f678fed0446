"""The Network object: structure, parameters, queries and their errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from softcalc_bayes import (
    EvidenceError,
    InvalidParameterError,
    Network,
    NetworkSpecError,
    load_network,
)
from softcalc_bayes.cases import load_examples


def test_vocabulary_diagnoses_and_groups(net: Network, vocabulary: dict[str, Any]) -> None:
    voc = vocabulary["diagnosis"]
    assert set(net.states("diagnosis")) == set(voc["states"])
    for state, entry in voc["states"].items():
        assert net.spec.groups[state] == entry["group"]
    grouped = net.diagnosis_groups
    assert set(grouped) == set(voc["groups"])
    assert sorted(s for states in grouped.values() for s in states) == sorted(voc["states"])


def test_diagnosis_labels_are_whole(net: Network, vocabulary: dict[str, Any]) -> None:
    """Labels keep their parentheses. The vocabulary writes labels such as "(CNS injury,
    burns)" inside YAML flow mappings, where the comma ends the value; four labels had been
    copied cut at that comma."""
    labels = net.labels
    for state, entry in vocabulary["diagnosis"]["states"].items():
        label = labels[state]
        assert label.startswith(str(entry["label"])), state
        assert label.count("(") == label.count(")"), label


def test_every_vocabulary_finding_and_state_is_accepted(
    net: Network, vocabulary: dict[str, Any]
) -> None:
    for finding, entry in vocabulary["findings"].items():
        assert finding in net.findings
        assert set(entry["states"]) <= set(net.states(finding))
        for state in entry["states"]:
            post = net.posterior({finding: str(state)})
            assert post.sum() == pytest.approx(1.0, abs=1e-12)
            assert np.isfinite(post.to_numpy()).all()


def test_vendored_vocabulary_matches_shared() -> None:
    from conftest import SHARED_VOCABULARY, VENDORED_VOCABULARY

    if not SHARED_VOCABULARY.exists():
        pytest.skip("../shared is not beside this checkout")
    assert SHARED_VOCABULARY.read_text() == VENDORED_VOCABULARY.read_text()


def test_pgmpy_model_is_valid(net: Network) -> None:
    model = net.pgmpy_model
    assert model.check_model()
    assert set(model.nodes()) == set(net.nodes)


def test_latent_nodes_tie_concordant_tests(net: Network) -> None:
    assert net.node("mdm2_fish").parents == ("amplification_12q",)
    assert "amplification_12q" in net.node("mdm2_cdk4_ihc").parents
    assert net.node("ring_or_giant_marker_chromosomes").parents == ("amplification_12q",)
    for lab in ("serum_calcium", "serum_phosphate", "serum_pth"):
        assert net.node(lab).parents == ("mineral_metabolism",)
    for finding in ("zonal_pattern", "mineralization_pattern", "evolution"):
        assert "lesion_stage" in net.node(finding).parents
    for finding in ("anatomic_site", "compartment", "distribution", "relation_to_bone"):
        assert "cppd_form" in net.node(finding).parents
        assert "chondroma_form" in net.node(finding).parents
    assert set(net.latent) == {
        "amplification_12q",
        "mineral_metabolism",
        "lesion_stage",
        "cppd_form",
        "chondroma_form",
        "escs_form",
    }


def test_parameters_table(net: Network) -> None:
    params = net.parameters()
    expected = [
        "node",
        "parents",
        "state",
        "value",
        "source",
        "locator",
        "basis",
        "strength",
        "is_default",
    ]
    assert set(expected) <= set(params.columns)
    undocumented = params["source"].isna() & (params["basis"] != "assumption")
    assert not undocumented.any(), params[undocumented].head()
    assumed = params[params["basis"] == "assumption"]
    assert assumed["reason"].map(lambda r: isinstance(r, str) and len(r) > 0).all()
    n_expected = sum(node.cpt.size for node in net.spec.nodes.values())
    assert len(params) == n_expected
    sums = params.assign(key=params["parents"].map(lambda d: tuple(sorted(d.items()))))
    totals = sums.groupby(["node", "key"])["value"].sum()
    np.testing.assert_allclose(totals.to_numpy(), 1.0, atol=1e-9)
    assert set(params.loc[params["node"] == "diagnosis", "parents"].map(len)) == {0}


@pytest.mark.parametrize("case", load_examples(), ids=lambda c: c.id)
def test_seed_cases(net: Network, case: Any) -> None:
    post = net.posterior(dict(case.findings))
    rank = list(post.index).index(case.diagnosis) + 1
    limit = 1 if case.id.startswith("seed000") else 3
    assert rank <= limit, post.head(5)


def test_posterior_is_sorted_labelled_series(net: Network) -> None:
    post = net.posterior({"trauma_history": "yes"})
    assert isinstance(post, pd.Series)
    assert post.name == "diagnosis" and post.index.name == "diagnosis"
    assert post.is_monotonic_decreasing
    assert post.sum() == pytest.approx(1.0)


def test_posterior_groups(net: Network) -> None:
    groups = net.posterior_groups({"mdm2_fish": "amplified"})
    assert set(groups.index) <= set(net.diagnosis_groups)
    assert groups.sum() == pytest.approx(1.0)
    assert groups.is_monotonic_decreasing


def test_empty_evidence_gives_prior(net: Network) -> None:
    prior = net.spec.nodes["diagnosis"].cpt[0]
    post = net.posterior({}).reindex(net.states("diagnosis"))
    np.testing.assert_allclose(post.to_numpy(), prior, atol=1e-12)


def test_missing_values_mean_unobserved(net: Network) -> None:
    a = net.posterior({"sex": "male", "pain": None, "trauma_history": float("nan")})
    b = net.posterior({"sex": "male"})
    pd.testing.assert_series_equal(a, b)


EVIDENCE_ERRORS = [
    (
        {"fat": "present"},
        r"Unknown finding 'fat'\. Did you mean 'fat_in_lesion'\? Valid findings: ",
    ),
    (
        {"fat_in_lesion": "yes"},
        r"Finding 'fat_in_lesion': Unknown state 'yes'\. Valid states: present, absent",
    ),
    ({"fat_in_lesion": "presnt"}, r"Did you mean 'present'\?"),
    ({"diagnosis": "ddlps"}, r"Evidence on the target 'diagnosis' itself"),
    ({"amplification_12q": "amplified"}, r"'amplification_12q' is a latent node"),
    ({"sex": True}, r"Unknown state True"),
    ({3: "x"}, r"Unknown finding 3"),
]


@pytest.mark.parametrize(("evidence", "pattern"), EVIDENCE_ERRORS)
def test_evidence_errors(net: Network, evidence: dict[Any, Any], pattern: str) -> None:
    with pytest.raises(EvidenceError, match=pattern):
        net.posterior(evidence)


def test_evidence_must_be_mapping(net: Network) -> None:
    with pytest.raises(EvidenceError, match="must be a mapping"):
        net.posterior(["fat_in_lesion=present"])  # type: ignore[arg-type]


def test_unknown_target(net: Network) -> None:
    with pytest.raises(
        EvidenceError, match=r"Unknown target 'diagnosys'\. Did you mean 'diagnosis'\?"
    ):
        net.posterior({}, target="diagnosys")


def test_evidence_on_query_target(net: Network) -> None:
    with pytest.raises(EvidenceError, match="Evidence on the target 'sex' itself"):
        net.posterior({"sex": "male"}, target="sex")


def test_zero_probability_evidence_names_conflict(tiny_net: Network) -> None:
    with pytest.raises(
        EvidenceError, match=r"probability zero: the findings test=pos, colour=red conflict"
    ):
        tiny_net.posterior({"test": "pos", "colour": "red"})
    with pytest.raises(EvidenceError, match="probability zero"):
        tiny_net.posterior({"test": "pos", "colour": "red"}, engine="pgmpy")


@pytest.fixture
def tiny_net(tmp_path: Any, tiny_files: dict[str, Any]) -> Network:
    """Tiny network where test=pos needs d1 and colour=red excludes d1."""
    from conftest import write_network
    from softcalc_bayes import load_network

    nodes = tiny_files
    nodes["nodes/latent.yaml"]["default"]["probs"] = {"on": 0.0}
    nodes["nodes/latent.yaml"]["rows"][0]["probs"] = {"on": 1.0}
    nodes["nodes/test.yaml"]["default"]["probs"] = {"pos": 0.0}
    nodes["nodes/colour.yaml"]["rows"].append(
        {"when": {"diagnosis": "d1"}, "probs": {"red": 0.0}, "basis": "assumption", "reason": "t"}
    )
    return load_network(write_network(tmp_path, nodes))


def test_unknown_engine(net: Network) -> None:
    with pytest.raises(EvidenceError, match=r"Unknown engine 'fast'"):
        net.posterior({}, engine="fast")  # type: ignore[arg-type]


def test_with_profile_changes_prior(net: Network) -> None:
    for name in net.profiles:
        other = net.with_profile(name)
        assert other.profile == name
        assert other.posterior({}).sum() == pytest.approx(1.0)


def test_with_profile_equals_loading_the_profile(net: Network) -> None:
    evidence = {"mineralization_pattern": "phleboliths", "sex": "male"}
    for name in net.profiles:
        swapped = net.with_profile(name).posterior(evidence)
        loaded = load_network(profile=name).posterior(evidence)
        pd.testing.assert_series_equal(swapped, loaded.reindex(swapped.index), rtol=1e-12)
        prior = net.with_profile(name).posterior({}).reindex(net.states("diagnosis"))
        np.testing.assert_allclose(prior.to_numpy(), net.spec.profiles[name].probs)


def test_with_profile_unknown_name(net: Network) -> None:
    with pytest.raises(
        NetworkSpecError, match=r"Unknown profile 'msk'\. Did you mean 'msk_referral'"
    ):
        net.with_profile("msk")


def test_definitions_are_a_series_indexed_by_state(net: Network) -> None:
    """``Network.definitions`` says what each state means (``state_definitions`` of the file)."""
    defs = net.definitions("compartment")
    assert isinstance(defs, pd.Series) and defs.name == "compartment"
    assert tuple(defs.index) == net.states("compartment") and defs.index.name == "state"
    assert defs.attrs["description"] == net.node("compartment").description
    assert defs["intra_articular"].startswith("Inside a joint capsule")
    # a node without state definitions: every state present, none defined
    assert list(net.definitions("sex")) == ["", ""]
    with pytest.raises(EvidenceError, match=r"Unknown node 'compartmnt'\. Did you mean"):
        net.definitions("compartmnt")


@pytest.mark.parametrize(
    "node",
    [
        "mineralization_pattern",
        "compartment",
        "anatomic_site",
        "evolution",
        "zonal_pattern",
        "distribution",
    ],
)
def test_imaging_states_are_all_defined(net: Network, node: str) -> None:
    """The many-state imaging findings, where encoders disagreed most (knowledge pass 10),
    define every state."""
    defs = net.definitions(node)
    assert (defs.str.len() > 10).all(), list(defs[defs.str.len() <= 10].index)


@pytest.mark.parametrize(
    ("path", "match"),
    [
        (5, r"path must be a folder \(str or Path\), got int 5"),
        (b"/tmp", r"path must be a folder \(str or Path\), got bytes b'/tmp'"),
    ],
)
def test_load_network_refuses_a_path_that_is_not_a_path(path: Any, match: str) -> None:
    with pytest.raises(NetworkSpecError, match=match):
        load_network(path)


@pytest.mark.parametrize("spec", [None, "networks/default", {"target": "diagnosis"}])
def test_network_needs_a_spec(spec: Any) -> None:
    with pytest.raises(
        InvalidParameterError, match=r"The 'spec' parameter of Network must be a NetworkSpec"
    ):
        Network(spec)
