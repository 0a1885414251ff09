"""Issue 25's registrations: the bounded selective learner and the baselines' own grids reach the knobs."""

from __future__ import annotations

import causaltrust as ct
from causaltrust.bench._methods import resolve_params


def _build(name, **params):
    spec, scm = ct.scenarios.load("readmission")
    method = ct.bench.METHODS[name]
    return method.build(spec, scm if method.needs_scm == "true" else None, resolve_params(method, params), 3)


def test_selective_bounded_takes_its_gamma_grid():
    assert "selective_bounded" in ct.bench.causal_methods()
    est = _build("selective_bounded", shift_strength=2.5, fairness=False)
    assert (est.robustness, est.shift_strength, est.fairness, est.random_state) == ("bounded", 2.5, False, 3)
    assert ct.bench.METHODS["selective_bounded_fitted"].needs_scm == "fitted"


def test_baselines_grids_reach_their_knobs():
    irm = _build("irm", penalty=10.0, env_feature=True)
    assert (irm.lambda_, irm.use_environment_as_feature) == (10.0, True)
    dro = _build("groupdro", penalty=0.1)
    assert (dro.eta, dro.use_environment_as_feature) == (0.1, False)
    default = _build("vrex")
    assert default.lambda_ == ct.learners.VRExClassifier().lambda_  # penalty None: the class default
    anchor = _build("anchor", gamma=30.0, env_feature=True)
    assert (anchor.gamma, anchor.use_environment_as_feature) == (30.0, True)
    assert "anchor" not in ct.bench.causal_methods()
