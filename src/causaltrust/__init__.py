"""causaltrust: fair, robust, private and explainable AI at the same time, by reasoning with a causal model.

>>> import causaltrust as ct
>>> spec, scm = ct.scenarios.load("readmission")
>>> df = scm.sample(1_000, random_state=0)
"""

from causaltrust import (
    bench,
    graph,
    learners,
    report,
    scenarios,
    text,
)
from causaltrust.audit import TrustReport, audit  # ct.audit is the function; the subpackage stays importable
from causaltrust.exceptions import (
    BenchError,
    CausalTrustError,
    DataError,
    GraphError,
    IdentificationError,
    SpecError,
)
from causaltrust.scm import SCM, Effect, EffectDecomposition, decompose_effects, path_effect
from causaltrust.spec import TrustSpec, dump_spec, load_spec

__version__ = "0.1.0"

__all__ = [
    "SCM",
    "BenchError",
    "CausalTrustError",
    "DataError",
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
    "decompose_effects",
    "dump_spec",
    "graph",
    "learners",
    "load_spec",
    "path_effect",
    "report",
    "scenarios",
    "text",
]
