"""Non-negative, right-skewed nodes are fitted as additive noise on the log1p scale."""

from __future__ import annotations

import numpy as np
import pandas as pd

import causaltrust as ct
from causaltrust.scm._transformed import use_log_scale

SPEC = {
    "target": "X",
    "variables": {"A": {"type": "binary"}, "X": {"type": "continuous", "parents": ["A"]}},
}


def _data(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, n)
    # log1p(X) = 2 + 0.8 A + N, N ~ normal(0, 0.4): X >= 0 unless N < -2 (5 sd; never at these seeds).
    x = np.expm1(2.0 + 0.8 * a + rng.normal(0, 0.4, n))
    return pd.DataFrame({"A": a, "X": x})


def test_rule_picks_skewed_nonnegative_columns_only() -> None:
    rng = np.random.default_rng(0)
    assert use_log_scale(rng.poisson(0.5, 1_000) * 3.0)  # a zero-heavy count
    assert use_log_scale(rng.lognormal(8, 1, 1_000))  # an amount
    assert not use_log_scale(rng.normal(40, 10, 1_000))  # symmetric
    assert not use_log_scale(rng.lognormal(0, 1, 1_000) - 1.5)  # skewed but takes negative values
    assert not use_log_scale(rng.integers(0, 2, 1_000).astype(float))  # two values: not a count


def test_log_scale_counterfactuals_are_multiplicative() -> None:
    n = 4_000
    df = _data(n, 0)
    scm = ct.SCM.fit(ct.load_spec(SPEC), df, mechanisms="linear", random_state=0)
    assert scm.provenance["mechanisms"]["X"] == "linear (log1p scale)"
    cf = scm.counterfactual(df, do={"A": 1}, random_state=0)
    shift = np.log1p(cf["X"].to_numpy()) - np.log1p(df["X"].to_numpy())
    was0 = df["A"].to_numpy() == 0
    # The fitted slope is a difference of two group means of N ~ normal(0, 0.4) over ~n/2 units each:
    # SE = 0.4 * sqrt(2 / (n/2)) ≈ 0.0126 at n = 4,000; 4 SE ≈ 0.051.
    np.testing.assert_allclose(shift[was0], 0.8, atol=0.051)
    assert np.ptp(shift[was0]) < 1e-9  # the same log shift for every unit: multiplicative on 1 + X
    # Units already at A = 1 keep their factual value exactly.
    np.testing.assert_array_equal(cf["X"].to_numpy()[~was0], df["X"].to_numpy()[~was0])


def test_log_scale_interventional_mean_matches_the_lognormal_closed_form() -> None:
    df = _data(4_000, 1)
    scm = ct.SCM.fit(ct.load_spec(SPEC), df, mechanisms="linear", random_state=0)
    m = 20_000
    draws = scm.sample(m, do={"A": 1}, random_state=2)["X"].to_numpy()
    # E[X | do(A=1)] = exp(2.8 + 0.4²/2) - 1 ≈ 16.8; sd(X) = sqrt((e^0.16 - 1) e^(5.6 + 0.16)) ≈ 7.4, so the
    # sampling SE is 7.4/sqrt(20,000) ≈ 0.05. The fitted log-mean of the A = 1 group has SE 0.4/sqrt(2,000)
    # ≈ 0.009, moving the mean by ≈ 17.8 * 0.009 ≈ 0.16; mean(exp(residuals)) over 4,000 rows has relative
    # SE ≈ sd(e^N)/(E[e^N] sqrt(4,000)) ≈ 0.41/63 ≈ 0.0066, i.e. ≈ 0.12. Combined SE ≈ 0.21; 4 SE ≈ 0.85.
    truth = np.exp(2.8 + 0.08) - 1
    assert abs(draws.mean() - truth) < 0.85
    assert draws.min() > -1.0  # expm1 of anything: never below -1, unlike an additive model of a count


def test_values_below_the_fitted_support_are_clipped_not_nan() -> None:
    scm = ct.SCM.fit(ct.load_spec(SPEC), _data(2_000, 4), mechanisms="linear", random_state=0)
    # A unit handed in with X = -3 (outside the non-negative data the mechanism saw): abducted as X = 0.
    cf = scm.counterfactual(pd.DataFrame({"A": [0, 0], "X": [-3.0, 0.0]}), do={"A": 1}, random_state=0)
    assert np.isfinite(cf["X"]).all()
    assert cf["X"].iloc[0] == cf["X"].iloc[1]
