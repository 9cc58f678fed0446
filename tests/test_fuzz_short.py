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
