"""One-way sensitivity functions: exact against recomputation, f'(x0) against finite differences."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from _forms import FORM_OF, FORMS
from _random_nets import RandomNode, random_networks
from softcalc_bayes import EvidenceError, InvalidParameterError, Network
from softcalc_bayes._engine import Engine, ZeroProbabilityError
from softcalc_bayes.sensitivity import (
    _by_written_parameter,
    _covaried_slopes,
    sensitivity,
    sensitivity_coefficients,
    tune,
)

EVIDENCE = {
    "fat_in_lesion": "present",
    "mineralization_pattern": "cloudlike_osteoid",
    "age_group": "adult_60_plus",
    "mdm2_cdk4_ihc": "positive",
    "lesion_size": "gt_10cm",
    "sex": "male",
    "anatomic_site": "shoulder_girdle",
    "relation_to_bone": "pressure_erosion",
}


def _covary(row: np.ndarray, j: int, x: float) -> np.ndarray:
    """Set entry j to x and scale the others proportionally to fill 1 - x.

    The others' total is summed from the entries themselves, not taken as 1 - row[j]:
    for rows like [1 - 2.9e-10, 2.9e-10] the subtraction loses most of the digits.
    """
    row = row.copy()
    others = [i for i in range(len(row)) if i != j]
    rest = float(row[others].sum())
    if rest > 0:
        row[others] *= (1 - x) / rest
    else:
        row[others] = (1 - x) / len(others)
    row[j] = x
    return row


def _recompute(
    nodes: list,
    v: int,
    u: int,
    j: int,
    x: float,
    codes: dict,
    target: str | None,
    pivot: str,
    soft: dict | None = None,
) -> np.ndarray:
    cpt = nodes[v].cpt.copy()
    cpt[u] = _covary(cpt[u], j, x)
    changed = [dataclasses.replace(n, cpt=cpt) if i == v else n for i, n in enumerate(nodes)]
    return Engine(changed, target=pivot).posterior(codes, target, soft)


# Sets of states ("one of these"): the site is a set and a parent of compartment; the
# mineral pattern is a set below the latent lesion stage.
SET_EVIDENCE = {
    **EVIDENCE,
    "anatomic_site": ["shoulder_girdle", "thigh", "retroperitoneum_abdomen"],
    "compartment": "intramuscular",
    "mineralization_pattern": ["cloudlike_osteoid", "mature_trabecular_bone"],
}


@pytest.mark.parametrize("evidence", [EVIDENCE, SET_EVIDENCE], ids=["states", "sets"])
@given(data=st.data())
@settings(max_examples=40, deadline=None)
def test_default_network_coefficients_match_recomputation(
    net: Network, evidence: dict, data: st.DataObject
) -> None:
    coef = sensitivity_coefficients(net, evidence)
    codes, sets = net._encode(evidence, net.target, None)  # sets: 0/1 likelihoods
    np.testing.assert_allclose(
        coef.posterior(coef.x0)[0], net.posterior(evidence)[list(coef.states)], atol=1e-12
    )
    nodes = list(net.spec.nodes.values())
    sizes = np.cumsum([0] + [n.cpt.size for n in nodes])
    touched = np.flatnonzero(np.abs(coef.a).sum(axis=1) > 0)
    p = data.draw(st.sampled_from(list(touched)))
    x = data.draw(st.floats(0.0, 1.0))
    v = int(np.searchsorted(sizes, p, side="right") - 1)
    u, j = divmod(int(p - sizes[v]), nodes[v].cpt.shape[1])
    try:
        expected = _recompute(nodes, v, u, j, x, codes, None, "diagnosis", sets)
    except ZeroProbabilityError:
        assert coef.c[p] * x + coef.d[p] == pytest.approx(0.0, abs=1e-12)
        return
    x_all = coef.x0.copy()
    x_all[p] = x
    # f(x) = (a x + b) / (c x + d) in floating point: where terms nearly cancel (e.g. the prior
    # of an unlikely diagnosis set to 1: c x and d are each about P(e) while c x + d is that
    # diagnosis's small likelihood) the rounding error of numerator and denominator is about
    # eps times the size of their terms, magnified by 1 / (c x + d). The tolerance is that
    # first-order bound (times 64), plus 1e-9.
    den = coef.c[p] * x + coef.d[p]
    got = coef.posterior(x_all)[p]
    terms = np.abs(coef.a[p] * x) + np.abs(coef.b[p]) + got * (abs(coef.c[p] * x) + abs(coef.d[p]))
    bound = 64 * np.finfo(float).eps * terms / abs(den)
    assert np.all(np.abs(got - expected) <= 1e-9 + bound), np.abs(got - expected) - bound


def test_sensitivity_and_tune_record_a_set(net: Network) -> None:
    assert set(net._encode(SET_EVIDENCE, net.target, None)[1]) == {
        "anatomic_site",
        "mineralization_pattern",
    }
    table = sensitivity(net, SET_EVIDENCE)
    sites = table.attrs["evidence"]["anatomic_site"]
    assert sites == tuple(
        s for s in net.states("anatomic_site") if s in SET_EVIDENCE["anatomic_site"]
    )
    # the site's own rows matter now, beyond the one observed state of a hard finding
    moved = table[(table["node"] == "anatomic_site") & (table["swing"] > 0)]
    assert set(moved["state"]) > set(sites)
    state = net.posterior(SET_EVIDENCE).index[1]
    tuned = tune(net, SET_EVIDENCE, state=state, above=net.posterior(SET_EVIDENCE).index[0])
    assert tuned.attrs["evidence"] == table.attrs["evidence"]
    assert len(tuned) > 0


def test_sensitivity_value_matches_finite_difference(net: Network) -> None:
    table = sensitivity(net, EVIDENCE)
    s = net.states("diagnosis").index(table.attrs["state"])
    nodes = list(net.spec.nodes.values())
    names = [n.name for n in nodes]
    for _, row in table.head(12).iterrows():
        v = names.index(row["node"])
        node = nodes[v]
        # the parameter's entries: every configuration that agrees with the parents it
        # binds (a row repeated over another parent's states is one written parameter)
        configs = [
            dict(
                zip(
                    node.parents,
                    [net.states(p)[i] for p, i in zip(node.parents, c, strict=True)],
                    strict=True,
                )
            )
            for c in np.ndindex(*[len(net.states(p)) for p in node.parents])
        ]
        rows = [u for u, cfg in enumerate(configs) if row["parents"].items() <= cfg.items()]
        assert len(rows) == row["n_entries"]
        j = node.states.index(row["state"])
        h = 1e-6 * max(row["x0"], 1e-3)
        lo, hi = max(row["x0"] - h, 0.0), min(row["x0"] + h, 1.0)
        codes = net.encode(EVIDENCE)
        f_hi = _recompute_rows(nodes, v, rows, j, hi, codes, "diagnosis")[s]
        f_lo = _recompute_rows(nodes, v, rows, j, lo, codes, "diagnosis")[s]
        assert (f_hi - f_lo) / (hi - lo) == pytest.approx(
            row["sensitivity_value"], rel=1e-4, abs=1e-7
        )


def _recompute_rows(
    nodes: list, v: int, rows: list[int], j: int, x: float, codes: dict, pivot: str
) -> np.ndarray:
    """The posterior with entry j set to x in every one of ``rows`` (co-varied)."""
    cpt = nodes[v].cpt.copy()
    for u in rows:
        cpt[u] = _covary(cpt[u], j, x)
    changed = [dataclasses.replace(n, cpt=cpt) if i == v else n for i, n in enumerate(nodes)]
    return Engine(changed, target=pivot).posterior(codes, None, None)


def test_a_written_parameter_moves_all_its_entries(net: Network) -> None:
    # Every diagnosis but CPPD, soft-tissue chondroma and extraskeletal chondrosarcoma has one
    # site row for all eight states of the latent forms (cppd_form x chondroma_form x
    # escs_form): one parameter, eight entries, whose slopes add up; each of those three
    # diagnoses has one row per state of its own form, each repeated over the other two forms.
    table = sensitivity(net, EVIDENCE)
    site = table[table["node"] == "anatomic_site"]
    alt = site[site["parents"].map(lambda p: p == {"diagnosis": "alt_wdlps"})]
    configurations = int(np.prod([len(net.states(f)) for f in FORMS]))
    assert len(alt) == len(net.states("anatomic_site"))
    assert set(alt["n_entries"]) == {configurations}
    for latent, diagnosis in FORM_OF.items():
        rows = site[site["parents"].map(lambda p, d=diagnosis: p.get("diagnosis") == d)]
        assert set(rows["n_entries"]) == {configurations // len(net.states(latent))}
        assert {p[latent] for p in rows["parents"]} == set(net.states(latent))
    coef = sensitivity_coefficients(net, EVIDENCE)
    params = net.parameters()
    entries = params.index[
        (params["node"] == "anatomic_site")
        & (params["state"] == "shoulder_girdle")
        & params["parents"].map(lambda p: p.get("diagnosis") == "alt_wdlps")
    ]
    k = list(coef.states).index(table.attrs["state"])
    row = alt[alt["state"] == "shoulder_girdle"].iloc[0]
    assert row["a"] == pytest.approx(coef.a[entries, k].sum(), rel=1e-12)
    assert row["c"] == pytest.approx(coef.c[entries].sum(), rel=1e-12)
    assert len(table) == len(params) - int((table["n_entries"] - 1).sum())


@given(data=st.data(), nodes=random_networks(max_nodes=5))
@settings(max_examples=80, deadline=None)
def test_random_networks_coefficients_are_exact(
    data: st.DataObject, nodes: list[RandomNode]
) -> None:
    names = [n.name for n in nodes]
    pivot = data.draw(st.sampled_from(names))
    engine = Engine(nodes, target=pivot)
    others = [n for n in nodes if n.name != pivot]
    evidence = data.draw(
        st.fixed_dictionaries(
            {}, optional={n.name: st.integers(0, len(n.states) - 1) for n in others}
        )
    )
    try:
        grads, joint = engine.gradients(evidence, clamp=pivot)
    except ZeroProbabilityError:
        assume(False)
        return
    v = data.draw(st.integers(0, len(nodes) - 1))
    node = nodes[v]
    u = data.draw(st.integers(0, node.cpt.shape[0] - 1))
    j = data.draw(st.integers(0, node.cpt.shape[1] - 1))
    x = data.draw(st.floats(1e-6, 1.0))
    g = grads[v].reshape(len(joint), -1, len(node.states))
    slope = _covaried_slopes(g, node.cpt)[:, u, j]
    x0 = node.cpt[u, j]
    predicted = joint + slope * (x - x0)  # P(t, e) is linear in x (same scale)
    # P(e) nearly vanishing at x makes the ratio ill-conditioned: nothing exact to assert
    assume(predicted.sum() >= 1e-7 * joint.sum())
    expected = _recompute(nodes, v, u, j, x, evidence, None, pivot)
    np.testing.assert_allclose(predicted / predicted.sum(), expected, atol=1e-9)


def test_table_columns_and_ranking(net: Network) -> None:
    table = sensitivity(net, EVIDENCE)
    for column in (
        "node",
        "parents",
        "state",
        "source",
        "basis",
        "x0",
        "a",
        "b",
        "c",
        "d",
        "sensitivity_value",
        "admissible_low",
        "admissible_high",
    ):
        assert column in table.columns
    # one row per written parameter; together they fill every table entry once
    assert table["n_entries"].sum() == len(net.parameters()) > len(table)
    values = table["swing"].to_numpy()  # ranked by the swing over the plausible range
    assert (np.diff(values) <= 1e-15).all()
    assert (
        (table["admissible_low"] <= table["x0"] + 1e-12)
        & (table["x0"] <= table["admissible_high"] + 1e-12)
    ).all()
    post = net.posterior(EVIDENCE)
    assert table.attrs["state"] == post.index[0]
    np.testing.assert_allclose(table["posterior"], post.iloc[0], atol=1e-9)


def test_admissible_range_keeps_top_diagnosis(net: Network) -> None:
    table = sensitivity(net, EVIDENCE)
    coef, params, _ = _by_written_parameter(net, sensitivity_coefficients(net, EVIDENCE))
    top = net.states("diagnosis").index(table.attrs["state"])
    index = {
        (r.node, tuple(sorted(r.parents.items())), r.state): i
        for i, r in enumerate(params.itertuples())
    }
    for _, row in table.head(20).iterrows():
        p = index[(row["node"], tuple(sorted(row["parents"].items())), row["state"])]
        for x, inside in (
            (row["admissible_low"], True),
            (row["admissible_high"], True),
            (row["admissible_low"] - 1e-3, False),
            (row["admissible_high"] + 1e-3, False),
        ):
            if not 0 <= x <= 1:
                continue
            x_all = coef.x0.copy()
            x_all[p] = x
            f = coef.posterior(x_all)[p]
            if inside:
                assert f[top] >= f.max() - 1e-9
            else:
                assert f[top] < f.max()


def test_threshold_range(net: Network) -> None:
    table = sensitivity(net, EVIDENCE, state="alt_wdlps", threshold=0.5)
    f0 = table["posterior"]
    inside = (table["a"] * table["admissible_low"] + table["b"]) / (
        table["c"] * table["admissible_low"] + table["d"]
    )
    assert ((inside >= 0.5 - 1e-9) == (f0 >= 0.5)).all()


def test_non_diagnosis_target(net: Network) -> None:
    ev = {"fat_in_lesion": "present", "serum_calcium": "high"}
    table = sensitivity(net, ev, target="serum_pth", state="high")
    np.testing.assert_allclose(
        table["posterior"].iloc[0], net.posterior(ev, target="serum_pth")["high"], atol=1e-12
    )


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"state": "alt"}, r"Unknown state 'alt'\. Did you mean 'alt_wdlps'\?"),
        ({"target": "diagnosys"}, r"Unknown target 'diagnosys'"),
        (
            {"threshold": 1.5},
            r"The 'threshold' parameter of sensitivity must be a float in the range \[0, 1\]",
        ),
    ],
)
def test_sensitivity_errors(net: Network, kwargs: dict, pattern: str) -> None:
    with pytest.raises((EvidenceError, InvalidParameterError), match=pattern):
        sensitivity(net, EVIDENCE, **kwargs)


def test_tune_finds_minimal_changes(net: Network) -> None:
    table = tune(net, EVIDENCE, state="osteolipoma", above="alt_wdlps")
    coef, params, _ = _by_written_parameter(net, sensitivity_coefficients(net, EVIDENCE))
    s, o = net.states("diagnosis").index("osteolipoma"), net.states("diagnosis").index("alt_wdlps")
    index = {
        (r.node, tuple(sorted(r.parents.items())), r.state): i
        for i, r in enumerate(params.itertuples())
    }
    feasible = table[table["feasible"]]
    assert len(feasible) > 0
    for _, row in feasible.head(10).iterrows():
        p = index[(row["node"], tuple(sorted(row["parents"].items())), row["state"])]
        x_all = coef.x0.copy()
        x_all[p] = row["x_new"]
        f = coef.posterior(x_all)[p]
        assert f[s] >= f[o] - 1e-9
    with pytest.raises(EvidenceError, match="exactly one of"):
        tune(net, EVIDENCE, state="osteolipoma")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"state": "ddlps", "above": "ddlps"},
            EvidenceError,
            r"The 'above' parameter of tune: 'ddlps' is the tuned state itself",
        ),
        (
            {"state": "ddlps", "at_least": 0.5, "feasible_only": "no"},
            InvalidParameterError,
            r"The 'feasible_only' parameter of tune must be a bool\. Got 'no' instead",
        ),
        (
            {"state": "ddlps", "at_least": 0.5, "feasible_only": 0},
            InvalidParameterError,
            r"The 'feasible_only' parameter of tune must be a bool\. Got 0 instead",
        ),
    ],
)
def test_tune_bad_arguments(net: Network, kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        tune(net, EVIDENCE, **kwargs)


def test_plots_are_saved_as_png(net: Network, tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from softcalc_bayes.plotting import plot_sensitivity_function, plot_tornado

    table = sensitivity(net, EVIDENCE)
    ax = plot_tornado(table, top=10)
    ax.figure.savefig(tmp_path / "tornado.png")
    ax2 = plot_sensitivity_function(table.iloc[0], threshold=0.5)
    ax2.figure.savefig(tmp_path / "function.png")
    assert (tmp_path / "tornado.png").stat().st_size > 5000
    assert (tmp_path / "function.png").stat().st_size > 5000
    assert len(ax.get_yticklabels()) == 10


# --------------------------------------------------------------------------- structural zeros
SITE_CASE = {
    "anatomic_site": "retroperitoneum_abdomen",
    "compartment": "visceral_cavity",
    "fat_in_lesion": "present",
}


def test_structural_zeros_have_no_swing_and_are_never_tuned(net: Network) -> None:
    table = sensitivity(net, SITE_CASE)
    zeros = table[table["structural_zero"]]
    # every structural zero of the table, each written zero once (the rows of the
    # diagnoses other than CPPD are one row for both forms of CPPD)
    assert zeros["n_entries"].sum() == int(net.spec.nodes["compartment"].structural_zeros().sum())
    assert (zeros["x0"] == 0).all() and (zeros["swing"] == 0).all()
    assert (zeros["plausible_low"] == 0).all() and (zeros["plausible_high"] == 0).all()
    second = table.attrs["state"]
    other = next(s for s in net.states(net.target) if s != second)
    tuned = tune(net, SITE_CASE, state=other, above=second, feasible_only=False)
    assert tuned.attrs["n_parameters"] == len(table)
    assert not tuned.loc[tuned["structural_zero"], "feasible"].any()
    # already satisfied: every parameter, structural zeros included, needs no change
    done = tune(net, SITE_CASE, state=second, at_least=0.0)
    assert done.attrs["n_feasible"] == done.attrs["n_parameters"]


def test_covariation_keeps_structural_zeros(net: Network) -> None:
    # Moving any entry of a masked row co-varies the others proportionally: the exact
    # coefficients agree with recomputation, and the zeros of the row stay 0.
    nodes = list(net.spec.nodes.values())
    v = [n.name for n in nodes].index("compartment")
    node = nodes[v]
    sites = net.states("anatomic_site")
    u = net.states(net.target).index("lipoma_fat_necrosis") * len(sites) + sites.index(
        "retroperitoneum_abdomen"
    )
    codes = net.encode(SITE_CASE)
    coef = sensitivity_coefficients(net, SITE_CASE)
    offset = sum(n.cpt.size for n in nodes[:v]) + u * len(node.states)
    for j in np.flatnonzero(~node.structural_zeros()[u]):
        for x in (0.05, 0.5):
            moved = _covary(node.cpt[u], int(j), x)
            assert np.all(moved[node.structural_zeros()[u]] == 0)
            expected = _recompute(nodes, v, u, int(j), x, codes, None, net.target)
            np.testing.assert_allclose(coef.posterior(x)[offset + j], expected, atol=1e-10)


def test_covaried_slopes_share_a_full_entry_among_free_entries_only() -> None:
    # theta = [1, 0, 0] with entry 2 a structural zero: lowering entry 0 raises entry 1 alone.
    grad = np.array([[[1.0, 3.0, 7.0]]])
    theta = np.array([[1.0, 0.0, 0.0]])
    fixed = np.array([[False, False, True]])
    free = _covaried_slopes(grad, theta, fixed)
    assert free[0, 0, 0] == pytest.approx(1.0 - 3.0)
    assert _covaried_slopes(grad, theta)[0, 0, 0] == pytest.approx(1.0 - 5.0)
