"""posterior_batch: the DataFrames users pass, bounded chunks, same answers as single queries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from softcalc_bayes import EvidenceError, InvalidParameterError, Network
from test_network import tiny_net as tiny_net  # the fixture


def _cases(net: Network, n: int, seed: int, k: int = 6) -> list[dict[str, str]]:
    rng = np.random.default_rng(seed)
    rows: list[dict[str, str]] = []
    while len(rows) < n:
        names = rng.choice(net.findings, size=k, replace=False)
        evidence = {str(f): str(rng.choice(net.states(str(f)))) for f in names}
        if np.isfinite(net.log_evidence(evidence)):
            rows.append(evidence)
    return rows


def test_batch_equals_loop(net: Network) -> None:
    rows = _cases(net, 40, 1)
    frame = pd.DataFrame(rows, index=[f"case{i}" for i in range(len(rows))])
    for target in ("diagnosis", "mineral_metabolism", "serum_pth"):
        sub = frame.drop(columns=[target], errors="ignore")
        batch = net.posterior_batch(sub, target=target, chunk_size=7)
        assert list(batch.index) == list(frame.index)
        for case_id, row in sub.iterrows():
            single = net.posterior(row.dropna().to_dict(), target=target)
            np.testing.assert_allclose(
                batch.loc[case_id].to_numpy(), single.reindex(batch.columns).to_numpy(), atol=1e-12
            )


@pytest.mark.parametrize("chunk_size", [1, 3, 64, 100_000])
def test_chunk_size_does_not_change_answers(net: Network, chunk_size: int) -> None:
    frame = pd.DataFrame(_cases(net, 25, 2))
    reference = net.posterior_batch(frame, chunk_size=10_000)
    np.testing.assert_allclose(
        net.posterior_batch(frame, chunk_size=chunk_size).to_numpy(),
        reference.to_numpy(),
        atol=1e-14,
    )


def test_categorical_and_object_columns_agree(net: Network) -> None:
    frame = pd.DataFrame(_cases(net, 30, 3))
    as_category = frame.astype("category")
    np.testing.assert_allclose(
        net.posterior_batch(as_category).to_numpy(),
        net.posterior_batch(frame).to_numpy(),
        atol=1e-14,
    )


def test_long_string_columns_agree_with_object_and_categorical(net: Network) -> None:
    # long enough for the column-wise encoders (pandas' Arrow-backed ``str`` path among them)
    rows = _cases(net, 40, 4) * 20
    as_str = pd.DataFrame(rows).astype("str")
    as_str.iloc[::7, 0] = np.nan  # missing cells among the strings
    as_object = as_str.astype(object)
    reference = net.posterior_batch(as_object).to_numpy()
    np.testing.assert_allclose(net.posterior_batch(as_str).to_numpy(), reference, atol=1e-14)
    np.testing.assert_allclose(
        net.posterior_batch(as_str.astype("category")).to_numpy(), reference, atol=1e-14
    )
    single = net.posterior(as_object.iloc[7].dropna().to_dict())
    np.testing.assert_allclose(reference[7], single.reindex(net.states("diagnosis")), atol=1e-12)


def test_memory_layout_of_codes_does_not_change_answers(net: Network) -> None:
    # encode_frame writes column-major codes; the engine reads either layout and any
    # row slice of it (the chunks) the same way
    frame = pd.DataFrame(_cases(net, 600, 5)).astype("str")
    by_frame = net.posterior_batch(frame, chunk_size=7, n_jobs=1).to_numpy()
    codes = np.zeros((len(frame), len(net.engine.index)), dtype=np.uint8)
    for column in frame.columns:
        states = net.states(column)
        codes[:, net.engine.index[column]] = [
            0 if pd.isna(v) else states.index(v) + 1 for v in frame[column]
        ]
    for layout in (codes, np.asfortranarray(codes)):
        for chunk in (7, 4096):
            np.testing.assert_array_equal(
                net.engine.posterior_batch(layout, "diagnosis", chunk_size=chunk), by_frame
            )


@pytest.mark.parametrize("dtype", ["str", object, "category"])
def test_long_columns_name_the_first_bad_cell(net: Network, dtype: object) -> None:
    frame = pd.DataFrame({"sex": ["male", None] * 400, "pain": ["painful"] * 800})
    frame.loc[613, "sex"] = "femal"
    frame.loc[700, "sex"] = "mal"
    with pytest.raises(EvidenceError, match=r"Row 613, column 'sex': Unknown state 'femal'"):
        net.posterior_batch(frame.astype({"sex": dtype}))


def test_soft_evidence_in_batch(net: Network) -> None:
    frame = pd.DataFrame([{"fat_in_lesion": "present"}, {"sex": "male"}], index=["a", "b"])
    soft = {"mdm2_cdk4_ihc": {"positive": 3.0, "negative": 1.0}}
    batch = net.posterior_batch(frame, soft=soft)
    for case_id, row in frame.iterrows():
        single = net.posterior(row.dropna().to_dict(), soft=soft)
        np.testing.assert_allclose(
            batch.loc[case_id].to_numpy(), single.reindex(batch.columns).to_numpy(), atol=1e-12
        )
    per_row = pd.DataFrame({"positive": [3.0, 1.0], "negative": [1.0, 1.0]}, index=frame.index)
    mixed = net.posterior_batch(frame, soft={"mdm2_cdk4_ihc": per_row})
    np.testing.assert_allclose(mixed.loc["a"].to_numpy(), batch.loc["a"].to_numpy(), atol=1e-12)
    plain = net.posterior_batch(frame.loc[["b"]])
    np.testing.assert_allclose(mixed.loc["b"].to_numpy(), plain.loc["b"].to_numpy(), atol=1e-12)


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (
            pd.DataFrame({"sex": ["male", "femal"], "pain": [None, "painful"]}, index=["a", "b"]),
            r"Row 'b', column 'sex': Unknown state 'femal'\. Did you mean 'female'\?",
        ),
        (pd.DataFrame({"gender": ["male"]}), r"Unknown finding 'gender'"),
        (
            pd.DataFrame({"sex": [{"male": 1}]}, index=["x"]),  # a list is a set of states
            r"Row 'x', column 'sex': a cell holds dict",
        ),
        (pd.DataFrame({"sex": [{"a": 1}]}, index=["x"]), r"a cell holds dict"),
        (pd.DataFrame([["male", "female"]], columns=["sex", "sex"]), r"duplicate columns: sex"),
        (pd.DataFrame({"sex": [1.5]}), r"Unknown state 1\.5"),
        (pd.DataFrame({"diagnosis": ["ddlps"]}), r"Evidence on the target"),
        (pd.DataFrame({"amplification_12q": ["amplified"]}), r"latent node"),
    ],
)
def test_batch_errors_name_row_and_column(net: Network, frame: pd.DataFrame, match: str) -> None:
    with pytest.raises(EvidenceError, match=match):
        net.posterior_batch(frame)


def test_batch_zero_probability_names_rows(tiny_net: Network) -> None:
    frame = pd.DataFrame(
        [{"test": "pos"}, {"test": "pos", "colour": "red"}, {"colour": "red"}],
        index=["ok", "bad", "fine"],
    )
    with pytest.raises(EvidenceError, match=r"probability zero in rows \['bad'\]"):
        net_rows = tiny_net.posterior_batch(frame, chunk_size=2)
        del net_rows


def test_batch_rejects_non_frames_and_bad_chunks(net: Network) -> None:
    with pytest.raises(EvidenceError, match="DataFrame"):
        net.posterior_batch([{"sex": "male"}])  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="chunk_size"):
        net.posterior_batch(pd.DataFrame({"sex": ["male"]}), chunk_size=0)


@pytest.mark.parametrize("target", ["diagnosis", "mineral_metabolism"])
def test_threads_do_not_change_answers(net: Network, target: str) -> None:
    # more rows than the small-frame limit, so columns are factorised (on threads)
    frame = pd.DataFrame(_cases(net, 700, 4)).drop(columns=[target], errors="ignore")
    serial = net.posterior_batch(frame, target=target, chunk_size=64, n_jobs=1)
    for jobs in (2, 3, -1, None):
        threaded = net.posterior_batch(frame, target=target, chunk_size=64, n_jobs=jobs)
        np.testing.assert_array_equal(threaded.to_numpy(), serial.to_numpy())
    soft = {"mdm2_cdk4_ihc": {"positive": 3.0, "negative": 1.0}}
    frame = frame.drop(columns=["mdm2_cdk4_ihc"], errors="ignore")
    np.testing.assert_array_equal(
        net.posterior_batch(frame, target=target, soft=soft, chunk_size=50, n_jobs=2).to_numpy(),
        net.posterior_batch(frame, target=target, soft=soft, chunk_size=50, n_jobs=1).to_numpy(),
    )


def test_threads_report_the_first_bad_column_and_every_impossible_row(
    net: Network, tiny_net: Network
) -> None:
    frame = pd.DataFrame(_cases(net, 600, 5))
    frame.loc[frame.index[550], "sex"] = "femal"
    frame.loc[frame.index[560], "pain"] = "sore"
    first = frame.columns[min(frame.columns.get_loc("sex"), frame.columns.get_loc("pain"))]
    for jobs in (1, 2):
        with pytest.raises(EvidenceError, match=rf"Row 5[56]0, column '{first}'"):
            net.posterior_batch(frame, n_jobs=jobs)
    rows = [
        {"test": "pos", "colour": "red"} if i % 97 == 5 else {"colour": "red"} for i in range(600)
    ]
    impossible = pd.DataFrame(rows)
    for jobs in (1, 2):
        with pytest.raises(EvidenceError, match=r"rows \[5, 102, 199, 296, 393, 490, 587\]"):
            tiny_net.posterior_batch(impossible, chunk_size=40, n_jobs=jobs)


@pytest.mark.parametrize("n_jobs", [0, -2, 1.5, "2", True])
def test_batch_rejects_bad_n_jobs(net: Network, n_jobs: object) -> None:
    with pytest.raises(InvalidParameterError, match="'n_jobs' parameter"):
        net.posterior_batch(pd.DataFrame({"sex": ["male"]}), n_jobs=n_jobs)  # type: ignore[arg-type]
