from __future__ import annotations

import copy
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from softcalc_bayes import Network, load_network

ROOT = Path(__file__).resolve().parents[1]
SHARED_VOCABULARY = ROOT.parent / "shared" / "spec" / "vocabulary.yaml"
VENDORED_VOCABULARY = Path(__file__).parent / "data" / "vocabulary.yaml"


@pytest.fixture(scope="session", autouse=True)
def _spec_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Each test session gets its own spec cache (see ``softcalc_bayes._cache``)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOFTCALC_CACHE_DIR", str(tmp_path_factory.mktemp("spec-cache")))
        yield


@pytest.fixture(scope="session")
def net() -> Network:
    return load_network()


@pytest.fixture(scope="session")
def vocabulary() -> dict[str, Any]:
    """The required vocabulary: the shared file when present (CI), else the vendored copy."""
    path = SHARED_VOCABULARY if SHARED_VOCABULARY.exists() else VENDORED_VOCABULARY
    with path.open(encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.safe_load(handle)
    return data


TINY: dict[str, Any] = {
    "network.yaml": {
        "name": "tiny",
        "target": "diagnosis",
        "default_strength": {
            "stated_number": 20,
            "verbal_term": 10,
            "clinical_inference": 5,
            "assumption": 2,
        },
    },
    "diagnosis.yaml": {
        "node": "diagnosis",
        "groups": {"g1": "Group one", "g2": "Group two"},
        "states": {
            "d1": {"group": "g1", "label": "D one"},
            "d2": {"group": "g1", "label": "D two"},
            "d3": {"group": "g2", "label": "D three"},
        },
    },
    "verbal_scale.yaml": {
        "source": "src_a",
        "terms": {"usually": {"value": 0.85}, "rare": {"value": 0.03}},
    },
    "sources/main.yaml": {
        "src_a": {"citation": "Author A. A paper. J Test. 2000;1:1-2.", "kind": "literature"}
    },
    "profiles.yaml": {
        "default": "flat",
        "profiles": {
            "flat": {
                "scale": "relative",
                "rows": [
                    {
                        "probs": {"d1": 1, "d2": 2, "d3": 1},
                        "basis": "assumption",
                        "reason": "test prior",
                    }
                ],
            }
        },
    },
    "nodes/latent.yaml": {
        "node": "latent",
        "kind": "latent",
        "states": ["on", "off"],
        "parents": ["diagnosis"],
        "remainder": "off",
        "default": {"probs": {"on": 0.1}, "basis": "assumption", "reason": "r"},
        "rows": [
            {
                "when": {"diagnosis": "d1"},
                "probs": {"on": 0.9},
                "source": "src_a",
                "locator": "Table 1",
                "basis": "stated_number",
            }
        ],
    },
    "nodes/test.yaml": {
        "node": "test",
        "states": ["pos", "neg"],
        "parents": ["latent"],
        "remainder": "neg",
        "default": {"probs": {"pos": 0.05}, "basis": "assumption", "reason": "r"},
        "rows": [
            {
                "when": {"latent": "on"},
                "probs": {"pos": "usually"},
                "source": "src_a",
                "locator": "Results",
                "basis": "verbal_term",
            }
        ],
    },
    "nodes/colour.yaml": {
        "node": "colour",
        "states": ["red", "green", "blue"],
        "parents": ["diagnosis"],
        "remainder": "proportional",
        "default": {
            "probs": {"red": 0.2, "green": 0.3, "blue": 0.5},
            "basis": "assumption",
            "reason": "r",
        },
        "rows": [
            {
                "when": {"diagnosis": ["d2", "d3"]},
                "probs": {"red": 0.6},
                "source": "src_a",
                "locator": "Fig 2",
                "basis": "clinical_inference",
                "reason": "why",
            }
        ],
    },
    "constraints.yaml": [],
}


def assumed_node(
    name: str,
    states: list[str],
    remainder: str,
    default: dict[str, float],
    **rows: dict[str, float],
) -> dict[str, Any]:
    """A finding file under ``diagnosis`` whose numbers are all (test) assumptions.

    ``rows`` maps a diagnosis to its probabilities, e.g. ``d1={"yes": 0.7}``.
    """
    return {
        "node": name,
        "states": states,
        "parents": ["diagnosis"],
        "remainder": remainder,
        "default": {"probs": default, "basis": "assumption", "reason": "r"},
        "rows": [
            {"when": {"diagnosis": d}, "probs": probs, "basis": "assumption", "reason": "r"}
            for d, probs in rows.items()
        ],
    }


# 'marker' can only be 'yes' under d1; 'negative' can never be 'never' under d1: they make
# some evidence impossible for some diagnoses.
GATED_NODES: dict[str, Any] = {
    "nodes/marker.yaml": assumed_node("marker", ["yes", "no"], "no", {"yes": 0.0}, d1={"yes": 0.7}),
    "nodes/negative.yaml": assumed_node(
        "negative", ["never", "other"], "other", {"never": 0.4}, d1={"never": 0.0}
    ),
}


def write_network(folder: Path, files: dict[str, Any]) -> Path:
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return folder


@pytest.fixture
def tiny_files() -> dict[str, Any]:
    return copy.deepcopy(TINY)


def with_place(files: dict[str, Any]) -> dict[str, Any]:
    """``files`` with a finding ``place`` that is a second parent of ``colour``, whose
    ``impossible`` rules exclude red in the belly and blue in a limb (structural zeros).
    """
    files["nodes/place.yaml"] = assumed_node(
        "place", ["limb", "belly", "neck"], "neck", {"limb": 0.5, "belly": 0.3}, d1={"limb": 0.6}
    )
    colour = files["nodes/colour.yaml"]
    colour["parents"] = ["diagnosis", "place"]
    colour["impossible"] = [
        {
            "parent": "place",
            "state": "belly",
            "excludes": ["red"],
            "source": "src_a",
            "locator": "Fig 3",
            "basis": "clinical_inference",
            "reason": "nothing red lies in the belly",
        },
        {
            "parent": "place",
            "state": ["limb"],
            "excludes": ["blue"],
            "basis": "assumption",
            "reason": "a limb holds nothing blue, by definition",
        },
    ]
    return files


def with_marginal_place(files: dict[str, Any]) -> dict[str, Any]:
    """``with_place`` whose ``colour`` rows are marginal over ``place`` (``marginal_over``).

    ``place`` under d1 becomes limb 0.3, belly 0.3, neck 0.4 so that every diagnosis can be
    fitted (with limb 0.6 blue, 0.5 under d1, would not fit in belly and neck, 0.4).
    """
    with_place(files)
    files["nodes/colour.yaml"]["marginal_over"] = "place"
    files["nodes/place.yaml"]["rows"][0]["probs"] = {"limb": 0.3}
    return files


def docs_script(name: str) -> ModuleType:
    """Import ``docs/<name>.py`` (a script next to the documentation, not a package module)."""
    path = Path(__file__).resolve().parents[1] / "docs" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script
