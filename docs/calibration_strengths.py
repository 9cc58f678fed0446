"""Calibration with the documented strengths: point posteriors against predictive means.

The network answers with the posterior under its point parameters. Each parameter
also carries a strength (a Dirichlet concentration, see ``uncertainty.py``); averaging
the posterior over parameters drawn from those Dirichlets gives the predictive
posterior, which is less extreme where the strengths are small. This script measures
the expected calibration error (``softcalc_bayes.evaluate.expected_calibration_error``)
of both on a case file or folder, overall and by diagnosis group of the top call.

    python docs/calibration_strengths.py                    # the case library
    python docs/calibration_strengths.py networks/holdout   # any case file or folder

Deterministic for a given ``--samples`` and ``--seed``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import softcalc_bayes as sb
from softcalc_bayes.evaluate import expected_calibration_error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="?", type=Path, default=None, help="case file or folder")
    parser.add_argument("--samples", type=int, default=300, help="parameter draws per case")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bins", type=int, default=10)
    args = parser.parse_args(argv)
    net = sb.load_network()
    cases = sb.load_cases(args.cases)
    report = sb.evaluate(net, cases, bins=args.bins)
    point = report.posteriors
    predictive = pd.DataFrame(
        [
            sb.posterior_uncertainty(
                net, dict(c.findings), n_samples=args.samples, seed=args.seed
            ).summary["mean"]
            for c in cases
        ],
        index=point.index,
    )[point.columns]
    truth = report.per_case["diagnosis"]
    rows = []
    for name, post in (("point posterior", point), ("predictive mean", predictive)):
        values = post.to_numpy()
        top = values.argmax(axis=1)
        right = point.columns[top] == truth.to_numpy()
        rows.append(
            {
                "posterior": name,
                "top1": float(right.mean()),
                "mean_confidence": float(values.max(axis=1).mean()),
                "ece_top_label": expected_calibration_error(post, truth, bins=args.bins),
                "ece_classwise": expected_calibration_error(
                    post, truth, bins=args.bins, method="classwise"
                ),
            }
        )
        groups = pd.Series(point.columns[top], index=post.index).map(net.spec.groups)
        for group in report.calibration_by_group.index:
            mine = (groups == group).to_numpy()
            if mine.any():
                rows[-1][group] = expected_calibration_error(
                    post[mine], truth[mine], bins=args.bins
                )
    table = pd.DataFrame(rows).set_index("posterior").T
    where = args.cases or "the case library"
    print(f"{len(cases)} cases ({where}), {args.samples} parameter draws each, seed {args.seed}")
    print("top-label ECE by group of the top call below the overall rows")
    print(table.to_string(float_format=lambda x: f"{x:.3f}"))
    return 0 if np.isfinite(table.to_numpy(dtype=float)).any() else 1


if __name__ == "__main__":
    sys.exit(main())
