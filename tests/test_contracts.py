"""The contract of every public query function: one table of bad inputs, run against all.

Bad evidence gives :class:`EvidenceError`; a bad option gives
:class:`InvalidParameterError` whose message names the parameter and the function. No
bad input may surface as a bare TypeError, KeyError, AttributeError or a NaN result.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import softcalc_bayes as sb
from softcalc_bayes import EvidenceError, InvalidParameterError, Network, SoftcalcError

NET = sb.load_network()
GOOD = {"fat_in_lesion": "present", "mdm2_fish": "amplified"}

Query = Callable[[Network, Any], Any]

# Every public function that takes (network, evidence): the evidence is its second argument.
QUERIES: dict[str, Query] = {
    "Network.posterior": lambda net, ev: net.posterior(ev),
    "Network.posterior_groups": lambda net, ev: net.posterior_groups(ev),
    "Network.encode": lambda net, ev: net.encode(ev),
    "posterior_uncertainty": lambda net, ev: sb.posterior_uncertainty(
        net, ev, n_samples=10, seed=0
    ),
    "sobol_indices": lambda net, ev: sb.sobol_indices(net, ev, n_base=4, seed=0),
    "sensitivity": lambda net, ev: sb.sensitivity(net, ev),
    "sensitivity_coefficients": lambda net, ev: sb.sensitivity_coefficients(net, ev),
    "tune": lambda net, ev: sb.tune(net, ev, state="alt_wdlps", at_least=0.5),
    "evidence_whatif": lambda net, ev: sb.evidence_whatif(net, ev),
    "compare_profiles": lambda net, ev: sb.compare_profiles(net, ev),
}
for _name in ("marginals", "log_evidence", "mpe"):  # the exact-engine queries, where present
    if hasattr(Network, _name):
        QUERIES[f"Network.{_name}"] = lambda net, ev, m=_name: getattr(net, m)(ev)

# Queries over the joint distribution (no target): observing the diagnosis is allowed.
JOINT_QUERIES = {"Network.marginals", "Network.log_evidence", "Network.mpe"}

BAD_EVIDENCE: list[tuple[str, Any, str]] = [
    ("a list", ["fat_in_lesion"], r"mapping"),
    ("a string", "fat_in_lesion=present", r"mapping"),
    (
        "unknown finding",
        {"fat": "present"},
        r"Unknown finding 'fat'\. Did you mean 'fat_in_lesion'",
    ),
    ("unknown state", {"fat_in_lesion": "maybe"}, r"Unknown state 'maybe'"),
    (  # a list is a set of states: refused with the closest state, or by verbs needing one
        "list with a bad state",
        {"fat_in_lesion": ["presnt"]},
        r"Unknown state 'presnt'\. Did you mean 'present'|give one state here, not a set",
    ),
    ("dict as a state", {"fat_in_lesion": {"present": 1}}, r"Unknown state \{'present': 1\}"),
    ("number as a state", {"fat_in_lesion": 1}, r"Unknown state 1"),
    (
        "tuple as a finding",
        {("fat_in_lesion",): "present"},
        r"Unknown finding \('fat_in_lesion',\)",
    ),
    ("latent node", {"amplification_12q": "amplified"}, r"latent node"),
    ("the target itself", {"diagnosis": "ddlps"}, r"Evidence on the target 'diagnosis'"),
    ("a huge name", {"x" * 100_000: "a"}, r"Unknown finding 'x+\.\.\.\. Valid findings"),
]


@pytest.mark.parametrize("query", list(QUERIES), ids=list(QUERIES))
@pytest.mark.parametrize(
    ("label", "evidence", "pattern"), BAD_EVIDENCE, ids=[c[0] for c in BAD_EVIDENCE]
)
def test_bad_evidence_everywhere(query: str, label: str, evidence: Any, pattern: str) -> None:
    if label == "the target itself" and query in JOINT_QUERIES:
        QUERIES[query](NET, evidence)  # queries over every node may observe the diagnosis
        return
    with pytest.raises(EvidenceError, match=pattern):
        QUERIES[query](NET, evidence)


@pytest.mark.parametrize("query", list(QUERIES), ids=list(QUERIES))
@pytest.mark.parametrize("net", [None, "default", GOOD], ids=["None", "a string", "a dict"])
def test_not_a_network(query: str, net: Any) -> None:
    if query.startswith("Network."):
        pytest.skip("a method: the network is self")
    with pytest.raises(
        InvalidParameterError, match=r"The 'net' parameter of \w+ must be a Network"
    ):
        QUERIES[query](net, GOOD)


# (function, keyword arguments, error, message)
BAD_OPTIONS: list[tuple[str, Callable[..., Any], dict[str, Any], type[Exception], str]] = []


def _option(
    name: str, func: Callable[..., Any], error: type[Exception], pattern: str, **kw: Any
) -> None:
    BAD_OPTIONS.append((name, func, kw, error, pattern))


_unc = sb.posterior_uncertainty
for value in (100_000_000, "100", 1.5, -1, True, None, np.nan):
    _option(
        "posterior_uncertainty",
        _unc,
        InvalidParameterError,
        r"The 'n_samples' parameter of posterior_uncertainty must be an int in the range "
        r"\[2, 200000\]\. Got .* instead\.",
        n_samples=value,
    )
for value in ("x", 1.5, -1, [1]):
    _option(
        "posterior_uncertainty",
        _unc,
        InvalidParameterError,
        r"The 'seed' parameter of posterior_uncertainty must be None, an int in the range "
        r"\[0, inf\) or a numpy\.random\.Generator\. Got .* instead\.",
        seed=value,
    )
for value in ("0.5", np.nan, np.inf, 1.0, 0, [0.9]):
    _option(
        "posterior_uncertainty",
        _unc,
        InvalidParameterError,
        r"The 'credible' parameter of posterior_uncertainty must be a float in the range "
        r"\(0\.0, 1\.0\)",
        credible=value,
    )
for value in (["alt_wdlps"], 3, "alt_wdlp"):
    _option(
        "posterior_uncertainty",
        _unc,
        EvidenceError,
        r"The 'state' parameter of posterior_uncertainty: Unknown diagnosis",
        state=value,
    )
for value in (3, 100, 2**20, "512", 0):
    _option(
        "sobol_indices",
        sb.sobol_indices,
        InvalidParameterError,
        r"The 'n_base' parameter of sobol_indices must be an int power of 2 in the range "
        r"\[2, 4096\]",
        n_base=value,
    )
_option(
    "sobol_indices",
    sb.sobol_indices,
    InvalidParameterError,
    r"The 'groups' parameter of sobol_indices must be a str among \{'node', 'table'\}\. Got 'nodes' "
    r"instead\. Did you mean 'node'\?",
    groups="nodes",
)
for value in ("0.5", np.nan, 1.5, -0.1, [0.5]):
    _option(
        "sensitivity",
        sb.sensitivity,
        InvalidParameterError,
        r"The 'threshold' parameter of sensitivity must be a float in the range \[0, 1\] or None",
        threshold=value,
    )
for value in (["alt_wdlps"], 5, "alt"):
    _option(
        "sensitivity",
        sb.sensitivity,
        EvidenceError,
        r"The 'state' parameter of sensitivity: Unknown state",
        state=value,
    )
for value in (["diagnosis"], {"a": 1}, "diagnosys", 3):
    for func in (sb.sensitivity, sb.sensitivity_coefficients):
        _option(
            func.__name__,
            func,
            EvidenceError,
            rf"The 'target' parameter of {func.__name__}: Unknown target",
            target=value,
        )
for value in ("0.5", np.nan, 2, -1e-9):
    _option(
        "tune",
        sb.tune,
        InvalidParameterError,
        r"The 'at_least' parameter of tune must be a float in the range \[0, 1\] or None",
        state="alt_wdlps",
        at_least=value,
    )
_option(
    "tune",
    sb.tune,
    EvidenceError,
    r"The 'above' parameter of tune: Unknown state \['ddlps'\]",
    state="alt_wdlps",
    above=["ddlps"],
)
for value in (["alt_wdlps"], 0, "alt_wdlp"):
    _option(
        "evidence_whatif",
        sb.evidence_whatif,
        EvidenceError,
        r"The 'state' parameter of evidence_whatif: Unknown diagnosis",
        state=value,
    )


@pytest.mark.parametrize(
    ("name", "func", "kwargs", "error", "pattern"),
    BAD_OPTIONS,
    ids=[f"{c[0]}-{next(iter(c[2]))}={c[2][next(iter(c[2]))]!r}"[:60] for c in BAD_OPTIONS],
)
def test_bad_options(
    name: str,
    func: Callable[..., Any],
    kwargs: dict[str, Any],
    error: type[Exception],
    pattern: str,
) -> None:
    with pytest.raises(error, match=pattern):
        func(NET, GOOD, **kwargs)


@pytest.mark.parametrize("size", [0, -1, 2.5, "100", True, 10**8])
def test_chunk_size(size: Any) -> None:
    with pytest.raises(
        InvalidParameterError,
        match=r"The 'chunk_size' parameter of Network\.posterior_batch must be an int in the "
        r"range \[1, 10000000\]",
    ):
        NET.posterior_batch(pd.DataFrame([GOOD]), chunk_size=size)


def test_targets_of_the_network_methods() -> None:
    for target in (["diagnosis"], {"a": 1}, "diagnosys", 3):
        with pytest.raises(EvidenceError, match=r"Unknown target"):
            NET.posterior(GOOD, target=target)
        with pytest.raises(EvidenceError, match=r"Unknown target"):
            NET.posterior_batch(pd.DataFrame([GOOD]), target=target)


CASES = sb.load_cases()


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        (
            {"cases": [{"id": "c1"}]},
            r"The 'cases' parameter of evaluate must be an iterable of Case",
        ),
        ({"cases": "cases.yaml"}, r"The 'cases' parameter of evaluate must be an iterable of Case"),
        ({"cases": 5}, r"The 'cases' parameter of evaluate must be an iterable of Case"),
        ({"cases": CASES[:2], "bins": 0}, r"The 'bins' parameter of evaluate must be an int"),
        ({"cases": CASES[:2], "bins": "10"}, r"The 'bins' parameter of evaluate must be an int"),
        ({"cases": CASES[:2], "eps": 0}, r"The 'eps' parameter of evaluate must be a float"),
        ({"cases": CASES[:2], "eps": np.nan}, r"The 'eps' parameter of evaluate must be a float"),
    ],
)
def test_evaluate_options(kwargs: dict[str, Any], pattern: str) -> None:
    with pytest.raises(InvalidParameterError, match=pattern):
        sb.evaluate(NET, **kwargs)


@pytest.mark.parametrize("func", [sb.check_constraints, sb.coverage, sb.evaluate])
def test_network_argument(func: Callable[..., Any]) -> None:
    with pytest.raises(InvalidParameterError, match=r"must be a Network \(from load_network\)"):
        func("networks/default", CASES) if func is sb.evaluate else func("networks/default")


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        (b"- id: [unclosed", r"cases\.yaml, line|cases\.yaml: not valid YAML"),
        (b"- id: c1\n  diagnosis: ddlps\n", r"case 0: field 'citation' is missing"),
        (
            b"- {id: c1, diagnosis: [a], citation: x}\n",
            r"case 0: field 'diagnosis' is missing or not text",
        ),
        (
            b"- {id: c1, diagnosis: a, citation: x, findings: [a]}\n",
            r"'findings' must be a mapping",
        ),
        (
            b"- {id: c1, diagnosis: a, citation: x, findings: {sex: [1]}}\n",
            r"finding 'sex' has non-text",
        ),
        (b"a: &x 1\nb: *x\n", r"anchors and aliases"),
        (b"\xff\xfe", r"not UTF-8"),
        (b"{a: 1}", r"expected a list of cases, got dict"),
    ],
)
def test_load_cases_reports_the_file(tmp_path: Path, text: bytes, pattern: str) -> None:
    path = tmp_path / "cases.yaml"
    path.write_bytes(text)
    with pytest.raises(sb.NetworkSpecError, match=pattern) as info:
        sb.load_cases(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("path", ["x" * 5000, "a\x00b"])
@pytest.mark.parametrize("load", [sb.load_cases, sb.load_spec, sb.load_network])
def test_unusable_paths(load: Callable[[Any], Any], path: str) -> None:
    with pytest.raises(sb.NetworkSpecError, match=r"cannot be looked up|not found|no case files"):
        load(path)


@pytest.mark.parametrize("path", [5, ["cases.yaml"], {"a": 1}])
def test_load_cases_path_type(path: Any) -> None:
    with pytest.raises(InvalidParameterError, match=r"The 'path' parameter of load_cases"):
        sb.load_cases(path)


def _with_columns(columns: list[Any]) -> pd.DataFrame:
    frame = pd.DataFrame({i: [] for i in range(len(columns))}, dtype=object)
    frame.columns = pd.Index(columns, dtype=object)
    return frame


BAD_FRAMES: list[tuple[str, Any, str]] = [
    ("not a frame", [GOOD], r"cases must be a pandas DataFrame, got list"),
    ("unknown column", pd.DataFrame({"fat": ["present"]}), r"Unknown finding 'fat'"),
    ("latent column", pd.DataFrame({"amplification_12q": ["amplified"]}), r"latent node"),
    (
        "list with a bad state in a cell",
        pd.DataFrame({"fat_in_lesion": [["presnt"]]}),
        r"Row 0, column 'fat_in_lesion': Unknown state 'presnt'",
    ),
    (
        "dict in a cell",
        pd.DataFrame({"fat_in_lesion": [{"a": 1}]}),
        r"Row 0, column 'fat_in_lesion': a cell holds dict",
    ),
    (
        "number in a cell",
        pd.DataFrame({"fat_in_lesion": [1.5]}),
        r"Unknown state (np\.float64\()?1\.5",
    ),
    (
        "duplicate columns",
        pd.DataFrame([["present", "absent"]], columns=["fat_in_lesion", "fat_in_lesion"]),
        r"cases has duplicate columns: fat_in_lesion",
    ),
    ("number as a column", pd.DataFrame({5: ["present"]}), r"Unknown finding 5"),
    (
        "list as a column name",
        _with_columns([["a", "b"], "sex"]),
        r"cases: column names must be finding names; Unknown finding \['a', 'b'\]",
    ),
    (
        "list as a column",
        pd.DataFrame(
            [["present"]], columns=pd.Index([["fat_in_lesion"]], dtype=object, tupleize_cols=False)
        ),
        r"Unknown finding \['fat_in_lesion'\]",
    ),
]


@pytest.mark.parametrize(("label", "frame", "pattern"), BAD_FRAMES, ids=[c[0] for c in BAD_FRAMES])
def test_bad_frames(label: str, frame: Any, pattern: str) -> None:
    with pytest.raises(EvidenceError, match=pattern):
        NET.posterior_batch(frame)


def test_errors_are_value_errors_of_the_library() -> None:
    for error in (EvidenceError, InvalidParameterError, sb.NetworkSpecError):
        assert issubclass(error, SoftcalcError) and issubclass(error, ValueError)


def _frame_soft(states: list[str], big: str, n: int = 2) -> pd.DataFrame:
    return pd.DataFrame({s: [1000.0 if s == big else 1.0] * n for s in states})


CASES2 = pd.DataFrame({"fat_in_lesion": ["present", "absent"]})
BAD_SOFT: list[tuple[str, Callable[[], Any], str]] = [
    (  # per-row soft evidence on the target: refused as the dict form and posterior() refuse it
        "per-row soft on the target",
        lambda: NET.posterior_batch(
            CASES2, soft={"diagnosis": _frame_soft(list(NET.states("diagnosis")), "ddlps")}
        ),
        r"soft: evidence on the target 'diagnosis' itself",
    ),
    (
        "per-row soft on another target",
        lambda: NET.posterior_batch(
            CASES2,
            target="amplification_12q",
            soft={
                "amplification_12q": _frame_soft(
                    list(NET.states("amplification_12q")), NET.states("amplification_12q")[0]
                )
            },
        ),
        r"soft: evidence on the target 'amplification_12q' itself",
    ),
    (
        "a state column given twice",
        lambda: NET.posterior_batch(
            CASES2,
            soft={
                "mdm2_cdk4_ihc": pd.DataFrame(
                    [[3.0, 1.0, 9.0]] * 2, columns=["positive", "negative", "positive"]
                )
            },
        ),
        r"repeated state column\(s\) positive",
    ),
    (
        "an int likelihood beyond the float range",
        lambda: NET.posterior({}, soft={"sex": {"male": 10**400, "female": 1}}),
        r"likelihood of 'male' must be finite and >= 0",
    ),
]


@pytest.mark.parametrize(("label", "call", "pattern"), BAD_SOFT, ids=[c[0] for c in BAD_SOFT])
def test_bad_soft_evidence(label: str, call: Callable[[], Any], pattern: str) -> None:
    with pytest.raises(EvidenceError, match=pattern):
        call()
