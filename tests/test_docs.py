"""The documentation site's hook: every page is in the navigation (the build is `make docs`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from conftest import docs_script

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("mkdocs", reason="the docs extra is not installed")


@pytest.fixture(scope="module")
def hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_site_hook", ROOT / "docs/hooks/site.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pages(nav: list[Any]) -> list[str]:
    out: list[str] = []
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        out += _pages(value) if isinstance(value, list) else [value]
    return out


def test_navigation_has_every_page(hook: ModuleType) -> None:
    config = hook.on_config({"docs_dir": str(ROOT / "docs")})
    pages = _pages(config["nav"])
    assert pages[0] == "index.md"
    for md in (ROOT / "docs").glob("*.md"):
        assert md.name in pages
    assert {"format.md", "cli.md"} <= set(pages)
    assert {f"notebooks/{p.name}" for p in (ROOT / "notebooks").glob("*.ipynb")} <= set(pages)
    for module in ("network", "spec", "sensitivity", "uncertainty", "plotting"):
        assert f"api/{module}.md" in pages
    assert len(pages) == len(set(pages))


def test_api_pages_cover_every_public_module(hook: ModuleType) -> None:
    modules = {p.stem for p in (ROOT / "src/softcalc_bayes").glob("*.py")}
    public = {m for m in modules if not m.startswith("_")} - {"cli"}
    assert set(hook.public_modules()) == public
    assert hook.api_page("network") == "# softcalc_bayes.network\n\n::: softcalc_bayes.network\n"


def test_command_line_page_lists_every_command(hook: ModuleType) -> None:
    from softcalc_bayes.cli import build_parser

    page = hook.cli_page()
    sub = next(a for a in build_parser()._actions if hasattr(a, "_name_parser_map"))
    assert isinstance(sub.choices, dict)
    for name in sub.choices:
        assert f"## softcalc {name}\n" in page
    assert "--json" in page


def test_expected_scores_script_reports_the_forecast(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``docs/expected_scores.py`` (`docs/evaluation.md`, "What the network forecasts") runs and agrees."""
    import softcalc_bayes as sb

    script = docs_script("expected_scores")
    monkeypatch.chdir(ROOT)
    assert script.main(["networks/cases"]) == 0
    out = capsys.readouterr().out
    report = sb.evaluate(sb.load_network(), sb.load_cases(ROOT / "networks/cases"))
    forecast = report.expected.loc["top3", "expected"]
    assert f"{forecast:.3f}" in out and "110 cases" in out
    bands = script.by_band(report.per_case)
    assert bands["n"].iloc[1:].sum() == bands.loc["all", "n"] == 110
    assert bands.loc["all", "expected_top3"] == pytest.approx(forecast)


def test_case_overlap_script_finds_the_disclosed_overlaps(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``docs/case_overlap.py`` (docs/knowledge-pass-5.md, section 1) finds the known pairs."""
    script = docs_script("case_overlap")
    assert script.main([str(p) for p in sorted((ROOT / "networks/holdout2").glob("*.yaml"))]) == 0
    out = capsys.readouterr().out
    for case, source in [
        ("d_alt_thigh_burusapat_2020", "burusapat_2020_caserepsurg"),
        ("e_cppd_knee_watura_2014", "watura_2014_bmjcaserep"),  # by title only
        ("e_fop_greattoes_kartalkaess_2010", "kartalkaess_2010_eurjpediatr"),
    ]:
        assert any(case in line and f"source {source}" in line for line in out.splitlines())
    assert "86 cases checked" in out
    # a folder stands for its case files
    assert script.main([str(ROOT / "networks/holdout2")]) == 0
    assert capsys.readouterr().out == out
    # a case is never reported against itself, and two patients of one report are found
    assert "d_nho_burns_child1_1992 (networks/holdout2/part_d.yaml): case d_nho_burns_child2" in out
    assert not any(
        line.split(" ")[0] + " " in line.split(": ")[1] + " "
        for line in out.splitlines()
        if ": " in line
    )
    assert script.links("see https://www.Example.org/a/?lang=en&id=3 and 10.1000/XYZ.") == {
        "example.org/a?id=3",
        "10.1000/xyz",
    }
    # an address followed by punctuation in running text (a fourth-set case written
    # "(https://pmc.ncbi.nlm.nih.gov/articles/PMC7796782; abstract read)" was missed before)
    for text in (
        "(https://x.org/articles/PMC1; read)",
        "https://x.org/articles/PMC1, case",
        "https://x.org/articles/PMC1:",
    ):
        assert script.links(text) == {"x.org/articles/pmc1"}
    # one article cited in two languages, or with and without its issue, shares its journal
    # reference (two eighth-set drafts passed the other rules this way, knowledge pass 10)
    spanish = "Osificaciones heterotópicas. Rev Esp Cir Ortop Traumatol. 2011;55(4):292-297."
    english = "Neurogenic heterotopic ossification of the hip. 2011;55:292-7."
    assert script.links(spanish) == script.links(english) == {"ref:2011;55:292"}
    assert script.links("Case Rep Orthop. 2019;2019:9617184.") == {"ref:2019;2019:9617184"}
    assert script.links("BMC Cancer. 2010;10:645") != script.links("BMC Cancer. 2010;10:646")
    # a teaching case cited with and without its address shares its case number or name
    # (three duplicates of the seventeenth and eighteenth sets were found by hand this way)
    assert "eurorad:2924" in script.links("Eurorad. 2004; Case 2924 (published 28.02.2004).")
    assert "eurorad:2924" in script.links("https://www.eurorad.org/case/2924")
    assert "eurorad:2925" not in script.links("Eurorad. 2004; Case 2924")
    named = "Lustosa L. Medial epicondyle avulsion. Radiopaedia case (medial-epicondyle-avulsion-fracture-4)."
    address = "https://radiopaedia.org/cases/medial-epicondyle-avulsion-fracture-4?lang=us"
    assert "radiopaedia:medial-epicondyle-avulsion-fracture-4" in script.links(named)
    assert "radiopaedia:medial-epicondyle-avulsion-fracture-4" in script.links(address)
    assert not any(
        link.startswith("radiopaedia:")
        for link in script.links("https://radiopaedia.org/articles/myositis-ossificans")
    )
    # the first author's surname, read only from a "Surname AB," opening
    assert script.first_author("Ashby E, Haddad F. Avulsion fractures.") == "ashby"
    assert script.first_author("Mok CC. [Clinical vignette]. Rheumatology.") == "mok"
    assert script.first_author("Vitamin D intoxication in an 18-month-old boy.") == ""
    assert script.first_author("Authors not shown. Tumoral calcinosis.") == ""
    # a corpus archive holds many articles: its address links nothing
    archive = "read in https://dmice.ohsu.edu/trec-gen/data/2006/documents/rheumatolgy.zip"
    assert script.links(archive) == set()
    assert script.links("https://x.org/data.tgz and https://x.org/b.tar.gz") == set()


def test_audit_priority_script_ranks_rows_by_the_stated_formula(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``docs/audit_priority.py`` (docs/knowledge-pass-6.md) computes what its docstring says."""
    import math

    import numpy as np

    import softcalc_bayes as sb

    script = docs_script("audit_priority")
    net = sb.load_network()
    cases = sb.load_cases(ROOT / "networks/cases")
    scores = script.row_scores(net, cases)
    assert scores["score"].is_monotonic_decreasing
    assert "diagnosis" not in set(scores["node"])
    assert np.allclose(
        scores["score"],
        scores["discrimination"] * scores["use"] / np.sqrt(scores["strength"] + 1.0),
    )
    # one row recomputed by hand from the network's table: fat_in_lesion is a child of the
    # diagnosis only, so q is the mean over the 39 diagnoses of P(state | diagnosis)
    cpd = net.pgmpy_model.get_cpds("fat_in_lesion")
    table = cpd.get_values()  # states x diagnoses
    states = list(cpd.state_names["fat_in_lesion"])
    diagnoses = list(cpd.state_names["diagnosis"])
    q = table.mean(axis=1)
    fat = scores[(scores["node"] == "fat_in_lesion") & ~scores["default"]]
    assert len(fat) >= 3
    params = net.parameters()
    params = params[params["node"] == "fat_in_lesion"]
    for _, row in fat.iterrows():
        cells = params[
            (params["locator"] == row["locator"]) & (params["strength"] == row["strength"])
        ]
        expected = 0.0
        for _, cell in cells.iterrows():
            i = states.index(cell["state"])
            j = diagnoses.index(cell["parents"]["diagnosis"])
            p = table[i, j]
            expected += abs(p * math.log(p / q[i])) if p > 0 else 0.0
        assert row["discrimination"] == pytest.approx(expected)
    use = np.mean(["fat_in_lesion" in c.findings for c in cases])
    assert fat["use"].iloc[0] == pytest.approx(use)
    assert script.main(["--top", "5", "--written"]) == 0
    out = capsys.readouterr().out
    assert "rows ranked" in out and len(out.splitlines()) == 7


def test_tail_audit_script_weighs_judged_tails_by_the_stated_formula(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``docs/tail_audit.py`` (docs/knowledge-pass-7.md) computes what its docstring says."""
    import math

    import numpy as np

    import softcalc_bayes as sb

    script = docs_script("tail_audit")
    net = sb.load_network()
    cases = list(sb.load_cases(ROOT / "networks/cases"))
    scores = script.tail_scores(net, cases)
    assert scores["score"].is_monotonic_decreasing
    assert (scores["tail_loss"] > 0).all()
    assert set(scores["node"]) <= set(net.findings)
    assert np.allclose(scores["score"], scores["tail_loss"] * scores["use"])
    # every written fat_in_lesion row recomputed by hand from the network's table: the node
    # is a child of the diagnosis only, so q is the mean over the 39 diagnoses; a tail cell
    # has p < q / 8, a basis other than stated_number, and is not a structural zero
    cpd = net.pgmpy_model.get_cpds("fat_in_lesion")
    table = cpd.get_values()  # states x diagnoses
    states = list(cpd.state_names["fat_in_lesion"])
    diagnoses = list(cpd.state_names["diagnosis"])
    q = table.mean(axis=1)
    params = net.parameters()
    params = params[(params["node"] == "fat_in_lesion") & ~params["is_default"]]
    expected: dict[tuple[str, str], float] = {}
    for key, cells in params.groupby(["source", "locator"]):
        loss = 0.0
        for _, cell in cells.iterrows():
            i = states.index(cell["state"])
            p = table[i, diagnoses.index(cell["parents"]["diagnosis"])]
            judged = cell["basis"] != "stated_number" and not cell["structural_zero"]
            if judged and 0 < p < q[i] / 8:
                loss += q[i] * math.log(q[i] / p)
        if loss > 0:
            expected[(str(key[0]), str(key[1]))] = loss
    fat = scores[(scores["node"] == "fat_in_lesion") & ~scores["default"]]
    assert len(fat) >= 1
    got = fat.groupby(["source", "locator"])["tail_loss"].sum()
    assert {(str(s), str(loc)): v for (s, loc), v in got.items()} == pytest.approx(expected)
    use = np.mean(["fat_in_lesion" in c.findings for c in cases])
    assert fat["use"].iloc[0] == pytest.approx(use)
    assert script.main(["--top", "5", "--written"]) == 0
    out = capsys.readouterr().out
    assert "judged tail" in out and len(out.splitlines()) == 7
    # --hits: a case hits a tail when one finding alone weighs >= 8:1 against its diagnosis
    hits = script.tail_hits(net, cases)
    assert len(hits) == len(cases) and hits["hit"].any() and not hits["hit"].all()
    n = len(net.states(net.target))
    for case, (_, line) in zip(cases, hits.iterrows(), strict=True):
        alone = [n * float(net.posterior({f: s})[case.diagnosis]) for f, s in case.findings.items()]
        assert line["hit"] == (min(alone) < 1 / 8)
        p_true = float(net.posterior(case.findings)[case.diagnosis])
        assert line["log_loss"] == pytest.approx(-math.log(p_true))


def test_finding_surprisal_is_near_zero_on_the_networks_own_cases() -> None:
    """``docs/finding_surprisal.py``: cases drawn from the network look typical (z near 0);
    the same cases with every finding moved to its rarest state do not."""
    import math
    from types import SimpleNamespace

    import softcalc_bayes as sb

    script = docs_script("finding_surprisal")
    net = sb.load_network()
    drawn = sb.sample_cases(net, 60, seed=0)
    target = net.target
    cases = [
        SimpleNamespace(
            id=str(i),
            diagnosis=row[target],
            findings={k: v for k, v in row.items() if k != target},
        )
        for i, row in drawn.iterrows()
    ]
    table = script.finding_surprisal(net, cases)
    assert len(table) == len(cases) * (drawn.shape[1] - 1)
    # one line recomputed by hand
    line = table.iloc[7]
    p = net.marginals({target: line["diagnosis"]})[line["node"]]
    assert line["surprisal"] == pytest.approx(-math.log(p[line["state"]]))
    assert line["expected"] == pytest.approx(-sum(x * math.log(x) for x in p if x > 0))
    assert abs(script.summarise(table).loc["all", "z"]) < 3.0
    rare = [
        SimpleNamespace(
            id=c.id,
            diagnosis=c.diagnosis,
            findings={
                f: net.marginals({target: c.diagnosis})[f].idxmin() for f in list(c.findings)[:5]
            },
        )
        for c in cases[:20]
    ]
    assert script.summarise(script.finding_surprisal(net, rare)).loc["all", "z"] > 10.0


def test_finding_ablation_findings_help_on_the_networks_own_cases() -> None:
    """``docs/finding_ablation.py``: on cases drawn from the network every finding earns log
    loss (information cannot hurt a correct model on average); a finding moved to its rarest
    state for the true diagnosis costs log loss; one line is recomputed by hand."""
    import math
    from types import SimpleNamespace

    import numpy as np

    import softcalc_bayes as sb

    script = docs_script("finding_ablation")
    net = sb.load_network()
    target = net.target
    drawn = sb.sample_cases(net, 150, seed=0)
    nodes = [c for c in drawn.columns if c != target]
    rng = np.random.default_rng(1)
    cases = []
    for i, row in drawn.iterrows():
        keep = rng.choice(len(nodes), 6, replace=False)
        findings = {nodes[k]: row[nodes[k]] for k in keep}
        cases.append(SimpleNamespace(id=str(i), diagnosis=row[target], findings=findings))
    table = script.finding_ablation(net, cases)
    assert table["reports"].sum() == 6 * len(cases)
    assert table["delta_log_loss"].sum() > 0.5
    # Information helps in expectation (the conditional mutual information is >= 0); on 150
    # drawn cases a finding reported by few of them may cost a little by chance: each node's
    # delta must stay above 4 standard errors of its sample mean (per-case differences).
    for node in table.index:
        idx = [i for i, case in enumerate(cases) if node in case.findings]
        given = [(cases[i].diagnosis, dict(cases[i].findings)) for i in idx]
        dropped = [(d, {k: v for k, v in f.items() if k != node}) for d, f in given]
        per_case = script._scores(net, dropped)["log_loss"] - script._scores(net, given)["log_loss"]
        se = float(per_case.std(ddof=1)) * math.sqrt(len(idx)) / len(cases) if len(idx) > 1 else 0
        assert table.loc[node, "delta_log_loss"] > -4 * se - 1e-12, (node, se)
    # one line by hand
    node = "anatomic_site"
    diff = 0.0
    for case in cases:
        if node in case.findings:
            without = {k: v for k, v in case.findings.items() if k != node}
            p_with = float(net.posterior(case.findings)[case.diagnosis])
            p_without = float(net.posterior(without)[case.diagnosis])
            diff += math.log(p_with) - math.log(p_without)
    assert table.loc[node, "delta_log_loss"] == pytest.approx(diff / len(cases))

    # the site moved to the rarest one possible for the true diagnosis: the finding now costs
    def rarest(case: SimpleNamespace) -> str:
        others = {k: v for k, v in case.findings.items() if k != node}
        p = net.marginals({target: case.diagnosis, **others})[node]
        return str(p[p > 0].idxmin())

    rare = [
        SimpleNamespace(id=c.id, diagnosis=c.diagnosis, findings={**c.findings, node: rarest(c)})
        for c in cases[:40]
    ]
    assert script.finding_ablation(net, rare).loc[node, "delta_log_loss"] < -0.5


def test_compare_networks_script_lists_what_a_changed_row_moves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``docs/compare_networks.py`` (the knowledge passes' before/after measurement): the same
    network twice moves nothing; a changed row moves exactly the ranks ``evaluate`` gives."""
    import shutil

    import yaml

    import softcalc_bayes as sb

    script = docs_script("compare_networks")
    cases = ROOT / "networks" / "cases"
    default = ROOT / "networks" / "default"
    assert script.default_sets()[0] == cases
    assert [p.name for p in script.default_sets()[1:3]] == ["holdout", "holdout2"]

    assert script.main([str(default), str(default), str(cases)]) == 0
    out = capsys.readouterr().out
    assert "No case's rank moved." in out and "+0.0000" in out

    # a changed network: lipoma_fat_necrosis made nearly impossible in the prior profile
    changed = tmp_path / "changed"
    shutil.copytree(default, changed)
    profiles_path = changed / "profiles.yaml"
    profiles = yaml.safe_load(profiles_path.read_text())
    profiles["profiles"]["neutral"]["rows"][0]["probs"]["lipoma_fat_necrosis"] = 1e-6
    profiles_path.write_text(yaml.safe_dump(profiles, sort_keys=False))
    metrics, ranks = script.compare(sb.load_network(default), sb.load_network(changed), cases)
    after = sb.evaluate(sb.load_network(changed), sb.load_cases(cases))
    assert metrics.at["log_loss", "after"] == pytest.approx(after.metrics["log_loss"])
    assert len(ranks) > 0
    assert (ranks["rank_after"] == after.per_case.loc[ranks.index, "rank"]).all()
    lipoma = ranks[ranks["diagnosis"] == "lipoma_fat_necrosis"]
    assert len(lipoma) > 0 and (lipoma["rank_after"] > lipoma["rank_before"]).all()


def test_site_counts_script_applies_the_pass_17_update(capsys: pytest.CaptureFixture[str]) -> None:
    """``docs/site_counts.py`` (docs/knowledge-pass-17.md): a count pulls the row toward it by
    the row's strength, regions outside the count keep their share, and bad input is named."""
    import softcalc_bayes as sb

    script = docs_script("site_counts")
    old = script.current_row(sb.load_network(), "gout_tophus")
    assert sum(old.values()) == pytest.approx(1.0)
    assert script.update(old, {}, 30) == pytest.approx(old)  # no count, no change

    hand = ["forearm_wrist_hand", "upper_arm_elbow", "leg_ankle_foot"]
    new = script.update(old, {"forearm_wrist_hand": 30}, 30, mode="mention", covered=hand)
    assert sum(new.values()) == pytest.approx(1.0)
    for s in set(old) - set(hand):  # uncovered regions and multiple_sites unchanged
        assert new[s] == pytest.approx(old[s])
    mass = sum(old[s] for s in hand)
    assert new["forearm_wrist_hand"] == pytest.approx(
        mass * (old["forearm_wrist_hand"] / mass + 1) / 2
    )
    assert new["leg_ankle_foot"] < old["leg_ankle_foot"]

    # patient mode: multiple_sites is a counted state like any other
    both = script.update(old, {"multiple_sites": 10}, 10, mode="patient")
    assert both["multiple_sites"] == pytest.approx((10 * old["multiple_sites"] + 10) / 20)
    assert sum(script.rounded(both).values()) == pytest.approx(1.0, abs=1e-9)

    for kwargs, message in [
        ({"counts": {"thigh ": 1}}, "Unknown region 'thigh '"),
        ({"counts": {"multiple_sites": 1}, "mode": "mention"}, "mention mode"),
        ({"counts": {"knee": 1}, "covered": ["thigh"]}, "outside the covered regions: knee"),
        ({"counts": {"knee": 1}, "mode": "lesion"}, "Unknown mode 'lesion'"),
        ({"counts": {"knee": -1}}, "non-negative"),
    ]:
        counts = kwargs.pop("counts")
        with pytest.raises(ValueError, match=message):
            script.update(old, counts, 30, **kwargs)
    with pytest.raises(ValueError, match="Unknown diagnosis 'gout'"):
        script.current_row(sb.load_network(), "gout")

    assert script.main(["gout_tophus", "--prior-strength", "30", "knee=10"]) == 0
    out = capsys.readouterr().out
    assert "strength to write: 40" in out and "n counted = 10" in out


def test_site_counts_script_updates_other_findings(capsys: pytest.CaptureFixture[str]) -> None:
    """``docs/site_counts.py --node`` (knowledge pass 18): the same rule on any finding whose
    only parent is the diagnosis; other findings, and site-only options, are refused by name."""
    import softcalc_bayes as sb

    script = docs_script("site_counts")
    net = sb.load_network()
    old = script.current_row(net, "tumoral_calcinosis", "age_group")
    assert list(old) == list(net.states("age_group"))
    new = script.update(old, {"child_3_12": 10, "adult_20_39": 10}, 20)
    assert new["child_3_12"] == pytest.approx((20 * old["child_3_12"] + 10) / 40)
    assert new["adult_60_plus"] == pytest.approx(old["adult_60_plus"] / 2)
    assert sum(new.values()) == pytest.approx(1.0)

    for call, message in [
        (lambda: script.current_row(net, "gout_tophus", "compartment"), "parents other than"),
        (lambda: script.current_row(net, "gout_tophus", "age"), "Unknown finding 'age'"),
        (lambda: script.update(old, {"child": 1}, 5), "Unknown state 'child'"),
        (lambda: script.update(old, {"child_3_12": 1}, 5, mode="mention"), "anatomic_site rows"),
    ]:
        with pytest.raises(ValueError, match=message):
            call()

    argv = ["tumoral_calcinosis", "--node", "sex", "--prior-strength", "10", "female=5"]
    assert script.main(argv) == 0
    assert "strength to write: 15" in capsys.readouterr().out
    assert (
        script.main(["gout_tophus", "--node", "compartment", "--prior-strength", "1", "x=1"]) == 2
    )
    assert "parents other than the diagnosis" in capsys.readouterr().err


def test_site_counts_script_binds_a_latent_parent(capsys: pytest.CaptureFixture[str]) -> None:
    """``--given`` (knowledge pass 19): a finding with a latent second parent has one row per
    state of that parent; the script reads the bound one and refuses an unbound dependence."""
    import softcalc_bayes as sb

    script = docs_script("site_counts")
    net = sb.load_network()
    rows = net.parameters()
    rows = rows[(rows["node"] == "distribution")]
    cppd = rows[rows["parents"].map(lambda p: p.get("diagnosis") == "cppd_deposition")]
    by_form = {
        form: dict(
            zip(
                cppd[cppd["parents"].map(lambda p, f=form: p["cppd_form"] == f)]["state"],
                cppd[cppd["parents"].map(lambda p, f=form: p["cppd_form"] == f)]["value"],
                strict=True,
            )
        )
        for form in net.states("cppd_form")
    }
    for form, expected in by_form.items():
        got = script.current_row(net, "cppd_deposition", "distribution", {"cppd_form": form})
        assert got == pytest.approx(expected)
    # a diagnosis whose rows do not bind the form reads the same row unbound
    assert script.current_row(net, "gout_tophus", "distribution") == pytest.approx(
        script.current_row(net, "gout_tophus", "distribution", {"cppd_form": "tumoral"})
    )
    if by_form["articular"] != pytest.approx(by_form["tumoral"]):
        with pytest.raises(ValueError, match="depends on the latent parent"):
            script.current_row(net, "cppd_deposition", "distribution")
    for given, message in [
        ({"lesion_stage": "mature"}, "Unknown latent parent 'lesion_stage'"),
        ({"cppd_form": "tophus"}, "Unknown state 'tophus' of 'cppd_form'"),
    ]:
        with pytest.raises(ValueError, match=message):
            script.current_row(net, "cppd_deposition", "distribution", given)
    argv = ["cppd_deposition", "--node", "sex", "--given", "cppd_form", "--prior-strength", "1"]
    assert script.main([*argv, "female=1"]) == 2
    assert "Expected --given PARENT=STATE" in capsys.readouterr().err
