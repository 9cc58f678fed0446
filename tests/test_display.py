"""Text and HTML displays: labelled tables with provenance, never bare arrays."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import softcalc_bayes as sb
from conftest import write_network
from softcalc_bayes import Network
from softcalc_bayes._display import finding_groups, network_html, node_frame
from softcalc_bayes.exceptions import InvalidParameterError, NetworkSpecError

EVIDENCE = {"fat_in_lesion": "present", "mdm2_fish": "amplified"}


def _no_bare_array(text: str) -> None:
    assert "array(" not in text and "[[" not in text


@pytest.mark.parametrize("name", ["fat_in_lesion", "mdm2_cdk4_ihc", "diagnosis", "serum_pth"])
def test_node_frame_is_the_labelled_cpt(net: Network, name: str) -> None:
    node = net.node(name)
    frame = node_frame(node)
    assert list(frame.columns) == list(node.states)
    np.testing.assert_array_equal(frame.to_numpy(), node.cpt)
    if node.parents:
        assert list(frame.index.names) == list(node.parents)
        assert tuple(frame.index[0]) == tuple(net.states(p)[0] for p in node.parents)
        assert tuple(frame.index[-1]) == tuple(net.states(p)[-1] for p in node.parents)


def test_node_html_labels_rows_and_shows_provenance(net: Network) -> None:
    node = net.node("fat_in_lesion")
    text = node._repr_html_()
    row = node.states.index("present")
    c = net.states("diagnosis").index("alt_wdlps")
    prov = node.provenance[c][row]
    assert "<th>alt_wdlps</th>" in text
    assert f"{node.cpt[c, row]:.4g}" in text
    assert prov.basis in text and str(prov.source) in text
    assert "title=" in text  # every value has its provenance as a tooltip


@pytest.mark.parametrize("name", ["fat_in_lesion", "relation_to_bone", "anatomic_site"])
def test_node_html_gives_each_locator_and_reason_once(net: Network, name: str) -> None:
    import html
    import re

    from softcalc_bayes._display import MAX_ROWS

    node = net.node(name)
    text = node._repr_html_()
    shown = [p for row in node.provenance[:MAX_ROWS] for p in row]
    values = re.findall(r"<td title='([^']*)'>[0-9][0-9.e+-]*</td>", text)
    assert len(values) == len(shown)  # every value has a tooltip naming its source
    assert all(
        v.startswith(f"source {html.escape(p.source or '-')};")
        for v, p in zip(values, shown, strict=True)
    )
    for p in shown:  # nothing is lost: every reason of a shown row is given somewhere
        if p.reason:
            assert html.escape(p.reason, quote=True) in text
    distinct = {(p.source or "", p.locator or "", p.reason or "") for p in shown}
    assert text.count("; reason: ") <= len(distinct)  # ... and none is repeated
    assert "File: nodes/" + name + ".yaml" in text  # a relative path, not this machine's


def test_node_repr_is_one_line_without_array(net: Network) -> None:
    text = repr(net.node("diagnosis"))
    assert "\n" not in text and "39 states" in text
    _no_bare_array(text)


def test_network_html_shows_profile_groups_and_coverage(net: Network) -> None:
    text = network_html(net)
    assert f"<b>{net.profile}</b>" in text
    for group in ("clinical", "imaging", "laboratory", "molecular"):
        assert f"{group} findings" in text
    share = sb.coverage(net).documented_row_share
    assert f"{share:.1%}" in text
    assert net._repr_html_() == text
    other = net.with_profile("msk_referral")._repr_html_()
    assert "<b>msk_referral</b>" in other and other != text


def test_finding_groups_cover_every_finding_once(net: Network) -> None:
    groups = finding_groups(net)
    listed = [f for names in groups.values() for f in names]
    assert sorted(listed) == sorted(net.findings)
    assert "other" not in groups  # the default network groups every finding


def test_findings_outside_the_groups_fall_under_other(tmp_path, tiny_files) -> None:
    tiny_files["network.yaml"]["finding_groups"] = {"lab": ["test"]}
    net = sb.load_network(write_network(tmp_path, tiny_files))
    assert finding_groups(net) == {"lab": ("test",), "other": ("colour",)}


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ({"lab": ["tset"]}, "Unknown finding 'tset'. Did you mean 'test'"),
        ({"lab": ["latent"]}, "Unknown finding 'latent'"),
        ({"a": ["test"], "b": ["test"]}, "in two groups"),
        ({"a": "test"}, "expected a list of findings"),
    ],
)
def test_bad_finding_groups_are_refused(tmp_path, tiny_files, groups, message) -> None:
    tiny_files["network.yaml"]["finding_groups"] = groups
    with pytest.raises(NetworkSpecError, match=message):
        sb.load_network(write_network(tmp_path, tiny_files))


def test_evaluation_report_displays(net: Network) -> None:
    from softcalc_bayes.cases import load_examples

    report = sb.evaluate(net, load_examples())
    assert repr(report).startswith("EvaluationReport(n_cases=2,")
    text = report._repr_html_()
    assert "By diagnosis group" in text and "Calibration" in text
    assert f"{report.metrics['top1']:.1%}" in text
    assert "Scores the network forecasts" in text


def test_coverage_report_displays(net: Network) -> None:
    report = sb.coverage(net)
    assert f"{report.documented_row_share:.1%}" in repr(report)
    text = report._repr_html_()
    assert f"{len(report.written_rows)} written rows" in text


def test_uncertainty_result_records_seed_and_sample_size(net: Network) -> None:
    result = sb.posterior_uncertainty(net, EVIDENCE, n_samples=200, seed=7)
    assert (result.seed, result.n_samples) == (7, 200)
    assert result.summary.attrs["seed"] == 7 and result.summary.attrs["n_samples"] == 200
    assert result.evidence == EVIDENCE
    text = result._repr_html_()
    assert "seed 7" in text and "200 Monte Carlo samples" in text
    assert "seed=7" in repr(result)


def test_uncertainty_without_seed_records_one_that_reproduces(net: Network) -> None:
    first = sb.posterior_uncertainty(net, EVIDENCE, n_samples=50)
    assert isinstance(first.seed, int)
    again = sb.posterior_uncertainty(net, EVIDENCE, n_samples=50, seed=first.seed)
    pd.testing.assert_frame_equal(first.samples, again.samples)


@pytest.mark.parametrize("seed", [-1, 1.5, "0"])
def test_bad_seed_is_refused(net: Network, seed: object) -> None:
    with pytest.raises(
        sb.InvalidParameterError, match="The 'seed' parameter of posterior_uncertainty"
    ):
        sb.posterior_uncertainty(net, EVIDENCE, n_samples=10, seed=seed)  # type: ignore[arg-type]


def test_sobol_records_seed_and_sample_size(net: Network) -> None:
    table = sb.sobol_indices(net, EVIDENCE, n_base=16, seed=3)
    assert table.attrs["seed"] == 3 and table.attrs["n_base"] == 16
    assert table.attrs["n_evaluations"] == 16 * (len(table) + 2)
    assert table.attrs["evidence"] == EVIDENCE


def test_captioned_shows_attrs(net: Network) -> None:
    table = sb.sensitivity(net, EVIDENCE)
    shown = sb.captioned(table[["node", "state", "swing"]], top=3)
    text = shown._repr_html_()
    assert "state: alt_wdlps" in text and "fat_in_lesion=present" in text
    assert len(re.findall(r"<tr", text)) == 4  # header + 3 rows
    assert f"... {len(table) - 3} more rows" in text
    assert repr(shown).splitlines()[0].startswith("target: diagnosis")


@pytest.mark.parametrize(
    ("table", "top", "match"),
    [
        (None, 10, r"The 'table' parameter of captioned must be a pandas DataFrame or Series"),
        ([1, 2], 10, r"must be a pandas DataFrame or Series\. Got \[1, 2\] \(a list\)"),
        (pd.DataFrame({"a": [1]}), "3", r"The 'top' parameter of captioned must be an int"),
        (pd.DataFrame({"a": [1]}), 2.5, r"in the range \[0, inf\) or None\. Got 2\.5 instead"),
        (pd.DataFrame({"a": [1]}), -1, r"in the range \[0, inf\) or None\. Got -1 instead"),
    ],
)
def test_captioned_refuses_bad_input(table: object, top: object, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        sb.captioned(table, top=top)  # type: ignore[arg-type]


def test_captioned_takes_a_series() -> None:
    series = pd.Series({"a": 0.75, "b": 0.25})
    series.attrs["state"] = "a"
    assert repr(sb.captioned(series, top=None)).splitlines()[0] == "state: a"


def test_captions_leave_out_unset_options(net: Network) -> None:
    table = sb.sensitivity(net, {"fat_in_lesion": "present"})  # threshold left at None
    assert table.attrs["threshold"] is None
    caption = repr(sb.captioned(table, top=1)).splitlines()[0]
    assert "threshold" not in caption and "state: " in caption
    with_threshold = sb.sensitivity(net, {"fat_in_lesion": "present"}, threshold=0.5)
    assert "threshold: 0.5" in repr(sb.captioned(with_threshold, top=1))


@pytest.mark.parametrize("exact_max", [15, 0])
def test_explanation_has_a_labelled_html_view(net: Network, exact_max: int) -> None:
    evidence = {"fat_in_lesion": "present", "mdm2_fish": "amplified", "sex": "male"}
    ex = sb.explain(net, evidence, exact_max=exact_max, n_permutations=20, seed=3)
    text = ex._repr_html_()
    assert text.startswith("<div") and f"<b>Why {ex.state}</b>" in text
    assert f"{ex.posterior_db:+.2f} dB" in text and f"{ex.total_db:+.2f} dB" in text
    assert all(f"<th>{finding}</th>" in text for finding in evidence)
    if exact_max == 0:  # a Monte Carlo run names its seed and permutations
        assert "Monte Carlo Shapley, 20 permutations, seed 3" in text
    else:
        assert "exact Shapley" in text and "shapley_se_db" not in text
