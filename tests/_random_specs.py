"""Small random networks written as network folders and loaded as ``Network`` objects.

Every number is a (test) assumption; tables have no zeros, so any evidence is possible.
The loaded spec's nodes carry ``name``, ``states``, ``parents`` and ``cpt``, so they can be
passed to :func:`_random_nets.brute_force` for an engine-free reference.
"""

from __future__ import annotations

import copy
import itertools
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import strategies as st

from conftest import TINY, write_network
from softcalc_bayes import Network, load_network


def _row_probs(states: list[str], row: np.ndarray) -> dict[str, float]:
    # The last state is the remainder.
    return {s: float(v) for s, v in zip(states[:-1], row[:-1], strict=True)}


def _node_file(
    name: str,
    kind: str,
    states: list[str],
    parents: list[str],
    cards: dict[str, list[str]],
    rng: np.random.Generator,
) -> dict[str, Any]:
    configs = list(itertools.product(*(cards[p] for p in parents)))
    table = rng.dirichlet(np.full(len(states), 1.0), size=len(configs))
    table = np.clip(table, 0.02, None)
    table = table / table.sum(axis=1, keepdims=True)
    data: dict[str, Any] = {
        "node": name,
        "kind": kind,
        "states": states,
        "parents": parents,
        "remainder": states[-1],
        "default": {
            "probs": _row_probs(states, table[0]),
            "basis": "assumption",
            "reason": "r",
        },
        "rows": [
            {
                "when": dict(zip(parents, config, strict=True)),
                "probs": _row_probs(states, row),
                "basis": "assumption",
                "reason": "r",
            }
            for config, row in zip(configs, table, strict=True)
            if parents
        ],
    }
    return data


@st.composite
def random_network_files(
    draw: st.DrawFn, max_nodes: int = 5, latent: bool = True
) -> dict[str, Any]:
    """Files of a random network: a diagnosis root, then findings and latent nodes."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_diagnoses = draw(st.integers(2, 4))
    diagnoses = [f"d{i}" for i in range(n_diagnoses)]
    files = copy.deepcopy(TINY)
    for key in [k for k in files if k.startswith("nodes/")]:
        del files[key]
    files["diagnosis.yaml"] = {
        "node": "diagnosis",
        "groups": {"g1": "Group one", "g2": "Group two"},
        "states": {
            d: {"group": "g1" if i % 2 == 0 else "g2", "label": d} for i, d in enumerate(diagnoses)
        },
    }
    weights = rng.uniform(0.2, 1.0, size=n_diagnoses)
    files["profiles.yaml"] = {
        "default": "flat",
        "profiles": {
            "flat": {
                "scale": "relative",
                "rows": [
                    {
                        "probs": {d: float(w) for d, w in zip(diagnoses, weights, strict=True)},
                        "basis": "assumption",
                        "reason": "test prior",
                    }
                ],
            }
        },
    }
    cards: dict[str, list[str]] = {"diagnosis": diagnoses}
    n = draw(st.integers(2, max_nodes))
    for i in range(n):
        kind = "latent" if latent and i > 0 and draw(st.integers(0, 3)) == 0 else "finding"
        name = f"{'l' if kind == 'latent' else 'f'}{i}"
        states = [f"s{j}" for j in range(draw(st.integers(2, 3)))]
        earlier = list(cards)
        k = draw(st.integers(1 if i == 0 else 0, min(2, len(earlier))))
        parents = [earlier[j] for j in sorted(rng.choice(len(earlier), size=k, replace=False))]
        files[f"nodes/{name}.yaml"] = _node_file(name, kind, states, parents, cards, rng)
        cards[name] = states
    return files


def load_files(files: dict[str, Any]) -> Network:
    """Write ``files`` to a temporary folder and load them (the spec is read eagerly)."""
    with tempfile.TemporaryDirectory() as folder:
        return load_network(write_network(Path(folder), files))


@st.composite
def networks_with_evidence(
    draw: st.DrawFn, max_findings: int = 4
) -> tuple[Network, dict[str, str]]:
    """A random network and evidence on up to ``max_findings`` of its findings."""
    net = load_files(draw(random_network_files(max_nodes=5)))
    chosen = draw(st.lists(st.sampled_from(net.findings), unique=True, max_size=max_findings))
    evidence = {f: draw(st.sampled_from(net.states(f))) for f in chosen}
    return net, evidence
