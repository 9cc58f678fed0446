"""The explorer, driven headlessly: change widgets, check the posterior it draws."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from pathlib import Path
from typing import Any

import pytest

from conftest import GATED_NODES, write_network
from softcalc_bayes import EvidenceError, Network, load_network
from softcalc_bayes._display import finding_groups
from softcalc_bayes.explorer import NOT_OBSERVED, SET_LABEL, Explorer, explore


@pytest.fixture(scope="module")
def explorer(net: Network) -> Explorer:
    return explore(net)


def test_one_dropdown_per_finding_grouped_in_tabs(net: Network, explorer: Explorer) -> None:
    assert set(explorer.dropdowns) == set(net.findings)
    box = explorer.dropdowns["serum_pth"]
    assert box.options[0] == (NOT_OBSERVED, None)
    assert [value for _, value in box.options[1:]] == list(net.states("serum_pth"))
    tabs = explorer.widget.children[2].children[0]
    titles = [tabs.get_title(i) for i in range(len(tabs.children))]
    assert titles == list(finding_groups(net))
    for page, names in zip(tabs.children, finding_groups(net).values(), strict=True):
        assert [d.description for d in page.children] == list(names)
    # each dropdown's tooltip is the finding's definition, so a state means what the network means
    assert all(
        box.tooltip.startswith(net.node(name).description) and box.tooltip
        for name, box in explorer.dropdowns.items()
    )
    assert "multifocal: Two or more separate lesions" in explorer.dropdowns["distribution"].tooltip
    # and what each state means, where the network writes it
    tip = explorer.dropdowns["mineralization_pattern"].tooltip
    assert "phleboliths: Round calcifications" in tip
    assert tip.count("\n") == len(net.states("mineralization_pattern"))


@pytest.mark.parametrize(
    "evidence",
    [
        {"fat_in_lesion": "present"},
        {"fat_in_lesion": "present", "mdm2_fish": "amplified"},
        {"mineralization_pattern": "phleboliths", "age_group": "child_3_12"},
    ],
)
def test_setting_widgets_shows_net_posterior(
    net: Network, explorer: Explorer, evidence: dict[str, str]
) -> None:
    explorer.set_evidence({})
    before = explorer.chart.value
    for name, state in evidence.items():
        explorer.dropdowns[name].value = state
    assert explorer.evidence == evidence
    assert explorer.posterior.equals(net.posterior(evidence))
    assert explorer.group_posterior.equals(net.posterior_groups(evidence))
    assert explorer.chart.value != before and explorer.chart.value[:4] == b"\x89PNG"
    assert net.labels[explorer.posterior.index[0]] in explorer.status.value


def test_unsetting_a_widget_removes_the_finding(net: Network, explorer: Explorer) -> None:
    explorer.set_evidence({"fat_in_lesion": "present", "mdm2_fish": "amplified"})
    explorer.dropdowns["mdm2_fish"].value = None
    assert explorer.posterior.equals(net.posterior({"fat_in_lesion": "present"}))


def test_profile_selector_swaps_the_prior(net: Network) -> None:
    ex = explore(net, evidence={"fat_in_lesion": "present"})
    ex.profile.value = "msk_referral"
    expected = net.with_profile("msk_referral").posterior({"fat_in_lesion": "present"})
    assert ex.net.profile == "msk_referral"
    assert ex.posterior.equals(expected)


def test_impossible_evidence_is_reported_and_the_last_posterior_kept(
    tmp_path: Path, tiny_files: dict[str, Any]
) -> None:
    gated = load_network(write_network(tmp_path, {**tiny_files, **GATED_NODES}))
    ex = explore(gated, evidence={"marker": "yes"})
    assert list(finding_groups(gated)) == ["other"]
    kept = ex.posterior
    assert ex.error is None and kept.equals(gated.posterior({"marker": "yes"}))
    ex.show_tornado()
    assert ex.sensitivity_table is not None
    ex.dropdowns["negative"].value = "never"  # 'marker=yes' needs d1, which never has this
    assert ex.error is not None and "probability zero" in ex.error
    assert ex.sensitivity_table is None and ex.tornado.value == b""  # not the old evidence's
    assert "probability zero" in ex.status.value
    assert ex.posterior is kept
    ex.dropdowns["negative"].value = "other"
    assert ex.error is None
    assert ex.posterior.equals(gated.posterior({"marker": "yes", "negative": "other"}))


def test_set_evidence_validates_first(net: Network, explorer: Explorer) -> None:
    explorer.set_evidence({"fat_in_lesion": "present"})
    with pytest.raises(EvidenceError, match="Did you mean 'fat_in_lesion'"):
        explorer.set_evidence({"fat_in_lesio": "present"})
    assert explorer.evidence == {"fat_in_lesion": "present"}


def test_tornado_button_draws_the_current_evidence(net: Network) -> None:
    ex = explore(net, evidence={"fat_in_lesion": "present", "mdm2_fish": "amplified"})
    ex.tornado_button.click()
    table = ex.sensitivity_table
    assert table is not None and ex.tornado.value[:4] == b"\x89PNG"
    assert table.attrs["evidence"] == ex.evidence
    assert table.attrs["state"] == ex.posterior.index[0]


@pytest.mark.parametrize("change", ["evidence", "profile"])
def test_a_tornado_is_cleared_when_its_evidence_or_profile_changes(
    net: Network, change: str
) -> None:
    ex = explore(net, evidence={"fat_in_lesion": "present"})
    ex.show_tornado()
    assert ex.sensitivity_table is not None and ex.tornado.value
    if change == "evidence":
        ex.dropdowns["mdm2_fish"].value = "amplified"
    else:
        ex.profile.value = "msk_referral"
    assert ex.sensitivity_table is None and ex.tornado.value == b""
    entered = "2 findings entered" if change == "evidence" else "1 finding entered"
    assert entered in ex.status.value


def test_a_set_of_states_gets_its_own_entry_and_is_drawn(net: Network) -> None:
    patterns = ["punctate_stippled", "chondroid_rings_arcs"]  # given out of the node's order
    ordered = tuple(s for s in net.states("mineralization_pattern") if s in patterns)
    ex = explore(net, evidence={"anatomic_site": "forearm_wrist_hand"})
    ex.set_evidence({"anatomic_site": "forearm_wrist_hand", "mineralization_pattern": patterns})
    box = ex.dropdowns["mineralization_pattern"]
    assert box.value == ordered
    assert (SET_LABEL + ", ".join(ordered), ordered) in box.options
    assert ex.evidence == {"anatomic_site": "forearm_wrist_hand", "mineralization_pattern": ordered}
    expected = net.posterior(
        {"anatomic_site": "forearm_wrist_hand", "mineralization_pattern": patterns}
    )
    assert ex.posterior.equals(expected)
    # the tornado takes the set as it is
    table = ex.show_tornado()
    assert table.attrs["evidence"]["mineralization_pattern"] == ordered
    # the same set again adds no second entry; a single state still selects as before
    n_options = len(box.options)
    ex.set_evidence({"mineralization_pattern": list(reversed(patterns))})
    assert len(box.options) == n_options
    box.value = "phleboliths"
    assert ex.posterior.equals(net.posterior({"mineralization_pattern": "phleboliths"}))
    with pytest.raises(EvidenceError, match="Unknown state 'punctate'"):
        ex.set_evidence({"mineralization_pattern": ["punctate"]})
    assert ex.evidence == {"mineralization_pattern": "phleboliths"}
