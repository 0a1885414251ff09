"""``group_by``: environment × protected groups for the baselines that see only group labels (issue 25)."""

from __future__ import annotations

import numpy as np
import pytest

import causaltrust as ct
from causaltrust.exceptions import BenchError, DataError
from causaltrust.learners import AnchorRegressor, GroupDROClassifier, IRMClassifier

# E and A both categorical parents of X and Y: the 2 × 2 groups differ in their mean residuals.
SPEC = {
    "target": "Y",
    "features": ["E", "A", "X"],
    "variables": {
        "E": {"type": "categorical", "role": "environment", "categories": [0, 1],
              "equation": "categorical([0.6, 0.4])"},
        "A": {"type": "binary", "role": "protected", "equation": "bernoulli(0.5)"},
        "X": {"type": "continuous", "equation": "1.0*(E == 1) - 0.8*A + 0.6*A*(E == 1) + normal(0, 1)"},
        "Y": {"type": "continuous", "role": "target", "equation": "X + 0.5*A*(E == 1) + normal(0, 1)"},
    },
    "fairness": {"protected": "A", "baseline": 0},
    "robustness": {"environment": "E", "spurious_paths": [["E", "X"]]},
}  # fmt: skip


@pytest.fixture(scope="module")
def rows():
    spec = ct.load_spec(SPEC)
    return spec, ct.SCM.from_spec(spec).sample(600, random_state=0)


def test_anchor_on_environment_x_protected_matches_the_normal_equations(rows):
    """An independent solve with the dense projection onto the four E × A cells' indicators."""
    spec, df = rows
    n, gamma = len(df), 7.0
    cell = (2 * df["E"].to_numpy() + df["A"].to_numpy()).astype(int)
    P = np.eye(4)[cell] @ np.linalg.solve(np.eye(4)[cell].T @ np.eye(4)[cell], np.eye(4)[cell].T)
    D = np.column_stack([np.ones(n), df["A"], df["X"]])  # inputs: A, X (the environment is not one)
    M = np.eye(n) - P + gamma * P
    theta = np.linalg.solve(D.T @ M @ D, D.T @ M @ df["Y"].to_numpy())
    reg = AnchorRegressor(spec=spec, gamma=gamma, group_by=["E", "A"]).fit(df[spec.features], df["Y"])
    np.testing.assert_allclose(reg.coef_, theta[1:], atol=1e-8)
    assert reg.intercept_ == pytest.approx(theta[0], abs=1e-8)
    # Anchoring on E alone is a different problem here (the A-by-E cells carry their own residual means).
    alone = AnchorRegressor(spec=spec, gamma=gamma).fit(df[spec.features], df["Y"])
    assert np.abs(alone.coef_ - reg.coef_).max() > 1e-3


BINARY_Y = {"type": "binary", "role": "target", "equation": "bernoulli(sigmoid(X + 0.5*A*(E == 1)))"}


@pytest.mark.parametrize("cls", [GroupDROClassifier, IRMClassifier])
def test_group_by_equals_passing_the_same_labels(cls):
    spec_b = ct.load_spec({**SPEC, "variables": {**SPEC["variables"], "Y": BINARY_Y}})
    data = ct.SCM.from_spec(spec_b).sample(600, random_state=1)
    X, y = data[spec_b.features], data["Y"]
    by = cls(spec=spec_b, epochs=30, random_state=0, group_by=["E", "A"]).fit(X, y)
    labels = np.array([f"e{e}a{a}" for e, a in zip(data["E"], data["A"], strict=True)])
    given = cls(spec=spec_b, epochs=30, random_state=0).fit(X, y, environments=labels)
    assert len(by.environments_) == 4
    np.testing.assert_allclose(by.predict_proba(X), given.predict_proba(X), atol=1e-12)


def test_bad_group_by_is_one_clean_error(rows):
    spec, df = rows
    with pytest.raises(DataError, match=r"group_by names \['B'\], which X lacks"):
        AnchorRegressor(spec=spec, group_by=["E", "B"]).fit(df[spec.features], df["Y"])


def test_bench_groups_knob():
    cells = ct.bench.plan(
        "readmission",
        methods=["groupdro"],
        seeds=[0],
        grid={"groups": ["environment", "environment_protected"]},
    )
    assert [c.params["groups"] for c in cells] == ["environment", "environment_protected"]
    spec = ct.scenarios.load("readmission")[0]
    model = cells[1].method.build(spec, None, dict(cells[1].params), 0)
    assert model.group_by == ["E", "A"]
    with pytest.raises(BenchError, match="groups: expected one of"):
        cells[0].method.build(spec, None, {**cells[0].params, "groups": "protected"}, 0)
