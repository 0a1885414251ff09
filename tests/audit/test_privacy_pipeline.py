"""ε for the whole fitted pipeline (issue 33): composed over the parts learned from the training rows."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import causaltrust as ct
from causaltrust.audit.privacy._metrics import compose_epsilon

pytest.importorskip("torch")
pytest.importorskip("opacus")

pytestmark = pytest.mark.filterwarnings("ignore:Optimal order is the largest alpha")


@pytest.fixture(scope="module")
def world() -> tuple[Any, Any, Any, Any]:
    spec, scm = ct.scenarios.load("readmission")
    return spec, scm, scm.sample(1500, random_state=1), scm.sample(600, random_state=2)


def _selective(spec: Any, scm: Any, train: Any, **fit: Any) -> Any:
    from causaltrust.learners import DPLogisticRegression, SelectiveInvarianceClassifier

    clf = SelectiveInvarianceClassifier(
        spec=spec, scm=scm, estimator=DPLogisticRegression(epochs=2), n_draws=1, random_state=0
    )
    return clf.fit(train[spec.features], train[spec.target], **fit)


def _audit(model: Any, world: Any) -> Any:
    spec, scm, _, test = world
    return ct.audit(model, spec=spec, scm=scm, data=test, objectives=["privacy"], n_shadow=0, n_bootstrap=10)


def _replayed_epsilon(dp: Any) -> float:
    """The accountant's ε recomputed independently: a fresh Opacus RDP accountant over the same steps."""
    from opacus.accountants import RDPAccountant

    replay = RDPAccountant()
    replay.history = [(dp.noise_multiplier_, dp.sample_rate_, dp.n_steps_)]
    return float(replay.get_epsilon(delta=dp.target_delta))


def test_given_scm_costs_nothing_and_epsilon_is_the_accountants(world: Any) -> None:
    spec, scm, train, _ = world
    clf = _selective(spec, scm, train)
    rep = _audit(clf, world)
    expected = _replayed_epsilon(clf.estimator_)
    assert rep.metric("privacy.epsilon").value == pytest.approx(expected, rel=1e-12)
    assert rep.metric("privacy.epsilon_parts[model]").value == pytest.approx(expected, rel=1e-12)
    assert rep.metric("privacy.epsilon_parts[scm]").value == 0.0
    assert rep.metric("privacy.epsilon_parts[encoders]").value == 0.0
    assert any("user-supplied SCM" in n and "costs the training rows nothing" in n for n in rep.notes)
    # Nothing learned from the rows outside the accountant: unseen-category weights are uniform.
    for w in clf.design_.freq.values():
        np.testing.assert_array_equal(w, np.full(len(w), 1.0 / len(w)))


def test_scm_fitted_on_the_training_rows_makes_epsilon_nan(world: Any) -> None:
    spec, _, train, _ = world
    clf = _selective(spec, None, train)  # SCM.fit on the same rows, without DP
    rep = _audit(clf, world)
    assert math.isnan(rep.metric("privacy.epsilon").value)
    assert math.isnan(rep.metric("privacy.epsilon_parts[scm]").value)
    assert rep.metric("privacy.epsilon_parts[model]").value == pytest.approx(
        _replayed_epsilon(clf.estimator_), rel=1e-12
    )
    assert any(n.startswith("privacy.epsilon is NaN: scm learned from the training rows") for n in rep.notes)
    assert any("exceeds the spec's privacy budget" in n and "NaN" in n for n in rep.notes)


def test_scm_on_separate_rows_costs_the_training_rows_nothing(world: Any) -> None:
    spec, scm, train, _ = world
    other = scm.sample(1500, random_state=3)
    clf = _selective(spec, None, train, scm_data=other)
    parts = clf.privacy_epsilon_parts_
    assert parts["scm"][0] == 0.0
    assert "scm_data" in parts["scm"][1]
    assert compose_epsilon(parts) == clf.estimator_.privacy_epsilon_


def test_compose_epsilon_rules() -> None:
    # Basic composition: zero-cost parts add nothing; a non-private part is NaN; no DP at all is inf.
    assert compose_epsilon({"model": (0.5, ""), "scm": (0.0, ""), "encoders": (0.0, "")}) == 0.5
    assert compose_epsilon({"a": (0.25, ""), "b": (0.5, "")}) == 0.75
    assert math.isnan(compose_epsilon({"model": (0.5, ""), "scm": (math.nan, "")}))
    assert compose_epsilon({"model": (math.inf, ""), "scm": (math.nan, "")}) == math.inf


def test_bench_dp_pipeline_encoders_from_the_spec(world: Any) -> None:
    from causaltrust.bench._baselines import build_dp_lr

    spec, scm, train, _ = world
    model = build_dp_lr(spec, scm, {"epsilon": 1.0}, 0).fit(train[spec.features], train[spec.target])
    parts = model.privacy_epsilon_parts_
    assert parts["encoders"] == (0.0, "one-hot categories from the spec")
    rep = _audit(model, world)
    assert rep.metric("privacy.epsilon").value == _replayed_epsilon(model.steps[-1][1])
    # The same pipeline with categories learned from the rows is not private as a whole.
    model.steps[0][1].transformers_[0][1].set_params(categories="auto")
    assert math.isnan(compose_epsilon(model.privacy_epsilon_parts_))


def test_sensitive_input_noise_is_named_a_heuristic_and_buys_no_epsilon(world: Any) -> None:
    from causaltrust.bench import _baselines
    from causaltrust.learners import SelectiveInvarianceClassifier

    spec, scm, train, _ = world
    assert "sensitive_noise" not in SelectiveInvarianceClassifier().get_params()
    clf = SelectiveInvarianceClassifier(spec=spec, scm=scm, sensitive_input_noise=1.0, random_state=0)
    clf.fit(train[spec.features], train[spec.target])
    # The heuristic's noise is calibrated to nothing: the model part stays "no DP".
    assert clf.privacy_epsilon_parts_["model"] == (math.inf, "not trained with DP")
    label = next(m for m in _baselines._BASELINES if m.name == "selective_private")
    assert "ε covers every input and label" in label.description
    assert "not path-targeted" in label.invariance
