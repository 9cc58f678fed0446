"""Score every case set under two network folders, before and after a knowledge change.

A knowledge pass is measured by scoring each case set with the network before the pass and
after it, in one run, and listing the cases whose rank of the true diagnosis moved. BEFORE is a
checkout of ``networks/default`` at the commit before the pass, for example::

    git archive 0918337 networks/default | tar -x -C /tmp/before
    python docs/compare_networks.py /tmp/before/networks/default networks/default

Sets default to the case library and every ``networks/holdout*`` folder, in order. Neutral
profile unless ``--profile`` says otherwise. Deterministic: no random numbers.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd

import softcalc_bayes as sb

ROOT = Path(__file__).resolve().parents[1]
METRICS = ("n_cases", "top1", "top3", "top5", "log_loss", "brier")


def default_sets() -> list[Path]:
    """The case library, then the held-out sets in the order they were collected."""

    def order(path: Path) -> int:
        digits = re.sub(r"\D", "", path.name)
        return int(digits) if digits else 1

    holdouts = sorted(ROOT.glob("networks/holdout*"), key=order)
    return [ROOT / "networks" / "cases", *(p for p in holdouts if p.is_dir())]


def compare(
    before: sb.Network, after: sb.Network, folder: Path
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Metrics under both networks and the cases whose rank changed."""
    cases = list(sb.load_cases(folder))
    rb = sb.evaluate(before, cases, progress=False)
    ra = sb.evaluate(after, cases, progress=False)
    metrics = pd.DataFrame(
        {"before": rb.metrics[list(METRICS)], "after": ra.metrics[list(METRICS)]}
    )
    moved = rb.per_case["rank"] != ra.per_case["rank"]
    ranks = pd.DataFrame(
        {
            "diagnosis": rb.per_case.loc[moved, "diagnosis"],
            "rank_before": rb.per_case.loc[moved, "rank"],
            "rank_after": ra.per_case.loc[moved, "rank"],
        }
    )
    return metrics, ranks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="network folder before the change")
    parser.add_argument("after", type=Path, help="network folder after the change")
    parser.add_argument("sets", type=Path, nargs="*", help="case folders (default: all)")
    parser.add_argument("--profile", default="neutral")
    args = parser.parse_args(argv)
    before = sb.load_network(args.before, profile=args.profile)
    after = sb.load_network(args.after, profile=args.profile)
    print("| set | n | top-1 before -> after | top-3 before -> after | log loss before -> after |")
    print("|---|---|---|---|---|")
    moved: list[str] = []
    total = 0
    summed = 0.0
    for folder in args.sets or default_sets():
        metrics, ranks = compare(before, after, folder)
        n = int(metrics.at["n_cases", "after"])
        total += n
        summed += n * (metrics.at["log_loss", "after"] - metrics.at["log_loss", "before"])
        t1, t3, ll = (metrics.loc[k] for k in ("top1", "top3", "log_loss"))
        print(
            f"| {folder.name} | {n} | {t1.before:.1%} -> {t1.after:.1%} | "
            f"{t3.before:.1%} -> {t3.after:.1%} | {ll.before:.4f} -> {ll.after:.4f} |"
        )
        for case, row in ranks.iterrows():
            moved.append(
                f"{folder.name} {case} ({row.diagnosis}): {row.rank_before} -> {row.rank_after}"
            )
    print(f"\nAll {total} cases: mean change of log loss per case {summed / total:+.4f}")
    print("Cases whose rank moved:" if moved else "No case's rank moved.")
    for line in moved:
        print("  " + line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
