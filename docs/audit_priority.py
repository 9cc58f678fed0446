"""Rank the written rows of a network by how much an error in them could move posteriors.

Knowledge pass 6 audits the rows where a wrong number would matter most and the evidence is
thinnest, rather than rows drawn at random (pass 5) or rows that a case ranked badly. The
ordering uses the network and the *findings reported* in the case library, never a case's
diagnosis or its rank:

- **discrimination**: for each cell (parent configuration and state) that the row
  documents, ``p |log(p / q)|``, where ``q`` is the mean probability of that state over all
  diagnoses at the same non-diagnosis parents. Summed over the row's cells, it is (up to
  the absolute value) the expected log likelihood ratio that observing the node gives to
  the row's diagnoses against the average one. The sum is divided by the number of
  non-diagnosis parent combinations of the node, so that a row repeated over 12 sites is
  not counted 12 times;
- **use**: the share of case-library cases that report the node (for a latent node, the
  mean share of its children);
- **thinness**: ``1 / sqrt(strength + 1)``, the order of the Dirichlet standard deviation of
  the row's numbers.

score = discrimination x use x thinness. Rows of the prior (``diagnosis``) are left out
(profiles are weights, audited separately), and so are node defaults with ``--written``
(they are assumptions by construction, counted apart in ``coverage()``).

    python docs/audit_priority.py            # the top 60 rows
    python docs/audit_priority.py --top 100 --csv rows.csv

Deterministic: no random numbers.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

import softcalc_bayes as sb

ROOT = Path(__file__).resolve().parents[1]
Config = tuple[tuple[str, str], ...]
ROW_KEYS = ["node", "source", "locator", "basis", "reason", "strength", "is_default"]


def observation_rates(net: sb.Network, cases: Sequence[sb.Case]) -> dict[str, float]:
    """Share of cases reporting each finding; latent nodes get the mean of their children."""
    rates = {node: float(np.mean([node in c.findings for c in cases])) for node in net.findings}
    model = net.pgmpy_model
    for node in net.latent:
        children = list(model.successors(node))
        rates[node] = float(np.mean([rates.get(ch, 0.0) for ch in children])) if children else 0.0
    return rates


def row_scores(net: sb.Network, cases: Sequence[sb.Case]) -> pd.DataFrame:
    """One line per written row: node, locator, basis, strength and the three factors."""
    target = net.spec.target
    params = net.parameters()
    params = params[params["node"] != target].copy()
    params["config"] = params["parents"].map(lambda d: tuple(sorted(d.items())))
    params["other"] = params["parents"].map(
        lambda d: tuple(sorted((k, v) for k, v in d.items() if k != target))
    )
    rates = observation_rates(net, cases)
    lines = []
    for node, cells in params.groupby("node", sort=True):
        states = list(dict.fromkeys(cells["state"]))
        dists: dict[Config, np.ndarray] = {}
        others: dict[Config, Config] = {}
        for config_key, group in cells.groupby("config", sort=False):
            config = cast(Config, config_key)
            values = dict(zip(group["state"], group["value"], strict=True))
            dists[config] = np.array([values.get(s, 0.0) for s in states], dtype=float)
            others[config] = group["other"].iloc[0]
        reference: dict[Config, list[np.ndarray]] = {}
        for config in dists:
            reference.setdefault(others[config], []).append(dists[config])
        means = {o: np.mean(v, axis=0) for o, v in reference.items()}
        n_other = len(means)
        # per cell: p log(p / q) in absolute value, so that a row that owns only some
        # cells of a configuration (cell-level provenance) is charged for those cells
        cell_terms: dict[Config, dict[str, float]] = {}
        for config in dists:
            pv, qv = dists[config], means[others[config]]
            cell_terms[config] = {
                s: (float(abs(p * math.log(p / q))) if p > 0 else 0.0)
                for s, p, q in zip(states, pv, qv, strict=True)
            }
        for row_key, row in cells.groupby(ROW_KEYS, dropna=False, sort=False):
            key = cast(tuple[str, str, str, str, str, float, bool], row_key)
            configs = row["config"].unique()
            diagnoses = sorted({dict(c).get(target, "") for c in configs} - {""})
            discrimination = (
                sum(cell_terms[c][s] for c, s in zip(row["config"], row["state"], strict=True))
                / n_other
            )
            strength = float(key[5])
            lines.append(
                {
                    "node": node,
                    "diagnoses": ", ".join(diagnoses)
                    if len(diagnoses) <= 4
                    else f"{len(diagnoses)} diagnoses",
                    "basis": key[3],
                    "default": bool(key[6]),
                    "source": key[1],
                    "locator": key[2],
                    "strength": strength,
                    "discrimination": discrimination,
                    "use": rates.get(str(node), 0.0),
                    "thinness": 1.0 / math.sqrt(strength + 1.0),
                }
            )
    out = pd.DataFrame(lines)
    out["score"] = out["discrimination"] * out["use"] * out["thinness"]
    return out.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    """Print the ranking (and write the CSV when asked); return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", default=str(ROOT / "networks" / "default"))
    parser.add_argument("--cases", default=str(ROOT / "networks" / "cases"))
    parser.add_argument("--top", type=int, default=60)
    parser.add_argument("--written", action="store_true", help="leave out node defaults")
    parser.add_argument("--csv", default=None, help="write every row to this CSV file")
    args = parser.parse_args(argv)
    net = sb.load_network(args.network)
    cases = sb.load_cases(args.cases)
    columns = [
        "node",
        "diagnoses",
        "basis",
        "strength",
        "discrimination",
        "use",
        "score",
        "locator",
    ]
    scores = print_ranking(row_scores(net, cases), args, columns, colwidth=60)
    print(f"{len(scores)} rows ranked")
    return 0


def print_ranking(
    scores: pd.DataFrame, args: argparse.Namespace, columns: list[str], *, colwidth: int
) -> pd.DataFrame:
    """Apply ``--written`` and ``--csv``, print the ``--top`` rows; return the rows kept."""
    if args.written:
        scores = scores[~scores["default"]].reset_index(drop=True)
    if args.csv:
        scores.to_csv(args.csv, index=False)
    with pd.option_context(
        "display.width", 250, "display.max_colwidth", colwidth, "display.max_rows", 500
    ):
        print(scores.head(args.top)[columns].to_string(float_format=lambda x: f"{x:.3f}"))
    return scores


if __name__ == "__main__":
    sys.exit(main())
