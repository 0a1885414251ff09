"""SCMs of any mechanism class: boosted everywhere, rare categories, zero probabilities, draws per unit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

import causaltrust as ct
from causaltrust.exceptions import DataError
from causaltrust.learners import ERMClassifier
from causaltrust.scm._fit import PROBABILITY_FLOOR

SPEC = {
    "target": "Y",
    "variables": {
        "A": {"type": "categorical", "categories": [0, 1]},
        "X": {"type": "continuous", "parents": ["A"]},
        "C": {"type": "categorical", "categories": [0, 1, 2, 3], "parents": ["X"]},
        "Y": {"type": "binary", "parents": ["X", "C"]},
    },
    "fairness": {"protected": "A", "baseline": 0, "unfair_paths": [["A", "X"]]},
}


def _data(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """C mostly 0/1 (by X); category 2 on one row, category 3 on three rows: rare categories."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, size=n)
    x = a + rng.normal(size=n)
    c = (x + rng.normal(size=n) > 0).astype(int)
    c[0] = 2
    c[1:4] = 3
    y = (rng.random(n) < 1 / (1 + np.exp(-(x + c - 0.5)))).astype(int)
    return pd.DataFrame({"A": a, "X": x, "C": c, "Y": y})


class _HardThreshold(ClassifierMixin, BaseEstimator):
    """Probability exactly 1 for class (X > 0), 0 for the others: contradicts every noisy row."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        X = np.asarray(X, dtype=float)
        out = np.zeros((len(X), len(self.classes_)))
        out[np.arange(len(X)), (X[:, 0] > 0).astype(int)] = 1.0
        return out


def test_mechanisms_gbm_globally_fits_boosted_models_on_rare_categories() -> None:
    spec, df = ct.load_spec(SPEC), _data()
    scm = ct.SCM.fit(spec, df, mechanisms="gbm", random_state=0)
    assert scm.provenance["mode"] == "gbm"
    assert scm.provenance["mechanisms"]["C"] == "calibrated-gbm"
    assert scm.provenance["mechanisms"]["Y"] == "calibrated-gbm"
    assert scm.provenance["probability_floor"] == PROBABILITY_FLOOR
    probs = scm.mechanisms["C"]._probs({"X": df["X"].to_numpy()}, len(df))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)
    # Categories 2 (1 row) and 3 (3 rows) are pooled for the fit and share the pool by frequency: 1 : 3.
    np.testing.assert_allclose(probs[:, 3] / probs[:, 2], 3.0, rtol=1e-9)
    assert probs[:, 2].min() > 0


def test_user_boosted_classifier_with_early_stopping_on_rare_categories() -> None:
    # Early stopping holds out 10% stratified: a category of one row crashed SCM.fit's cross-validation.
    spec, df = ct.load_spec(SPEC), _data()
    boosted = HistGradientBoostingClassifier(early_stopping=True, max_iter=30, random_state=0)
    scm = ct.SCM.fit(spec, df, mechanisms={"C": boosted}, random_state=0)
    # A given estimator has nothing to choose, so it is fitted once and never CV-scored (issue 30, day 3).
    assert scm.provenance["nodes"]["C"]["model"].startswith("HistGradientBoostingClassifier")
    assert scm.provenance["nodes"]["C"]["cv_score"] is None
    probs = scm.mechanisms["C"]._probs({"X": df["X"].to_numpy()}, len(df))
    assert (probs[:, [0, 1, 2, 3]] > 0).all()


def test_observed_category_with_probability_zero_is_floored_and_the_audit_runs() -> None:
    spec, df = ct.load_spec(SPEC), _data()
    scm = ct.SCM.fit(spec, df, mechanisms={"C": _HardThreshold()}, random_state=0)
    probs = scm.mechanisms["C"]._probs({"X": df["X"].to_numpy()}, len(df))
    observed = probs[np.arange(len(df)), df["C"].to_numpy()]
    contradicted = (df["C"].to_numpy() != (df["X"].to_numpy() > 0)) & (df["C"].to_numpy() < 2)
    assert contradicted.sum() > 50  # the hard model gives these rows' category probability 0 before the floor
    assert observed.min() >= PROBABILITY_FLOOR / 2  # renormalised after flooring: still about the floor
    model = LogisticRegression().fit(df[spec.features], df[spec.target])
    # The rows the SCM was fitted on: abduction used to raise IdentificationError ("probability 0").
    report = ct.audit(model, spec=spec, scm=scm, data=df, objectives=["fairness"], n_bootstrap=5)
    assert np.isfinite(report.metric("fairness.unfair_path_effect").value)


def test_unit_draws_sets_the_per_unit_draws_and_is_validated() -> None:
    spec, scm = ct.scenarios.load("readmission")
    df = scm.sample(300, random_state=0)
    model = ERMClassifier(spec).fit(df[spec.features], df[spec.target])
    kw = {"spec": spec, "scm": scm, "data": df, "objectives": ["fairness"], "n_bootstrap": 5}
    report = ct.audit(model, unit_draws=8, **kw)
    assert report.meta["unit_draws"] == 8
    assert ct.audit(model, **kw).meta["unit_draws"] == 64  # the default: max(64, n_draws)
    assert ct.audit.AuditOptions(unit_draws=5).draws_per_unit == 5
    for bad in (0, -3, 2.5, True):
        with pytest.raises(DataError, match="unit_draws: expected an integer >= 1"):
            ct.audit(model, unit_draws=bad, **kw)
    with pytest.raises(DataError, match="n_bootstrap: expected an integer >= 1"):
        ct.audit(model, **{**kw, "n_bootstrap": 0})
