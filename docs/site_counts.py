"""Update a diagnosis's row of a finding from a counted distribution (knowledge passes 17, 18).

Written for the ``anatomic_site`` rows of pass 17; ``--node`` applies the same rule to any
finding whose only parent is the diagnosis (pass 18: age, sex, history findings), and
``--given`` binds a latent second parent (pass 19: ``--given cppd_form=tumoral``). The current
row (as compiled, the default spread included) is a Dirichlet prior whose weight is the row's
strength (``networks/FORMAT.md``: strength is an equivalent sample size). A
counted series updates it over the regions it covers::

    new share = (S x old share + count) / (S + n)

and the regions it does not cover keep their combined share. ``--mode patient``: each
patient counted once, patients with lesions in two or more regions counted as
``multiple_sites``. ``--mode mention``: the counts are lesions or region mentions, so
multiplicity is unknown and ``multiple_sites`` keeps its value.

    python docs/site_counts.py melorheostosis --prior-strength 5 --mode mention \\
        thigh=9.5 knee=6.7 spine_paravertebral=5

    python docs/site_counts.py tumoral_calcinosis --node age_group --prior-strength 8 \\
        infant_0_2=3 child_3_12=12 adolescent_13_19=9

Prints the new row (every state, 4 decimals, summing to 1) and the strength S + n (at most
200). Deterministic. ``docs/knowledge-pass-17.md`` gives the rule and every call made.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence

import softcalc_bayes as sb

NODE = "anatomic_site"
MULTIPLE = "multiple_sites"


def current_row(
    net: sb.Network,
    diagnosis: str,
    node: str = NODE,
    given: Mapping[str, str] | None = None,
) -> dict[str, float]:
    """The compiled probabilities of one diagnosis's row of ``node``, by state.

    Only findings whose parents are the diagnosis and latent nodes have such a row. A
    latent parent (e.g. ``cppd_form``, knowledge pass 19) is bound by ``given``; left
    unbound, the diagnosis's rows must not depend on it.
    """
    table = net.parameters()
    if node not in set(table["node"]):
        valid = ", ".join(sorted(set(table["node"])))
        raise ValueError(f"Unknown finding {node!r}. Valid findings: {valid}")
    rows = table[table["node"] == node]
    parents = set().union(*map(set, rows["parents"]))
    observed = sorted(parents - {"diagnosis"} - set(net.latent))
    if observed:
        raise ValueError(
            f"Finding {node!r} has parents other than the diagnosis ({', '.join(observed)}); "
            "its rows are not one distribution per diagnosis"
        )
    given = dict(given or {})
    for parent, state in given.items():
        if parent not in parents - {"diagnosis"}:
            valid = ", ".join(sorted(parents - {"diagnosis"})) or "none"
            raise ValueError(
                f"Unknown latent parent {parent!r} of {node!r}. Valid latent parents: {valid}"
            )
        if state not in net.states(parent):
            valid = ", ".join(net.states(parent))
            raise ValueError(f"Unknown state {state!r} of {parent!r}. Valid states: {valid}")
    mine = rows[rows["parents"].map(lambda p: p.get("diagnosis") == diagnosis)]
    if mine.empty:
        valid = ", ".join(net.states("diagnosis"))
        raise ValueError(f"Unknown diagnosis {diagnosis!r}. Valid diagnoses: {valid}")
    mine = mine[mine["parents"].map(lambda p: all(p[q] == s for q, s in given.items()))]
    values: dict[str, set[float]] = {}
    for state, value in zip(mine["state"], mine["value"].astype(float), strict=True):
        values.setdefault(state, set()).add(round(value, 12))
    if any(len(v) > 1 for v in values.values()):
        free = sorted(parents - {"diagnosis"} - set(given))
        raise ValueError(
            f"The {diagnosis!r} row of {node!r} depends on the latent parent(s) "
            f"{', '.join(free)}; bind each with --given PARENT=STATE"
        )
    return {state: v.pop() for state, v in values.items()}


def update(
    old: Mapping[str, float],
    counts: Mapping[str, float],
    prior_strength: float,
    *,
    mode: str = "patient",
    covered: Sequence[str] | None = None,
) -> dict[str, float]:
    """The row after the counts, by the pass-17 rule (shares summing to 1).

    ``mode="mention"`` applies to site rows only (their ``multiple_sites`` state); for any
    other finding the counts are patients (``mode="patient"``).
    """
    states = list(old)
    label = "region" if MULTIPLE in old else "state"
    for s in (*counts, *(covered or ())):
        if s not in old:
            raise ValueError(f"Unknown {label} {s!r}. Valid {label}s: {', '.join(states)}")
    if mode not in ("patient", "mention"):
        raise ValueError(f"Unknown mode {mode!r}. Valid modes: patient, mention")
    if mode == "mention" and MULTIPLE not in old:
        raise ValueError("Mention mode applies to anatomic_site rows only")
    seen = list(covered) if covered else states
    if mode == "mention":
        if counts.get(MULTIPLE):
            raise ValueError("In mention mode multiple_sites cannot be counted")
        seen = [s for s in seen if s != MULTIPLE]
    outside = [s for s, k in counts.items() if k and s not in seen]
    if outside:
        raise ValueError(f"Counts outside the covered {label}s: {', '.join(outside)}")
    if prior_strength <= 0 or any(k < 0 for k in counts.values()):
        raise ValueError("The prior strength must be positive and the counts non-negative")
    n = float(sum(counts.values()))
    mass = sum(old[s] for s in seen)
    new = dict(old)
    for s in seen:
        new[s] = mass * (prior_strength * old[s] / mass + counts.get(s, 0.0)) / (prior_strength + n)
    return new


def rounded(row: Mapping[str, float]) -> dict[str, float]:
    """Four decimals, the largest share absorbing the rounding so that the row sums to 1."""
    out = {s: round(v, 4) for s, v in row.items()}
    big = max(out, key=lambda s: out[s])
    out[big] = round(out[big] + 1 - sum(out.values()), 4)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("diagnosis")
    parser.add_argument("counts", nargs="+", help="state=count")
    parser.add_argument("--prior-strength", type=float, required=True)
    parser.add_argument("--mode", choices=["patient", "mention"], default="patient")
    parser.add_argument("--covered", default="", help="comma-separated states (default all)")
    parser.add_argument("--node", default=NODE, help="finding (default anatomic_site)")
    parser.add_argument(
        "--given",
        action="append",
        default=[],
        help="PARENT=STATE binding a latent parent of the finding (e.g. cppd_form=tumoral)",
    )
    parser.add_argument("--network", default=None, help="network folder (default: the shipped)")
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    counts: dict[str, float] = {}
    for item in args.counts:
        state, _, k = item.partition("=")
        counts[state] = counts.get(state, 0.0) + float(k)
    net = sb.load_network(args.network) if args.network else sb.load_network()
    given: dict[str, str] = {}
    for item in args.given:
        parent, sep, state = item.partition("=")
        if not sep:
            raise ValueError(f"Expected --given PARENT=STATE, got {item!r}")
        given[parent] = state
    old = current_row(net, args.diagnosis, args.node, given)
    covered = [s for s in args.covered.split(",") if s] or None
    new = rounded(update(old, counts, args.prior_strength, mode=args.mode, covered=covered))
    n = sum(counts.values())
    print(f"# n counted = {n:g}, prior strength {args.prior_strength:g}, mode {args.mode}")
    for s in old:
        print(f"{s:26s} old {old[s]:.4f}  count {counts.get(s, 0):>6g}  new {new[s]:.4f}")
    print(f"strength to write: {min(200, round(args.prior_strength + n))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
