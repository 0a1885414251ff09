"""A linear-Gaussian SCM fitted under DP from noisy sufficient statistics; ε of the whole pipeline (issue 33).

Ground truth: readmission's equations (L = 1.0 A - 0.4 F + N, X = L + 0.8 (E == 1) - 0.5 (E == 2)) and an
independent accountant (a fresh Opacus RDP accountant replaying every mechanism, and the closed form
α / (2σ²) of a full-batch Gaussian release converted by hand).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

import causaltrust as ct
from causaltrust.exceptions import DataError, SpecError
from causaltrust.scm import DPLinearFit

pytest.importorskip("opacus")
pytestmark = [
    pytest.mark.filterwarnings("ignore:Optimal order is the (largest|smallest) alpha"),
    pytest.mark.filterwarnings("ignore:DPLinearFit. the DP noise is seeded"),
]
BOUNDS = {"F": (-4.0, 4.0), "X": (-6.0, 8.0)}  # public: about 4.5 sd around each mean of the scenario


@pytest.fixture(scope="module")
def world() -> tuple[Any, Any]:
    return ct.scenarios.load("readmission")


def _hand_epsilon(rdp: np.ndarray, alphas: np.ndarray, delta: float) -> float:
    # RDP -> (ε, δ) of Balle et al. 2020 (Opacus's conversion), written out: the best order wins.
    eps = rdp - (np.log(delta) + np.log(alphas)) / (alphas - 1) + np.log((alphas - 1) / alphas)
    return float(np.nanmin(eps))


def test_the_scms_epsilon_is_the_gaussian_mechanisms_closed_form(world: Any) -> None:
    from opacus.accountants import RDPAccountant

    spec, true = world
    fit = DPLinearFit(epsilon=0.5, bounds=BOUNDS, dp_noise_seed=0)
    scm = fit.fit_private(spec, true.sample(500, random_state=0))
    dp = scm.provenance["dp"]
    # A, E, F, Z, L (with its measurement X), Y: six releases
    assert sorted(dp["releases"]) == ["A", "E", "F", "L", "Y", "Z"]
    alphas = np.asarray([*RDPAccountant.DEFAULT_ALPHAS, 128, 256, 512, 1024, 2048, 4096], dtype=float)
    sigma = dp["noise_multiplier"]
    hand = _hand_epsilon(6 * alphas / (2 * sigma**2), alphas, 1e-5)
    assert dp["epsilon"] == pytest.approx(hand, rel=1e-9)
    assert dp["epsilon"] == pytest.approx(0.5, abs=1e-6)  # calibrated to the target
    # a small ε needs orders above Opacus's 63: reachable, and calibrated the same way
    small = DPLinearFit(epsilon=0.1, bounds=BOUNDS, dp_noise_seed=0).fit_private(
        spec, true.sample(200, random_state=0)
    )
    assert small.provenance["dp"]["epsilon"] == pytest.approx(0.1, abs=1e-6)


def _hand_sigma(epsilon: float, delta: float, releases: int) -> float:
    # σ at which `releases` full-batch Gaussian mechanisms (RDP α / (2σ²) each, Mironov 2017) compose to
    # epsilon at delta, by bisection on the hand conversion above; the orders are Opacus's DEFAULT_ALPHAS
    # (1.1 ... 10.9, 12 ... 63) and the library's larger ones, written out here.
    orders = [1 + x / 10 for x in range(1, 100)] + [*range(12, 64)] + [2.0**k for k in range(7, 13)]
    alphas = np.asarray(orders, dtype=float)
    lo, hi = 1e-2, 1e3
    for _ in range(100):
        mid = math.sqrt(lo * hi)
        spent = _hand_epsilon(releases * alphas / (2 * mid**2), alphas, delta)
        lo, hi = (mid, hi) if spent > epsilon else (lo, mid)
    return hi


def test_the_released_noise_is_sigma_times_each_releases_sensitivity() -> None:
    # Fixed rows, 200 noise seeds: every release's noise, recovered from the fitted SCM, must have sd σΔ with
    # σ from the target ε (bisected by hand) and Δ from the bound on one row's contribution:
    #   E, a categorical root: a histogram, one row moves one count by 1, Δ = 1;
    #   F and Y, roots: z = [1, y] with |y| <= 1, ||z z'||_F = ||z||² <= 2, Δ = 2;
    #   X with parents F (rescaled, clipped to [-1, 1]) and E (one-hot without level 0, norm <= 1):
    #   z = [1, F', (E==1), (E==2), X'], ||z||² <= 1 + 1 + 1 + 1 = 4 = 2 + |parents|.
    spec = ct.load_spec({
        "name": "dp_noise", "target": "Y", "features": ["E", "F", "X"],
        "variables": {
            "E": {"type": "categorical", "categories": [0, 1, 2], "equation": "categorical([0.3, 0.3, 0.4])"},
            "F": {"type": "continuous", "equation": "normal(0, 1)"},
            "X": {"type": "continuous", "equation": "0.5*F + 0.3*(E == 1) + normal(0, 1)"},
            "Y": {"type": "binary", "role": "target", "equation": "bernoulli(0.5)"},
        },
    })  # fmt: skip
    # Rows chosen so that each released statistic is its noise alone (to first order): E's three counts equal,
    # F symmetric about the middle of its bounds (sum of F' = 0), X at the middle of its bounds (X' = 0, so
    # every X-column entry of X's statistic is pure noise), Y half ones.
    n, m, k = 6000, 200, 3
    E = np.repeat([0, 1, 2], n // k)
    F = np.tile(np.linspace(-3.5, 3.5, n // k), k)
    data = pd.DataFrame({"E": E, "F": F, "X": np.zeros(n), "Y": np.tile([0, 1], n // 2)})
    bounds = {"F": (-4.0, 4.0), "X": (-5.0, 5.0)}  # F' = F / 4, X' = X / 5
    sigma = _hand_sigma(1.0, 1e-5, releases=4)
    delta = {"E": 1.0, "F": 2.0, "X": 4.0, "Y": 2.0}
    assert DPLinearFit(epsilon=1.0, bounds=bounds).releases(spec) == delta
    Z = np.column_stack([np.ones(n), F / 4.0, E == 1, E == 2]).astype(float)  # X's design, by hand
    G = Z.T @ Z
    # X's coefficients are solved from the noisy Gram matrix G + N: G β = (noise of Σ z X') - N β, and N β
    # adds at most d (σΔ)² / λ_min(G)² = 1.5% to the variance here (0.7% in sd); G's smallest eigenvalue is
    # also far above the noise's spectral scale 2σΔ√d, so no eigenvalue floor acts.
    assert np.linalg.eigvalsh(G).min() > 4 * 2 * sigma * delta["X"] * math.sqrt(len(G))
    env = {"E": E, "F": F}
    noise: dict[str, list[np.ndarray]] = {v: [] for v in delta}
    for seed in range(m):
        scm = DPLinearFit(epsilon=1.0, bounds=bounds, dp_noise_seed=seed).fit_private(spec, data)
        assert scm.provenance["dp"]["noise_multiplier"] == pytest.approx(sigma, rel=1e-6)
        mech: Any = scm.mechanisms
        # p_k - 1/3 = (e_k - mean e) / (n + sum e): n (p_k - 1/3) is e_k - mean e, whose sum of squares
        # over the three levels is (σΔ)² times a chi-square with 2 degrees of freedom.
        noise["E"].append(n * (mech["E"].probs({}, 1)[0] - 1 / k))
        # F's mean in [-1, 1] units is (0 + e) / (n + e'): n times it is e.
        noise["F"].append(np.array([n * float(mech["F"].h({})) / 4.0]))
        # G β = noise of [Σ X', Σ F'X', Σ (E==1)X', Σ (E==2)X'] with β read off X's fitted mean on the rows.
        noise["X"].append(Z.T @ (np.asarray(mech["X"].h(env)) / 5.0))
        # Y's share is (n/2 + e) / (n + e'): n (p - 1/2) = e - e'/2, sd σΔ sqrt(5/4).
        noise["Y"].append(np.array([n * (float(mech["Y"].p({})) - 0.5) / math.sqrt(1.25)]))
    for v, d in delta.items():
        draws = np.asarray(noise[v])
        dof = draws.size - (m if v == "E" else 0)  # E's three centred counts sum to 0: 2 dof per seed
        rms = math.sqrt(float((draws**2).sum()) / dof)
        # The root mean square of `dof` N(0, s²) draws has sd s / sqrt(2 dof): 5.0% for F and Y (200 draws),
        # 3.5% for E (400), 2.5% for X (800). 4 sd of it plus 1% for the first-order terms above.
        tol = 4.0 / math.sqrt(2 * dof) + 0.01
        assert rms / (sigma * d) == pytest.approx(1.0, abs=tol), v


def test_dp_scm_recovers_the_equations_at_large_epsilon(world: Any) -> None:
    spec, true = world
    scm = DPLinearFit(epsilon=50.0, bounds=BOUNDS, dp_noise_seed=1).fit_private(
        spec, true.sample(20_000, random_state=0)
    )
    # The slope of L on A has a sampling sd of about 1 / sqrt(20,000 x 0.24) = 0.014 and the DP noise adds
    # less (σ = 0.4, Δ = 5, over 20,000 rows); 0.08 is over 4 sd of both together.
    d = scm.sample(1, random_state=0)
    env = {"A": np.array([0.0, 1.0, 0.0]), "F": np.array([0.0, 0.0, 1.0])}
    h = scm.mechanisms["L"].h(env)  # type: ignore[attr-defined]
    assert h[1] - h[0] == pytest.approx(1.0, abs=0.08)
    assert h[2] - h[0] == pytest.approx(-0.4, abs=0.08)
    offsets = scm.mechanisms["X"].offsets["E"]  # type: ignore[attr-defined]
    np.testing.assert_allclose(offsets, [0.0, 0.8, -0.5], atol=0.08)
    assert set(d.columns) == set(spec.variables)


def test_noise_is_secret_by_default(world: Any) -> None:
    spec, true = world
    data = true.sample(500, random_state=0)
    a, b = (DPLinearFit(epsilon=1.0, bounds=BOUNDS).fit_private(spec, data) for _ in range(2))
    assert not np.array_equal(a.mechanisms["X"].offsets["E"], b.mechanisms["X"].offsets["E"])  # type: ignore[attr-defined]
    with pytest.warns(UserWarning, match="holds only if that seed is secret"):
        c = DPLinearFit(epsilon=1.0, bounds=BOUNDS, dp_noise_seed=3).fit_private(spec, data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = DPLinearFit(epsilon=1.0, bounds=BOUNDS, dp_noise_seed=3).fit_private(spec, data)
    np.testing.assert_array_equal(c.mechanisms["X"].offsets["E"], d.mechanisms["X"].offsets["E"])  # type: ignore[attr-defined]


def test_bad_input_names_the_variable_and_the_fix(world: Any) -> None:
    spec, true = world
    data = true.sample(100, random_state=0)
    with pytest.raises(DataError, match=r"'X'.*public finite"):
        DPLinearFit(bounds={"F": (-4.0, 4.0)}).fit_private(spec, data)
    lending, lending_scm = ct.scenarios.load("lending")
    with pytest.raises(SpecError, match="'zip' is categorical with parents"):
        DPLinearFit(bounds={}).fit_private(lending, lending_scm.sample(100, random_state=0))
    with pytest.raises(DataError, match="epsilon must be a positive finite"):
        DPLinearFit(epsilon=0.0, bounds=BOUNDS).fit_private(spec, data)


def test_whole_pipeline_epsilon_is_one_rdp_accountant_over_every_mechanism(world: Any) -> None:
    pytest.importorskip("torch")
    from opacus.accountants import RDPAccountant

    from causaltrust.learners import DPLogisticRegression, SelectiveInvarianceClassifier

    spec, true = world
    train, test = true.sample(1500, random_state=1), true.sample(400, random_state=2)
    clf = SelectiveInvarianceClassifier(
        spec=spec, scm=DPLinearFit(epsilon=0.5, bounds=BOUNDS, dp_noise_seed=0),
        estimator=DPLogisticRegression(epochs=2, dp_noise_seed=0), n_draws=1, random_state=0,
    ).fit(train[spec.features], train[spec.target])  # fmt: skip
    rep = ct.audit(clf, spec=spec, scm=true, data=test, objectives=["privacy"], n_shadow=0, n_bootstrap=5)
    dp, est = clf.scm_.provenance["dp"], clf.estimator_
    replay = RDPAccountant()
    replay.history = [(est.noise_multiplier_, est.sample_rate_, est.n_steps_)] + [
        (dp["noise_multiplier"], 1.0, 1)
    ] * len(dp["releases"])
    alphas = [*RDPAccountant.DEFAULT_ALPHAS, 128, 256, 512, 1024, 2048, 4096]  # the library's orders
    expected = replay.get_privacy_spent(delta=est.target_delta, alphas=alphas)[0]
    eps = rep.metric("privacy.epsilon").value
    assert math.isfinite(eps)
    assert eps == pytest.approx(expected, rel=1e-12)
    parts = {k: rep.metric(f"privacy.epsilon_parts[{k}]").value for k in ("model", "scm", "encoders")}
    assert parts["scm"] == pytest.approx(dp["epsilon"], rel=1e-12)
    assert parts["encoders"] == 0.0
    # One accountant is tighter than adding the parts, and no part alone covers the whole.
    assert max(parts.values()) < eps < parts["model"] + parts["scm"]


def test_a_dp_scm_saves_and_loads_without_pickle(world: Any, tmp_path: Any) -> None:
    spec, true = world
    scm = DPLinearFit(epsilon=1.0, bounds=BOUNDS, dp_noise_seed=0).fit_private(
        spec, true.sample(500, random_state=0)
    )
    scm.save(tmp_path / "dp.npz")
    back = ct.SCM.load(tmp_path / "dp.npz")
    a, b = scm.sample(300, random_state=4), back.sample(300, random_state=4)
    assert a.equals(b)
    assert back.provenance["dp"]["epsilon"] == scm.provenance["dp"]["epsilon"]
