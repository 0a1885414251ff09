"""Berkeley admissions (Bickel et al. 1975): the decomposition against a hand computation from the 24 counts.

x0 = Male (baseline), x1 = Female; gender is a root, so by standardisation over departments
``E[Y_{x1, W_{x0}} | x0] = Σ_d P(d | male) P(admit | female, d)`` and ``E[Y_{x1} | x0] = P(admit | female)``:
ctf-DE = that sum - P(admit | male), ctf-IE = that sum - P(admit | female), ctf-SE = 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causaltrust as ct
from causaltrust.decompose._saturated import CellMeanClassifier, CellMeanRegressor

# (men applied, men admitted, women applied, women admitted) per department: Bickel et al. (1975).
BICKEL = {
    "A": (825, 512, 108, 89),
    "B": (560, 353, 25, 17),
    "C": (325, 120, 593, 202),
    "D": (417, 138, 375, 131),
    "E": (191, 53, 393, 94),
    "F": (373, 22, 341, 24),
}


def _hand() -> dict[str, float]:
    men = sum(v[0] for v in BICKEL.values())
    women = sum(v[2] for v in BICKEL.values())
    p_male = sum(v[1] for v in BICKEL.values()) / men
    p_female = sum(v[3] for v in BICKEL.values()) / women
    standardised = sum(v[0] / men * v[3] / v[2] for v in BICKEL.values())
    return {"tv": p_female - p_male, "de": standardised - p_male, "ie": standardised - p_female, "se": 0.0}


HAND = _hand()
SPEC = ct.datasets.spec("berkeley")


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return ct.datasets.load("berkeley")


def test_the_hand_computation_tells_simpsons_story() -> None:
    # Women are admitted less overall but more within the departments they applied to.
    assert HAND["tv"] == pytest.approx(-0.1416, abs=1e-4)
    assert HAND["de"] == pytest.approx(0.0710, abs=1e-4)
    assert HAND["ie"] == pytest.approx(0.2126, abs=1e-4)


@pytest.fixture(scope="module")
def plugin(data: pd.DataFrame) -> ct.DisparityDecomposition:
    # 40 refits (about 0.13 s of CPU each): enough for the interval widths to be compared with a reference
    # bootstrap (test_refit_intervals_match_a_bootstrap_of_the_hand_computation).
    return ct.decompose_disparity(SPEC, data=data, outcome="admitted", method="plugin", n_boot=40)


@pytest.mark.parametrize("method", ["plugin", "dr"])
def test_both_estimators_cover_the_hand_computation(
    data: pd.DataFrame, plugin: ct.DisparityDecomposition, method: str
) -> None:
    dec = plugin if method == "plugin" else ct.decompose_disparity(SPEC, data=data, outcome="admitted")
    for term, truth in HAND.items():
        est = getattr(dec, term)
        assert est.low <= truth <= est.high, (method, term, est, truth)


def test_plugin_points_are_the_standardisation(plugin: ct.DisparityDecomposition) -> None:
    dec = plugin
    # TV is the observed gap and DE a contrast of the saturated cell frequencies: exact.
    assert dec.tv.value == pytest.approx(HAND["tv"], abs=1e-12)
    assert dec.de.value == pytest.approx(HAND["de"], abs=1e-12)
    # IE and SE average 32 abduction draws of the department over 2,691 men: Monte-Carlo sd ≈ 0.001.
    assert dec.ie.value == pytest.approx(HAND["ie"], abs=0.005)
    assert dec.se.value == pytest.approx(0.0, abs=0.005)
    assert "refitted in every resample" in dec.interval


def _hand_bootstrap(n_boot: int, seed: int) -> dict[str, np.ndarray]:
    """TV, DE and IE by the hand standardisation in each of ``n_boot`` resamples of the 4,526 applicants.

    A resample of rows is a multinomial draw over the 24 (gender, department, admitted) cells.
    """
    a = np.array(list(BICKEL.values()), dtype=float)  # men applied, men admitted, women applied, admitted
    cells = np.concatenate([a[:, 1], a[:, 0] - a[:, 1], a[:, 3], a[:, 2] - a[:, 3]])
    c = np.random.default_rng(seed).multinomial(int(cells.sum()), cells / cells.sum(), size=n_boot)
    men_admitted, men = c[:, :6], c[:, :6] + c[:, 6:12]
    women_admitted, women = c[:, 12:18], c[:, 12:18] + c[:, 18:]
    p_male = men_admitted.sum(1) / men.sum(1)
    p_female = women_admitted.sum(1) / women.sum(1)
    standardised = (men / men.sum(1, keepdims=True) * women_admitted / women).sum(1)
    return {"tv": p_female - p_male, "de": standardised - p_male, "ie": standardised - p_female}


def test_refit_intervals_match_a_bootstrap_of_the_hand_computation(plugin: ct.DisparityDecomposition) -> None:
    # The saturated SCM refitted on a resample gives that resample's cell frequencies, so its TV, DE and IE
    # are the hand formulas on the resample: the reported percentile intervals must be as wide as those of
    # an independent bootstrap (20,000 resamples: its own percentiles are exact to < 1%). The widths of
    # 40-draw percentile intervals relative to the exact one, simulated from that same bootstrap, have
    # 0.01% and 99.99% quantiles 0.51 and 1.50; an SCM fitted once (no fitting error) gives 0.05 to 0.16.
    reference = _hand_bootstrap(20_000, seed=1)
    for term, draws in reference.items():
        lo, hi = np.percentile(draws, [2.5, 97.5])
        est = getattr(plugin, term)
        assert 0.5 < (est.high - est.low) / (hi - lo) < 1.6, (term, est, (lo, hi))
    # ctf-SE is 0 in every resample (gender is a root): only the abduction noise of IE / SE (Monte-Carlo sd
    # about 0.001, see test_plugin_points_are_the_standardisation) may widen its interval.
    assert -0.005 < plugin.se.low <= plugin.se.high < 0.005, plugin.se


def test_an_additive_scm_misses_the_interaction_with_a_narrow_interval(data: pd.DataFrame) -> None:
    # What the saturated default fixes: logistic admitted ~ gender + dept has no gender x dept term, and an
    # interval conditional on that SCM excludes the truth.
    scm = ct.SCM.fit(SPEC, data, mechanisms="linear", random_state=0)
    dec = ct.decompose_disparity(scm, data=data, outcome="admitted", method="plugin", n_boot=50)
    assert not dec.de.low <= HAND["de"] <= dec.de.high
    assert abs(dec.de.value - HAND["de"]) > 0.03


def test_cell_mean_estimators_match_groupby(data: pd.DataFrame) -> None:
    X = pd.get_dummies(data[["gender", "dept"]], dtype=float).to_numpy()
    y = data["admitted"].to_numpy()
    proba = CellMeanClassifier().fit(X, y).predict_proba(X)[:, 1]
    expected = data.groupby(["gender", "dept"])["admitted"].transform("mean").to_numpy()
    np.testing.assert_allclose(proba, expected, atol=1e-12)
    np.testing.assert_allclose(CellMeanRegressor().fit(X, y).predict(X), expected, atol=1e-12)
    # An unseen cell gets the pooled rate.
    assert CellMeanClassifier().fit(X, y).predict_proba(np.full((1, X.shape[1]), 7.0))[0, 1] == pytest.approx(
        y.mean()
    )
