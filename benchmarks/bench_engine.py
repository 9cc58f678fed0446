"""The general engine on real networks, side by side with pyAgrum LazyPropagation.

For each bnlearn network shipped with pgmpy (read here with pyAgrum's BIF reader, so
both engines see identical numbers): compile time and clique-table size of our
junction tree, and the median latency of all-node posteriors with 8 random findings
observed (the same 30 evidence sets for both engines, seed 0), plus the largest
difference between the two engines' posteriors. Also: one-way sensitivity of every
parameter (hepar2, pathfinder).

Run: ``python benchmarks/bench_engine.py [--quick]`` (``make bench`` runs it). Writes
``benchmarks/results_engine.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import platform
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from _sections import write_section

import softcalc_bayes
from softcalc_bayes._engine import Engine, ZeroProbabilityError
from softcalc_bayes.exceptions import EngineError

HERE = Path(__file__).resolve().parent
TIMED = ["alarm", "hepar2", "win95pts", "pathfinder", "andes", "pigs"]
COMPILE_ONLY = [
    "asia",
    "sachs",
    "child",
    "insurance",
    "water",
    "mildew",
    "hailfinder",
    "barley",
    "link",
    "munin1",
]


@dataclass(frozen=True)
class Node:
    name: str
    states: tuple[str, ...]
    parents: tuple[str, ...]
    cpt: np.ndarray


def bif_path(name: str) -> Path:
    import pgmpy

    src = Path(pgmpy.__file__).parent / "utils" / "example_models" / f"{name}.bif.gz"
    out = Path(tempfile.gettempdir()) / f"softcalc_bench_{name}.bif"
    if not out.exists():
        out.write_bytes(gzip.decompress(src.read_bytes()))
    return out


def load(name: str) -> tuple[object, list[Node]]:
    import pyagrum as gum

    bn = gum.loadBN(str(bif_path(name)))
    order = bn.topologicalOrder()
    nodes = []
    for i in order:
        pot = bn.cpt(i)
        names = list(pot.names)
        parents = tuple(reversed(names[1:]))
        var = bn.variable(i)
        table = np.asarray(pot.toarray(), dtype=float).reshape(-1, var.domainSize())
        nodes.append(Node(var.name(), tuple(var.labels()), parents, table))
    return bn, nodes


def evidence_sets(nodes: list[Node], n: int, k: int, seed: int) -> list[dict[str, int]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        picked = rng.choice(len(nodes), size=min(k, len(nodes)), replace=False)
        out.append({nodes[i].name: int(rng.integers(len(nodes[i].states))) for i in picked})
    return out


def time_ours(engine: Engine, sets: list[dict[str, int]]) -> tuple[list[float], list]:
    times, results = [], []
    for ev in sets:
        start = time.perf_counter()
        try:
            res = engine.marginals(ev)[0]
        except ZeroProbabilityError:
            res = None
        times.append(time.perf_counter() - start)
        results.append(res)
    return times, results


def time_agrum(
    bn: object, nodes: list[Node], sets: list[dict[str, int]]
) -> tuple[list[float], list]:
    import pyagrum as gum

    ie = gum.LazyPropagation(bn)
    times, results = [], []
    for ev in sets:
        start = time.perf_counter()
        ie.eraseAllEvidence()
        for name, state in ev.items():
            ie.addEvidence(name, state)
        try:
            ie.makeInference()
            res = [np.asarray(ie.posterior(n.name).toarray()) for n in nodes]
        except gum.GumException:
            res = None
        times.append(time.perf_counter() - start)
        results.append(res)
    return times, results


def bench_network(name: str, n_sets: int, timed: bool) -> dict[str, object]:
    if timed:
        bn, nodes = load(name)
    else:  # our own BIF reader (pyAgrum's rejects child.bif)
        bn, nodes = None, list(softcalc_bayes.from_bif(bif_path(name)).spec.nodes.values())
    start = time.perf_counter()
    engine = Engine(nodes, target=nodes[0].name)
    row: dict[str, object] = {"network": name, "nodes": len(nodes)}
    try:
        jt = engine.jt
    except EngineError as exc:
        row["compiled"] = False
        row["error"] = str(exc)
        return row
    row.update(
        compiled=True,
        compile_s=time.perf_counter() - start,
        cliques=jt.n_cliques,
        table_entries=jt.table_entries,
        largest_clique=jt.max_clique,
    )
    if not timed:
        return row
    sets = evidence_sets(nodes, n_sets, 8, seed=0)
    time_ours(engine, sets[:3])  # warm-up
    ours_t, ours = time_ours(engine, sets)
    time_agrum(bn, nodes, sets[:3])
    agrum_t, agrum = time_agrum(bn, nodes, sets)
    worst = 0.0
    for a, b in zip(ours, agrum, strict=True):
        if a is None or b is None:
            continue
        worst = max(worst, max(float(np.abs(x - y).max()) for x, y in zip(a, b, strict=True)))
    row.update(
        ours_ms=statistics.median(ours_t) * 1e3,
        pyagrum_ms=statistics.median(agrum_t) * 1e3,
        max_abs_diff=worst,
    )
    row["speedup_vs_pyagrum"] = float(row["pyagrum_ms"]) / float(row["ours_ms"])  # type: ignore[arg-type]
    return row


def bench_sensitivity(name: str, target: str) -> dict[str, object]:
    _, nodes = load(name)
    engine = Engine(nodes, target=target)
    candidates = evidence_sets([n for n in nodes if n.name != target], 50, 8, seed=1)
    sets = [ev for ev in candidates if math.isfinite(engine.log_evidence(ev))][:5]
    n_params = sum(n.cpt.size for n in nodes)
    engine.gradients(sets[0], clamp=target)
    times = []
    for ev in sets:
        try:
            start = time.perf_counter()
            engine.gradients(ev, clamp=target)
            times.append(time.perf_counter() - start)
        except ZeroProbabilityError:
            continue
    return {
        "network": name,
        "target": target,
        "target_states": len(next(n.states for n in nodes if n.name == target)),
        "parameters": n_params,
        "all_derivatives_ms": statistics.median(times) * 1e3,
    }


def bench_batch(n: int, seed: int = 0) -> dict[str, object]:
    """``posterior_batch`` on what users pass: a DataFrame built from a list of dicts
    (plain strings, NaN where a finding was not observed), 8 findings per case."""
    import gc
    import tracemalloc

    import pandas as pd
    from run import batch_cases

    net = softcalc_bayes.load_network()
    rng = np.random.default_rng(seed)
    columns, codes = batch_cases(net, n, rng)
    records = [
        {k: v for k, v in row.items() if v is not None} for row in columns.to_dict("records")
    ]
    frame = pd.DataFrame(records)  # what a user builds: object columns, NaN where missing
    net.posterior_batch(frame.head(1000))
    times, code_times = [], []
    for _ in range(3):
        gc.collect()
        start = time.perf_counter()
        net.posterior_batch(frame)
        times.append(time.perf_counter() - start)
        start = time.perf_counter()
        net.engine.posterior_batch(codes)
        code_times.append(time.perf_counter() - start)
    gc.collect()
    tracemalloc.start()
    out = net.posterior_batch(frame)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "cases": n,
        "dataframe_s": statistics.median(times),
        "codes_s": statistics.median(code_times),
        "peak_traced_mib": peak / 2**20,
        "result_mib": out.memory_usage(deep=True).sum() / 2**20,
        "input_mib": frame.memory_usage(deep=True).sum() / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 networks, 10 evidence sets")
    args = parser.parse_args()
    n_sets = 10 if args.quick else 30
    timed = TIMED[:3] if args.quick else TIMED
    rows = [bench_network(n, n_sets, True) for n in timed]
    rows += [bench_network(n, n_sets, False) for n in ([] if args.quick else COMPILE_ONLY)]
    sens = [bench_sensitivity("hepar2", "alcoholism"), bench_sensitivity("pathfinder", "Fault")]
    batches = [bench_batch(100_000)] + ([] if args.quick else [bench_batch(1_000_000)])
    out = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "python": platform.python_version(),
        "softcalc_bayes": softcalc_bayes.__version__,
        "networks": rows,
        "sensitivity": sens,
        "batch": batches,
    }
    (HERE / "results_engine.json").write_text(json.dumps(out, indent=2))
    lines = [
        f"## General engine on bnlearn networks ({out['date']}, {out['machine']}, "
        f"Python {out['python']})",
        "",
        "`python benchmarks/bench_engine.py`: all-node posteriors with 8 random findings "
        f"(median of {n_sets} evidence sets, seed 0; the same sets for both engines, both "
        "reading the BIF file through pyAgrum's reader), compile time, clique tables.",
        "",
        "| network | nodes | cliques | table entries | largest clique | compile | ours | "
        "pyAgrum LazyPropagation | ratio (pyAgrum / ours) | max abs diff |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if not r.get("compiled"):
            lines.append(
                f"| {r['network']} | {r['nodes']} | - | - | - | does not fit: {r['error']} | | | | |"
            )
            continue
        timing = (
            f"{r['ours_ms']:.2f} ms | {r['pyagrum_ms']:.2f} ms | {r['speedup_vs_pyagrum']:.2f}x | "
            f"{r['max_abs_diff']:.1e}"
            if "ours_ms" in r
            else "- | - | - | -"
        )
        lines.append(
            f"| {r['network']} | {r['nodes']} | {r['cliques']} | {r['table_entries']:,} | "
            f"{r['largest_clique']:,} | {float(r['compile_s']) * 1e3:.0f} ms | {timing} |"
        )
    lines.append("")
    for sres in sens:
        lines.append(
            f"- Derivatives of P(e, target = t) for every parameter and every target state "
            f"(what `sensitivity()` needs), {sres['network']} ({sres['parameters']:,} "
            f"parameters, target {sres['target']} with {sres['target_states']} states): "
            f"{sres['all_derivatives_ms']:.1f} ms (median of 5 evidence sets)."
        )
    for bres in batches:
        lines.append(
            f"- `posterior_batch` on the default network, {bres['cases']:,} cases from a list of "
            f"dicts (plain strings, NaN unobserved, 8 findings each, seed 0): "
            f"{bres['dataframe_s']:.3f} s (median of 3); pre-encoded codes {bres['codes_s']:.3f} s; "
            f"peak traced memory {bres['peak_traced_mib']:.0f} MiB (result itself "
            f"{bres['result_mib']:.0f} MiB, input {bres['input_mib']:.0f} MiB)."
        )
    text = "\n".join(lines)
    write_section("engine", text)
    print(text)


if __name__ == "__main__":
    main()
