"""How much of the network is documented: parameters by basis, per node and per diagnosis."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ._params import NETWORK, validate_params
from ._rows import IMPORTED
from .network import Network
from .spec import BASES

__all__ = ["CoverageReport", "coverage"]


@dataclass(frozen=True)
class CoverageReport:
    """Result of :func:`coverage`.

    Attributes
    ----------
    overall : pandas.Series
        Share of all parameters by basis.
    per_node : pandas.DataFrame
        Share of each node's parameters by basis.
    written_rows : pandas.DataFrame
        Every conditional-table row written for a parent configuration (i.e. that
        differs from the node's default), with its basis and whether it is documented.
    per_diagnosis : pandas.DataFrame
        For each diagnosis: documented findings, assumed findings, and their names.
    """

    overall: pd.Series
    per_node: pd.DataFrame
    written_rows: pd.DataFrame
    per_diagnosis: pd.DataFrame

    def __repr__(self) -> str:
        return (
            f"CoverageReport({len(self.per_node)} nodes, {len(self.written_rows)} written rows, "
            f"documented {self.documented_row_share:.1%})"
        )

    def _repr_html_(self) -> str:
        from ._display import coverage_html

        return coverage_html(self)

    @property
    def documented_row_share(self) -> float:
        """Share of written (non-default) rows that are documented (not assumptions)."""
        if self.written_rows.empty:
            return 0.0
        return float(self.written_rows["documented"].mean())

    @property
    def min_documented_findings(self) -> int:
        """The smallest number of documented findings of any diagnosis."""
        return int(self.per_diagnosis["documented"].min())

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form (for JSON)."""
        return {
            "overall": {k: float(v) for k, v in self.overall.items()},
            "documented_row_share": self.documented_row_share,
            "min_documented_findings": self.min_documented_findings,
            "per_node": self.per_node.reset_index().to_dict(orient="records"),
            "per_diagnosis": self.per_diagnosis.reset_index().to_dict(orient="records"),
        }

    def summary_text(self) -> str:
        """Plain-text report (used by the CLI and the README)."""
        weak = self.per_diagnosis[self.per_diagnosis["assumed"] > 0]
        thin = self.per_diagnosis[self.per_diagnosis["documented"] < 4]
        lines = [
            "Parameters by basis (all entries of every table):",
            "  " + "   ".join(f"{b} {v:.1%}" for b, v in self.overall.items()),
            f"Written rows (differing from a node's default): {len(self.written_rows)}, "
            f"documented {self.documented_row_share:.1%}",
            f"Documented findings per diagnosis: min {self.min_documented_findings}, "
            f"median {self.per_diagnosis['documented'].median():.0f}",
            "",
            "Per node (share of parameters by basis):",
            self.per_node.to_string(float_format=lambda x: f"{x:.2f}"),
            "",
            f"Diagnoses with fewer than 4 documented findings: "
            f"{', '.join(thin.index) if len(thin) else 'none'}",
            "Diagnoses with findings still resting on assumptions:",
        ]
        if weak.empty:
            lines.append("  none")
        for diagnosis, row in weak.iterrows():
            lines.append(f"  {diagnosis}: {row['assumed_findings']}")
        return "\n".join(lines)


@validate_params({"net": [NETWORK]})
def coverage(net: Network) -> CoverageReport:
    """Count documented and assumed parameters of ``net``.

    Examples
    --------
    >>> from softcalc_bayes import load_network
    >>> report = coverage(load_network())
    >>> 0.0 <= report.documented_row_share <= 1.0
    True
    """
    params = net.parameters()
    # "imported" (basis unknown) is counted separately, and only when present
    bases = [*BASES, IMPORTED] if (params["basis"] == IMPORTED).any() else list(BASES)
    overall = params["basis"].value_counts(normalize=True).reindex(bases, fill_value=0.0)
    per_node = (
        params.groupby("node")["basis"]
        .value_counts(normalize=True)
        .unstack(fill_value=0)
        .reindex(columns=bases, fill_value=0.0)
    )
    per_node["n_parameters"] = params.groupby("node").size()
    findings = params[params["node"] != net.target].copy()
    findings["config"] = findings["parents"].map(lambda d: tuple(sorted(d.items())))
    written = findings[~findings["is_default"]]
    rows = (
        written.groupby(["node", "config"])["basis"]
        .agg(lambda b: "assumption" if (b == "assumption").any() else b.mode().iloc[0])
        .rename("basis")
        .reset_index()
    )
    rows["documented"] = ~rows["basis"].isin(["assumption", IMPORTED])
    rows["diagnosis"] = rows["config"].map(lambda c: dict(c).get(net.target))
    records = []
    for diagnosis in net.states(net.target):
        mine = rows[rows["diagnosis"] == diagnosis]
        documented = sorted(set(mine.loc[mine["documented"], "node"]))
        assumed = sorted(set(mine.loc[~mine["documented"], "node"]))
        records.append(
            {
                "diagnosis": diagnosis,
                "documented": len(documented),
                "assumed": len(assumed),
                "documented_findings": ", ".join(documented),
                "assumed_findings": ", ".join(assumed),
            }
        )
    per_diagnosis = pd.DataFrame(records).set_index("diagnosis")
    return CoverageReport(overall, per_node, rows, per_diagnosis)
