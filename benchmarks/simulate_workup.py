"""Does value-of-information test ordering help? A simulation and a case-library check.

Run with ``.venv/bin/python benchmarks/simulate_workup.py [--n 200] [--seed 0]``.

1. Simulated cases: ``--n`` complete cases are drawn from the packaged network (exact
   ancestral sampling, ``softcalc_bayes.sample_cases``, seed ``--seed``; the network's
   default prior profile). Each work-up starts from the case's age, sex and site and
   reveals the case's findings test by test (a test reveals all its findings; costs from
   ``networks/default/test_costs.yaml``) until the top diagnosis reaches ``--stop-at``
   or no test is left. Orders compared: value of information by gain per cost, value of
   information by information gain alone, a random order of the tests (seeded per case),
   and a fixed clinical order (history, imaging, labs, biopsy, genetics; file order
   within a category).
2. Case library (``softcalc_bayes.load_cases()``): from each case's age, sex and site,
   the finding the network would ask for next and whether the source reported it (or
   any finding of the same test); after all of a case's findings, the test asked next;
   and the work-up restricted to the findings each source reported.

Prints markdown tables (copied into ``docs/explain.md``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

import softcalc_bayes as sb

START = ("age_group", "sex", "anatomic_site")
STRATEGIES: dict[str, dict[str, Any]] = {
    "VOI (gain per cost)": {"strategy": "voi", "criterion": "gain_per_cost"},
    "VOI (information gain)": {"strategy": "voi", "criterion": "information_gain"},
    "random order": {"strategy": "random"},
    "clinical order": {"strategy": "clinical"},
}


def run(
    net: sb.Network,
    costs: sb.WorkupCosts,
    start: dict[str, str],
    truth: dict[str, str],
    diagnosis: str,
    stop_at: float,
    seed: int,
    options: dict[str, Any],
) -> dict[str, Any]:
    steps = sb.sequential_workup(
        net, start, truth=truth, stop_at=stop_at, costs=costs, seed=seed, **options
    )
    last = steps.iloc[-1]
    return {
        "tests": len(steps) - 1,
        "cost": float(last["total_cost"]),
        "correct": last["top"] == diagnosis,
        "reached": float(last["p_top"]) >= stop_at,
    }


def summarise(records: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records)
    table = frame.groupby("strategy", sort=False).agg(
        mean_tests=("tests", "mean"),
        mean_cost=("cost", "mean"),
        accuracy_at_stop=("correct", "mean"),
        reached_stop=("reached", "mean"),
    )
    reached = frame[frame["reached"]].groupby("strategy", sort=False)
    table["mean_cost_if_reached"] = reached["cost"].mean()
    table["accuracy_if_reached"] = reached["correct"].mean()
    return table


def to_markdown(table: pd.DataFrame) -> str:
    cols = list(table.columns)
    lines = ["| " + " | ".join([table.index.name or "", *cols]) + " |"]
    lines.append("|" + "---|" * (len(cols) + 1))
    for name, row in table.iterrows():
        cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join([str(name), *cells]) + " |")
    return "\n".join(lines)


def simulate(
    net: sb.Network, costs: sb.WorkupCosts, n: int, seed: int, stop_at: float
) -> pd.DataFrame:
    cases = sb.sample_cases(net, n, seed=seed)
    records = []
    for i, row in cases.iterrows():
        truth = {f: str(row[f]) for f in net.findings}
        start = {f: truth[f] for f in START}
        for name, options in STRATEGIES.items():
            result = run(
                net, costs, start, truth, str(row[net.target]), stop_at, seed + int(i), options
            )
            records.append({"strategy": name, **result})
    return summarise(records)


def library(net: sb.Network, costs: sb.WorkupCosts, stop_at: float) -> dict[str, Any]:
    cases = sb.load_cases()
    test_of = costs.test_of
    asked, reported, reported_test, after_all = [], [], [], Counter()
    records = []
    for case in cases:
        findings = dict(case.findings)
        start = {f: findings[f] for f in START if f in findings}
        ranked = sb.next_best_test(net, start, costs=costs)
        top = str(ranked.index[0])
        asked.append(test_of[top])
        reported.append(top in findings)
        reported_test.append(any(test_of[f] == test_of[top] for f in findings if f not in start))
        if len(findings) < len(net.findings):
            after = sb.next_best_test(net, findings, costs=costs)
            after_all[str(after["test"].iloc[0])] += 1
        for name in ("VOI (gain per cost)", "clinical order"):
            result = run(net, costs, start, findings, case.diagnosis, stop_at, 0, STRATEGIES[name])
            records.append({"strategy": name, **result})
    return {
        "n": len(cases),
        "share_reported": float(np.mean(reported)),
        "share_test_reported": float(np.mean(reported_test)),
        "asked": Counter(asked).most_common(5),
        "after_all": after_all.most_common(5),
        "workup": summarise(records),
        "n_reported_findings": float(np.mean([len(c.findings) - 3 for c in cases])),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=200, help="simulated cases")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stop-at", type=float, default=0.9)
    args = parser.parse_args(argv)
    net = sb.load_network()
    costs = sb.load_test_costs(net=net)
    began = time.perf_counter()
    table = simulate(net, costs, args.n, args.seed, args.stop_at)
    table.index.name = "order"
    print(
        f"## Simulated cases: n = {args.n}, seed = {args.seed}, stop at P(top) >= "
        f"{args.stop_at}, start from age, sex and site, profile {net.profile!r}\n"
    )
    print(to_markdown(table))
    lib = library(net, costs, args.stop_at)
    lib["workup"].index.name = "order"
    print(f"\n## Case library: {lib['n']} cases\n")
    print(
        f"From age, sex and site, the finding asked next was reported by the source in "
        f"{lib['share_reported']:.1%} of cases; a finding of the same test in "
        f"{lib['share_test_reported']:.1%}."
    )
    print(f"Tests asked first: {lib['asked']}")
    print(f"Test asked after all reported findings: {lib['after_all']}")
    print("\nWork-up restricted to the findings each source reported:\n")
    print(to_markdown(lib["workup"]))
    print(f"\n(run time {time.perf_counter() - began:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
