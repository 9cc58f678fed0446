"""What the sourced dependencies of knowledge pass 4 change: posteriors and credible intervals.

Compares two network folders (before and after the dependencies) on the finding
combinations of ``docs/knowledge-pass-4.md`` (sections 3 and 4): the point posterior
of the diagnosis in question, the Monte Carlo mean and the 90% equal-tailed credible
interval under the documented parameter strengths (``posterior_uncertainty``), and,
on the case library, the top-label and classwise expected calibration error. It prints
Markdown tables.

    git archive e6a7be8 networks/default | tar -x -C /tmp/before   # network before pass 4 sections 3-4
    python docs/dependency_effects.py /tmp/before/networks/default   # after = the packaged network

Deterministic for a given ``--samples`` and ``--seed`` (defaults 4000 and 0).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import softcalc_bayes as sb

# (findings, diagnosis reported); the finding combinations of docs/knowledge-pass-4.md.
QUERIES: tuple[tuple[dict[str, str], str], ...] = (
    # section 3: the age of a myositis ossificans lesion (rim, mature bone, shrinking)
    (
        {
            "zonal_pattern": "peripheral_mature_rim",
            "mineralization_pattern": "mature_trabecular_bone",
            "evolution": "matures_and_shrinks",
        },
        "myositis_ossificans",
    ),
    (
        {
            "zonal_pattern": "peripheral_mature_rim",
            "mineralization_pattern": "cloudlike_osteoid",
            "evolution": "enlarging",
            "compartment": "intramuscular",
        },
        "myositis_ossificans",
    ),
    # section 4a: tumoral calcinosis, form behind phosphate and family history
    (
        {
            "compartment": "periarticular",
            "mineralization_pattern": "lobulated_amorphous",
            "serum_phosphate": "high",
            "family_history": "yes",
        },
        "tumoral_calcinosis",
    ),
    (
        {
            "compartment": "periarticular",
            "mineralization_pattern": "lobulated_amorphous",
            "serum_phosphate": "normal",
            "family_history": "yes",
        },
        "tumoral_calcinosis",
    ),
    # section 4b: ALT/WDLPS recurrence by site
    (
        {
            "fat_in_lesion": "present",
            "anatomic_site": "retroperitoneum_abdomen",
            "recurrence_after_excision": "yes",
        },
        "alt_wdlps",
    ),
    (
        {"fat_in_lesion": "present", "anatomic_site": "thigh", "recurrence_after_excision": "yes"},
        "alt_wdlps",
    ),
    # section 4c: site and compartment
    (
        {
            "anatomic_site": "retroperitoneum_abdomen",
            "compartment": "visceral_cavity",
            "fat_in_lesion": "present",
        },
        "ddlps",
    ),
)


def _label(findings: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in findings.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="network folder before the dependencies")
    parser.add_argument("after", type=Path, nargs="?", default=None, help="default: packaged")
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    nets = {"before": sb.load_network(args.before), "after": sb.load_network(args.after)}

    print("| findings | diagnosis | before: point, mean [90% CrI] | after: point, mean [90% CrI] |")
    print("|---|---|---|---|")
    for findings, dx in QUERIES:
        cells = []
        for net in nets.values():
            res = sb.posterior_uncertainty(
                net, findings, state=dx, n_samples=args.samples, seed=args.seed
            )
            row = res.summary.loc[dx]
            cells.append(
                f"{row['posterior']:.3f}, {row['mean']:.3f} [{row['low']:.3f}, {row['high']:.3f}]"
            )
        print(f"| {_label(findings)} | {dx} | {cells[0]} | {cells[1]} |")

    print()
    print(
        "| case library (neutral) | top-1 | top-3 | Brier | log loss | top-label ECE | classwise ECE |"
    )
    print("|---|---|---|---|---|---|---|")
    cases = sb.load_cases()
    for name, net in nets.items():
        m = sb.evaluate(net, cases).metrics
        print(
            f"| {name} | {m['top1']:.1%} | {m['top3']:.1%} | {m['brier']:.4f} | "
            f"{m['log_loss']:.4f} | {m['ece_top_label']:.3f} | {m['ece_classwise']:.4f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
