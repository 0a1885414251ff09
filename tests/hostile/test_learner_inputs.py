"""Issue 32's bad-data cases of the learners.

Every case ends in one DataError (the spec-aware learners through the shared fit preamble,
DPLogisticRegression through its own validation on top of scikit-learn's).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import causaltrust as ct
from causaltrust.exceptions import DataError

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def world() -> tuple[ct.TrustSpec, ct.SCM, pd.DataFrame, pd.Series]:
    spec, scm = ct.scenarios.load("readmission")
    df = scm.sample(400, random_state=0)
    return spec, scm, df[spec.features], df[spec.target]


def _dp() -> object:
    from causaltrust.learners import DPLogisticRegression

    return DPLogisticRegression(random_state=0, epochs=1)


def _multi(X: pd.DataFrame) -> pd.DataFrame:
    out = X.copy()
    out.columns = pd.MultiIndex.from_tuples([(c, "") for c in X.columns])
    return out


CASES = {
    "duplicated column": lambda X, y: (pd.concat([X, X[["X"]]], axis=1), y),
    "NaN feature": lambda X, y: (X.assign(X=np.nan), y),
    "NaN target": lambda X, y: (X, y.astype(float).where(y > 0)),
    "empty": lambda X, y: (X.iloc[:0], y.iloc[:0]),
    "one class": lambda X, y: (X, y * 0),
    "1e308": lambda X, y: (X.assign(X=1e308), y),
    "MultiIndex columns": lambda X, y: (_multi(X), y),
    # Positional names 0..n-1 are scikit-learn's unnamed array (its estimator checks pass such frames);
    # any other integer names are refused.
    "integer column names": lambda X, y: (X.set_axis(range(1, X.shape[1] + 1), axis=1), y),
}
# What each case's one DataError must say (the thing that is wrong).
MESSAGES = {
    "duplicated column": r"duplicate column names \['X'\]",
    "NaN feature": r"Input X contains NaN",
    "NaN target": r"Input y contains NaN",
    "empty": r"Found array with 0 sample\(s\)",
    "one class": r"at least 2 classes",
    "1e308": r"magnitude 1e100 or more; rescale",
    "MultiIndex columns": r"column names must be strings",
    "integer column names": r"column names must be strings; got \[1, 2",
}


@pytest.mark.parametrize("case", list(CASES))
def test_dp_logistic_regression_refuses_bad_data_with_a_data_error(world, case: str) -> None:
    _, _, X, y = world
    Xb, yb = CASES[case](X, y)
    model = _dp()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DataError, match=MESSAGES[case]):
            model.fit(Xb, yb)  # type: ignore[attr-defined]


def test_dp_logistic_regression_refuses_renamed_columns_at_predict(world) -> None:
    _, _, X, y = world
    model = _dp().fit(X, y)  # type: ignore[attr-defined]
    with pytest.raises(DataError, match=r"(?s)Feature names unseen at fit time:\n- Q.*missing:\n- X"):
        model.predict_proba(X.rename(columns={"X": "Q"}))


def test_selective_learner_reads_float_binary_columns_like_integers(world) -> None:
    from causaltrust.learners import SelectiveInvarianceClassifier

    spec, scm, X, y = world
    as_int = SelectiveInvarianceClassifier(spec=spec, scm=scm, random_state=0).fit(X, y).predict_proba(X)
    Xf = X.astype(float)  # binary and categorical codes as 0.0 / 1.0
    as_float = SelectiveInvarianceClassifier(spec=spec, scm=scm, random_state=0).fit(Xf, y).predict_proba(Xf)
    np.testing.assert_allclose(as_float, as_int, atol=1e-9)  # was up to 0.08 apart
