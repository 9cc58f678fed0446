"""The user's object: a validated network with posterior queries."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ._engine import Engine, ZeroProbabilityError
from ._evidence import (
    _likelihoods,
    encode_frame,
    encode_hard,
    encode_soft,
    state_set_likelihood,
)
from ._params import NONE, Interval, check_columns, usable_cores, validate_params
from ._provenance_hash import stamp
from ._validation import unknown_message
from .exceptions import EvidenceError
from .spec import NetworkSpec, NodeSpec, select_profile

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Evidence", "MPEResult", "Network", "load_network"]

Evidence = Mapping[str, Any]
Soft = Mapping[str, Any]
EngineName = Literal["compiled", "pgmpy"]


@dataclass(frozen=True)
class MPEResult:
    """A most probable joint state (MPE, or MAP over chosen nodes).

    Attributes
    ----------
    assignment : mapping
        Node -> state (read-only).
    probability : float
        P(assignment | evidence).
    nodes : tuple of str
        The nodes explained.
    """

    assignment: Mapping[str, str]
    probability: float
    nodes: tuple[str, ...]

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in list(self.assignment.items())[:6])
        more = " ..." if len(self.assignment) > 6 else ""
        return f"MPEResult(probability={self.probability:.4g}, {shown}{more})"


class Network:
    """A Bayesian network for the differential diagnosis of soft-tissue mineralisation.

    Build one with :func:`load_network` (or :func:`~softcalc_bayes.from_bif` /
    :func:`~softcalc_bayes.from_pgmpy` for a foreign network). Queries use an exact
    engine compiled once per network (a junction tree, with a faster tabulated plan
    for star-shaped networks chosen automatically); ``engine="pgmpy"`` runs pgmpy's
    variable elimination instead, as an independent reference.

    Examples
    --------
    >>> net = load_network()
    >>> post = net.posterior({"fat_in_lesion": "present", "mdm2_fish": "amplified"})
    >>> post.index[0]
    'alt_wdlps'
    >>> round(float(post.sum()), 12)
    1.0
    """

    def __init__(self, spec: NetworkSpec) -> None:
        if not isinstance(spec, NetworkSpec):
            from ._params import Check, check_param

            what = "a NetworkSpec (from load_spec; load_network reads a folder)"
            check_param(
                "Network", "spec", spec, [Check(lambda s: isinstance(s, NetworkSpec), what)]
            )
        self.spec = spec
        self.target = spec.target
        self._state_index = {
            name: {s: i for i, s in enumerate(node.states)} for name, node in spec.nodes.items()
        }
        # the nodes evidence may name (all but the latent ones), for the encoding fast path
        self._observable_index = {
            name: self._state_index[name]
            for name, node in spec.nodes.items()
            if node.kind != "latent"
        }
        self._findings = tuple(n for n, node in spec.nodes.items() if node.kind == "finding")

    def __repr__(self) -> str:
        return (
            f"Network({self.spec.name!r}, profile={self.profile!r}, "
            f"{len(self.findings)} findings, {len(self.states(self.target))} diagnoses)"
        )

    def _repr_html_(self) -> str:
        from ._display import network_html

        return network_html(self)

    # ------------------------------------------------------------- structure
    @property
    def profile(self) -> str:
        """Name of the prior profile in use."""
        return self.spec.profile

    @property
    def profiles(self) -> tuple[str, ...]:
        """Names of the available prior profiles."""
        return tuple(self.spec.profiles)

    @property
    def nodes(self) -> tuple[str, ...]:
        """All nodes (target, findings, latent), in topological order."""
        return tuple(self.spec.nodes)

    @property
    def findings(self) -> tuple[str, ...]:
        """The observable finding nodes."""
        return self._findings

    @property
    def latent(self) -> tuple[str, ...]:
        """Latent nodes (never observed directly)."""
        return tuple(n for n, node in self.spec.nodes.items() if node.kind == "latent")

    def node(self, name: str) -> NodeSpec:
        """The :class:`~softcalc_bayes.spec.NodeSpec` of ``name``."""
        if name not in self.spec.nodes:
            raise EvidenceError(unknown_message("node", name, self.spec.nodes))
        return self.spec.nodes[name]

    def states(self, node: str) -> tuple[str, ...]:
        """States of ``node``.

        Examples
        --------
        >>> load_network().states("fat_in_lesion")
        ('present', 'absent')
        """
        return self.node(node).states

    def definitions(self, node: str) -> pd.Series:
        """What each state of ``node`` means: its definition, indexed by state.

        The node's own definition (``node(name).description``) is the Series' ``attrs
        ["description"]``; a state without a written definition has ``""``. Read these
        before encoding a case, so that a state means what the network means by it
        (``softcalc nodes NODE`` prints the same).

        Examples
        --------
        >>> defs = load_network().definitions("mineralization_pattern")
        >>> defs["phleboliths"]
        'Round calcifications with lucent centres (calcified thrombi in slow-flow vessels).'
        >>> defs.index[0], defs.name
        ('mature_trabecular_bone', 'mineralization_pattern')
        """
        import pandas as pd

        spec = self.node(node)
        written = spec.state_definitions or ("",) * len(spec.states)
        out = pd.Series(list(written), index=pd.Index(spec.states, name="state"), name=node)
        out.attrs["description"] = spec.description
        return out

    @property
    def labels(self) -> Mapping[str, str]:
        """Human-readable label of each diagnosis."""
        return self.spec.labels

    @property
    def diagnosis_groups(self) -> dict[str, tuple[str, ...]]:
        """Group name -> the diagnoses in it (order of ``diagnosis.yaml``)."""
        out: dict[str, list[str]] = {g: [] for g in self.spec.group_labels}
        for state, group in self.spec.groups.items():
            out.setdefault(group, []).append(state)
        return {g: tuple(v) for g, v in out.items()}

    def with_profile(self, profile: str) -> Network:
        """The same network with another prior profile (nothing is re-read from disk).

        Raises
        ------
        NetworkSpecError
            If ``profile`` is not one of :attr:`profiles`.

        Examples
        --------
        >>> net = load_network()
        >>> net.with_profile("msk_referral").profile
        'msk_referral'
        """
        return Network(select_profile(self.spec, profile))

    @cached_property
    def pgmpy_model(self) -> Any:
        """The network as a checked pgmpy ``DiscreteBayesianNetwork``."""
        from .build import build_pgmpy_model

        return build_pgmpy_model(self.spec)

    @cached_property
    def engine(self) -> Engine:
        """The compiled exact-inference engine (built on first use)."""
        return Engine(list(self.spec.nodes.values()), target=self.target, hidden=self.latent)

    @cached_property
    def _pgmpy_inference(self) -> Any:
        from pgmpy.inference import VariableElimination

        return VariableElimination(self.pgmpy_model)

    # ------------------------------------------------------------- parameters
    def parameters(self) -> pd.DataFrame:
        """One row per probability in the network, with its provenance.

        Columns: ``node``, ``parents`` (dict parent -> state), ``state``, ``value``,
        ``source``, ``locator``, ``basis``, ``reason``, ``strength``, ``is_default``,
        ``structural_zero`` (True where a node's ``impossible`` rule sets the entry to 0;
        its provenance is the rule's). Rows follow the nodes' tables in order (parent
        configurations in C order).
        """
        import pandas as pd

        table = self._parameters.copy()
        table["parents"] = pd.Series(  # a deep copy: the dicts too
            [dict(p) for p in table["parents"]], index=table.index, dtype=object
        )
        return table

    @cached_property
    def _parameters(self) -> pd.DataFrame:
        import pandas as pd

        records: list[dict[str, Any]] = []
        for name, node in self.spec.nodes.items():
            configs = itertools.product(*(self.spec.nodes[p].states for p in node.parents))
            zeros = node.structural_zeros()
            for c, config in enumerate(configs):
                parents = dict(zip(node.parents, config, strict=True))
                for s, state in enumerate(node.states):
                    prov = node.provenance[c][s]
                    records.append(
                        {
                            "node": name,
                            "parents": parents,
                            "state": state,
                            "value": float(node.cpt[c, s]),
                            "source": prov.source,
                            "locator": prov.locator,
                            "basis": prov.basis,
                            "reason": prov.reason,
                            "strength": prov.strength,
                            "is_default": bool(node.is_default[c, s]),
                            "structural_zero": bool(zeros[c, s]),
                        }
                    )
        return pd.DataFrame.from_records(records)

    # ------------------------------------------------------------- evidence
    def _check_target(self, target: Any) -> str:
        if target is None:
            return self.target
        if not isinstance(target, str) or target not in self.spec.nodes:
            raise EvidenceError(unknown_message("target", target, self.spec.nodes))
        return target

    def encode(self, evidence: Evidence, *, target: str | None = None) -> dict[str, int]:
        """Validate ``evidence`` and return it as node -> state index.

        Missing values (None, NaN) mean "not observed" and are dropped.

        Raises
        ------
        EvidenceError
            Unknown finding or state (with the closest match), a latent node, or
            evidence on the query target itself.
        """
        target = self._check_target(target)
        return encode_hard(self.spec, evidence, target, self._findings, self._observable_index)

    def _observed(
        self, evidence: Evidence, target: str | None = None
    ) -> dict[str, str | tuple[str, ...]]:
        """Validated evidence as finding -> state, or -> tuple of states for a set of
        states (in the node's order); unobserved findings dropped, the evidence's order kept.
        """
        codes, sets = self._encode(evidence, self.target if target is None else target, None)
        return self._named(evidence, codes, sets)

    def _named(
        self, evidence: Evidence, codes: Mapping[str, int], sets: Mapping[str, np.ndarray]
    ) -> dict[str, str | tuple[str, ...]]:
        """:meth:`_observed` from an encoding already made (``_encode``'s codes and sets)."""
        out: dict[str, str | tuple[str, ...]] = {}
        for name in evidence:  # every name in codes or sets is a node
            if name in codes:
                out[name] = self.spec.nodes[name].states[codes[name]]
            elif name in sets:
                states = self.spec.nodes[name].states
                out[name] = tuple(s for s, w in zip(states, sets[name], strict=True) if w > 0)
        return out

    def _encode(
        self, evidence: Evidence, target: str | None, soft: Soft | None
    ) -> tuple[dict[str, int], dict[str, np.ndarray]]:
        """Hard codes and soft likelihoods; ``target=None``: any node may be observed."""
        free = "" if target is None else target
        sets: dict[str, np.ndarray] = {}
        codes = encode_hard(self.spec, evidence, free, self._findings, self._observable_index, sets)
        lam = encode_soft(self.spec, soft, free, codes)
        for name, vec in sets.items():
            if name in lam:
                raise EvidenceError(
                    f"{name!r} is given both as a set of states and in soft; give it one way"
                )
            lam[name] = vec
        return codes, lam

    def _conflict_message(self, codes: Mapping[str, int], soft: Soft | None = None) -> str:
        named = {n: self.spec.nodes[n].states[i] for n, i in codes.items()}
        engine = self.engine
        for size in (1, 2, 3):
            for subset in itertools.combinations(named, size):
                if not np.isfinite(engine.log_evidence({n: codes[n] for n in subset})):
                    shown = ", ".join(f"{n}={named[n]}" for n in subset)
                    if size == 1:
                        return f"Evidence has probability zero: {shown} is impossible under every diagnosis"
                    return (
                        f"Evidence has probability zero: the findings {shown} conflict "
                        "(no diagnosis in the network allows all of them)"
                    )
        shown = ", ".join(
            [*(f"{n}={v}" for n, v in named.items()), *(f"{n}~soft" for n in soft or {})]
        )
        return f"Evidence has probability zero: no diagnosis allows all of {shown}"

    def _labelled(self, node: str, values: np.ndarray, *, sort: bool) -> pd.Series:
        import pandas as pd

        if sort:
            order = np.argsort(-values, kind="stable")
            index = self._state_indexes[node].take(order)  # far cheaper than a new pd.Index
            return pd.Series(values[order], index=index, name=node, copy=False)
        return pd.Series(values, index=self._state_indexes[node], name=node, copy=False)

    @cached_property
    def _state_indexes(self) -> dict[str, pd.Index]:
        """One immutable, named state Index per node, shared by every unsorted result."""
        import pandas as pd

        return {
            n: pd.Index(node.states, name=n, dtype=object) for n, node in self.spec.nodes.items()
        }

    # ------------------------------------------------------------- queries
    def posterior(
        self,
        evidence: Evidence,
        *,
        target: str | None = None,
        soft: Soft | None = None,
        engine: EngineName = "compiled",
    ) -> pd.Series:
        """Posterior distribution of ``target`` given ``evidence``, sorted descending.

        Parameters
        ----------
        evidence : mapping
            Finding -> observed state, or a set of states (list, tuple, set) when the
            finding is known to be one of them but not which, e.g. a mineral read as
            chondroid or punctate. Unobserved findings are left out (or None).
        target : str, optional
            The node to query (default: the diagnosis).
        soft : mapping, optional
            Soft (likelihood, "virtual") evidence: node -> {state: likelihood} with a
            likelihood for every state; only ratios matter, e.g. an equivocal MDM2 stain
            read as 3:1 for positive is ``{"mdm2_cdk4_ihc": {"positive": 3, "negative": 1}}``.
        engine : {"compiled", "pgmpy"}
            The compiled engine, or pgmpy's variable elimination (the reference).

        Returns
        -------
        pandas.Series
            Indexed by the target's states, named after the target, summing to 1.

        Raises
        ------
        EvidenceError
            Bad evidence or target, or evidence of probability zero.

        Examples
        --------
        >>> net = load_network()
        >>> p = net.posterior({"mineralization_pattern": "phleboliths"})
        >>> p.index[0]
        'hemangioma_venous_malformation'
        >>> equivocal = {"mdm2_cdk4_ihc": {"positive": 3, "negative": 1}}
        >>> q = net.posterior({"fat_in_lesion": "present"}, soft=equivocal)
        >>> round(float(q.sum()), 12)
        1.0
        >>> either = ["chondroid_rings_arcs", "punctate_stippled"]  # one of these patterns
        >>> r = net.posterior({"anatomic_site": "forearm_wrist_hand", "mineralization_pattern": either})
        >>> r.index[0]
        'soft_tissue_chondroma'
        """
        target = self._check_target(target)
        return self._labelled(
            target, self._posterior_array(evidence, target, soft, engine), sort=True
        )

    def _posterior_array(
        self, evidence: Evidence, target: str, soft: Soft | None, engine: EngineName = "compiled"
    ) -> np.ndarray:
        """:meth:`posterior` as an array in network order (no pandas: the CLI's fast path)."""
        codes, lam = self._encode(evidence, target, soft)
        if engine == "compiled":
            try:
                return self.engine.posterior(codes, target, lam)
            except ZeroProbabilityError:
                raise EvidenceError(self._conflict_message(codes, lam)) from None
        if engine == "pgmpy":
            return self._pgmpy_posterior(codes, target, lam)
        raise EvidenceError(unknown_message("engine", engine, ["compiled", "pgmpy"]))

    def marginals(self, evidence: Evidence, *, soft: Soft | None = None) -> dict[str, pd.Series]:
        """Posterior marginal of every node that is not observed, from one exact pass.

        Parameters
        ----------
        evidence : mapping
            Finding -> observed state.
        soft : mapping, optional
            Soft evidence, as in :meth:`posterior`.

        Returns
        -------
        dict of str to pandas.Series
            Node -> Series indexed by its states (network order), summing to 1; nodes
            observed in ``evidence`` are left out. The target and latent nodes are
            included.

        Examples
        --------
        >>> net = load_network()
        >>> m = net.marginals({"fat_in_lesion": "present", "mdm2_fish": "amplified"})
        >>> m["diagnosis"].idxmax(), "fat_in_lesion" in m
        ('alt_wdlps', False)
        >>> round(float(m["amplification_12q"].sum()), 12)
        1.0
        """
        codes, lam = self._encode(evidence, None, soft)
        try:
            values, _ = self.engine.marginals(codes, lam)
        except ZeroProbabilityError:
            raise EvidenceError(self._conflict_message(codes, lam)) from None
        return {
            name: self._labelled(name, values[i], sort=False)
            for i, name in enumerate(self.engine.names)
            if name not in codes
        }

    def log_evidence(self, evidence: Evidence, *, soft: Soft | None = None) -> float:
        """Natural log of the probability of the evidence (``-inf`` when impossible).

        With soft evidence this is the log of ``sum_x P(x, e) * likelihood(x)`` with
        every likelihood vector scaled to a maximum of 1.

        Examples
        --------
        >>> net = load_network()
        >>> abs(net.log_evidence({})) < 1e-12
        True
        >>> net.log_evidence({"fat_in_lesion": "present"}) < 0
        True
        """
        codes, lam = self._encode(evidence, None, soft)
        return float(self.engine.log_evidence(codes, lam))

    def mpe(self, evidence: Evidence, *, soft: Soft | None = None) -> MPEResult:
        """Most probable explanation: the likeliest joint state of every unobserved node.

        Returns
        -------
        MPEResult
            ``assignment`` (node -> state, every node not observed, latent included)
            and ``probability`` = P(assignment | evidence).

        Examples
        --------
        >>> net = load_network()
        >>> res = net.mpe({"fat_in_lesion": "present", "mdm2_fish": "amplified"})
        >>> res.assignment["amplification_12q"]
        'amplified'
        >>> 0.0 < res.probability <= 1.0
        True
        """
        codes, lam = self._encode(evidence, None, soft)
        try:
            states, probability = self.engine.mpe(codes, lam)
        except ZeroProbabilityError:
            raise EvidenceError(self._conflict_message(codes, lam)) from None
        assignment = {
            name: self.spec.nodes[name].states[int(states[i])]
            for i, name in enumerate(self.engine.names)
            if name not in codes
        }
        return MPEResult(MappingProxyType(assignment), probability, tuple(assignment))

    def map(
        self, evidence: Evidence, nodes: Sequence[str], *, soft: Soft | None = None
    ) -> MPEResult:
        """Maximum a posteriori joint state of ``nodes``, the other nodes summed out.

        Parameters
        ----------
        evidence : mapping
            Finding -> observed state.
        nodes : sequence of str
            The nodes to explain (unobserved; latent nodes allowed).
        soft : mapping, optional
            Soft evidence, as in :meth:`posterior`.

        Returns
        -------
        MPEResult
            ``assignment`` over ``nodes`` and ``probability`` = P(assignment | evidence).

        Examples
        --------
        >>> net = load_network()
        >>> res = net.map({"mdm2_fish": "amplified"}, ["diagnosis", "amplification_12q"])
        >>> res.assignment["amplification_12q"]
        'amplified'
        """
        codes, lam = self._encode(evidence, None, soft)
        if isinstance(nodes, str) or not isinstance(nodes, Sequence) or not nodes:
            raise EvidenceError("nodes must be a non-empty list of node names")
        for name in nodes:
            if not isinstance(name, str) or name not in self.spec.nodes:
                raise EvidenceError("nodes: " + unknown_message("node", name, self.spec.nodes))
            if name in codes:
                raise EvidenceError(f"nodes: {name!r} is observed in the evidence")
        if len(set(nodes)) != len(nodes):
            raise EvidenceError("nodes: a node is listed twice")
        try:
            found, probability = self.engine.map(codes, list(nodes), lam)
        except ZeroProbabilityError:
            raise EvidenceError(self._conflict_message(codes, lam)) from None
        assignment = {n: self.spec.nodes[n].states[found[n]] for n in nodes}
        return MPEResult(MappingProxyType(assignment), probability, tuple(nodes))

    def _pgmpy_posterior(
        self, codes: Mapping[str, int], target: str, soft: Mapping[str, np.ndarray]
    ) -> np.ndarray:
        """The reference: pgmpy variable elimination, independent of our engine."""
        from pgmpy.factors.discrete import TabularCPD

        named = {n: self.spec.nodes[n].states[i] for n, i in codes.items()}
        virtual = [
            TabularCPD(
                n,
                len(vec),
                (vec / vec.sum()).reshape(-1, 1),
                state_names={n: list(self.spec.nodes[n].states)},
            )
            for n, vec in soft.items()
        ]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                factor = self._pgmpy_inference.query(
                    [target],
                    evidence=named or None,
                    virtual_evidence=virtual or None,
                    show_progress=False,
                )
            except (ValueError, ZeroDivisionError, IndexError):
                raise EvidenceError(self._conflict_message(codes, soft)) from None
        values = np.asarray(factor.values, dtype=float)
        if not np.all(np.isfinite(values)) or not values.sum() > 0:
            raise EvidenceError(self._conflict_message(codes, soft))
        by_name = dict(zip(factor.state_names[target], values / values.sum(), strict=True))
        return np.array([by_name[s] for s in self.spec.nodes[target].states])

    def posterior_groups(self, evidence: Evidence, *, soft: Soft | None = None) -> pd.Series:
        """Probability of each diagnosis group, sorted descending.

        Examples
        --------
        >>> g = load_network().posterior_groups({"pulmonary_metastases": "present"})
        >>> g.index[0]
        'malignant_neoplasm'
        """
        import pandas as pd

        post = self.posterior(evidence, soft=soft)
        groups = pd.Series(self.spec.groups).reindex(post.index)
        out = post.groupby(groups.to_numpy()).sum().sort_values(ascending=False)
        out.index.name, out.name = "group", "probability"
        return out

    @validate_params(
        {
            "chunk_size": [Interval(int, 1, 10**7)],
            "n_jobs": [Interval(int, 1, 1024), Interval(int, -1, -1), NONE],
        }
    )
    def posterior_batch(
        self,
        cases: pd.DataFrame,
        *,
        target: str | None = None,
        soft: Soft | None = None,
        chunk_size: int = 8192,
        n_jobs: int | None = None,
    ) -> pd.DataFrame:
        """Posteriors for many cases at once, in bounded chunks.

        Parameters
        ----------
        cases : pandas.DataFrame
            One row per case, one column per finding; NaN/None means not observed.
            Plain string (object) columns and categorical columns are both accepted. A
            cell may hold a set of states (list, tuple, set) as in :meth:`posterior`.
        target : str, optional
            The node to query (default: the diagnosis).
        soft : mapping, optional
            Soft evidence for every case: node -> {state: likelihood}, or node ->
            DataFrame with one column per state and the index of ``cases`` (one
            likelihood row per case).
        chunk_size : int
            Cases processed together; memory beyond the result is bounded by
            ``chunk_size`` times the number of threads.
        n_jobs : int, optional
            Threads for a batch of more than one chunk: None or -1 uses every core
            this process may run on, 1 runs serially. The answer is the same
            whatever the number of threads (each chunk is computed alone).

        Returns
        -------
        pandas.DataFrame
            Same index as ``cases``; one column per target state (in network order).
            ``.attrs`` holds the network's content hash, profile and library version.
            Given a ``dask.dataframe.DataFrame``, a lazy one (see
            :func:`softcalc_bayes.cohort.posterior_batch_dask`).

        Raises
        ------
        EvidenceError
            Naming the row index and column of the first bad value, or the rows whose
            evidence has probability zero; ``soft`` on the target, on a node that is
            also a column of ``cases``, a per-row DataFrame whose index differs from
            that of ``cases`` or that gives a state column twice, or a bad likelihood
            (naming its row).

        Examples
        --------
        >>> net = load_network()
        >>> import pandas as pd
        >>> cases = pd.DataFrame([{"fat_in_lesion": "present"}, {"sex": "female"}])
        >>> out = net.posterior_batch(cases)
        >>> out.shape, bool(np.allclose(out.sum(axis=1), 1.0))
        ((2, 39), True)
        """
        if type(cases).__module__.startswith("dask."):  # a dask DataFrame: one per partition
            from .cohort import posterior_batch_dask

            lazy: pd.DataFrame = posterior_batch_dask(self, cases, target=target, soft=soft)
            return lazy
        target = self._check_target(target)
        check_columns(cases, self.findings)
        jobs = usable_cores() if n_jobs in (None, -1) else int(n_jobs)
        codes, sets = encode_frame(
            self.spec, cases, target, self.findings, self.engine.index, n_jobs=jobs
        )
        lam = self._batch_soft(cases, soft, target)
        if sets:
            lam = {**(lam or {}), **self._batch_state_sets(cases, codes, sets)}
        try:
            result = self.engine.posterior_batch(
                codes, target, lam, chunk_size=chunk_size, n_jobs=jobs
            )
        except ZeroProbabilityError as exc:
            rows = [] if exc.rows is None else list(cases.index[exc.rows][:10])
            raise EvidenceError(f"Evidence has probability zero in rows {rows}") from None
        import pandas as pd

        table = pd.DataFrame(
            result,
            index=cases.index,
            columns=pd.Index(self.spec.nodes[target].states, name=target),
            copy=False,
        )
        return stamp(table, self.spec, {"target": target})

    def save(self, path: str | Path, *, format: str | None = None, provenance: bool = True) -> Path:
        """Write the network to BIF, XMLBIF, UAI, Hugin ``.net`` or GeNIe ``.xdsl``.

        See :func:`softcalc_bayes.export.export` (format from the suffix by default,
        or ``format=`` in any case; a ``<path>.provenance.json`` sidecar holds the
        provenance of every number).

        Raises
        ------
        ExportError
            Unknown format, a missing folder, ``path`` is a folder, or the file cannot
            be written (the message names it and the system's reason).
        InvalidParameterError
            ``path`` is not a str or Path, or ``provenance`` not a bool.
        """
        from ._params import BOOLEAN, PATH, check_param
        from .export import export

        check_param("Network.save", "path", path, [PATH])
        check_param("Network.save", "provenance", provenance, [BOOLEAN])
        return export(self, path, format=format, provenance=provenance)

    def _batch_state_sets(
        self, cases: pd.DataFrame, codes: np.ndarray, sets: Mapping[str, Mapping[int, Any]]
    ) -> dict[str, np.ndarray]:
        """Likelihood rows of the columns that hold sets of states; their codes are zeroed.

        Such a column goes to the engine as soft evidence for every row: a set of states
        as its 0/1 indicator, a single state as a one-hot row, an empty cell as ones.
        """
        out: dict[str, np.ndarray] = {}
        for name, cells in sets.items():
            node = self.spec.nodes[name]
            j = self.engine.index[name]
            column = codes[:, j].astype(np.intp)
            rows = np.ones((len(cases), len(node.states)))
            observed = np.flatnonzero(column)
            rows[observed] = 0.0
            rows[observed, column[observed] - 1] = 1.0
            codes[:, j] = 0
            for i, value in cells.items():
                rows[i] = state_set_likelihood(
                    node, value, f"Row {cases.index[i]!r}, column {name!r}"
                )
            out[name] = rows
        return out

    def _batch_soft(
        self, cases: pd.DataFrame, soft: Soft | None, target: str
    ) -> dict[str, np.ndarray] | None:
        import pandas as pd

        if not soft:
            return None
        if not isinstance(soft, Mapping):
            raise EvidenceError("soft must be a mapping node -> likelihoods")
        n = len(cases)
        out: dict[str, np.ndarray] = {}
        for name, given in soft.items():
            if isinstance(given, pd.DataFrame):
                node = self.spec.nodes.get(name) if isinstance(name, str) else None
                if node is None:
                    raise EvidenceError("soft: " + unknown_message("node", name, self.spec.nodes))
                if name == target:
                    raise EvidenceError(
                        f"soft: evidence on the target {target!r} itself; query another target"
                    )
                if name in cases.columns:
                    raise EvidenceError(f"soft: {name!r} is also a column of cases")
                repeated = sorted({str(c) for c in given.columns[given.columns.duplicated()]})
                if repeated:
                    raise EvidenceError(
                        f"soft[{name!r}]: repeated state column(s) {', '.join(repeated)}; "
                        "give each state once"
                    )
                if not given.index.equals(cases.index):
                    raise EvidenceError(f"soft[{name!r}]: its index must equal the index of cases")
                rows = [
                    _likelihoods(
                        node, dict(zip(given.columns, r, strict=True)), f"soft[{name!r}], row {i!r}"
                    )
                    for i, r in zip(given.index, given.itertuples(index=False), strict=True)
                ]
                out[name] = np.vstack(rows) if rows else np.ones((0, len(node.states)))
            else:
                vec = encode_soft(self.spec, {name: given}, target, {})[name]
                if name in cases.columns:
                    raise EvidenceError(f"soft: {name!r} is also a column of cases")
                out[name] = np.broadcast_to(vec, (n, len(vec)))
        return out


def load_network(path: str | Path | None = None, *, profile: str | None = None) -> Network:
    """Load, validate and wrap a network folder (None: the packaged default).

    Parameters
    ----------
    path : str or Path, optional
        Folder with ``network.yaml``; None loads the packaged default network.
    profile : str, optional
        Prior profile (clinical setting); None uses the network's default profile.

    Raises
    ------
    NetworkSpecError
        If ``path`` is not a str or Path, or any file of the folder is missing or
        invalid (the message names file, node, row and problem).

    Examples
    --------
    >>> net = load_network()
    >>> "myositis_ossificans" in net.states("diagnosis")
    True
    """
    from ._cache import load_spec_cached  # a disk cache of validated specs

    if path is not None and not isinstance(path, str | Path):
        from ._rows import described
        from .exceptions import NetworkSpecError

        raise NetworkSpecError(f"path must be a folder (str or Path), got {described(path)}")

    return Network(load_spec_cached(path, profile=profile))
