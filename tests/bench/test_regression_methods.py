"""A sweep method picks its regressor twin when the spec's target is continuous (issue 26)."""

from __future__ import annotations

import pytest

import causaltrust as ct
from causaltrust import learners
from causaltrust.bench import METHODS, REGRESSION_METHODS, BenchError
from causaltrust.bench._methods import resolve_params

LAW = ct.datasets.spec("law_school")
TWINS = {
    "erm": learners.ERMRegressor,
    "unaware": learners.UnawareRegressor,
    "cf_fair": learners.CounterfactualFairRegressor,
    "cf_fair_fitted": learners.CounterfactualFairRegressor,
    "cf_augment": learners.CounterfactualAugmentationRegressor,
    "cf_augment_fitted": learners.CounterfactualAugmentationRegressor,
    "selective": learners.SelectiveInvarianceRegressor,
    "selective_fitted": learners.SelectiveInvarianceRegressor,
    "bgl": learners.BoundedGroupLossRegressor,
}


def test_every_regression_method_builds_its_twin() -> None:
    assert set(REGRESSION_METHODS) == set(TWINS)
    for name, cls in TWINS.items():
        m = METHODS[name]
        est = m.build(LAW, None, resolve_params(m, {}), 0)
        assert type(est) is cls, name
        # C keeps its meaning for the final estimator: Ridge(alpha=1/C).
        assert est.estimator.alpha == pytest.approx(1.0), name


def test_a_binary_target_keeps_the_classifiers_and_bgl_refuses_it() -> None:
    spec = ct.datasets.spec("compas")
    erm = METHODS["erm"]
    assert not isinstance(erm.build(spec, None, resolve_params(erm, {}), 0), learners.ERMRegressor)
    with pytest.raises(BenchError, match=r"needs a continuous target.*eg_dp"):
        METHODS["bgl"].build(spec, None, resolve_params(METHODS["bgl"], {}), 0)


def test_a_family_without_twin_names_the_alternatives() -> None:
    m = METHODS["threshold_dp"]
    # ThresholdOptimizer has no regression form; its builder does not hand over, fit refuses the target.
    est = m.build(LAW, None, resolve_params(m, {}), 0)
    df = ct.datasets.load("law_school").head(200)
    with pytest.raises(ct.DataError, match="ThresholdOptimizerClassifier predicts a binary target coded 0/1"):
        est.fit(df[LAW.features], df[LAW.target])
