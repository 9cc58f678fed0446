"""Cohorts larger than memory: Dask DataFrames and streamed case files.

:func:`posterior_batch_dask` maps :meth:`Network.posterior_batch` over the partitions
of a ``dask.dataframe.DataFrame`` and returns one. The network enters the task graph
once (a single ``dask.delayed`` node), so a ``dask.distributed`` cluster sends it to
each worker once, not with every partition; each worker compiles its own copy on first
use. Works with any scheduler: threads, processes or a cluster (``pip install
softcalc-bayes[cohort]``).

:func:`score_file` streams a CSV or parquet file in chunks (pyarrow) through the same
path and writes a parquet file, with bounded memory whatever the file's length; the
``softcalc batch`` command is this function with a progress line.

Columns are checked before any case is scored: each must be a finding of the network
or be named in ``keep`` (passed through unchanged, e.g. a patient id). A bad value
raises :class:`~softcalc_bayes.exceptions.EvidenceError` naming the row (counted from 0
over the data rows of the whole input) and the column.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._evidence import comma_set
from ._provenance_hash import stamp
from ._validation import unknown_message
from .exceptions import EvidenceError
from .network import Network

__all__ = ["check_columns", "posterior_batch_dask", "score_file"]

CHUNK_ROWS = 50_000
_INPUTS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def check_columns(
    net: Network, columns: Sequence[Any], *, target: str | None = None, keep: Sequence[str] = ()
) -> list[str]:
    """The finding columns among ``columns``; every other column must be in ``keep``.

    Raises
    ------
    EvidenceError
        A column that is neither a finding nor kept (with the closest finding), a
        kept column that is missing, a latent node, the target itself, or a kept
        column named like a state of the target (the output would hold both).

    Examples
    --------
    >>> from softcalc_bayes import load_network
    >>> check_columns(load_network(), ["id", "fat_in_lesion"], keep=["id"])
    ['fat_in_lesion']
    """
    target = net.target if target is None else target
    if target not in net.nodes:
        raise EvidenceError(unknown_message("target", target, net.nodes))
    missing = [k for k in keep if k not in columns]
    if missing:
        raise EvidenceError(
            f"Column {missing[0]!r} given in keep is not in the input; columns: "
            + ", ".join(map(str, columns))
        )
    clash = [k for k in keep if k in net.states(target)]
    if clash:
        raise EvidenceError(
            f"Kept column {clash[0]!r} has the name of a state of {target!r}: rename it"
        )
    findings = []
    for column in columns:
        if column in keep:
            continue
        node = net.spec.nodes.get(column) if isinstance(column, str) else None
        if node is None:
            problem = unknown_message("finding", column, [f for f in net.findings if f != target])
        elif node.kind == "latent":
            problem = f"Column {column!r} is a latent node and cannot be observed."
        elif column == target:
            problem = f"Column {column!r} is the target of the query."
        else:
            findings.append(column)
            continue
        raise EvidenceError(
            f"{problem} To pass a column through unchanged, keep it "
            f"(keep=[{column!r}]; CLI: --keep {column})."
        )
    return findings


def _score(
    frame: pd.DataFrame,
    net: Network,
    target: str | None,
    keep: Sequence[str],
    soft: Mapping[str, Any] | None = None,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """Posteriors of one partition or chunk; ``n_jobs=1`` where workers already run
    side by side (Dask partitions, worker processes), so threads do not oversubscribe."""
    findings = [c for c in frame.columns if c not in keep]
    post = net.posterior_batch(frame[findings], target=target, soft=soft, n_jobs=n_jobs)
    post.columns = pd.Index([str(c) for c in post.columns])
    if keep:
        post = pd.concat([frame[list(keep)], post], axis=1)
    return stamp(post, net.spec, {"target": net.target if target is None else target})


def posterior_batch_dask(
    net: Network,
    cases: Any,
    *,
    target: str | None = None,
    keep: Sequence[str] = (),
    soft: Mapping[str, Mapping[str, float]] | None = None,
) -> Any:
    """Posteriors for a Dask DataFrame of cases, as a lazy Dask DataFrame.

    Parameters
    ----------
    net : Network
        The network. Its specification is sent to each worker once (about 3 MB)
        and compiled there on first use (about half a second), rather than the
        compiled engine (about 30 MB), which would make the task graph large.
    cases : dask.dataframe.DataFrame
        One row per case, one column per finding; missing means not observed.
    target : str, optional
        The node to query (default: the network's target).
    keep : sequence of str
        Columns passed through in front of the posterior columns (e.g. an id).
    soft : mapping, optional
        Soft evidence for every case, node -> {state: likelihood} (as for
        :meth:`Network.posterior_batch`; per-case likelihood tables are not supported).

    Returns
    -------
    dask.dataframe.DataFrame
        Same partitions and index as ``cases``; the ``keep`` columns, then one float
        column per target state (network order). Nothing runs until ``.compute()``,
        ``.to_parquet()`` or similar. Each computed partition carries the network's
        content hash, profile and library version in ``.attrs`` (as does the
        concatenated result of ``.compute()``).

    Raises
    ------
    EvidenceError
        Bad columns (at once); bad values when the partition holding them runs.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> from softcalc_bayes import load_network
    >>> net = load_network()
    >>> cases = pd.DataFrame({"fat_in_lesion": ["present", None, "absent"] * 2})
    >>> out = posterior_batch_dask(net, dd.from_pandas(cases, npartitions=2))
    >>> out.npartitions, out.compute().shape
    (2, (6, 39))
    """
    import dask.dataframe as dd
    from dask.delayed import delayed

    if not isinstance(cases, dd.DataFrame):
        raise EvidenceError(
            f"cases must be a dask.dataframe.DataFrame, got {type(cases).__name__} "
            "(use Network.posterior_batch for pandas)"
        )
    keep = list(keep)
    check_columns(net, list(cases.columns), target=target, keep=keep)
    target_name = net.target if target is None else target
    meta = pd.concat(
        [
            cases._meta[keep],
            pd.DataFrame(
                {s: pd.Series(dtype=float) for s in net.states(target_name)},
                index=cases._meta.index,
            ),
        ],
        axis=1,
    )
    # an uncompiled copy: each worker compiles it once, and the graph stays small
    shipped = delayed(type(net)(net.spec), pure=True, traverse=False)
    mapper: Any = cases.map_partitions
    return mapper(_score, shipped, target, keep, soft, 1, meta=meta)


# ------------------------------------------------------------------ case files
def _input_kind(path: Path) -> str:
    kind = _INPUTS.get(path.suffix.lower())
    if kind is None:
        raise EvidenceError(
            f"{path}: cannot read {path.suffix!r} files; give a .csv or .parquet file"
        )
    if not path.is_file():
        raise EvidenceError(f"{path}: file not found")
    return kind


def _read_chunks(path: Path, chunk_rows: int) -> tuple[list[str], int | None, Iterator[Any]]:
    """Column names, row count (None for CSV) and an iterator of pyarrow record batches."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if _input_kind(path) == "parquet":
        handle = pq.ParquetFile(path)
        return handle.schema_arrow.names, handle.metadata.num_rows, handle.iter_batches(chunk_rows)
    with pacsv.open_csv(path) as probe:
        names = probe.schema.names
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=1 << 22),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=True
        ),
    )
    return names, None, iter(reader)


def _rebatch(batches: Iterator[Any], rows: int) -> Iterator[pd.DataFrame]:
    """pandas chunks of at most ``rows`` rows, indexed by global row number."""
    offset = 0
    for batch in batches:
        frame = batch.to_pandas()
        for start in range(0, len(frame), rows):
            part = frame.iloc[start : start + rows]
            part.index = pd.RangeIndex(offset, offset + len(part))
            offset += len(part)
            yield part


def _csv_sets(frame: pd.DataFrame, net: Network, keep: Sequence[str]) -> pd.DataFrame:
    """A CSV cell ``state1,state2`` (unless it is itself a state) as a set of states, as
    ``finding=state1,state2`` on the command line; the other cells are left as they are."""
    out = frame
    for column in frame.columns:
        if column in keep or column not in net.nodes:
            continue
        values = frame[column]
        commas = values.str.contains(",", regex=False).fillna(False).to_numpy(dtype=bool, copy=True)
        if not commas.any():
            continue
        rows = np.flatnonzero(commas).tolist()
        cells = values.astype(object).to_numpy(copy=True)
        states = net.states(column)
        for i in rows:  # one by one: a tuple is one cell
            cells[i] = comma_set(cells[i], states)
        if any(isinstance(cells[i], tuple) for i in rows):
            out = out.copy() if out is frame else out
            out[column] = pd.Series(cells, index=frame.index, dtype=object)
    return out


_WORKER_NET: list[Any] = []


def _score_chunk(
    frame: pd.DataFrame,
    net: Network,
    target: str | None,
    keep: Sequence[str],
    csv: bool,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """:func:`_score` for a chunk of a file. A CSV field ``state1,state2`` is an unknown
    state to the encoder; only when a chunk fails are such fields read as sets of states
    and the chunk scored again, so files without sets pay nothing for them."""
    try:
        return _score(frame, net, target, keep, None, n_jobs)
    except EvidenceError:
        converted = _csv_sets(frame, net, keep) if csv else frame
        if converted is frame:
            raise
    return _score(converted, net, target, keep, None, n_jobs)


def _init_worker(net: Network, target: str | None, keep: Sequence[str], csv: bool) -> None:
    _WORKER_NET[:] = [net, target, keep, csv]


def _score_in_worker(frame: pd.DataFrame) -> pd.DataFrame:
    net, target, keep, csv = _WORKER_NET
    return _score_chunk(frame, net, target, keep, csv, 1)


def score_file(
    net: Network,
    source: str | Path,
    output: str | Path,
    *,
    target: str | None = None,
    keep: Sequence[str] = (),
    workers: int = 1,
    chunk_rows: int = CHUNK_ROWS,
    progress: Callable[[int, int | None], None] | None = None,
) -> int:
    """Score a CSV or parquet file of cases chunk by chunk into a parquet file.

    Parameters
    ----------
    net : Network
        The network.
    source : str or Path
        ``.csv`` (header row; empty fields mean not observed; ``state1,state2`` in a
        quoted field is a set of states) or ``.parquet`` file (a list column holds sets
        of states).
    output : str or Path
        The parquet file to write: the ``keep`` columns, then one column per state.
    target : str, optional
        The node to query (default: the network's target).
    keep : sequence of str
        Input columns copied to the output (e.g. a patient id).
    workers : int
        Processes scoring chunks in parallel (1: in this process).
    chunk_rows : int
        Rows per chunk; memory grows with ``chunk_rows * workers``, not the file.
    progress : callable, optional
        Called after each chunk with (rows done, total rows or None for CSV).

    Returns
    -------
    int
        Number of rows scored.

    Raises
    ------
    EvidenceError
        A missing or unreadable input, bad columns (before any case is scored), or a
        bad value (naming its row and column; nothing is left at ``output``).

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> from softcalc_bayes import load_network
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"id": [1, 2], "fat_in_lesion": ["present", ""]}).to_csv(
    ...     folder / "cases.csv", index=False)
    >>> score_file(load_network(), folder / "cases.csv", folder / "out.parquet", keep=["id"])
    2
    >>> pd.read_parquet(folder / "out.parquet").shape
    (2, 40)
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    source, output = Path(source), Path(output)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise EvidenceError(f"workers must be an integer >= 1, got {workers!r}")
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise EvidenceError(f"chunk_rows must be an integer >= 1, got {chunk_rows!r}")
    keep = list(keep)
    names, total, batches = _read_chunks(source, chunk_rows)
    check_columns(net, names, target=target, keep=keep)
    chunks = _rebatch(batches, chunk_rows)
    csv = _input_kind(source) == "csv"
    writer: Any = None
    done = 0
    try:
        for result in _results(net, chunks, target, keep, workers, csv):
            table = pa.Table.from_pandas(result, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(output, table.schema)
            writer.write_table(table)
            done += len(result)
            if progress is not None:
                progress(done, total)
    except EvidenceError as exc:
        if writer is not None:
            writer.close()
            writer = None
        output.unlink(missing_ok=True)
        raise EvidenceError(f"{source}: {exc}") from None
    finally:
        if writer is not None:
            writer.close()
    if done == 0:
        empty = _score(pd.DataFrame(columns=names, dtype=object), net, target, keep)
        pq.write_table(pa.Table.from_pandas(empty, preserve_index=False), output)
    return done


def _results(
    net: Network,
    chunks: Iterator[pd.DataFrame],
    target: str | None,
    keep: list[str],
    workers: int,
    csv: bool,
) -> Iterator[pd.DataFrame]:
    """Scored chunks in input order; at most ``2 * workers`` chunks in flight."""
    if workers == 1:
        for chunk in chunks:
            yield _score_chunk(chunk, net, target, keep, csv)
        return
    context = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(net, target, keep, csv)
    ) as pool:
        pending: list[cf.Future[pd.DataFrame]] = []
        for chunk in chunks:
            pending.append(pool.submit(_score_in_worker, chunk))
            if len(pending) >= 2 * workers:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()
