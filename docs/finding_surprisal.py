"""Are published cases more atypical than the network's patients? A per-finding test.

If a set of cases were drawn from the network itself, each reported finding ``F = s`` of a
case with diagnosis ``d`` would carry a surprisal ``-log P(F = s | d)`` whose expected value
is the entropy ``H(F | d)`` and whose variance is ``sum_s p log^2 p - H^2``. Summed over
every reported finding of a set, the excess of observed over expected surprisal, divided
by its standard deviation, is a z-score: near 0 when the cases look like the network's
patients; large and positive when they report findings that the network (and, where its
numbers agree with counted series, the literature) calls rare for their diagnosis.

The probabilities are single-finding marginals given the diagnosis (latent nodes and
other parents summed out), the same for the observed and the expected term, so the test
measures how typical each finding is, not how findings combine. It uses the cases'
diagnoses and measures a set; it was not used to choose any number.

    python docs/finding_surprisal.py networks/cases networks/holdout4
    python docs/finding_surprisal.py networks/cases --by-node
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import softcalc_bayes as sb

ROOT = Path(__file__).resolve().parents[1]


def finding_surprisal(net: sb.Network, cases: list[sb.Case]) -> pd.DataFrame:
    """One line per reported finding: observed surprisal, its expectation and variance."""
    target = net.spec.target
    given: dict[str, dict[str, pd.Series]] = {}
    lines = []
    for case in cases:
        if case.diagnosis not in given:
            given[case.diagnosis] = net.marginals({target: case.diagnosis})
        marginals = given[case.diagnosis]
        for finding, state in case.findings.items():
            p = marginals[finding].to_numpy(dtype=float)
            p = p[p > 0]
            entropy = float(-(p * np.log(p)).sum())
            second = float((p * np.log(p) ** 2).sum())
            lines.append(
                {
                    "case": case.id,
                    "diagnosis": case.diagnosis,
                    "node": finding,
                    "state": state,
                    "surprisal": -math.log(float(marginals[finding][state])),
                    "expected": entropy,
                    "variance": second - entropy**2,
                }
            )
    return pd.DataFrame(lines)


def summarise(table: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Observed and expected surprisal, their difference per finding, and the z-score."""
    groups = table.groupby(by, sort=False) if by else [("all", table)]
    rows = []
    for key, g in groups:
        excess = float(g["surprisal"].sum() - g["expected"].sum())
        sd = math.sqrt(float(g["variance"].sum()))
        rows.append(
            {
                "group": key,
                "findings": len(g),
                "observed": float(g["surprisal"].mean()),
                "expected": float(g["expected"].mean()),
                "excess_per_finding": excess / len(g),
                "z": excess / sd if sd > 0 else float("nan"),
            }
        )
    return pd.DataFrame(rows).set_index("group")


def main(argv: list[str] | None = None) -> int:
    """Print the test for each case set; return the exit status."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("cases", nargs="+", help="case files or folders")
    parser.add_argument("--network", default=str(ROOT / "networks" / "default"))
    parser.add_argument("--by-node", action="store_true", help="also split by finding")
    args = parser.parse_args(argv)
    net = sb.load_network(args.network)
    for folder in args.cases:
        table = finding_surprisal(net, list(sb.load_cases(folder)))
        print(f"{folder} (nats per finding)")
        shown = summarise(table)
        if args.by_node:
            by_node = summarise(table, "node").sort_values("findings", ascending=False)
            shown = pd.concat([shown, by_node])
        with pd.option_context("display.width", 200, "display.max_rows", 200):
            print(shown.to_string(float_format=lambda x: f"{x:.2f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
