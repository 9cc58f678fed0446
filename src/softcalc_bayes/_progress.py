"""Optional progress bars for long calls (Monte Carlo, Sobol, evaluation).

``progress=None`` (the default of every public function that takes it) shows a bar
only where someone is watching: in a Jupyter kernel, or when stderr is a terminal.
``True`` forces a bar, ``False`` turns it off. Bars need ``tqdm`` (the ``[notebook]``
extra); without it nothing is shown. In a notebook the widget bar is used only when
ipywidgets is installed, so tqdm never warns that ``IProgress`` is missing; otherwise
the plain text bar is used. Nothing else is ever written.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

__all__ = ["Bar", "in_notebook", "progress_bar", "wants_progress"]


class Bar(Protocol):
    """What a caller may do with a bar: advance it."""

    def update(self, n: int = 1) -> Any: ...


class _Silent:
    """The bar used when progress is off."""

    def update(self, n: int = 1) -> None:
        return None


def in_notebook() -> bool:
    """True inside a Jupyter kernel (an IPython ``ZMQInteractiveShell``)."""
    shell_module = sys.modules.get("IPython")
    if shell_module is None:
        return False
    get = getattr(shell_module, "get_ipython", None)
    shell = get() if callable(get) else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def _stderr_is_terminal() -> bool:
    stream = sys.stderr
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


def wants_progress(progress: bool | None) -> bool:
    """Resolve a ``progress=`` argument: None means "only where someone watches".

    Examples
    --------
    >>> wants_progress(False)
    False
    >>> wants_progress(True)
    True
    """
    if progress is not None:
        return bool(progress)
    return in_notebook() or _stderr_is_terminal()


def _tqdm_class() -> Any | None:
    if importlib.util.find_spec("tqdm") is None:
        return None
    if in_notebook() and importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.notebook import tqdm as notebook_tqdm

        return notebook_tqdm
    from tqdm import tqdm as text_tqdm

    return text_tqdm


@contextmanager
def progress_bar(
    total: int, *, desc: str, progress: bool | None, unit: str = "it"
) -> Iterator[Bar]:
    """A bar of ``total`` steps (or a silent stand-in), closed on exit.

    Examples
    --------
    >>> with progress_bar(3, desc="work", progress=False) as bar:
    ...     for _ in range(3):
    ...         bar.update()
    """
    cls = _tqdm_class() if wants_progress(progress) else None
    if cls is None:
        yield _Silent()
        return
    bar = cls(total=total, desc=desc, unit=unit, leave=False)
    try:
        yield bar
    finally:
        bar.close()
