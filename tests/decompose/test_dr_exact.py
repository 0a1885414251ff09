"""The doubly robust decomposition knows exact zeros, repeats cross-fitting, and reports poor overlap."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from sfm import A0, SPEC, if_sd, linear_nuisances, scores, terms, true_nuisances

import causaltrust as ct
from causaltrust.exceptions import DataError

N = 3_000


def _spec(a1: float) -> dict[str, object]:
    # The world of sfm.SPEC (Z confounds X, W mediates X -> Y) with confounding strength a1.
    spec = copy.deepcopy(SPEC)
    spec["variables"]["X"]["equation"] = f"bernoulli(sigmoid({A0} + {a1}*Z))"  # type: ignore[index]
    return spec


def _score_zw(x: float, z: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.asarray(expit(0.4 * z + 0.9 * w))  # a model's score: reads Z and W, never X


def _score_z(x: float, z: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.asarray(expit(1.2 * z)) + 0 * w  # reads Z only (0 * w: the shape of W for the quadrature)


@pytest.fixture(scope="module")
def world() -> pd.DataFrame:
    assert _spec(0.8) == SPEC  # sfm's truths (quadrature over Z | X) are for this world
    df = ct.SCM.from_spec(_spec(0.8)).sample(N, random_state=3)
    # Two "models" that never read X: one reads Z and W, one reads Z only (scores, not thresholded).
    df["score_zw"] = _score_zw(0, df.Z.to_numpy(), df.W.to_numpy())
    df["score_z"] = _score_z(0, df.Z.to_numpy(), df.W.to_numpy())
    return df


def _working_sd(df: pd.DataFrame, outcome: str, exact: set[str]) -> dict[str, float]:
    """Influence-function sd of the estimator learner="linear" runs: least-squares outcome models (fitted
    here with numpy), the true propensities, and the scores the exact zeros replace (s_de = Y at x0 when DE
    is exact, s_se = s_de when IE is)."""
    t, _, _, ez, ezw = true_nuisances(df)
    y = df[outcome].to_numpy(dtype=float)
    s_de, s_se = scores(t, y, *linear_nuisances(df, y), ez, ezw)
    if "de" in exact:
        s_de = (1 - t) * y
    if "ie" in exact:
        s_se = s_de
    return if_sd(t, y, s_de, s_se)


def test_model_that_does_not_read_the_protected_attribute_has_exactly_zero_direct_effect(world) -> None:
    dec = ct.decompose_disparity(
        _spec(0.8), data=world, outcome="score_zw", outcome_parents=["Z", "W"], learner="linear", n_boot=50
    )
    # Y = f(Z, W) with no X: Y_{x1, W_{x0}} = Y for every unit, so ctf-DE is 0 by the graph, not ~0.
    assert (dec.de.value, dec.de.low, dec.de.high) == (0.0, 0.0, 0.0)
    level = dec.levels[0]
    assert "does not read 'X'" in level.exact["de"]
    assert "ie" not in level.exact  # it reads the mediator W
    assert any(n.startswith("ctf-DE is exactly 0 by the graph") for n in dec.notes)
    tv = world.loc[world.X == 1, "score_zw"].mean() - world.loc[world.X == 0, "score_zw"].mean()
    assert dec.tv.value == pytest.approx(tv, abs=1e-12)
    # IE and SE are estimated: against the quadrature truth, within 4 sd / sqrt(n) of the estimator's own
    # influence function (fails a correct one with probability < 1e-4).
    truth = terms(_score_zw)
    assert truth["de"] == pytest.approx(0.0, abs=1e-12)
    assert min(abs(truth["ie"]), abs(truth["se"])) > 0.05  # neither passes by estimating 0
    sd = _working_sd(world, "score_zw", {"de"})
    for term in ("ie", "se"):
        assert abs(getattr(dec, term).value - truth[term]) < 4 * sd[term] / np.sqrt(N), (term, truth, sd)


def test_model_reading_only_confounders_has_zero_direct_and_indirect_effects(world) -> None:
    dec = ct.decompose_disparity(
        _spec(0.8), data=world, outcome="score_z", outcome_parents=["Z"], learner="linear", n_boot=50
    )
    assert dec.de.value == 0.0
    assert dec.ie.value == 0.0
    assert set(dec.levels[0].exact) == {"de", "ie"}
    frame = dec.to_frame().set_index("term")
    assert frame.loc["ie", "exact"].startswith("'score_z' reads no descendant of 'X'")
    # All of the disparity is spurious: ctf-SE = E[f(Z) | x0] - E[f(Z) | x1] by quadrature, within 4 sd of
    # the difference in means.
    truth = terms(_score_z)
    assert truth["se"] < -0.1
    sd = _working_sd(world, "score_z", {"de", "ie"})
    assert abs(dec.se.value - truth["se"]) < 4 * sd["se"] / np.sqrt(N), (dec.se, truth, sd)
    # Told that the score may read W too, the doubly robust estimate of ctf-IE is no longer fixed: it must
    # find the graph's 0 from the data (the linear outcome model of a logistic score is misspecified, the
    # propensities are not).
    loose = ct.decompose_disparity(
        _spec(0.8), data=world, outcome="score_z", outcome_parents=["Z", "W"], learner="linear", n_boot=50
    )
    assert "ie" not in loose.levels[0].exact
    sd = _working_sd(world, "score_z", {"de"})
    assert abs(loose.ie.value) < 4 * sd["ie"] / np.sqrt(N), (loose.ie, sd)
    assert abs(loose.se.value - truth["se"]) < 4 * sd["se"] / np.sqrt(N), (loose.se, truth, sd)


def test_median_over_splits_by_hand() -> None:
    from causaltrust.decompose._estimate import median_over_splits

    # Three splits, four terms. Term 1: median 0.13, se^2 + (p - 0.13)^2 = 0.0013, 0.0009, 0.0037 -> sd
    # sqrt(0.0013), wider than median(se) = 0.02 because the splits disagree. Term 0: the splits agree, so
    # sd = median(se) = 0.01. Term 2: median -0.05, 0.0004 + 0.0004, 0.0001 + 0, 0.0009 + 0.0004 -> sd
    # sqrt(0.0008), again more than median(se) = 0.02.
    # Term 3: one split far off (0.9) moves neither the median 0.2 nor, being one of three, the sd:
    # 0.0001 + 0, 0.0004 + 0.49, 0.0001 + 0.0001 -> sqrt(0.0002).
    points = np.array([[0.5, 0.10, -0.07, 0.2], [0.5, 0.13, -0.05, 0.9], [0.5, 0.19, -0.03, 0.19]])
    ses = np.array([[0.01, 0.02, 0.02, 0.01], [0.02, 0.03, 0.01, 0.02], [0.005, 0.01, 0.03, 0.01]])
    expected = [(0.5, 0.01), (0.13, np.sqrt(0.0013)), (-0.05, np.sqrt(0.0008)), (0.2, np.sqrt(0.0002))]
    for est, (theta, sd) in zip(median_over_splits(points, ses), expected, strict=True):
        assert est.value == pytest.approx(theta, abs=1e-15)
        assert (est.low, est.high) == pytest.approx((theta - 1.96 * sd, theta + 1.96 * sd), abs=1e-15)


def test_repeated_cross_fitting_medians_and_widens_with_the_split(world, monkeypatch) -> None:
    import causaltrust.decompose._api as api

    seen: list[tuple[np.ndarray, np.ndarray]] = []
    combine = api.median_over_splits

    def spy(points: np.ndarray, ses: np.ndarray) -> object:
        seen.append((points.copy(), ses.copy()))
        return combine(points, ses)

    monkeypatch.setattr(api, "median_over_splits", spy)
    one = ct.decompose_disparity(_spec(0.8), data=world, outcome="Y", learner="linear", n_boot=50)
    rep = ct.decompose_disparity(_spec(0.8), data=world, outcome="Y", learner="linear", n_boot=50, repeats=3)
    assert "median over 3 repeated 5-fold cross-fittings" in rep.interval
    assert rep.tv.value == pytest.approx(one.tv.value, abs=1e-12)  # group means do not depend on the split
    assert len(seen) == 1
    points, ses = seen[0]
    assert points.shape == ses.shape == (3, 4)
    assert np.all(points[:, 0] == points[0, 0])  # TV: the same in every split
    assert np.ptp(points[:, 1:], axis=0).min() > 0  # DE, IE, SE: the splits disagree: the split term counts
    # Each split's se is the sd of its estimate: within [0.6, 1.6] of the efficient sd / sqrt(n) (a 50-draw
    # bootstrap sd has a relative sd of 10%; the estimator is efficient with logistic nuisances).
    t, mu, m, ez, ezw = true_nuisances(world)
    y = world.Y.to_numpy(dtype=float)
    oracle = if_sd(t, y, *scores(t, y, mu, m, ez, ezw))
    for k, term in enumerate(("de", "ie", "se"), start=1):
        ratio = ses[:, k] / (oracle[term] / np.sqrt(N))
        assert np.all((ratio > 0.6) & (ratio < 1.6)), (term, ratio)
    # The reported terms are Chernozhukov et al.'s median and split-aware sd, computed here by hand.
    theta = np.median(points, axis=0)
    sd = np.sqrt(np.median(ses**2 + (points - theta) ** 2, axis=0))
    for k, term in enumerate(("tv", "de", "ie", "se")):
        e1, e3 = getattr(one, term), getattr(rep, term)
        assert e3.value == pytest.approx(theta[k], abs=1e-15)
        half = 1.96 * sd[k]
        assert (e3.low, e3.high) == pytest.approx((theta[k] - half, theta[k] + half), abs=1e-15)
        # Never narrower than the typical split's own interval.
        assert e3.high - e3.low >= 2 * 1.96 * np.median(ses[:, k]) - 1e-15
        # The split moves a DR estimate by far less than its sampling sd (~0.01 at n = 3,000).
        assert abs(e3.value - e1.value) < 0.01
    with pytest.raises(DataError, match="repeats must be a positive integer"):
        ct.decompose_disparity(_spec(0.8), data=world, outcome="Y", repeats=0)


def test_poor_overlap_reports_the_clipped_share_and_a_trimmed_estimate() -> None:
    # X almost determined by Z (slope 5): many propensities beyond 0.01 / 0.99.
    df = ct.SCM.from_spec(_spec(5.0)).sample(3_000, random_state=4)
    dec = ct.decompose_disparity(_spec(5.0), data=df, outcome="Y", learner="linear", n_boot=50)
    level = dec.levels[0]
    assert level.clipped > 0.05
    assert level.trimmed is not None
    assert 0 < level.n_trimmed < len(df)
    assert any("on the" in n and "units with propensities in [0.1, 0.9]" in n for n in dec.notes)
    assert {"trimmed", "trimmed_low", "trimmed_high", "clipped"} <= set(dec.to_frame().columns)
    mild = ct.SCM.from_spec(_spec(0.3)).sample(3_000, random_state=4)
    good = ct.decompose_disparity(_spec(0.3), data=mild, outcome="Y", learner="linear", n_boot=50)
    assert good.levels[0].clipped < level.clipped
