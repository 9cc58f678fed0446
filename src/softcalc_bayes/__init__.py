"""softcalc-bayes: Bayesian differential diagnosis of soft-tissue calcification and ossification.

Load the documented default network and query it::

    >>> import softcalc_bayes as sb
    >>> net = sb.load_network()
    >>> post = net.posterior({"zonal_pattern": "peripheral_mature_rim", "trauma_history": "yes"})
    >>> post.index[0]
    'myositis_ossificans'

The public names are imported on first use (PEP 562): ``import softcalc_bayes`` is
instant, and each name costs only the modules it needs (``load_network`` never
imports pgmpy, SALib or matplotlib).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the same names, for type checkers and IDEs
    from ._display import captioned
    from .cases import Case, load_cases
    from .constraints import check_constraints
    from .costs import WorkupCosts, load_test_costs
    from .coverage import CoverageReport, coverage
    from .evaluate import EvaluationReport, evaluate
    from .exceptions import (
        EngineError,
        EvidenceError,
        ExportError,
        InvalidParameterError,
        NetworkSpecError,
        SoftcalcError,
    )
    from .explain import Explanation, explain
    from .interop import from_bif, from_pgmpy
    from .network import Network, load_network
    from .sensitivity import sensitivity, sensitivity_coefficients, tune
    from .spec import NetworkSpec, load_spec
    from .uncertainty import UncertaintyResult, posterior_uncertainty, sobol_indices
    from .whatif import compare_profiles, evidence_whatif
    from .workup import next_best_test, sample_cases, sequential_workup

__all__ = [
    "Case",
    "CoverageReport",
    "EngineError",
    "EvaluationReport",
    "EvidenceError",
    "Explanation",
    "ExportError",
    "InvalidParameterError",
    "Network",
    "NetworkSpec",
    "NetworkSpecError",
    "SoftcalcError",
    "UncertaintyResult",
    "WorkupCosts",
    "__version__",
    "captioned",
    "check_constraints",
    "compare_profiles",
    "coverage",
    "evaluate",
    "evidence_whatif",
    "explain",
    "from_bif",
    "from_pgmpy",
    "load_cases",
    "load_network",
    "load_spec",
    "load_test_costs",
    "next_best_test",
    "posterior_uncertainty",
    "sample_cases",
    "sensitivity",
    "sensitivity_coefficients",
    "sequential_workup",
    "sobol_indices",
    "tune",
]

# Public name -> the submodule defining it. Add a public name here, in the
# TYPE_CHECKING block and in __all__ (tests/test_packaging.py checks all three agree).
_EXPORTS: dict[str, str] = {
    "captioned": "_display",
    "Case": "cases",
    "load_cases": "cases",
    "check_constraints": "constraints",
    "CoverageReport": "coverage",
    "coverage": "coverage",
    "EvaluationReport": "evaluate",
    "evaluate": "evaluate",
    "EngineError": "exceptions",
    "EvidenceError": "exceptions",
    "ExportError": "exceptions",
    "InvalidParameterError": "exceptions",
    "NetworkSpecError": "exceptions",
    "SoftcalcError": "exceptions",
    "Explanation": "explain",
    "explain": "explain",
    "from_bif": "interop",
    "from_pgmpy": "interop",
    "Network": "network",
    "load_network": "network",
    "sensitivity": "sensitivity",
    "sensitivity_coefficients": "sensitivity",
    "tune": "sensitivity",
    "NetworkSpec": "spec",
    "load_spec": "spec",
    "UncertaintyResult": "uncertainty",
    "posterior_uncertainty": "uncertainty",
    "sobol_indices": "uncertainty",
    "compare_profiles": "whatif",
    "evidence_whatif": "whatif",
    "WorkupCosts": "costs",
    "load_test_costs": "costs",
    "next_best_test": "workup",
    "sample_cases": "workup",
    "sequential_workup": "workup",
}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value: Any = version("softcalc-bayes")
        except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
            value = "0+unknown"
    elif name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Package(types.ModuleType):
    """The package module. Importing a submodule binds it as an attribute of its
    package; where a function has the submodule's name (``coverage``, ``evaluate``,
    ``sensitivity``) the function is bound instead, as an eager import would leave it."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _EXPORTS.get(name) == name:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
