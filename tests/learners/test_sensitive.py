"""Path-targeted privacy (issue 33): randomized response on the spec's sensitive variables, de-biased.

Ground truth comes from the mechanism's closed form (k-ary randomized response keeps the true value with
probability e^ε / (e^ε + k - 1), so ε = log(p_keep (k - 1) / (1 - p_keep))) and from the empirical
channel of many draws, never from the learner's own arithmetic.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

import causaltrust as ct
from causaltrust.exceptions import SpecError
from causaltrust.learners import SensitiveDPClassifier
from causaltrust.learners._sensitive import randomized_response

pytestmark = [
    pytest.mark.filterwarnings("ignore:Optimal order is the largest alpha"),
    # dp_noise_seed makes a fit reproducible and warns; test_randomized_response_noise_is_secret checks it.
    pytest.mark.filterwarnings("ignore:.*only if that seed is secret:UserWarning"),
]

READMISSION = Path(ct.scenarios.__file__).parent / "readmission.yaml"


@pytest.fixture(scope="module")
def world() -> tuple[Any, Any, Any, Any]:
    spec, scm = ct.scenarios.load("readmission")
    return spec, scm, scm.sample(4000, random_state=1), scm.sample(1000, random_state=2)


def _spec_dict() -> dict[str, Any]:
    out: dict[str, Any] = yaml.safe_load(READMISSION.read_text())
    return out


@pytest.mark.parametrize(("epsilon", "k"), [(0.5, 2), (1.0, 3), (2.0, 4)])
def test_randomized_response_channel_matches_its_closed_form_epsilon(epsilon: float, k: int) -> None:
    # The empirical channel of 200,000 draws per true value: its worst likelihood ratio recovers ε.
    n = 200_000
    rng = np.random.default_rng(0)
    counts = np.stack(
        [np.bincount(randomized_response(np.full(n, a), k, epsilon, rng), minlength=k) for a in range(k)]
    )
    channel = counts / n
    keep = math.exp(epsilon) / (math.exp(epsilon) + k - 1)  # the closed form, written out
    other = 1.0 / (math.exp(epsilon) + k - 1)
    # Binomial sd of each cell <= sqrt(0.25 / n) = 0.0011; 5 sd.
    tol = 5 * math.sqrt(0.25 / n)
    assert np.allclose(np.diag(channel), keep, atol=tol)
    assert np.allclose(channel[~np.eye(k, dtype=bool)], other, atol=tol)
    # log(keep / other) = ε exactly; the empirical ratio within the delta method's 5 sd:
    # var(log p̂) ~ (1 - p) / (n p) for each cell.
    ratio = np.log(np.diag(channel)[:, None] / np.where(np.eye(k, dtype=bool), np.nan, channel))
    sd = math.sqrt((1 - keep) / (n * keep) + (1 - other) / (n * other))
    assert np.nanmax(np.abs(ratio - epsilon)) < 5 * sd


def test_learner_reports_the_closed_form_and_the_audit_repeats_it(world: Any) -> None:
    spec, scm, train, test = world
    eps = 0.7
    clf = SensitiveDPClassifier(spec, sensitive_epsilon=eps, dp_noise_seed=3, random_state=0)
    clf.fit(train[spec.features], train[spec.target])
    # A is binary: k = 2, ε = log(p / (1 - p)).
    p = clf.keep_probability_
    assert clf.sensitive_levels_ == 2
    assert math.log(p / (1.0 - p)) == pytest.approx(eps, abs=1e-12)
    # The realised share of kept values: binomial sd sqrt(p (1 - p) / 4000) = 0.0070; 4 sd.
    assert abs(clf.report_rate_ - p) < 4 * math.sqrt(p * (1 - p) / len(train))
    rep = ct.audit(
        clf,
        spec=spec,
        scm=scm,
        data=test,
        train_data=train,
        objectives=["privacy"],
        n_shadow=0,
        n_bootstrap=10,
    )
    assert rep.metric("privacy.sensitive_epsilon").value == eps
    assert "randomized response on A" in rep.metric("privacy.sensitive_epsilon").method
    # No row-level guarantee: the other columns and the label are not protected.
    assert math.isinf(rep.metric("privacy.epsilon").value)


def test_randomized_response_noise_is_secret(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, _, train, _ = world
    monkeypatch.delenv("CAUSALTRUST_DP_NOISE_SEED", raising=False)
    fits = [
        SensitiveDPClassifier(spec, sensitive_epsilon=1.0, random_state=0).fit(
            train[spec.features], train[spec.target]
        )
        for _ in range(2)
    ]
    # Same random_state, fresh secret noise: the de-biased weights differ.
    assert not np.array_equal(fits[0].estimator_.coef_, fits[1].estimator_.coef_)
    seeded = [SensitiveDPClassifier(spec, dp_noise_seed=5) for _ in range(2)]
    for clf in seeded:
        with pytest.warns(UserWarning, match="only if that seed is secret"):
            clf.fit(train[spec.features], train[spec.target])
    assert np.array_equal(seeded[0].estimator_.coef_, seeded[1].estimator_.coef_)


def test_debiasing_recovers_the_sensitive_effect(world: Any) -> None:
    # Readmission's A has a direct effect on Y (0.5 on the logit). Training on the reports as if true
    # attenuates A's weight towards 0 (by about 2 p_keep - 1 = 0.46 at ε = 1); the channel-corrected
    # posterior restores it. 20,000 rows: the clean weight's standard error is about 0.04.
    spec, scm, _, _ = world
    big = scm.sample(20_000, random_state=7)
    X, y = big[spec.features], big[spec.target]
    clean = ct.learners.ERMClassifier(spec=spec).fit(X, y).estimator_.coef_[0, 0]
    kw = {"sensitive_epsilon": 1.0, "dp_noise_seed": 11}
    naive = SensitiveDPClassifier(spec, debias=False, **kw).fit(X, y).estimator_.coef_[0, 0]
    fixed = SensitiveDPClassifier(spec, **kw).fit(X, y).estimator_.coef_[0, 0]
    assert abs(naive) < 0.75 * abs(clean)
    assert abs(fixed - clean) < 0.25 * abs(clean)


def test_dp_sgd_sensitive_epsilon_is_the_group_privacy_bound(world: Any) -> None:
    pytest.importorskip("opacus")
    from causaltrust.learners import DPLogisticRegression, SelectiveInvarianceClassifier

    spec, scm, train, test = world
    train = train.head(1500)
    clf = SelectiveInvarianceClassifier(
        spec=spec, scm=scm, estimator=DPLogisticRegression(epochs=2), n_draws=1, random_state=0
    ).fit(train[spec.features], train[spec.target])
    rep = ct.audit(clf, spec=spec, scm=scm, data=test, objectives=["privacy"], n_shadow=0, n_bootstrap=10)
    eps = rep.metric("privacy.epsilon").value
    assert rep.metric("privacy.sensitive_epsilon").value == pytest.approx(2.0 * eps, rel=1e-12)
    # An SCM fitted on the training rows without DP: nothing bounds the sensitive values either.
    fitted = SelectiveInvarianceClassifier(
        spec=spec, estimator=DPLogisticRegression(epochs=2), n_draws=1, random_state=0
    ).fit(train[spec.features], train[spec.target])
    rep = ct.audit(fitted, spec=spec, scm=scm, data=test, objectives=["privacy"], n_shadow=0, n_bootstrap=10)
    assert math.isnan(rep.metric("privacy.sensitive_epsilon").value)


def test_categorical_sensitive_variables_share_one_joint_domain(world: Any) -> None:
    d = _spec_dict()
    d["privacy"]["sensitive"] = ["A", "E"]  # binary x 3 categories: k = 6
    spec, _, train, _ = world
    clf = SensitiveDPClassifier(d, sensitive_epsilon=2.0, dp_noise_seed=0)
    clf.fit(train[spec.features], train[spec.target])
    assert clf.sensitive_levels_ == 6
    assert clf.keep_probability_ == pytest.approx(math.exp(2.0) / (math.exp(2.0) + 5))
    assert clf.predict_proba(train[spec.features].head(5)).shape == (5, 2)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        ({"sensitive": []}, "lists none"),
        ({"sensitive": ["F"]}, "'F' is continuous"),
        ({"sensitive": ["L"]}, "'L' is not a feature"),
    ],
)
def test_bad_sensitive_variables_are_spec_errors(world: Any, edit: dict[str, Any], match: str) -> None:
    spec, _, train, _ = world
    d = _spec_dict()
    d["privacy"].update(edit)
    with pytest.raises(SpecError, match=match):
        SensitiveDPClassifier(d).fit(train[spec.features], train[spec.target])


def test_model_file_round_trip(world: Any, tmp_path: Path) -> None:
    spec, _, train, test = world
    clf = SensitiveDPClassifier(spec, dp_noise_seed=1).fit(train[spec.features], train[spec.target])
    clf.save(tmp_path / "m.ctm")
    back = ct.load_model(tmp_path / "m.ctm")
    assert np.array_equal(back.predict_proba(test[spec.features]), clf.predict_proba(test[spec.features]))
    assert back.privacy_sensitive_epsilon_ == clf.privacy_sensitive_epsilon_


def test_with_a_dp_estimator_both_guarantees_hold(world: Any) -> None:
    # Randomized response on A, then DP-SGD on the reports and every other column: the row-level ε is
    # DP-SGD's (replayed by a fresh Opacus accountant), and A is protected by the smaller of ε_RR and
    # 2 ε_row (group privacy over a substitution).
    pytest.importorskip("opacus")
    from opacus.accountants import RDPAccountant

    from causaltrust.learners import DPLogisticRegression

    spec, scm, train, test = world
    dp = DPLogisticRegression(target_epsilon=0.5, epochs=2, dp_noise_seed=1)
    clf = SensitiveDPClassifier(spec, estimator=dp, sensitive_epsilon=4.0, debias=False, dp_noise_seed=2)
    clf.fit(train[spec.features], train[spec.target])
    replay = RDPAccountant()
    est = clf.estimator_
    replay.history = [(est.noise_multiplier_, est.sample_rate_, est.n_steps_)]
    row = float(replay.get_epsilon(delta=est.target_delta))
    rep = ct.audit(clf, spec=spec, scm=scm, data=test, objectives=["privacy"], n_shadow=0, n_bootstrap=10)
    assert rep.metric("privacy.epsilon").value == pytest.approx(row, rel=1e-12)
    assert rep.metric("privacy.epsilon_parts[encoders]").value == 0.0
    assert rep.metric("privacy.sensitive_epsilon").value == pytest.approx(min(4.0, 2 * row), rel=1e-12)
    # debias=True fits a posterior on the rows without row-level DP; DP-SGD takes no sample_weight.
    with pytest.raises(ct.DataError, match="sample_weight"):
        SensitiveDPClassifier(spec, estimator=dp).fit(train[spec.features], train[spec.target])
