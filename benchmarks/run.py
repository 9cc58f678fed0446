"""Benchmark the compiled engine against pgmpy and pyAgrum; write ``benchmarks/RESULTS.md``.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/run.py``). Everything is
measured in one run, on the packaged default network (``softcalc_bayes.load_network()``):

1. Single-query latency: posterior of the diagnosis given 8 random findings, for our
   engine core (``net.engine.posterior(net.encode(ev))``), the full user call
   (``net.posterior(ev)``), pgmpy ``VariableElimination`` and pyAgrum
   ``LazyPropagation``. pgmpy and pyAgrum are first checked to agree with our engine
   to 1e-9, so a wrong translation of the network fails loudly instead of being timed.
2. Batch throughput: ``net.posterior_batch`` on 100,000 cases (8 findings each, drawn
   by ancestral sampling so every case has nonzero probability), and the engine alone
   on a precomputed code matrix.
3. Peak memory of the batch (tracemalloc) and of the whole process (ru_maxrss).
4. Hooks for the sensitivity and uncertainty analyses, which run only once
   ``softcalc_bayes.sensitivity`` / ``softcalc_bayes.uncertainty`` exist.

Timings use ``time.perf_counter_ns``; single-query figures are medians over many
queries, batch figures medians of 3 runs after one warm-up.
"""

from __future__ import annotations

import datetime as dt
import gc
import importlib
import itertools
import os
import platform
import resource
import subprocess
import sys
import time
import traceback
import tracemalloc
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", category=DeprecationWarning)

import pgmpy  # noqa: E402
import pyagrum as gum  # noqa: E402
from pgmpy.inference import VariableElimination  # noqa: E402

import softcalc_bayes as sb  # noqa: E402
from softcalc_bayes.network import Network  # noqa: E402

GUM_VERSION: str = getattr(gum, "__version__", "unknown")
HERE = Path(__file__).resolve().parent
RESULTS_PATH = HERE / "RESULTS.md"
TARGET = "diagnosis"
N_FINDINGS = 8
N_OURS = 500  # single queries timed for our engine
N_REFERENCE = 200  # single queries timed for pgmpy and pyAgrum
N_VERIFY = 25  # cases on which pgmpy and pyAgrum must agree with us
TOLERANCE = 1e-9
N_BATCH = 100_000
BATCH_RUNS = 3
N_SENSITIVITY_PARAMS = 20
SEED = 20240611

# Targets stated in the issue.
TARGET_PGMPY_SPEEDUP = 10.0
TARGET_PYAGRUM_SPEEDUP = 3.0
TARGET_BATCH_SECONDS = 0.5
TARGET_MEMORY_BYTES = 1 << 30
TARGET_UNCERTAINTY_SECONDS = 1.0

Evidence = dict[str, str]
Results = dict[str, Any]


# ----------------------------------------------------------------- helpers
def median_us(fn: Callable[[Evidence], object], cases: Sequence[Evidence]) -> float:
    """Median wall time of ``fn(case)`` over ``cases``, in microseconds."""
    times = np.empty(len(cases))
    for i, case in enumerate(cases):
        t0 = time.perf_counter_ns()
        fn(case)
        times[i] = time.perf_counter_ns() - t0
    return float(np.median(times)) / 1e3


def repeat_seconds(
    fn: Callable[[], object], *, min_runs: int, max_runs: int, budget_s: float
) -> tuple[float, int]:
    """Median seconds of ``fn()`` after one warm-up: at least ``min_runs``, at most
    ``max_runs`` runs, stopping early once ``budget_s`` seconds have been spent."""
    fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < max_runs and (
        len(times) < min_runs or time.perf_counter() - start < budget_s
    ):
        t0 = time.perf_counter_ns()
        fn()
        times.append((time.perf_counter_ns() - t0) / 1e9)
    return float(np.median(times)), len(times)


def fmt_bytes(n: float) -> str:
    """Human-readable size (binary units)."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def verdict(ok: bool) -> str:
    """Pass/fail mark for the results table."""
    return "met" if ok else "**not met**"


# ----------------------------------------------------------------- machine
def machine_info() -> dict[str, str]:
    """CPU, cores, RAM and library versions of this run."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = fmt_bytes(int(line.split()[1]) * 1024)
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        commit = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=HERE,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    import scipy

    return {
        "CPU": cpu,
        "Cores": f"{os.cpu_count()} logical ({usable} usable by this process)",
        "RAM": ram,
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "pgmpy": pgmpy.__version__,
        "pyAgrum": GUM_VERSION,
        "softcalc-bayes": f"{sb.__version__} (git {commit})",
    }


# ----------------------------------------------------------------- evidence
def random_evidence(net: Network, n: int, rng: np.random.Generator) -> tuple[list[Evidence], int]:
    """``n`` evidence sets of 8 random findings in uniformly random states, skipping
    those of probability zero; also returns how many were skipped."""
    findings = net.findings
    out: list[Evidence] = []
    skipped = 0
    while len(out) < n:
        picked = rng.choice(len(findings), size=N_FINDINGS, replace=False)
        ev: Evidence = {}
        for i in picked:
            states = net.states(findings[i])
            ev[findings[i]] = states[int(rng.integers(len(states)))]
        if np.isfinite(net.engine.log_evidence(net.encode(ev))):
            out.append(ev)
        else:
            skipped += 1
    return out, skipped


def ancestral_sample(net: Network, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """State indices of every node for ``n`` cases drawn from the network's joint."""
    nodes = net.spec.nodes
    sample: dict[str, np.ndarray] = {}
    for name, node in nodes.items():  # spec order is topological
        config = np.zeros(n, dtype=np.int64)
        for parent in node.parents:
            if parent not in sample:
                raise RuntimeError(f"spec order is not topological: {parent} after {name}")
            config = config * len(nodes[parent].states) + sample[parent]
        cum = np.cumsum(np.asarray(node.cpt, dtype=float), axis=1)[config]
        u = 1.0 - rng.random(n)  # in (0, 1]: a state of probability zero is never drawn
        state = (u[:, None] > cum).sum(axis=1)
        sample[name] = np.minimum(state, len(node.states) - 1)
    return sample


def batch_cases(net: Network, n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    """``n`` sampled cases with 8 observed findings each, as the DataFrame users pass to
    ``posterior_batch`` and as the engine's code matrix (0 = unobserved, else state + 1)."""
    sample = ancestral_sample(net, n, rng)
    findings = net.findings
    chosen = np.argsort(rng.random((n, len(findings))), axis=1)[:, :N_FINDINGS]
    observed = np.zeros((n, len(findings)), dtype=bool)
    np.put_along_axis(observed, chosen, True, axis=1)
    engine = net.engine
    codes = np.zeros((n, len(engine.names)), dtype=np.int64)
    columns: dict[str, np.ndarray] = {}
    for j, name in enumerate(findings):
        labels = np.array(net.states(name), dtype=object)[sample[name]]
        labels[~observed[:, j]] = None
        columns[name] = labels
        codes[:, engine.index[name]] = np.where(observed[:, j], sample[name] + 1, 0)
    return pd.DataFrame(columns), codes


# ----------------------------------------------------------------- references
def build_pyagrum(net: Network) -> gum.BayesNet:
    """The network as a pyAgrum BayesNet, with tables filled label by label."""
    nodes = net.spec.nodes
    bn = gum.BayesNet(net.spec.name)
    for name, node in nodes.items():
        bn.add(gum.LabelizedVariable(name, name, list(node.states)))
    for name, node in nodes.items():
        for parent in node.parents:
            bn.addArc(parent, name)
    for name, node in nodes.items():
        cpt = np.asarray(node.cpt, dtype=float)
        if not node.parents:
            bn.cpt(name).fillWith(cpt[0].tolist())
            continue
        configs = itertools.product(*(nodes[p].states for p in node.parents))
        for c, config in enumerate(configs):  # C order over parents, as in NodeSpec.cpt
            bn.cpt(name)[dict(zip(node.parents, config, strict=True))] = cpt[c].tolist()
    bn.check()  # pyAgrum's own consistency check (tables sum to one)
    return bn


class PyAgrumQuery:
    """LazyPropagation with the diagnosis as its only target, reused across queries."""

    def __init__(self, net: Network) -> None:
        self.bn = build_pyagrum(net)
        self.ie = gum.LazyPropagation(self.bn)
        self.ie.addTarget(TARGET)
        var = self.bn.variable(TARGET)
        labels = [var.label(i) for i in range(var.domainSize())]
        position = {s: i for i, s in enumerate(labels)}
        self.order = np.array([position[s] for s in net.states(TARGET)])

    def __call__(self, ev: Evidence) -> np.ndarray:
        self.ie.setEvidence(ev)
        self.ie.makeInference()
        return np.asarray(self.ie.posterior(TARGET).toarray(), dtype=float)

    def in_our_order(self, ev: Evidence) -> np.ndarray:
        """The posterior with states in the network's order."""
        return self(ev)[self.order]


class PgmpyQuery:
    """pgmpy variable elimination, the VE object built once."""

    def __init__(self, net: Network, model: Any | None = None) -> None:
        self.ve = VariableElimination(net.pgmpy_model if model is None else model)
        self.states = net.states(TARGET)

    def __call__(self, ev: Evidence) -> Any:
        return self.ve.query([TARGET], evidence=ev, show_progress=False)

    def in_our_order(self, ev: Evidence) -> np.ndarray:
        """The posterior with states in the network's order."""
        factor = self(ev)
        by_name = dict(zip(factor.state_names[TARGET], np.asarray(factor.values), strict=True))
        return np.array([by_name[s] for s in self.states], dtype=float)


def verify(net: Network, cases: Sequence[Evidence], pg: PgmpyQuery, ag: PyAgrumQuery) -> float:
    """Largest absolute difference to our engine; raises if any exceeds TOLERANCE."""
    states = net.states(TARGET)
    worst = 0.0
    for ev in cases:
        ours = net.engine.posterior(net.encode(ev))
        full = net.posterior(ev).reindex(list(states)).to_numpy()
        others = {
            "net.posterior": full,
            "pgmpy": pg.in_our_order(ev),
            "pyAgrum": ag.in_our_order(ev),
        }
        for label, other in others.items():
            diff = float(np.max(np.abs(other - ours)))
            if not diff <= TOLERANCE:
                raise RuntimeError(
                    f"{label} disagrees with the compiled engine by {diff:.3g} "
                    f"(> {TOLERANCE:g}) on evidence {ev}"
                )
            worst = max(worst, diff)
    return worst


# ----------------------------------------------------------------- 1. latency
def bench_latency(net: Network, results: Results, rng: np.random.Generator) -> None:
    """Median single-query latency of the four ways to get a posterior."""
    cases, skipped = random_evidence(net, N_OURS, rng)
    reference_cases = cases[:N_REFERENCE]
    pg = PgmpyQuery(net)
    ag = PyAgrumQuery(net)
    worst = verify(net, cases[:N_VERIFY], pg, ag)
    print(
        f"verified: pgmpy, pyAgrum and net.posterior agree with the engine on {N_VERIFY} "
        f"cases (max |diff| = {worst:.2g} <= {TOLERANCE:g})"
    )

    engine = net.engine

    def core(ev: Evidence) -> object:
        return engine.posterior(net.encode(ev))

    def full(ev: Evidence) -> object:
        return net.posterior(ev)

    for fn in (core, full, pg, ag):  # warm-up (imports, caches, first-call costs)
        for ev in cases[:10]:
            fn(ev)
    gc.collect()
    results["latency"] = {
        "n_ours": len(cases),
        "skipped": skipped,
        "n_reference": len(reference_cases),
        "verify_cases": N_VERIFY,
        "verify_max_diff": worst,
        "core_us": median_us(core, cases),
        "full_us": median_us(full, cases),
        "pgmpy_us": median_us(pg, reference_cases),
        "pyagrum_us": median_us(ag, reference_cases),
        # our two figures on exactly the cases the references were timed on
        "core_us_same": median_us(core, reference_cases),
        "full_us_same": median_us(full, reference_cases),
    }


# ----------------------------------------------------------------- 2-3. batch
def bench_batch(net: Network, results: Results, rng: np.random.Generator) -> None:
    """Throughput and memory of ``posterior_batch`` on 100,000 sampled cases."""
    t0 = time.perf_counter()
    df, codes = batch_cases(net, N_BATCH, rng)
    generated_s = time.perf_counter() - t0

    # The DataFrame path and the engine path must give the same answer, and a few
    # rows must match single queries.
    via_df = net.posterior_batch(df).to_numpy()
    via_codes = net.engine.posterior_batch(codes)
    if not np.allclose(via_df, via_codes, rtol=0, atol=TOLERANCE):
        raise RuntimeError("posterior_batch(DataFrame) and engine.posterior_batch(codes) differ")
    for i in rng.choice(N_BATCH, size=20, replace=False):
        row = {str(k): v for k, v in df.iloc[int(i)].items() if v is not None}
        single = net.engine.posterior(net.encode(row))
        if not np.allclose(single, via_df[int(i)], rtol=0, atol=TOLERANCE):
            raise RuntimeError(f"batch row {i} differs from the single query")
    del via_df, via_codes

    gc.collect()
    df_s, _ = repeat_seconds(
        lambda: net.posterior_batch(df), min_runs=BATCH_RUNS, max_runs=BATCH_RUNS, budget_s=0
    )
    codes_s, _ = repeat_seconds(
        lambda: net.engine.posterior_batch(codes),
        min_runs=BATCH_RUNS,
        max_runs=BATCH_RUNS,
        budget_s=0,
    )

    gc.collect()
    tracemalloc.start()
    net.posterior_batch(df)
    _, df_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    gc.collect()
    tracemalloc.start()
    net.engine.posterior_batch(codes)
    _, codes_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    results["batch"] = {
        "n": N_BATCH,
        "runs": BATCH_RUNS,
        "generate_s": generated_s,
        "df_s": df_s,
        "codes_s": codes_s,
        "df_peak_bytes": df_peak,
        "codes_peak_bytes": codes_peak,
        "df_input_bytes": int(df.memory_usage(deep=True).sum()),
        "codes_input_bytes": int(codes.nbytes),
        "maxrss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


# ----------------------------------------------------------------- 4. hooks
def example_evidence(net: Network) -> Evidence:
    """A fixed, possible 8-finding case (first ancestral sample with a fixed seed)."""
    rng = np.random.default_rng(SEED + 1)
    sample = ancestral_sample(net, 1, rng)
    picked = rng.choice(len(net.findings), size=N_FINDINGS, replace=False)
    return {
        net.findings[i]: net.states(net.findings[i])[int(sample[net.findings[i]][0])]
        for i in sorted(picked)
    }


def _optional(module: str, function: str) -> Callable[..., Any] | None:
    """``module.function`` if both exist, else None."""
    try:
        return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]
    except (ImportError, AttributeError):
        return None


def perturb(values: np.ndarray, index: tuple[int, ...], h: float) -> None:
    """Move one probability by ``h`` and rescale the other states of its column
    proportionally (pgmpy TabularCPD layout: axis 0 is the node's state)."""
    column: tuple[Any, ...] = (slice(None), *index[1:])
    col = values[column]
    p = float(col[index[0]])
    new = min(max(p + h, 0.0), 1.0)
    rest = 1.0 - p
    scale = (1.0 - new) / rest if rest > 0 else 0.0
    others = np.arange(col.shape[0]) != index[0]
    col[others] = col[others] * scale if rest > 0 else (1.0 - new) / others.sum()
    col[index[0]] = new
    values[column] = col


def bench_sensitivity(net: Network, results: Results) -> None:
    """Time ``softcalc_bayes.sensitivity.sensitivity(net, evidence)`` against naive
    one-query-per-parameter re-querying with pgmpy. No-op until the module exists."""
    fn = _optional("softcalc_bayes.sensitivity", "sensitivity")
    if fn is None:
        results["sensitivity"] = None
        return
    evidence = example_evidence(net)
    try:
        ours_s, runs = repeat_seconds(
            lambda: fn(net, evidence), min_runs=3, max_runs=20, budget_s=30
        )
        params = net.parameters()
        model = net.pgmpy_model.copy()  # perturb a copy, never the network's own model
        pg = PgmpyQuery(net, model)
        rng = np.random.default_rng(SEED + 2)
        picked = rng.choice(len(params), size=min(N_SENSITIVITY_PARAMS, len(params)), replace=False)
        base = pg.in_our_order(evidence)
        per_param: list[float] = []
        changed = 0
        for r in picked:
            row = params.iloc[int(r)]
            t0 = time.perf_counter_ns()
            cpd = model.get_cpds(row["node"])
            index = (
                cpd.get_state_no(row["node"], row["state"]),
                *(cpd.get_state_no(p, row["parents"][p]) for p in cpd.variables[1:]),
            )
            saved = cpd.values.copy()
            perturb(cpd.values, index, 1e-3)
            post = pg.in_our_order(evidence)
            cpd.values = saved
            per_param.append((time.perf_counter_ns() - t0) / 1e9)
            changed += bool(np.max(np.abs(post - base)) > 0)
        naive_s = float(np.mean(per_param)) * len(params)
        results["sensitivity"] = {
            "evidence": evidence,
            "ours_s": ours_s,
            "runs": runs,
            "n_params": len(params),
            "sampled": len(picked),
            "sampled_changed": changed,
            "naive_per_param_s": float(np.mean(per_param)),
            "naive_s": naive_s,
        }
    except Exception as exc:
        traceback.print_exc()
        results["sensitivity"] = {"error": f"{type(exc).__name__}: {exc}"}


HARD_UNCERTAINTY_CASE = {
    "age_group": "adult_40_59",
    "chronic_kidney_disease": "no",
    "compartment": "intramuscular",
    "evolution": "stable",
    "mineralization_pattern": "cloudlike_osteoid",
    "radiation_at_site": "no",
    "relation_to_bone": "attached_to_surface",
    "serum_calcium": "normal",
}
"""A fixed case that sums over every site and latent form: the compartment is observed
without its site (the benchmark's sampled case of 2026-12-07 before pass 21, 1.8-2.4 s then)."""


def bench_uncertainty(net: Network, results: Results) -> None:
    """Time ``softcalc_bayes.uncertainty.posterior_uncertainty(net, evidence,
    n_samples=10000, seed=0)`` on the sampled case and on :data:`HARD_UNCERTAINTY_CASE`,
    with the default threads and with ``n_jobs=1``. No-op until the module exists."""
    fn = _optional("softcalc_bayes.uncertainty", "posterior_uncertainty")
    if fn is None:
        results["uncertainty"] = None
        return
    cases = {"sampled": example_evidence(net)}
    if set(HARD_UNCERTAINTY_CASE) <= set(net.findings):
        cases["hard"] = dict(HARD_UNCERTAINTY_CASE)
    try:
        out: dict[str, Any] = {}
        for name, evidence in cases.items():
            for jobs in (None, 1):
                seconds, runs = repeat_seconds(
                    lambda ev=evidence, j=jobs: fn(net, ev, n_samples=10_000, seed=0, n_jobs=j),
                    min_runs=3,
                    max_runs=20,
                    budget_s=30,
                )
                key = name if jobs is None else f"{name}_serial"
                out[key] = {"evidence": evidence, "s": seconds, "runs": runs}
        results["uncertainty"] = {**out["sampled"], "cases": out}
    except Exception as exc:
        traceback.print_exc()
        results["uncertainty"] = {"error": f"{type(exc).__name__}: {exc}"}


# ----------------------------------------------------------------- report
def render(net: Network, machine: Mapping[str, str], results: Results) -> str:
    """RESULTS.md."""
    lat, bat = results["latency"], results["batch"]
    core, full = lat["core_us_same"], lat["full_us_same"]
    pg, ag = lat["pgmpy_us"], lat["pyagrum_us"]
    peak = max(bat["df_peak_bytes"], bat["maxrss_bytes"])
    per_case_us = bat["df_s"] / bat["n"] * 1e6
    lines = [
        "# Benchmark results",
        "",
        "Generated by `benchmarks/run.py` (`make bench`); do not edit by hand, re-run instead.",
        "",
        f"- Date: {results['date']}",
        f"- Wall time of the whole benchmark: {results['wall_s']:.0f} s",
        f"- Network: `{net.spec.name}` (profile `{net.profile}`), {len(net.nodes)} nodes "
        f"({len(net.findings)} findings, {len(net.latent)} latent), "
        f"{len(net.states(TARGET))} diagnoses, {results['n_parameters']} parameters",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in machine.items()),
        "",
        "## Summary against the targets",
        "",
        "| Target | Measured | |",
        "|---|---|---|",
        f"| Single query >= {TARGET_PGMPY_SPEEDUP:g}x faster than pgmpy VE | "
        f"{pg / core:.2f}x (engine core), {pg / full:.2f}x (full `net.posterior`) | "
        f"core {verdict(pg / core >= TARGET_PGMPY_SPEEDUP)}, "
        f"full {verdict(pg / full >= TARGET_PGMPY_SPEEDUP)} |",
        f"| Single query >= {TARGET_PYAGRUM_SPEEDUP:g}x faster than pyAgrum LazyPropagation | "
        f"{ag / core:.2f}x (engine core), {ag / full:.2f}x (full `net.posterior`) | "
        f"core {verdict(ag / core >= TARGET_PYAGRUM_SPEEDUP)}, "
        f"full {verdict(ag / full >= TARGET_PYAGRUM_SPEEDUP)} |",
        f"| 100,000-case batch <= {TARGET_BATCH_SECONDS:g} s | {bat['df_s']:.3f} s "
        f"(`net.posterior_batch(DataFrame)`), {bat['codes_s']:.3f} s (engine on codes) | "
        f"DataFrame {verdict(bat['df_s'] <= TARGET_BATCH_SECONDS)}, "
        f"engine {verdict(bat['codes_s'] <= TARGET_BATCH_SECONDS)} |",
        f"| Batch memory < 1 GB | {fmt_bytes(bat['df_peak_bytes'])} traced peak, "
        f"{fmt_bytes(bat['maxrss_bytes'])} process max RSS | "
        f"{verdict(peak < TARGET_MEMORY_BYTES)} |",
        "",
        "## 1. Single-query latency",
        "",
        f"Posterior of `{TARGET}` given exactly {N_FINDINGS} findings, names and states drawn "
        f"uniformly at random ({lat['skipped']} sets of probability zero skipped). Medians of "
        "wall time (`time.perf_counter_ns`), one query per evidence set. Before timing, "
        "pgmpy, pyAgrum and `net.posterior` were checked to agree with the engine on "
        f"{lat['verify_cases']} cases: max |difference| = {lat['verify_max_diff']:.2g} "
        f"(tolerance {TOLERANCE:g}).",
        "",
        "| Method | What is timed | Queries | Median (µs) |",
        "|---|---|---:|---:|",
        f"| (a) engine core | `net.engine.posterior(net.encode(ev))` | {lat['n_ours']} | "
        f"{lat['core_us']:.1f} |",
        f"| (b) full user call | `net.posterior(ev)` (validation, sorted `pd.Series`) | "
        f"{lat['n_ours']} | {lat['full_us']:.1f} |",
        f"| pgmpy {pgmpy.__version__} | `VariableElimination.query(['{TARGET}'], evidence=ev)` "
        f"(VE object built once) | {lat['n_reference']} | {pg:.1f} |",
        f"| pyAgrum {GUM_VERSION} | `LazyPropagation`, `{TARGET}` sole target: "
        f"`setEvidence`, `makeInference`, `posterior(...).toarray()` | {lat['n_reference']} | "
        f"{ag:.1f} |",
        "",
        f"Ratios (reference time / our time), ours re-measured on the same {lat['n_reference']} "
        f"evidence sets as the references (core {core:.1f} µs, full {full:.1f} µs):",
        "",
        "| | vs (a) engine core | vs (b) full `net.posterior` | Target |",
        "|---|---:|---:|---:|",
        f"| pgmpy / ours | {pg / core:.2f}x | {pg / full:.2f}x | >= {TARGET_PGMPY_SPEEDUP:g}x |",
        f"| pyAgrum / ours | {ag / core:.2f}x | {ag / full:.2f}x | "
        f">= {TARGET_PYAGRUM_SPEEDUP:g}x |",
        "",
        "## 2. Batch throughput",
        "",
        f"{bat['n']:,} cases drawn by ancestral sampling from the network (so every case has "
        f"nonzero probability), {N_FINDINGS} random findings observed per case. Median of "
        f"{bat['runs']} runs after one warm-up. The DataFrame result was checked equal to the "
        "engine-on-codes result and to single queries on 20 random rows.",
        "",
        "| What is timed | Input | Seconds | µs per case |",
        "|---|---|---:|---:|",
        f"| `net.posterior_batch(df)` (threads on every core, the default) | DataFrame of labels, None = unobserved | "
        f"{bat['df_s']:.3f} | {per_case_us:.2f} |",
        f"| `net.engine.posterior_batch(codes)` | precomputed int64 code matrix | "
        f"{bat['codes_s']:.3f} | {bat['codes_s'] / bat['n'] * 1e6:.2f} |",
        f"| difference: DataFrame validation and encoding | | "
        f"{bat['df_s'] - bat['codes_s']:.3f} | "
        f"{(bat['df_s'] - bat['codes_s']) / bat['n'] * 1e6:.2f} |",
        "",
        f"Target: <= {TARGET_BATCH_SECONDS:g} s for the batch.",
        "",
        "## 3. Memory",
        "",
        "| Measure | Value |",
        "|---|---:|",
        f"| tracemalloc peak during `net.posterior_batch(df)` | "
        f"{fmt_bytes(bat['df_peak_bytes'])} |",
        f"| tracemalloc peak during `net.engine.posterior_batch(codes)` | "
        f"{fmt_bytes(bat['codes_peak_bytes'])} |",
        f"| input DataFrame (deep) / code matrix | {fmt_bytes(bat['df_input_bytes'])} / "
        f"{fmt_bytes(bat['codes_input_bytes'])} |",
        f"| process max RSS after the batch (`ru_maxrss`, includes pgmpy, pyAgrum, inputs) | "
        f"{fmt_bytes(bat['maxrss_bytes'])} |",
        f"| process max RSS at the end of the run | {fmt_bytes(results['maxrss_end_bytes'])} |",
        "",
        "Target: < 1 GB.",
        "",
        "## 4. Sensitivity and uncertainty analyses",
        "",
        "### Sensitivity: `softcalc_bayes.sensitivity.sensitivity(net, evidence)`",
        "",
        *render_sensitivity(results.get("sensitivity")),
        "",
        "### Uncertainty: `softcalc_bayes.uncertainty.posterior_uncertainty(net, evidence, "
        "n_samples=10000, seed=0)`",
        "",
        *render_uncertainty(results.get("uncertainty")),
        "",
    ]
    return "\n".join(lines)


def render_sensitivity(res: Mapping[str, Any] | None) -> list[str]:
    """Lines of the sensitivity subsection."""
    if res is None:
        return ["Not measured: `softcalc_bayes.sensitivity.sensitivity` is not available yet."]
    if "error" in res:
        return [f"Failed: `{res['error']}` (traceback printed to stderr)."]
    return [
        f"Evidence: `{res['evidence']}`.",
        "",
        "| What | Seconds |",
        "|---|---:|",
        f"| `sensitivity(net, evidence)`, median of {res['runs']} | {res['ours_s']:.4f} |",
        f"| naive pgmpy: perturb one CPD entry, query, restore (mean of {res['sampled']} "
        f"sampled parameters) | {res['naive_per_param_s']:.5f} per parameter |",
        f"| naive pgmpy extrapolated to all {res['n_params']} parameters | {res['naive_s']:.2f} |",
        "",
        f"Ratio naive / ours: **{res['naive_s'] / res['ours_s']:.0f}x** "
        f"({res['sampled_changed']} of {res['sampled']} sampled perturbations moved the "
        "posterior). The naive figure is a lower bound: one perturbed query per parameter "
        "gives one point of each sensitivity function, while `sensitivity` returns the whole "
        "function (a x + b) / (c x + d) for every parameter, which naively takes at least two "
        "more queries each.",
    ]


def render_uncertainty(res: Mapping[str, Any] | None) -> list[str]:
    """Lines of the uncertainty subsection."""
    if res is None:
        return [
            "Not measured: `softcalc_bayes.uncertainty.posterior_uncertainty` is not available yet."
        ]
    if "error" in res:
        return [f"Failed: `{res['error']}` (traceback printed to stderr)."]
    cases = res.get("cases", {"sampled": res})
    titles = {
        "sampled": "Sampled case (drawn by sampling the network, seed 0)",
        "hard": "Fixed hard case (a compartment without its site: sums over every site "
        "and latent form)",
    }
    lines: list[str] = []
    for name, title in titles.items():
        if name not in cases:
            continue
        got = cases[name]
        serial = cases.get(f"{name}_serial")
        lines += [
            f"{title}. Evidence: `{got['evidence']}`.",
            "",
            f"Median of {got['runs']} runs: **{got['s']:.3f} s** with the default threads "
            f"(target <= {TARGET_UNCERTAINTY_SECONDS:g} s: "
            f"{verdict(got['s'] <= TARGET_UNCERTAINTY_SECONDS)})"
            + (f"; with `n_jobs=1`: {serial['s']:.3f} s." if serial else "."),
            "",
        ]
    return lines[:-1]


def summary(results: Results) -> str:
    """A few lines for stdout."""
    lat, bat = results["latency"], results["batch"]
    core, full = lat["core_us_same"], lat["full_us_same"]
    pg, ag = lat["pgmpy_us"], lat["pyagrum_us"]
    out = [
        f"single query (median µs): core {lat['core_us']:.1f}, full {lat['full_us']:.1f}, "
        f"pgmpy {pg:.1f}, pyAgrum {ag:.1f}",
        f"  pgmpy/ours   {pg / core:6.2f}x core, {pg / full:6.2f}x full "
        f"(target >= {TARGET_PGMPY_SPEEDUP:g}x)",
        f"  pyAgrum/ours {ag / core:6.2f}x core, {ag / full:6.2f}x full "
        f"(target >= {TARGET_PYAGRUM_SPEEDUP:g}x)",
        f"batch of {bat['n']:,}: DataFrame {bat['df_s']:.3f} s "
        f"({bat['df_s'] / bat['n'] * 1e6:.2f} µs/case), engine on codes {bat['codes_s']:.3f} s "
        f"(target <= {TARGET_BATCH_SECONDS:g} s)",
        f"memory: traced peak {fmt_bytes(bat['df_peak_bytes'])}, "
        f"max RSS {fmt_bytes(results['maxrss_end_bytes'])} (target < 1 GB)",
    ]
    sens, unc = results.get("sensitivity"), results.get("uncertainty")
    if sens is None:
        out.append("sensitivity: not available yet")
    elif "error" in sens:
        out.append(f"sensitivity: failed ({sens['error']})")
    else:
        out.append(
            f"sensitivity: {sens['ours_s']:.4f} s vs naive pgmpy {sens['naive_s']:.2f} s "
            f"({sens['naive_s'] / sens['ours_s']:.0f}x)"
        )
    if unc is None:
        out.append("uncertainty: not available yet")
    elif "error" in unc:
        out.append(f"uncertainty: failed ({unc['error']})")
    else:
        for name, got in unc.get("cases", {"sampled": unc}).items():
            out.append(
                f"uncertainty ({name}): {got['s']:.3f} s "
                f"(target <= {TARGET_UNCERTAINTY_SECONDS:g} s)"
            )
    return "\n".join(out)


def main() -> int:
    """Run every benchmark and write RESULTS.md."""
    start = time.perf_counter()
    now = dt.datetime.now(dt.UTC).astimezone()
    results: Results = {"date": now.isoformat(timespec="seconds")}
    machine = machine_info()
    print(f"softcalc-bayes benchmark on {machine['CPU']} ({machine['Cores']}, {machine['RAM']})")
    net = sb.load_network()
    net.engine  # noqa: B018 - compile outside every timing
    results["n_parameters"] = len(net.parameters())
    rng = np.random.default_rng(SEED)

    print("1. single-query latency ...", flush=True)
    bench_latency(net, results, rng)
    print("2-3. batch throughput and memory ...", flush=True)
    bench_batch(net, results, rng)
    print("4. sensitivity and uncertainty hooks ...", flush=True)
    bench_sensitivity(net, results)
    bench_uncertainty(net, results)

    results["maxrss_end_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    results["wall_s"] = time.perf_counter() - start
    RESULTS_PATH.write_text(render(net, machine, results), encoding="utf-8")
    print()
    print(summary(results))
    print(f"\nwrote {RESULTS_PATH.relative_to(HERE.parent)} in {results['wall_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
