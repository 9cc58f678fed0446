"""Build the pgmpy model (the reference implementation) from a validated spec."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._engine import NodeLike
from .exceptions import NetworkSpecError
from .spec import NetworkSpec

__all__ = ["build_pgmpy_model", "pgmpy_model_from_nodes"]


def pgmpy_model_from_nodes(nodes: Sequence[NodeLike]) -> Any:
    """A checked pgmpy ``DiscreteBayesianNetwork`` from nodes with tables.

    ``cpt`` rows are parent configurations in C order, which is pgmpy's column order.
    pgmpy is imported here, on first use: it takes longer to import than the rest
    of the library together.
    """
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    states = {n.name: list(n.states) for n in nodes}
    model = DiscreteBayesianNetwork()
    model.add_nodes_from(states)
    model.add_edges_from((p, n.name) for n in nodes for p in n.parents)
    cpds = []
    for node in nodes:
        cpds.append(
            TabularCPD(
                variable=node.name,
                variable_card=len(node.states),
                values=node.cpt.T,
                evidence=list(node.parents) or None,
                evidence_card=[len(states[p]) for p in node.parents] or None,
                state_names={node.name: states[node.name], **{p: states[p] for p in node.parents}},
            )
        )
    model.add_cpds(*cpds)
    try:
        model.check_model()
    except ValueError as exc:  # pragma: no cover - the spec validator catches these first
        raise NetworkSpecError(f"pgmpy rejected the network: {exc}") from exc
    return model


def build_pgmpy_model(spec: NetworkSpec) -> Any:
    """Return a checked :class:`pgmpy.models.DiscreteBayesianNetwork` for ``spec``.

    Examples
    --------
    >>> from softcalc_bayes.spec import load_spec
    >>> model = build_pgmpy_model(load_spec())
    >>> model.check_model()
    True
    """
    return pgmpy_model_from_nodes(list(spec.nodes.values()))
