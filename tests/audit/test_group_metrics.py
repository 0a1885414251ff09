"""Observational group metrics equal fairlearn's on every input, empty cells included."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from causaltrust.audit._fairness import demographic_parity_difference, equalized_odds_difference

fairlearn_metrics = pytest.importorskip("fairlearn.metrics")


def _fairlearn(fn, *args, groups):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fairlearn warns on zero divisions; its value is what we compare
        return fn(*args, sensitive_features=groups)


def test_group_without_positives_follows_fairlearn():
    # Group 0 has no positives: fairlearn's TPR is 0 there, so the TPR gap is 1 (issue 9's example).
    y, y_pred, g = np.array([0.0, 0, 1, 0]), np.array([1.0, 0, 1, 0]), np.array([0, 0, 1, 1])
    assert _fairlearn(fairlearn_metrics.equalized_odds_difference, y, y_pred, groups=g) == 1.0
    assert equalized_odds_difference(y, y_pred, g, 2) == 1.0


# Small samples (an audit needs 2 units; fairlearn rejects 1) over up to 4 group codes, so groups without
# positives, without negatives, or absent from the data (k exceeds the codes seen) come up often.
cases = st.integers(2, 12).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 1), min_size=n, max_size=n),
        st.lists(st.integers(0, 1), min_size=n, max_size=n),
        st.lists(st.integers(0, 3), min_size=n, max_size=n),
    )
)


@settings(max_examples=40, deadline=None)
@given(cases)
def test_equal_to_fairlearn_on_random_inputs(case):
    y, y_pred, g = (np.asarray(c) for c in case)
    y, y_pred = y.astype(np.float64), y_pred.astype(np.float64)
    eo = _fairlearn(fairlearn_metrics.equalized_odds_difference, y, y_pred, groups=g)
    dp = _fairlearn(fairlearn_metrics.demographic_parity_difference, y, y_pred, groups=g)
    assert equalized_odds_difference(y, y_pred, g, 4) == pytest.approx(eo, abs=1e-12)
    assert demographic_parity_difference(y_pred, g, 4) == pytest.approx(dp, abs=1e-12)
