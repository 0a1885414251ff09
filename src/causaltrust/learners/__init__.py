"""Learners: selective-invariance estimators and the standard baselines they are measured against."""

from causaltrust.learners._selective import SelectiveInvarianceClassifier, SelectiveInvarianceRegressor

__all__ = ["SelectiveInvarianceClassifier", "SelectiveInvarianceRegressor"]
