"""Privacy metrics of an audit: ε, membership inference (Yeom, LiRA-style) and attribute inference.

Every statistical check uses 2000 training (member) and 2000 test (non-member) rows of the readmission
scenario with fixed seeds. Tolerances come from the null sampling error at that size:

- loss-threshold advantage = TPR - FPR, each a proportion over n = 2000 rows: sd <= sqrt(2 * 0.25 / 2000)
  = 0.016, so 4 sd ≈ 0.065;
- AUC under no membership signal: sd = sqrt((n1 + n0 + 1) / (12 n1 n0)) = 0.0091, so 4 sd ≈ 0.037;
- attribute advantage = 2 * (balanced accuracy - 1/2) with groups of ~800 and ~1200 units:
  sd ≈ 2 * sqrt((0.25/800 + 0.25/1200) / 4) = 0.023, so 4 sd ≈ 0.09.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, roc_curve
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

import causaltrust as ct
from causaltrust.audit import METRICS, AuditContext, AuditOptions, build_context
from causaltrust.audit.privacy import (
    attribute_advantage,
    lira_scores,
    privacy_metrics,
    tpr_at_fpr,
    yeom_advantage,
)
from causaltrust.audit.privacy._membership import balanced_assignment
from causaltrust.audit.privacy._metrics import epsilon_metric

N = 2000
ADV_TOL = 0.065  # 4 null sd of TPR - FPR at n = 2000 (module docstring)
AUC_TOL = 0.04  # 4 null sd of the AUC at 2000 + 2000 points
ATTR_TOL = 0.09  # 4 null sd of the attribute advantage at ~800 / ~1200 units
NAMES = [
    "privacy.epsilon",
    "privacy.epsilon_parts[model]",  # a plain estimator: the model is its only part
    "privacy.mia_advantage",
    "privacy.mia_auc",
    "privacy.mia_tpr_at_1pct_fpr",
    "privacy.mia_tpr_at_0.1pct_fpr",
    "privacy.mia_power[mia_tpr_at_1pct_fpr]",  # the attack against a memorising forest (its power)
    "privacy.mia_power[mia_advantage]",
    "privacy.attribute_inference_advantage",
    "privacy.sensitive_epsilon",  # readmission lists privacy.sensitive: [A]
]


@pytest.fixture(scope="module")
def world() -> tuple[Any, Any, pd.DataFrame, pd.DataFrame]:
    spec, scm = ct.scenarios.load("readmission")
    return spec, scm, scm.sample(N, random_state=1), scm.sample(N, random_state=2)


def _fit(model: Any, spec: Any, train: pd.DataFrame) -> Any:
    return model.fit(train[spec.features], train[spec.target])


def _ctx(model: Any, world: Any, *, spec: Any = None, train: Any = "default", **opts: Any) -> AuditContext:
    spec0, scm, train0, test = world
    seed = opts.pop("random_state", 0)
    options = AuditOptions(**{"n_bootstrap": 50, "n_shadow": 8, **opts})
    return build_context(
        model, spec=spec or spec0, scm=scm, data=test, train_data=train0 if train == "default" else train,
        random_state=seed, options=options,
    )  # fmt: skip


def _run(model: Any, world: Any, **kw: Any) -> tuple[dict[str, Any], AuditContext]:
    ctx = _ctx(model, world, **kw)
    return {m.name: m for m in privacy_metrics(ctx)}, ctx


def _knn1(spec: Any) -> Pipeline:
    cat = ["E"]
    num = [f for f in spec.features if f not in cat]
    prep = ColumnTransformer([("cat", OneHotEncoder(), cat), ("num", StandardScaler(), num)])
    return Pipeline([("prep", prep), ("knn", KNeighborsClassifier(n_neighbors=1))])


# -- names and shape -----------------------------------------------------------------------------------------


def test_names_are_the_registry_names_in_order(world: Any) -> None:
    spec, _, train, _ = world
    metrics, _ = _run(_fit(LogisticRegression(), spec, train), world)
    assert list(metrics) == NAMES
    assert all(name.split("[")[0] in METRICS for name in metrics)
    assert metrics["privacy.epsilon"].interval is None
    assert metrics["privacy.sensitive_epsilon"].interval is None
    for name in NAMES[2:-1]:
        m = metrics[name]
        assert m.low is not None, name
        assert m.high is not None, name
        assert m.low <= m.value <= m.high, name


# -- membership inference ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make", [lambda spec: DecisionTreeClassifier(random_state=0), _knn1], ids=["tree", "1nn"]
)
def test_overfit_model_leaks_membership(world: Any, make: Any) -> None:
    # A memorising model has (clipped) zero loss on every member; a non-member gets that loss only when it
    # is classified correctly, so the advantage is 1 - test accuracy, about 0.33 here (Bayes accuracy is
    # far below 1). Its sd at n = 2000 is ~0.01, so > 0.3 fails only if the attack is broken.
    spec, _, train, _ = world
    metrics, _ = _run(_fit(make(spec), spec, train), world)
    assert metrics["privacy.mia_advantage"].value > 0.3
    assert metrics["privacy.mia_advantage"].low > 0.25
    auc = metrics["privacy.mia_auc"]
    assert auc.value > 0.65  # null: 0.5 ± 0.009
    assert auc.low > 0.6
    # Members are tied with correctly classified non-members at the top score, so low-FPR TPRs stay small
    # but at least the FPR itself (the diagonal through the tie).
    assert metrics["privacy.mia_tpr_at_1pct_fpr"].value >= 0.01 - 1e-12


def test_constant_predictor_leaks_nothing(world: Any) -> None:
    spec, _, train, _ = world
    metrics, _ = _run(_fit(DummyClassifier(strategy="prior"), spec, train), world)
    assert abs(metrics["privacy.mia_advantage"].value) < ADV_TOL
    assert abs(metrics["privacy.mia_auc"].value - 0.5) < AUC_TOL
    # No signal: the ROC curve is the diagonal, TPR ≈ FPR; binomial sd at 1% of 2000 is 0.0022.
    assert abs(metrics["privacy.mia_tpr_at_1pct_fpr"].value - 0.01) < 0.01
    assert metrics["privacy.attribute_inference_advantage"].value == pytest.approx(0.0, abs=ATTR_TOL)


def test_logistic_regression_has_small_advantage(world: Any) -> None:
    # Seven parameters on 2000 rows generalise: what remains is the null noise (tolerances above).
    spec, _, train, _ = world
    metrics, _ = _run(_fit(LogisticRegression(), spec, train), world)
    assert abs(metrics["privacy.mia_advantage"].value) < ADV_TOL
    assert abs(metrics["privacy.mia_auc"].value - 0.5) < AUC_TOL


def test_loss_threshold_matches_direct_computation(world: Any) -> None:
    # Independent computation from predict_proba (train and test have the same size: no subsampling).
    spec, _, train, test = world
    model = _fit(DecisionTreeClassifier(max_depth=6, random_state=0), spec, train)

    def losses(df: pd.DataFrame) -> np.ndarray:
        p1 = model.predict_proba(df[spec.features])[:, 1]
        p_y = np.clip(np.where(df[spec.target] == 1, p1, 1 - p1), 1e-6, 1 - 1e-6)
        return -np.log(p_y)

    tau = losses(train).mean()
    expected = np.mean(losses(train) <= tau) - np.mean(losses(test) <= tau)
    metrics, _ = _run(model, world)
    assert metrics["privacy.mia_advantage"].value == pytest.approx(expected, abs=1e-12)
    assert yeom_advantage(losses(train)[None], losses(test)[None])[0] == pytest.approx(expected, abs=1e-12)


def test_shadow_attack_is_deterministic_for_a_seed(world: Any) -> None:
    # random_state=None on the tree: the shadows must still be seeded from the audit's random_state.
    spec, _, train, _ = world
    model = _fit(DecisionTreeClassifier(random_state=None, max_features=2), spec, train)
    names = ["privacy.mia_auc", "privacy.mia_tpr_at_1pct_fpr", "privacy.mia_advantage"]
    a, _ = _run(model, world)
    b, _ = _run(model, world)
    c, _ = _run(model, world, random_state=1)
    for name in names:
        assert a[name] == b[name], name
    assert a["privacy.mia_auc"].value != c["privacy.mia_auc"].value


def test_missing_train_data_drops_membership_metrics(world: Any) -> None:
    spec, _, train, _ = world
    metrics, ctx = _run(_fit(LogisticRegression(), spec, train), world, train=None)
    assert list(metrics) == [
        "privacy.epsilon",
        "privacy.epsilon_parts[model]",
        "privacy.attribute_inference_advantage",
        "privacy.sensitive_epsilon",
    ]
    assert any("privacy.mia_advantage" in n and "train_data" in n for n in ctx.notes)


def test_unclonable_model_skips_shadow_attack_only(world: Any) -> None:
    spec, _, train, _ = world
    fitted = _fit(LogisticRegression(), spec, train)

    def model(df: pd.DataFrame) -> np.ndarray:  # a plain callable: no get_params, cannot be cloned
        return fitted.predict_proba(df)[:, 1]

    metrics, ctx = _run(model, world)
    assert "privacy.mia_advantage" in metrics
    assert "privacy.mia_auc" not in metrics
    assert "privacy.mia_tpr_at_1pct_fpr" not in metrics
    assert any("privacy.mia_auc" in n and "clone" in n for n in ctx.notes)


def test_too_few_shadows_skip_the_shadow_attack_with_a_note(world: Any) -> None:
    spec, _, train, _ = world
    metrics, ctx = _run(_fit(LogisticRegression(), spec, train), world, n_shadow=2)
    assert "privacy.mia_advantage" in metrics
    assert "privacy.mia_auc" not in metrics
    assert any("n_shadow=2" in n for n in ctx.notes)


def test_shadow_rows_limits_the_attack_and_notes_resolution(world: Any) -> None:
    spec, _, train, _ = world
    metrics, ctx = _run(_fit(LogisticRegression(), spec, train), world, shadow_rows=300)
    assert "300 training + 300 test rows" in metrics["privacy.mia_auc"].method
    assert any(n.startswith("privacy.mia_tpr_at_0.1pct_fpr: 300 non-members") for n in ctx.notes)


# -- epsilon -------------------------------------------------------------------------------------------------


def test_epsilon_is_inf_without_accountant_and_reads_privacy_epsilon(world: Any) -> None:
    spec, _, train, _ = world
    model = _fit(LogisticRegression(), spec, train)
    metrics, ctx = _run(model, world, train=None)
    assert metrics["privacy.epsilon"].value == float("inf")
    assert any(n.startswith("privacy.epsilon_parts: model: no DP") for n in ctx.notes)
    assert any("exceeds the spec's privacy budget" in n for n in ctx.notes)
    model.privacy_epsilon_ = 0.75
    metrics, ctx = _run(model, world, train=None)
    assert metrics["privacy.epsilon"].value == 0.75
    assert any("does not report privacy_epsilon_parts_" in n for n in ctx.notes)
    assert not any("exceeds" in n for n in ctx.notes)  # 0.75 is within the spec's budget of 1.0
    # At the budget's edge (readmission's privacy.epsilon is 1.0): 1.5 exceeds it, 1.0 exactly does not, and
    # the comparison is strict (one part in a billion above is flagged).
    assert spec.privacy.epsilon == 1.0
    for eps, exceeds in ((1.5, True), (1.0, False), (1.0 + 1e-9, True)):
        model.privacy_epsilon_ = eps
        ctx = _ctx(model, world, train=None)
        total, _ = epsilon_metric(ctx)
        assert total.value == eps
        flagged = [n for n in ctx.notes if "exceeds the spec's privacy budget ε = 1" in n]
        assert len(flagged) == int(exceeds), eps
        if eps == 1.5:
            assert flagged[0].startswith("privacy.epsilon = 1.5 exceeds")


def test_epsilon_note_when_scm_fitted_on_training_rows(world: Any) -> None:
    spec, _, train, test = world
    model = _fit(LogisticRegression(), spec, train)
    ctx = build_context(model, spec=spec, data=test, train_data=train, options=AuditOptions(n_bootstrap=10))
    assert ctx.scm_fitted_on == "train_data"
    epsilon_metric(ctx)
    assert any("fitted on train_data" in n and "does not cover" in n for n in ctx.notes)
    given = _ctx(model, world)
    epsilon_metric(given)
    assert not any("does not cover" in n for n in given.notes)


# -- attribute inference -------------------------------------------------------------------------------------


def test_attribute_inference_detects_direct_use_of_a(world: Any) -> None:
    def model(df: pd.DataFrame) -> np.ndarray:  # A shifts the logit by 4, against ~0.65 sd from X
        z = -2.0 + 4.0 * df["A"].to_numpy() + 0.5 * df["X"].to_numpy()
        return 1.0 / (1.0 + np.exp(-z))

    metrics, _ = _run(model, world)
    m = metrics["privacy.attribute_inference_advantage"]
    assert m.value > 0.6
    assert m.low > 0.5


def test_attribute_inference_is_null_without_a_or_its_descendants(world: Any) -> None:
    spec, _, train, _ = world
    only_f = ct.load_spec({**spec.to_dict(), "features": ["F"]})  # F is a root: independent of A
    model = _fit(LogisticRegression(), only_f, train)
    metrics, _ = _run(model, world, spec=only_f)
    assert abs(metrics["privacy.attribute_inference_advantage"].value) < ATTR_TOL


def test_attribute_inference_with_categorical_protected(world: Any) -> None:
    spec, _, train, _ = world
    d = copy.deepcopy(spec.to_dict())
    d["variables"]["A"].pop("role")
    d["variables"]["E"]["role"] = "protected"
    d.update(fairness={"protected": "E", "baseline": 0, "unfair_paths": [["E", "X"]]}, robustness=None)
    spec_e = ct.load_spec(d)
    model = _fit(LogisticRegression(), spec_e, train)
    metrics, ctx = _run(model, world, spec=spec_e, train=None)
    m = metrics["privacy.attribute_inference_advantage"]
    assert "multinomial logistic regression (3 levels)" in m.method
    # The attack recomputed here fold by fold (no cross_val_predict): the attacker sees [score, label,
    # score·label] of the model, a standardised balanced logistic regression is fitted on four folds and
    # predicts the fifth; the folds are stratified on E and shuffled with the seed the audit draws for
    # this metric. The score is sklearn's balanced accuracy rescaled to (bal - 1/3) / (1 - 1/3).
    _, _, _, test = world
    e = test["E"].to_numpy()
    s = model.predict_proba(test[spec_e.features])[:, 1]
    label = model.predict(test[spec_e.features]).astype(float)
    attack_x = np.column_stack([s, label, s * label])
    seed = int(ctx.rng("privacy.attribute_inference_advantage/cv").integers(0, 2**31 - 1))
    guess = np.empty_like(e)
    for fit_rows, held in StratifiedKFold(n_splits=5, shuffle=True, random_state=seed).split(attack_x, e):
        attacker = make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=1000))
        guess[held] = attacker.fit(attack_x[fit_rows], e[fit_rows]).predict(attack_x[held])
    expected = (balanced_accuracy_score(e, guess) - 1 / 3) / (1 - 1 / 3)
    assert m.value == pytest.approx(expected, abs=1e-12)
    # E moves X by +0.8 / -0.5 (the artifact): the model's score carries it, so the attack beats chance.
    # Its null sd at three groups of ~800 / ~700 / ~500 units is below ATTR_TOL / 4; the value is ~0.12.
    assert expected > ATTR_TOL
    assert m.low > 0


def test_attribute_inference_absent_without_fairness_section(world: Any) -> None:
    spec, _, train, _ = world
    d = copy.deepcopy(spec.to_dict())
    d["variables"]["A"].pop("role")
    no_fair = ct.load_spec({**d, "fairness": None})
    metrics, ctx = _run(_fit(LogisticRegression(), no_fair, train), world, spec=no_fair, train=None)
    assert "privacy.attribute_inference_advantage" not in metrics
    assert any("no fairness section" in n for n in ctx.notes)


# -- building blocks against independent computations --------------------------------------------------------


def test_attribute_advantage_is_rescaled_balanced_accuracy() -> None:
    rng = np.random.default_rng(0)
    a, pred = rng.integers(0, 3, 500), rng.integers(0, 3, 500)
    bal = balanced_accuracy_score(a, pred)
    assert attribute_advantage(a, pred, 3) == pytest.approx((bal - 1 / 3) / (2 / 3))


def test_balanced_assignment_gives_every_point_in_and_out_shadows() -> None:
    keep = balanced_assignment(8, 101, np.random.default_rng(0))
    assert (keep.sum(axis=0) == 4).all()  # every point IN for exactly half the shadows
    assert set(keep.sum(axis=1)) <= {50, 51}  # every shadow on half the points


def test_lira_scores_match_scipy_gaussian_log_likelihoods() -> None:
    rng = np.random.default_rng(0)
    keep = balanced_assignment(6, 40, rng)
    phi = rng.normal(size=(6, 40)) + keep
    target = rng.normal(size=40)
    mu_in = np.array([phi[keep[:, i], i].mean() for i in range(40)])
    mu_out = np.array([phi[~keep[:, i], i].mean() for i in range(40)])
    var_in = sum(((phi[keep[:, i], i] - mu_in[i]) ** 2).sum() for i in range(40)) / (keep.sum() - 40)
    var_out = sum(((phi[~keep[:, i], i] - mu_out[i]) ** 2).sum() for i in range(40)) / ((~keep).sum() - 40)
    expected = norm.logpdf(target, mu_in, np.sqrt(var_in)) - norm.logpdf(target, mu_out, np.sqrt(var_out))
    np.testing.assert_allclose(lira_scores(phi, keep, target), expected, rtol=1e-10)
    v_in = np.array([phi[keep[:, i], i].var(ddof=1) for i in range(40)])
    v_out = np.array([phi[~keep[:, i], i].var(ddof=1) for i in range(40)])
    expected = norm.logpdf(target, mu_in, np.sqrt(v_in)) - norm.logpdf(target, mu_out, np.sqrt(v_out))
    np.testing.assert_allclose(
        lira_scores(phi, keep, target, per_example_variance=True), expected, rtol=1e-10
    )


def test_tpr_at_fpr_interpolates_the_roc_curve() -> None:
    # Two members above every non-member (a vertical step at FPR 0), then a member tied with a non-member
    # (a diagonal segment from (0, 2/3) to (1/4, 1)), then the other three non-members.
    member = np.array([1, 1, 0, 1, 0, 0, 0])
    score = np.array([5.0, 4.0, 3.0, 3.0, 2.0, 1.0, 0.0])
    fpr, tpr, _ = roc_curve(member, score, drop_intermediate=False)
    assert tpr_at_fpr(fpr, tpr, 0.0) == pytest.approx(2 / 3)  # the vertical step at FPR 0 counts in full
    assert tpr_at_fpr(fpr, tpr, 1 / 8) == pytest.approx(5 / 6)  # halfway along the diagonal tie
    assert tpr_at_fpr(fpr, tpr, 0.5) == 1.0
    assert tpr_at_fpr(fpr, tpr, 1.0) == 1.0
