"""Output helpers of the command line: aligned tables and strict JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["emit_json", "jsonable", "print_rows", "print_table", "records"]


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data: numpy scalars unwrapped, NaN and pandas NA as None.

    Examples
    --------
    >>> import numpy as np
    >>> jsonable({"p": np.float64(0.5), "missing": float("nan"), "parents": ("a", "b")})
    {'p': 0.5, 'missing': None, 'parents': ['a', 'b']}
    """
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()  # numpy scalar
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    return str(value)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` (index included when it is named) as JSON-ready dicts."""
    if frame.index.name is not None:
        frame = frame.reset_index()
    return [jsonable(row) for row in frame.to_dict(orient="records")]


def emit_json(data: Any) -> None:
    """Print ``data`` as strict JSON (no NaN)."""
    print(json.dumps(jsonable(data), indent=2, allow_nan=False))


def print_rows(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str], floatfmt: str = "{:.4f}"
) -> None:
    """Print plain rows aligned like :func:`print_table`, without pandas."""
    cells = [[_shown(row.get(column), floatfmt) for column in columns] for row in rows]
    _print_cells([str(c) for c in columns], cells)


def print_table(frame: pd.DataFrame, floatfmt: str = "{:.4f}") -> None:
    """Print ``frame`` aligned, floats formatted, missing values shown as '-'."""
    import pandas as pd

    shown = frame.copy()
    for column in shown.columns:
        if pd.api.types.is_float_dtype(shown[column]):
            shown[column] = shown[column].map(lambda v: "-" if pd.isna(v) else floatfmt.format(v))
        else:
            shown[column] = shown[column].astype(object).where(shown[column].notna(), "-")
    cells = [[str(value) for value in row] for row in shown.itertuples(index=False)]
    _print_cells([str(c) for c in shown.columns], cells)


def _shown(value: Any, floatfmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return floatfmt.format(value)
    return str(value)


def _print_cells(header: list[str], cells: list[list[str]]) -> None:
    """Every column right-aligned to its widest cell, one space apart."""
    widths = [max([len(h), *(len(row[i]) for row in cells)]) for i, h in enumerate(header)]
    for row in [header, *cells]:
        print(" ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
