"""The default network today against the code before the general engine, in one run.

Run with ``make bench`` or alone: ``.venv/bin/python benchmarks/bench_baseline.py``.
Writes the ``baseline`` section of ``benchmarks/RESULTS.md``.

Issue 9 asks that the default network's single query be no slower than before the
general engine (commit ``7b5b511`` of 2026-11-21, a star-only engine) and that a batch
of 100,000 cases given as users give them (a DataFrame from a list of dicts: plain
strings, NaN where unobserved) take at most 0.2 s. Figures measured on different days
or machines cannot be compared, so this script extracts that commit's ``src/`` and
``networks/`` with ``git archive`` into a temporary folder and times both versions,
each on its own default network, alternately in fresh processes (``--rounds`` each,
median reported). Needs the repository's history (a ``git clone`` has it).

What each process times (seed 0, the same recipe in both versions):

- ``core``: ``net.engine.posterior(net.encode(ev))``, 500 evidence sets of 8 random
  findings (random states; impossible sets skipped), median of one call each;
- ``full``: ``net.posterior(ev)`` (validated, a sorted labelled Series), same sets;
- ``batch``: ``net.posterior_batch(frame)`` on 100,000 cases drawn by ancestral
  sampling with 8 findings observed each, ``frame = pd.DataFrame(list_of_dicts)``;
  median of 3 after one warm-up (today's default uses every core; ``n_jobs=1`` too).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from _sections import write_section  # noqa: E402
from run import machine_info  # noqa: E402

BASELINE = "7b5b511"
BASELINE_LABEL = "before the general engine (7b5b511, 2026-11-21)"

CHILD = r"""
import gc, json, random, statistics, sys, time
import numpy as np, pandas as pd
import softcalc_bayes as sb

net = sb.load_network()
rng = random.Random(0)
findings = list(net.findings)
sets = []
while len(sets) < 500:
    names = rng.sample(findings, 8)
    ev = {f: rng.choice(list(net.states(f))) for f in names}
    if np.isfinite(net.engine.log_evidence(net.encode(ev))):
        sets.append(ev)

def median_us(fn):
    for ev in sets[:20]:
        fn(ev)
    gc.collect()
    times = []
    for ev in sets:
        t = time.perf_counter_ns(); fn(ev); times.append(time.perf_counter_ns() - t)
    return statistics.median(times) / 1e3

engine = net.engine
core = median_us(lambda ev: engine.posterior(net.encode(ev)))
full = median_us(lambda ev: net.posterior(ev))

# 100,000 cases by ancestral sampling, 8 findings observed each
gen = np.random.default_rng(0)
n = 100_000
sample = {}
for name, node in net.spec.nodes.items():  # topological order
    config = np.zeros(n, dtype=np.int64)
    for parent in node.parents:
        config = config * len(net.spec.nodes[parent].states) + sample[parent]
    cum = np.cumsum(np.asarray(node.cpt, dtype=float)[config], axis=1)
    sample[name] = np.minimum((gen.random(n)[:, None] > cum).sum(axis=1), len(node.states) - 1)
chosen = np.argsort(gen.random((n, len(findings))), axis=1)[:, :8]
rows = [{} for _ in range(n)]
for j, f in enumerate(findings):
    states = net.states(f)
    for i in np.flatnonzero((chosen == j).any(axis=1)).tolist():
        rows[i][f] = states[int(sample[f][i])]
frame = pd.DataFrame(rows)

def median_s(fn, repeats=3):
    fn()
    times = []
    for _ in range(repeats):
        gc.collect()
        t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
    return statistics.median(times)

out = {"core_us": core, "full_us": full, "batch_s": median_s(lambda: net.posterior_batch(frame))}
if "n_jobs" in sb.Network.posterior_batch.__doc__:
    out["batch_serial_s"] = median_s(lambda: net.posterior_batch(frame, n_jobs=1))
out["nodes"] = len(net.spec.nodes)
print("RESULT " + json.dumps(out))
"""


def extract(commit: str, into: Path) -> Path | None:
    """``src/`` and ``networks/`` of ``commit`` under ``into``; None without history."""
    archive = into / "baseline.tar"
    with archive.open("wb") as handle:
        proc = subprocess.run(
            ["git", "-C", str(ROOT), "archive", commit, "src", "networks"],
            stdout=handle,
            stderr=subprocess.PIPE,
            check=False,
        )
    if proc.returncode != 0:
        return None
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def run_child(src: Path | None) -> dict[str, float]:
    env = {**os.environ, "SOFTCALC_CACHE": "0"}
    if src is not None:  # the old version, first on the path
        env["PYTHONPATH"] = str(src)
    proc = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True
    )
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    result: dict[str, float] = json.loads(line.removeprefix("RESULT "))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old_src = extract(BASELINE, Path(tmp))
        if old_src is None:
            write_section("baseline", f"## Baseline\n\nSkipped: commit {BASELINE} not found.")
            return 0
        runs: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
        for _ in range(args.rounds):  # alternate, so a busy moment hits both alike
            runs["old"].append(run_child(old_src))
            runs["new"].append(run_child(None))
    med = {k: {m: statistics.median(r[m] for r in v) for m in v[0]} for k, v in runs.items()}
    old, new = med["old"], med["new"]
    info = machine_info()
    lines = [
        "## Default network: today against the code before the general engine",
        "",
        f"`python benchmarks/bench_baseline.py` ({args.rounds} alternating rounds, fresh "
        f"processes, median of the rounds' medians; seed 0). {info['CPU']}, "
        f"{info['Cores']}; Python {info['Python']}. Each version on its own default "
        f"network ({int(old['nodes'])} and {int(new['nodes'])} nodes).",
        "",
        f"| | {BASELINE_LABEL} | today | today / before |",
        "|---|---:|---:|---:|",
        f"| single query, engine core (µs) | {old['core_us']:.1f} | {new['core_us']:.1f} | "
        f"{new['core_us'] / old['core_us']:.2f} |",
        f"| single query, `net.posterior` (µs) | {old['full_us']:.1f} | "
        f"{new['full_us']:.1f} | {new['full_us'] / old['full_us']:.2f} |",
        f"| 100,000 cases, list-of-dicts DataFrame (s) | {old['batch_s']:.3f} | "
        f"{new['batch_s']:.3f} | {new['batch_s'] / old['batch_s']:.2f} |",
    ]
    if "batch_serial_s" in new:
        lines.append(
            f"| the same, `n_jobs=1` (s) | | {new['batch_serial_s']:.3f} | "
            f"{new['batch_serial_s'] / old['batch_s']:.2f} |"
        )
    lines += [
        "",
        f"- Single query no slower than before: **{'met' if new['core_us'] <= old['core_us'] else 'NOT met'}**"
        f" (core {new['core_us']:.1f} µs against {old['core_us']:.1f} µs).",
        f"- 100,000 plain-string cases in at most 0.2 s: **{'met' if new['batch_s'] <= 0.2 else 'NOT met'}**"
        f" ({new['batch_s']:.3f} s on this machine, where the code before the general engine "
        f"took {old['batch_s']:.3f} s).",
    ]
    write_section("baseline", "\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
