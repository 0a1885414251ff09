"""``reuse_fits``: identical SCM fits computed once inside a scope, never outside it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import causaltrust as ct


@pytest.fixture(scope="module")
def rows():
    spec, true = ct.scenarios.load("readmission")
    return spec, true.sample(1_500, random_state=0)[spec.observed]


def _fit(spec, data, **kw):
    kw.setdefault("mechanisms", "linear")
    kw.setdefault("random_state", 0)
    return ct.SCM.fit(spec, data, **kw)


def test_same_inputs_give_the_same_fit_inside_the_scope_only(rows):
    spec, data = rows
    with ct.scm.reuse_fits():
        a = _fit(spec, data)
        assert _fit(spec, data.copy()) is a
        assert _fit(spec, data[list(reversed(data.columns))]) is a  # column order is not an input
        assert _fit(spec, data.set_index(data.index + 7)) is a  # nor the index
        assert _fit(spec, data.assign(extra=1.0)) is a  # columns outside the spec are ignored by the fit
    assert _fit(spec, data) is not a
    assert _fit(spec, data) is not _fit(spec, data)


@pytest.mark.parametrize(
    "change",
    ["seed", "rows", "one value", "mechanisms", "cv", "row order"],
)
def test_any_input_change_is_a_new_fit(rows, change):
    spec, data = rows
    with ct.scm.reuse_fits():
        a = _fit(spec, data)
        if change == "seed":
            b = _fit(spec, data, random_state=1)
        elif change == "rows":
            b = _fit(spec, data.iloc[:-1])
        elif change == "one value":
            other = data.copy()
            other.iloc[3, other.columns.get_loc("F")] += 1e-9
            b = _fit(spec, other)
        elif change == "mechanisms":
            b = _fit(spec, data, mechanisms="auto")
        elif change == "cv":
            b = _fit(spec, data, cv=4)
        else:
            b = _fit(spec, data.iloc[::-1])
        assert b is not a


def test_unseeded_fits_and_estimator_mappings_are_not_reused(rows):
    spec, data = rows
    with ct.scm.reuse_fits():
        assert _fit(spec, data, random_state=None) is not _fit(spec, data, random_state=None)
        mech = {"Y": LogisticRegression(max_iter=500)}
        assert _fit(spec, data, mechanisms=mech) is not _fit(spec, data, mechanisms=mech)


def test_a_reused_fit_equals_a_fresh_one(rows):
    # Independent check: the fit returned from the scope samples exactly what a fit made outside it samples.
    spec, data = rows
    fresh = _fit(spec, data, mechanisms="auto")
    with ct.scm.reuse_fits():
        _fit(spec, data, mechanisms="auto")
        reused = _fit(spec, data, mechanisms="auto")
    pd.testing.assert_frame_equal(reused.sample(500, random_state=3), fresh.sample(500, random_state=3))
    cf_a = reused.counterfactual(data.iloc[:200], do={"A": 1}, random_state=4)
    cf_b = fresh.counterfactual(data.iloc[:200], do={"A": 1}, random_state=4)
    np.testing.assert_array_equal(cf_a.to_numpy(), cf_b.to_numpy())


def test_scopes_nest_and_drop_their_fits(rows):
    spec, data = rows
    with ct.scm.reuse_fits():
        outer = _fit(spec, data)
        with ct.scm.reuse_fits():
            inner = _fit(spec, data)
            assert inner is not outer  # a new scope starts empty
            assert _fit(spec, data) is inner
        assert _fit(spec, data) is outer  # the outer scope's fits are back
