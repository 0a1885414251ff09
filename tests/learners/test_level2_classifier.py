"""``CounterfactualFairClassifier(level=2)``: Kusner's Fair K for a binary target.

Ground truth: the conjugate-normal posterior mean of K under the fitted parameters (a closed form computed
here, independent of the library's quadrature), and the invariance Kusner's level 2 guarantees: the
posterior of K given a unit's factual data is the same in every counterfactual world of that unit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.utils._param_validation import InvalidParameterError

import causaltrust as ct
from causaltrust.exceptions import SpecError
from causaltrust.learners import CounterfactualFairClassifier, ERMClassifier

pytest.importorskip("pyro")

SPEC = {
    "name": "factor-classifier",
    "target": "Y",
    "features": ["A", "X1", "X2", "X3"],
    "variables": {
        "A": {"type": "binary", "equation": "bernoulli(0.5)"},
        "K": {"type": "continuous", "observed": False, "equation": "normal(0, 1)",
              "indicators": ["X1", "X2", "X3"]},
        "X1": {"type": "continuous", "equation": "1 + K + 0.5*A + normal(0, 0.6)"},
        "X2": {"type": "continuous", "equation": "-0.5 + 0.8*K - 0.4*A + normal(0, 0.5)"},
        "X3": {"type": "continuous", "equation": "0.3 + 1.2*K + normal(0, 0.8)"},
        "Y": {"type": "binary", "equation": "bernoulli(sigmoid(1.5*K + 0.5*A))"},
    },
    "fairness": {"protected": "A", "unfair_paths": [["A", "X1"], ["A", "X2"], ["A", "Y"]]},
}  # fmt: skip


@pytest.fixture(scope="module")
def fitted() -> tuple[ct.TrustSpec, ct.SCM, pd.DataFrame, pd.DataFrame]:
    spec = ct.load_spec(SPEC)
    df = ct.SCM.from_spec(spec).sample(5_000, random_state=3)
    train, test = df.iloc[:4_000].drop(columns="K"), df.iloc[4_000:].drop(columns="K").reset_index(drop=True)
    scm = ct.SCM.fit(spec.structure(), train, mechanisms="linear", random_state=0)
    return spec, scm, train, test


def _closed_form(scm: ct.SCM, df: pd.DataFrame) -> np.ndarray:
    """Posterior mean of K given A, X1, X2, X3 under the fitted parameters (K a root: prior N(0, σ_K²))."""
    model = scm.mechanisms["K"].model  # type: ignore[attr-defined]
    prec = np.full(len(df), 1.0 / model.scale**2)
    num = np.zeros(len(df))
    for ind in model.indicators:
        other = df["A"].to_numpy(float) * ind.coef[0] if ind.coef.size else 0.0
        resid = df[ind.name].to_numpy(float) - ind.intercept - other
        prec = prec + ind.loading**2 / ind.sd**2
        num = num + ind.loading * resid / ind.sd**2
    return num / prec


def test_level2_classifier_sees_the_posterior_mean_and_non_descendants(fitted) -> None:
    spec, scm, train, test = fitted
    clf = CounterfactualFairClassifier(spec=spec, scm=scm, level=2, random_state=0)
    clf.fit(train[spec.features], train["Y"])
    # X3 depends on K only: it is not a descendant of A and stays an input beside K's posterior mean.
    assert clf.representation_ == ["K", "X3"]
    Z = clf.represent(test[spec.features])
    # The quadrature is exact to ~1e-8 for a Gaussian posterior (121 points over ±10 sd).
    np.testing.assert_allclose(Z[:, 0], _closed_form(scm, test), atol=1e-6)
    np.testing.assert_array_equal(Z[:, 1], test["X3"].to_numpy())
    # It learned something: Y = bernoulli(sigmoid(1.5 K + 0.5 A)) is predictable from K's posterior (the
    # majority rate is ~0.5; 1,000 test rows put the accuracy's SE near 0.016).
    acc = float((clf.predict(test[spec.features]) == test["Y"].to_numpy()).mean())
    assert acc > 0.65


def test_level2_classifier_is_counterfactually_fair_under_its_scm(fitted) -> None:
    spec, scm, train, test = fitted
    feats = spec.features
    clf = CounterfactualFairClassifier(spec=spec, scm=scm, level=2, random_state=0)
    clf.fit(train[feats], train["Y"])
    erm = ERMClassifier(spec=spec).fit(train[feats], train["Y"])
    worlds = [scm.counterfactual(test, do={"A": a}, random_state=1)[feats] for a in (0, 1)]
    delta = clf.predict_proba(worlds[1])[:, 1] - clf.predict_proba(worlds[0])[:, 1]
    # Every unit, not the average: K's posterior given (X1 - 0.5 A, X2 + 0.4 A, X3) is the same in both
    # worlds, so only floating-point and Newton's stopping rule (1e-10 sd) remain.
    assert np.max(np.abs(delta)) < 1e-7
    # The same test fails for a model that reads A and its descendants directly.
    erm_delta = erm.predict_proba(worlds[1])[:, 1] - erm.predict_proba(worlds[0])[:, 1]
    assert np.mean(np.abs(erm_delta)) > 0.02


def test_level2_classifier_needs_a_latent_factor(fitted) -> None:
    spec, _, train, _ = fitted
    plain, scm = ct.scenarios.load("readmission")
    rows = scm.sample(300, random_state=0)
    with pytest.raises(SpecError, match=r"CounterfactualFairClassifier\(level=2\).*indicators"):
        CounterfactualFairClassifier(spec=plain, scm=scm, level=2).fit(
            rows[plain.features], rows[plain.target]
        )
    with pytest.raises(InvalidParameterError, match=r"'level' parameter .* among \{2, 3\}. Got 1 instead"):
        CounterfactualFairClassifier(spec=spec, level=1).fit(train[spec.features], train["Y"])
