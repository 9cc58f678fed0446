"""Posteriors for a synthetic cohort on a 2-worker Dask LocalCluster, with peak memory per worker.

The cases are generated inside the workers, partition by partition (plain string
columns, 60% of values unobserved, 12 findings), so the driver never holds the cohort;
``posterior_batch_dask`` scores each partition, and only the per-partition sums of the
posterior columns come back. Each worker's peak resident memory is read from the worker
process (``resource.getrusage``) at the end.

Run: ``python benchmarks/bench_cohort.py [--cases N] [--partitions P]`` (default 10M
cases in 100 partitions). Writes ``benchmarks/results_cohort.json`` and prints a summary.
Needs the ``[cohort]`` extra.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from softcalc_bayes import Network, load_network
from softcalc_bayes.cohort import posterior_batch_dask

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _sections import write_section  # noqa: E402

N_FINDINGS = 12


def _layout(net: Network) -> dict[str, Any]:
    """What the case generator needs of the network: the first findings, their states and,
    per site, the compartments its row allows (a small dict: the generator's tasks do not
    each carry the network, whose pickle holds its compiled tables once it has answered)."""
    findings = list(net.findings[:N_FINDINGS])
    allowed = {}
    if "compartment" in findings and "anatomic_site" in findings:
        for site in net.states("anatomic_site"):
            row = net.posterior({"anatomic_site": site}, target="compartment")
            allowed[site] = [s for s in net.states("compartment") if row[s] > 0]
    return {
        "findings": findings,
        "states": {name: list(net.states(name)) for name in findings},
        "allowed": allowed,
    }


def _partition(layout: dict[str, Any], rows: int, seed: int) -> pd.DataFrame:
    """Uniformly drawn states, except that a compartment is drawn among those its row's
    site allows: the network rules out some pairs (no joint cavity in the retroperitoneum,
    no body cavity at the knee), and a cohort of real cases never holds them."""
    rng = np.random.default_rng(seed)
    columns = {}
    for name in layout["findings"]:
        states = np.array(layout["states"][name], dtype=object)
        values = states[rng.integers(0, len(states), rows)]
        if name == "compartment" and "anatomic_site" in columns:
            for site, allowed in layout["allowed"].items():
                options = np.array(allowed, dtype=object)
                here = columns["anatomic_site"] == site
                values[here] = options[rng.integers(0, len(options), int(here.sum()))]
        values[rng.random(rows) < 0.6] = None
        columns[name] = values
    return pd.DataFrame(columns)


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    import dask.dataframe as dd
    from dask.delayed import delayed
    from distributed import Client, LocalCluster

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000_000)
    parser.add_argument("--partitions", type=int, default=100)
    args = parser.parse_args()
    net = load_network()
    rows = args.cases // args.partitions
    layout = _layout(net)
    meta = _partition(layout, 0, 0)
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: None means 8787
        ) as cluster,
        Client(cluster) as client,
    ):
        parts = [delayed(_partition)(layout, rows, seed) for seed in range(args.partitions)]
        cases = dd.from_delayed(parts, meta=meta, verify_meta=False)
        start = time.perf_counter()
        scored = posterior_batch_dask(net, cases)
        totals = scored.sum().compute()
        seconds = time.perf_counter() - start
        peaks = client.run(_peak_rss_mib)
    result = {
        "cases": rows * args.partitions,
        "partitions": args.partitions,
        "workers": 2,
        "seconds": round(seconds, 2),
        "cases_per_second": round(rows * args.partitions / seconds),
        "peak_rss_mib_per_worker": {k: round(v, 1) for k, v in peaks.items()},
        "posterior_mass": round(float(totals.sum()) / (rows * args.partitions), 12),
        "machine": f"{platform.machine()} {platform.python_version()}",
    }
    (HERE / "results_cohort.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    peaks_shown = ", ".join(f"{v:.0f}" for v in result["peak_rss_mib_per_worker"].values())
    write_section(
        "cohort",
        "\n".join(
            [
                "## Cohorts on Dask (`benchmarks/bench_cohort.py`)",
                "",
                f"{result['cases']:,} synthetic cases in {result['partitions']} partitions "
                "scored by `posterior_batch_dask` on a 2-worker `LocalCluster` (one thread "
                f"each), {time.strftime('%Y-%m-%d')}, {result['machine']}: "
                f"**{result['seconds']} s** ({result['cases_per_second']:,} cases/s), peak "
                f"resident memory per worker {peaks_shown} MiB; mean posterior mass "
                f"{result['posterior_mass']}.",
            ]
        ),
    )


if __name__ == "__main__":
    main()
