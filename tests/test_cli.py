"""The softcalc command line: output, JSON, exit codes and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from softcalc_bayes.cases import holdout_cases_path, load_cases
from softcalc_bayes.cli import main


def test_diagnose_table(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["diagnose", "fat_in_lesion=present", "mdm2_fish=amplified", "--top", "3"])
    out = capsys.readouterr().out
    assert status == 0
    lines = out.strip().splitlines()
    assert lines[0].split() == ["diagnosis", "label", "probability"]
    assert len(lines) == 4


def test_diagnose_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagnose", "mineralization_pattern=phleboliths", "--json", "--top", "5"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 5
    assert rows[0]["diagnosis"] == "hemangioma_venous_malformation"
    assert [r["probability"] for r in rows] == sorted(
        (r["probability"] for r in rows), reverse=True
    )


@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        (["diagnose", "fat=present"], "Unknown finding 'fat'. Did you mean 'fat_in_lesion'?"),
        (["diagnose", "fat_in_lesion"], "Evidence must be written finding=state"),
        (["diagnose", "sex=male", "sex=female"], "Finding 'sex' is given twice"),
        (["diagnose", "--profile", "nope"], "Unknown profile 'nope'"),
        (["nodes", "sexx"], "Unknown node 'sexx'. Did you mean 'sex'?"),
        (["frobnicate"], "invalid choice"),
        (["validate", "/nonexistent/folder"], "file not found"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], pattern: str
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("softcalc: error: ")
    assert pattern in err


def test_nodes_lists_findings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nodes"]) == 0
    out = capsys.readouterr().out
    assert "fat_in_lesion" in out and "present, absent" in out


def test_validate_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate"]) == 0
    assert capsys.readouterr().out.startswith("OK: ")


def test_demo(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "alt_wdlps" in out and "probability" in out


def test_evaluate_and_coverage_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate"]) == 0
    out = capsys.readouterr().out
    assert "top-1" in out and "Calibration" in out
    assert main(["coverage", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["documented_row_share"] >= 0.8


def test_evaluate_holdout(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["evaluate", "--holdout"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Cases: {len(load_cases(holdout_cases_path()))} ")
    assert main(["evaluate", str(tmp_path), "--holdout"]) == 2
    assert "not both" in capsys.readouterr().err


def test_sensitivity_command_writes_plot(capsys: pytest.CaptureFixture[str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    png = tmp_path / "tornado.png"
    argv = [
        "sensitivity",
        "fat_in_lesion=present",
        "mdm2_fish=amplified",
        "--top",
        "5",
        "--plot",
        str(png),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "sensitivity_value" in out and png.stat().st_size > 5000
    # the prior rows have no source: shown as '-', never as NaN
    assert "NaN" not in out and "nan" not in out.split()


def test_uncertainty_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["uncertainty", "fat_in_lesion=present", "mdm2_fish=amplified", "--samples", "500"])
        == 0
    )
    out = capsys.readouterr().out
    assert "stays the most likely diagnosis" in out
