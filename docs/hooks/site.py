"""MkDocs hook: pages from outside docs/ and a navigation that picks up every page.

- ``format.md`` is ``networks/FORMAT.md``;
- ``notebooks/*.ipynb`` are the repository's notebooks (rendered by mkdocs-jupyter
  as saved; they are executed by the test suite, not here);
- ``cli.md`` is the help of every ``softcalc`` command, from the parser itself;
- ``api/<module>.md`` documents each public module of ``softcalc_bayes`` (every
  ``src/softcalc_bayes/*.py`` not starting with ``_``) with mkdocstrings.

The navigation is: Home, every other ``docs/*.md`` in file-name order, the network
format, the notebooks, the command line and the API reference, so a page added to
``docs/`` appears without editing ``mkdocs.yml``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "softcalc_bayes"
NOTEBOOKS = ROOT / "notebooks"
SKIPPED_MODULES = {"cli"}  # documented by the command-line page instead


def public_modules() -> list[str]:
    """Public modules of the package, in file-name order."""
    return sorted(
        p.stem
        for p in PACKAGE.glob("*.py")
        if not p.stem.startswith("_") and p.stem not in SKIPPED_MODULES
    )


def notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def _title(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return path.stem.replace("_", " ").capitalize()


def cli_page() -> str:
    sys.path.insert(0, str(ROOT / "src"))
    from softcalc_bayes.cli import build_parser

    parser = build_parser()
    sections = [
        "# Command line",
        "",
        "`softcalc` is installed with the package. Every command takes `--json`; bad input "
        "ends with one line on stderr and exit status 2.",
        "",
        "```text",
        parser.format_help().rstrip(),
        "```",
    ]
    sub = next(a for a in parser._actions if hasattr(a, "_name_parser_map"))
    assert isinstance(sub.choices, dict)
    for name, command in sub.choices.items():
        sections += [
            "",
            f"## softcalc {name}",
            "",
            "```text",
            command.format_help().rstrip(),
            "```",
        ]
    return "\n".join(sections) + "\n"


def api_page(module: str) -> str:
    return f"# softcalc_bayes.{module}\n\n::: softcalc_bayes.{module}\n"


def on_config(config: Any) -> Any:
    docs = Path(config["docs_dir"])
    guides = [
        {_title(p): p.name}
        for p in sorted(docs.glob("*.md"))
        if p.name not in ("index.md", "cli.md", "format.md")
    ]
    config["nav"] = [
        {"Home": "index.md"},
        *guides,
        {"Network format": "format.md"},
        {"Notebooks": [f"{NOTEBOOKS.name}/{p.name}" for p in notebooks()]},
        {"Command line": "cli.md"},
        {"API reference": [{m: f"api/{m}.md"} for m in public_modules()]},
    ]
    return config


@event_priority(100)  # before mkdocs-jupyter looks for notebooks
def on_files(files: Files, config: Any) -> Files:
    files.append(
        File.generated(config, "format.md", abs_src_path=str(ROOT / "networks" / "FORMAT.md"))
    )
    for path in notebooks():  # real files (mkdocs-jupyter wraps them; it needs a source dir)
        files.append(
            File(
                f"{NOTEBOOKS.name}/{path.name}",
                src_dir=str(ROOT),
                dest_dir=config["site_dir"],
                use_directory_urls=config["use_directory_urls"],
            )
        )
    files.append(File.generated(config, "cli.md", content=cli_page()))
    for module in public_modules():
        files.append(File.generated(config, f"api/{module}.md", content=api_page(module)))
    return files
