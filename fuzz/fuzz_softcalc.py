"""Fuzz softcalc-bayes as an outside tester would: mutated network folders and bad calls.

Run ``make fuzz`` (15 minutes) or ``python fuzz/fuzz_softcalc.py --budget 60``.

Two arms share the time budget:

- **loader**: a copy of ``networks/default`` in a temporary folder; each input mutates
  one file (a value replaced by another type, a number made NaN, infinite, huge, out of
  range or slightly off, a key removed or added, a list emptied or nested) or the text of
  a file (YAML anchors and a "billion laughs", deep nesting, binary bytes, duplicate keys,
  a huge string, truncation) or the folder itself (a folder, FIFO or symbolic link named
  ``*.yaml``, a link out of the folder or in a loop, a missing file); then
  :func:`softcalc_bayes.load_spec` runs. A load that succeeds must give a valid network
  (every row finite and summing to 1, finite strengths and bounds) that answers a query.
- **api**: every public query function called with evidence, DataFrames and options
  drawn from valid names mixed with bad values (wrong types, unknown names, NaN, huge
  numbers, lists and dicts in cells, duplicate columns); the command line with mutated
  arguments. A result must hold no NaN, and a posterior must sum to 1.

An input fails when it raises anything but the library's own errors
(:class:`softcalc_bayes.SoftcalcError`), when a loader error does not name the file,
when an invalid network loads, or when it runs longer than ``--timeout`` seconds
(``signal.alarm``). Memory is capped with ``RLIMIT_AS`` so a blow-up shows as a
``MemoryError`` instead of taking the machine down. The run prints a JSON summary
(inputs, calls, errors by class, failures, slowest input, peak memory) and exits 1 if
anything failed, with a reproducer (seed and input number) for every failure.

``--jobs N`` runs N independent fuzzer processes for the same budget, worker ``i`` with
seed ``seed + i`` (each replayable alone with ``--seed``), and merges their reports:
counts are summed, the slowest input is the slowest of all, and the peak memory is the
largest sum of the workers' resident memory, sampled every 50 ms from ``/proc``
(``peak_memory_mb``; each worker's own peak and the sum of those peaks, an upper bound,
are reported too).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import math
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

import softcalc_bayes as sb
from softcalc_bayes.spec import default_network_path

ROOT = Path(__file__).resolve().parents[1]
DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class Hang(BaseException):
    """Raised by the alarm when one input runs past its time limit."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise Hang()


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Stop an input after ``seconds`` of CPU time, or six times that of wall-clock time.

    CPU time (``ITIMER_PROF``) is what a loop or a blow-up consumes, and it does not
    depend on how busy the machine is; the wall-clock limit catches an input that
    blocks without computing (a FIFO opened for reading, a lock).
    """
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGPROF, _on_alarm)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    signal.setitimer(signal.ITIMER_REAL, 6 * seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)


# --------------------------------------------------------------------------- values
def bad_values(rng: random.Random) -> Any:
    """One value from a pool of the types and numbers that break naive code."""
    pool: list[Callable[[], Any]] = [
        lambda: None,
        lambda: True,
        lambda: False,
        lambda: 0,
        lambda: -1,
        lambda: 1,
        lambda: 2,
        lambda: rng.randint(-(10**6), 10**6),
        lambda: 10 ** rng.randint(20, 400),
        lambda: rng.random(),
        lambda: -rng.random(),
        lambda: 1.0000005,
        lambda: 1.0 + 1e-10,
        lambda: 1e-300,
        lambda: 1e308,
        lambda: math.nan,
        lambda: math.inf,
        lambda: -math.inf,
        lambda: "",
        lambda: "0.5",
        lambda: "two",
        lambda: "yes",
        lambda: "x" * rng.choice([100, 10_000, 200_000]),
        lambda: "ünïcødé ✓",
        lambda: [],
        lambda: {},
        lambda: ["a", "b"],
        lambda: [["diagnosis"]],
        lambda: [1],
        lambda: {"a": 1},
        lambda: {"value": math.nan},
        lambda: [[[[]]]],
    ]
    return rng.choice(pool)()


# --------------------------------------------------------------------------- loader arm
def _paths(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(tree, dict):
        for key, value in tree.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            out += _paths(value, (*prefix, i))
    return out


def _get(tree: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        tree = tree[key]
    return tree


def _numbers(tree: Any) -> list[tuple[Any, ...]]:
    return [
        p
        for p in _paths(tree)
        if isinstance(_get(tree, p), int | float) and not isinstance(_get(tree, p), bool)
    ]


def mutate_tree(tree: Any, rng: random.Random) -> tuple[Any, str]:
    """A structural mutation of a parsed YAML document (returns the new tree and a label)."""
    tree = copy.deepcopy(tree)
    numbers = _numbers(tree)
    if numbers and rng.random() < 0.35:
        path = rng.choice(numbers)
        old = _get(tree, path)
        new = rng.choice(
            [
                math.nan,
                math.inf,
                -math.inf,
                -old,
                old * 10,
                old + 1e-7,
                old + 5e-10,
                old * (1 + 1e-6),
                10**400,
                0,
                1.5,
                -1e-12,
            ]
        )
        _get(tree, path[:-1])[path[-1]] = new
        return tree, f"number {path} -> {new!r}"
    paths = [p for p in _paths(tree) if p]
    if not paths:
        return bad_values(rng), "whole document replaced"
    path = rng.choice(paths)
    parent = _get(tree, path[:-1])
    key = path[-1]
    op = rng.randrange(7)
    if op == 0:
        parent[key] = bad_values(rng)
        label = "value replaced"
    elif op == 1:
        del parent[key]
        label = "removed"
    elif op == 2 and isinstance(parent, dict):
        parent[rng.choice(["extra", "when", "probs", "strength", "basis", "id", 7])] = bad_values(
            rng
        )
        label = "key added"
    elif op == 3:
        parent[key] = [parent[key]]
        label = "wrapped in a list"
    elif op == 4:
        other = _get(tree, rng.choice(paths))
        parent[key] = copy.deepcopy(other)
        label = "swapped with another value"
    elif op == 5 and isinstance(parent, dict):
        value = parent.pop(key)
        parent[rng.choice(["Node", "states ", "parent", "defaults", "row", 1, True])] = value
        label = "key renamed"
    else:
        value = parent[key]
        parent[key] = {} if isinstance(value, dict) else [] if isinstance(value, list) else ""
        label = "emptied"
    return tree, f"{label} at {path}"


BILLION_LAUGHS = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
)


def mutate_text(text: str, rng: random.Random) -> tuple[bytes, str]:
    """A textual mutation of a file's YAML."""
    op = rng.randrange(11)
    if op == 0:
        return (BILLION_LAUGHS + text).encode(), "billion laughs prepended"
    if op == 1:
        depth = rng.choice([50, 1000, 100_000])
        return (text + "\nzz: " + "[" * depth + "]" * depth + "\n").encode(), f"nested {depth}"
    if op == 2:
        data = bytearray(text.encode())
        for _ in range(rng.randint(1, 20)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data), "random bytes"
    if op == 3:
        return text[: rng.randrange(max(len(text), 1))].encode(), "truncated"
    if op == 4:
        size = rng.choice([1_000_000, 4_500_000, 6_000_000])
        return (text + "\nbig: " + "x" * size + "\n").encode(), f"string of {size}"
    if op == 5:
        lines = text.splitlines()
        if lines:
            i = rng.randrange(len(lines))
            lines.insert(i, lines[i])
        return "\n".join(lines).encode(), "line duplicated"
    if op == 6:
        return b"\x00\xff\xfe binary \x89PNG\r\n" + text.encode()[:100], "binary"
    if op == 7:
        return ("\ufeff" + text).encode("utf-8"), "byte order mark"
    if op == 8:
        return text.replace("  ", "\t", 3).encode(), "tabs"
    if op == 9:
        digits = "9" * rng.choice([50, 400, 4301])
        return text.replace("0.", digits + ".", 1).encode(), "long number"
    return ("x: !!python/object/apply:os.system ['true']\n" + text).encode(), "python tag"


def mutate_folder(folder: Path, rng: random.Random) -> tuple[Callable[[], None], str]:
    """A file-system mutation; returns an undo function and a label."""
    files = sorted(folder.rglob("*.yaml"))
    victim = rng.choice(files)
    backup = victim.read_bytes()
    op = rng.randrange(8)

    def restore_file() -> None:
        if victim.is_symlink() or (victim.exists() and not victim.is_dir()):
            victim.unlink()
        elif victim.is_dir():
            shutil.rmtree(victim)
        victim.write_bytes(backup)

    extra = folder / "nodes" / "zz_extra.yaml"

    def remove_extra() -> None:
        if extra.is_symlink() or extra.is_file() or extra.is_fifo():
            extra.unlink()
        elif extra.is_dir():
            shutil.rmtree(extra)

    if op == 0:
        victim.unlink()
        victim.mkdir()
        return restore_file, f"{victim.name} is a folder"
    if op == 1:
        os.mkfifo(extra)
        return remove_extra, "FIFO nodes/zz_extra.yaml"
    if op == 2:
        victim.unlink()
        victim.symlink_to("/etc/passwd")
        return restore_file, f"{victim.name} -> /etc/passwd"
    if op == 3:
        extra.symlink_to(extra)
        return remove_extra, "symlink loop"
    if op == 4:
        victim.unlink()
        return restore_file, f"{victim.name} removed"
    if op == 5:
        extra.symlink_to(rng.choice(files))
        return remove_extra, "symlink inside the folder"
    if op == 6:
        extra.symlink_to("/dev/zero")
        return remove_extra, "symlink to a device"
    extra.mkdir()
    return remove_extra, "folder nodes/zz_extra.yaml"


def reduce_network(folder: Path, rng: random.Random, keep: int = 8) -> None:
    """Keep ``keep`` random node files (with their ancestors) and the constraints on them."""
    spec = sb.load_spec(folder)
    chosen = set(rng.sample([n for n in spec.nodes if n != spec.target], keep))
    frontier = list(chosen)
    while frontier:
        for parent in spec.nodes[frontier.pop()].parents:
            if parent != spec.target and parent not in chosen:
                chosen.add(parent)
                frontier.append(parent)
    for name, node in spec.nodes.items():
        if name != spec.target and name not in chosen:
            Path(node.file).unlink()
    path = folder / "constraints.yaml"
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    kept = [
        e
        for e in entries
        if e.get("finding", next(iter(chosen))) in chosen and set(e.get("evidence") or {}) <= chosen
    ]
    path.write_text(yaml.safe_dump(kept, sort_keys=False, allow_unicode=True), encoding="utf-8")
    meta_path = folder / "network.yaml"
    meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
    if isinstance(meta.get("finding_groups"), dict):  # display groups name only kept findings
        meta["finding_groups"] = {
            group: [f for f in members if f in chosen]
            for group, members in meta["finding_groups"].items()
            if any(f in chosen for f in members)
        }
        meta_path.write_text(
            yaml.safe_dump(meta, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
    _reduce_bibliography(folder)
    sb.load_spec(folder)  # the reduced copy is valid


def _reduce_bibliography(folder: Path) -> None:
    """Keep only the sources the remaining files name (the bibliography is most of a load).

    Left as it is when the trimmed copy would not load (an id named in a way the
    substring test misses).
    """
    text = "\n".join(
        p.read_text(encoding="utf-8")
        for p in sorted(folder.rglob("*.yaml"))
        if p.parent.name != "sources"
    )
    originals = {p: p.read_text(encoding="utf-8") for p in sorted(folder.glob("sources/*.yaml"))}
    for path, original in originals.items():
        entries = yaml.safe_load(original) or {}
        kept = {key: entry for key, entry in entries.items() if str(key) in text}
        if not kept:  # an empty file would still be read; keep one entry
            kept = dict(list(entries.items())[:1])
        path.write_text(yaml.safe_dump(kept, sort_keys=False, allow_unicode=True), "utf-8")
    try:
        sb.load_spec(folder)
    except sb.NetworkSpecError:
        for path, original in originals.items():
            path.write_text(original, encoding="utf-8")


def check_valid_network(spec: sb.NetworkSpec) -> str:
    """'' if a loaded network is valid; else what is wrong (an invalid network accepted)."""
    for name, node in spec.nodes.items():
        cpt = np.asarray(node.cpt, dtype=float)
        if not np.isfinite(cpt).all() or (cpt < 0).any() or (cpt > 1).any():
            return f"node {name}: table not finite or outside [0, 1]"
        if np.abs(cpt.sum(axis=1) - 1.0).max() > 1e-9:
            return f"node {name}: a row does not sum to 1"
        for row in node.provenance:
            for prov in row:
                if not (math.isfinite(prov.strength) and prov.strength > 0):
                    return f"node {name}: strength {prov.strength}"
    for c in spec.constraints:
        for bound in (c.min, c.max):
            if bound is not None and not (
                isinstance(bound, float) and math.isfinite(bound) and 0 <= bound <= 1
            ):
                return f"constraint {c.id}: bound {bound!r}"
    return ""


class Fuzzer:
    def __init__(self, seed: int, timeout: float, workdir: Path) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.timeout = timeout
        self.counts: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.failures: list[dict[str, Any]] = []
        self.slowest = (0.0, "")
        self.workdir = workdir
        full = workdir / "full"
        shutil.copytree(default_network_path(), full, symlinks=True)
        small = workdir / "small"
        shutil.copytree(default_network_path(), small, symlinks=True)
        reduce_network(small, self.rng)
        self.folders = [full, small]
        self.folder = full
        self.last_input = ""
        self.texts = {
            p: p.read_text(encoding="utf-8") for f in self.folders for p in f.rglob("*.yaml")
        }
        self.trees = {p: yaml.safe_load(t) for p, t in self.texts.items()}
        self.net = sb.load_network()
        self.cases = sb.load_cases()
        self.case_file = workdir / "cases.yaml"
        self.costs_file = workdir / "costs.yaml"

    # ----------------------------------------------------------------- bookkeeping
    def fail(self, kind: str, label: str, detail: str) -> None:
        self.counts[f"failures:{kind}"] += 1
        if len(self.failures) < 50:
            self.failures.append(
                {"kind": kind, "input": label, "detail": detail[-2000:], "seed": self.seed}
            )

    def run(self, arm: str, label: str, func: Callable[[], str]) -> None:
        """Run one input under the time limit and classify its outcome."""
        self.counts[f"{arm}_inputs"] += 1
        start = time.perf_counter()
        try:
            with time_limit(self.timeout):
                problem = func()
        except Hang:
            self.fail("hang", f"{arm}: {label}", f"over {self.timeout} s")
            return
        except sb.SoftcalcError as exc:
            self.errors[type(exc).__name__] += 1
            if arm == "loader" and not self._names_file(str(exc)):
                self.fail("error naming no file", label, str(exc))
        except (Exception, RecursionError) as exc:  # anything else is a bug
            self.fail(
                f"uncaught {type(exc).__name__}",
                f"{arm}: {label}",
                "".join(traceback.format_exception(exc)),
            )
        else:
            if problem:
                self.fail("invalid result", f"{arm}: {label}", problem)
            self.counts[f"{arm}_ok"] += 1
        elapsed = time.perf_counter() - start
        if elapsed > self.slowest[0]:
            self.slowest = (elapsed, f"{arm}: {label}")

    def _names_file(self, message: str) -> bool:
        return str(self.workdir) in message

    # ----------------------------------------------------------------- loader arm
    def loader_input(self) -> None:
        rng = self.rng
        # Most inputs mutate a reduced copy (8 of the 39 node files and their ancestors),
        # which loads about four times faster; one in four mutates the full copy.
        self.folder = self.folders[0] if rng.random() < 0.25 else self.folders[1]
        choice = rng.random()
        undo: Callable[[], None]
        if choice < 0.15:
            try:
                undo, label = mutate_folder(self.folder, rng)
            except OSError:  # e.g. mkfifo not supported here
                self.counts["skipped"] += 1
                return
        else:
            path = rng.choice([p for p in sorted(self.texts) if p.is_relative_to(self.folder)])
            if choice < 0.4:
                data, label = mutate_text(self.texts[path], rng)
            else:
                tree, label = mutate_tree(self.trees[path], rng)
                data = yaml.dump(tree, Dumper=DUMPER, allow_unicode=True, sort_keys=False).encode()
            label = f"{path.relative_to(self.folder)}: {label}"
            path.write_bytes(data)

            def undo() -> None:
                path.write_text(self.texts[path], encoding="utf-8")

        try:
            self.run("loader", label, self._load)
        finally:
            undo()

    def _load(self) -> str:
        spec = sb.load_spec(self.folder)
        problem = check_valid_network(spec)
        if problem:
            return f"invalid network accepted: {problem}"
        net = sb.Network(spec)
        post = net.posterior({})
        if not np.isfinite(post.to_numpy()).all() or abs(float(post.sum()) - 1) > 1e-9:
            return "invalid network accepted: prior posterior not finite or not summing to 1"
        if self.rng.random() < 0.1:
            sb.check_constraints(net)
            try:
                sb.posterior_uncertainty(net, {}, n_samples=20, seed=0)
            except sb.EngineError as exc:
                # A valid network whose components are too large for the sampler (e.g. a
                # latent node made an ordinary one): a refusal of the analysis, not of the
                # file, so it must name the component and the limit rather than the file.
                if "component" not in str(exc) or "limit" not in str(exc):
                    return f"uncertainty refused without naming the component: {exc}"
        return ""

    # ----------------------------------------------------------------- API arm
    def name(self, kind: str) -> Any:
        """A node name: usually valid, sometimes latent, the target, unknown or not a str."""
        net, rng = self.net, self.rng
        r = rng.random()
        if r < 0.75:
            pool = net.findings if kind == "finding" else net.nodes
            return rng.choice(pool)
        if r < 0.85:
            return rng.choice([*net.latent, net.target])
        if r < 0.93:
            return rng.choice(["fat", "diagnosys", "", "x" * 500])
        return bad_values(rng)

    def state(self, node: Any) -> Any:
        net, rng = self.net, self.rng
        r = rng.random()
        if r < 0.8 and isinstance(node, str) and node in net.nodes:
            if rng.random() < 0.1:  # a set of states: one of them
                states = net.states(node)
                return rng.sample(states, rng.randint(1, len(states)))
            return rng.choice(net.states(node))
        if r < 0.9:
            return rng.choice(["maybe", "present ", "PRESENT", None, np.nan, pd.NA])
        return bad_values(rng)

    def evidence(self) -> Any:
        rng = self.rng
        if rng.random() < 0.05:
            return bad_values(rng)
        out: dict[Any, Any] = {}
        for _ in range(rng.randint(0, 8)):
            node = self.name("finding")
            try:
                out[node] = self.state(node)
            except TypeError:  # an unhashable key: try a list of pairs instead
                return [(node, "x")]
        return out

    def frame(self) -> Any:
        rng = self.rng
        if rng.random() < 0.05:
            return bad_values(rng)
        n = rng.choice([0, 1, 3, 20])
        columns = [self.name("finding") for _ in range(rng.randint(0, 5))]
        if columns and rng.random() < 0.15:
            columns.append(columns[0])  # a duplicate column
        data = {i: [self.state(c) for _ in range(n)] for i, c in enumerate(columns)}
        frame = pd.DataFrame(data, index=range(n), dtype=object)
        try:
            frame.columns = pd.Index(columns, dtype=object)
        except (TypeError, ValueError):
            return frame
        if n and columns and rng.random() < 0.1:
            frame.iat[0, 0] = rng.choice([["a"], {"a": 1}, 3, 1.5])
        if rng.random() < 0.1:
            with contextlib.suppress(TypeError, ValueError):
                frame = frame.astype(rng.choice(["category", "string"]))
        return frame

    def option(self, valid: Callable[[], Any]) -> Any:
        return valid() if self.rng.random() < 0.7 else bad_values(self.rng)

    def api_input(self) -> None:
        net, rng = self.net, self.rng
        diagnoses = net.states(net.target)
        calls: list[tuple[str, Callable[[], Callable[[], Any]]]] = [
            ("posterior", lambda: self._posterior_call()),
            ("posterior_groups", lambda: self._bind(net.posterior_groups, self.evidence())),
            ("posterior_batch", lambda: self._batch_call()),
            ("encode", lambda: self._bind(net.encode, self.evidence())),
            (
                "evidence_whatif",
                lambda: self._bind(
                    sb.evidence_whatif,
                    net,
                    self.evidence(),
                    state=self.option(lambda: rng.choice([None, *diagnoses])),
                ),
            ),
            ("compare_profiles", lambda: self._bind(sb.compare_profiles, net, self.evidence())),
            (
                "sensitivity",
                lambda: self._bind(
                    sb.sensitivity,
                    net,
                    self.evidence(),
                    state=self.option(lambda: rng.choice([None, *diagnoses])),
                    threshold=self.option(lambda: rng.choice([None, rng.random()])),
                    target=self.option(lambda: None),
                ),
            ),
            (
                "tune",
                lambda: self._bind(
                    sb.tune,
                    net,
                    self.evidence(),
                    state=self.option(lambda: rng.choice(diagnoses)),
                    at_least=self.option(lambda: rng.random()),
                ),
            ),
            (
                "posterior_uncertainty",
                lambda: self._bind(
                    sb.posterior_uncertainty,
                    net,
                    self.evidence(),
                    n_samples=self.option(lambda: rng.randint(2, 200)),
                    credible=self.option(lambda: rng.random()),
                    seed=self.option(lambda: rng.randint(0, 100)),
                    state=self.option(lambda: rng.choice([None, *diagnoses])),
                ),
            ),
            (
                "sobol_indices",
                lambda: self._bind(
                    sb.sobol_indices,
                    net,
                    self.evidence(),
                    n_base=self.option(lambda: rng.choice([2, 4, 8])),
                    seed=self.option(lambda: rng.randint(0, 100)),
                    groups=self.option(lambda: "node"),
                ),
            ),
            (
                "evaluate",
                lambda: self._bind(
                    sb.evaluate,
                    net,
                    self.option(lambda: rng.sample(self.cases, rng.randint(0, 5))),
                    bins=self.option(lambda: rng.randint(1, 20)),
                ),
            ),
            ("load_cases", lambda: self._load_cases_call()),
            ("cli", lambda: self._cli_call()),
            (
                "explain",
                lambda: self._bind(
                    sb.explain,
                    net,
                    self.evidence(),
                    state=self.option(lambda: rng.choice([None, *diagnoses])),
                    versus=self.option(lambda: rng.choice([None, *diagnoses])),
                    exact_max=self.option(lambda: rng.randint(0, 8)),
                    n_permutations=self.option(lambda: rng.randint(1, 50)),
                    seed=self.option(lambda: rng.randint(0, 100)),
                ),
            ),
            (
                "next_best_test",
                lambda: self._bind(
                    sb.next_best_test,
                    net,
                    self.evidence(),
                    costs=self.option(lambda: rng.choice([None, "default"])),
                    lookahead=self.option(lambda: rng.choice([1, 2])),
                    n_lookahead=self.option(lambda: rng.randint(1, 3)),
                    candidates=self.option(
                        lambda: (
                            None
                            if rng.random() < 0.7
                            else [self.name("finding") for _ in range(rng.randint(0, 3))]
                        )
                    ),
                ),
            ),
            (
                "sequential_workup",
                lambda: self._bind(
                    sb.sequential_workup,
                    net,
                    self.evidence(),
                    stop_at=self.option(lambda: rng.random()),
                    max_tests=self.option(lambda: rng.choice([None, 0, 1, 2])),
                    strategy=self.option(lambda: rng.choice(["voi", "random"])),
                    seed=self.option(lambda: rng.randint(0, 100)),
                ),
            ),
            (
                "sample_cases",
                lambda: self._bind(
                    sb.sample_cases,
                    net,
                    self._small(self.option(lambda: rng.randint(1, 20))),
                    seed=self.option(lambda: rng.randint(0, 100)),
                ),
            ),
            ("load_test_costs", lambda: self._costs_call()),
        ]
        for extra in ("marginals", "log_evidence", "mpe"):
            if hasattr(net, extra):
                method = getattr(net, extra)
                calls.append((extra, lambda m=method: self._bind(m, self.evidence())))
        weights = [30, 6, 10, 6, 4, 2, 2, 2, 2, 0.5, 1, 2, 2, 2, 2, 0.5, 1, 2]
        weights += [6] * (len(calls) - len(weights))
        name, make = rng.choices(calls, weights=weights)[0]
        self.last_input = ""
        call = make()
        self.counts[f"calls:{name}"] += 1
        self.run("api", f"{name} {self.last_input}"[:400], call)

    def _bind(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[[], str]:
        shown = [describe(a) for a in args if not isinstance(a, sb.Network)]
        self.last_input = f"args={shown!r:.250} kwargs={describe(kwargs):.150}"

        def call() -> str:
            return check_result(func(*args, **kwargs))

        return call

    def _posterior_call(self) -> Callable[[], str]:
        kwargs: dict[str, Any] = {}
        if self.rng.random() < 0.3:
            kwargs["target"] = self.option(lambda: self.name("node"))
        return self._bind(self.net.posterior, self.evidence(), **kwargs)

    def _batch_call(self) -> Callable[[], str]:
        kwargs: dict[str, Any] = {}
        if self.rng.random() < 0.2:
            kwargs["target"] = self.option(lambda: self.name("node"))
        return self._bind(self.net.posterior_batch, self.frame(), **kwargs)

    def _load_cases_call(self) -> Callable[[], str]:
        text = yaml.safe_dump([{"id": "c1", "diagnosis": "ddlps", "citation": "x", "findings": {}}])
        if self.rng.random() < 0.5:
            data, _ = mutate_text(text, self.rng)
        else:
            tree, _ = mutate_tree(yaml.safe_load(text), self.rng)
            data = yaml.safe_dump(tree).encode()
        self.case_file.write_bytes(data)
        path = self.case_file if self.rng.random() < 0.9 else bad_values(self.rng)
        return self._bind(sb.load_cases, path)

    @staticmethod
    def _small(value: Any) -> Any:
        """Sizes the caps allow are drawn small: 600,000 sampled cases is a legitimate
        request that takes tens of seconds, not a hang; values beyond the cap stay."""
        if isinstance(value, int) and not isinstance(value, bool) and 50 < value <= 10**6:
            return value % 50 + 1
        return value

    def _costs_call(self) -> Callable[[], str]:
        """A test-cost file (the packaged one, mutated as text or as a tree), read for the net."""
        text = (default_network_path() / "test_costs.yaml").read_text(encoding="utf-8")
        if self.rng.random() < 0.5:
            data, _ = mutate_text(text, self.rng)
        else:
            tree, _ = mutate_tree(yaml.safe_load(text), self.rng)
            data = yaml.safe_dump(tree).encode()
        self.costs_file.write_bytes(data)
        path = self.costs_file if self.rng.random() < 0.9 else bad_values(self.rng)
        return self._bind(sb.load_test_costs, path, net=self.net)

    def _cli_call(self) -> Callable[[], str]:
        from softcalc_bayes.cli import main

        rng = self.rng
        commands = [
            "diagnose",
            "explain",
            "uncertainty",
            "next-test",
            "sensitivity",
            "coverage",
            "whatif",
            "profiles",
            "validate",
            "x",
        ]
        argv = [rng.choice(commands)]
        for _ in range(rng.randint(0, 4)):
            node = self.name("finding")
            argv.append(f"{node}={self.state(node)}" if rng.random() < 0.8 else str(node))
        if rng.random() < 0.3:
            value = bad_values(rng)
            if isinstance(value, int) and value > 1000:
                # Sizes the caps allow are drawn small: 150,000 samples is a legitimate
                # request that takes tens of seconds, not a hang.
                value = rng.choice([value % 1000, 10**12, -value])
            argv += [
                rng.choice(["--samples", "--top", "--profile", "--seed", "--network"]),
                str(value)[:50],
            ]
        self.last_input = repr(argv)[:300]

        def call() -> str:
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = main(argv)
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else 2
            if code not in (0, 1, 2):
                return f"exit status {code} for {argv}"
            return ""

        return call

    # ----------------------------------------------------------------- report
    def summary(self, elapsed: float) -> dict[str, Any]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        peak = usage.ru_maxrss / 1024
        failures = {
            k.split(":", 1)[1]: v for k, v in self.counts.items() if k.startswith("failures")
        }
        return {
            "seed": self.seed,
            "seconds": round(elapsed, 1),
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
            "loader_inputs": self.counts["loader_inputs"],
            "loader_valid_loads": self.counts["loader_ok"],
            "api_calls": self.counts["api_inputs"],
            "api_ok": self.counts["api_ok"],
            "calls_by_function": {
                k.split(":", 1)[1]: v
                for k, v in sorted(self.counts.items())
                if k.startswith("calls:")
            },
            "clean_errors_by_class": dict(self.errors),
            "failures_by_kind": failures,
            "uncaught_exceptions": sum(v for k, v in failures.items() if k.startswith("uncaught")),
            "invalid_accepted": failures.get("invalid result", 0),
            "hangs": failures.get("hang", 0),
            "slowest_input_seconds": round(self.slowest[0], 3),
            "slowest_input": self.slowest[1][:200],
            "peak_memory_mb": round(peak, 1),
            "failures": self.failures,
        }


def describe(value: Any) -> str:
    """A short description of an input for the report (pandas' repr can itself fail)."""
    if isinstance(value, pd.DataFrame):
        cells = value.head(2).to_numpy().tolist()
        return f"DataFrame(columns={list(value.columns)!r:.120}, rows={len(value)}, head={cells!r:.120})"
    try:
        return repr(value)[:300]
    except Exception as exc:
        return f"<{type(value).__name__}: repr failed with {type(exc).__name__}>"


def check_result(result: Any) -> str:
    """'' if a result holds no NaN and its posteriors sum to 1; else what is wrong."""
    frames: list[Any] = []
    if isinstance(result, pd.Series | pd.DataFrame):
        frames.append(result)
    elif isinstance(result, dict):
        frames += [v for v in result.values() if isinstance(v, pd.Series | pd.DataFrame)]
    else:
        for attr in ("summary", "samples", "metrics", "posteriors"):
            value = getattr(result, attr, None)
            if isinstance(value, pd.Series | pd.DataFrame):
                frames.append(value)
    for frame in frames:
        numeric = frame.select_dtypes("number") if isinstance(frame, pd.DataFrame) else frame
        if isinstance(numeric, pd.Series) and not pd.api.types.is_numeric_dtype(numeric):
            continue
        values = np.asarray(numeric, dtype=float)
        if values.size and np.isnan(values).any():
            name = getattr(frame, "name", None)
            # sensitivity tables hold NaN in p_at_1 / x_new by design (no solution)
            # next_best_test's pair columns hold NaN beyond its n_lookahead rows (documented)
            columns = set(getattr(numeric, "columns", []))
            # and sequential_workup's gain where no test was chosen by it (step 0, random order)
            if not columns & {
                "p_at_1",
                "x_new",
                "change",
                "pair_gain_bits",
                "information_gain_bits",
            }:
                return f"NaN in the result {name!r}"
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--budget",
        type=float,
        default=float(os.environ.get("SOFTCALC_FUZZ_BUDGET", 900)),
        help="seconds to run (default: $SOFTCALC_FUZZ_BUDGET or 900)",
    )
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per input")
    parser.add_argument("--memory-gb", type=float, default=4.0, help="address-space cap")
    parser.add_argument(
        "--loader-share", type=float, default=0.75, help="share of time for the loader arm"
    )
    parser.add_argument("--report", type=Path, default=None, help="also write the JSON here")
    parser.add_argument(
        "--jobs", type=int, default=1, help="fuzzer processes, seeds seed .. seed + jobs - 1"
    )
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    if args.jobs > 1:
        return run_jobs(args, seed)
    limit = int(args.memory_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    with tempfile.TemporaryDirectory(prefix="softcalc-fuzz-") as tmp:
        fuzzer = Fuzzer(seed, args.timeout, Path(tmp))
        start = time.perf_counter()
        loader_time = api_time = 0.0
        while time.perf_counter() - start < args.budget:
            t0 = time.perf_counter()
            if loader_time <= args.loader_share * (loader_time + api_time + 1e-9):
                fuzzer.loader_input()
                loader_time += time.perf_counter() - t0
            else:
                fuzzer.api_input()
                api_time += time.perf_counter() - t0
        report = fuzzer.summary(time.perf_counter() - start)
    text = json.dumps(report, indent=2, default=str)
    print(text)
    if args.report is not None:
        args.report.write_text(text + "\n", encoding="utf-8")
    return 1 if _bad(report) else 0


def _bad(report: dict[str, Any]) -> int:
    bad = report["uncaught_exceptions"] + report["invalid_accepted"] + report["hangs"]
    return int(bad + report["failures_by_kind"].get("error naming no file", 0))


def merge_reports(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """One report from the reports of parallel workers (see ``--jobs``)."""
    merged: dict[str, Any] = {
        "seed": [r["seed"] for r in reports],
        "jobs": len(reports),
        "seconds": max(r["seconds"] for r in reports),
        "cpu_seconds": round(sum(r["cpu_seconds"] for r in reports), 1),
    }
    for key in ("loader_inputs", "loader_valid_loads", "api_calls", "api_ok"):
        merged[key] = sum(r[key] for r in reports)
    for key in ("calls_by_function", "clean_errors_by_class", "failures_by_kind"):
        total: Counter[str] = Counter()
        for r in reports:
            total.update(r[key])
        merged[key] = dict(sorted(total.items()))
    for key in ("uncaught_exceptions", "invalid_accepted", "hangs"):
        merged[key] = sum(r[key] for r in reports)
    slowest = max(reports, key=lambda r: r["slowest_input_seconds"])
    merged["slowest_input_seconds"] = slowest["slowest_input_seconds"]
    merged["slowest_input"] = slowest["slowest_input"]
    merged["peak_memory_mb_per_worker"] = [r["peak_memory_mb"] for r in reports]
    # an upper bound (the workers' peaks need not coincide); run_jobs replaces it by the
    # sampled peak of the workers' summed resident memory where /proc can be read
    merged["peak_memory_mb_sum_of_worker_peaks"] = round(
        sum(r["peak_memory_mb"] for r in reports), 1
    )
    merged["peak_memory_mb"] = merged["peak_memory_mb_sum_of_worker_peaks"]
    merged["failures"] = [f for r in reports for f in r["failures"]][:50]
    return merged


def _resident_mb(pid: int) -> float:
    """Resident memory of a running process in MB (0 where /proc cannot tell)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def run_jobs(args: argparse.Namespace, seed: int) -> int:
    """Run ``args.jobs`` workers (this script with ``--jobs 1``) and merge their reports."""
    with tempfile.TemporaryDirectory(prefix="softcalc-fuzz-jobs-") as tmp:
        procs = []
        for i in range(args.jobs):
            command = [
                sys.executable,
                str(Path(__file__).resolve()),
                *("--budget", str(args.budget), "--seed", str(seed + i)),
                *("--timeout", str(args.timeout), "--memory-gb", str(args.memory_gb)),
                *("--loader-share", str(args.loader_share)),
                *("--report", str(Path(tmp) / f"worker{i}.json")),
            ]
            procs.append(subprocess.Popen(command, stdout=subprocess.DEVNULL))
        together = 0.0  # largest sampled sum of the workers' resident memory, in MB
        while any(p.poll() is None for p in procs):
            together = max(together, sum(_resident_mb(p.pid) for p in procs))
            time.sleep(0.05)
        codes = [p.wait() for p in procs]
        reports = []
        for i, code in enumerate(codes):
            path = Path(tmp) / f"worker{i}.json"
            if not path.exists():
                print(f"worker {i} (seed {seed + i}) exited {code} without a report")
                return 1
            reports.append(json.loads(path.read_text(encoding="utf-8")))
    report = merge_reports(reports)
    if together > 0:  # /proc was readable: the measured peak of the whole run
        report["peak_memory_mb"] = round(together, 1)
    text = json.dumps(report, indent=2, default=str)
    print(text)
    if args.report is not None:
        args.report.write_text(text + "\n", encoding="utf-8")
    return 1 if _bad(report) else 0


if __name__ == "__main__":
    sys.exit(main())
