"""The SCM engine against a hand-written NumPy floor, bit for bit, on every built-in scenario (issue 30).

For each scenario (readmission, lending, hiring, credit_limit) the floor is written out by hand in NumPy: ``sample(n)`` and
``counterfactual(observed, do={protected: baseline})``. Each floor reproduces the library's output bit for
bit (asserted with ``DataFrame.equals`` and identical dtypes), so it does the same work and no less
(the same random draws in the same order, the same formulas in the same order of operations). Within that it
is strict: every step is one pass over the rows, a do() value stays a scalar, a term that depends on one
categorical variable only is a table lookup by code, binary columns are bool until they become int64 output,
and unchanged columns are handed through as they are.

Reported: CPU seconds (``time.process_time``; the machine is shared, so wall time means little) and the ratio
library / floor: the median (and quartiles) of ``--repeats`` interleaved pairs, each timing the floor and the
library back to back in alternating order (benchmarks/_paired.py).

Run: ``PYTHONPATH=src python benchmarks/engine_floor.py [--rows 1000000] [--repeats 31] [--ops sample]``
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

import causaltrust as ct
from _paired import load, paired_cpu
from causaltrust._random import purpose_rng

SEED = 0  # the seed of every timed call
DATA_SEED = 2024  # the observed units of the counterfactuals come from their own seed


def _cat_sample(p: list[float], u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draw of a categorical with constant probabilities (the library's normalisation)."""
    mat = np.asarray(p, dtype=np.float64)[None, :]
    cdf = np.cumsum(mat / mat.sum(axis=1, keepdims=True), axis=1)[0]
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(p) - 1)


def _post_uniform(rng: np.random.Generator, observed: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Uniform noise of ``observed = 1[u < p]`` from its posterior: U(0, p) if 1 else U(p, 1)."""
    u = rng.random(observed.shape[0])
    return np.where(observed == 1, u * p, p + u * (1.0 - p))


def _int_where(same: np.ndarray, factual: np.ndarray, new: np.ndarray) -> np.ndarray:
    """The factual value where the unit's parents did not change, else the new one (int64 output)."""
    return np.where(same, factual, new).astype(np.int64, copy=False)


def _gumbel_posterior(rng: np.random.Generator, logp: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Standard Gumbels of ``codes = argmax(logp + G)`` from their posterior (top-down construction)."""
    n, k = logp.shape
    top = np.logaddexp.reduce(logp, axis=1) + rng.gumbel(size=n)
    g = logp + rng.gumbel(size=(n, k))
    trunc = -np.logaddexp(-top[:, None], -g)
    trunc[np.arange(n), codes] = top
    return trunc - logp


# -- readmission ----------------------------------------------------------------------------------------------
R_ART = 0.0 + np.array([0.0, 0.8, 0.0]) - np.array([0.0, 0.0, 0.5])  # 0.8*(E == 1) - 0.5*(E == 2)
R_E2 = 0.6 * np.array([0.0, 0.0, 1.0])


def _r_logit_y(L: Any, Z: Any, A: Any, F: Any, E: np.ndarray) -> Any:
    return -1.0 + 1.2 * L + 0.7 * Z + 0.5 * A - 0.3 * F + R_E2[E]


def readmission_sample(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    A = rng.random(n) < 0.4
    E = _cat_sample([0.4, 0.35, 0.25], rng.random(n))
    F = rng.standard_normal(n) + 0.5
    Z = rng.random(n) < expit(-0.5 + 1.5 * A)
    L = rng.standard_normal(n) + (1.0 * A - 0.4 * F)
    X = L + R_ART[E]
    Y = rng.random(n) < expit(_r_logit_y(L, Z, A, F, E))
    return pd.DataFrame(
        {
            "A": A.astype(np.int64),
            "E": E,
            "F": F,
            "Z": Z.astype(np.int64),
            "L": L,
            "X": X,
            "Y": Y.astype(np.int64),
        }
    )


def readmission_cf(df: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = purpose_rng(seed, "abduction")
    A, E, F, Z, X, Y = (df[c].to_numpy() for c in ("A", "E", "F", "Z", "X", "Y"))
    L = X - R_ART[E]
    u_z = _post_uniform(rng, Z, expit(-0.5 + 1.5 * A))
    h_l = 1.0 * A - 0.4 * F
    u_y = _post_uniform(rng, Y, expit(_r_logit_y(L, Z, A, F, E)))
    same = A == 0  # the units whose parents do not change
    Z_cf = _int_where(same, Z, u_z < expit(-0.5 + 1.5 * 0.0))
    L_cf = L + ((1.0 * 0.0 - 0.4 * F) - h_l)
    X_cf = np.where(same, X, L_cf + R_ART[E])
    Y_cf = _int_where(same, Y, u_y < expit(_r_logit_y(L_cf, Z_cf, 0.0, F, E)))
    out = {
        "A": np.zeros(len(A), dtype=np.int64),
        "E": E.copy(),
        "F": F.copy(),
        "Z": Z_cf,
        "X": X_cf,
        "Y": Y_cf,
    }
    return pd.DataFrame(out, index=df.index, copy=False)[list(df.columns)]


# -- lending -------------------------------------------------------------------------------------------------
RACE = np.array(["white", "black", "hispanic"], dtype=object)
BRANCH = np.array(["downtown", "suburb", "online"], dtype=object)
ZIP = np.array(["northside", "eastside", "westside"], dtype=object)
CODES = {
    "race": {c: i for i, c in enumerate(RACE)},
    "branch": {c: i for i, c in enumerate(BRANCH)},
    "zip": {c: i for i, c in enumerate(ZIP)},
}
IS = np.eye(3)  # IS[k][code] = 1.0 where code == k


def _zip_probs() -> np.ndarray:
    """P(zip | race) per race code (rows), as the library normalises logits."""
    mat = np.column_stack([np.full(3, 0.5), 1.8 * IS[1] - 0.3, 1.5 * IS[2] - 0.5])
    mat = np.exp(mat - mat.max(axis=1, keepdims=True))
    return mat / mat.sum(axis=1, keepdims=True)


ZIP_P = _zip_probs()
ZIP_CDF = np.cumsum(ZIP_P, axis=1)
ZIP_LOGP = np.log(ZIP_P)
L_INC = 4.0 - 0.5 * IS[1] - 0.35 * IS[2]  # income's intercept by race
L_ART = 0.0 + 0.6 * IS[1] - 0.8 * IS[2]  # score's artifact by branch
L_RACE = 0.4 * IS[1]  # default's race terms enter one at a time (left-to-right order)
L_RACE2 = 0.2 * IS[2]


def _l_logit(S: Any, income: Any, savings: Any, zc: np.ndarray, race: Any, branch: np.ndarray) -> Any:
    x = -1.2 - 1.1 * S - 0.15 * income - 0.25 * savings + 0.6 * IS[1][zc] + 0.3 * IS[2][zc]
    return (
        x
        + (L_RACE[race] if isinstance(race, np.ndarray) else 0.0)
        + (L_RACE2[race] if isinstance(race, np.ndarray) else 0.0)
        + 0.7 * IS[2][branch]
    )


def lending_sample(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    race = _cat_sample([0.6, 0.2, 0.2], rng.random(n))
    branch = _cat_sample([0.45, 0.35, 0.2], rng.random(n))
    u = rng.random(n)
    zc = (ZIP_CDF[race] < u[:, None]).sum(axis=1)
    zc = np.minimum(zc, 2)
    income = rng.standard_normal(n) + L_INC[race]
    savings = rng.standard_normal(n) + (0.5 + 0.4 * income)
    S = rng.standard_normal(n) + (0.5 * income + 0.4 * savings - 2.8)
    score = S + L_ART[branch]
    default = rng.random(n) < expit(_l_logit(S, income, savings, zc, race, branch))
    return pd.DataFrame(
        {"race": RACE[race], "branch": BRANCH[branch], "zip": ZIP[zc], "income": income, "savings": savings,
         "S": S, "score": score, "default": default.astype(np.int64)},
        copy=False,
    )  # fmt: skip


def _codes(s: pd.Series, name: str) -> np.ndarray:
    lookup = CODES[name]
    return np.fromiter((lookup[v] for v in s.to_numpy(dtype=object)), dtype=np.int64, count=len(s))


def lending_cf(df: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = purpose_rng(seed, "abduction")
    race, branch, zc = (_codes(df[c], c) for c in ("race", "branch", "zip"))
    income, savings, score, default = (df[c].to_numpy() for c in ("income", "savings", "score", "default"))
    S = score - L_ART[branch]
    eps_zip = _gumbel_posterior(rng, ZIP_LOGP[race], zc)
    h_inc = L_INC[race]
    h_sav = 0.5 + 0.4 * income
    h_s = 0.5 * income + 0.4 * savings - 2.8
    u_d = _post_uniform(rng, default, expit(_l_logit(S, income, savings, zc, race, branch)))
    same = race == 0
    zc_cf = np.where(same, zc, np.argmax(ZIP_LOGP[0] + eps_zip, axis=1))
    income_cf = income + (L_INC[0] - h_inc)
    savings_cf = savings + ((0.5 + 0.4 * income_cf) - h_sav)
    S_cf = S + ((0.5 * income_cf + 0.4 * savings_cf - 2.8) - h_s)
    score_cf = np.where(same, score, S_cf + L_ART[branch])
    new = u_d < expit(_l_logit(S_cf, income_cf, savings_cf, zc_cf, 0, branch))
    default_cf = _int_where(same, default, new)
    out = {"race": RACE[np.zeros(len(race), dtype=np.int64)], "branch": df["branch"].array.copy(),
           "zip": ZIP[zc_cf], "income": income_cf, "savings": savings_cf, "score": score_cf,
           "default": default_cf}  # fmt: skip
    return pd.DataFrame(out, index=df.index, copy=False)[list(df.columns)]


# -- hiring ----------------------------------------------------------------------------------------------------
H_ART = np.where(IS[1] != 0, 0.7, 0.0) - 0.5 * IS[2]  # T's artifact by office


def _h_logit(M: Any, K: Any, G: Any, P: Any, O: np.ndarray) -> Any:
    x = -0.8 + 2.0 * np.tanh(0.4 * (M - 5.0)) + 1.0 * K - 0.6 * G - 0.5 * P - 0.6 * G * P + 0.5 * IS[1][O]
    return x + np.where(O == 2, 0.6 * K, 0.0)


def hiring_sample(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    G = rng.random(n) < 0.5
    O = _cat_sample([0.5, 0.3, 0.2], rng.random(n))
    P = rng.random(n) < expit(-1.5 + 1.6 * G)
    C = rng.standard_normal(n) + 2.0
    M = 1.5 * rng.standard_normal(n) + (5.0 + 1.5 * G - 2.5 * P)
    K = rng.standard_normal(n) + 0.5 * np.tanh(C - 2.0)
    T = K + H_ART[O]
    Y = rng.random(n) < expit(_h_logit(M, K, G, P, O))
    return pd.DataFrame(
        {"G": G.astype(np.int64), "O": O, "P": P.astype(np.int64), "C": C, "M": M, "K": K, "T": T,
         "Y": Y.astype(np.int64)},
        copy=False,
    )  # fmt: skip


def hiring_cf(df: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = purpose_rng(seed, "abduction")
    G, O, P, M, T, Y = (df[c].to_numpy() for c in ("G", "O", "P", "M", "T", "Y"))
    K = T - H_ART[O]
    u_p = _post_uniform(rng, P, expit(-1.5 + 1.6 * G))
    h_m = 5.0 + 1.5 * G - 2.5 * P
    u_y = _post_uniform(rng, Y, expit(_h_logit(M, K, G, P, O)))
    same = G == 0
    P_cf = _int_where(same, P, u_p < expit(-1.5 + 1.6 * 0.0))
    M_cf = M + ((5.0 + 1.5 * 0.0 - 2.5 * P_cf) - h_m)
    Y_cf = _int_where(same, Y, u_y < expit(_h_logit(M_cf, K, 0.0, P_cf, O)))
    out = {"G": np.zeros(len(G), dtype=np.int64), "O": O.copy(), "P": P_cf, "C": df["C"].to_numpy().copy(), "M": M_cf,
           "T": T.copy(), "Y": Y_cf}  # fmt: skip
    return pd.DataFrame(out, index=df.index, copy=False)[list(df.columns)]


# -- credit_limit (no latent) -----------------------------------------------------------------------------
def _c_mean_y(i: Any, h: Any, z: Any, a: Any) -> Any:
    return 2.0 + 1.5 * i + 0.2 * h - 1.0 * z - 0.6 * a


def credit_limit_sample(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    A = rng.random(n) < 0.4
    H = 2.0 * rng.standard_normal(n) + 5.0
    I = rng.standard_normal(n) + (4.0 - 0.8 * A)
    Z = rng.random(n) < expit(-0.5 + 1.5 * A)
    Y = 0.8 * rng.standard_normal(n) + _c_mean_y(I, H, Z, A)
    out = {"A": A.astype(np.int64), "H": H, "I": I, "Z": Z.astype(np.int64), "Y": Y}
    return pd.DataFrame(out, copy=False)


def credit_limit_cf(df: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = purpose_rng(seed, "abduction")
    A, H, I, Z, Y = (df[c].to_numpy() for c in ("A", "H", "I", "Z", "Y"))
    h_i = 4.0 - 0.8 * A
    u_z = _post_uniform(rng, Z, expit(-0.5 + 1.5 * A))
    h_y = _c_mean_y(I, H, Z, A)
    I_cf = I + ((4.0 - 0.8 * 0.0) - h_i)
    Z_cf = _int_where(A == 0, Z, u_z < expit(-0.5 + 1.5 * 0.0))
    Y_cf = Y + (_c_mean_y(I_cf, H, Z_cf, 0.0) - h_y)
    out = {"A": np.zeros(len(A), dtype=np.int64), "H": H.copy(), "I": I_cf, "Z": Z_cf, "Y": Y_cf}
    return pd.DataFrame(out, index=df.index, copy=False)[list(df.columns)]


SCENARIOS: dict[str, tuple[Callable[..., pd.DataFrame], Callable[..., pd.DataFrame], str, Any, str]] = {
    # name: (floor sample, floor counterfactual, protected, baseline, latent)
    "readmission": (readmission_sample, readmission_cf, "A", 0, "L"),
    "lending": (lending_sample, lending_cf, "race", "white", "S"),
    "hiring": (hiring_sample, hiring_cf, "G", 0, "K"),
    "credit_limit": (credit_limit_sample, credit_limit_cf, "A", 0, ""),
}


def _check_equal(name: str, what: str, lib: pd.DataFrame, floor: pd.DataFrame) -> None:
    for c in lib.columns:
        a, b = lib[c].to_numpy(), floor[c].to_numpy()
        if lib[c].dtype != floor[c].dtype or not np.array_equal(a, b):
            diff = np.flatnonzero(a != b)
            raise AssertionError(
                f"{name} {what}: column {c!r} differs (dtypes {lib[c].dtype} / {floor[c].dtype}, "
                f"{len(diff)} rows, e.g. row {diff[:1]}: {a[diff[:1]]} vs {b[diff[:1]]})"
            )
    assert list(lib.columns) == list(floor.columns), f"{name} {what}: columns differ"
    assert lib.equals(floor), f"{name} {what}: frames differ"


def measure(name: str, n: int, repeats: int, which: list[str]) -> list[tuple[str, float, float, float, str]]:
    floor_sample, floor_cf, protected, baseline, latent = SCENARIOS[name]
    _spec, scm = ct.scenarios.load(name)
    observed = scm.sample(n, random_state=DATA_SEED).drop(columns=[latent] if latent else [])
    ops = {
        "sample": (lambda: scm.sample(n, random_state=SEED), lambda: floor_sample(n, SEED)),
        f"counterfactual do({protected}={baseline})": (
            lambda: scm.counterfactual(observed, do={protected: baseline}, random_state=SEED),
            lambda: floor_cf(observed, SEED),
        ),
    }
    rows = []
    for op, (lib, floor) in ops.items():
        if op.split()[0] not in which:
            continue
        _check_equal(name, op, lib(), floor())
        t = paired_cpu(lib, floor, repeats, min_cpu=0.0)
        rows.append((op, t.floor, t.library, t.ratio, f"{t.spread} | {t.best_ratio:.2f}x"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=31, help="interleaved pairs per operation")
    parser.add_argument("--scenarios", nargs="*", default=list(SCENARIOS))
    parser.add_argument(
        "--ops", nargs="+", default=["sample", "counterfactual"], choices=["sample", "counterfactual"]
    )
    args = parser.parse_args()
    print(
        f"rows {args.rows:,}, {args.repeats} interleaved pairs, CPU seconds (process_time), medians; {load()}"
    )
    print(
        "| scenario | operation | floor CPU s | causaltrust CPU s | causaltrust / floor (quartiles) | fastest / fastest |"
    )
    print("|---|---|---|---|---|---|")
    for name in args.scenarios:
        for op, f, t, r, spread in measure(name, args.rows, args.repeats, args.ops):
            print(f"| {name} | {op} | {f:.4f} | {t:.4f} | {r:.2f}x {spread} |", flush=True)
    print(load())


if __name__ == "__main__":
    main()
