"""Packaging hygiene: lazy public names, light imports, version, licence, citation, README."""

from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

import softcalc_bayes

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "softcalc_bayes"

# Never imported by load_network() and a posterior (nor by `softcalc diagnose`).
HEAVY = ["pgmpy", "sklearn", "SALib", "matplotlib", "scipy.stats", "scipy.special", "tqdm"]


def _type_checking_names() -> dict[str, str]:
    """Name -> module of the imports under ``if TYPE_CHECKING:`` in ``__init__.py``."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom) and stmt.module
                names.update({alias.name: stmt.module for alias in stmt.names})
    return names


def test_public_names_agree() -> None:
    exports = softcalc_bayes._EXPORTS
    assert sorted(softcalc_bayes.__all__) == sorted([*exports, "__version__"])
    assert _type_checking_names() == exports
    for name, module in exports.items():
        obj = getattr(softcalc_bayes, name)
        assert obj is getattr(importlib.import_module(f"softcalc_bayes.{module}"), name)
    assert set(softcalc_bayes.__all__) <= set(dir(softcalc_bayes))
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        _ = softcalc_bayes.nope  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["coverage", "evaluate", "sensitivity"])
def test_a_function_named_like_its_module_stays_the_function(name: str) -> None:
    module = importlib.import_module(f"softcalc_bayes.{name}")
    assert getattr(softcalc_bayes, name) is getattr(module, name)
    assert callable(getattr(softcalc_bayes, name))


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=300
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_queries_do_not_import_heavy_modules() -> None:
    loaded = _modules_after(
        "import softcalc_bayes as sb\n"
        "net = sb.load_network()\n"
        "net.posterior({'fat_in_lesion': 'present'})\n"
        "from softcalc_bayes.cli import main\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['diagnose', 'fat_in_lesion=present']) == 0\n"
    )
    assert [m for m in HEAVY if m in loaded] == []


def test_bare_import_loads_nothing_heavy() -> None:
    loaded = _modules_after("import softcalc_bayes")
    assert [m for m in ["pandas", "numpy", "yaml", *HEAVY] if m in loaded] == []


def test_version_comes_from_the_package_metadata() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert softcalc_bayes.__version__ == version("softcalc-bayes")
    assert softcalc_bayes.__version__ == pyproject["project"]["version"]


def test_license_citation_and_changelog() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert pyproject["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["cff-version"] == "1.2.0"
    assert citation["license"] == "MIT"
    assert str(citation["version"]) == pyproject["version"]
    assert citation["authors"] and citation["title"]
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog
    assert re.search(
        rf"^## \[{re.escape(pyproject['version'])}\] - \d{{4}}-\d\d-\d\d$", changelog, re.M
    )


def test_running_from_the_checkout() -> None:
    """The tests see this checkout's code and networks (an editable install, not a copy)."""
    from softcalc_bayes.spec import default_network_path

    assert Path(softcalc_bayes.__file__).resolve().parent == PACKAGE
    assert default_network_path().resolve() == ROOT / "networks" / "default"


def _first_python_block(markdown: str) -> str:
    match = re.search(r"^```python\n(.*?)^```", markdown, re.S | re.M)
    assert match, "README.md has no ```python block"
    return match.group(1)


def test_readme_quick_start_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib
    import pandas as pd

    matplotlib.use("Agg")
    monkeypatch.chdir(ROOT)
    snippet = _first_python_block((ROOT / "README.md").read_text(encoding="utf-8"))
    # Names the README may use without defining them (the snippet's own definitions win).
    namespace: dict[str, object] = {
        "__name__": "__readme__",
        "pd": pd,
        "cases_df": pd.DataFrame(
            [
                {"fat_in_lesion": "present", "mdm2_fish": "amplified"},
                {"mineralization_pattern": "phleboliths", "fat_in_lesion": None},
            ]
        ),
    }
    exec(compile(snippet, "README.md (first python block)", "exec"), namespace)
    assert "net" in namespace
