"""The user's object: a validated network with posterior queries."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._validation import unknown_message
from .build import build_pgmpy_model
from .engine import CompiledEngine, ZeroProbabilityError
from .exceptions import EvidenceError
from .spec import NetworkSpec, NodeSpec, select_profile

__all__ = ["Evidence", "Network", "load_network"]

Evidence = Mapping[str, Any]
EngineName = Literal["compiled", "pgmpy"]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA


class Network:
    """A Bayesian network for the differential diagnosis of soft-tissue mineralisation.

    Build one with :func:`load_network`. Queries use a compiled numpy engine
    (:class:`~softcalc_bayes.engine.CompiledEngine`); ``engine="pgmpy"`` runs pgmpy's
    variable elimination instead, as a reference.

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
        self.spec = spec
        self.target = spec.target
        self._state_index = {
            name: {s: i for i, s in enumerate(node.states)} for name, node in spec.nodes.items()
        }

    def __repr__(self) -> str:
        return (
            f"Network({self.spec.name!r}, profile={self.profile!r}, "
            f"{len(self.findings)} findings, {len(self.states(self.target))} diagnoses)"
        )

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
        return tuple(n for n, node in self.spec.nodes.items() if node.kind == "finding")

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
        return build_pgmpy_model(self.spec)

    @cached_property
    def engine(self) -> CompiledEngine:
        """The compiled exact-inference engine (built on first use)."""
        return CompiledEngine(list(self.spec.nodes.values()), pivot=self.target)

    @cached_property
    def _pgmpy_inference(self) -> Any:
        from pgmpy.inference import VariableElimination

        return VariableElimination(self.pgmpy_model)

    # ------------------------------------------------------------- parameters
    def parameters(self) -> pd.DataFrame:
        """One row per probability in the network, with its provenance.

        Columns: ``node``, ``parents`` (dict parent -> state), ``state``, ``value``,
        ``source``, ``locator``, ``basis``, ``reason``, ``strength``, ``is_default``.
        Rows follow the nodes' tables in order (parent configurations in C order).
        """
        return self._parameters.copy()

    @cached_property
    def _parameters(self) -> pd.DataFrame:
        records: list[dict[str, Any]] = []
        for name, node in self.spec.nodes.items():
            configs = itertools.product(*(self.spec.nodes[p].states for p in node.parents))
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
                        }
                    )
        return pd.DataFrame.from_records(records)

    # ------------------------------------------------------------- evidence
    def _check_target(self, target: str) -> None:
        if target not in self.spec.nodes:
            raise EvidenceError(unknown_message("target", target, self.spec.nodes))

    def encode(self, evidence: Evidence, *, target: str | None = None) -> dict[str, int]:
        """Validate ``evidence`` and return it as node -> state index.

        Missing values (None, NaN) mean "not observed" and are dropped.

        Raises
        ------
        EvidenceError
            Unknown finding or state (with the closest match), a latent node, or
            evidence on the query target itself.
        """
        if not isinstance(evidence, Mapping):
            raise EvidenceError(
                f"Evidence must be a mapping finding -> state, got {type(evidence).__name__}"
            )
        target = self.target if target is None else target
        out: dict[str, int] = {}
        for name, value in evidence.items():
            if _missing(value):
                continue
            node = self._finding(name, target)
            index = self._state_index[name].get(value) if isinstance(value, str) else None
            if index is None:
                raise EvidenceError(
                    f"Finding {name!r}: " + unknown_message("state", value, node.states)
                )
            out[name] = index
        return out

    def _finding(self, name: Any, target: str) -> NodeSpec:
        """The node of an observable finding, or an EvidenceError saying why not."""
        node = self.spec.nodes.get(name) if isinstance(name, str) else None
        if node is None:
            raise EvidenceError(unknown_message("finding", name, self.findings))
        if node.kind == "latent":
            raise EvidenceError(
                f"{name!r} is a latent node and cannot be observed; enter its tests "
                f"instead. Valid findings: {', '.join(self.findings)}"
            )
        if name == target:
            raise EvidenceError(
                f"Evidence on the target {target!r} itself: remove {name!r} from the "
                "evidence or query another target"
            )
        return node

    def _conflict_message(self, codes: Mapping[str, int]) -> str:
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
        shown = ", ".join(f"{n}={v}" for n, v in named.items())
        return f"Evidence has probability zero: no diagnosis allows all of {shown}"

    # ------------------------------------------------------------- queries
    def posterior(
        self, evidence: Evidence, *, target: str | None = None, engine: EngineName = "compiled"
    ) -> pd.Series:
        """Posterior distribution of ``target`` given ``evidence``, sorted descending.

        Parameters
        ----------
        evidence : mapping
            Finding -> observed state. Unobserved findings are left out (or None).
        target : str, optional
            The node to query (default: the diagnosis).
        engine : {"compiled", "pgmpy"}
            The compiled numpy engine, or pgmpy's variable elimination (reference).

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
        """
        target = self.target if target is None else target
        self._check_target(target)
        codes = self.encode(evidence, target=target)
        if engine == "compiled":
            try:
                values = self.engine.posterior(codes, target)
            except ZeroProbabilityError:
                raise EvidenceError(self._conflict_message(codes)) from None
        elif engine == "pgmpy":
            values = self._pgmpy_posterior(codes, target)
        else:
            raise EvidenceError(unknown_message("engine", engine, ["compiled", "pgmpy"]))
        order = np.argsort(-values, kind="stable")
        index = pd.Index(self._state_arrays[target][order], name=target, dtype=object)
        return pd.Series(values[order], index=index, name=target, copy=False)

    @cached_property
    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {n: np.array(node.states, dtype=object) for n, node in self.spec.nodes.items()}

    def _pgmpy_posterior(self, codes: Mapping[str, int], target: str) -> np.ndarray:
        if codes and not np.isfinite(self.engine.log_evidence(codes)):
            raise EvidenceError(self._conflict_message(codes))
        named = {n: self.spec.nodes[n].states[i] for n, i in codes.items()}
        factor = self._pgmpy_inference.query([target], evidence=named or None, show_progress=False)
        names = factor.state_names[target]
        by_name = dict(zip(names, np.asarray(factor.values, dtype=float), strict=True))
        return np.array([by_name[s] for s in self.spec.nodes[target].states])

    def posterior_groups(self, evidence: Evidence) -> pd.Series:
        """Probability of each diagnosis group, sorted descending.

        Examples
        --------
        >>> g = load_network().posterior_groups({"pulmonary_metastases": "present"})
        >>> g.index[0]
        'malignant_neoplasm'
        """
        post = self.posterior(evidence)
        groups = pd.Series(self.spec.groups).reindex(post.index)
        out = post.groupby(groups.to_numpy()).sum().sort_values(ascending=False)
        out.index.name, out.name = "group", "probability"
        return out

    def posterior_batch(self, cases: pd.DataFrame, *, target: str | None = None) -> pd.DataFrame:
        """Posteriors for many cases at once.

        Parameters
        ----------
        cases : pandas.DataFrame
            One row per case, one column per finding; NaN/None means not observed.
        target : str, optional
            The node to query (default: the diagnosis).

        Returns
        -------
        pandas.DataFrame
            Same index as ``cases``; one column per target state (in network order).

        Raises
        ------
        EvidenceError
            Naming the row index and column of the first bad value, or the rows whose
            evidence has probability zero.
        """
        target = self.target if target is None else target
        self._check_target(target)
        if not isinstance(cases, pd.DataFrame):
            raise EvidenceError(f"cases must be a pandas DataFrame, got {type(cases).__name__}")
        codes = np.zeros((len(cases), len(self.engine.names)), dtype=np.int64)
        for column in cases.columns:
            node = self._finding(column, target)
            column_values = cases[column]
            lookup = pd.Index(list(node.states), dtype=object)
            coded = lookup.get_indexer(pd.Index(column_values, dtype=object)).astype(np.int64)
            bad = (coded < 0) & column_values.notna().to_numpy()
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise EvidenceError(
                    f"Row {cases.index[i]!r}, column {column!r}: "
                    + unknown_message("state", column_values.iloc[i], node.states)
                )
            codes[:, self.engine.index[column]] = coded + 1
        try:
            result = self.engine.posterior_batch(codes, target)
        except ZeroProbabilityError as exc:
            rows = [] if exc.rows is None else list(cases.index[exc.rows][:10])
            raise EvidenceError(f"Evidence has probability zero in rows {rows}") from None
        return pd.DataFrame(
            result,
            index=cases.index,
            columns=pd.Index(self.spec.nodes[target].states, name=target),
        )


def load_network(path: str | Path | None = None, *, profile: str | None = None) -> Network:
    """Load, validate and wrap a network folder (None: the packaged default).

    Parameters
    ----------
    path : str or Path, optional
        Folder with ``network.yaml``; None loads the packaged default network.
    profile : str, optional
        Prior profile (clinical setting); None uses the network's default profile.

    Examples
    --------
    >>> net = load_network()
    >>> "myositis_ossificans" in net.states("diagnosis")
    True
    """
    from ._cache import load_spec_cached  # a disk cache of validated specs

    return Network(load_spec_cached(path, profile=profile))
