"""Privacy audits: the model's DP accountant ε, membership inference and attribute inference."""

from causaltrust.audit.privacy._attribute import attribute_advantage
from causaltrust.audit.privacy._membership import (
    lira_scores,
    memorising_forest,
    rmia_scores,
    tpr_at_fpr,
    yeom_advantage,
)
from causaltrust.audit.privacy._metrics import privacy_metrics

__all__ = [
    "attribute_advantage",
    "lira_scores",
    "memorising_forest",
    "privacy_metrics",
    "rmia_scores",
    "tpr_at_fpr",
    "yeom_advantage",
]
