"""The three largest bnlearn networks against pgmpy's variable elimination.

The test suite compares all marginals with pgmpy on every bundled bnlearn network up to
pigs (``tests/test_bnlearn.py``); barley, link and munin1 are too slow there for
pgmpy, not for us. This script does the same comparison for them, outside the suite:
each network is read with :func:`softcalc_bayes.from_bif`, random evidence is drawn
(4 hard findings and 2 soft ones with likelihoods uniform in [0.2, 1], seed 7, redrawn
until it is possible), all marginals are computed once with our engine, and up to 40
random nodes without evidence are queried with ``engine="pgmpy"`` (pgmpy VE, which prunes the
network to the query's relevant part), each query with a time limit. It reports how
many nodes pgmpy answered, the largest absolute difference and the times.

Run: ``python benchmarks/bench_large_bnlearn.py [--sets N] [--limit SECONDS]`` (``make
bench`` runs it). Writes the ``large_bnlearn`` section of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import platform
import resource
import signal
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
from _sections import write_section

import softcalc_bayes as sb

NETWORKS = ["barley", "link", "munin1"]


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Timeout


def _path(name: str) -> Path:
    import pgmpy

    return Path(pgmpy.__file__).parent / "utils" / "example_models" / f"{name}.bif.gz"


def _evidence(
    net: sb.Network, rng: np.random.Generator
) -> tuple[dict[str, str], dict[str, dict[str, float]]]:
    nodes = list(net.nodes)
    for _ in range(50):
        picked = [str(n) for n in rng.choice(nodes, size=6, replace=False)]
        hard = {n: str(rng.choice(net.states(n))) for n in picked[:4]}
        soft = {
            n: dict(
                zip(net.states(n), rng.uniform(0.2, 1.0, len(net.states(n))).tolist(), strict=True)
            )
            for n in picked[4:]
        }
        if net.target in hard or net.target in soft:
            continue
        if np.isfinite(net.log_evidence(hard, soft=soft)):
            return hard, soft
    raise RuntimeError("no possible evidence drawn")


def check(name: str, n_sets: int, limit: float, per_set: int) -> dict[str, Any]:
    start = time.perf_counter()
    net = sb.from_bif(_path(name))
    read_s = time.perf_counter() - start
    start = time.perf_counter()
    net.marginals({})  # compiles the junction tree
    compile_s = time.perf_counter() - start
    rng = np.random.default_rng(7)
    ours_s: list[float] = []
    pgmpy_s: list[float] = []
    answered = timed_out = 0
    worst = 0.0
    for _ in range(n_sets):
        hard, soft = _evidence(net, rng)
        start = time.perf_counter()
        marginals = net.marginals(hard, soft=soft)
        ours_s.append(time.perf_counter() - start)
        free = [n for n in marginals if n not in soft]
        for node in rng.choice(free, size=min(per_set, len(free)), replace=False).tolist():
            signal.setitimer(signal.ITIMER_REAL, limit)
            start = time.perf_counter()
            try:
                ref = net.posterior(hard, target=node, soft=soft, engine="pgmpy")
            except _Timeout:
                timed_out += 1
                continue
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            pgmpy_s.append(time.perf_counter() - start)
            answered += 1
            diff = np.abs(marginals[node].reindex(ref.index).to_numpy() - ref.to_numpy()).max()
            worst = max(worst, float(diff))
    return {
        "network": name,
        "nodes": len(net.nodes),
        "read_s": read_s,
        "compile_s": compile_s,
        "sets": n_sets,
        "queries": answered + timed_out,
        "answered": answered,
        "timed_out": timed_out,
        "max_abs_diff": worst,
        "ours_all_marginals_s": statistics.median(ours_s),
        "pgmpy_median_query_s": statistics.median(pgmpy_s) if pgmpy_s else float("nan"),
        "pgmpy_total_s": sum(pgmpy_s),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=2, help="evidence sets per network")
    parser.add_argument("--limit", type=float, default=60.0, help="seconds per pgmpy query")
    parser.add_argument("--nodes", type=int, default=40, help="nodes queried per evidence set")
    parser.add_argument("networks", nargs="*", default=NETWORKS)
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, _alarm)
    rows = []
    for name in args.networks:
        row = check(name, args.sets, args.limit, args.nodes)
        rows.append(row)
        print(row, flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = [
        f"## The largest bnlearn networks against pgmpy ({time.strftime('%Y-%m-%d')}, "
        f"{platform.machine()}, Python {platform.python_version()})",
        "",
        f"`python benchmarks/bench_large_bnlearn.py --sets {args.sets} --nodes {args.nodes} "
        f"--limit {args.limit:g}`: read with `from_bif`; per evidence set (4 hard and 2 soft "
        "findings, seed 7) all marginals once with our engine, then "
        f"{args.nodes} random nodes without evidence (all of them in a smaller network) queried "
        f'alone with `engine="pgmpy"` (variable elimination), at most {args.limit:g} s per query.',
        "",
        "| network | nodes | read | compile | queries | pgmpy answered | timed out "
        "| max abs diff | ours, all marginals | pgmpy, median query | pgmpy, all queries |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['network']} | {r['nodes']} | {r['read_s']:.1f} s | {r['compile_s']:.2f} s "
            f"| {r['queries']} | {r['answered']} | {r['timed_out']} | {r['max_abs_diff']:.1e} "
            f"| {r['ours_all_marginals_s'] * 1e3:.0f} ms "
            f"| {r['pgmpy_median_query_s'] * 1e3:.0f} ms | {r['pgmpy_total_s']:.1f} s |"
        )
    lines += ["", f"Peak resident memory of the whole run: {peak:.0f} MiB."]
    write_section("large_bnlearn", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
