"""What SCM.fit does to stay fast: CV selection on a bounded subsample, offsets cross-fitted in one call."""

from __future__ import annotations

import numpy as np
import pytest

import causaltrust as ct
from causaltrust.scm._fit import _HOLDOUT_ROWS, _SELECT_ROWS, _cross_fit, _cv_regression, _folds, _select_rows


def test_select_rows_keeps_everything_up_to_the_cap() -> None:
    assert _select_rows(_SELECT_ROWS, seed=0) is None


def test_select_rows_subsample_is_sorted_distinct_seeded_and_capped() -> None:
    rows = _select_rows(3 * _SELECT_ROWS, seed=4)
    assert rows is not None
    assert len(rows) == _SELECT_ROWS
    assert np.all(np.diff(rows) > 0)  # sorted, no repeats
    assert rows.min() >= 0
    assert rows.max() < 3 * _SELECT_ROWS
    again = _select_rows(3 * _SELECT_ROWS, seed=4)
    assert again is not None
    assert np.array_equal(rows, again)
    other = _select_rows(3 * _SELECT_ROWS, seed=5)
    assert other is not None
    assert not np.array_equal(rows, other)


def test_select_rows_stratifies_and_keeps_rare_classes() -> None:
    n = 4 * _SELECT_ROWS
    y = np.zeros(n, dtype=np.intp)
    y[: n // 4] = 1  # a quarter of the rows
    y[n // 4 : n // 4 + 12] = 2  # a rare class: 12 rows
    rows = _select_rows(n, seed=0, y=y, floor=9)
    assert rows is not None
    counts = np.bincount(y[rows], minlength=3)
    # Stratified: each class gets floor(count * cap / n) rows, the rare one at least min(12, floor) = 9.
    assert counts[1] == (n // 4) * _SELECT_ROWS // n
    assert counts[0] == (n - n // 4 - 12) * _SELECT_ROWS // n
    assert counts[2] == 9


def test_cross_fit_of_many_columns_equals_per_fold_least_squares() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    Y = X @ rng.normal(size=(3, 4)) + rng.normal(size=(300, 4))
    folds = _folds(300, None, 3, seed=1)
    got = _cross_fit("linear", X, Y, folds, seed=1)
    expected = np.empty_like(Y)
    for tr, te in folds:  # independent: OLS with an intercept per fold, by NumPy least squares
        A = np.column_stack([np.ones(len(tr)), X[tr]])
        beta = np.linalg.lstsq(A, Y[tr], rcond=None)[0]
        expected[te] = np.column_stack([np.ones(len(te)), X[te]]) @ beta
    np.testing.assert_allclose(got, expected, atol=1e-10)


_TWO = {
    "name": "two",
    "target": "Y",
    "variables": {
        "X": {"type": "continuous", "equation": "normal(0, 1)"},
        "Y": {"type": "continuous", "equation": "2*X + normal(0, 1)"},
        "B": {"type": "binary", "equation": "bernoulli(sigmoid(X))"},
    },
}


def test_fit_above_the_cap_scores_on_the_subsample_and_fits_on_all_rows() -> None:
    spec = _TWO
    n = _SELECT_ROWS + 2_000
    data = ct.SCM.from_spec(spec).sample(n, random_state=0)
    scm = ct.SCM.fit(spec, data, mechanisms="auto", random_state=0)
    node = scm.provenance["nodes"]["Y"]
    assert node["model"] == "linear"  # OLS is at the noise floor of a linear-Gaussian Y
    assert node["cv_rows"] == _SELECT_ROWS
    # The final model uses every row: its slope is the full-data OLS slope.
    x, y = data["X"].to_numpy(), data["Y"].to_numpy()
    slope = np.cov(x, y, bias=True)[0, 1] / x.var()
    est = ct.path_effect(scm, source="X", paths=[("X", "Y")], n=10, random_state=0)
    assert est == pytest.approx(slope, abs=1e-9)


@pytest.mark.parametrize(("n", "holdout"), [(3 * _HOLDOUT_ROWS - 3, False), (3 * _HOLDOUT_ROWS, True)])
def test_auto_scores_on_one_holdout_fold_once_it_holds_enough_rows(n: int, holdout: bool) -> None:
    data = ct.SCM.from_spec(_TWO).sample(n, random_state=0)
    scm = ct.SCM.fit(_TWO, data, mechanisms="auto", random_state=0)
    node = scm.provenance["nodes"]["Y"]
    if holdout:
        assert node["selection"] == f"holdout: fitted on {n - n // 3:,}, scored on {n // 3:,} rows"
    else:
        assert node["selection"] == f"3-fold CV on {n:,} rows"
    # Closed form: Y's noise variance is 1; the OLS MSE on m held-out rows has SE about sqrt(2 / m)
    # (<= 0.032 at m = 1,999): 0.15 is more than 4.5 SE.
    assert node["model"] == "linear"
    assert node["cv_score"] == pytest.approx(1.0, abs=0.15)
    assert set(scm.provenance["cv_scores"]["Y"]) == {"linear", "gbm"}
    assert scm.provenance["nodes"]["B"]["cv_metric"] == "log_loss"


def test_held_out_score_of_one_fold_is_the_mse_on_that_fold_alone() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(600, 2))
    y = X @ np.array([1.0, -2.0]) + rng.normal(size=600)
    folds = _folds(600, None, 3, seed=2)
    tr, te = folds[0]
    # Independent: OLS by NumPy least squares on the training rows, squared error on the held-out rows only.
    A = np.column_stack([np.ones(len(tr)), X[tr]])
    beta = np.linalg.lstsq(A, y[tr], rcond=None)[0]
    expected = float(np.mean((y[te] - np.column_stack([np.ones(len(te)), X[te]]) @ beta) ** 2))
    assert _cv_regression("linear", X, y, folds[:1], seed=2) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("mode", ["linear", "gbm"])
def test_a_given_model_class_is_fitted_without_cv_scores(mode: str) -> None:
    data = ct.SCM.from_spec(_TWO).sample(1_000, random_state=0)
    scm = ct.SCM.fit(_TWO, data, mechanisms=mode, random_state=0)
    for v in ("Y", "B"):
        node = scm.provenance["nodes"][v]
        assert (node["cv_metric"], node["cv_score"], node["cv_rows"]) == (None, None, None)
        assert node["selection"].startswith("none: the model class was given")
    assert scm.provenance["cv_scores"] == {}
    assert not any("MSE" in note or "log-loss" in note for note in scm.provenance_notes())
