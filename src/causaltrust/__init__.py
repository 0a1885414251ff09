"""causaltrust: fair, robust, private and explainable AI at the same time, by reasoning with a causal model.

>>> import causaltrust as ct
>>> spec, scm = ct.scenarios.load("readmission")
>>> df = scm.sample(1_000, random_state=0)
"""

from causaltrust import (
    bench,
    datasets,
    discovery,
    graph,
    learners,
    report,
    scenarios,
    text,
)
from causaltrust._version import __version__
from causaltrust.audit import TrustReport, audit  # ct.audit is the function; the subpackage stays importable
from causaltrust.decompose import DisparityDecomposition, decompose_disparity
from causaltrust.discovery import DiscoveryResult, discover
from causaltrust.exceptions import (
    BenchError,
    CausalTrustError,
    DataError,
    GraphError,
    IdentificationError,
    SpecError,
)
from causaltrust.scm import SCM, Effect, EffectDecomposition, decompose_effects, path_effect
from causaltrust.sensitivity import sensitivity  # ct.sensitivity is the function, like ct.audit
from causaltrust.spec import TrustSpec, dump_spec, load_spec

__all__ = [
    "SCM",
    "BenchError",
    "CausalTrustError",
    "DataError",
    "DiscoveryResult",
    "DisparityDecomposition",
    "Effect",
    "EffectDecomposition",
    "GraphError",
    "IdentificationError",
    "SpecError",
    "TrustReport",
    "TrustSpec",
    "__version__",
    "audit",
    "bench",
    "datasets",
    "decompose_disparity",
    "decompose_effects",
    "discover",
    "discovery",
    "dump_spec",
    "graph",
    "learners",
    "load_spec",
    "path_effect",
    "report",
    "scenarios",
    "sensitivity",
    "text",
]
