"""Cohorts larger than memory: Dask DataFrames and streamed case files.

:func:`posterior_batch_dask` maps :meth:`Network.posterior_batch` over the partitions
of a ``dask.dataframe.DataFrame`` and returns one. The network enters the task graph
once (a single ``dask.delayed`` node), so a ``dask.distributed`` cluster sends it to
each worker once, not with every partition; each worker compiles its own copy on first
use. Works with any scheduler: threads, processes or a cluster (``pip install
softcalc-bayes[cohort]``).

:func:`score_file` streams a CSV or parquet file in chunks (pyarrow) through the same
path and writes a parquet or CSV file (chosen by the output's suffix), with bounded
memory whatever the file's length; the ``softcalc batch`` command is this function with
a progress line. In a CSV file an empty cell, or one of :data:`CSV_NOT_OBSERVED`, means
not observed; any other text is a state (``None`` or ``-`` is an unknown state).

Columns are checked before any case is scored: each must be a finding of the network
or be named in ``keep`` (passed through unchanged, e.g. a patient id). A bad value
raises :class:`~softcalc_bayes.exceptions.EvidenceError` naming the row (counted from 0
over the data rows of the whole input) and the column.
"""

from __future__ import annotations

import concurrent.futures as cf
import difflib
import multiprocessing
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._evidence import comma_set
from ._provenance_hash import stamp
from ._validation import shown, unknown_message
from .exceptions import EvidenceError
from .network import Network

__all__ = [
    "CSV_NOT_OBSERVED",
    "PROVENANCE_SUFFIX",
    "check_columns",
    "posterior_batch_dask",
    "score_file",
]

CHUNK_ROWS = 50_000
_INPUTS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
_OUTPUTS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
_OUTPUT_SUFFIXES = ".parquet, .pq or .csv"

CSV_NOT_OBSERVED = ("", "NA", "N/A", "n/a", "#N/A", "NaN", "nan", "NULL", "null")
"""CSV cells read as not observed: the empty cell and the usual spellings of a missing
value that pandas also reads so (``NA`` from R, ``#N/A`` from spreadsheets). No state
of a network may be spelled so; other text (``None``, ``-``, ``?``) is read as a state."""


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
        passing = f"--keep {column} (Python: keep=[{column!r}])"
        if node is None:
            choices = [f for f in net.findings if f != target]
            hint = _close_finding(column, choices)
            raise EvidenceError(
                f"Unknown finding {shown(column)}."
                + (f" Did you mean {hint!r}?" if hint else "")
                + f" Not a finding? Pass the column through unchanged with {passing}."
                + f" Valid findings: {', '.join(choices)}"
            )
        if node.kind == "latent":
            problem = f"Column {column!r} is a latent node and cannot be observed."
        elif column == target:
            problem = f"Column {column!r} is the target of the query."
        else:
            findings.append(column)
            continue
        raise EvidenceError(f"{problem} To pass it through unchanged, use {passing}.")
    return findings


def _close_finding(column: object, findings: Sequence[str]) -> str | None:
    """The finding ``column`` is likely a misspelling of, or None: nearly the same letters
    (case aside), or one name begins the other. A finding merely containing a short name
    (``id`` in ``chronic_kidney_disease``) is not suggested.

    Examples
    --------
    >>> [_close_finding(c, ["pain", "sex", "chronic_kidney_disease"]) for c in ["Sex", "id", "patient"]]
    ['sex', None, None]
    """
    if not isinstance(column, str) or len(column) < 3:
        return None
    lowered = {f.lower(): f for f in findings}
    name = column.lower()
    near = difflib.get_close_matches(name, list(lowered), n=1, cutoff=0.75)
    if near:
        return lowered[near[0]]
    prefix = [f for low, f in lowered.items() if low.startswith(name) or name.startswith(low)]
    return prefix[0] if prefix else None


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


def _output_kind(output: Path, source: Path) -> str:
    """``"parquet"`` or ``"csv"`` from the suffix of ``output``, checked before any work:
    a writable place (an existing folder) that is not the input file itself."""
    if output.is_dir():
        raise EvidenceError(f"{output}: is a folder; give a file name ending in {_OUTPUT_SUFFIXES}")
    kind = _OUTPUTS.get(output.suffix.lower())
    if kind is None:
        got = f"not {output.suffix!r}" if output.suffix else "and it has no suffix"
        raise EvidenceError(
            f"{output}: the output file must end in {_OUTPUT_SUFFIXES} "
            f"(.parquet or .pq: parquet, .csv: CSV), {got}"
        )
    if output.exists() and output.samefile(source):
        raise EvidenceError(
            f"{output}: is the input file; writing it would destroy the cases, "
            "so give another output file"
        )
    folder = output.parent
    if not folder.exists():
        raise EvidenceError(f"{output}: the folder {folder} does not exist")
    if not folder.is_dir():
        raise EvidenceError(f"{output}: {folder} is not a folder")
    return kind


def _not_text(path: Path) -> str | None:
    """Why the start of a CSV file is not UTF-8 text, or None: pyarrow's own errors on
    binary files quote the bytes."""
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    if b"\0" in head:
        return "not a CSV text file (it holds binary data)"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not a character cut by the end of the sample
            return (
                f"not UTF-8 text (byte {head[exc.start]:#04x} at offset {exc.start}); "
                "save the CSV file as UTF-8"
            )
    return None


def _unreadable(kind: str, exc: Exception) -> str:
    """The message for a file pyarrow cannot read (without the file's name): one line
    of printable text, cut to 200 characters."""
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})"
    detail = " ".join(str(exc).split())
    detail = "".join(c if c.isprintable() else repr(c)[1:-1] for c in detail)
    if kind == "csv" and "Empty CSV file" in detail:
        return "the file is empty; a CSV file needs a header row naming the columns"
    if len(detail) > 200:
        detail = detail[:197] + "..."
    name = "CSV" if kind == "csv" else kind
    return f"cannot read the {name} file: {detail}"


def _read_chunks(path: Path, chunk_rows: int) -> tuple[list[str], int | None, Iterator[Any]]:
    """Column names, row count (None for CSV) and an iterator of pyarrow record batches.

    A file pyarrow cannot read raises :class:`EvidenceError`: at once if its start is
    bad, else when the iterator reaches the bad part (without the file's name then)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    kind = _input_kind(path)
    try:
        if kind == "parquet":
            handle = pq.ParquetFile(path)
            names, total = handle.schema_arrow.names, handle.metadata.num_rows
            batches = handle.iter_batches(chunk_rows)
        else:
            problem = _not_text(path)
            if problem is not None:
                raise EvidenceError(f"{path}: {problem}")
            with pacsv.open_csv(path) as probe:
                names, total = probe.schema.names, None
            batches = pacsv.open_csv(
                path,
                read_options=pacsv.ReadOptions(block_size=1 << 22),
                convert_options=pacsv.ConvertOptions(
                    column_types={n: pa.string() for n in names},
                    null_values=[""],  # the other spellings: finding columns only, later
                    strings_can_be_null=True,
                ),
            )
    except (pa.ArrowInvalid, UnicodeDecodeError, OSError) as exc:
        raise EvidenceError(f"{path}: {_unreadable(kind, exc)}") from None
    return names, total, _checked(batches, kind)


def _checked(batches: Iterator[Any], kind: str) -> Iterator[Any]:
    """``batches``, with a read error raised as :class:`EvidenceError`."""
    import pyarrow as pa

    try:
        yield from batches
    except (pa.ArrowInvalid, UnicodeDecodeError, OSError) as exc:
        raise EvidenceError(_unreadable(kind, exc)) from None


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


def _csv_not_observed(frame: pd.DataFrame, keep: Sequence[str]) -> pd.DataFrame:
    """Cells spelled as in :data:`CSV_NOT_OBSERVED` made missing, in finding columns
    only: a kept column (a patient id "NA") is copied as it was written."""
    out = frame
    for column in frame.columns:
        if column in keep:
            continue
        blank = frame[column].isin(CSV_NOT_OBSERVED).to_numpy()
        if blank.any():
            out = out.copy() if out is frame else out
            out[column] = frame[column].astype(object).where(~blank, None)
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
    if csv:
        frame = _csv_not_observed(frame, keep)
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
    """Score a CSV or parquet file of cases chunk by chunk into a parquet or CSV file.

    Parameters
    ----------
    net : Network
        The network.
    source : str or Path
        ``.csv`` (UTF-8, a header row of distinct names; an empty cell or one of
        :data:`CSV_NOT_OBSERVED` means not observed; ``state1,state2`` in a quoted cell
        is a set of states) or ``.parquet``/``.pq`` file (null means not observed; a
        list column holds sets of states).
    output : str or Path
        The file to write, in the format of its suffix: ``.parquet`` or ``.pq``
        (parquet, with the provenance in its metadata: network, version, content hash,
        profile, target) or ``.csv`` (CSV, written chunk by chunk too, with the
        provenance in ``OUT.csv.provenance.json`` beside it); the ``keep`` columns, then
        one column per state. It must not be the input; its folder must exist.
    target : str, optional
        The node to query (default: the network's target).
    keep : sequence of str
        Input columns copied to the output (e.g. a patient id); a name given twice is
        kept once.
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
        Before any case is scored: a missing, unreadable or empty input, duplicate
        column names, bad columns, or an output that cannot be written (a suffix other
        than those above, a missing folder, a folder, the input itself). While scoring:
        a bad value (naming its row and column) or an unreadable part of the input. The
        output is written beside ``output`` and moved onto it at the end, so a run that
        fails leaves a file already at ``output`` as it was. Every message begins with
        the file it is about. A CSV input whose finding has a state spelled like a
        missing cell (:data:`CSV_NOT_OBSERVED`) is refused.

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

    source, output = Path(source), Path(output)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise EvidenceError(f"workers must be an integer >= 1, got {workers!r}")
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise EvidenceError(f"chunk_rows must be an integer >= 1, got {chunk_rows!r}")
    keep = list(dict.fromkeys(keep))
    csv = _input_kind(source) == "csv"
    kind = _output_kind(output, source)
    names, total, batches = _read_chunks(source, chunk_rows)
    twice = sorted({str(n) for n in names if names.count(n) > 1})
    if twice:
        raise EvidenceError(
            f"{source}: duplicate column names: {', '.join(twice)}; each column needs its own name"
        )
    try:
        findings = check_columns(net, names, target=target, keep=keep)
    except EvidenceError as exc:
        raise EvidenceError(f"{source}: {exc}") from None
    if csv:
        for finding in findings:
            clash = [s for s in net.states(finding) if s in CSV_NOT_OBSERVED]
            if clash:
                raise EvidenceError(
                    f"{source}: finding {finding!r} has a state spelled {clash[0]!r}, which "
                    "a CSV cell reads as not observed; give the cases as a parquet file"
                )
    chunks = _rebatch(batches, chunk_rows)
    # written beside the output and moved onto it at the end: a run that fails or is
    # interrupted leaves a file already at ``output`` as it was, and no half-written one
    partial = output.with_name(f".{output.name}.partial-{os.getpid()}")
    writer: Any = None
    done = 0
    attrs: dict[str, Any] = {}
    try:
        for result in _results(net, chunks, target, keep, workers, csv):
            table = pa.Table.from_pandas(result, preserve_index=False)
            if writer is None:
                attrs = {str(k): v for k, v in result.attrs.items()}
                writer = _open_writer(partial, output, kind, table.schema)
            _write(writer, table, output, kind)
            done += len(result)
            if progress is not None:
                progress(done, total)
        if writer is None:  # no data rows: the columns only
            empty = _score(pd.DataFrame(columns=names, dtype=object), net, target, keep)
            attrs = {str(k): v for k, v in empty.attrs.items()}
            table = pa.Table.from_pandas(empty, preserve_index=False)
            writer = _open_writer(partial, output, kind, table.schema)
            _write(writer, table, output, kind)
        writer.close()
        writer = None
        if kind == "csv":  # a CSV has no place for the provenance: a file beside it
            _write_provenance(output, attrs, source)
        os.replace(partial, output)
    except EvidenceError as exc:
        if isinstance(exc, _OutputError):
            raise
        raise EvidenceError(f"{source}: {exc}") from None
    finally:
        if writer is not None:
            writer.close()
        partial.unlink(missing_ok=True)
    return done


PROVENANCE_SUFFIX = ".provenance.json"
"""A CSV output's provenance file: ``OUT.csv`` + this suffix (parquet keeps it inside)."""


def _write_provenance(output: Path, attrs: Mapping[str, Any], source: Path) -> None:
    """The network, version, content hash, profile and target behind a CSV output."""
    import json

    record = {"output": output.name, "input": source.name, **attrs}
    path = output.with_name(output.name + PROVENANCE_SUFFIX)
    try:
        path.write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")
    except OSError as exc:
        raise _OutputError(
            f"{path}: cannot write the provenance file ({' '.join(str(exc).split())})"
        ) from None


class _OutputError(EvidenceError):
    """The output file cannot be written (its message names it)."""


def _open_writer(partial: Path, output: Path, kind: str, schema: Any) -> Any:
    """A pyarrow parquet or CSV writer of ``schema`` tables to ``partial`` (errors name
    ``output``, the file the user asked for)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    try:
        if kind == "csv":
            return pacsv.CSVWriter(partial, schema)
        return pq.ParquetWriter(partial, schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:  # a column it cannot hold
        name = "CSV" if kind == "csv" else kind
        detail = " ".join(str(exc).split())
        raise _OutputError(f"{output}: cannot write the {name} file: {detail}") from None
    except OSError as exc:
        raise _OutputError(
            f"{output}: cannot write the file ({' '.join(str(exc).split())})"
        ) from None


def _write(writer: Any, table: Any, output: Path, kind: str) -> None:
    """Append ``table`` to ``writer``; a column the format cannot hold raises
    :class:`EvidenceError` (a list column kept from parquet, written to CSV)."""
    import pyarrow as pa

    try:
        writer.write_table(table)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        name = "CSV" if kind == "csv" else kind
        detail = " ".join(str(exc).split())
        raise _OutputError(f"{output}: cannot write the {name} file: {detail}") from None


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
