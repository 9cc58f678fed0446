"""softcalc-bayes: Bayesian differential diagnosis of soft-tissue calcification and ossification.

Load the documented default network and query it::

    >>> import softcalc_bayes as sb
    >>> net = sb.load_network()
    >>> post = net.posterior({"zonal_pattern": "peripheral_mature_rim", "trauma_history": "yes"})
    >>> post.index[0]
    'myositis_ossificans'
"""

from __future__ import annotations

from .cases import Case, load_cases
from .constraints import check_constraints
from .coverage import CoverageReport, coverage
from .evaluate import EvaluationReport, evaluate
from .exceptions import EngineError, EvidenceError, NetworkSpecError, SoftcalcError
from .network import Network, load_network
from .sensitivity import sensitivity, sensitivity_coefficients, tune
from .spec import NetworkSpec, load_spec
from .uncertainty import UncertaintyResult, posterior_uncertainty, sobol_indices
from .whatif import compare_profiles, evidence_whatif

__all__ = [
    "Case",
    "CoverageReport",
    "EngineError",
    "EvaluationReport",
    "EvidenceError",
    "Network",
    "NetworkSpec",
    "NetworkSpecError",
    "SoftcalcError",
    "UncertaintyResult",
    "__version__",
    "check_constraints",
    "compare_profiles",
    "coverage",
    "evaluate",
    "evidence_whatif",
    "load_cases",
    "load_network",
    "load_spec",
    "posterior_uncertainty",
    "sensitivity",
    "sensitivity_coefficients",
    "sobol_indices",
    "tune",
]

__version__ = "0.1.0"
