"""The shadow membership attack's power at its default settings (issue 33, item 4): what it detects.

500 members and 500 non-members: under the null (no leakage) the AUC's standard deviation is
sqrt((n1 + n2 + 1) / (12 n1 n2)) = 0.018, so 4 sd is 0.073. At 1% FPR only ~5 non-members lie above the
threshold, so TPR there is coarse; the issue's bar (TPR >= 0.10 for a memorising model) is recorded as a
strict xfail: the default 8 shadows do not reach it (measured 0.04 for a full tree, 0.06 for 1-NN; 64
shadows: 0.05 and 0.11, benchmarks/RESULTS.md "Issue 33"). Day 2 measured why (RESULTS.md "Issue 33: day
2", benchmarks/mia_variants.py): the tree's outputs are binary, so members tie with correctly predicted
non-members and no likelihood-ratio variant (global, shrunk per-example, offline, empirical) nor 64 shadows
lifts TPR at 1% FPR above ~0.05; the bar stays an honest xfail.
"""

from __future__ import annotations

from typing import Any

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

import causaltrust as ct

N = 500
NULL_TOL = 0.073  # 4 null sd of the AUC at 500 + 500 points


@pytest.fixture(scope="module")
def world() -> tuple[Any, Any, Any, Any]:
    spec, scm = ct.scenarios.load("readmission")
    return spec, scm, scm.sample(N, random_state=1), scm.sample(N, random_state=2)


def _attack(model: Any, world: Any) -> dict[str, float]:
    spec, scm, train, test = world
    model.fit(train[spec.features], train[spec.target])
    rep = ct.audit(
        model, spec=spec, scm=scm, data=test, train_data=train, objectives=["privacy"], n_bootstrap=20,
        random_state=0,
    )  # fmt: skip
    return {k: rep.metric(k).value for k in ("privacy.mia_auc", "privacy.mia_tpr_at_1pct_fpr")}


@pytest.mark.parametrize(
    "model", [DecisionTreeClassifier(random_state=0), KNeighborsClassifier(1)], ids=["full_tree", "1nn"]
)
def test_memorising_models_are_detected(model: Any, world: Any) -> None:
    # A full tree and 1-NN reproduce their training labels exactly: the attack must separate members.
    assert _attack(model, world)["privacy.mia_auc"] > 0.5 + 2 * NULL_TOL


def test_regularised_logistic_regression_stays_at_chance(world: Any) -> None:
    out = _attack(LogisticRegression(C=0.1, max_iter=1000), world)
    assert abs(out["privacy.mia_auc"] - 0.5) < NULL_TOL
    assert out["privacy.mia_tpr_at_1pct_fpr"] < 0.05  # ~5 expected false positives per 500 at 1% FPR


@pytest.mark.xfail(
    strict=True,
    reason="issue 33 item 4: a full tree's outputs are binary (members tie with correctly predicted "
    "non-members): TPR at 1% FPR ~0.04 with 8-64 shadows and four likelihood-ratio variants",
)
def test_memorising_tree_detected_at_one_percent_fpr(world: Any) -> None:
    assert _attack(DecisionTreeClassifier(random_state=0), world)["privacy.mia_tpr_at_1pct_fpr"] >= 0.10
