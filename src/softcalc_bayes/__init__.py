"""softcalc-bayes: Bayesian differential diagnosis of soft-tissue calcification and ossification.

Load the documented default network and query it::

    >>> import softcalc_bayes as sb
    >>> net = sb.load_network()
    >>> post = net.posterior({"zonal_pattern": "peripheral_mature_rim", "trauma_history": "yes"})
    >>> post.index[0]
    'myositis_ossificans'
"""

from __future__ import annotations

from .engine import CompiledEngine
from .exceptions import EngineError, EvidenceError, NetworkSpecError, SoftcalcError
from .network import Network, load_network
from .spec import NetworkSpec, load_spec

__all__ = [
    "CompiledEngine",
    "EngineError",
    "EvidenceError",
    "Network",
    "NetworkSpec",
    "NetworkSpecError",
    "SoftcalcError",
    "__version__",
    "load_network",
    "load_spec",
]

__version__ = "0.1.0"
