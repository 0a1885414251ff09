"""What SCM.fit does to stay fast: CV selection on a bounded subsample, offsets cross-fitted in one call."""

from __future__ import annotations

import numpy as np
import pytest

import causaltrust as ct
from causaltrust.scm._fit import _SELECT_ROWS, _cross_fit, _folds, _select_rows


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


def test_fit_above_the_cap_scores_on_the_subsample_and_fits_on_all_rows() -> None:
    spec = {
        "name": "two",
        "target": "Y",
        "variables": {
            "X": {"type": "continuous", "equation": "normal(0, 1)"},
            "Y": {"type": "continuous", "equation": "2*X + normal(0, 1)"},
        },
    }
    n = _SELECT_ROWS + 2_000
    data = ct.SCM.from_spec(spec).sample(n, random_state=0)
    scm = ct.SCM.fit(spec, data, mechanisms="linear", random_state=0)
    node = scm.provenance["nodes"]["Y"]
    assert node["cv_rows"] == _SELECT_ROWS
    # The final model uses every row: its slope is the full-data OLS slope.
    x, y = data["X"].to_numpy(), data["Y"].to_numpy()
    slope = np.cov(x, y, bias=True)[0, 1] / x.var()
    est = ct.path_effect(scm, source="X", paths=[("X", "Y")], n=10, random_state=0)
    assert est == pytest.approx(slope, abs=1e-9)
