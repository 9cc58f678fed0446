"""Rank the written rows of a network by how over-confident their thin tails could make it.

Knowledge pass 7 audits the *tails*: cells where a row says a state is much rarer for its
diagnosis than for the average one (``p < q / 8``), on a judgement rather than a count. A
confident miss on a held-out case comes from such a cell: one finding that the network
calls near-impossible for the true diagnosis. ``docs/audit_priority.py`` (pass 6) weighs a
cell by ``p |log(p / q)|``, which vanishes as ``p`` goes to zero, so it never reaches
these cells. Here each tail cell weighs

    q log(q / p)

which is the extra log loss per case of the row's diagnosis if the state were in truth as
common as for the average diagnosis (``q``) instead of ``p``. It grows as ``p`` shrinks.
A row's score is the sum over its tail cells, divided by the number of non-diagnosis parent
combinations of the node (as in pass 6), times the share of case-library cases that report
the node. Cells with basis ``stated_number`` (a counted figure) and structural zeros are left
out: a count is not a judgement, and a zero by definition is not a tail.

The ranking uses the network and which findings the library cases *report*, never a case's
diagnosis or rank. Deterministic: no random numbers.

    python docs/tail_audit.py --written       # the top 40 written rows
    python docs/tail_audit.py --written --top 80 --csv tails.csv

``--hits`` is a measurement, not a ranking, and uses the cases' diagnoses: for each case
set it counts the cases in which one finding *alone* weighs at least 8:1 against the true
diagnosis (``P(finding | true) < mean_d P(finding | d) / 8``, the tail condition above,
taken from the exact posterior of that finding alone under equal priors), and the share of
the set's log loss (under the network's own profile) that those cases carry:

    python docs/tail_audit.py --hits networks/cases networks/holdout4
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

import softcalc_bayes as sb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit_priority import ROW_KEYS, observation_rates, print_ranking

ROOT = Path(__file__).resolve().parents[1]
Config = tuple[tuple[str, str], ...]
TAIL_RATIO = 8.0


def tail_scores(net: sb.Network, cases: list[sb.Case]) -> pd.DataFrame:
    """One line per written finding row with at least one judged tail cell."""
    target = net.spec.target
    params = net.parameters()
    params = params[params["node"].isin(net.findings)].copy()
    params["config"] = params["parents"].map(lambda d: tuple(sorted(d.items())))
    params["other"] = params["parents"].map(
        lambda d: tuple(sorted((k, v) for k, v in d.items() if k != target))
    )
    params["diagnosis"] = params["parents"].map(lambda d: d.get(target, ""))
    params = params[params["diagnosis"] != ""]
    rates = observation_rates(net, cases)
    lines = []
    for node, cells in params.groupby("node", sort=True):
        q = cells.groupby(["other", "state"])["value"].transform("mean")
        cells = cells.assign(q=q)
        n_other = cells["other"].nunique()
        is_tail = (
            (cells["value"] > 0)
            & ~cells["structural_zero"].astype(bool)
            & (cells["basis"] != "stated_number")
            & (cells["value"] * TAIL_RATIO < cells["q"])
        )
        cells = cells.assign(
            risk=np.where(is_tail, cells["q"] * np.log(cells["q"] / cells["value"]), 0.0),
            tail=is_tail,
        )
        for row_key, row in cells.groupby(ROW_KEYS, dropna=False, sort=False):
            key = cast(tuple[str, str, str, str, str, float, bool], row_key)
            tails = row[row["tail"]]
            if tails.empty:
                continue
            diagnoses = sorted(set(row["diagnosis"]))
            summary = (
                tails.groupby("state", sort=False)["value"].mean().sort_values().head(4).items()
            )
            lines.append(
                {
                    "node": node,
                    "diagnoses": ", ".join(diagnoses)
                    if len(diagnoses) <= 3
                    else f"{len(diagnoses)} diagnoses",
                    "tails": "; ".join(f"{s} {v:.3g}" for s, v in summary),
                    "basis": key[3],
                    "default": bool(key[6]),
                    "source": key[1],
                    "locator": key[2],
                    "strength": float(key[5]),
                    "tail_loss": float(tails["risk"].sum()) / n_other,
                    "use": rates.get(str(node), 0.0),
                }
            )
    out = pd.DataFrame(lines)
    out["score"] = out["tail_loss"] * out["use"]
    return out.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)


def tail_hits(net: sb.Network, cases: list[sb.Case]) -> pd.DataFrame:
    """One line per case: its log loss and the findings that alone weigh >= 8:1 against it."""
    target = net.spec.target
    n_states = len(net.states(target))
    flat = net.with_profile("neutral") if "neutral" in net.profiles else net
    alone: dict[tuple[str, str], pd.Series] = {}
    lines = []
    for case in cases:
        truth = case.diagnosis
        hits = []
        for finding, state in case.findings.items():
            if (finding, state) not in alone:
                alone[(finding, state)] = flat.posterior({finding: state})
            ratio = n_states * float(alone[(finding, state)][truth])
            if ratio * TAIL_RATIO < 1.0:
                hits.append(f"{finding}={state} ({ratio:.3f})")
        p_true = float(net.posterior(case.findings)[truth])
        lines.append(
            {
                "case": case.id,
                "diagnosis": truth,
                "log_loss": -math.log(max(p_true, 1e-300)),
                "hit": bool(hits),
                "findings": "; ".join(hits),
            }
        )
    return pd.DataFrame(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the ranking (and write the CSV when asked); return the exit status."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--network", default=str(ROOT / "networks" / "default"))
    parser.add_argument("--cases", default=str(ROOT / "networks" / "cases"))
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--written", action="store_true", help="leave out node defaults")
    parser.add_argument("--csv", default=None, help="write every row to this CSV file")
    parser.add_argument(
        "--hits", nargs="+", metavar="CASES", help="measure tail hits on these case sets"
    )
    args = parser.parse_args(argv)
    net = sb.load_network(args.network)
    if args.hits:
        for folder in args.hits:
            hits = tail_hits(net, list(sb.load_cases(folder)))
            hit = hits[hits["hit"]]
            print(
                f"{folder}: {len(hit)} of {len(hits)} cases hit a tail; they carry "
                f"{hit['log_loss'].sum() / hits['log_loss'].sum():.1%} of the log loss "
                f"(mean {hit['log_loss'].mean():.2f} nats against "
                f"{hits.loc[~hits['hit'], 'log_loss'].mean():.2f})"
            )
        return 0
    columns = ["node", "diagnoses", "tails", "basis", "strength", "tail_loss", "use", "score"]
    scores = tail_scores(net, list(sb.load_cases(args.cases)))
    scores = print_ranking(scores, args, columns, colwidth=70)
    print(f"{len(scores)} rows with a judged tail (p < q/{TAIL_RATIO:g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
