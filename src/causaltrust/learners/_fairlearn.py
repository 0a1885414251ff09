"""The one adapter around fairlearn: every use of fairlearn in the learners goes through here.

Only fairlearn's public API is used: the mitigators' constructors and ``fit``, and their documented fitted
attributes (``ExponentiatedGradient.predictors_`` / ``weights_``, ``ThresholdOptimizer
.interpolated_thresholder_`` with its ``estimator_`` and ``interpolation_dict``). The probability that a
randomized mitigator decides 1 is computed from those attributes, so predictions are deterministic and
batch-invariant (the learners draw their decisions with row-keyed uniforms). The supported versions are
:data:`FAIRLEARN_VERSIONS` (``pyproject.toml``'s ``fairness`` extra; ``constraints.txt`` pins the tested one);
``tests/learners/test_fairlearn_adapter.py`` checks the results against fairlearn's own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "FAIRLEARN_VERSIONS",
    "bounded_group_loss",
    "mixture_mean",
    "reduction",
    "threshold_optimizer",
    "threshold_positive_rate",
]

Array = np.ndarray
#: fairlearn versions the adapter supports: [first, last) (the attributes it reads exist in these).
FAIRLEARN_VERSIONS = ("0.11", "0.16")


def _fairlearn() -> Any:
    try:
        import fairlearn
    except ImportError:  # pragma: no cover - the extra is installed in every test environment
        raise ImportError(
            "the fairness baselines need fairlearn: pip install 'causaltrust[fairness]'"
        ) from None
    version = tuple(int(x) for x in fairlearn.__version__.split(".")[:2])
    low, high = (tuple(int(x) for x in v.split(".")) for v in FAIRLEARN_VERSIONS)
    if not low <= version < high:
        raise ImportError(
            f"causaltrust supports fairlearn >= {FAIRLEARN_VERSIONS[0]}, < {FAIRLEARN_VERSIONS[1]}; "
            f"found {fairlearn.__version__}: pip install 'causaltrust[fairness]'"
        )
    return fairlearn


def reduction(estimator: Any, constraint: str, *, eps: float, max_iter: int) -> Any:
    """fairlearn's ``ExponentiatedGradient`` under demographic parity or equalized odds (unfitted)."""
    _fairlearn()
    from fairlearn.reductions import DemographicParity, EqualizedOdds, ExponentiatedGradient

    moment = DemographicParity() if constraint == "demographic_parity" else EqualizedOdds()
    return ExponentiatedGradient(estimator, constraints=moment, eps=eps, max_iter=max_iter)


def bounded_group_loss(estimator: Any, *, low: float, high: float, upper_bound: float, max_iter: int) -> Any:
    """fairlearn's ``ExponentiatedGradient`` with a bounded-group-loss constraint on the squared error
    (clipped to ``[low, high]``), unfitted."""
    _fairlearn()
    from fairlearn.reductions import BoundedGroupLoss, ExponentiatedGradient, SquareLoss

    loss = BoundedGroupLoss(SquareLoss(low, high), upper_bound=upper_bound)
    return ExponentiatedGradient(estimator, constraints=loss, max_iter=max_iter)


def mixture_mean(fitted: Any, Z: Array) -> Array:
    """The expected prediction of a fitted ``ExponentiatedGradient``: ``Σ weights_[t] · predictors_[t]
    .predict(Z)``. For a classification reduction this is P(decide 1) (the predictors return 0/1)."""
    weights = np.asarray(fitted.weights_, dtype=np.float64)
    preds = np.zeros((len(Z), len(weights)))
    for t, (w, predictor) in enumerate(zip(weights, fitted.predictors_, strict=True)):
        if w > 0:  # a predictor of weight 0 is never drawn
            preds[:, t] = np.asarray(predictor.predict(Z), dtype=np.float64)
    return np.asarray(preds @ weights, dtype=np.float64)


def threshold_optimizer(estimator: Any, constraint: str) -> Any:
    """fairlearn's ``ThresholdOptimizer`` on ``estimator``'s probabilities (else its decision function)."""
    _fairlearn()
    from fairlearn.postprocessing import ThresholdOptimizer

    method = "predict_proba" if hasattr(estimator, "predict_proba") else "decision_function"
    return ThresholdOptimizer(
        estimator=estimator, constraints=constraint, prefit=False, predict_method=method
    )


def threshold_positive_rate(fitted: Any, Z: Array, sensitive: Array) -> Array:
    """P(decide 1) of a fitted ``ThresholdOptimizer`` per row: each group's interpolation of two
    thresholds of the base estimator's score (and a constant with probability ``p_ignore``)."""
    thresholder = fitted.interpolated_thresholder_
    base = thresholder.estimator_
    if fitted.predict_method == "predict_proba":
        score = np.asarray(base.predict_proba(Z), dtype=np.float64)[:, 1]
    else:
        score = np.asarray(base.decision_function(Z), dtype=np.float64)
    out = 0.0 * score
    groups = np.asarray(sensitive)
    for group, rule in thresholder.interpolation_dict.items():
        p = rule.p0 * rule.operation0(score) + rule.p1 * rule.operation1(score)
        if "p_ignore" in rule:
            p = rule.p_ignore * rule.prediction_constant + (1 - rule.p_ignore) * p
        mask = groups == group
        out[mask] = np.asarray(p)[mask]
    return out
