"""The knowledge base: cited constraints hold, coverage, case library and its evaluation."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from _forms import FORM_OF, FORMS
from conftest import docs_script
from softcalc_bayes import Network, load_network
from softcalc_bayes.cases import holdout_cases_path, load_cases
from softcalc_bayes.constraints import check_constraints
from softcalc_bayes.coverage import coverage
from softcalc_bayes.evaluate import evaluate
from softcalc_bayes.spec import default_network_path, load_spec

_DOI = re.compile(r"10\.\d{4,9}/[^\s\"';,]+")


def test_there_are_cited_constraints(net: Network) -> None:
    assert len(net.spec.constraints) >= 15
    assert all(c.source in net.spec.sources and c.locator for c in net.spec.constraints)


@pytest.mark.parametrize("profile", ["neutral", "msk_referral", "general_radiology"])
def test_likelihood_constraints_hold_in_every_profile(profile: str) -> None:
    table = check_constraints(load_network(profile=profile))
    likelihood = table[table["kind"] != "posterior_order"]
    assert likelihood["holds"].all(), likelihood[~likelihood["holds"]]


@pytest.mark.parametrize("profile", ["neutral", "msk_referral"])
def test_posterior_constraints_hold(profile: str) -> None:
    # general_radiology is excluded on purpose: its population prior puts the tumours and
    # hereditary tumoral calcinosis 10^4-10^6 times below arterial calcification, and the
    # cited posterior claims (e.g. lung metastases with osteoid favour osteosarcoma) are
    # statements about referred masses. README, "Knowledge base".
    table = check_constraints(load_network(profile=profile))
    posterior = table[table["kind"] == "posterior_order"]
    assert len(posterior) > 0
    assert posterior["holds"].all(), posterior[~posterior["holds"]]


def test_coverage_targets(net: Network) -> None:
    report = coverage(net)
    assert report.documented_row_share >= 0.80
    assert report.min_documented_findings >= 4
    assert set(report.per_diagnosis.index) == set(net.states("diagnosis"))


def test_case_library_size_and_provenance(net: Network) -> None:
    cases = load_cases()
    assert len(cases) >= 60
    assert len({c.diagnosis for c in cases}) >= 30
    for case in cases:
        assert case.citation.strip() and case.confirmation.strip()
        assert case.diagnosis in net.states("diagnosis")
        for finding, state in case.findings.items():
            assert state in net.states(finding), (case.id, finding, state)


def test_holdout_cases_are_valid_and_apart_from_the_library(net: Network) -> None:
    library = load_cases()
    holdout = load_cases(holdout_cases_path())
    assert len(holdout) >= 40
    assert not {c.id for c in holdout} & {c.id for c in library}
    library_dois = {m.lower().rstrip(".") for c in library for m in _DOI.findall(c.citation)}
    for case in holdout:
        assert case.diagnosis in net.states("diagnosis")
        assert not {m.lower().rstrip(".") for m in _DOI.findall(case.citation)} & library_dois, (
            case.id
        )
        net.encode(dict(case.findings))  # raises on an unknown finding or state


# Held-out cases whose article is also a bibliography entry, found by DOI or address and
# disclosed in the README of each set and in docs/knowledge-pass-5.md, section 1 (which also
# lists e_cppd_knee_watura_2014 / watura_2014_bmjcaserep, found by title: no link recorded).
DISCLOSED_OVERLAPS = {
    ("c_chondrolipoma_knee_adolescent_jdpo", "unattributed_nd_jdpochondrolipoma"),
    ("c_hvd_infant_khadgawat_2007", "khadgawat_2007_clinpediatrendocrinol"),
    ("c_metos_tibia_multiple_2022", "zheng_2022_bmcmusculoskeletdisord"),
    ("c_tc_galnt3_brother_rafaelsen_2014", "rafaelsen_2014_bmcgenet"),
    ("c_tc_galnt3_sister_rafaelsen_2014", "rafaelsen_2014_bmcgenet"),
    ("d_alt_thigh_burusapat_2020", "burusapat_2020_caserepsurg"),
    ("d_chlip_neck_ozer_2017", "ozer_2017_turkjpathol"),
    ("d_chlip_thigh_vyas_2017", "vyas_2017_ijoso"),
    ("e_fop_greattoes_kartalkaess_2010", "kartalkaess_2010_eurjpediatr"),
    ("e_rfc_pd_buttocks_krcp_2014", "kim_2014_krcp"),
    # Became a source after the third set was frozen (pass 5, second audit round; disclosed
    # in networks/holdout3/README.md and docs/knowledge-pass-5.md, section 4).
    ("g_mo_infant_thigh_lanuza2021", "lanuza_2021_revespcirortoptraumatol"),
    # Became a source in pass 9 (its pooled review re-sourced the osteolipoma site row),
    # long after the fourth set was measured (disclosed in docs/knowledge-pass-9.md).
    ("l_ol_scapular_jcutanpathol2007", "valbernal_2007_jcutanpathol"),
    # Became a source in pass 4 (its differential table, for the msk_referral lipoma weight),
    # after the first set was measured; found in pass 10, when the matcher learned journal
    # references (the source is cited by its table's address, the case by the article's).
    ("c_cppd_ankle_sadiq_2019", "crior_2019_tumoralpseudogout"),
    # Became a source in pass 17 (its count of 59 earlier published cases, which excludes the
    # case itself, re-sourced the CPPD site row), long after the second set was measured
    # (disclosed in docs/knowledge-pass-17.md and networks/holdout2/README.md).
    ("e_cppd_tarsal_qims", "unattributed_nd_qims_tumoralcppd"),
}


# the article matcher of docs/case_overlap.py (DOI, normalised web address, journal
# reference), so that the
# tests and the collectors' check cannot drift apart
_links = docs_script("case_overlap").links


def _case_articles(folder: str) -> dict[str, set[str]]:
    root = default_network_path().parent / folder
    return {
        case["id"]: _links(f"{case['citation']} {case.get('audit', '')}")
        for path in sorted(root.glob("*.yaml"))
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))
    }


def test_held_out_cases_share_no_article_with_the_bibliography_beyond_those_disclosed(
    net: Network,
) -> None:
    bibliography = {
        key: _links(f"{src.citation} {src.doi or ''} {src.url or ''}")
        for key, src in net.spec.sources.items()
    }
    held_out = {
        case: links
        for folder in sorted(default_network_path().parent.glob("holdout*"))
        for case, links in _case_articles(folder.name).items()
    }
    found = {
        (case, key)
        for case, mine in held_out.items()
        for key, links in bibliography.items()
        if mine & links
    }
    assert found <= DISCLOSED_OVERLAPS, sorted(found - DISCLOSED_OVERLAPS)
    assert found == DISCLOSED_OVERLAPS  # also: the matcher still finds every known one


@pytest.mark.parametrize(
    ("folder", "minimum"),
    [
        ("holdout3", 49),
        ("holdout4", 81),
        ("holdout5", 91),
        ("holdout6", 83),
        ("holdout7", 64),
        ("holdout8", 80),
        ("holdout9", 27),
        ("holdout10", 38),
        ("holdout11", 33),
        ("holdout12", 33),
        ("holdout13", 34),
        ("holdout14", 33),
        ("holdout15", 15),
        ("holdout16", 30),
        ("holdout17", 23),
        ("holdout18", 28),
        ("holdout19", 13),
        ("holdout20", 18),
        ("holdout21", 11),
    ],
)
def test_later_held_out_sets_share_no_article_with_another_case_set(
    folder: str, minimum: int
) -> None:
    """The third to seventeenth sets' protocol drops a case whose article is a case of another
    set (their READMEs); two patients of one article may both stay."""
    mine = _case_articles(folder)
    assert len(mine) >= minimum
    others: dict[str, set[str]] = {}
    sets = ["cases"] + [p.name for p in default_network_path().parent.glob("holdout*")]
    for other in sets:
        if other != folder:
            others |= _case_articles(other)
    assert not mine.keys() & others.keys()
    shared = sorted(
        (case, theirs)
        for case, links in mine.items()
        for theirs, other_links in others.items()
        if links & other_links
    )
    assert shared == []


# Pairs of cases with one diagnosis whose citations open with the same first author
# (docs/case_overlap.py's "first author" rule), each read side by side by the lead: two
# patients of one article (which may both stay) or two different articles. A new pair fails
# the test below until it is read; two duplicates found this way (a sixteenth- and a
# seventeenth-set case, both repeating eighth-set cases) were dropped in knowledge pass 24.
REVIEWED_FIRST_AUTHOR_PAIRS = {
    ("c_tc_galnt3_brother_rafaelsen_2014", "c_tc_galnt3_sister_rafaelsen_2014"): "two patients",
    ("c_rfc_multiple_he_2023", "e_rfc_hd_shoulder_he_archrheumatol"): "He L 2023 / He J",
    (
        "h10b_ecs_mesenchymal_intraspinal_lumbar_wjso2016",
        "h10b_ecs_mesenchymal_intraspinal_t12l2_bmcneurol2022",
    ): "two journals",
    ("h11d_cppd_cervical_lf_lee2007", "h9e_cppd_ankle_ksmr347"): "Lee JC 2007 / Lee GY case 347",
    ("d_parlip_calf_sboui_2019", "d_parlip_fibula_sboui_2019"): "two patients",
    ("d_stc_iliacfossa_benhayoune_2014", "d_stc_thigh_benhayoune_2014"): "two patients",
    ("e_para_calf_prabhakar_2012_case1", "e_para_forearm_prabhakar_2012_case2"): "two patients",
    (
        "h_hvd_alfacalcidol_shoulder_patient1",
        "h_hvd_alfacalcidol_shoulder_patient2",
    ): "two patients",
    ("j_psho_elbow_ankylosis_adolescent_kim_2019", "r_pho_laparotomy_jti2018"): "Kim BS / Kim H",
    ("b_aneur_popliteal_eurorad12873", "s_aneu_renal_crira2014"): "popliteal / renal aneurysm",
    ("v_php_girl10_rojbi2015", "v_php_sister15_rojbi2015"): "two patients",
}


def test_cases_with_one_first_author_and_diagnosis_were_read_side_by_side() -> None:
    """Every same-first-author pair is a reviewed pair (a duplicate with no shared link
    shows up here, as the two dropped in knowledge pass 24 would have)."""
    script = docs_script("case_overlap")
    root = default_network_path().parent
    cases = [
        case
        for folder in ["cases", *sorted(p.name for p in root.glob("holdout*"))]
        for path in sorted((root / folder).glob("*.yaml"))
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))
    ]
    groups: dict[tuple[str, str], list[str]] = {}
    for case in cases:
        if author := script.first_author(case["citation"]):
            groups.setdefault((case["diagnosis"], author), []).append(case["id"])
    pairs = {
        tuple(sorted((a, b)))
        for ids in groups.values()
        for i, a in enumerate(ids)
        for b in ids[i + 1 :]
    }
    assert len(cases) > 1000
    assert pairs == set(REVIEWED_FIRST_AUTHOR_PAIRS), sorted(
        pairs ^ set(REVIEWED_FIRST_AUTHOR_PAIRS)
    )


def test_evaluation_meets_the_targets(net: Network) -> None:
    """The knowledge-base targets on our own library with the default profile.

    Targets: top-1 >= 60% and top-3 >= 85%. Measured 2026-11-21: top-1 66.4%, top-3
    87.3%, top-5 91.8% (110 cases; README, "Evaluation"). A knowledge change that drops
    below a target fails here and has to be justified by its sources, never by
    re-tuning numbers to the cases.
    """
    report = evaluate(net, load_cases())
    assert report.metrics["top1"] >= 0.60
    assert report.metrics["top3"] >= 0.85
    assert report.metrics["brier"] < 0.5
    assert abs(report.calibration["count"].sum() - len(load_cases()) * 39) == 0


def test_evaluation_metrics_are_consistent(net: Network) -> None:
    report = evaluate(net, load_cases())
    m = report.metrics
    assert m["top1"] <= m["top3"] <= m["top5"] <= 1.0
    assert m["mean_rank"] >= 1.0
    per_case = report.per_case
    assert (
        (per_case["rank"] == 1) == (per_case["top_call"] == per_case["diagnosis"])
    ).mean() > 0.99
    assert report.posteriors.sum(axis=1).round(9).eq(1.0).all()


# --------------------------------------------------------------------------- site and compartment
SITE_RULES = {  # knowledge pass 4, section 4c: anatomically impossible by definition
    "retroperitoneum_abdomen": {"subcutaneous", "intra_articular"},
    **{
        limb: {"visceral_cavity"}
        for limb in (
            "shoulder_girdle",
            "upper_arm_elbow",
            "forearm_wrist_hand",
            "thigh",
            "knee",
            "leg_ankle_foot",
        )
    },
}


def _n_forms(net: Network) -> int:
    """Joint configurations of the latent form nodes (C order over ``FORMS``)."""
    return int(np.prod([len(net.states(f)) for f in FORMS]))


def _form_weights(net: Network) -> np.ndarray:
    """P(form configuration | diagnosis) as (diagnosis, configuration)."""
    weights = np.ones((len(net.states(net.target)), 1))
    for form in FORMS:  # each cpt is (diagnosis, form); C order puts the last form fastest
        cpt = net.spec.nodes[form].cpt
        weights = (weights[:, :, None] * cpt[:, None, :]).reshape(cpt.shape[0], -1)
    return weights


def _compartment_by_site(net: Network) -> tuple[np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """The compartment table as (diagnosis, form configuration, site, compartment).

    Its parents are the diagnosis, the site and the latent forms of CPPD (knowledge pass 19)
    of soft-tissue chondroma (pass 20) and of extraskeletal chondrosarcoma (pass 21); each form matters only for its diagnosis, so every
    other diagnosis has one slice per configuration, all equal.
    """
    node = net.spec.nodes["compartment"]
    assert node.parents == ("diagnosis", "anatomic_site", *FORMS)
    sites, states = net.states("anatomic_site"), node.states
    shape = (len(net.states(net.target)), len(sites), _n_forms(net), len(states))
    return node.cpt.reshape(shape).transpose(0, 2, 1, 3), sites, states


def _site_table(net: Network) -> np.ndarray:
    """P(site | diagnosis, forms) as (diagnosis, form configuration, site)."""
    node = net.spec.nodes["anatomic_site"]
    assert node.parents == ("diagnosis", *FORMS)
    return node.cpt.reshape(len(net.states(net.target)), _n_forms(net), -1)


def _by_form(net: Network, table: np.ndarray, latent: str) -> np.ndarray:
    """Slices of a (diagnosis, configuration, ...) table per state of one form node, every
    other form at its first state: shape (form states, diagnosis, ...)."""
    cards = [len(net.states(f)) for f in FORMS]
    full = table.reshape(table.shape[0], *cards, *table.shape[2:])
    index = tuple(slice(None) if f == latent else 0 for f in FORMS)
    return np.moveaxis(full[(slice(None), *index)], 1, 0)  # the form's axis is now 1


def test_compartment_depends_on_the_form_only_for_its_diagnosis(net: Network) -> None:
    cpt = _compartment_by_site(net)[0]
    diagnoses = net.states(net.target)
    own = [diagnoses.index(d) for d in FORM_OF.values()]
    others = [d for d in range(len(diagnoses)) if d not in own]
    for k in range(1, cpt.shape[1]):
        np.testing.assert_array_equal(cpt[others, 0], cpt[others, k])
    for latent, diagnosis in FORM_OF.items():
        d = diagnoses.index(diagnosis)
        first, second = _by_form(net, cpt, latent)[:, d]
        assert not np.allclose(first, second), latent


def test_compartment_rows_are_marginal_over_sites(net: Network, tmp_path: Path) -> None:
    # marginal_over (knowledge pass 4, section 4c): mixing the site slices over
    # P(site | diagnosis, form) gives back each row as written in compartment.yaml
    sites, states = net.states("anatomic_site"), net.spec.nodes["compartment"].states
    folder = tmp_path / "default"
    shutil.copytree(default_network_path(), folder)
    path = folder / "nodes" / "compartment.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert doc.pop("marginal_over") == "anatomic_site"
    del doc["impossible"]  # without rules every site slice is the row as written
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    forms = _n_forms(net)
    plain = load_spec(folder).nodes["compartment"].cpt.reshape(-1, len(sites), forms, len(states))
    plain = plain.transpose(0, 2, 1, 3)
    written = plain[:, :, 0]
    assert np.array_equal(plain, np.repeat(written[:, :, None], len(sites), axis=2))
    cpt = _compartment_by_site(net)[0]
    mixed = np.einsum("dfs,dfsc->dfc", _site_table(net), cpt)
    np.testing.assert_allclose(mixed, written, atol=1e-9)
    diagnoses = net.states(net.target)
    # a retroperitoneal ALT/WDLPS is in the body cavity far more often than its 0.34 overall
    alt = diagnoses.index("alt_wdlps")
    r, v = sites.index("retroperitoneum_abdomen"), states.index("visceral_cavity")
    assert np.all(cpt[alt, :, r, v] > 0.6)


def test_compartment_site_slices_are_one_tilted_row_masked(net: Network) -> None:
    # closest to independence: per diagnosis (and form), every site slice is one row (the
    # written row times a factor per compartment) with the impossible compartments removed
    cpt, sites, states = _compartment_by_site(net)
    zeros = net.spec.nodes["compartment"].structural_zeros()
    zeros = zeros.reshape(cpt.shape[0], len(sites), cpt.shape[1], len(states)).transpose(0, 2, 1, 3)
    written = cpt[:, :, sites.index("trunk_wall")]  # a site without a rule: the tilted row
    for s, site in enumerate(sites):
        mask = np.array([state in SITE_RULES.get(site, set()) for state in states])
        np.testing.assert_allclose(cpt[:, :, s].sum(axis=-1), 1.0, atol=1e-12)
        assert np.all((cpt[:, :, s] == 0) == mask), site  # zeros exactly at the excluded states
        assert np.all(zeros[:, :, s] == mask), site
        kept = written[:, :, ~mask]
        np.testing.assert_allclose(cpt[:, :, s][:, :, ~mask], kept / kept.sum(-1, keepdims=True))


def test_retroperitoneal_cavity_mass_is_not_penalised_twice(net: Network) -> None:
    evidence = {"anatomic_site": "retroperitoneum_abdomen", "compartment": "visceral_cavity"}
    cpt, sites, states = _compartment_by_site(net)
    r, v = sites.index("retroperitoneum_abdomen"), states.index("visceral_cavity")
    prior = net.spec.nodes[net.target].cpt[0]
    form = _form_weights(net)  # (diagnosis, form configuration)
    site = _site_table(net)[:, :, r]
    brute = prior * (form * site * cpt[:, :, r, v]).sum(axis=1)  # by hand from the tables
    np.testing.assert_allclose(
        net.posterior(evidence).reindex(net.states(net.target)).to_numpy(),
        brute / brute.sum(),
        rtol=1e-10,
    )
    # against independence (written rows, i.e. the mix over sites): lipoma's subcutaneous
    # 0.60 no longer counts against it in the retroperitoneum
    written = np.einsum("dfs,dfsc->dfc", _site_table(net), cpt)[:, 0]
    d = net.states(net.target)
    lipoma, ddlps = d.index("lipoma_fat_necrosis"), d.index("ddlps")
    ratio_now = cpt[lipoma, 0, r, v] / cpt[ddlps, 0, r, v]
    ratio_independent = written[lipoma, v] / written[ddlps, v]
    assert ratio_now > 2 * ratio_independent  # lipoma's subcutaneous 0.60 no longer counts


def test_lesions_in_two_regions_are_never_solitary(net: Network) -> None:
    """``distribution`` counts lesions, not regions (knowledge pass 10): lesions in two or more
    regions (``anatomic_site=multiple_sites``) are never one lesion, so for every diagnosis
    P(multiple_sites | d) <= P(multifocal or diffuse | d)."""
    for diagnosis in net.states("diagnosis"):
        site = net.posterior({"diagnosis": diagnosis}, target="anatomic_site")
        spread = net.posterior({"diagnosis": diagnosis}, target="distribution")
        assert site["multiple_sites"] <= spread["multifocal"] + spread["diffuse"] + 1e-9, diagnosis
    # and within each form of CPPD (pass 19) and of soft-tissue chondroma (pass 20)
    site, spread = _site_table(net), net.spec.nodes["distribution"].cpt
    assert net.spec.nodes["distribution"].parents == ("diagnosis", *FORMS)
    spread = spread.reshape(site.shape[0], _n_forms(net), -1)
    multiple = net.states("anatomic_site").index("multiple_sites")
    solitary = net.states("distribution").index("solitary")
    for latent, diagnosis in FORM_OF.items():
        d = net.states("diagnosis").index(diagnosis)
        sites, rows = _by_form(net, site, latent)[:, d], _by_form(net, spread, latent)[:, d]
        for f, name in enumerate(net.states(latent)):
            assert sites[f, multiple] <= 1 - rows[f, solitary] + 1e-9, name
