"""Trust audits: accuracy, fairness, robustness, privacy and explainability as interventional tests.

The package is callable: ``ct.audit(model, spec=..., scm=..., data=...)`` calls :func:`audit`, and its
subpackages import as usual (``import causaltrust.audit.privacy``).
"""

from causaltrust._callable import make_callable
from causaltrust.audit._audit import OBJECTIVES, audit, build_context
from causaltrust.audit._bootstrap import bootstrap_interval
from causaltrust.audit._context import AuditContext
from causaltrust.audit._model import ModelAdapter
from causaltrust.audit._options import AuditOptions
from causaltrust.audit._report import METRICS, Metric, MetricInfo, TrustReport, metric_info
from causaltrust.audit._worlds import UnitWorlds

__all__ = [
    "METRICS",
    "OBJECTIVES",
    "AuditContext",
    "AuditOptions",
    "Metric",
    "MetricInfo",
    "ModelAdapter",
    "TrustReport",
    "UnitWorlds",
    "audit",
    "bootstrap_interval",
    "build_context",
    "metric_info",
]

make_callable(__name__, "audit")
