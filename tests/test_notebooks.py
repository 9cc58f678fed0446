"""Every notebook runs top to bottom in a real Jupyter kernel, with nothing on stderr.

The kernel is this interpreter (a kernel spec written to a temporary Jupyter path),
so the notebooks see exactly the installed package. A warning, a progress-bar
complaint or a traceback in any cell fails the test.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
KERNEL = "softcalc-test"


@pytest.fixture(scope="module")
def kernel_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": KERNEL, "language": "python"}),
        encoding="utf-8",
    )
    return root


def _streams(book: Any, name: str) -> list[str]:
    return [
        f"cell {i}: {output.get('text', '')}"
        for i, cell in enumerate(book.cells)
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == name
    ]


def test_there_are_notebooks() -> None:
    assert {p.name for p in NOTEBOOKS} >= {
        "01_quickstart.ipynb",
        "02_sensitivity_and_uncertainty.ipynb",
        "03_evaluation_and_calibration.ipynb",
        "04_editing_the_network.ipynb",
        "05_explorer.ipynb",
    }


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_without_errors_or_stderr(
    path: Path, kernel_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_path))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    book = nbformat.read(path, as_version=4)
    client = NotebookClient(
        book, kernel_name=KERNEL, timeout=300, resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()  # raises CellExecutionError on any error
    assert _streams(book, "stderr") == []
    code = [c for c in book.cells if c.cell_type == "code"]
    assert code and all(c.get("execution_count") for c in code)
