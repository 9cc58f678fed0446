"""An interactive explorer for Jupyter: pick findings, watch the differential move.

Needs the ``[notebook]`` extra (ipywidgets and matplotlib)::

    pip install "softcalc-bayes[notebook]"

::

    from softcalc_bayes import load_network
    from softcalc_bayes.explorer import explore

    explore(load_network())

One dropdown per finding, in tabs by finding group (``network.yaml:
finding_groups``: clinical, imaging, laboratory, molecular); a bar chart of the
posterior and of the diagnosis groups, redrawn on every change; the prior profile;
and a button that draws the sensitivity tornado of the current evidence. The
numbers drawn are attributes (:attr:`Explorer.posterior`,
:attr:`Explorer.group_posterior`, :attr:`Explorer.sensitivity_table`), so the
explorer can be driven and checked without a browser.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ._display import finding_groups
from .exceptions import EvidenceError
from .network import Network

__all__ = ["NOT_OBSERVED", "SET_LABEL", "Explorer", "explore"]

NOT_OBSERVED = "(not observed)"
"""Label of the dropdown entry meaning "not observed" (its value is None)."""

SET_LABEL = "one of: "
"""Start of the label of a dropdown entry holding a set of states (its value is the tuple)."""


def _widgets() -> Any:
    try:
        import ipywidgets
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the explorer needs ipywidgets and matplotlib: pip install 'softcalc-bayes[notebook]'"
        ) from exc
    return ipywidgets


def _definition(net: Network, name: str) -> str:
    """The tooltip of a finding: its definition, then what each state means where written."""
    states = net.definitions(name)
    lines = [net.node(name).description]
    lines += [f"{state}: {text}" for state, text in states.items() if text]
    return "\n".join(line for line in lines if line)


def _png(fig: Any) -> bytes:
    """The figure as PNG bytes; the figure is closed (no pyplot state is kept)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=72)
    plt.close(fig)
    return buffer.getvalue()


class Explorer:
    """Interactive posterior explorer (ipywidgets); display it as the last line of a cell.

    Parameters
    ----------
    net : Network
        The network (its profile is the initial choice of the profile selector).
    evidence : mapping, optional
        Initial findings (states, or sets of states as for :meth:`set_evidence`).
    top : int
        Number of diagnoses in the bar chart.

    Attributes
    ----------
    net : Network
        The network under the selected profile.
    dropdowns : dict
        Finding -> its ``ipywidgets.Dropdown`` (value None: not observed; a tuple: a set
        of states given through :meth:`set_evidence`).
    profile : ipywidgets.Dropdown
        The prior profile selector.
    posterior : pandas.Series
        The posterior drawn in the chart (as :meth:`Network.posterior`).
    group_posterior : pandas.Series
        Probability of each diagnosis group (as :meth:`Network.posterior_groups`).
    error : str or None
        Why the current evidence was refused (probability zero); the chart then keeps
        the last valid posterior.
    sensitivity_table : pandas.DataFrame or None
        The table behind the tornado on screen; None before the first tornado and
        after every change of evidence or profile (which also clears the drawing).
    widget : ipywidgets.VBox
        The whole interface.
    """

    def __init__(
        self, net: Network, *, evidence: Mapping[str, Any] | None = None, top: int = 10
    ) -> None:
        w = _widgets()
        self._base = net
        self.net = net
        self.top = top
        self.error: str | None = None
        self.sensitivity_table: pd.DataFrame | None = None
        self._hold = False
        self.dropdowns: dict[str, Any] = {}
        pages = []
        groups = finding_groups(net)
        for names in groups.values():
            boxes = []
            for name in names:
                options = [(NOT_OBSERVED, None), *((s, s) for s in net.states(name))]
                box = w.Dropdown(
                    options=options,
                    value=None,
                    description=name,
                    # hovering shows the finding's definition (what each state means)
                    tooltip=_definition(net, name),
                    style={"description_width": "15em"},
                    layout=w.Layout(width="32em"),
                )
                box.observe(self._changed, names="value")
                self.dropdowns[name] = box
                boxes.append(box)
            pages.append(w.VBox(boxes))
        tabs = w.Tab(children=pages)
        for i, group in enumerate(groups):
            tabs.set_title(i, group)
        self.profile = w.Dropdown(
            options=list(net.profiles), value=net.profile, description="profile"
        )
        self.profile.observe(self._profile_changed, names="value")
        self.reset_button = w.Button(description="Clear findings")
        self.reset_button.on_click(lambda _: self.set_evidence({}))
        self.tornado_button = w.Button(description="Sensitivity tornado")
        self.tornado_button.on_click(lambda _: self.show_tornado())
        self.status = w.HTML()
        self.chart = w.Image(format="png")
        self.tornado = w.Image(format="png")
        self.widget = w.VBox(
            [
                w.HBox([self.profile, self.reset_button, self.tornado_button]),
                self.status,
                w.HBox([tabs, self.chart]),
                self.tornado,
            ]
        )
        self.posterior = net.posterior({})
        self.group_posterior = net.posterior_groups({})
        self.set_evidence(evidence or {})

    # ------------------------------------------------------------------ state
    @property
    def evidence(self) -> dict[str, str | tuple[str, ...]]:
        """The findings currently selected (finding -> state, or a tuple for a set of states)."""
        return {n: box.value for n, box in self.dropdowns.items() if box.value is not None}

    def set_evidence(self, evidence: Mapping[str, Any]) -> None:
        """Select these findings (all others: not observed) and redraw once.

        A finding given as a set of states (a list, tuple or set: "one of these", as for
        :meth:`Network.posterior`) is added to its dropdown as an entry
        ``"one of: a, b"`` and selected; the entry stays available afterwards.

        Raises
        ------
        EvidenceError
            Unknown finding or state (nothing is changed then).
        """
        observed = self.net._observed(evidence)  # validates names and states first
        self._hold = True
        try:
            for name, box in self.dropdowns.items():
                value = observed.get(name)
                if isinstance(value, tuple) and value not in [v for _, v in box.options]:
                    box.options = [*box.options, (SET_LABEL + ", ".join(value), value)]
                box.value = value
        finally:
            self._hold = False
        self.update()

    def update(self) -> None:
        """Recompute the posterior of the current evidence and redraw the chart."""
        evidence = self.evidence
        # a tornado belongs to the evidence and profile it was drawn for: clear it
        self.tornado.value = b""
        self.sensitivity_table = None
        try:
            posterior = self.net.posterior(evidence)
            groups = self.net.posterior_groups(evidence)
        except EvidenceError as exc:
            self.error = str(exc)
            self.status.value = f"<span style='color:#c0392b'>{exc}</span>"
            return
        self.error = None
        self.posterior, self.group_posterior = posterior, groups
        top = posterior.index[0]
        entered = f"{len(evidence)} finding{'' if len(evidence) == 1 else 's'} entered"
        self.status.value = (
            f"Profile <b>{self.net.profile}</b>, {entered}: "
            f"most probable <b>{self.net.labels.get(str(top), top)}</b> "
            f"({float(posterior.iloc[0]):.1%})"
        )
        self.chart.value = _png(self._figure())

    def _figure(self) -> Any:
        import matplotlib.pyplot as plt

        from .plotting import plot_posterior

        fig, (left, right) = plt.subplots(
            2, 1, figsize=(6, 7), gridspec_kw={"height_ratios": [self.top, 4]}
        )
        plot_posterior(self.posterior, top=self.top, ax=left)
        left.set_title("Posterior of the diagnosis")
        plot_posterior(self.group_posterior, top=len(self.group_posterior), ax=right)
        right.set_title("Diagnosis groups")
        fig.subplots_adjust(left=0.42, right=0.97, top=0.95, bottom=0.06, hspace=0.35)
        return fig

    def show_tornado(self, *, top: int = 12) -> pd.DataFrame:
        """Draw the sensitivity tornado of the current evidence; returns its table."""
        import matplotlib.pyplot as plt

        from .plotting import plot_tornado
        from .sensitivity import sensitivity

        table = sensitivity(self.net, self.evidence)
        fig, ax = plt.subplots(figsize=(12, 5))
        plot_tornado(table, top=top, ax=ax)
        fig.subplots_adjust(left=0.4, right=0.98)
        self.tornado.value = _png(fig)
        self.sensitivity_table = table
        return table

    # ------------------------------------------------------------------ events
    def _changed(self, change: Any) -> None:
        if not self._hold:
            self.update()

    def _profile_changed(self, change: Any) -> None:
        self.net = self._base.with_profile(str(change["new"]))
        self.update()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return (
            f"Explorer(profile={self.net.profile!r}, {len(self.evidence)} finding(s) entered, "
            f"top={self.posterior.index[0]!r})"
        )


def explore(net: Network, *, evidence: Mapping[str, Any] | None = None, top: int = 10) -> Explorer:
    """Open the interactive explorer on ``net`` (see :class:`Explorer`).

    Examples
    --------
    >>> from softcalc_bayes import load_network
    >>> ex = explore(load_network(), evidence={"fat_in_lesion": "present"})
    >>> ex.posterior.equals(ex.net.posterior({"fat_in_lesion": "present"}))
    True
    """
    return Explorer(net, evidence=evidence, top=top)
