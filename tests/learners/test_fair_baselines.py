"""Fairness baselines on the readmission scenario: each removes the invariance it targets, and only that.

Ground truth is the scenario's own SCM; every statistical bound below is derived from the test size
(8,000 units: about 3,200 with A = 1 and 4,800 with A = 0) and stated where it is used.
"""

from __future__ import annotations

import copy
import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC
from sklearn.utils._param_validation import InvalidParameterError

import causaltrust as ct
from causaltrust.exceptions import DataError, SpecError
from causaltrust.learners._fair_baselines import (
    CounterfactualAugmentationClassifier,
    CounterfactualFairClassifier,
    ERMClassifier,
    ReductionsClassifier,
    ThresholdOptimizerClassifier,
    UnawareClassifier,
)

# fairlearn 0.15 writes Series with .at in ways pandas deprecates; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:fairlearn.*")

N = 8000
SPEC, SCM = ct.scenarios.load("readmission")

# One standard error of a difference of two group rates (p(1-p) <= 1/4) on the test units:
# sqrt(0.25/3200 + 0.25/4800) = 0.0114. The constraint holds on the *training* sample, which deviates from
# the population by as much again, so train-vs-test deviations have sd ~ sqrt(2) * 0.0114 = 0.016;
# 3 sd = 0.05 is the sampling tolerance for demographic parity.
DP_SAMPLING_TOL = 0.05
# Equalized odds compares TPR/FPR within Y = 1 (~1,450 vs ~1,900 units) and Y = 0, and takes the max of two
# differences: sd of one train-vs-test difference ~ sqrt(2) * sqrt(0.25/1450 + 0.25/1900) = 0.025; 3 sd
# plus the max over two = 0.08.
EO_SAMPLING_TOL = 0.08


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.DataFrame]:
    return SCM.sample(N, random_state=11), SCM.sample(N, random_state=12)


def _learners() -> dict[str, Any]:
    return {
        "erm": ERMClassifier(spec=SPEC),
        "unaware": UnawareClassifier(spec=SPEC),
        "reductions_dp": ReductionsClassifier(spec=SPEC, random_state=0),
        "reductions_eo": ReductionsClassifier(spec=SPEC, constraint="equalized_odds", random_state=0),
        "threshold_dp": ThresholdOptimizerClassifier(spec=SPEC, random_state=0),
        "cf_fair": CounterfactualFairClassifier(spec=SPEC, scm=SCM, random_state=0),
        "cf_fair_learned_scm": CounterfactualFairClassifier(spec=SPEC, random_state=0),
        "augment": CounterfactualAugmentationClassifier(spec=SPEC, scm=SCM, random_state=0),
    }


@pytest.fixture(scope="module")
def fitted(data: tuple[pd.DataFrame, pd.DataFrame]) -> dict[str, Any]:
    train, _ = data
    return {k: est.fit(train[SPEC.features], train[SPEC.target]) for k, est in _learners().items()}


@pytest.fixture(scope="module")
def reports(fitted: dict[str, Any], data: tuple[pd.DataFrame, pd.DataFrame]) -> dict[str, ct.TrustReport]:
    _, test = data
    return {
        k: ct.audit(est, spec=SPEC, scm=SCM, data=test, objectives=["accuracy", "fairness"], n_bootstrap=50)
        for k, est in fitted.items()
    }


def _value(rep: ct.TrustReport, name: str) -> float:
    return float(rep.metric(name).value)


# -- what each learner removes --------------------------------------------------------------------------
def test_erm_is_clearly_unfair(reports: dict[str, ct.TrustReport]) -> None:
    # The reference the others are compared with: ~0.5 DP difference, ~0.34 total effect of A.
    rep = reports["erm"]
    assert _value(rep, "fairness.demographic_parity_difference") > 0.4
    assert _value(rep, "fairness.counterfactual_effect") > 0.25


@pytest.mark.parametrize("key", ["reductions_dp", "threshold_dp"])
def test_demographic_parity_learners_cut_dp(reports: dict[str, ct.TrustReport], key: str) -> None:
    dp = _value(reports[key], "fairness.demographic_parity_difference")
    erm = _value(reports["erm"], "fairness.demographic_parity_difference")
    bound = (
        0.01 if key.startswith("reductions") else 0.0
    )  # eps of ExponentiatedGradient; exact for thresholds
    assert dp <= bound + DP_SAMPLING_TOL
    assert dp < erm / 5


def test_equalized_odds_reduction_cuts_eo(reports: dict[str, ct.TrustReport]) -> None:
    eo = _value(reports["reductions_eo"], "fairness.equalized_odds_difference")
    erm = _value(reports["erm"], "fairness.equalized_odds_difference")
    assert eo <= 0.01 + EO_SAMPLING_TOL
    assert eo < erm / 4


def test_unaware_removes_direct_effect_not_proxy(reports: dict[str, ct.TrustReport]) -> None:
    rep = reports["unaware"]
    # A is not an input, so switching A along A -> Ŷ alone changes nothing: exactly 0 up to float error.
    assert abs(_value(rep, "fairness.ctf_de")) < 1e-9
    # The proxy path A -> Z -> Ŷ still carries A's effect (measured ~0.05 with a bootstrap interval of
    # +-0.002 on 8,000 units; 0.03 is ten such half-widths below it).
    assert _value(rep, "fairness.unfair_path_effect") > 0.03


@pytest.mark.parametrize("key", ["cf_fair", "cf_fair_learned_scm"])
def test_counterfactual_fair_has_no_counterfactual_effect(
    reports: dict[str, ct.TrustReport], key: str
) -> None:
    rep = reports[key]
    # The continuous descendants enter as exactly abducted noise (invariant unit by unit); the binary proxy
    # enters as its posterior-mean uniform, invariant in the mean over units, so only a second-order
    # (sigmoid curvature) term remains: 0.01 is 3% of ERM's effect and far above the measured ~0.001.
    assert abs(_value(rep, "fairness.counterfactual_effect")) < 0.01
    # Kusner's definition constrains the total effect, so the legitimate A -> L -> X variation is gone as
    # well. Path by path the model reads A to abduct N_L = L - h(A, F): switching A along the fair path only
    # moves the abducted noise, and the direct edge cancels it (both ~0.18 in size).
    fair = _value(rep, "fairness.fair_path_effect")
    unfair = _value(rep, "fairness.unfair_path_effect")
    assert fair > 0.1
    assert unfair < -0.1
    # It costs observational accuracy against ERM, which uses A's legitimate effect.
    assert _value(rep, "accuracy.observational") < _value(reports["erm"], "accuracy.observational")


def test_augmentation_reduces_counterfactual_effect(reports: dict[str, ct.TrustReport]) -> None:
    aug = _value(reports["augment"], "fairness.counterfactual_effect")
    erm = _value(reports["erm"], "fairness.counterfactual_effect")
    # Twins with A changed and the label kept teach the model to ignore A's whole effect; ERM's effect is
    # ~0.34 with an interval of +-0.002, so a tenth of it is a wide margin for sampling.
    assert abs(aug) < 0.1 * erm


def test_counterfactual_fair_representation(fitted: dict[str, Any]) -> None:
    clf = fitted["cf_fair"]
    assert clf.nondescendants_ == ["E", "F"]
    assert clf.representation_ == ["E=0", "E=1", "E=2", "F", "noise[Z]", "noise[L]"]
    # N_L is exactly L - (A - 0.4 F): compare with the simulated latent (independent of the estimator).
    df = SCM.sample(500, random_state=3)
    rep = clf.represent(df[SPEC.features])
    np.testing.assert_allclose(rep[:, 5], df["L"] - (df["A"] - 0.4 * df["F"]), atol=1e-9)


# -- determinism, batch invariance, persistence ---------------------------------------------------------
@pytest.mark.parametrize("key", sorted(_learners()))
def test_pickle_round_trip(fitted: dict[str, Any], data: tuple[pd.DataFrame, pd.DataFrame], key: str) -> None:
    _, test = data
    X = test[SPEC.features]
    est = fitted[key]
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))


@pytest.mark.parametrize("key", ["reductions_dp", "threshold_dp"])
def test_randomized_decisions_are_reproducible_and_batch_invariant(
    fitted: dict[str, Any], data: tuple[pd.DataFrame, pd.DataFrame], key: str
) -> None:
    _, test = data
    X = test[SPEC.features]
    est = fitted[key]
    full = est.predict(X)
    np.testing.assert_array_equal(est.predict(X), full)
    rows = np.arange(len(X))[::-7]  # a reordered subset
    np.testing.assert_array_equal(est.predict(X.iloc[rows]), full[rows])
    if key == "threshold_dp":  # interpolated group thresholds: some decisions really are randomized
        p = est.predict_proba(X)[:, 1]
        assert ((p > 0.01) & (p < 0.99)).any()


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


# Logistic models on the one-hot encoding: an unseen hospital's one-hot block is the known hospitals'
# training shares, so its logit is the shares-weighted average of the logits at each known hospital.
_LOGIT_POOLED = ("erm", "unaware", "augment")
# The counterfactual learners abduct within a known hospital: they average the predictions themselves.
_PROBABILITY_POOLED = ("cf_fair", "cf_fair_learned_scm")


def test_unseen_hospital_is_pooled(fitted: dict[str, Any], data: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train, _ = data
    new = SCM.shift("new_hospital").sample(300, random_state=4)[SPEC.features]
    assert (new["E"] == 3).all()
    # The weights, counted here from the training rows (not read from a fitted encoder).
    shares = np.bincount(train["E"], minlength=3) / len(train)
    for name, est in fitted.items():
        p = est.predict_proba(new)[:, 1]
        assert np.all(np.isfinite(p))
        assert np.all((p >= 0) & (p <= 1))
        known = [est.predict_proba(new.assign(E=c))[:, 1] for c in range(3)]
        if name in _LOGIT_POOLED:
            pooled_logit = sum(w * _logit(q) for w, q in zip(shares, known, strict=True))
            np.testing.assert_allclose(_logit(p), pooled_logit, rtol=1e-9, atol=1e-9, err_msg=name)
        elif name in _PROBABILITY_POOLED:
            pooled_p = sum(w * q for w, q in zip(shares, known, strict=True))
            np.testing.assert_allclose(p, pooled_p, rtol=1e-12, err_msg=name)
        # fairlearn's mitigators threshold or mix their scores: their encoding is the one checked in
        # tests/learners/test_base.py::test_design_encodes_an_unseen_category_as_the_training_shares.
    assert set(_LOGIT_POOLED + _PROBABILITY_POOLED) < set(fitted)


def test_reductions_needs_only_fit_and_predict(data: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train, _ = data
    small = train.iloc[:2000]
    clf = ReductionsClassifier(spec=SPEC, estimator=LinearSVC(), max_iter=10, random_state=0)
    clf.fit(small[SPEC.features], small[SPEC.target])
    assert clf.predict_proba(small[SPEC.features]).shape == (2000, 2)


# -- bad inputs ------------------------------------------------------------------------------------------
def _spec_without_fairness() -> ct.TrustSpec:
    d = copy.deepcopy(SPEC.to_dict())
    d.pop("fairness")
    d["variables"]["A"].pop("role", None)
    d["privacy"]["sensitive"] = []
    d.pop("thresholds", None)
    return ct.load_spec(d)


@pytest.fixture(scope="module")
def small(data: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    return data[0].iloc[:500]


@pytest.mark.parametrize("cls", [ERMClassifier, ThresholdOptimizerClassifier, CounterfactualFairClassifier])
def test_bad_inputs(cls: Any, small: pd.DataFrame) -> None:
    X, y = small[SPEC.features], small[SPEC.target]
    with pytest.raises(DataError, match="needs a trust spec"):
        cls().fit(X, y)
    with pytest.raises(
        DataError, match=r"X has 2 feature\(s\) \(columns\) but reads \d: the spec.s features"
    ):
        cls(spec=SPEC).fit(X.to_numpy()[:, :2], y)
    with pytest.raises(DataError, match=r"lacks the spec's feature column\(s\) \['Z'\]"):
        cls(spec=SPEC).fit(X.drop(columns="Z"), y)
    with pytest.raises(DataError, match="binary target coded 0/1"):
        cls(spec=SPEC).fit(X, np.arange(len(X)))
    with pytest.raises(NotFittedError, match=f"This {cls.__name__} instance is not fitted yet"):
        cls(spec=SPEC).predict(X)
    fitted = cls(spec=SPEC, random_state=0).fit(X, y)
    with pytest.raises(DataError, match="2-D array in that order"):
        fitted.predict_proba(X.to_numpy()[:, :2])
    # An array in the spec's feature order is read as those columns: the same model, the same predictions.
    on_array = cls(spec=SPEC, random_state=0).fit(X.to_numpy(), y.to_numpy())
    np.testing.assert_array_equal(on_array.predict_proba(X.to_numpy()), fitted.predict_proba(X))
    with pytest.raises(DataError, match=r"lacks the spec's feature column\(s\) \['A'\]"):
        fitted.predict(X.drop(columns="A"))


def test_spec_without_protected_attribute(small: pd.DataFrame) -> None:
    spec = _spec_without_fairness()
    X, y = small[SPEC.features], small[SPEC.target]
    for cls in (UnawareClassifier, ReductionsClassifier, CounterfactualAugmentationClassifier):
        with pytest.raises(SpecError, match="'fairness' section naming the protected attribute"):
            cls(spec=spec).fit(X, y)
    d = SPEC.to_dict()
    d["features"] = ["E", "X", "Z", "F"]
    with pytest.raises(SpecError, match="not among the spec's features"):
        ERMClassifier(spec=d).fit(small[d["features"]], y)


class _FitPredictOnly:
    """A classifier with neither probabilities, scores nor sample weights."""

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {}

    def set_params(self, **params: Any) -> _FitPredictOnly:
        return self

    def fit(self, X: Any, y: Any) -> _FitPredictOnly:
        return self

    def predict(self, X: Any) -> Any:
        return np.zeros(len(X), dtype=int)


def test_estimator_capabilities_are_checked(small: pd.DataFrame) -> None:
    X, y = small[SPEC.features], small[SPEC.target]
    with pytest.raises(DataError, match="LinearSVC has no predict_proba"):
        ERMClassifier(spec=SPEC, estimator=LinearSVC()).fit(X, y)
    with pytest.raises(DataError, match="CalibratedClassifierCV"):
        CounterfactualFairClassifier(spec=SPEC, scm=SCM, estimator=LinearSVC()).fit(X, y)
    with pytest.raises(DataError, match="neither predict_proba nor decision_function"):
        ThresholdOptimizerClassifier(spec=SPEC, estimator=_FitPredictOnly()).fit(X, y)
    with pytest.raises(DataError, match="takes no sample_weight"):
        ReductionsClassifier(spec=SPEC, estimator=_FitPredictOnly()).fit(X, y)
    with pytest.raises(
        InvalidParameterError, match=r"'estimator' parameter .* implementing 'fit' and 'predict'"
    ):
        ERMClassifier(spec=SPEC, estimator=object()).fit(X, y)
    # decision_function suffices for post-processing
    ThresholdOptimizerClassifier(spec=SPEC, estimator=LinearSVC()).fit(X, y)


def test_bad_parameters(small: pd.DataFrame) -> None:
    X, y = small[SPEC.features], small[SPEC.target]
    with pytest.raises(InvalidParameterError, match=r"'constraint' parameter .*'equalized_odds'"):
        ReductionsClassifier(spec=SPEC, constraint="parity").fit(X, y)
    with pytest.raises(InvalidParameterError, match=r"'constraint' parameter"):
        ThresholdOptimizerClassifier(spec=SPEC, constraint="equal_opportunity").fit(X, y)
    with pytest.raises(InvalidParameterError, match=r"'eps' parameter .* range \(0.0, inf\)"):
        ReductionsClassifier(spec=SPEC, eps=0).fit(X, y)
    with pytest.raises(InvalidParameterError, match=r"'n_augment' parameter"):
        CounterfactualAugmentationClassifier(spec=SPEC, scm=SCM, n_augment=0).fit(X, y)
    with pytest.raises(
        InvalidParameterError, match=r"'scm' parameter .* instance of 'causaltrust.scm._model.SCM' or None"
    ):
        CounterfactualFairClassifier(spec=SPEC, scm="truth").fit(X, y)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="single class"):
        ERMClassifier(spec=SPEC).fit(X, np.zeros(len(X)))
    # The estimator's own parameters are untouched; fitted clones carry the seed.
    base = LogisticRegression()
    clf = ERMClassifier(spec=SPEC, estimator=base, random_state=3).fit(X, y)
    assert base.random_state is None
    assert clf.estimator_.random_state == 3
