"""A sweep's grid selects the selective learner's fairness mode: "block" (default), "map", or off."""

from __future__ import annotations

import pytest

import causaltrust as ct


@pytest.mark.parametrize(
    ("value", "expected"), [(True, True), ("block", "block"), ("map", "map"), (False, False)]
)
@pytest.mark.parametrize("name", ["selective", "selective_bounded"])
def test_grid_fairness_reaches_the_learner(name, value, expected):
    spec, scm = ct.scenarios.load("readmission")
    method = ct.bench.get_method(name)
    params = {**method.params, "fairness": value}
    model = method.build(spec, scm, params, 0)
    assert model.fairness == expected


def test_map_and_block_are_different_learners():
    """The grid's "map" builds the cancelling learner: sex stays an input; "block" drops it (direct path)."""
    spec, scm = ct.scenarios.load("readmission")
    train = scm.sample(400, random_state=0)
    method = ct.bench.get_method("selective")
    inputs = {}
    for mode in ("map", "block"):
        model = method.build(spec, scm, {**method.params, "fairness": mode}, 0)
        model.fit(train[spec.features], train[spec.target])
        inputs[mode] = set(model.inputs_)
    assert spec.fairness is not None
    assert spec.fairness.protected in inputs["map"]
    assert spec.fairness.protected not in inputs["block"]


@pytest.mark.parametrize(("scenario", "continuous"), [("readmission", False), ("credit_limit", True)])
def test_default_method_list_builds_on_the_scenarios_target(scenario, continuous):
    """`demo` / `bench` without -m run only methods that take the target (bgl needs a continuous one)."""
    from causaltrust.cli._app import _chosen_methods

    spec, scm = ct.scenarios.load(scenario)
    chosen = _chosen_methods(None, continuous)
    assert ("bgl" in chosen) is continuous
    for name in chosen:
        method = ct.bench.get_method(name)
        method.build(spec, scm if method.needs_scm == "true" else None, dict(method.params), 0)
