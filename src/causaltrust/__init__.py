"""causaltrust: fair, robust, private and explainable AI at the same time, by reasoning with a causal model.

>>> import causaltrust as ct
>>> spec, scm = ct.scenarios.load("readmission")
>>> df = scm.sample(1_000, random_state=0)

Names are imported on first use (``ct.audit`` imports the audit machinery, ``ct.bench`` scikit-learn and
DuckDB), so ``import causaltrust`` and every CLI call start fast.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from causaltrust._version import __version__
from causaltrust.exceptions import (
    BenchError,
    CausalTrustError,
    DataError,
    GraphError,
    IdentificationError,
    SpecError,
)

if TYPE_CHECKING:
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
    from causaltrust.audit import TrustReport, audit
    from causaltrust.decompose import DisparityDecomposition, decompose_disparity
    from causaltrust.discovery import DiscoveryResult, discover
    from causaltrust.scm import SCM, Effect, EffectDecomposition, decompose_effects, path_effect
    from causaltrust.sensitivity import sensitivity
    from causaltrust.spec import TrustSpec, dump_spec, load_spec


# name -> (module, attribute or None for the module itself)
_LAZY: dict[str, tuple[str, str | None]] = {
    "bench": ("causaltrust.bench", None),
    "graph": ("causaltrust.graph", None),
    "learners": ("causaltrust.learners", None),
    "report": ("causaltrust.report", None),
    "scenarios": ("causaltrust.scenarios", None),
    "TrustReport": ("causaltrust.audit", "TrustReport"),
    "audit": ("causaltrust.audit", None),  # the package, callable as the function (causaltrust._callable)
    "SCM": ("causaltrust.scm", "SCM"),
    "Effect": ("causaltrust.scm", "Effect"),
    "EffectDecomposition": ("causaltrust.scm", "EffectDecomposition"),
    "decompose_effects": ("causaltrust.scm", "decompose_effects"),
    "path_effect": ("causaltrust.scm", "path_effect"),
    "TrustSpec": ("causaltrust.spec", "TrustSpec"),
    "dump_spec": ("causaltrust.spec", "dump_spec"),
    "load_spec": ("causaltrust.spec", "load_spec"),
    "datasets": ("causaltrust.datasets", None),
    "discovery": ("causaltrust.discovery", None),
    "DiscoveryResult": ("causaltrust.discovery", "DiscoveryResult"),
    "discover": ("causaltrust.discovery", "discover"),
    "DisparityDecomposition": ("causaltrust.decompose", "DisparityDecomposition"),
    "decompose_disparity": ("causaltrust.decompose", "decompose_disparity"),
    "sensitivity": ("causaltrust.sensitivity", None),  # callable, like ct.audit
    "text": ("causaltrust.text", None),
}


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'causaltrust' has no attribute {name!r}") from None
    value = import_module(module) if attr is None else getattr(import_module(module), attr)
    globals()[name] = value  # once: later look-ups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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
