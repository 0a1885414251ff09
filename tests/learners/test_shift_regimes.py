"""Two robustness regimes (issue 10): supports_adapt_, robustness modes, unlabeled-target baselines, NaN
for models that cannot adapt, and assert_invariant(objective="robustness_adapted")."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

import causaltrust as ct
from causaltrust.learners import (
    ERMClassifier,
    ImportanceWeightedClassifier,
    RecenteringClassifier,
    SelectiveInvarianceClassifier,
)
from causaltrust.testing import assert_invariant


@pytest.fixture(scope="module")
def world():
    spec, true = ct.scenarios.load("readmission")
    train = true.sample(6_000, random_state=0)
    fitted = ct.SCM.fit(spec.structure(), train.drop(columns="L"), mechanisms="linear", random_state=0)
    return spec, true, train, fitted


def _fit(model, spec, train):
    return model.fit(train[spec.features], train[spec.target])


def test_supports_adapt_follows_the_robustness_mode(world):
    spec, _, train, fitted = world
    kw = {"spec": spec, "scm": fitted, "random_state": 0}
    assert _fit(SelectiveInvarianceClassifier(**kw), spec, train).supports_adapt_
    drop = _fit(SelectiveInvarianceClassifier(robustness="drop", **kw), spec, train)
    off = _fit(SelectiveInvarianceClassifier(robustness=False, **kw), spec, train)
    assert not drop.supports_adapt_
    assert not off.supports_adapt_  # it has an adapt method, but nothing to re-estimate
    with pytest.raises(ct.DataError, match="supports_adapt_ is False"):
        off.adapt(train[spec.features])
    with pytest.raises(InvalidParameterError, match=r"'robustness' parameter .*'drop'"):
        _fit(SelectiveInvarianceClassifier(robustness="undo", **kw), spec, train)


def test_drop_never_reads_the_spurious_input(world):
    spec, _, train, fitted = world
    drop = _fit(
        SelectiveInvarianceClassifier(spec=spec, scm=fitted, robustness="drop", random_state=0), spec, train
    )
    X = train[spec.features].head(500)
    # Any change of X (the measurement the spec declares spurious) leaves every prediction unchanged.
    moved = X.assign(X=X["X"] + np.random.default_rng(0).normal(0, 3, len(X)))
    np.testing.assert_array_equal(drop.predict_proba(X), drop.predict_proba(moved))
    assert "X" not in drop.inputs_


def test_regimes_in_the_audit(world):
    spec, true, train, fitted = world
    test = true.sample(2_000, random_state=3)
    kw = {
        "spec": spec,
        "scm": true,
        "data": test,
        "objectives": ["accuracy", "robustness"],
        "n_bootstrap": 10,
    }
    erm = ct.audit(_fit(ERMClassifier(spec=spec), spec, train), **kw)
    for s in spec.shifts:
        assert np.isnan(erm.metric(f"accuracy.shift_adapted[{s}]").value)
        assert np.isfinite(erm.metric(f"accuracy.shift[{s}]").value)
    assert np.isnan(erm.metric("robustness.spurious_path_effect_adapted").value)
    assert np.isnan(erm.metric("accuracy.interventional_adapted").value)
    sel = _fit(
        SelectiveInvarianceClassifier(spec=spec, scm=fitted, fairness=False, random_state=0), spec, train
    )
    rep = ct.audit(sel, **kw)
    # Without target data the mapping uses the training offsets: under the new device it is as exposed as
    # ERM; adapted on unlabeled rows it is invariant (the offsets are re-estimated).
    assert rep.metric("robustness.spurious_path_effect").value > 0.1
    assert rep.metric("robustness.spurious_path_effect_adapted").value < 0.02
    assert rep.metric("accuracy.interventional").value == pytest.approx(
        np.mean([rep.metric(f"accuracy.shift[{s}]").value for s in spec.shifts]), abs=1e-12
    )
    assert_invariant(sel, spec, true, objective="robustness_adapted", data=test.head(1_000), tol=0.03)
    with pytest.raises(AssertionError, match="not applicable"):
        assert_invariant(ERMClassifier(spec=spec).fit(train[spec.features], train["Y"]), spec, true,
                         objective="robustness_adapted", data=test.head(500))  # fmt: skip


def test_recentering_uses_the_new_rows_statistics(world):
    spec, true, train, _ = world
    clf = _fit(RecenteringClassifier(spec=spec), spec, train)
    new = true.shift("new_device").sample(3_000, random_state=4)[spec.features]
    adapted = clf.adapt(new)
    cols = {"A": new["A"].to_numpy(float), "E": new["E"].to_numpy(), "F": new["F"].to_numpy(),
            "X": new["X"].to_numpy(), "Z": new["Z"].to_numpy(float)}  # fmt: skip
    Z = adapted._matrix(cols)
    x_col = adapted.design_.names.index("X")
    # Within each hospital of the new rows, X standardised there (recomputed independently here).
    for e in range(3):
        m = cols["E"] == e
        x = (cols["X"][m] - cols["X"][m].mean()) / cols["X"][m].std()
        np.testing.assert_allclose(Z[m, x_col], x, atol=1e-10)


def test_importance_weights_are_flat_without_a_shift(world):
    spec, true, train, _ = world
    clf = _fit(ImportanceWeightedClassifier(spec=spec), spec, train)
    same = clf.adapt(true.sample(6_000, random_state=7)[spec.features]).weights_
    moved = clf.adapt(true.shift("new_site").sample(6_000, random_state=7)[spec.features]).weights_
    # (Both are normalised to mean 1 by construction; their spread is what the domain classifier found.)
    # Same population: the domain classifier finds nothing (coefficients ~ 1/sqrt(n)): weights near 1.
    # New site (75% older patients vs 40%): older training rows get weights ~ 0.75/0.4 / (0.25/0.6) apart.
    assert same.std() < 0.2 < moved.std()
    older = train["A"].to_numpy() == 1
    assert moved[older].mean() > 2 * moved[~older].mean()


def test_adapt_when_the_reference_level_moves_too(world):
    """A new device that also offsets the reference hospital: units there were measured by the new
    artifact, so the adapted mapping must not keep their observed value (regression test)."""
    spec, true, train, fitted = world
    clf = _fit(
        SelectiveInvarianceClassifier(spec=spec, scm=fitted, fairness=False, random_state=0), spec, train
    )
    shift = {"X": "L + 0.5 + 0.8*(E == 1) - 0.5*(E == 2)"}
    new = true.intervene(equations=shift).sample(4_000, random_state=8)
    adapted = clf.adapt(new[spec.features])
    units = true.sample(2_000, random_state=9)
    moved = true.counterfactual(units, equations=shift, random_state=0)
    delta = np.abs(
        adapted.predict_proba(moved[spec.features])[:, 1] - clf.predict_proba(units[spec.features])[:, 1]
    )
    # Each re-estimated offset has SE <= 1 / sqrt(0.25 * 4000) = 0.032; the probability moves by at most
    # 0.25 * 1.2 (Y's slope on L) per unit of offset error: 4 SE -> 0.038. Keeping the observed value at the
    # reference level would move those units by 0.5 * 1.2 * ~0.2 = 0.12 on average, 40% of units: 0.05.
    assert delta.mean() < 0.25 * 1.2 * 4 * 0.032
