"""Does each finding help or hurt on a case set? Drop it from every case and re-score.

For each finding node reported in a set, every case that reports it is scored twice: with
all its findings, and with that one finding removed. The difference of the set's log loss
(without minus with) is what the node's rows earn on the set: positive when they move
probability towards the true diagnosis, negative when they move it away. The same is done
for top-1 and top-3 (the share of cases the finding puts into, or out of, the first ranks).

If the cases were drawn from the network, no node could lose on average (information never
raises the expected log loss of a correct model), so a node that costs log loss on a set of
real cases is one whose rows describe those cases worse than the network's other findings
do. The script uses the cases' diagnoses and measures a set; it was not used to choose any
number. Deterministic: exact inference, no random numbers.

    python docs/finding_ablation.py networks/cases networks/holdout5
    python docs/finding_ablation.py networks/holdout5 --min-reports 10
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import softcalc_bayes as sb

ROOT = Path(__file__).resolve().parents[1]


def _scores(net: sb.Network, cases: list[tuple[str, dict[str, str]]]) -> pd.DataFrame:
    """Per (diagnosis, findings): log loss of the diagnosis, and whether it ranks first / top 3.

    One batched query for all cases; the rank counts the diagnoses strictly more probable,
    as ``softcalc_bayes.evaluate`` does.
    """
    frame = pd.DataFrame([findings for _, findings in cases], index=range(len(cases)))
    post = net.posterior_batch(frame).to_numpy(dtype=float)
    states = net.states(net.target)
    truth = np.array([states.index(diagnosis) for diagnosis, _ in cases])
    p_true = post[np.arange(len(cases)), truth]
    rank = 1 + (post > p_true[:, None]).sum(axis=1)
    return pd.DataFrame(
        {
            "log_loss": -np.log(np.maximum(p_true, 1e-15)),
            "top1": rank == 1,
            "top3": rank <= 3,
        }
    )


def finding_ablation(net: sb.Network, cases: list[Any]) -> pd.DataFrame:
    """One line per reported finding node: what dropping it from every case changes.

    Columns: ``reports`` (cases that report the node), ``delta_log_loss`` (the set's mean
    log loss without the node minus with it; positive means the node helps),
    ``delta_log_loss_reporting`` (the same, per case that reports the node),
    ``delta_top1`` and ``delta_top3`` (share of the set's cases ranked first / in the top 3
    with the node minus without it; positive means the node helps).
    """
    full = _scores(net, [(case.diagnosis, dict(case.findings)) for case in cases])
    nodes = sorted({f for case in cases for f in case.findings})
    lines = []
    for node in nodes:
        idx = [i for i, case in enumerate(cases) if node in case.findings]
        dropped = [
            (cases[i].diagnosis, {k: v for k, v in cases[i].findings.items() if k != node})
            for i in idx
        ]
        without = _scores(net, dropped)
        with_ = full.iloc[idx].reset_index(drop=True)
        diff = without["log_loss"] - with_["log_loss"]
        lines.append(
            {
                "node": node,
                "reports": len(idx),
                "delta_log_loss": float(diff.sum()) / len(cases),
                "delta_log_loss_reporting": float(diff.mean()),
                "delta_top1": float(with_["top1"].sum() - without["top1"].sum()) / len(cases),
                "delta_top3": float(with_["top3"].sum() - without["top3"].sum()) / len(cases),
            }
        )
    return pd.DataFrame(lines).set_index("node").sort_values("delta_log_loss")


def main(argv: list[str] | None = None) -> int:
    """Print the ablation table for each case set; return the exit status."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("cases", nargs="+", help="case files or folders")
    parser.add_argument("--network", default=str(ROOT / "networks" / "default"))
    parser.add_argument(
        "--min-reports", type=int, default=1, help="show nodes reported by at least N cases"
    )
    args = parser.parse_args(argv)
    net = sb.load_network(args.network)
    for folder in args.cases:
        cases = list(sb.load_cases(folder))
        table = finding_ablation(net, cases)
        table = table[table["reports"] >= args.min_reports]
        print(f"{folder} ({len(cases)} cases; positive = the finding helps)")
        with pd.option_context("display.width", 200, "display.max_rows", 200):
            print(table.to_string(float_format=lambda x: f"{x:+.3f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
