"""The shadow membership attack's power at its default settings (issue 33, item 4): what it detects.

500 members and 500 non-members: under the null (no leakage) the AUC's standard deviation is
sqrt((n1 + n2 + 1) / (12 n1 n2)) = 0.018, so 4 sd is 0.073. At 1% FPR only ~5 non-members lie above the
threshold, so TPR there is coarse. The issue's bar (TPR >= 0.10 for a memorising random forest at the
default 8 shadows) is met by the RMIA scorer (day 3, benchmarks/RESULTS.md "Issue 33: day 3"). A full
tree stays a strict xfail: its outputs are binary, so members tie with correctly predicted non-members and
no scorer lifts TPR at 1% FPR above ~0.05 (RESULTS.md "Issue 33: day 2").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

import causaltrust as ct
from causaltrust.audit.privacy import rmia_scores

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
    names = [m.name for m in rep.metrics if m.name.startswith("privacy.mia")]
    return {k: rep.metric(k).value for k in names}


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


def test_memorising_forest_detected_at_one_percent_fpr_with_default_shadows(world: Any) -> None:
    # The bar at the default 8 shadows. Measured (benchmarks/mia_power_cpu.py, 3 data seeds):
    # RMIA's TPR at 1% FPR on this forest is 0.26-0.40; 0.10 is 5 of 500 members above the ~5
    # non-members allowed, so the margin is several times the step of this coarse estimate.
    forest = RandomForestClassifier(100, min_samples_leaf=1, random_state=0)
    assert _attack(forest, world)["privacy.mia_tpr_at_1pct_fpr"] >= 0.10


def test_the_report_states_the_attacks_power(world: Any) -> None:
    # The canary is a memorising forest on the same rows: its TPR at 1% FPR must clear the same bar, and the
    # loss-threshold attack's advantage on it must be far from 0 (null sd of a difference of two shares
    # of 500 is about sqrt(2 * 0.25 / 500) = 0.032; 0.2 is over 6 sd).
    out = _attack(LogisticRegression(C=0.1, max_iter=1000), world)
    assert out["privacy.mia_power[mia_tpr_at_1pct_fpr]"] >= 0.10
    assert out["privacy.mia_power[mia_advantage]"] > 0.2


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,  # the bar is missed; an audit that crashes (any other error) is a failure
    reason="a full tree's outputs are binary (members tie with correctly predicted non-members): TPR at 1% "
    "FPR ~0.04 with 8-64 shadows under LiRA's variants and RMIA (benchmarks/mia_power_cpu.py)",
)
def test_memorising_tree_detected_at_one_percent_fpr(world: Any) -> None:
    assert _attack(DecisionTreeClassifier(random_state=0), world)["privacy.mia_tpr_at_1pct_fpr"] >= 0.10


def test_rmia_ranks_as_the_pairwise_score_against_a_population() -> None:
    # RMIA's score of x (Zarifzadeh et al. 2024): the share of population points z with
    # LR(x) / LR(z) >= 1, LR = p_target / mean_k p_shadow_k. Computed here pair by pair in a loop; the
    # audit's rmia_scores must order the points exactly as it does (so every ROC number is RMIA's).
    rng = np.random.default_rng(0)
    p_shadow, p_target = rng.uniform(0.05, 1.0, (8, 60)), rng.uniform(0.05, 1.0, 60)
    p_pop_shadow, p_pop_target = rng.uniform(0.05, 1.0, (8, 200)), rng.uniform(0.05, 1.0, 200)
    lr_pop = [p_pop_target[j] / p_pop_shadow[:, j].mean() for j in range(200)]
    pairwise = []
    for i in range(60):
        lr_x = p_target[i] / p_shadow[:, i].mean()
        pairwise.append(sum(lr_x / lr_z >= 1.0 for lr_z in lr_pop) / 200)
    ours = rmia_scores(p_shadow, p_target)
    i, j = np.triu_indices(60, 1)
    # wherever the pairwise score separates two points, the audit's score orders them the same way
    strict = np.asarray(pairwise)[i] != np.asarray(pairwise)[j]
    assert strict.sum() > 1000
    assert np.all(
        np.sign(ours[i] - ours[j])[strict]
        == np.sign(np.asarray(pairwise)[i] - np.asarray(pairwise)[j])[strict]
    )
