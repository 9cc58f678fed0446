"""What-if views of a case: other clinical settings, and other findings.

:func:`compare_profiles` shows the differential under every prior profile side by
side; :func:`evidence_whatif` shows how the posterior of one diagnosis would move if
each entered finding were left out or had come out differently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._engine import ZeroProbabilityError
from ._params import NETWORK, check_name, validate_params
from ._provenance_hash import stamp

if TYPE_CHECKING:
    from .network import Evidence, Network

__all__ = ["LEFT_OUT", "compare_profiles", "evidence_whatif"]

LEFT_OUT = "(left out)"
"""The ``alternative`` of :func:`evidence_whatif` rows where the finding is dropped."""


@validate_params({"net": [NETWORK]})
def compare_profiles(net: Network, evidence: Evidence) -> pd.DataFrame:
    """Posterior of the diagnosis under every prior profile, side by side.

    Parameters
    ----------
    net : Network
        The network; its current profile orders the rows.
    evidence : mapping
        Finding -> observed state.

    Returns
    -------
    pandas.DataFrame
        One row per diagnosis, sorted by the posterior under ``net.profile``
        (descending); one column per profile in ``net.profiles``.

    Notes
    -----
    The other profiles come from :meth:`Network.with_profile`, which swaps the
    prior of the target node in memory (the likelihood tables are shared).

    Raises
    ------
    EvidenceError
        Bad evidence, or evidence of probability zero under some profile.

    Examples
    --------
    >>> from softcalc_bayes import load_network
    >>> net = load_network()
    >>> table = compare_profiles(net, {"mineralization_pattern": "phleboliths"})
    >>> list(table.columns) == list(net.profiles)
    True
    >>> table.index[0]
    'hemangioma_venous_malformation'
    """
    current = net.posterior(evidence)
    columns: dict[str, pd.Series] = {}
    for name in net.profiles:
        other = net if name == net.profile else net.with_profile(name)
        columns[name] = other.posterior(evidence).reindex(current.index)
    table = pd.DataFrame(columns, index=current.index)
    table.columns = pd.Index(list(net.profiles), name="profile")
    return table


@validate_params({"net": [NETWORK]})
def evidence_whatif(net: Network, evidence: Evidence, *, state: str | None = None) -> pd.DataFrame:
    """How ``P(state | evidence)`` changes if one finding is left out or comes out otherwise.

    Parameters
    ----------
    net : Network
        The network.
    evidence : mapping
        Finding -> observed state, or a set of states (a list, tuple or set: "one of
        these"), as for :meth:`Network.posterior`.
    state : str, optional
        The diagnosis followed (default: the top diagnosis under the full evidence).

    Returns
    -------
    pandas.DataFrame
        One row per (entered finding, alternative), findings in the order entered,
        alternatives ``"(left out)"`` first and then every other state of the finding
        (for a set of states: every state, each narrowing or replacing the set).
        Columns:

        - ``finding``, ``observed`` (the entered state, or a tuple of states for a
          set, in the node's order), ``alternative``;
        - ``possible``: False if the alternative evidence has probability zero; such
          rows are not computed and hold ``p_state`` 0.0, ``p_top`` 0.0 and an empty
          ``top_diagnosis``;
        - ``p_state``: posterior of ``state`` under the alternative evidence;
        - ``delta``: ``p_state`` minus its value under the full evidence (for a row
          that is not ``possible``, minus that value: filter on ``possible`` before
          ranking by ``delta``);
        - ``top_diagnosis`` and ``p_top``: the most probable diagnosis under the
          alternative evidence, and its posterior;
        - ``top_changes``: whether ``top_diagnosis`` differs from the top diagnosis
          under the full evidence.

        ``attrs`` records the question (``target``, ``state``, its posterior ``p_state``
        and the ``top`` diagnosis under the full evidence, ``evidence``) and the network
        (name, profile, content hash), so :func:`captioned` can caption the table.

    Raises
    ------
    EvidenceError
        Bad evidence, evidence of probability zero, or an unknown ``state``.

    Examples
    --------
    >>> from softcalc_bayes import load_network
    >>> net = load_network()
    >>> ev = {"fat_in_lesion": "present", "mdm2_fish": "amplified"}
    >>> table = evidence_whatif(net, ev)
    >>> table[["finding", "alternative"]].head(3).to_numpy().tolist()
    [['fat_in_lesion', '(left out)'], ['fat_in_lesion', 'absent'], ['mdm2_fish', '(left out)']]
    >>> bool(table.loc[0, "p_state"] == net.posterior({"mdm2_fish": "amplified"})["alt_wdlps"])
    True
    """
    full = net.posterior(evidence)
    diagnoses = net.states(net.target)
    if state is None:
        state = str(full.index[0])
    else:
        state = check_name("evidence_whatif", "state", state, diagnoses, "diagnosis")
    codes, sets = net._encode(evidence, net.target, None)  # sets: 0/1 likelihoods
    k = diagnoses.index(state)
    base = float(full[state])
    top = str(full.index[0])
    records: list[dict[str, Any]] = []
    for finding, observed in net._named(evidence, codes, sets).items():
        states = net.states(finding)
        alternatives: list[tuple[str, int | None]] = [(LEFT_OUT, None)]
        # a set's alternatives are its single states too (narrowing it) and the others
        alternatives += [(s, i) for i, s in enumerate(states) if s != observed]
        for label, index in alternatives:
            changed = {n: v for n, v in codes.items() if n != finding}
            soft = {n: v for n, v in sets.items() if n != finding}
            if index is not None:
                changed[finding] = index
            record: dict[str, Any] = {
                "finding": finding,
                "observed": observed,
                "alternative": label,
            }
            try:
                post = net.engine.posterior(changed, soft=soft or None)
            except ZeroProbabilityError:
                record.update(
                    possible=False,
                    p_state=0.0,
                    delta=-base,
                    top_diagnosis="",
                    p_top=0.0,
                    top_changes=False,
                )
            else:
                best = int(np.argmax(post))
                record.update(
                    possible=True,
                    p_state=float(post[k]),
                    delta=float(post[k]) - base,
                    top_diagnosis=diagnoses[best],
                    p_top=float(post[best]),
                    top_changes=diagnoses[best] != top,
                )
            records.append(record)
    columns = [
        "finding",
        "observed",
        "alternative",
        "possible",
        "p_state",
        "delta",
        "top_diagnosis",
        "p_top",
        "top_changes",
    ]
    table = pd.DataFrame.from_records(records, columns=columns).astype(
        {"possible": bool, "p_state": float, "delta": float, "p_top": float, "top_changes": bool}
    )
    table.attrs.update(
        target=net.target,
        state=state,
        p_state=base,
        top=top,
        evidence=net._observed(evidence, net.target),
    )
    return stamp(table, net.spec)
