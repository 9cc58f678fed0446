"""Write one benchmark's section of ``benchmarks/RESULTS.md``, leaving the others alone.

``benchmarks/run.py`` writes the file; every ``benchmarks/bench_*.py`` then replaces
(or appends) its own section, delimited by HTML comments, so ``make bench`` can run
them in any order and each can be re-run alone.
"""

from __future__ import annotations

import re
from pathlib import Path

RESULTS_PATH = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(key: str, markdown: str, path: Path = RESULTS_PATH) -> None:
    """Put ``markdown`` into the ``key`` section of ``path`` (replacing an older one)."""
    begin, end = f"<!-- section:{key} -->", f"<!-- /section:{key} -->"
    block = f"{begin}\n{markdown.strip()}\n{end}\n"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end) + r"\n?", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + block
    path.write_text(text, encoding="utf-8")
