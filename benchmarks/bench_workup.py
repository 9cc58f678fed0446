"""Timings of explain() and next_best_test() on the packaged default network.

Run with ``make bench`` or ``.venv/bin/python benchmarks/bench_workup.py`` (writes the
``workup`` section of ``benchmarks/RESULTS.md``). Budgets (issue 10):

- ``next_best_test`` over every unobserved finding of a 3-finding case: at most 20 ms;
- exact Shapley values (``explain``) for 12 findings: at most 1 s.

The case is the library's seed case ``seed000_alt_shoulder`` (source
``000_0d5cd09612c91bfd.txt``): its age, sex and site for the 3-finding case, and its
first 12 findings for the Shapley timing. Figures are medians after one warm-up call.
"""

from __future__ import annotations

import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import softcalc_bayes as sb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sections import write_section

BUDGET_NEXT_TEST_MS = 20.0
BUDGET_SHAPLEY_S = 1.0


def median_seconds(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median wall-clock and process CPU seconds (CPU is a check on a busy machine)."""
    fn()  # warm-up (compiles the engine, fills caches)
    times, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(times), statistics.median(cpu)


def main() -> int:
    net = sb.load_network()
    case = next(c for c in sb.load_cases() if c.id == "seed000_alt_shoulder")
    findings = dict(case.findings)
    start = {k: findings[k] for k in ("age_group", "sex", "anatomic_site")}
    twelve = dict(list(findings.items())[:12])
    costs = sb.load_test_costs(net=net)
    n_unobserved = len([f for f in net.findings if f not in start])

    rows = [
        (
            f"next_best_test, 3 findings, {n_unobserved} candidates",
            median_seconds(lambda: sb.next_best_test(net, start), 21),
            "ms",
            BUDGET_NEXT_TEST_MS,
        ),
        (
            "next_best_test with costs",
            median_seconds(lambda: sb.next_best_test(net, start, costs=costs), 21),
            "ms",
            None,
        ),
        (
            "next_best_test, two-step look-ahead (5 candidates)",
            median_seconds(lambda: sb.next_best_test(net, start, lookahead=2), 3),
            "ms",
            None,
        ),
        (
            "explain, exact Shapley, 12 findings (4096 subsets)",
            median_seconds(lambda: sb.explain(net, twelve), 5),
            "s",
            BUDGET_SHAPLEY_S,
        ),
        (
            "explain, exact Shapley, 13 findings (8192 subsets)",
            median_seconds(lambda: sb.explain(net, findings), 3),
            "s",
            None,
        ),
        (
            "explain, Monte Carlo Shapley, 13 findings, 2000 permutations",
            median_seconds(lambda: sb.explain(net, findings, exact_max=0), 3),
            "s",
            None,
        ),
    ]
    lines = [
        "## Explanations and value of information (`benchmarks/bench_workup.py`)",
        "",
        f"Seed case 000 (`seed000_alt_shoulder`): the 3-finding start is age, sex and site; "
        f"medians of repeated calls after a warm-up. {time.strftime('%Y-%m-%d')}, Python "
        f"{platform.python_version()}, {platform.machine()}.",
        "",
        "| operation | median wall | median CPU | budget | verdict |",
        "|---|---|---|---|---|",
    ]
    ok = True
    for name, (wall, cpu), unit, budget in rows:
        scale = 1e3 if unit == "ms" else 1.0
        shown = f"| {name} | {wall * scale:.3g} {unit} | {cpu * scale:.3g} {unit} |"
        if budget is None:
            lines.append(f"{shown} - | - |")
            continue
        passed = wall * scale <= budget
        ok &= passed
        lines.append(f"{shown} <= {budget:g} {unit} | {'OK' if passed else 'OVER'} |")
    write_section("workup", "\n".join(lines))
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
