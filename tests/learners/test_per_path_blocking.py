"""Per-path blocking (issue 32): every unfair path of the selective learner blocked on its own, per unit.

The SCM has two unfair entries, the direct path A → Y and the mediated A → M (with M → L, so the entry
holds A → M → Ŷ and A → M → L → Ŷ), and one fair path A → L → Y. Ground truth is built by hand: each
unit's noises are recovered in closed form from the linear equations, and the inputs of each world (A
switched along one set of paths only) are rebuilt from them, without the library's path machinery.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.utils._param_validation import InvalidParameterError

import causaltrust as ct
from causaltrust.learners import SelectiveInvarianceClassifier, SelectiveInvarianceRegressor

N_TRAIN, N_TEST = 4_000, 2_000
EQUATIONS = {
    "A": ("binary", "bernoulli(0.5)"),
    "C": ("continuous", "normal(0, 1)"),
    "M": ("continuous", "1.0*A + 0.5*C + normal(0, 1)"),
    "L": ("continuous", "0.8*A + 0.6*M + 0.3*C + normal(0, 1)"),
}
BINARY_Y = "bernoulli(sigmoid(-0.5 + 0.7*A + 0.8*M + 0.6*L + 0.4*C))"
LINEAR_Y = "0.7*A + 0.8*M + 0.6*L + 0.4*C + normal(0, 1)"
ENTRIES = {"direct": [["A", "Y"]], "mediated": [["A", "M"]], "both": [["A", "Y"], ["A", "M"]]}


def _spec(y: str, unfair: list[list[str]], kind: str = "binary") -> ct.TrustSpec:
    variables = {v: {"type": t, "equation": eq} for v, (t, eq) in EQUATIONS.items()}
    variables["Y"] = {"type": kind, "equation": y}
    return ct.load_spec(
        {
            "target": "Y",
            "variables": variables,
            "fairness": {"protected": "A", "baseline": 0, "unfair_paths": unfair},
        }
    )


def _worlds(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Each unit's features with A = 1 along one path set and 0 elsewhere, by hand from the equations."""
    a, c, m, ell = (df[v].to_numpy(dtype=float) for v in ("A", "C", "M", "L"))
    u_m = m - 1.0 * a - 0.5 * c
    u_l = ell - 0.8 * a - 0.6 * m - 0.3 * c

    def world(direct: float, via_m: float, fair: float) -> pd.DataFrame:
        m_w = via_m + 0.5 * c + u_m
        return pd.DataFrame(
            {
                "A": np.full(len(df), int(direct)),
                "C": c,
                "M": m_w,
                "L": 0.8 * fair + 0.6 * m_w + 0.3 * c + u_l,
            },
            index=df.index,
        )

    return {
        "baseline": world(0, 0, 0),
        "direct": world(1, 0, 0),
        "mediated": world(0, 1, 0),  # A → M → Ŷ and A → M → L → Ŷ together: the entry [A, M]
        "both": world(1, 1, 0),
        "fair": world(0, 0, 1),
    }


@pytest.fixture(scope="module")
def classifier_world():
    spec = _spec(BINARY_Y, ENTRIES["both"])
    scm = ct.SCM.from_spec(spec)
    train, test = scm.sample(N_TRAIN, random_state=1), scm.sample(N_TEST, random_state=2)
    models = {
        mode: SelectiveInvarianceClassifier(spec=spec, scm=scm, fairness=mode, random_state=0).fit(
            train[spec.features], train["Y"]
        )
        for mode in ("block", "map")
    }
    return spec, scm, test, models


def _effects(model, test: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per unit: the prediction in each hand-built world minus the prediction in the baseline world."""
    w = _worlds(test)
    predict = model.predict_proba if hasattr(model, "predict_proba") else model.predict

    def score(df: pd.DataFrame) -> np.ndarray:
        out = predict(df[["A", "C", "M", "L"]])
        return out[:, 1] if out.ndim == 2 else out

    base = score(w["baseline"])
    return {k: score(v) - base for k, v in w.items() if k != "baseline"}


def test_block_is_the_default_and_its_plan_names_what_it_drops(classifier_world):
    spec, scm, _, models = classifier_world
    default = SelectiveInvarianceClassifier(spec=spec, scm=scm, random_state=0)
    assert default.fairness is None  # None means "block" when the spec has a fairness section
    clf = models["block"]
    assert clf.fairness_mode_ == "block"
    # A is read by the direct path and M is the head of the entry [A, M]: neither is an input; L moves with
    # M along that entry, so it is re-evaluated with its own noise; C is no descendant of A.
    assert clf.blocking_ == {"dropped": ["A", "M"], "replaced": ["L"]}
    assert clf.inputs_ == ["C", "L"]
    assert models["map"].inputs_ == ["A", "C", "M", "L"]


def test_every_unfair_path_is_blocked_per_unit_by_hand(classifier_world):
    """The blocked learner's inputs do not move along either unfair entry: its per-unit change is 0 up to
    floating point (no sampling error: continuous noise is abducted exactly), for each entry and for both."""
    _, _, test, models = classifier_world
    eff = _effects(models["block"], test)
    for path in ("direct", "mediated", "both"):
        assert np.abs(eff[path]).max() < 1e-9, path
    # The fair path A → L → Y reaches the prediction: L's replaced value moves by 0.8 (the A → L
    # coefficient) for every unit, and the learner reads L.
    assert eff["fair"].min() > 0.005
    feats = {k: models["block"].selective_features(v)["L"].to_numpy() for k, v in _worlds(test).items()}
    np.testing.assert_allclose(feats["fair"] - feats["baseline"], 0.8, atol=1e-9)
    np.testing.assert_allclose(feats["mediated"] - feats["baseline"], 0.0, atol=1e-9)


def test_the_cancelling_map_moves_along_each_path(classifier_world):
    """The old behaviour, kept as fairness="map": the sum of the unfair paths is 0 per unit (it undoes M's
    share by reading A), while the direct and the mediated entry alone move it in opposite directions."""
    _, _, test, models = classifier_world
    eff = _effects(models["map"], test)
    assert np.abs(eff["both"]).max() < 1e-9
    assert np.abs(eff["direct"]).mean() > 0.05
    assert np.abs(eff["mediated"]).mean() > 0.05
    assert np.all(np.sign(eff["direct"]) == -np.sign(eff["mediated"]))


@pytest.mark.parametrize("entry", ["direct", "mediated"])
def test_the_audit_agrees_per_path_and_per_unit(classifier_world, entry):
    """ct.audit with the spec's unfair paths narrowed to one entry: that entry's path-specific effect. The
    audit abducts the same (continuous, exact) noise, so the blocked learner's per-unit effect is 0 up to
    floating point, the map learner's is the hand-built one to the same precision."""
    _, scm, test, models = classifier_world
    narrowed = _spec(BINARY_Y, ENTRIES[entry])
    for mode in ("block", "map"):
        rep = ct.audit(
            models[mode], spec=narrowed, scm=scm, data=test, objectives=["fairness"], n_bootstrap=20
        )
        by_hand = _effects(models[mode], test)[entry]
        assert rep.metric("fairness.unfair_path_effect").value == pytest.approx(by_hand.mean(), abs=1e-9)
        assert rep.metric("fairness.unfair_path_effect_abs").value == pytest.approx(
            np.abs(by_hand).mean(), abs=1e-9
        )
    rep = ct.audit(
        models["block"], spec=narrowed, scm=scm, data=test, objectives=["fairness"], n_bootstrap=20
    )
    assert rep.metric("fairness.unfair_path_effect_abs").value < 1e-9


def test_the_fair_path_effect_is_preserved_in_closed_form():
    """Linear Y: the blocked regressor's inputs are C and L* = L - 0.6 M + const = 0.8 A + 0.3 C + U_L +
    const, and the fair-world target is Y* = 0.6 L* + 0.98 C + 1.16 U_M + U_Y + const with U_M independent
    of (C, L*). So the least-squares coefficient of L* is exactly 0.6 in the population and the fair path
    A → L → Ŷ moves every unit's prediction by 0.6 * 0.8 = 0.48, as A → L → Y moves Y. With 4,000 rows the
    coefficient's standard error is sd(1.16 U_M + U_Y) / (sd(L*) sqrt(n)) = 1.53 / (1.12 * 63) = 0.022:
    0.48 +- 5 SE * 0.8 = +-0.09 (a learner that drops L, or keeps only the part of L that M explains, fails).
    """
    spec = _spec(LINEAR_Y, ENTRIES["both"], kind="continuous")
    scm = ct.SCM.from_spec(spec)
    train, test = scm.sample(N_TRAIN, random_state=3), scm.sample(N_TEST, random_state=4)
    reg = SelectiveInvarianceRegressor(spec=spec, scm=scm, random_state=0).fit(
        train[spec.features], train["Y"]
    )
    eff = _effects(reg, test)
    for path in ("direct", "mediated", "both"):
        assert np.abs(eff[path]).max() < 1e-9, path
    np.testing.assert_allclose(eff["fair"], eff["fair"].mean(), atol=1e-9)  # the same for every unit
    assert eff["fair"].mean() == pytest.approx(0.48, abs=0.09)
    # The cancelling map: direct path alone = -(coefficient of M*) * 1, nonzero for every unit.
    cancel = SelectiveInvarianceRegressor(spec=spec, scm=scm, fairness="map", random_state=0)
    eff_map = _effects(cancel.fit(train[spec.features], train["Y"]), test)
    assert np.abs(eff_map["both"]).max() < 1e-9
    assert np.abs(eff_map["direct"]).min() > 0.3


def test_a_fitted_scm_blocks_too(classifier_world):
    """With an SCM learned from the training rows (linear mechanisms recovered up to sampling error) the
    blocking is still exact, as a property of the learner's own SCM: the hand-built worlds use the true
    coefficients, the learner its fitted ones, and the inputs it reads move together along an entry only
    when both agree. The fitted coefficients are within ~0.05 of the truth at 4,000 rows, so the per-unit
    effect is small but not 0: below 0.01 on average."""
    spec, scm, test, _ = classifier_world
    train = scm.sample(N_TRAIN, random_state=5)
    clf = SelectiveInvarianceClassifier(spec=spec, scm_mechanisms="linear", random_state=0)
    clf.fit(train[spec.features], train["Y"])
    eff = _effects(clf, test)
    for path in ("direct", "mediated", "both"):
        assert np.abs(eff[path]).mean() < 0.01, path
    assert np.abs(eff["direct"]).max() < 1e-9  # A is not read at all


def test_bad_fairness_setting_is_refused():
    spec = _spec(BINARY_Y, ENTRIES["both"])
    with pytest.raises(
        InvalidParameterError,
        match=r"The 'fairness' parameter of SelectiveInvarianceClassifier .* Got 'cancel'",
    ):
        SelectiveInvarianceClassifier(spec=spec, fairness="cancel").fit(
            pd.DataFrame({"A": [0, 1], "C": [0.0, 1.0], "M": [0.0, 1.0], "L": [0.0, 1.0]}), [0, 1]
        )
