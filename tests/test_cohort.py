"""Cohorts: Dask DataFrames on a 2-worker LocalCluster, streamed case files, CLI batch/export."""

from __future__ import annotations

import pickle
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
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
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
