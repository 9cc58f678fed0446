"""Build the pgmpy model (the reference implementation) from a validated spec."""

from __future__ import annotations

from typing import Any

from pgmpy.factors.discrete import TabularCPD
from pgmpy.models import DiscreteBayesianNetwork

from .exceptions import NetworkSpecError
from .spec import NetworkSpec

__all__ = ["build_pgmpy_model"]


def build_pgmpy_model(spec: NetworkSpec) -> Any:
    """Return a checked :class:`pgmpy.models.DiscreteBayesianNetwork` for ``spec``.

    Examples
    --------
    >>> from softcalc_bayes.spec import load_spec
    >>> model = build_pgmpy_model(load_spec())
    >>> model.check_model()
    True
    """
    model = DiscreteBayesianNetwork()
    model.add_nodes_from(spec.nodes)
    model.add_edges_from((p, name) for name, node in spec.nodes.items() for p in node.parents)
    cpds = []
    for name, node in spec.nodes.items():
        state_names = {name: list(node.states)}
        state_names.update({p: list(spec.nodes[p].states) for p in node.parents})
        cpds.append(
            TabularCPD(
                variable=name,
                variable_card=len(node.states),
                values=node.cpt.T,
                evidence=list(node.parents) or None,
                evidence_card=[len(spec.nodes[p].states) for p in node.parents] or None,
                state_names=state_names,
            )
        )
    model.add_cpds(*cpds)
    try:
        model.check_model()
    except ValueError as exc:  # pragma: no cover - the spec validator catches these first
        raise NetworkSpecError(f"pgmpy rejected the network {spec.name!r}: {exc}") from exc
    return model
