"""Built-in scenarios: they load, simulate, decompose, and their path semantics match closed computations."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit, softmax

import causaltrust as ct

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["credit_limit", "hiring", "lending", "readmission"]


def test_available_lists_the_three() -> None:
    assert ct.scenarios.available() == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_examples_copy_is_byte_identical(name: str) -> None:
    packaged = Path(ct.scenarios.path(name)).read_bytes()
    assert (ROOT / "examples" / f"{name}.yaml").read_bytes() == packaged


@pytest.mark.parametrize("name", NAMES)
def test_loads_and_samples_declared_values(name: str) -> None:
    spec, scm = ct.scenarios.load(name)
    assert spec.name == name
    df = scm.sample(10_000, random_state=0)
    assert list(df.columns) == list(spec.variables)
    assert len(df) == 10_000
    assert not df.isna().any().any()
    for var, vs in spec.variables.items():
        values = set(df[var].unique())
        if vs.type == "categorical":
            assert values == set(vs.categories or ()), var  # every category is drawn at n = 10k
        elif vs.type == "binary":
            assert values == {0, 1}, var
    for shift in spec.shifts:
        shifted = scm.shift(shift).sample(1_000, random_state=0)
        cats = spec.shift_categories(shift)
        for var, allowed in cats.items():
            assert set(shifted[var].unique()) <= set(allowed), (shift, var)


@pytest.mark.parametrize("name", NAMES)
def test_latents_are_identified(name: str) -> None:
    """Counterfactuals on observed data work, so every latent is recovered from its measurement."""
    spec, scm = ct.scenarios.load(name)
    df = scm.sample(500, random_state=1)
    observed = df[spec.observed]
    if spec.protected is None:
        pytest.skip("no protected attribute")
    baseline = spec.fairness.baseline if spec.fairness else 0
    cf = scm.counterfactual(observed, do={spec.protected: baseline}, random_state=0)
    assert (cf[spec.protected] == baseline).all()
    # Recovering the latent exactly: with the factual do (the unit's own value) nothing changes.
    same = scm.counterfactual(observed, do={spec.protected: observed[spec.protected]}, random_state=0)
    for col in spec.observed:
        if df[col].dtype.kind == "f":
            np.testing.assert_allclose(same[col].to_numpy(), observed[col].to_numpy(), atol=1e-9)
        else:
            assert (same[col] == observed[col]).all(), col


@pytest.mark.parametrize("name", NAMES)
def test_decomposition_totals_match_interventional_sampling(name: str) -> None:
    # Independent of the path engine: E[Y | do(source = level)] - E[Y | do(source = baseline)] from plain
    # interventional samples (their own seeds), against each group's total effect.
    spec, scm = ct.scenarios.load(name)
    n, m = 20_000, 40_000
    dec = ct.decompose_effects(scm, n=n, random_state=0)
    totals = [e for e in dec.effects if e.name.endswith(".total")]
    assert totals
    for e in totals:
        assert e.low <= e.estimate <= e.high
        label = e.name[: -len(".total")]
        var = label.split("[", 1)[0]
        meta = scm.meta[var]
        if "[" in label:
            raw = label[len(var) + 1 : -1]
            level = next(c for c in meta.categories if str(c) == raw)
        else:
            level = None
        if spec.fairness is not None and var == spec.fairness.protected:
            base = spec.fairness.baseline
        else:
            base = meta.categories[0] if meta.vtype == "categorical" else 0
        if level is None:
            level = 1 - int(base)
        y1 = scm.sample(m, do={var: level}, random_state=11)[dec.target].to_numpy(dtype=float)
        y0 = scm.sample(m, do={var: base}, random_state=12)[dec.target].to_numpy(dtype=float)
        truth = y1.mean() - y0.mean()
        se_truth = np.sqrt(y1.var() / m + y0.var() / m)
        se_engine = (e.high - e.low) / (2 * 1.959963984540054)
        assert abs(e.estimate - truth) < 5 * math.hypot(se_truth, se_engine), (e.name, e.estimate, truth)


# -- hiring: per-path semantics against an independent simulation -------------------------------------
def _hiring_world(n: int, seed: int) -> dict[str, np.ndarray]:
    """P(Y=1) of each unit in five worlds, re-implementing hiring.yaml's equations in NumPy.

    G is 0 for everybody except along the activated paths; units share their noise across worlds.
    """
    rng = np.random.default_rng(seed)
    u_p = rng.uniform(size=n)
    e_m = rng.normal(0, 1.5, size=n)
    c = 2 + rng.normal(size=n)
    k = 0.5 * np.tanh(c - 2) + rng.normal(size=n)
    o = rng.choice(3, p=[0.5, 0.3, 0.2], size=n)

    def part_time(g: int) -> np.ndarray:
        return (u_p < expit(-1.5 + 1.6 * g)).astype(float)

    def experience(g: int, p: np.ndarray) -> np.ndarray:
        return 5 + 1.5 * g - 2.5 * p + e_m

    def hired(m: np.ndarray, g: int, p: np.ndarray) -> np.ndarray:
        z = (
            -0.8 + 2.0 * np.tanh(0.4 * (m - 5)) + 1.0 * k - 0.6 * g - 0.5 * p - 0.6 * g * p
            + 0.5 * (o == 1) + np.where(o == 2, 0.6 * k, 0)
        )  # fmt: skip
        return expit(z)

    p0, p1 = part_time(0), part_time(1)
    base = hired(experience(0, p0), 0, p0)
    return {
        "fair": hired(experience(1, p0), 0, p0) - base,  # G -> M -> Y only: M sees G=1, P stays at P(G=0)
        "via_P": hired(experience(0, p1), 0, p1) - base,  # [G, P]: P switches, M gets G=0 and the new P
        "direct": hired(experience(0, p0), 1, p0) - base,  # G -> Y only
        "unfair": hired(experience(0, p1), 1, p1) - base,  # G -> Y and [G, P]: M keeps G=0's direct input
        "total": hired(experience(1, p1), 1, p1) - base,
    }


def _close(engine: tuple[float, float, float], truth: np.ndarray) -> None:
    est, low, high = engine
    se_engine = (high - low) / (2 * 1.959963984540054)
    se_truth = truth.std(ddof=1) / np.sqrt(len(truth))
    tol = 5 * math.hypot(se_engine, se_truth)
    assert abs(est - truth.mean()) < tol, (est, truth.mean(), tol)


def test_hiring_mediator_on_fair_and_unfair_paths() -> None:
    spec, scm = ct.scenarios.load("hiring")
    assert spec.fair_paths() == [("G", "M", "Y")]
    unfair_full = set(spec.expand_paths(spec.unfair_paths()))
    assert ("G", "P", "M", "Y") in unfair_full  # M lies on an unfair path as well
    n = 200_000
    truth = _hiring_world(n, seed=123)
    fair = ct.path_effect(scm, source="G", paths=[("G", "M", "Y")], n=n, random_state=0, return_interval=True)
    via_p = ct.path_effect(scm, source="G", paths=[("G", "P")], n=n, random_state=0, return_interval=True)
    total = ct.path_effect(scm, source="G", n=n, random_state=0, return_interval=True)
    _close(fair, truth["fair"])
    _close(via_p, truth["via_P"])
    _close(total, truth["total"])
    # Opposite signs here: the fair path raises P(hired), the part-time path lowers it.
    assert fair[0] > 0.05
    assert via_p[0] < -0.05
    assert fair[2] < via_p[1] or via_p[2] < fair[1]  # intervals apart

    dec = ct.decompose_effects(scm, n=n, random_state=0)
    # Same units and seed: the decomposition's parts are exactly the single path-set effects.
    assert dec["G.fair"].estimate == pytest.approx(fair[0], abs=1e-12)
    assert dec["G.total"].estimate == pytest.approx(total[0], abs=1e-12)
    unfair = ct.path_effect(scm, source="G", paths=spec.unfair_paths(), n=n, random_state=0)
    assert dec["G.unfair"].estimate == pytest.approx(unfair, abs=1e-12)
    # The unfair part and the non-additive remainder against the NumPy re-implementation.
    _close((dec["G.unfair"].estimate, dec["G.unfair"].low, dec["G.unfair"].high), truth["unfair"])
    true_interaction = truth["total"] - truth["fair"] - truth["unfair"]
    inter = dec["G.interaction"]
    _close((inter.estimate, inter.low, inter.high), true_interaction)
    # Nonlinear Y: the interaction is real, not rounding.
    assert abs(true_interaction.mean()) > 0.01
    assert abs(inter.estimate) > 0.01


# -- lending: string categories ------------------------------------------------------------------------
def test_lending_string_protected_attribute_path_effect() -> None:
    spec, scm = ct.scenarios.load("lending")
    assert spec.variables["race"].categories == ("white", "black", "hispanic")
    assert spec.fairness is not None
    assert spec.fairness.baseline == "white"
    n = 200_000
    est, low, high = ct.path_effect(
        scm, source="race", value="black", baseline="white", paths=[["race", "zip"]], n=n, random_state=0,
        return_interval=True,
    )  # fmt: skip
    # Independent: only zip's distribution changes, so the effect is
    # sum_z (p_black(z) - p_white(z)) * E[f | z], everything else drawn for white applicants.
    rng = np.random.default_rng(7)
    income = 4.0 + rng.normal(size=n)
    savings = 0.5 + 0.4 * income + rng.normal(size=n)
    s = 0.5 * income + 0.4 * savings - 2.8 + rng.normal(size=n)
    branch = rng.choice(3, p=[0.45, 0.35, 0.2], size=n)
    p_white = softmax([0.5, -0.3, -0.5])
    p_black = softmax([0.5, 1.8 - 0.3, -0.5])
    zip_terms = [0.0, 0.6, 0.3]
    diffs = np.zeros(n)
    for z in range(3):
        f = expit(-1.2 - 1.1 * s - 0.15 * income - 0.25 * savings + zip_terms[z] + 0.7 * (branch == 2))
        diffs += (p_black[z] - p_white[z]) * f
    _close((est, low, high), diffs)
    assert est > 0.01

    dec = ct.decompose_effects(scm, n=20_000, random_state=0)
    names = [e.name for e in dec.effects]
    assert "race[black].unfair" in names
    assert "race[hispanic].fair" in names
    assert "branch[online].contextual" in names
    df = scm.sample(2_000, do={"race": "black"}, random_state=0)
    assert set(df["race"]) == {"black"}
    with pytest.raises(ct.CausalTrustError, match="not a category"):
        ct.path_effect(scm, source="race", value="purple", baseline="white", n=100, random_state=0)
