"""Check the cited qualitative constraints of ``constraints.yaml`` against a network."""

from __future__ import annotations

import itertools

import pandas as pd

from ._params import NETWORK, validate_params
from .network import Network
from .spec import Constraint

__all__ = ["check_constraints", "likelihood"]


def likelihood(net: Network, finding: str, state: str, diagnosis: str) -> float:
    """``P(finding = state | diagnosis)``, marginalising any latent node in between.

    Examples
    --------
    >>> from softcalc_bayes import load_network
    >>> net = load_network()
    >>> 0.0 <= likelihood(net, "fat_in_lesion", "present", "alt_wdlps") <= 1.0
    True
    """
    post = net.engine.posterior({net.target: net.states(net.target).index(diagnosis)}, finding)
    return float(post[net.states(finding).index(state)])


def _check(net: Network, c: Constraint) -> tuple[bool, str]:
    if c.kind == "likelihood_order":
        assert c.finding is not None and c.state is not None
        pairs = itertools.product(c.greater, c.lesser)
        worst = min(
            (
                likelihood(net, c.finding, c.state, g) - likelihood(net, c.finding, c.state, s),
                f"{g} vs {s}",
            )
            for g, s in pairs
        )
        return worst[0] > 0, f"min difference {worst[0]:.4g} ({worst[1]})"
    if c.kind == "likelihood_bound":
        assert c.finding is not None and c.state is not None
        values = {d: likelihood(net, c.finding, c.state, d) for d in c.diagnoses}
        ok = all(
            (c.max is None or v <= c.max) and (c.min is None or v >= c.min) for v in values.values()
        )
        return ok, ", ".join(f"{d}={v:.3g}" for d, v in values.items())
    post = net.posterior(dict(c.evidence))
    g = min(float(post[d]) for d in c.greater)
    s = max(float(post[d]) for d in c.lesser)
    return g > s, f"min P(greater)={g:.4g}, max P(lesser)={s:.4g}"


@validate_params({"net": [NETWORK]})
def check_constraints(net: Network) -> pd.DataFrame:
    """One row per constraint: id, kind, holds, detail, statement and source.

    Examples
    --------
    >>> from softcalc_bayes import load_network
    >>> table = check_constraints(load_network())
    >>> list(table.columns)[:3]
    ['id', 'kind', 'holds']
    """
    rows = []
    for c in net.spec.constraints:
        holds, detail = _check(net, c)
        rows.append(
            {
                "id": c.id,
                "kind": c.kind,
                "holds": bool(holds),
                "detail": detail,
                "statement": c.statement,
                "source": c.source,
            }
        )
    return pd.DataFrame(rows, columns=["id", "kind", "holds", "detail", "statement", "source"])
