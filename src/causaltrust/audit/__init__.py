"""Trust audits: accuracy, fairness, robustness, privacy and explainability as interventional tests."""

from causaltrust.audit._audit import OBJECTIVES, audit, build_context
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
    "build_context",
    "metric_info",
]
