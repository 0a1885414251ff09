"""``protected_input=False`` on V-REx and GroupDRO (issue 25): the baselines' graph-free route to fairness."""

from __future__ import annotations

import numpy as np
import pytest

import causaltrust as ct
from causaltrust.exceptions import BenchError


@pytest.fixture(scope="module")
def readmission():
    spec, scm = ct.scenarios.load("readmission")
    return spec, scm.sample(600, random_state=0), scm.sample(200, random_state=1)


def _fit(spec, train, name, **params):
    cell = ct.bench.plan("readmission", methods=[name], seeds=[0], grid={"epochs": [30], **params})[0]
    model = cell.method.build(spec, None, dict(cell.params), 0)
    return model.fit(train[spec.features], train[spec.target])


@pytest.mark.parametrize("name", ["vrex", "groupdro"])
def test_unaware_variant_never_reads_the_protected_attribute(readmission, name):
    """Every row's protected value set to each level in turn: the unaware model's probabilities are the
    same bytes; the default (aware) model's move, so the check can fail."""
    spec, train, test = readmission
    a = spec.protected
    levels = sorted(train[a].unique())
    assert len(levels) >= 2
    unaware = _fit(spec, train, name, protected_input=[False], groups=["environment_protected"])
    aware = _fit(spec, train, name, groups=["environment_protected"])
    assert a not in unaware.spec.features
    assert a in aware.spec.features
    # Both trained on environment × protected groups: the protected column still forms the groups.
    assert len(unaware.environments_) == len(aware.environments_) > train[spec.environment].nunique()
    X = test[spec.features]
    moved_u = [unaware.predict_proba(X.assign(**{a: v}))[:, 1] for v in levels]
    moved_a = [aware.predict_proba(X.assign(**{a: v}))[:, 1] for v in levels]
    for p in moved_u[1:]:
        np.testing.assert_array_equal(p, moved_u[0])
    assert max(np.abs(p - moved_a[0]).max() for p in moved_a[1:]) > 1e-3


def test_the_knob_is_checked():
    spec = ct.scenarios.load("readmission")[0]
    method = ct.bench.METHODS["vrex"]
    params = {**method.params, "protected_input": "no"}
    with pytest.raises(BenchError, match="protected_input: expected True or False"):
        method.build(spec, None, params, 0)
    bare = ct.load_spec(
        {
            "target": "Y",
            "features": ["E", "X"],
            "variables": {
                "E": {"type": "categorical", "role": "environment", "categories": [0, 1],
                      "equation": "categorical([0.5, 0.5])"},
                "X": {"type": "continuous", "equation": "1.0*(E == 1) + normal(0, 1)"},
                "Y": {"type": "binary", "role": "target", "equation": "bernoulli(sigmoid(X))"},
            },
            "robustness": {"environment": "E", "spurious_paths": [["E", "X"]]},
        }
    )  # fmt: skip
    with pytest.raises(BenchError, match="needs a spec with a protected attribute"):
        method.build(bare, None, {**method.params, "protected_input": False}, 0)
    # Only V-REx and GroupDRO take it.
    with pytest.raises(BenchError, match="no chosen method takes a parameter 'protected_input'"):
        ct.bench.plan("readmission", methods=["irm"], seeds=[0], grid={"protected_input": [False]})
