"""A short run of the fuzzer (fuzz/fuzz_softcalc.py) as part of the suite.

The budget is ``$SOFTCALC_FUZZ_SECONDS`` seconds (default 60; 0 skips the run). The seed
is random and printed on failure, so any input the fuzzer breaks can be replayed with
``python fuzz/fuzz_softcalc.py --seed N --budget ...``.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

FUZZER = Path(__file__).resolve().parents[1] / "fuzz" / "fuzz_softcalc.py"
BUDGET = float(os.environ.get("SOFTCALC_FUZZ_SECONDS", "60"))


@pytest.mark.skipif(BUDGET <= 0, reason="SOFTCALC_FUZZ_SECONDS=0")
@pytest.mark.skipif(not FUZZER.exists(), reason="fuzz/ is not part of this source tree")
def test_short_fuzz_run_finds_nothing(tmp_path: Path) -> None:
    seed = random.SystemRandom().randrange(2**31)
    report = tmp_path / "fuzz.json"
    command = [sys.executable, str(FUZZER), "--budget", str(BUDGET), "--seed", str(seed)]
    done = subprocess.run(
        [*command, "--report", str(report)],
        capture_output=True,
        text=True,
        timeout=BUDGET + 300,
        check=False,
    )
    assert report.exists(), done.stderr[-3000:]
    figures = json.loads(report.read_text(encoding="utf-8"))
    failures = json.dumps(figures["failures"][:3], indent=1)
    assert done.returncode == 0, f"seed {seed}: {figures['failures_by_kind']}\n{failures}"
    assert figures["loader_inputs"] > 0 and figures["api_calls"] > 0
    assert figures["uncaught_exceptions"] == figures["hangs"] == figures["invalid_accepted"] == 0


def _fuzzer_module():  # type: ignore[no-untyped-def]
    import importlib.util

    spec = importlib.util.spec_from_file_location("fuzz_softcalc", FUZZER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not FUZZER.exists(), reason="fuzz/ is not part of this source tree")
def test_parallel_reports_merge_by_summing_counts() -> None:
    def report(seed: int, loader: int, slow: float, peak: float, hangs: int) -> dict:
        return {
            "seed": seed,
            "seconds": 10.0 + seed,
            "cpu_seconds": 9.5,
            "loader_inputs": loader,
            "loader_valid_loads": 1,
            "api_calls": 100,
            "api_ok": 50,
            "calls_by_function": {"posterior": 60, "mpe": 40},
            "clean_errors_by_class": {"EvidenceError": 7},
            "failures_by_kind": {"hang": hangs} if hangs else {},
            "uncaught_exceptions": 0,
            "invalid_accepted": 0,
            "hangs": hangs,
            "slowest_input_seconds": slow,
            "slowest_input": f"input of worker {seed}",
            "peak_memory_mb": peak,
            "failures": [{"kind": "hang", "seed": seed}] if hangs else [],
        }

    fuzz = _fuzzer_module()
    merged = fuzz.merge_reports([report(1, 10, 0.5, 300.0, 0), report(2, 12, 2.0, 310.5, 1)])
    assert merged["seed"] == [1, 2] and merged["jobs"] == 2
    assert merged["loader_inputs"] == 22 and merged["api_calls"] == 200
    assert merged["calls_by_function"] == {"mpe": 80, "posterior": 120}
    assert merged["clean_errors_by_class"] == {"EvidenceError": 14}
    assert merged["hangs"] == 1 and merged["failures"] == [{"kind": "hang", "seed": 2}]
    assert merged["slowest_input"] == "input of worker 2"
    assert merged["peak_memory_mb"] == merged["peak_memory_mb_sum_of_worker_peaks"] == 610.5
    assert merged["peak_memory_mb_per_worker"] == [300.0, 310.5]
    assert fuzz._bad(merged) == 1
