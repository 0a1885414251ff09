"""Per-unit invariance: posterior mean |Δ| per unit, against closed forms and an independent computation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

import causaltrust as ct
from causaltrust.audit import build_context
from causaltrust.audit._fairness import fairness_metrics
from causaltrust.testing import assert_invariant

N = 2_000
P0, P1 = float(expit(-0.5)), float(expit(1.0))  # P(Z = 1 | A = 0), P(Z = 1 | A = 1) in readmission


@pytest.fixture(scope="module")
def readmission():
    spec, scm = ct.scenarios.load("readmission")
    test = scm.sample(N, random_state=5).drop(columns="L")
    return spec, scm, test


def _fairness(model, spec, scm, test):
    ctx = build_context(model, spec=spec, scm=scm, data=test, random_state=0)
    return {m.name: m for m in fairness_metrics(ctx)}


def _sign_flip(median_f: float):
    # Uses A with a sign set by F (not a descendant of A): every unit moves by 0.8 when A flips, while
    # exactly half the units move up and half down, so every signed mean is 0.
    def model(df):
        return 0.5 + 0.4 * (2 * df["A"].to_numpy() - 1) * np.where(df["F"].to_numpy() > median_f, 1.0, -1.0)

    return model


def test_sign_flipping_model_has_zero_mean_but_every_unit_moves(readmission):
    spec, scm, test = readmission
    model = _sign_flip(float(np.median(test["F"])))
    m = _fairness(model, spec, scm, test)
    # Closed form: Δ = ±0.8 for every unit, the signs balanced exactly (N even, F continuous).
    assert abs(m["fairness.counterfactual_effect"].value) < 1e-12
    assert abs(m["fairness.unfair_path_effect"].value) < 1e-12
    for name in ("counterfactual_effect", "unfair_path_effect"):
        assert m[f"fairness.{name}_abs"].value == pytest.approx(0.8, abs=1e-12)
        assert m[f"fairness.{name}_p95"].value == pytest.approx(0.8, abs=1e-12)
    assert m["fairness.fair_path_effect_abs"].value == pytest.approx(0.0, abs=1e-12)


def test_thresholds_and_assert_invariant_judge_the_per_unit_form(readmission):
    spec, scm, test = readmission
    model = _sign_flip(float(np.median(test["F"])))
    d = spec.to_dict()
    d["thresholds"] = {
        "fairness.unfair_path_effect": {"max": 0.02},
        "fairness.unfair_path_effect_abs": {"max": 0.02},
        "fairness.counterfactual_effect_p95": {"max": 0.02},
    }
    spec2 = ct.load_spec(d)
    rep = ct.audit(model, spec=spec2, scm=scm, data=test, objectives=["fairness"], n_bootstrap=20)
    assert rep.metric("fairness.unfair_path_effect").passed is True  # the signed mean cancels
    assert rep.metric("fairness.unfair_path_effect_abs").passed is False
    assert rep.metric("fairness.counterfactual_effect_p95").passed is False
    with pytest.raises(AssertionError, match="counterfactual_effect_p95"):
        assert_invariant(model, spec, scm, objective="counterfactual_fairness", data=test, tol=0.1)
    blind = lambda df: 0.0 * df["F"].to_numpy() + 0.5  # noqa: E731
    assert_invariant(blind, spec, scm, objective="counterfactual_fairness", data=test, tol=1e-9)


def _mixed(df):
    # Linear in the features: Δ along every path = -0.4 (direct) + 0.2 * ΔX + 0.5 * (Z1 - Z0) with ΔX = 1,
    # so Δ is -0.2 or +0.3 depending on the unit's abducted Bernoulli noise of Z.
    return 0.5 * df["Z"].to_numpy() - 0.4 * df["A"].to_numpy() + 0.2 * df["X"].to_numpy()


def _expected_switch(a, z):
    """P(Z1 - Z0 = 1 | A = a, Z = z).

    U is uniform on [0, p_a) if z = 1 else on [p_a, 1), and Z1 - Z0 = 1[P0 <= U < P1].
    """
    p_f = np.where(a == 1, P1, P0)
    lo, hi = np.where(z == 1, 0.0, p_f), np.where(z == 1, p_f, 1.0)
    overlap = np.clip(np.minimum(hi, P1) - np.maximum(lo, P0), 0.0, None)
    return overlap / (hi - lo)


def test_exact_enumeration_matches_an_independent_computation(readmission):
    spec, scm, test = readmission
    m = _fairness(_mixed, spec, scm, test)
    q = _expected_switch(test["A"].to_numpy(), test["Z"].to_numpy())
    total = 0.2 * (1 - q) + 0.3 * q  # E|Δ| per unit, |Δ| taken per noise value
    unfair = 0.4 * (1 - q) + 0.1 * q  # Δ_unfair = -0.4 + 0.5 (Z1 - Z0): X keeps its A = 0 value
    assert m["fairness.counterfactual_effect_abs"].value == pytest.approx(total.mean(), abs=1e-9)
    assert m["fairness.counterfactual_effect_p95"].value == pytest.approx(np.quantile(total, 0.95), abs=1e-9)
    assert m["fairness.unfair_path_effect_abs"].value == pytest.approx(unfair.mean(), abs=1e-9)
    assert m["fairness.unfair_path_effect_p95"].value == pytest.approx(np.quantile(unfair, 0.95), abs=1e-9)
    assert m["fairness.fair_path_effect_abs"].value == pytest.approx(0.2, abs=1e-9)  # A→L→X: 0.2 * 1
    assert "exact" in m["fairness.counterfactual_effect_abs"].method
    # The signed mean differs from the per-unit form: -0.2 + 0.5 q on average.
    assert m["fairness.counterfactual_effect"].value == pytest.approx((-0.2 + 0.5 * q).mean(), abs=0.03)


def test_draws_converge_to_the_exact_value(readmission):
    spec, scm, test = readmission
    ctx = build_context(_mixed, spec=spec, scm=scm, data=test, random_state=0)
    w = ctx.worlds
    everything = w.full_paths("A", None)
    exact, how = w.unit_abs_effects("A", 1, 0, {"t": everything}, ctx.model.scores)
    sampled, how_k = w.unit_abs_effects("A", 1, 0, {"t": everything}, ctx.model.scores, draws=256)
    assert "exact" in how
    assert "256 abduction draws" in how_k
    # Per unit |Δ| is 0.2 or 0.3 per draw (sd <= 0.05), so the mean over 256 draws and N units has sd at
    # most 0.05 / sqrt(256 * N) ≈ 7e-5: 6e-4 is over 8 sd.
    assert sampled["t"].mean() == pytest.approx(exact["t"].mean(), abs=6e-4)
    # Unit by unit too: the draws are evaluated in blocks of units (N * 256 rows exceed CHUNK_ROWS), and each
    # unit's mean over 256 draws has sd <= 0.05 / 16 ≈ 0.003, so 0.02 is over 6 sd for the largest of N units.
    from causaltrust.audit._worlds import CHUNK_ROWS

    assert N * 256 > CHUNK_ROWS
    assert np.max(np.abs(sampled["t"] - exact["t"])) < 0.02


def test_spurious_path_effect_p95_against_closed_form(readmission):
    from causaltrust.audit._robustness import robustness_metrics, spurious_shifts

    spec, scm, test = readmission
    assert spurious_shifts(spec) == [
        "new_device"
    ]  # X: L + 0.8*(E==1) - 0.5*(E==2) -> L - 1.0*(E==1) + 1.2*(E==2)
    ctx = build_context(lambda df: 0.2 * df["X"].to_numpy(), spec=spec, scm=scm, data=test, random_state=0)
    m = {x.name: x for x in robustness_metrics(ctx)}
    e = test["E"].to_numpy()
    per_unit = 0.2 * np.select([e == 1, e == 2], [1.8, 1.7], 0.0)  # |Δf| = 0.2 |ΔX|, exact per unit
    assert m["robustness.spurious_path_effect"].value == pytest.approx(per_unit.mean(), abs=1e-9)
    assert m["robustness.spurious_path_effect_p95"].value == pytest.approx(
        np.quantile(per_unit, 0.95), abs=1e-9
    )
    assert "exact" in m["robustness.spurious_path_effect_p95"].method


def _notes(spec, scm, data):
    ctx = build_context(lambda df: df["X"].to_numpy(), spec=spec, scm=scm, data=data, random_state=0)
    fairness_metrics(ctx)
    return " ".join(ctx.notes)


def test_ctf_se_note_checks_the_root_assumption_against_the_data(readmission):
    spec, scm, test = readmission
    # Readmission simulates A independently of the other roots E and F: the assumption holds.
    note = _notes(spec, scm, test)
    assert "ctf_se is 0 only under the spec's assumption" in note
    assert "no association" in note
    # Data where A depends on E (older patients at hospital 2), audited with the spec that calls A a root.
    confounded = scm.intervene(equations={"A": "bernoulli(0.2 + 0.5*(E == 2))"}).sample(N, random_state=6)
    note = _notes(spec, scm, confounded.drop(columns="L"))
    assert "the data contradict it" in note
    assert "E (chi-square" in note
    assert "F (" not in note  # F is independent of A in both data sets


def test_categorical_descendants_fall_back_to_draws_and_say_so():
    spec, scm = ct.scenarios.load("lending")
    test = scm.sample(400, random_state=3)[[c for c in spec.observed if c in spec.variables]]

    def model(df):  # reads race directly: every unit moves by exactly 0.3 from white to black
        return 0.2 + 0.3 * (df["race"] == "black").to_numpy()

    m = _fairness(model, spec, scm, test)
    value = m["fairness.counterfactual_effect_abs[black]"]
    assert value.value == pytest.approx(0.3, abs=1e-12)
    assert m["fairness.counterfactual_effect_p95[hispanic]"].value == pytest.approx(0.0, abs=1e-12)
    assert "over 64 abduction draws" in value.method
    assert "Gumbel" in value.method


def test_exact_enumeration_in_unit_blocks_matches_the_closed_form_unit_by_unit(readmission, monkeypatch):
    # Memory bound (issue 30): the exact enumeration runs over blocks of units of at most CHUNK_ROWS cells.
    # Blocks of 111 units (333 cells: A has 3 noise cells per unit; the last block partial) must give every
    # unit its closed form.
    from causaltrust.audit import _worlds

    spec, scm, test = readmission
    monkeypatch.setattr(_worlds, "CHUNK_ROWS", 333)
    ctx = build_context(_mixed, spec=spec, scm=scm, data=test, random_state=0)
    w = ctx.worlds
    everything = w.full_paths("A", None)
    out, how = w.unit_abs_effects("A", 1, 0, {"t": everything}, ctx.model.scores)
    assert "exact: 3 noise cell combination(s)" in how
    q = _expected_switch(test["A"].to_numpy(), test["Z"].to_numpy())
    np.testing.assert_allclose(out["t"], 0.2 * (1 - q) + 0.3 * q, rtol=0, atol=1e-9)
