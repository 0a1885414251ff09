"""``poisson(rate)`` in the equation language: the whole equation of a ``count`` variable.

Ground truth: closed-form moments of the Poisson and of its log-normal mixture; tolerances are 5 standard
errors at the sample size used (stated per check).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import causaltrust as ct
from causaltrust.exceptions import DataError, SpecError


def _spec(equation: str, vtype: str = "count", x: str = "normal(0, 1)") -> ct.TrustSpec:
    return ct.load_spec(
        {
            "target": "Y",
            "variables": {
                "X": {"type": "continuous", "equation": x},
                "Y": {"type": vtype, "equation": equation},
            },
        }
    )


def test_constant_rate_matches_the_poisson_moments() -> None:
    n, lam = 100_000, 3.0
    y = ct.SCM.from_spec(_spec("poisson(3)")).sample(n, random_state=0)["Y"].to_numpy()
    assert np.all(y == np.round(y))
    assert y.min() >= 0
    # SE of the mean sqrt(λ/n) = 0.0055; of the variance sqrt((λ + 2λ²)/n) = 0.0145; of P(0) ~ 0.0007.
    assert abs(y.mean() - lam) < 5 * math.sqrt(lam / n)
    assert abs(y.var() - lam) < 5 * math.sqrt((lam + 2 * lam**2) / n)
    p0 = math.exp(-lam)
    assert abs((y == 0).mean() - p0) < 5 * math.sqrt(p0 * (1 - p0) / n)


def test_log_linear_rate_matches_the_mixture_moments() -> None:
    # Y | X ~ Poisson(exp(0.5 + 0.3 X)), X ~ N(0, 1): E[Y] = exp(0.5 + 0.3²/2) and
    # Var[Y] = E[rate] + Var[rate] with Var[rate] = exp(2·0.5 + 0.3²)(exp(0.3²) - 1) (log-normal).
    n, mu, s = 200_000, 0.5, 0.3
    df = ct.SCM.from_spec(_spec("poisson(exp(0.5 + 0.3*X))")).sample(n, random_state=1)
    y = df["Y"].to_numpy()
    mean = math.exp(mu + s**2 / 2)
    var = mean + math.exp(2 * mu + s**2) * (math.exp(s**2) - 1)
    assert abs(y.mean() - mean) < 5 * math.sqrt(var / n)
    # SE of a sample variance: sqrt((m4 - var²) / n), m4 the fourth central moment (estimated from y).
    m4 = float(((y - y.mean()) ** 4).mean())
    assert abs(y.var() - var) < 5 * math.sqrt((m4 - var**2) / n)
    # Conditionally Poisson: within a narrow slice of X the variance equals the mean (dispersion 1).
    sl = np.abs(df["X"].to_numpy() - 1.0) < 0.02
    ys = y[sl]
    # ~3,200 rows: the dispersion's SE is about sqrt(2 / n_slice) ≈ 0.025.
    assert abs(ys.var() / ys.mean() - 1.0) < 5 * math.sqrt(2 / sl.sum())


def test_counterfactual_count_moves_with_the_rate_and_keeps_its_rank() -> None:
    scm = ct.SCM.from_spec(_spec("poisson(exp(0.2 + 0.8*X))"))
    df = scm.sample(20_000, random_state=2)
    up = scm.counterfactual(df, do={"X": df["X"] + 1.0}, random_state=3)
    y, y_up = df["Y"].to_numpy(), up["Y"].to_numpy()
    # The inverse-CDF coupling is monotone in the rate: no unit's count goes down when its rate goes up.
    assert np.all(y_up >= y)
    assert np.all(y_up == np.round(y_up))
    # And the counterfactual counts are Poisson at the new rate: E[Y_up] = exp(0.2 + 0.8 + 0.8²/2),
    # Var[Y_up] = E + exp(2·1.0 + 0.64)(exp(0.64) - 1): SE of the mean 0.06 at n = 20,000.
    m = math.exp(1.0 + 0.32)
    v = m + math.exp(2.0 + 0.64) * (math.exp(0.64) - 1)
    assert abs(y_up.mean() - m) < 5 * math.sqrt(v / len(y_up))


@pytest.mark.parametrize(
    ("equation", "vtype", "match"),
    [
        (
            "poisson(2)",
            "continuous",
            r"(?s)poisson\(rate\) draws a count, but 'Y' is continuous.*type: count",
        ),
        ("poisson(2)", "binary", r"draws a count, but 'Y' is binary"),
        ("poisson(-1)", "count", r"rate of poisson\(rate\) is -1.0; a rate is a finite number >= 0"),
        ("poisson(X + normal(0, 1))", "count", r"rate of poisson\(rate\) cannot contain noise"),
        ("poisson(1, 2)", "count", r"poisson takes exactly one argument"),
        ("1 + poisson(2)", "count", r"poisson\(\.\.\.\) must be the whole equation of a count variable"),
        ("X + normal(0, 1)", "count", r"(?s)'Y' is a count; a noise term.*poisson\(rate\)"),
    ],
)
def test_bad_poisson_equations_are_spec_errors(equation: str, vtype: str, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        _spec(equation, vtype)


def test_a_negative_rate_from_the_parents_is_a_data_error() -> None:
    scm = ct.SCM.from_spec(_spec("poisson(X)"))
    with pytest.raises(DataError, match=r"rate of 'Y' is -.* units negative.*exp\(\.\.\.\)"):
        scm.sample(100, random_state=0)
    # Where the rate is non-negative for every unit, the same equation samples.
    ok = ct.SCM.from_spec(_spec("poisson(X)", x="uniform(0, 2)")).sample(100, random_state=0)
    assert ok["Y"].min() >= 0
