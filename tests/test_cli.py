"""The softcalc command line: output, JSON, exit codes and one-line errors."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from softcalc_bayes.cases import holdout_cases_path, load_cases
from softcalc_bayes.cli import EXIT_BUG, EXIT_PIPE, build_parser, main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def strict_json(text: str) -> Any:
    """Parse ``text`` as standard JSON: NaN and Infinity are refused."""

    def refuse(token: str) -> None:
        raise AssertionError(f"non-standard JSON constant {token}")

    return json.loads(text, parse_constant=refuse)


def test_diagnose_table(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(
        capsys, "diagnose", "fat_in_lesion=present", "mdm2_fish=amplified", "--top", "3"
    )
    assert status == 0
    lines = out.strip().splitlines()
    assert lines[0].split() == ["diagnosis", "label", "probability"]
    assert len(lines) == 4


def test_diagnose_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(
        capsys, "diagnose", "mineralization_pattern=phleboliths", "--json", "--top", "5"
    )
    assert status == 0
    rows = json.loads(out)
    assert len(rows) == 5
    assert rows[0]["diagnosis"] == "hemangioma_venous_malformation"
    assert [r["probability"] for r in rows] == sorted(
        (r["probability"] for r in rows), reverse=True
    )


# Every misuse: exit 2, exactly one line on stderr with a single prefix, no traceback.
MISUSES = [
    ([], "no command given; choose one of: diagnose, demo"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["diagnose", "fat=present"], "Unknown finding 'fat'. Did you mean 'fat_in_lesion'?"),
    (["diagnose", "fat_in_lesion"], "Evidence must be written finding=state"),
    (["diagnose", "sex=male", "sex=female"], "Finding 'sex' is given twice"),
    (["diagnose", "--profile", "nope"], "Unknown profile 'nope'"),
    (["diagnose", "--top", "0"], "--top: must be a whole number of at least 1, got '0'"),
    (["diagnose", "--top", "-3"], "--top: must be a whole number of at least 1, got '-3'"),
    (["diagnose", "--top", "2.5"], "--top: must be a whole number of at least 1, got '2.5'"),
    (["demo", "--top", "zero"], "--top: must be a whole number of at least 1"),
    (["sensitivity", "--top", "0"], "--top: must be a whole number of at least 1"),
    (["uncertainty", "--samples", "0"], "--samples: must be a whole number from 2 to 200000"),
    (["uncertainty", "--samples", "1"], "--samples: must be a whole number from 2 to 200000"),
    (["uncertainty", "--samples", "200001"], "--samples: must be a whole number from 2 to"),
    (["explain", "--permutations", "1"], "--permutations: must be a whole number from 2 to 20000"),
    (["uncertainty", "--seed", "-1"], "--seed: must be a whole number of at least 0"),
    (["nodes", "sexx"], "Unknown node 'sexx'. Did you mean 'sex'?"),
    (["validate", "/nonexistent/folder"], "file not found"),
    (["diagnose", "--no-such-option"], "unrecognized arguments: --no-such-option"),
    (["sensitivity", "--plot", "{missing}/t.png"], "does not exist"),
    (["sensitivity", "--plot", "{tmp}"], "is a folder"),
    (["sensitivity", "--plot", "{tmp}/tornado"], "must end in .png, .pdf, .svg"),
]


@pytest.mark.parametrize(("argv", "pattern"), MISUSES)
def test_misuse_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], pattern: str
) -> None:
    argv = [a.format(tmp=tmp_path, missing=tmp_path / "missing") for a in argv]
    status, _, err = run(capsys, *argv)
    assert status == 2
    assert err.count("\n") == 1
    assert err.startswith("softcalc: error: ")
    assert err.count("softcalc:") == 1
    assert "Traceback" not in err
    assert pattern in err


def test_unwritable_plot_path(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # running as root: permissions do not apply
            pytest.skip("permissions are not enforced for this user")
        status, _, err = run(capsys, "sensitivity", "--plot", str(locked / "t.png"))
    finally:
        locked.chmod(0o700)
    assert status == 2
    assert err.count("\n") == 1 and "no permission to write there" in err


def test_no_command_prints_usage_and_commands(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys)
    assert status == 2
    assert out.startswith("usage: softcalc")
    names = ["diagnose", "demo", "nodes", "validate", "evaluate", "coverage", "sensitivity"]
    assert all(name in out for name in names)
    assert all(name in err for name in names)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    status, out, _ = run(capsys, "--version")
    assert status == 0
    assert out.strip() == f"softcalc {version('softcalc-bayes')}"


def test_every_option_has_help_and_no_developer_note(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.choices and hasattr(a, "_name_parser_map"))
    assert isinstance(subparsers.choices, dict)
    for name, sub in subparsers.choices.items():
        for action in sub._actions:
            assert action.help, f"softcalc {name} {action.option_strings or action.dest}: no help"
    status, out, _ = run(capsys, "--help")
    assert status == 0
    assert "only module that prints" not in out


def test_profile_help_lists_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    from softcalc_bayes import load_network

    status, out, _ = run(capsys, "diagnose", "--help")
    assert status == 0
    flat = " ".join(out.split())
    for profile in load_network().profiles:
        assert profile in flat


def test_library_bug_is_reported_without_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import softcalc_bayes._cli_commands as commands

    def broken(*_args: object, **_kwargs: object) -> None:
        raise KeyError("oops")

    monkeypatch.setattr(commands, "network_from", broken)
    monkeypatch.delenv("SOFTCALC_DEBUG", raising=False)
    status, _, err = run(capsys, "diagnose")
    assert status == EXIT_BUG
    assert err.count("\n") == 1
    assert "internal error: KeyError" in err and "please report" in err
    assert "Traceback" not in err
    monkeypatch.setenv("SOFTCALC_DEBUG", "1")
    with pytest.raises(KeyError, match="oops"):
        main(["diagnose"])


def test_broken_pipe_is_silent(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["nodes"]) == EXIT_PIPE
    assert capsys.readouterr().err == ""


def test_broken_pipe_in_a_real_process() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "softcalc_bayes.cli", "nodes"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == EXIT_PIPE
    assert proc.stderr == ""


def test_nodes_lists_findings(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "nodes")
    assert status == 0
    assert "fat_in_lesion" in out and "present, absent" in out
    status, out, _ = run(capsys, "nodes", "fat_in_lesion", "--json")
    (row,) = json.loads(out)
    assert row["node"] == "fat_in_lesion" and row["kind"] == "finding"
    assert row["states"] == ["present", "absent"]
    assert "fat" in row["description"].lower()
    status, out, _ = run(capsys, "nodes", "--json")
    assert all(entry["description"] for entry in json.loads(out))


def test_nodes_prints_one_findings_definition(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "nodes", "distribution")
    assert status == 0
    assert "solitary, multifocal, diffuse" in out
    # the definition follows the table: it says what each state means
    assert "several separate lesions within one region are multifocal" in " ".join(out.split())
    status, out, _ = run(capsys, "nodes")
    assert "softcalc nodes NODE" in out and "several separate lesions" not in out
    # a node whose states have their own definitions lists them, one state per line
    status, out, _ = run(capsys, "nodes", "mineralization_pattern")
    assert status == 0
    lines = [line.split() for line in out.splitlines() if line[:3].count(" ") == 2]
    assert [
        words[0] for words in lines if words[0] in net_states("mineralization_pattern")
    ] == list(net_states("mineralization_pattern"))
    status, out, _ = run(capsys, "nodes", "mineralization_pattern", "--json")
    (row,) = json.loads(out)
    assert list(row["state_definitions"]) == list(net_states("mineralization_pattern"))
    assert row["state_definitions"]["phleboliths"].startswith("Round calcifications")


def net_states(node: str) -> tuple[str, ...]:
    import softcalc_bayes as sb

    return sb.load_network().states(node)


def test_validate_default(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "validate")
    assert status == 0 and out.startswith("OK: ")
    status, out, _ = run(capsys, "validate", "--json")
    result = strict_json(out)
    assert status == 0 and result["nodes"] > 30 and "neutral" in result["profiles"]


def test_demo(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "demo")
    assert status == 0
    assert "alt_wdlps" in out and "probability" in out
    status, out, _ = run(capsys, "demo", "--json", "--top", "3")
    result = json.loads(out)
    assert len(result["posterior"]) == 3 and result["case"]["diagnosis"]


def test_evaluate_and_coverage_commands(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "evaluate")
    assert status == 0
    assert "top-1" in out and "Calibration" in out
    status, out, _ = run(capsys, "coverage", "--json")
    assert status == 0
    assert json.loads(out)["documented_row_share"] >= 0.8


def test_evaluate_holdout(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, out, _ = run(capsys, "evaluate", "--holdout")
    assert status == 0
    assert out.startswith(f"Cases: {len(load_cases(holdout_cases_path()))} ")
    status, _, err = run(capsys, "evaluate", str(tmp_path), "--holdout")
    assert status == 2 and "not both" in err


def test_evaluate_prints_calibration_errors(capsys: pytest.CaptureFixture[str]) -> None:
    from softcalc_bayes import evaluate, load_network

    report = evaluate(load_network(), load_cases(), bins=5)
    status, out, _ = run(capsys, "evaluate", "--bins", "5")
    assert status == 0
    m = report.metrics
    assert (
        f"Expected calibration error (5 equal-width bins): top-label {m['ece_top_label']:.3f}   "
        f"classwise {m['ece_classwise']:.3f}"
    ) in out
    assert "Calibration by diagnosis group" in out
    for group in report.calibration_by_group.index:
        assert group in out


@pytest.mark.parametrize(("bins", "message"), [("0", "at least 1"), ("1001", "'bins'")])
def test_evaluate_refuses_bad_bins(
    capsys: pytest.CaptureFixture[str], bins: str, message: str
) -> None:
    status, _, err = run(capsys, "evaluate", "--bins", bins)
    assert status == 2 and message in err and err.count("\n") == 1


def test_evaluate_writes_a_reliability_diagram(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import matplotlib

    from softcalc_bayes.cases import default_network_path

    matplotlib.use("Agg")
    png = tmp_path / "reliability.png"
    examples = default_network_path() / "examples.yaml"  # any case file or folder works
    status, out, _ = run(capsys, "evaluate", str(examples), "--plot", str(png))
    assert status == 0
    assert png.stat().st_size > 5000 and f"written to {png}" in out


def test_sensitivity_command_writes_plot(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    png = tmp_path / "tornado.png"
    evidence = ["fat_in_lesion=present", "mdm2_fish=amplified"]
    status, out, _ = run(capsys, "sensitivity", *evidence, "--top", "5", "--plot", str(png))
    assert status == 0
    assert "sensitivity_value" in out and png.stat().st_size > 5000
    assert f"written to {png}" in out
    # the prior rows have no source: shown as '-', never as NaN
    assert "NaN" not in out and "nan" not in out.split()


def test_sensitivity_json_has_the_fields_of_the_python_result(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from softcalc_bayes import load_network, sensitivity

    evidence = {"fat_in_lesion": "present", "mdm2_fish": "amplified"}
    table = sensitivity(load_network(), evidence).head(4)
    status, out, _ = run(
        capsys,
        "sensitivity",
        "fat_in_lesion=present",
        "mdm2_fish=amplified",
        "--top",
        "4",
        "--json",
    )
    rows = strict_json(out)
    assert status == 0
    assert list(rows[0]) == list(table.columns)
    assert [r["sensitivity_value"] for r in rows] == pytest.approx(list(table["sensitivity_value"]))
    assert rows[0]["parents"] == dict(table.iloc[0]["parents"])


def test_uncertainty_command(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["uncertainty", "fat_in_lesion=present", "mdm2_fish=amplified", "--samples", "500"]
    status, out, _ = run(capsys, *argv)
    assert status == 0
    assert "stays the most likely diagnosis" in out and "seed 0" in out
    status, out, _ = run(capsys, *argv, "--json", "--top", "3")
    result = strict_json(out)
    assert status == 0
    assert result["n_samples"] == 500 and result["seed"] == 0 and len(result["summary"]) == 3
    assert {"top", "p_top_stays", "credible"} <= set(result)


@pytest.mark.parametrize(
    "argv",
    [
        ["diagnose", "--json"],
        ["demo", "--json"],
        ["nodes", "--json"],
        ["coverage", "--json"],
        ["evaluate", "--holdout", "--json"],
    ],
)
def test_json_is_strict(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    status, out, _ = run(capsys, *argv)
    assert status == 0
    assert strict_json(out)


def test_every_command_offers_json() -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if hasattr(a, "_name_parser_map"))
    assert isinstance(subparsers.choices, dict)
    for name, sub in subparsers.choices.items():
        assert any("--json" in a.option_strings for a in sub._actions), name


def test_soft_evidence_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    from softcalc_bayes import load_network

    code, out, _ = run(
        capsys, "diagnose", "fat_in_lesion=present", "mdm2_cdk4_ihc~positive=3", "--json"
    )
    assert code == 0
    rows = strict_json(out)
    expected = load_network().posterior(
        {"fat_in_lesion": "present"}, soft={"mdm2_cdk4_ihc": {"positive": 3.0, "negative": 1.0}}
    )
    assert rows[0]["diagnosis"] == expected.index[0]
    assert rows[0]["probability"] == pytest.approx(float(expected.iloc[0]), abs=1e-12)


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("mdm2_cdk4_ihc~positiv=3", "Did you mean 'positive'"),
        ("mdm2_cdk4_ihc~positive=x", "the ratio must be a number"),
        ("mdm2_cdk4_ihc~positive", "finding~state=ratio"),
        ("mdm2_cdk4_ihc~positive=-1", "finite and >= 0"),
    ],
)
def test_bad_soft_evidence_exits_2(
    capsys: pytest.CaptureFixture[str], token: str, message: str
) -> None:
    code, _, err = run(capsys, "diagnose", token)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["fat_in_lesion=present", "sex=male"],  # the tabulated star plan
        ["fat_in_lesion=present", "mdm2_cdk4_ihc~positive=3"],  # soft: the junction tree
    ],
)
def test_diagnose_never_imports_pandas(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast start of `softcalc diagnose`: with the validated network in the spec
    cache, the network, the engine and the table printer run without pandas (importing
    it alone costs more than the whole command)."""
    monkeypatch.setenv("SOFTCALC_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("SOFTCALC_CACHE", raising=False)
    warm = [sys.executable, "-m", "softcalc_bayes.cli", "diagnose", "sex=male"]
    subprocess.run(warm, check=True, capture_output=True)  # fills the spec cache
    code = (
        "import sys\n"
        "from softcalc_bayes.cli import main\n"
        f"status = main(['diagnose', *{argv!r}])\n"
        "heavy = sorted(m for m in ('pandas', 'scipy', 'pgmpy', 'networkx') if m in sys.modules)\n"
        "print('HEAVY', heavy, status)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "HEAVY [] 0"


def test_plain_rows_print_like_tables(capsys: pytest.CaptureFixture[str]) -> None:
    import pandas as pd

    from softcalc_bayes._cli_output import print_rows, print_table

    rows = [
        {"diagnosis": "alt_wdlps", "label": "Atypical lipomatous tumour", "probability": 0.5},
        {"diagnosis": "osteolipoma", "label": None, "probability": 0.123456},
    ]
    print_table(pd.DataFrame(rows))
    as_table = capsys.readouterr().out
    print_rows(rows, ["diagnosis", "label", "probability"])
    assert capsys.readouterr().out == as_table
    assert as_table.splitlines()[2].endswith("osteolipoma                          -      0.1235")


def test_tables_show_missing_numbers_as_a_dash(capsys: pytest.CaptureFixture[str]) -> None:
    # --pairs leaves pair_gain_bits empty beyond the first candidates: shown '-', never 'nan'
    status, out, _ = run(capsys, "next-test", "age_group=adult_60_plus", "--pairs", "--top", "8")
    assert status == 0
    rows = out.splitlines()[2:]
    assert len(rows) == 8 and all("nan" not in r.lower().split() for r in rows)
    assert rows[-1].split()[-2:] == ["-", "-"]
