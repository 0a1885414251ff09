"""The Standard Fairness Model world of the decomposition tests, with truths computed independently.

Z ~ N(0, 1) confounds a binary protected attribute X ~ Bernoulli(sigmoid(A0 + A1 Z)); the mediator
W = B0 + B1 X + B2 Z + N(0, 1); the outcome Y ~ Bernoulli(sigmoid(C0 + C1 X + C2 Z + C3 W)). Truths come
from Gauss-Hermite quadrature and closed forms, never from causaltrust.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import norm

A0, A1 = -0.3, 0.8  # X ~ Bernoulli(sigmoid(A0 + A1 Z))
B0, B1, B2 = 0.5, 1.0, 0.6  # W = B0 + B1 X + B2 Z + N(0, 1)
C0, C1, C2, C3 = -0.5, 0.7, 0.5, 0.8  # Y ~ Bernoulli(sigmoid(C0 + C1 X + C2 Z + C3 W))
SPEC = {
    "name": "sfm",
    "target": "Y",
    "variables": {
        "Z": {"type": "continuous", "equation": "normal(0, 1)"},
        "X": {"type": "binary", "equation": f"bernoulli(sigmoid({A0} + {A1}*Z))"},
        "W": {"type": "continuous", "equation": f"{B0} + {B1}*X + {B2}*Z + normal(0, 1)"},
        "Y": {"type": "binary", "equation": f"bernoulli(sigmoid({C0} + {C1}*X + {C2}*Z + {C3}*W))"},
    },
    "fairness": {"protected": "X", "baseline": 0},
}
NODES, WEIGHTS = np.polynomial.hermite_e.hermegauss(60)  # ∫ f(u) φ(u) du ≈ Σ w f(u) / sqrt(2π)
WEIGHTS = WEIGHTS / np.sqrt(2 * np.pi)

# E[outcome | x, z, w] as a function of (x, z, w), vectorised.
Mean = Callable[[float, np.ndarray, np.ndarray], np.ndarray]


def y_mean(x: float, z: np.ndarray, w: np.ndarray) -> np.ndarray:
    """E[Y | x, z, w] of the spec's outcome."""
    return np.asarray(expit(C0 + C1 * x + C2 * z + C3 * w))


def z_given(x: int) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature nodes and weights of Z | X = x (density ∝ φ(z) P(x | z))."""
    px = expit(A0 + A1 * NODES)
    w = WEIGHTS * (px if x == 1 else 1 - px)
    return NODES, w / w.sum()


def counterfactual_mean(f: Mean, xz: int, xw: int, xy: int) -> float:
    """E[Y_{xy, W_{xw}} | X = xz] for an outcome with mean ``f``, by quadrature over Z | xz and W's noise."""
    z, wz = z_given(xz)
    w = B0 + B1 * xw + B2 * z[:, None] + NODES[None, :]  # W_{xw} at each z (unit-variance noise)
    return float(wz @ (f(xy, z[:, None], w) @ WEIGHTS))


def terms(f: Mean) -> dict[str, float]:
    """The true ctf-DE, ctf-IE and ctf-SE (x0 = 0, x1 = 1) of an outcome with mean ``f``."""

    def psi(xz: int, xw: int, xy: int) -> float:
        return counterfactual_mean(f, xz, xw, xy)

    return {
        "de": psi(0, 0, 1) - psi(0, 0, 0),
        "ie": psi(0, 0, 1) - psi(0, 1, 1),
        "se": psi(0, 1, 1) - psi(1, 1, 1),
    }


def true_nuisances(df: pd.DataFrame, f: Mean = y_mean) -> tuple[np.ndarray, ...]:
    """``(t, mu, m, e_z, e_zw)`` at every row from the TRUE model (closed forms; m by quadrature).

    ``mu = E[Y | x1, z, w] = f(1, z, w)``, ``m = E[Y | x1, z]``, ``e_z = P(x1 | z)`` and
    ``e_zw = P(x1 | z, w)``, the last by Bayes: W | x, z is N(B0 + B1 x + B2 z, 1).
    """
    z, w = df.Z.to_numpy(dtype=float), df.W.to_numpy(dtype=float)
    mu = f(1, z, w)
    m = f(1, z[:, None], B0 + B1 + B2 * z[:, None] + NODES[None, :]) @ WEIGHTS
    ez = expit(A0 + A1 * z)
    l1 = ez * norm.pdf(w - (B0 + B1 + B2 * z))
    l0 = (1 - ez) * norm.pdf(w - (B0 + B2 * z))
    return df.X.to_numpy(dtype=float), mu, m, ez, l1 / (l1 + l0)


def linear_nuisances(df: pd.DataFrame, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(mu, m)``: least squares of y on (1, Z, W) and on (1, Z) over the x1 rows (learner="linear")."""
    x1 = df.X.to_numpy() == 1
    z1 = np.column_stack([np.ones(len(df)), df.Z.to_numpy(dtype=float)])
    zw1 = np.column_stack([z1, df.W.to_numpy(dtype=float)])
    mu = zw1 @ np.linalg.lstsq(zw1[x1], y[x1], rcond=None)[0]
    m = z1 @ np.linalg.lstsq(z1[x1], y[x1], rcond=None)[0]
    return mu, m


def scores(
    t: np.ndarray, y: np.ndarray, mu: np.ndarray, m: np.ndarray, ez: np.ndarray, ezw: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The efficient scores of E[Y_{x1, W_x0} | x0] and E[Y_{x1} | x0] (times P(x0)), Plečko & Bareinboim."""
    s_de = (1 - t) * mu + t * (1 - ezw) / ezw * (y - mu)
    s_se = (1 - t) * m + t * (1 - ez) / ez * (y - m)
    return s_de, s_se


def if_sd(t: np.ndarray, y: np.ndarray, s_de: np.ndarray, s_se: np.ndarray) -> dict[str, float]:
    """Per-unit sd of each term's influence function, given the per-unit scores.

    The estimator built on these scores is asymptotically normal with variance sd**2 / n, so a tolerance
    of 4 sd / sqrt(n) fails a correct estimator with probability < 1e-4.
    """
    x0 = t == 0
    p0, p1 = x0.mean(), 1 - x0.mean()
    a, b = s_de.sum() / x0.sum(), s_se.sum() / x0.sum()  # E[Y_{x1, W_x0} | x0], E[Y_{x1} | x0]
    m0, m1 = y[x0].mean(), y[~x0].mean()
    if_de = (s_de - (1 - t) * y - (a - m0) * (1 - t)) / p0
    if_ie = (s_de - s_se - (a - b) * (1 - t)) / p0
    if_se = (s_se - b * (1 - t)) / p0 - t * (y - m1) / p1
    return {"de": float(if_de.std()), "ie": float(if_ie.std()), "se": float(if_se.std())}
