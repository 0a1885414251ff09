"""Learners: selective-invariance estimators and the standard baselines they are measured against.

Every estimator follows the scikit-learn contract and saves to a data-only model file (``estimator.save``,
``ct.load_model``). The spec-aware ones take the trust ``spec`` as a constructor parameter and read per-row
information (protected attribute, environment) from the columns the spec names: of a DataFrame, or of a 2-D
array in the spec's feature order. The DP-SGD and torch classifiers (``DPLogisticRegression``,
``DPMLPClassifier``, ``TorchLogisticRegression``, ``TorchMLPClassifier``) are plain scikit-learn
classifiers on numeric arrays, without a spec.

==================================  =====================================================================
estimator                           invariance it targets
==================================  =====================================================================
SelectiveInvarianceClassifier       all of the spec's, path by path (fair world + artifact removed)
ERMClassifier                       none (empirical risk minimisation)
UnawareClassifier                   direct use of the protected attribute (drops it)
ReductionsClassifier                demographic parity / equalized odds (fairlearn reductions)
ThresholdOptimizerClassifier        demographic parity / equalized odds (fairlearn post-processing)
CounterfactualFairClassifier        counterfactual fairness, Kusner et al. level 3 (level=2: Fair K)
CounterfactualAugmentationClassifier  counterfactual invariance by data augmentation through the SCM
IRMClassifier, VRExClassifier       invariance across environments (DomainBed definitions)
GroupDROClassifier                  worst-environment risk
AnchorClassifier, AnchorRegressor   anchor regression / classification, the environment as anchor
TorchERMClassifier                  none: pooled ERM with the same torch model (their reference)
DPLogisticRegression, DPMLPClassifier  differential privacy (DP-SGD with an Opacus accountant)
InputNoiseClassifier                uniform input obfuscation (no DP guarantee)
SensitiveDPClassifier               DP for the sensitive variables only (randomized response, de-biased)
RecenteringClassifier               unlabeled target rows: per-environment re-centering and scaling
ImportanceWeightedClassifier        unlabeled target rows: importance-weighted ERM (domain classifier)
==================================  =====================================================================

Regressor twins (continuous target): ``SelectiveInvarianceRegressor``, ``ERMRegressor``,
``UnawareRegressor``, ``CounterfactualFairRegressor`` (Kusner's Fair Add at ``level=3``),
``CounterfactualAugmentationRegressor`` and ``BoundedGroupLossRegressor`` (fairlearn's bounded group loss:
the regression counterpart of ``ReductionsClassifier``). No twin: ``ThresholdOptimizerClassifier`` (it
thresholds a score into decisions; a regression has none), the DomainBed and DP-SGD torch learners and the
shift baselines (binary losses in their training loops; issue 26 leaves them to a later wave).
"""

from causaltrust.learners._anchor import AnchorClassifier, AnchorRegressor
from causaltrust.learners._dp import (
    DPLogisticRegression,
    DPMLPClassifier,
    InputNoiseClassifier,
    TorchLogisticRegression,
    TorchMLPClassifier,
    gaussian_obfuscation,
)
from causaltrust.learners._fair_baselines import (
    CounterfactualAugmentationClassifier,
    CounterfactualFairClassifier,
    ERMClassifier,
    ReductionsClassifier,
    ThresholdOptimizerClassifier,
    UnawareClassifier,
)
from causaltrust.learners._invariance import (
    GroupDROClassifier,
    IRMClassifier,
    TorchERMClassifier,
    VRExClassifier,
)
from causaltrust.learners._level2 import level2_design
from causaltrust.learners._regressors import (
    BoundedGroupLossRegressor,
    CounterfactualAugmentationRegressor,
    CounterfactualFairRegressor,
    ERMRegressor,
    UnawareRegressor,
)
from causaltrust.learners._selective import SelectiveInvarianceClassifier, SelectiveInvarianceRegressor
from causaltrust.learners._sensitive import SensitiveDPClassifier
from causaltrust.learners._shift_baselines import ImportanceWeightedClassifier, RecenteringClassifier

__all__ = [
    "AnchorClassifier",
    "AnchorRegressor",
    "BoundedGroupLossRegressor",
    "CounterfactualAugmentationClassifier",
    "CounterfactualAugmentationRegressor",
    "CounterfactualFairClassifier",
    "CounterfactualFairRegressor",
    "DPLogisticRegression",
    "DPMLPClassifier",
    "ERMClassifier",
    "ERMRegressor",
    "GroupDROClassifier",
    "IRMClassifier",
    "ImportanceWeightedClassifier",
    "InputNoiseClassifier",
    "RecenteringClassifier",
    "ReductionsClassifier",
    "SelectiveInvarianceClassifier",
    "SelectiveInvarianceRegressor",
    "SensitiveDPClassifier",
    "ThresholdOptimizerClassifier",
    "TorchERMClassifier",
    "TorchLogisticRegression",
    "TorchMLPClassifier",
    "UnawareClassifier",
    "UnawareRegressor",
    "VRExClassifier",
    "gaussian_obfuscation",
    "level2_design",
]
