"""Observed scores against the scores the network forecasts for itself, by case thickness.

``evaluate`` reports, next to each observed score, the score the network would expect
if every case's true diagnosis were drawn from its own posterior
(``EvaluationReport.expected``). This script prints that comparison for one or more
case sets, overall and by the number of findings a case gives, and the top-3 accuracy
a target would need from the cases above four findings.

    python docs/expected_scores.py                                   # the three case sets
    python docs/expected_scores.py networks/cases --profile neutral  # any sets, any profile

Deterministic (no sampling).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

import softcalc_bayes as sb

BANDS = ((1, 4, "1-4 findings"), (5, 7, "5-7 findings"), (8, 99, "8+ findings"))
DEFAULT_SETS = (Path("networks/cases"), Path("networks/holdout"), Path("networks/holdout2"))


def by_band(per_case: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for low, high, label in ((1, 99, "all"), *BANDS):
        mine = per_case[per_case["n_findings"].between(low, high)]
        if len(mine):
            rows.append(
                {
                    "cases": label,
                    "n": len(mine),
                    "top1": (mine["rank"] <= 1).mean(),
                    "expected_top1": mine["expected_top1"].mean(),
                    "top3": (mine["rank"] <= 3).mean(),
                    "expected_top3": mine["expected_top3"].mean(),
                }
            )
    return pd.DataFrame(rows).set_index("cases")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", type=Path, default=list(DEFAULT_SETS))
    parser.add_argument("--profile", default=None, help="prior profile (default: neutral)")
    parser.add_argument("--target", type=float, default=0.85, help="top-3 target (0.85)")
    args = parser.parse_args(argv)
    net = sb.load_network()
    if args.profile:
        net = net.with_profile(args.profile)
    for path in args.sets:
        report = sb.evaluate(net, sb.load_cases(path))
        table = by_band(report.per_case)
        print(f"== {path} ({len(report.per_case)} cases)")
        print(report.expected.to_string(float_format=lambda x: f"{x:.3f}"))
        print(table.to_string(float_format=lambda x: f"{x:.3f}"))
        thin = report.per_case["n_findings"] <= 4
        n, n_thin = len(thin), int(thin.sum())
        if n_thin < n:
            thin_hits = float((report.per_case.loc[thin, "rank"] <= 3).sum())
            need = (args.target * n - thin_hits) / (n - n_thin)
            forecast = float(report.per_case.loc[thin, "expected_top3"].sum())
            need_forecast = (args.target * n - forecast) / (n - n_thin)
            print(
                f"top-3 {args.target:.0%} overall needs, on the {n - n_thin} cases with 5 or "
                f"more findings, {need:.1%} top-3 with the {n_thin} thinner cases as they "
                f"score, or {need_forecast:.1%} with them at the network's own forecast"
            )
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
