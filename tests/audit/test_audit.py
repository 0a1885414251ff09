"""Audit: accuracy, fairness and robustness as interventional tests, against closed forms and fairlearn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

import causaltrust as ct
from causaltrust.audit import TrustReport, build_context
from causaltrust.audit._accuracy import accuracy_metrics
from causaltrust.audit._fairness import fairness_metrics
from causaltrust.audit._robustness import robustness_metrics, spurious_shifts

N_TEST = 20_000


@pytest.fixture(scope="module")
def readmission():
    spec, scm = ct.scenarios.load("readmission")
    train = scm.sample(20_000, random_state=1)
    test = scm.sample(N_TEST, random_state=2)
    return spec, scm, train, test


def _erm(spec, train):
    pre = make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["E"]), remainder="passthrough")
    return make_pipeline(pre, LogisticRegression(max_iter=1000)).fit(train[spec.features], train[spec.target])


def _ctx(model, spec, scm, test, train=None, **kw):
    from causaltrust.audit import AuditOptions

    return build_context(
        model, spec=spec, scm=scm, data=test, train_data=train, random_state=0,
        options=AuditOptions(n_bootstrap=100, **kw),
    )  # fmt: skip


def _by_name(metrics):
    return {m.name: m for m in metrics}


def test_linear_score_has_the_analytic_path_effects(readmission):
    """f = 0.3*A + 0.5*Z + 0.2*X (a plain callable): closed-form effects of A on the score.

    Unfair (A→Ŷ and A→Z→Ŷ): 0.3 + 0.5 * E[Z(1) - Z(0)]; with the uniform coupling the per-unit difference
    is 0/1 with mean sigmoid(1) - sigmoid(-0.5) = 0.3535 (SE of a 20k-unit mean <= 0.0034).
    Fair (A→L→X→Ŷ): 0.2 * dX/dA = 0.2 * 1.0 exactly (continuous, noise-free X, additive L).
    """
    spec, scm, _, test = readmission

    def f(df):
        return 0.3 * df["A"].to_numpy() + 0.5 * df["Z"].to_numpy() + 0.2 * df["X"].to_numpy()

    m = _by_name(fairness_metrics(_ctx(f, spec, scm, test)))
    dz = expit(1.0) - expit(-0.5)
    assert m["fairness.unfair_path_effect"].value == pytest.approx(0.3 + 0.5 * dz, abs=4 * 0.5 * 0.0034)
    assert m["fairness.fair_path_effect"].value == pytest.approx(0.2, abs=1e-9)
    assert m["fairness.interaction_effect"].value == pytest.approx(0.0, abs=1e-9)
    # Total (A on every path): the closed form 0.3 + 0.5 * dz + 0.2, with the same sampling error as unfair.
    total = m["fairness.counterfactual_effect"].value
    assert total == pytest.approx(0.3 + 0.5 * dz + 0.2, abs=4 * 0.5 * 0.0034)
    # ctf_de: the direct use of A only (0.3 for every x0 unit).
    assert m["fairness.ctf_de"].value == pytest.approx(0.3, abs=1e-9)


def test_fair_path_only_model_has_zero_unfair_effect(readmission):
    """A model fed only the fair-path information (the true lab L, recovered from X and E) is fair."""
    spec, scm, _, test = readmission

    def f(df):
        lab = df["X"].to_numpy() - 0.8 * (df["E"].to_numpy() == 1) + 0.5 * (df["E"].to_numpy() == 2)
        return expit(-1 + 1.2 * lab)

    m = _by_name(fairness_metrics(_ctx(f, spec, scm, test)))
    unfair = m["fairness.unfair_path_effect"]
    assert unfair.low <= 0.0 <= unfair.high
    assert abs(unfair.value) < 1e-12
    assert m["fairness.fair_path_effect"].value > 0.1


def test_group_metrics_equal_fairlearn(readmission):
    fairlearn_metrics = pytest.importorskip("fairlearn.metrics")
    spec, scm, train, test = readmission
    model = _erm(spec, train)
    m = _by_name(fairness_metrics(_ctx(model, spec, scm, test)))
    y_pred = model.predict(test[spec.features])
    y = test[spec.target]
    dp = fairlearn_metrics.demographic_parity_difference(y, y_pred, sensitive_features=test["A"])
    eo = fairlearn_metrics.equalized_odds_difference(y, y_pred, sensitive_features=test["A"])
    assert m["fairness.demographic_parity_difference"].value == pytest.approx(dp, abs=1e-9)
    assert m["fairness.equalized_odds_difference"].value == pytest.approx(eo, abs=1e-9)


def test_group_metrics_equal_fairlearn_with_three_groups():
    fairlearn_metrics = pytest.importorskip("fairlearn.metrics")
    from causaltrust.audit._fairness import demographic_parity_difference, equalized_odds_difference

    rng = np.random.default_rng(0)
    groups = rng.integers(0, 3, 5000)
    y = rng.integers(0, 2, 5000).astype(float)
    y_pred = (rng.random(5000) < 0.3 + 0.2 * groups / 2).astype(float)
    dp = fairlearn_metrics.demographic_parity_difference(y, y_pred, sensitive_features=groups)
    eo = fairlearn_metrics.equalized_odds_difference(y, y_pred, sensitive_features=groups)
    assert demographic_parity_difference(y_pred, groups, 3) == pytest.approx(dp, abs=1e-12)
    assert equalized_odds_difference(y, y_pred, groups, 3) == pytest.approx(eo, abs=1e-12)


def test_erm_matches_the_prototype_numbers(readmission):
    """ERM on the readmission spec: the issue's prototype measured obs 0.759 / new device 0.677 / new
    hospital 0.758 / fair world 0.738 at 20k rows; SE of an accuracy at 20k rows is about 0.003."""
    spec, scm, train, test = readmission
    model = _erm(spec, train)
    ctx = _ctx(model, spec, scm, test)
    m = _by_name(accuracy_metrics(ctx))
    y = test[spec.target].to_numpy()
    assert m["accuracy.observational"].value == pytest.approx(
        np.mean(model.predict(test[spec.features]) == y), abs=1e-12
    )
    assert m["accuracy.observational"].value == pytest.approx(0.759, abs=0.015)
    assert m["accuracy.shift[new_device]"].value == pytest.approx(0.677, abs=0.015)
    assert m["accuracy.shift[new_hospital]"].value == pytest.approx(0.758, abs=0.015)
    assert m["accuracy.fair_world"].value == pytest.approx(0.738, abs=0.015)
    assert m["accuracy.interventional_worst"].value == m["accuracy.shift[new_device]"].value
    # Log loss and calibration against sklearn / NumPy on the same rows: the test rows, and each shift's
    # evaluation sample (drawn, as the audit draws it, from the shifted SCM with the seed of its purpose).
    p = model.predict_proba(test[spec.features])[:, 1]
    assert m["accuracy.log_loss"].value == pytest.approx(log_loss(y, p), rel=1e-9)
    assert m["accuracy.log_loss"].better == "lower"
    for name in spec.shifts:
        seed = int(ctx.rng(f"shift:{name}:evaluate").integers(0, 2**31 - 1))
        shifted = scm.shift(name).sample(N_TEST, random_state=seed)
        ys = shifted[spec.target].to_numpy()
        ps = model.predict_proba(shifted[spec.features])[:, 1]
        assert m[f"accuracy.shift[{name}]"].value == pytest.approx(
            np.mean(model.predict(shifted[spec.features]) == ys), abs=1e-12
        )
        assert m[f"accuracy.shift_log_loss[{name}]"].value == pytest.approx(log_loss(ys, ps), rel=1e-9)
        calibration = m[f"accuracy.shift_calibration[{name}]"].value
        assert calibration == pytest.approx(ps.mean() - ys.mean(), abs=1e-12)
    # The new device reverses the artifact ERM learned: its predictions are off, and by more than on the
    # test rows (sd of a log loss over 20k rows ~0.004).
    assert m["accuracy.shift_log_loss[new_device]"].value > m["accuracy.log_loss"].value + 0.05


def test_spurious_path_effect_zero_without_measured_lab_positive_for_erm(readmission):
    spec, scm, train, test = readmission
    assert spurious_shifts(spec) == ["new_device"]
    erm = _by_name(robustness_metrics(_ctx(_erm(spec, train), spec, scm, test)))
    assert erm["robustness.spurious_path_effect"].value > 0.05

    no_lab = make_pipeline(LogisticRegression()).fit(train[["A", "Z", "F"]], train[spec.target])

    def f(df):
        return no_lab.predict_proba(df[["A", "Z", "F"]])[:, 1]

    blind = _by_name(robustness_metrics(_ctx(f, spec, scm, test)))
    assert blind["robustness.spurious_path_effect"].value == 0.0
    assert blind["robustness.spurious_path_effect"].high == 0.0


def test_adapting_model_is_used_for_spurious_shifts(readmission):
    """A model with adapt() that removes the artifact exactly is invariant under the device shift."""
    spec, scm, _, test = readmission

    class Oracle:
        def __init__(self, artifact):
            self.artifact = artifact

        def predict_proba(self, df):
            e = df["E"].to_numpy()
            lab = df["X"].to_numpy() - np.select([e == 1, e == 2], [self.artifact[1], self.artifact[2]], 0.0)
            p = expit(-1 + 1.2 * lab)
            return np.column_stack([1 - p, p])

        def adapt(self, unlabeled):
            # The new device's artifact, known here; a learner re-estimates it from unlabeled data.
            return Oracle({1: -1.0, 2: 1.2})

    m = _by_name(robustness_metrics(_ctx(Oracle({1: 0.8, 2: -0.5}), spec, scm, test)))
    # Adapted, it is invariant; with no target data it keeps the old artifact and is not.
    assert m["robustness.spurious_path_effect_adapted"].value == pytest.approx(0.0, abs=1e-12)
    assert m["robustness.spurious_path_effect"].value > 0.05


def test_environment_accuracy_and_contextual_effect(readmission):
    spec, scm, train, test = readmission
    model = _erm(spec, train)
    m = _by_name(robustness_metrics(_ctx(model, spec, scm, test)))
    # Each environment's accuracy is a plain mean over its test units (no resampling in the value): the
    # model's hits computed here with sklearn's predict and the data's E column, exact.
    hit = model.predict(test[spec.features]) == test[spec.target].to_numpy()
    e = test["E"].to_numpy()
    truth = {level: float(hit[e == level].mean()) for level in (0, 1, 2)}
    for level, acc in truth.items():
        assert m[f"robustness.environment_accuracy[{level}]"].value == pytest.approx(acc, abs=1e-12)
    assert m["robustness.worst_environment_accuracy"].value == pytest.approx(min(truth.values()), abs=1e-12)
    gap = max(truth.values()) - min(truth.values())
    assert m["robustness.environment_gap"].value == pytest.approx(gap, abs=1e-12)
    # ERM's accuracies are close across hospitals (gap ~0.001 here), so only an exact comparison tells each
    # environment's mean from the mean over all units (what an ignored mask gives); they do differ:
    assert all(acc != pytest.approx(float(hit.mean()), abs=1e-6) for acc in truth.values())
    # E=2 raises readmission through policy; ERM picks it up along E→Ŷ (contextual).
    assert m["robustness.contextual_path_effect[2]"].value > 0.05


def test_report_round_trips_through_json(readmission):
    spec, scm, train, test = readmission
    rep = ct.audit(
        _erm(spec, train), spec=spec, scm=scm, data=test.iloc[:3000], train_data=train.iloc[:3000],
        objectives=["accuracy", "fairness", "robustness"], n_bootstrap=20,
    )  # fmt: skip
    back = TrustReport.from_json(rep.to_json())
    assert back == rep
    assert back.metric("fairness.unfair_path_effect").value == rep.metric("fairness.unfair_path_effect").value
    frame = rep.to_frame()
    assert set(frame.columns) >= {"name", "value", "low", "high", "better", "passed"}
    # The spec's threshold applies to |unfair effect| <= 0.02: ERM fails it.
    assert rep.metric("fairness.unfair_path_effect").passed is False
    assert not rep.passed


def test_report_is_read_only():
    from causaltrust.audit import Metric

    rep = TrustReport((Metric("accuracy.observational", 0.8),))
    with pytest.raises(AttributeError, match="cannot assign to field 'metrics'"):
        rep.metrics = ()  # type: ignore[misc]


def test_bad_inputs_are_clear(readmission):
    spec, scm, train, test = readmission
    model = _erm(spec, train)
    with pytest.raises(ct.DataError, match=r"missing column\(s\) \['X'\]"):
        ct.audit(model, spec=spec, scm=scm, data=test.drop(columns="X"), objectives=["accuracy"])
    narrow = LogisticRegression().fit(train.assign(Q=1)[["A", "Q"]], train[spec.target])
    with pytest.raises(ct.DataError, match="not among the spec's features"):
        ct.audit(narrow, spec=spec, scm=scm, data=test, objectives=["accuracy"])
    raw = {k: v for k, v in spec.to_dict().items() if k not in ("fairness", "thresholds")}
    raw["variables"]["A"].pop("role")
    no_fair = ct.load_spec(raw)
    with pytest.raises(ct.SpecError, match="protected attribute"):
        ct.audit(model, spec=no_fair, scm=ct.SCM.from_spec(no_fair), data=test, objectives=["fairness"])
    with pytest.raises(ct.SpecError, match="unknown objective"):
        ct.audit(model, spec=spec, scm=scm, data=test, objectives=["speed"])
    bad = test.copy()
    bad.loc[3, "F"] = np.nan
    with pytest.raises(ct.DataError, match="NaN"):
        ct.audit(model, spec=spec, scm=scm, data=bad, objectives=["accuracy"])
    with pytest.raises(ct.DataError, match="neither predict_proba nor predict"):
        ct.audit(object(), spec=spec, scm=scm, data=test, objectives=["accuracy"])


def test_same_seed_same_report(readmission):
    spec, scm, train, test = readmission
    model = _erm(spec, train)
    kw = dict(
        spec=spec, scm=scm, data=test.iloc[:2000], objectives=["fairness", "robustness"], n_bootstrap=10
    )
    a = ct.audit(model, random_state=3, **kw)
    b = ct.audit(model, random_state=3, **kw)
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())


def test_options_are_the_one_route_of_audit_settings(readmission):
    from causaltrust.audit import AuditOptions

    spec, scm, train, test = readmission
    model = _erm(spec, train)
    kw = dict(spec=spec, scm=scm, data=test.iloc[:1000], objectives=["fairness"], random_state=3)
    by_keywords = ct.audit(model, n_bootstrap=10, n_draws=2, **kw)
    by_options = ct.audit(model, options=AuditOptions(n_bootstrap=10, n_draws=2), **kw)
    pd.testing.assert_frame_equal(by_keywords.to_frame(), by_options.to_frame())
    assert (by_options.meta["n_bootstrap"], by_options.meta["n_draws"]) == (10, 2)
    # 10 resamples give other intervals than the default 200: the setting did reach the audit.
    default = ct.audit(model, **kw)
    assert default.meta["n_bootstrap"] == 200
    assert not by_options.to_frame().equals(default.to_frame())
    with pytest.raises(ct.DataError, match=r"\['n_bootstrap'\] were given both as keywords and through"):
        ct.audit(model, options=AuditOptions(n_draws=2), n_bootstrap=10, **kw)
    with pytest.raises(ct.DataError, match="options: expected an AuditOptions, got dict"):
        ct.audit(model, options={"n_bootstrap": 10}, **kw)


def test_audit_without_an_scm_fits_one_and_says_so(readmission):
    spec, scm, train, test = readmission
    model = _erm(spec, train)
    rep = ct.audit(
        model,
        spec=spec,
        data=test.drop(columns="L").iloc[:5000],
        train_data=train.drop(columns="L").iloc[:5000],
        objectives=["fairness"],
        n_bootstrap=20,
    )
    assert rep.meta["scm_fitted_on"] == "train_data"
    assert any("fitted one from train_data" in n for n in rep.notes)
    # Provenance in the notes: the target learned (not the spec's equation), the measurement assumed.
    mechanisms = next(n for n in rep.notes if n.startswith("SCM mechanisms:"))
    assert "Y: learned: " in mechanisms
    assert "assumed: measures L (noise-free, unit slope)" in mechanisms
    # The fitted SCM's unfair-path effect agrees with the true SCM's (same test units; SE ~0.003).
    truth = ct.audit(
        model, spec=spec, scm=scm, data=test.iloc[:5000], objectives=["fairness"], n_bootstrap=20
    )
    assert rep.metric("fairness.unfair_path_effect").value == pytest.approx(
        truth.metric("fairness.unfair_path_effect").value, abs=0.02
    )


def test_meta_times_each_objective_that_ran(readmission):
    spec, scm, train, test = readmission
    rep = ct.audit(
        _erm(spec, train), spec=spec, scm=scm, data=test.iloc[:1000], objectives=["robustness", "accuracy"],
        n_bootstrap=10,
    )  # fmt: skip
    seconds = rep.meta["seconds"]
    assert list(seconds) == ["accuracy", "robustness"]  # the order they ran in
    assert all(isinstance(s, float) and s >= 0 for s in seconds.values())


def test_mean_metrics_over_the_test_units_share_their_resamples(readmission):
    # Shared resamples make the intervals paired: values shifted by a constant give an interval shifted by
    # exactly that constant; independent resamples per metric would not.
    spec, scm, train, test = readmission
    ctx = _ctx(_erm(spec, train), spec, scm, test.iloc[:4000])
    x = np.random.default_rng(0).random(4000)
    a = ctx.mean_metric("accuracy.observational", x)
    b = ctx.mean_metric("accuracy.log_loss", x + 1.0)
    assert b.low == pytest.approx(a.low + 1.0, abs=1e-12)
    assert b.high == pytest.approx(a.high + 1.0, abs=1e-12)
