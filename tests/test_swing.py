"""The sensitivity table's plausible range and swing; tune()'s feasible-only default; progress."""

from __future__ import annotations

import io
import itertools
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import softcalc_bayes as sb
from softcalc_bayes import EvidenceError, Network
from softcalc_bayes._progress import progress_bar, wants_progress
from softcalc_bayes.uncertainty import row_concentrations

EVIDENCE = {"fat_in_lesion": "present", "mdm2_fish": "amplified"}


@pytest.fixture(scope="module")
def table(net: Network) -> pd.DataFrame:
    return sb.sensitivity(net, EVIDENCE)


def test_plausible_range_is_the_beta_interval_of_the_row(net: Network, table: pd.DataFrame) -> None:
    row = table.iloc[0]
    node = net.node(row["node"])
    configs = [
        dict(zip(node.parents, c, strict=True)) for c in itertools.product(*node.parent_states)
    ]
    c = configs.index(dict(row["parents"]))
    a = row_concentrations(net, row["node"])[c]
    x0 = row["x0"]
    low, high = stats.beta.ppf([0.05, 0.95], a * x0, a * (1 - x0))
    low, high = min(low, x0), max(high, x0)
    assert row["plausible_low"] == pytest.approx(low, rel=1e-9)
    assert row["plausible_high"] == pytest.approx(high, rel=1e-9)


def test_swing_is_the_posterior_change_over_the_range(net: Network, table: pd.DataFrame) -> None:
    for _, row in table.head(5).iterrows():

        def f(x: float, row: pd.Series = row) -> float:
            return float((row["a"] * x + row["b"]) / (row["c"] * x + row["d"]))

        assert row["p_at_low"] == pytest.approx(f(row["plausible_low"]), abs=1e-12)
        assert row["swing"] == pytest.approx(
            abs(f(row["plausible_high"]) - f(row["plausible_low"])), abs=1e-12
        )
    assert (table["plausible_low"] <= table["x0"] + 1e-12).all()
    assert (table["x0"] <= table["plausible_high"] + 1e-12).all()
    assert np.isfinite(table["swing"]).all()


def test_swing_matches_a_recomputed_posterior(net: Network, table: pd.DataFrame) -> None:
    """Move the top parameter of the prior row by hand and query the network again."""
    prior = table[table["node"] == net.target].iloc[0]
    state, new = prior["state"], float(prior["plausible_high"])
    base = net.spec.profiles[net.profile].probs
    k = net.states(net.target).index(state)
    probs = base * (1 - new) / (1 - base[k])
    probs[k] = new
    from dataclasses import replace

    from softcalc_bayes.network import Network as Net

    spec = net.spec
    node = replace(spec.nodes[net.target], cpt=probs[None, :])
    moved = Net(replace(spec, nodes={**spec.nodes, net.target: node}))
    assert moved.posterior(EVIDENCE)[table.attrs["state"]] == pytest.approx(
        prior["p_at_high"], rel=1e-9
    )


def test_certain_entries_do_not_move(table: pd.DataFrame) -> None:
    fixed = table[(table["x0"] == 0) | (table["x0"] == 1)]
    assert (fixed["swing"] == 0).all() and (fixed["plausible_low"] == fixed["x0"]).all()


def test_wider_level_gives_wider_ranges(net: Network, table: pd.DataFrame) -> None:
    wide = sb.sensitivity(net, EVIDENCE, level=0.99)
    key = lambda t: t.assign(p=t["parents"].map(str)).set_index(["node", "p", "state"])  # noqa: E731
    w, n = key(wide), key(table).reindex(key(wide).index)
    assert (w["swing"] >= n["swing"] - 1e-12).all()
    assert wide.attrs["level"] == 0.99 and table.attrs["ranked_by"] == "swing"


@pytest.mark.parametrize("level", [0, 1, 1.5, True, "0.9"])
def test_bad_level_is_refused(net: Network, level: object) -> None:
    with pytest.raises(EvidenceError, match="level must be a number strictly between 0 and 1"):
        sb.sensitivity(net, EVIDENCE, level=level)  # type: ignore[arg-type]


def test_tune_returns_feasible_changes_by_default(net: Network) -> None:
    feasible = sb.tune(net, EVIDENCE, state="ddlps", above="alt_wdlps")
    everything = sb.tune(net, EVIDENCE, state="ddlps", above="alt_wdlps", feasible_only=False)
    assert len(everything) == feasible.attrs["n_parameters"]
    assert everything["n_entries"].sum() == len(net.parameters())  # written parameters
    assert feasible["feasible"].all() and len(feasible) == feasible.attrs["n_feasible"]
    assert len(feasible) == int(everything["feasible"].sum()) < len(everything)
    pd.testing.assert_frame_equal(feasible, everything.head(len(feasible)), check_like=False)


@pytest.mark.parametrize(("progress", "expected"), [(True, True), (False, False)])
def test_progress_argument_wins(progress: bool, expected: bool) -> None:
    assert wants_progress(progress) is expected


def test_progress_is_off_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert wants_progress(None) is False


def test_forced_progress_draws_a_bar_and_same_result(
    net: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    with progress_bar(2, desc="demo", progress=True) as bar:
        bar.update()
        bar.update()
    assert "demo" in err.getvalue()
    quiet = sb.posterior_uncertainty(net, EVIDENCE, n_samples=50, seed=2, progress=False)
    loud = sb.posterior_uncertainty(net, EVIDENCE, n_samples=50, seed=2, progress=True)
    assert "Monte Carlo" in err.getvalue()
    pd.testing.assert_frame_equal(quiet.samples, loud.samples)
    si_quiet = sb.sobol_indices(net, EVIDENCE, n_base=16, seed=2, progress=False)
    si_loud = sb.sobol_indices(net, EVIDENCE, n_base=16, seed=2, progress=True)
    pd.testing.assert_frame_equal(si_quiet, si_loud)
    report = sb.evaluate(net, sb.load_cases(), progress=True)
    assert "Evaluating" in err.getvalue() and int(report.metrics["n_cases"]) == len(sb.load_cases())


def test_default_progress_prints_nothing_here(
    net: Network, capsys: pytest.CaptureFixture[str]
) -> None:
    sb.posterior_uncertainty(net, EVIDENCE, n_samples=20, seed=1)
    sb.evaluate(net, sb.load_cases())
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""
