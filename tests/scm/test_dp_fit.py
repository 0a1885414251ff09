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
