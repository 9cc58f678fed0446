"""Cohorts: Dask DataFrames on a 2-worker LocalCluster, streamed case files, CLI batch/export."""

from __future__ import annotations

import pickle
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from softcalc_bayes import Network
from softcalc_bayes._provenance_hash import content_hash, tables_hash
from softcalc_bayes.cli import main
from softcalc_bayes.cohort import check_columns, posterior_batch_dask, score_file
from softcalc_bayes.exceptions import EvidenceError
from softcalc_bayes.interop import from_bif

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pytest.importorskip("pyarrow")

N_CASES = 100_000
ATTRS = {"network", "network_version", "content_hash", "profile", "softcalc_version", "target"}


def _cases(net: Network, n: int, seed: int, *, p_missing: float = 0.6) -> pd.DataFrame:
    """Random cases over a handful of findings, plain string columns, None where unobserved."""
    rng = np.random.default_rng(seed)
    columns = {}
    for name in ["fat_in_lesion", "mineralization_pattern", "trauma_history", "pain", "sex"]:
        states = np.array(net.states(name), dtype=object)
        values = states[rng.integers(0, len(states), n)]
        values[rng.random(n) < p_missing] = None
        columns[name] = values
    return pd.DataFrame(columns)


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # any free port: None means 8787
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def test_network_pickles_and_answers_the_same(net: Network) -> None:
    net.posterior({})  # compile first: the compiled engine travels too
    back = pickle.loads(pickle.dumps(net))
    evidence = {"fat_in_lesion": "present", "mdm2_fish": "amplified"}
    assert back.posterior(evidence).equals(net.posterior(evidence))


# The network travels uncompiled, so the graph stays under distributed's 10 MB warning.
@pytest.mark.filterwarnings("error:Sending large graph:UserWarning")
def test_dask_on_a_local_cluster_matches_pandas(
    net: Network, client: object, tmp_path: Path
) -> None:
    cases = _cases(net, N_CASES, seed=0)
    cases.insert(0, "patient", np.arange(N_CASES))
    expected = net.posterior_batch(cases.drop(columns="patient"))
    # Workers read the cohort from files, as a cohort is scored in practice; a frame built
    # from pandas would travel inside the task graph.
    for i, part in enumerate(np.array_split(np.arange(N_CASES), 8)):
        cases.iloc[part].to_parquet(tmp_path / f"part{i}.parquet")
    lazy = posterior_batch_dask(net, dd.read_parquet(tmp_path), keep=["patient"])
    assert list(lazy.columns) == ["patient", *net.states(net.target)]
    got = lazy.compute()
    assert got.index.equals(cases.index)
    assert got["patient"].equals(cases["patient"])
    diff = np.abs(got[list(expected.columns)].to_numpy() - expected.to_numpy()).max()
    assert diff <= 1e-12
    assert ATTRS <= set(got.attrs) and got.attrs["content_hash"] == net.spec.content_hash


def test_dask_names_the_bad_row_and_column(net: Network) -> None:
    cases = _cases(net, 50, seed=1)
    cases.loc[37, "pain"] = "severe"
    lazy = posterior_batch_dask(net, dd.from_pandas(cases, npartitions=3))
    with pytest.raises(EvidenceError, match=r"Row 37, column 'pain': Unknown state 'severe'"):
        lazy.compute(scheduler="sync")


def test_posterior_batch_dispatches_dask_and_stamps_attrs(net: Network) -> None:
    cases = _cases(net, 200, seed=5)
    eager = net.posterior_batch(cases)
    assert ATTRS <= set(eager.attrs) and eager.attrs["profile"] == net.profile
    lazy = net.posterior_batch(dd.from_pandas(cases, npartitions=2))
    assert isinstance(lazy, dd.DataFrame)
    assert np.array_equal(lazy.compute(scheduler="sync").to_numpy(), eager.to_numpy())


def test_dask_refuses_pandas(net: Network) -> None:
    with pytest.raises(
        EvidenceError, match=r"must be a dask\.dataframe\.DataFrame.*posterior_batch"
    ):
        posterior_batch_dask(net, _cases(net, 3, seed=2))


@pytest.mark.parametrize(
    ("columns", "keep", "match"),
    [
        (["id", "pain"], [], r"Unknown finding 'id'.*--keep id"),
        (["pain"], ["id"], r"Column 'id' given in keep is not in the input"),
        (["amplification_12q"], [], r"'amplification_12q' is a latent node"),
        (["diagnosis", "pain"], [], r"'diagnosis' is the target of the query"),
        (["pain", "myositis_ossificans"], ["myositis_ossificans"], "has the name of a state"),
    ],
)
def test_columns_are_checked_up_front(
    net: Network, columns: list[str], keep: list[str], match: str
) -> None:
    with pytest.raises(EvidenceError, match=match):
        check_columns(net, columns, keep=keep)


def test_other_target_accepts_the_diagnosis_as_evidence(net: Network) -> None:
    assert check_columns(net, ["diagnosis", "pain"], target="fat_in_lesion") == [
        "diagnosis",
        "pain",
    ]


# ----------------------------------------------------------------- case files
@pytest.fixture(scope="module")
def cohort_files(net: Network, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cohort")
    cases = _cases(net, 2_500, seed=3)
    cases.insert(0, "patient", [f"p{i:05d}" for i in range(len(cases))])
    cases.to_parquet(folder / "cases.parquet", row_group_size=700)
    cases.to_csv(folder / "cases.csv", index=False)
    return {"parquet": folder / "cases.parquet", "csv": folder / "cases.csv", "folder": folder}


@pytest.mark.parametrize(("kind", "workers"), [("parquet", 1), ("csv", 1), ("parquet", 2)])
def test_score_file_streams_and_matches_pandas(
    net: Network, cohort_files: dict[str, Path], kind: str, workers: int
) -> None:
    out = cohort_files["folder"] / f"out_{kind}_{workers}.parquet"
    seen: list[tuple[int, int | None]] = []
    n = score_file(
        net,
        cohort_files[kind],
        out,
        keep=["patient"],
        workers=workers,
        chunk_rows=600,
        progress=lambda done, total: seen.append((done, total)),
    )
    cases = pd.read_parquet(cohort_files["parquet"])
    expected = net.posterior_batch(cases.drop(columns="patient"))
    got = pd.read_parquet(out)
    assert n == len(cases) == len(got)
    assert list(got["patient"]) == list(cases["patient"])
    assert np.abs(got[list(expected.columns)].to_numpy() - expected.to_numpy()).max() <= 1e-12
    assert [done for done, _ in seen] == sorted(
        {min(len(cases), k) for k in range(600, len(cases) + 600, 600)} | {len(cases)}
    )
    assert seen[-1][1] == (len(cases) if kind == "parquet" else None)


def test_score_file_names_row_and_column_past_the_first_chunk(net: Network, tmp_path: Path) -> None:
    cases = _cases(net, 1_000, seed=4)
    cases.loc[777, "sex"] = "Female"
    cases.to_csv(tmp_path / "bad.csv", index=False)
    out = tmp_path / "out.parquet"
    with pytest.raises(
        EvidenceError, match=r"bad.csv: Row 777, column 'sex': Unknown state 'Female'"
    ):
        score_file(net, tmp_path / "bad.csv", out, chunk_rows=250)
    assert not out.exists()


@pytest.mark.parametrize(
    ("name", "kwargs", "match"),
    [
        ("cases.txt", {}, r"cannot read '\.txt' files"),
        ("missing.csv", {}, "file not found"),
        ("cases.csv", {"workers": 0}, "workers must be an integer >= 1"),
        ("cases.csv", {"chunk_rows": 0}, "chunk_rows must be an integer >= 1"),
    ],
)
def test_score_file_bad_arguments(
    net: Network, tmp_path: Path, name: str, kwargs: dict[str, int], match: str
) -> None:
    (tmp_path / "cases.txt").write_text("pain\nyes\n")
    (tmp_path / "cases.csv").write_text("pain\nyes\n")
    with pytest.raises(EvidenceError, match=match):
        score_file(net, tmp_path / name, tmp_path / "o.parquet", **kwargs)  # type: ignore[arg-type]


def test_score_file_with_only_a_header(net: Network, tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("pain,sex\n")
    assert score_file(net, tmp_path / "empty.csv", tmp_path / "o.parquet") == 0
    assert list(pd.read_parquet(tmp_path / "o.parquet").columns) == list(net.states(net.target))


# ----------------------------------------------------------------- command line
def test_cli_batch(
    net: Network, cohort_files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    out = cohort_files["folder"] / "cli.parquet"
    status = main(
        [
            "batch",
            str(cohort_files["csv"]),
            "-o",
            str(out),
            "--keep",
            "patient",
            "--chunk-rows",
            "1000",
        ]
    )
    captured = capsys.readouterr()
    assert status == 0
    assert (
        "scored 2,500 rows" in captured.err and f"Wrote 2,500 posteriors to {out}" in captured.out
    )
    assert pd.read_parquet(out).shape == (2_500, 1 + len(net.states(net.target)))


def test_cli_batch_error_is_one_line(
    cohort_files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["batch", str(cohort_files["csv"]), "-o", "x.parquet", "--quiet"])
    assert status == 2
    assert "Unknown finding 'patient'" in capsys.readouterr().err


def test_cli_export_and_validate(
    net: Network, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "net.bif"
    assert main(["export", str(path)]) == 0
    assert net.spec.content_hash in capsys.readouterr().out
    back = from_bif(path)
    assert back.target == net.target
    assert back.spec.content_hash == tables_hash(net.spec.nodes.values())
    assert main(["export", str(tmp_path / "net.txt"), "--format", "xdsl"]) == 0
    assert (tmp_path / "net.txt.provenance.json").exists()
    assert main(["validate"]) == 0
    assert f"content hash: {content_hash(net.spec.path)}" in capsys.readouterr().out


# ------------------------------------------------ softcalc batch: bad input is exit 2
def _batch(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Exit status and stderr of ``softcalc batch ARGV --quiet``."""
    status = main(["batch", *argv, "--quiet"])
    return status, capsys.readouterr().err


def _one_line_error(err: str) -> str:
    assert err.startswith("softcalc: error: ") and err.count("\n") == 1, err
    assert "internal error" not in err and "Traceback" not in err
    return err


@pytest.mark.parametrize("spelling", ["same", "absolute", "dotted", "symlink"])
def test_cli_batch_refuses_to_overwrite_its_input(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    spelling: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    text = "fat_in_lesion,sex\npresent,male\n"
    Path("ok.csv").write_text(text)
    Path("link.csv").symlink_to("ok.csv")
    output = {
        "same": "ok.csv",
        "absolute": str(tmp_path / "ok.csv"),
        "dotted": "./sub/../ok.csv",
        "symlink": "link.csv",
    }[spelling]
    Path("sub").mkdir()
    status, err = _batch(["ok.csv", "-o", output], capsys)
    assert status == 2
    assert "is the input file" in _one_line_error(err)
    assert Path("ok.csv").read_text() == text


@pytest.mark.parametrize("suffix", [".parquet", ".pq", ".csv", ".CSV"])
def test_score_file_writes_the_format_of_the_output_suffix(
    net: Network, cohort_files: dict[str, Path], suffix: str
) -> None:
    out = cohort_files["folder"] / f"by_suffix{suffix}"
    n = score_file(net, cohort_files["csv"], out, keep=["patient"], chunk_rows=700)
    reference = cohort_files["folder"] / "by_suffix_reference.parquet"
    score_file(net, cohort_files["parquet"], reference, keep=["patient"])
    expected = pd.read_parquet(reference)
    is_csv = suffix.lower() == ".csv"
    assert out.read_bytes()[:4] != b"PAR1" if is_csv else out.read_bytes()[:4] == b"PAR1"
    got = pd.read_csv(out, dtype={"patient": str}) if is_csv else pd.read_parquet(out)
    assert n == len(got) == len(expected)
    assert list(got.columns) == list(expected.columns)
    assert list(got["patient"]) == list(expected["patient"])
    states = list(net.states(net.target))
    np.testing.assert_array_equal(got[states].to_numpy(), expected[states].to_numpy())


def test_score_file_csv_output_with_only_a_header(net: Network, tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("id,pain\n")
    assert score_file(net, tmp_path / "empty.csv", tmp_path / "o.csv", keep=["id"]) == 0
    assert list(pd.read_csv(tmp_path / "o.csv").columns) == ["id", *net.states(net.target)]


def test_score_file_bad_row_leaves_an_older_output_alone(net: Network, tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("sex\nfemal\n")
    (tmp_path / "o.csv").write_text("earlier results\n")
    with pytest.raises(EvidenceError, match=r"bad.csv: Row 0, column 'sex'"):
        score_file(net, tmp_path / "bad.csv", tmp_path / "o.csv")
    assert (tmp_path / "o.csv").read_text() == "earlier results\n"


_HEADER = "fat_in_lesion,sex\n"
_OK = _HEADER + "present,male\n"


@pytest.mark.parametrize(
    ("content", "output", "match"),
    [
        (_OK, "o.txt", r"o\.txt: .*must end in \.parquet, \.pq or \.csv.*'\.txt'"),
        (_OK, "o", r"o: .*must end in \.parquet, \.pq or \.csv.*no suffix"),
        (b"", "o.parquet", r"cases\.csv: the file is empty; a CSV file needs a header row"),
        (b"\n", "o.parquet", r"cases\.csv: the file is empty"),
        (
            bytes(range(256)) * 4,
            "o.parquet",
            r"cases\.csv: not a CSV text file \(it holds binary data\)$",
        ),
        (
            b"fat_in_lesion,sex\n\xe9,male\n",  # Latin-1
            "o.parquet",
            r"cases\.csv: not UTF-8 text \(byte 0xe9 at offset 18\); save the CSV file as UTF-8$",
        ),
        (
            _OK + "present,male,x\n",
            "o.parquet",
            r"cases\.csv: cannot read the CSV file: .*Expected 2 columns, got 3",
        ),
        ("sex,pain,sex\nmale,,male\n", "o.parquet", r"cases\.csv: duplicate column names: sex"),
        (
            _OK,
            "nonexistdir/o.parquet",
            r"nonexistdir/o\.parquet: the folder .*nonexistdir does not exist",
        ),
        (_OK, "cases.csv/o.parquet", r"cases\.csv/o\.parquet: .*cases\.csv is not a folder"),
        (_OK, "folder.parquet", r"folder\.parquet: is a folder; give a file name"),
    ],
)
def test_cli_batch_bad_input_is_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    content: str | bytes,
    output: str,
    match: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    data = content.encode() if isinstance(content, str) else content
    Path("cases.csv").write_bytes(data)
    Path("folder.parquet").mkdir()
    status, err = _batch(["cases.csv", "-o", output], capsys)
    assert status == 2, err
    assert re.search(match, _one_line_error(err)), err
    assert not Path("o.parquet").exists() and not Path("o.txt").exists()


def test_cli_batch_unreadable_parquet_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "cases.parquet").write_text(_OK)
    status, err = _batch([str(tmp_path / "cases.parquet"), "-o", str(tmp_path / "o.pq")], capsys)
    assert status == 2
    assert re.search(r"cases\.parquet: cannot read the parquet file", _one_line_error(err))


def test_cli_batch_keeps_a_column_named_twice_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "cases.csv").write_text("id,sex\np1,male\n")
    out = tmp_path / "o.parquet"
    status = main(
        [
            "batch",
            str(tmp_path / "cases.csv"),
            "-o",
            str(out),
            "--keep",
            "id",
            "--keep",
            "id,id",
            "--quiet",
        ]
    )
    assert status == 0, capsys.readouterr().err
    assert list(pd.read_parquet(out).columns)[:2] == ["id", "lipoma_fat_necrosis"]


@pytest.mark.parametrize(
    ("header", "keep", "match", "absent"),
    [
        (
            "id,sex",
            [],
            r"cases\.csv: Unknown finding 'id'\. Not a finding\? .*--keep id",
            "Did you mean",
        ),
        (
            "patient,sex",
            [],
            r"cases\.csv: Unknown finding 'patient'\. Not a finding\? .*--keep patient",
            "Did you mean",
        ),
        (
            "fat_in_lesions,sex",
            [],
            r"cases\.csv: Unknown finding 'fat_in_lesions'\. Did you mean 'fat_in_lesion'\?",
            None,
        ),
        ("Sex", [], r"cases\.csv: Unknown finding 'Sex'\. Did you mean 'sex'\?.*--keep Sex", None),
        ("amplification_12q", [], r"cases\.csv: Column 'amplification_12q' is a latent node", None),
        ("sex", ["id"], r"cases\.csv: Column 'id' given in keep is not in the input", None),
    ],
)
def test_cli_batch_column_errors_name_the_file(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    header: str,
    keep: list[str],
    match: str,
    absent: str | None,
) -> None:
    (tmp_path / "cases.csv").write_text(
        header + "\n" + ",".join(["male"] * len(header.split(","))) + "\n"
    )
    argv = [str(tmp_path / "cases.csv"), "-o", str(tmp_path / "o.parquet")]
    status, err = _batch(argv + [a for k in keep for a in ("--keep", k)], capsys)
    assert status == 2
    assert re.search(match, _one_line_error(err)), err
    assert absent is None or absent not in err


NOT_OBSERVED = ["", "NA", "N/A", "n/a", "#N/A", "NaN", "nan", "NULL", "null"]


@pytest.mark.parametrize("cell", NOT_OBSERVED)
def test_csv_cells_that_mean_not_observed(net: Network, tmp_path: Path, cell: str) -> None:
    (tmp_path / "cases.csv").write_text(f"fat_in_lesion,sex\n{cell},male\npresent,{cell}\n")
    score_file(net, tmp_path / "cases.csv", tmp_path / "o.parquet")
    expected = net.posterior_batch(
        pd.DataFrame({"fat_in_lesion": [None, "present"], "sex": ["male", None]})
    )
    got = pd.read_parquet(tmp_path / "o.parquet")
    np.testing.assert_allclose(
        got[list(expected.columns)].to_numpy(), expected.to_numpy(), atol=1e-12
    )


@pytest.mark.parametrize("cell", ["None", "none", "na", "-nan", "#NA", "1.#IND", "-", "?", " "])
def test_other_csv_cells_are_states_not_missing_values(
    net: Network, tmp_path: Path, cell: str
) -> None:
    (tmp_path / "cases.csv").write_text(f"sex\nmale\n{cell}\n")
    with pytest.raises(
        EvidenceError, match=rf"Row 1, column 'sex': Unknown state {re.escape(repr(cell))}"
    ):
        score_file(net, tmp_path / "cases.csv", tmp_path / "o.parquet")


def test_no_state_is_spelled_like_a_missing_cell(net: Network) -> None:
    states = {s for node in net.nodes for s in net.states(node)}
    assert not states & set(NOT_OBSERVED)


def test_batch_help_says_which_cells_mean_not_observed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["batch", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "empty, " + ", ".join(NOT_OBSERVED[1:]) + " mean not observed" in text
    assert ".parquet or .pq (parquet) or .csv (CSV)" in text


def test_cli_batch_unreadable_row_past_the_first_block(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # pyarrow reads CSV in 4 MiB blocks: the bad row is read after chunks were written
    pad = "x" * 100
    rows = "".join(f"{pad}{i},male\n" for i in range(50_000))
    (tmp_path / "cases.csv").write_text("id,sex\n" + rows + "p,male,extra\n")
    out = tmp_path / "o.parquet"
    argv = [str(tmp_path / "cases.csv"), "-o", str(out), "--keep", "id", "--chunk-rows", "10000"]
    status, err = _batch(argv, capsys)
    assert status == 2
    assert re.search(
        r"cases\.csv: cannot read the CSV file: .*Expected 2 columns, got 3: p,male,extra$",
        _one_line_error(err),
    )
    assert not out.exists()


def test_cli_batch_kept_list_column_cannot_be_written_to_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pd.DataFrame({"ids": [[1, 2]], "sex": ["male"]}).to_parquet(tmp_path / "cases.parquet")
    out = tmp_path / "o.csv"
    status, err = _batch([str(tmp_path / "cases.parquet"), "-o", str(out), "--keep", "ids"], capsys)
    assert status == 2
    assert re.search(r"o\.csv: cannot write the CSV file: .*list", _one_line_error(err))
    assert not out.exists()


def test_a_failed_run_leaves_an_existing_output_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pd.DataFrame({"ids": [[1, 2]], "sex": ["male"]}).to_parquet(tmp_path / "cases.parquet")
    out = tmp_path / "prev.csv"
    out.write_text("an earlier result\n", encoding="utf-8")
    status, _ = _batch([str(tmp_path / "cases.parquet"), "-o", str(out), "--keep", "ids"], capsys)
    assert status == 2  # a list column cannot go to CSV ...
    assert out.read_text(encoding="utf-8") == "an earlier result\n"  # ... and nothing is lost
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases.parquet", "prev.csv"]


def test_csv_output_has_its_provenance_beside_it(net: Network, tmp_path: Path) -> None:
    import json

    from softcalc_bayes.cohort import PROVENANCE_SUFFIX

    (tmp_path / "cases.csv").write_text("id,sex\nNA,male\n7,NA\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    assert score_file(net, tmp_path / "cases.csv", out, keep=["id"]) == 2
    record = json.loads((tmp_path / ("out.csv" + PROVENANCE_SUFFIX)).read_text("utf-8"))
    assert record["content_hash"] == net.spec.content_hash
    assert record["profile"] == net.profile and record["target"] == net.target
    assert record["input"] == "cases.csv"
    frame = pd.read_csv(out, dtype={"id": str}, keep_default_na=False)
    assert frame["id"].tolist() == ["NA", "7"]  # a kept column is copied as written
    expected = net.posterior_batch(pd.DataFrame({"sex": ["male", None]}))
    np.testing.assert_allclose(frame[list(expected.columns)].to_numpy(), expected.to_numpy())


def test_a_state_spelled_like_a_missing_cell_is_refused_in_csv(
    net: Network, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import softcalc_bayes.cohort as cohort_module

    # no packaged state is spelled so: pretend one is, to see the check refuse it
    monkeypatch.setattr(
        cohort_module, "CSV_NOT_OBSERVED", (*cohort_module.CSV_NOT_OBSERVED, "male")
    )
    (tmp_path / "cases.csv").write_text("sex\nmale\n", encoding="utf-8")
    with pytest.raises(EvidenceError, match=r"finding 'sex' has a state spelled 'male'"):
        score_file(net, tmp_path / "cases.csv", tmp_path / "out.parquet")
    pd.DataFrame({"sex": ["male"]}).to_parquet(tmp_path / "cases.parquet")  # parquet: fine
    assert score_file(net, tmp_path / "cases.parquet", tmp_path / "out.parquet") == 1
