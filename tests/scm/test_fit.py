"""SCM.fit: mechanisms learned from data recover known effects, validate input, pickle, and honour choices."""

from __future__ import annotations

import itertools
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, Ridge

import causaltrust as ct

# A linear-Gaussian SCM with distinct coefficients: C confounds A and Y, M mediates A -> Y.
B_CA, B_AM, B_MY, B_AY, B_CY = 0.8, 1.5, 0.7, -0.6, 1.2
LINEAR = {
    "name": "linear",
    "target": "Y",
    "variables": {
        "C": {"type": "continuous", "equation": "normal(0, 1)"},
        "A": {"type": "continuous", "equation": f"{B_CA}*C + normal(0, 1)"},
        "M": {"type": "continuous", "equation": f"{B_AM}*A + normal(0, 1)"},
        "Y": {"type": "continuous", "equation": f"{B_MY}*M + {B_AY}*A + {B_CY}*C + normal(0, 1)"},
    },
}
# Closed form: the effect of source along a set of paths is the sum over paths of the product of the
# coefficients on their edges (value 1 vs baseline 0).
COEF = {("C", "A"): B_CA, ("A", "M"): B_AM, ("M", "Y"): B_MY, ("A", "Y"): B_AY, ("C", "Y"): B_CY}
N_LINEAR = 50_000
N_EFFECT = 20_000
# Each non-root node's parents, in the order of the OLS design below.
PARENTS = {"A": ("C",), "M": ("A",), "Y": ("M", "A", "C")}
# Population covariance of (C, A, M) in closed form (every noise variance is 1).
VAR_A = B_CA**2 + 1
VAR_M = B_AM**2 * VAR_A + 1
COV_CAM = np.array(
    [[1.0, B_CA, B_AM * B_CA], [B_CA, VAR_A, B_AM * VAR_A], [B_AM * B_CA, B_AM * VAR_A, VAR_M]]
)


def closed_form(paths: list[tuple[str, ...]], coef: dict[tuple[str, str], float] = COEF) -> float:
    return float(sum(np.prod([coef[e] for e in itertools.pairwise(p)]) for p in paths))


def effect_se(paths: list[tuple[str, ...]]) -> float:
    """Standard error of a linear fit's path effect at n = N_LINEAR rows, by the delta method.

    With noise sd 1, n times the covariance of OLS slopes tends to the inverse covariance of the regressors:
    1 / Var(C) for A ~ C, 1 / Var(A) for M ~ A, inv(Cov(M, A, C)) for Y ~ M + A + C; slopes of different
    equations are uncorrelated (independent noises of a recursive system). The effect is a sum of
    products of slopes; its gradient on edge e sums, over the paths through e, the product of the others.
    """
    grad = dict.fromkeys(COEF, 0.0)
    for p in paths:
        edges = list(itertools.pairwise(p))
        for e in edges:
            grad[e] += float(np.prod([COEF[f] for f in edges if f != e]))
    g_y = np.array([grad["M", "Y"], grad["A", "Y"], grad["C", "Y"]])
    cov_mac = COV_CAM[np.ix_([2, 1, 0], [2, 1, 0])]
    var = grad["C", "A"] ** 2 / 1.0 + grad["A", "M"] ** 2 / VAR_A + g_y @ np.linalg.solve(cov_mac, g_y)
    return float(np.sqrt(var / N_LINEAR))


@pytest.fixture(scope="module")
def linear_data() -> pd.DataFrame:
    return ct.SCM.from_spec(LINEAR).sample(N_LINEAR, random_state=11)


@pytest.fixture(scope="module")
def ols(linear_data: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Independent OLS of each non-root node on its parents: (intercept and slopes, residuals)."""
    out = {}
    for v, pas in PARENTS.items():
        X = np.column_stack([np.ones(N_LINEAR), linear_data[list(pas)].to_numpy()])
        y = linear_data[v].to_numpy()
        beta = np.linalg.lstsq(X, y, rcond=None)[0]
        out[v] = (beta, y - X @ beta)
    return out


@pytest.fixture(scope="module")
def linear_fits(linear_data: pd.DataFrame) -> dict[str, ct.SCM]:
    return {
        mode: ct.SCM.fit(LINEAR, linear_data, mechanisms=mode, random_state=0) for mode in ("auto", "linear")
    }


@pytest.mark.parametrize("mode", ["auto", "linear"])
@pytest.mark.parametrize(
    ("source", "paths"),
    [
        ("A", [("A", "Y")]),
        ("A", [("A", "M", "Y")]),
        ("A", [("A", "Y"), ("A", "M", "Y")]),
        ("C", [("C", "Y")]),
        ("C", [("C", "A", "Y")]),
        ("C", [("C", "A", "M", "Y")]),
        ("C", [("C", "Y"), ("C", "A", "Y"), ("C", "A", "M", "Y")]),
    ],
)
def test_linear_gaussian_path_effects(
    linear_fits: dict[str, ct.SCM],
    ols: dict[str, tuple[np.ndarray, np.ndarray]],
    mode: str,
    source: str,
    paths: list[tuple[str, ...]],
) -> None:
    fitted = linear_fits[mode]
    est = ct.path_effect(fitted, source=source, paths=paths, n=N_EFFECT, random_state=0)
    # Every mechanism is linear ("auto" picks OLS here), so each unit's contrast is the same number: the
    # effect is the closed form on the fitted slopes, with no Monte-Carlo error. The slopes are OLS's.
    slopes = {(p, v): float(ols[v][0][1 + i]) for v, pas in PARENTS.items() for i, p in enumerate(pas)}
    assert est == pytest.approx(closed_form(paths, slopes), abs=1e-9)
    # Against the true coefficients: 4 delta-method SEs at n = 50k rows (SE 0.005 to 0.008 here; the sd
    # of 300 independent NumPy refits agrees within 6%).
    assert est == pytest.approx(closed_form(paths), abs=4 * effect_se(paths))


def test_linear_gaussian_auto_picks_linear_and_linear_skips_cv(linear_fits: dict[str, ct.SCM]) -> None:
    auto, linear = linear_fits["auto"].provenance, linear_fits["linear"].provenance
    expected = {"C": "empirical", "A": "linear", "M": "linear", "Y": "linear"}
    # On linear-Gaussian data the CV error of OLS is at the noise floor; boosting cannot beat it.
    assert auto["mechanisms"] == expected
    assert set(auto["cv_scores"]) == {"A", "M", "Y"}
    assert linear["mechanisms"] == expected
    assert linear["cv_scores"] == {}
    assert linear["source"] == "fit"
    assert linear["n_rows"] == N_LINEAR


@pytest.mark.parametrize("mode", ["auto", "linear"])
def test_linear_fit_equals_independent_ols(
    linear_data: pd.DataFrame,
    linear_fits: dict[str, ct.SCM],
    ols: dict[str, tuple[np.ndarray, np.ndarray]],
    mode: str,
) -> None:
    fitted = linear_fits[mode]
    # Every linear mechanism's intercept and slopes are exactly OLS's (numpy.linalg.lstsq on the data).
    for v, pas in PARENTS.items():
        mech = fitted.mechanisms[v]
        assert set(mech.parents) == set(pas)
        got = dict(zip(mech.parents, mech.h.coef, strict=True))  # type: ignore[attr-defined]
        beta = ols[v][0]
        assert mech.h.intercept == pytest.approx(beta[0], abs=1e-9)  # type: ignore[attr-defined]
        np.testing.assert_allclose([got[p] for p in pas], beta[1:], rtol=0, atol=1e-9)
    # The direct A -> Y effect of a linear fit is exactly the OLS coefficient of A in Y ~ M + A + C.
    ref = LinearRegression().fit(linear_data[["M", "A", "C"]], linear_data["Y"])
    est = ct.path_effect(fitted, source="A", paths=[("A", "Y")], n=100, random_state=0)
    assert est == pytest.approx(ref.coef_[1], abs=1e-9)


def test_residual_noise_reproduces_spread(
    linear_fits: dict[str, ct.SCM], ols: dict[str, tuple[np.ndarray, np.ndarray]]
) -> None:
    fitted = linear_fits["linear"]
    # Y's noise is drawn from its in-sample OLS residuals: exactly the independent fit's.
    residuals = fitted.mechanisms["Y"].draw.residuals  # type: ignore[attr-defined]
    np.testing.assert_allclose(residuals, ols["Y"][1], rtol=0, atol=1e-9)
    # Their variance against the true noise variance 1: n * s^2 is chi-square with n - 4 degrees of
    # freedom, so s^2 has mean (n - 4) / n (a bias of 8e-5) and SE sqrt(2 / n) = 0.0063 at n = 50k. 4 SE:
    assert np.var(residuals) == pytest.approx(1.0, abs=4 * np.sqrt(2 / N_LINEAR))
    # Var(Y) = Var(0.7 M - 0.6 A + 1.2 C) + 1 in closed form. OLS with in-sample residuals (and C from its
    # empirical law) reproduces the data's sample covariance, so the model's Var(Y) is the sample variance
    # of n = 50k Gaussian values (relative SE sqrt(2 / n)); m draws from it add sqrt(2 / m). 4 SE of both:
    cov_ac, cov_mc, cov_am = COV_CAM[0, 1], COV_CAM[0, 2], COV_CAM[1, 2]
    var_y = (
        B_MY**2 * VAR_M + B_AY**2 * VAR_A + B_CY**2 + 1
        + 2 * (B_MY * B_AY * cov_am + B_MY * B_CY * cov_mc + B_AY * B_CY * cov_ac)
    )  # fmt: skip
    m = 200_000
    draws = fitted.sample(m, random_state=3)
    assert draws["Y"].var() == pytest.approx(var_y, rel=4 * np.sqrt(2 / N_LINEAR + 2 / m))  # 0.028


# -- readmission from structure alone: the latent L is recovered through its measurement X -------------
N_READ = 20_000


@pytest.fixture(scope="module")
def readmission() -> tuple[ct.TrustSpec, ct.SCM, pd.DataFrame, ct.SCM]:
    spec, true = ct.scenarios.load("readmission")
    data = true.sample(N_READ, random_state=1).drop(columns="L")
    # Structure only: no equation reaches the fit (types, parents, roles and `measures: L` on X).
    return spec, true, data, ct.SCM.fit(spec.structure(), data, mechanisms="linear", random_state=0)


def test_readmission_learns_every_mechanism(
    readmission: tuple[ct.TrustSpec, ct.SCM, pd.DataFrame, ct.SCM],
) -> None:
    _, _, _, fitted = readmission
    nodes = fitted.provenance["nodes"]
    assert {v for v, e in nodes.items() if e["status"] == "learned"} == set(fitted.variables)
    # mechanisms="linear" fixes the class: nothing is chosen, so no CV score is computed (issue 30, day 3).
    assert (nodes["Y"]["model"], nodes["Y"]["cv_metric"], nodes["Y"]["cv_score"]) == ("logistic", None, None)
    assert nodes["Y"]["selection"].startswith("none: the model class was given")
    assert nodes["Y"]["equation"].startswith("bernoulli(sigmoid(")
    assert nodes["X"]["assumption"] == "measures L (noise-free, unit slope)"
    assert "X measures L (noise-free, unit slope)" in fitted.provenance["assumptions"]


def test_readmission_offsets_and_latent_noise(
    readmission: tuple[ct.TrustSpec, ct.SCM, pd.DataFrame, ct.SCM],
) -> None:
    _, _, data, fitted = readmission
    offsets = fitted.mechanisms["X"].offsets["E"]  # type: ignore[attr-defined]
    # Residual on residual: SE(δ_e) = sd(L | A, F) / sqrt(n * Var(1[E=e] | other levels)); sd = 1 and
    # Var(1[E=1] | 1[E=2]) = 0.35 * 0.4 / 0.75 = 0.187, Var(1[E=2] | 1[E=1]) = 0.25 * 0.4 / 0.65 = 0.154.
    se = 1 / np.sqrt(N_READ * np.array([1.0, 0.187, 0.154]))
    assert offsets[0] == 0.0  # the first category is the reference scale
    np.testing.assert_allclose(offsets, [0.0, 0.8, -0.5], atol=4 * se.max())
    # L's own mechanism, fitted on L̂ = X - δ̂(E): slope on A 1.0 and on F -0.4 (OLS SE <= 1 / sqrt(n * 0.24 *
    # 0.9)), noise sd 1 (SE 1 / sqrt(2n)); L̂'s error (δ - δ̂)(E) adds at most 4 SE(δ) to the residual sd.
    sample = fitted.sample(N_READ, random_state=5)
    slope = np.linalg.lstsq(
        np.column_stack([np.ones(N_READ), sample["A"], sample["F"]]), sample["L"], rcond=None
    )[0]
    np.testing.assert_allclose(slope[1:], [1.0, -0.4], atol=4 / np.sqrt(N_READ * 0.24 * 0.9) + 0.03)
    del data


def test_readmission_path_effects_from_structure(
    readmission: tuple[ct.TrustSpec, ct.SCM, pd.DataFrame, ct.SCM],
) -> None:
    spec, true, _, fitted = readmission
    n = 200_000
    # Standard errors of the fitted effect on P(Y = 1) at n = 20k rows, each an effect-scale error:
    # roots drawn from their empirical laws, per-unit contrasts bounded by 0.5: 0.5 / sqrt(n) = 0.0035;
    # Y's logistic coefficients on A and on Z: SE <= 1 / sqrt(n * Var(x | rest) * min p(1 - p)) with
    # Var >= 0.15 and p(1 - p) >= 0.15 -> 0.018, times the largest slope of the sigmoid 0.25 -> 0.0046 each;
    # the offsets' error moves L̂ by at most 4 * 0.018 = 0.07, times Y's 1.2 per unit of L and 0.25: 0.005
    # at most 4 SE, so 0.0013 per SE; Y's coefficient on L (SE 0.018) through the A -> L change of 1.0:
    # 0.0046; L's coefficient on A (SE 0.015) through 1.2 * 0.25: 0.0045; P(Z | A): 0.001; Monte Carlo:
    # 0.0008.
    se_unfair = np.sqrt(0.0035**2 + 2 * 0.0046**2 + 0.0013**2 + 0.001**2 + 0.0008**2)  # ~ 0.0078
    se_fair = np.sqrt(0.0035**2 + 0.0046**2 + 0.0045**2 + 0.0013**2 + 0.0008**2)  # ~ 0.0076
    for paths, se in ((spec.unfair_paths(), se_unfair), (spec.fair_paths(), se_fair)):
        truth = ct.path_effect(true, source="A", paths=paths, n=n, random_state=0)
        est = ct.path_effect(fitted, source="A", paths=paths, n=n, random_state=0)
        assert est == pytest.approx(truth, abs=4 * se)


def test_readmission_counterfactual_abducts_latent(
    readmission: tuple[ct.TrustSpec, ct.SCM, pd.DataFrame, ct.SCM],
) -> None:
    _, _, data, fitted = readmission
    units = data.head(2_000)
    cf = fitted.counterfactual(units, do={"A": 0}, random_state=0)
    assert cf.index.equals(units.index)
    assert (cf["A"] == 0).all()
    # L = b*A + ... + noise (b learned) and X = L + δ(E): with F and E untouched, X moves by exactly -b*A.
    b = fitted.mechanisms["L"].h.coef[0]  # type: ignore[attr-defined]
    np.testing.assert_allclose(cf["X"], units["X"] - b * units["A"], atol=1e-12)
    # Z is downstream of A: units with A = 0 already keep every value (bit-exact anchoring).
    same = units["A"] == 0
    pd.testing.assert_frame_equal(cf[same], units[same])


def test_readmission_fit_is_deterministic(
    readmission: tuple[ct.TrustSpec, ct.SCM, pd.DataFrame, ct.SCM],
) -> None:
    spec, _, data, fitted = readmission
    again = ct.SCM.fit(spec.structure(), data, mechanisms="linear", random_state=0)
    assert pickle.dumps(again.sample(5_000, random_state=0)) == pickle.dumps(
        fitted.sample(5_000, random_state=0)
    )


def test_gbm_fit_is_deterministic(linear_data: pd.DataFrame) -> None:
    data = linear_data.head(3_000)
    a = ct.SCM.fit(LINEAR, data, mechanisms={"Y": "gbm"}, random_state=5)
    b = ct.SCM.fit(LINEAR, data, mechanisms={"Y": "gbm"}, random_state=5)
    assert a.provenance["mechanisms"]["Y"] == "gbm"
    pd.testing.assert_frame_equal(
        a.sample(2_000, random_state=0), b.sample(2_000, random_state=0), check_exact=True
    )


# -- bad input --------------------------------------------------------------------------------------------
@pytest.fixture
def small(
    readmission: tuple[ct.TrustSpec, ct.SCM, pd.DataFrame, ct.SCM],
) -> tuple[ct.TrustSpec, pd.DataFrame]:
    spec, _, data, _ = readmission
    return spec, data.head(200).copy()  # function scope: tests corrupt their copy


def test_missing_column(small: tuple[ct.TrustSpec, pd.DataFrame]) -> None:
    spec, data = small
    with pytest.raises(ct.DataError, match=r"SCM\.fit data: missing column\(s\) \['Z'\]"):
        ct.SCM.fit(spec, data.drop(columns="Z"))


def test_nan_names_column_and_rows(small: tuple[ct.TrustSpec, pd.DataFrame]) -> None:
    spec, data = small
    data.loc[[3, 17], "F"] = np.nan
    with pytest.raises(ct.DataError, match=r"column 'F' has NaN.*2 row\(s\): 3, 17"):
        ct.SCM.fit(spec, data)


def test_undeclared_category(small: tuple[ct.TrustSpec, pd.DataFrame]) -> None:
    spec, data = small
    data.loc[5, "E"] = 7
    with pytest.raises(
        ct.DataError, match=r"'E' has values \[7\] that are not among its declared categories"
    ):
        ct.SCM.fit(spec, data)


def test_string_in_continuous_column(small: tuple[ct.TrustSpec, pd.DataFrame]) -> None:
    spec, data = small
    data["F"] = data["F"].astype(str)
    with pytest.raises(ct.DataError, match=r"column 'F' is continuous but holds"):
        ct.SCM.fit(spec, data)


def test_too_few_rows(small: tuple[ct.TrustSpec, pd.DataFrame]) -> None:
    spec, data = small
    with pytest.raises(ct.DataError, match=r"has 5 row\(s\); fitting with cv=3 folds needs at least 6"):
        ct.SCM.fit(spec, data.head(5))
    ct.SCM.fit(spec, data.head(6), mechanisms="linear")  # the minimum works


def test_bad_arguments(small: tuple[ct.TrustSpec, pd.DataFrame]) -> None:
    spec, data = small
    with pytest.raises(ValueError, match="cv must be an integer >= 2"):
        ct.SCM.fit(spec, data, cv=1)
    with pytest.raises(ValueError, match="mechanisms must be 'auto', 'linear', 'gbm' or a mapping"):
        ct.SCM.fit(spec, data, mechanisms="boosted")
    with pytest.raises(ct.SpecError, match=r"mechanisms\['Q'\]|'Q' is not a variable"):
        ct.SCM.fit(spec, data, mechanisms={"Q": Ridge()})
    with pytest.raises(ct.SpecError, match=r"'X' measures 'L'; its offsets are learned"):
        ct.SCM.fit(spec, data, mechanisms={"X": Ridge()})
    with pytest.raises(ct.SpecError, match=r"'Y' is assumed"):
        ct.SCM.fit(spec, data, mechanisms={"Y": "gbm"}, assume=["Y"])
    with pytest.raises(ct.SpecError, match=r"assume: 'Q' is not a variable"):
        ct.SCM.fit(spec, data, assume=["Q"])
    with pytest.raises(ct.SpecError, match=r"assume: 'Y' has no equation"):
        ct.SCM.fit(spec.structure(), data, assume=["Y"])
    with pytest.raises(ct.SpecError, match=r"'A' has no parents"):
        ct.SCM.fit(spec, data, mechanisms={"A": Ridge()})
    with pytest.raises(ct.SpecError, match=r"'Z' is binary, so its estimator needs predict_proba"):
        ct.SCM.fit(spec, data, mechanisms={"Z": Ridge()})


# -- persistence, user estimators, categorical nodes --------------------------------------------------------
def test_save_load_round_trip(
    readmission: tuple[ct.TrustSpec, ct.SCM, pd.DataFrame, ct.SCM], tmp_path: Path
) -> None:
    spec, _, data, fitted = readmission
    # A boosted mechanism too, so fitted estimators are part of the round trip.
    boosted = ct.SCM.fit(
        spec, data.head(3_000), mechanisms={"Z": "gbm", "L": "linear", "Y": "linear"}, random_state=0
    )
    assert boosted.provenance["mechanisms"]["Z"] == "calibrated-gbm"
    for i, model in enumerate((fitted, boosted)):
        path = tmp_path / f"m{i}.joblib"
        model.save(path)
        loaded = ct.SCM.load(path)
        assert loaded.provenance == model.provenance
        pd.testing.assert_frame_equal(
            loaded.sample(3_000, random_state=0), model.sample(3_000, random_state=0)
        )
        units = data.head(500)
        pd.testing.assert_frame_equal(
            loaded.counterfactual(units, do={"A": 1}, random_state=0),
            model.counterfactual(units, do={"A": 1}, random_state=0),
        )


def test_user_estimator_is_cloned_used_and_recorded(linear_data: pd.DataFrame) -> None:
    ridge = Ridge(alpha=10)
    data = linear_data.head(2_000)
    fitted = ct.SCM.fit(LINEAR, data, mechanisms={"Y": ridge}, random_state=0)
    assert fitted.provenance["mechanisms"]["Y"] == "Ridge(alpha=10)"
    assert not hasattr(ridge, "coef_")  # the user's object is left unfitted (a clone was fitted)
    independent = Ridge(alpha=10).fit(data[["M", "A", "C"]].to_numpy(), data["Y"].to_numpy())
    est = ct.path_effect(fitted, source="A", paths=[("A", "Y")], n=100, random_state=0)
    assert est == pytest.approx(independent.coef_[1], abs=1e-9)
    # Ridge shrinks: with alpha = 10 on 2k rows the coefficient differs from OLS's.
    ols = LinearRegression().fit(data[["M", "A", "C"]], data["Y"]).coef_[1]
    assert abs(independent.coef_[1] - ols) > 1e-4


STRINGS = {
    "name": "strings",
    "target": "Y",
    "variables": {
        "C": {"type": "continuous", "equation": "normal(0, 1)"},
        "G": {"type": "categorical", "categories": ["low", "mid", "high", "never"], "parents": ["C"]},
        "B": {"type": "binary", "parents": ["C"]},
        "Y": {"type": "continuous", "parents": ["C", "G", "B"]},
    },
}


def test_categorical_string_node() -> None:
    rng = np.random.default_rng(4)
    n = 8_000
    c = rng.standard_normal(n)
    logits = np.column_stack([np.zeros(n), 1.5 * c, -1.0 * c])
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    g_code = (p.cumsum(axis=1) < rng.random(n)[:, None]).sum(axis=1)
    g = np.array(["low", "mid", "high"])[g_code]
    y = c + 2.0 * (g == "high") - 1.0 * (g == "mid") + rng.standard_normal(n)
    data = pd.DataFrame({"C": c, "G": g, "B": np.ones(n, dtype=int), "Y": y})
    fitted = ct.SCM.fit(STRINGS, data, mechanisms="linear", random_state=0)
    draws = fitted.sample(n, random_state=1)
    assert set(draws["G"]) <= {"low", "mid", "high"}  # "never" is declared but unseen: probability 0
    # A single observed class gives a constant mechanism.
    assert fitted.provenance["mechanisms"]["B"] == "constant"
    assert (draws["B"] == 1).all()
    # Frequencies: the multinomial logistic model is well specified; each share has SE ~ 0.5 / sqrt(n)
    # = 0.0056 from fitting and as much from sampling: 5 SE ~ 0.04.
    for level in ("low", "mid", "high"):
        assert (draws["G"] == level).mean() == pytest.approx((g == level).mean(), abs=0.04)
    # The one-hot categorical parent: Y's effect of G ('low' -> 'high') is 2.0; OLS SE ~ 1 / sqrt(n / 3).
    eff = ct.path_effect(fitted, source="G", target="Y", value="high", baseline="low", n=100, random_state=0)
    assert eff == pytest.approx(2.0, abs=5 / np.sqrt(n / 3))
    # A category added after fitting (never seen, no one-hot column) falls back on the intercept, no crash.
    shifted = fitted.intervene(categories={"G": ["low", "mid", "high", "never", "new"]}, do={"G": "new"})
    assert np.isfinite(shifted.sample(100, random_state=0)["Y"]).all()
    # Counterfactuals on the observed units with a categorical node work (Gumbel abduction).
    cf = fitted.counterfactual(data.head(300), do={"C": 0.0}, random_state=0)
    assert set(cf["G"]) <= {"low", "mid", "high"}
