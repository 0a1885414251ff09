"""Latent factors with several noisy indicators (issue 27): spec checks, SVI fit, per-unit posterior.

Ground truth: the simulating parameters and the closed-form Gaussian posterior of K in a linear-Gaussian
factor model; tolerances are multiples of the standard errors at each n (stated where used).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

import causaltrust as ct
from causaltrust.exceptions import IdentificationError, SpecError

pytest.importorskip("pyro")

N_LIN = 5_000
# K = 0.7 W + N(0, 1); X1 = 1 + K + 0.5 A + N(0, 0.6²); X2 = -0.5 + 0.8 K - 0.4 A + N(0, 0.5²);
# X3 = 0.3 + 1.2 K + N(0, 0.8²); Y = 1.5 K + 0.5 A + N(0, 1).
TRUE = {
    "a": 0.7,
    "sk": 1.0,
    "b": (1.0, -0.5, 0.3),
    "lam": (1.0, 0.8, 1.2),
    "cA": (0.5, -0.4, 0.0),
    "sd": (0.6, 0.5, 0.8),
}
LINEAR = {
    "name": "factor-linear",
    "target": "Y",
    "features": ["A", "W", "X1", "X2", "X3"],
    "variables": {
        "A": {"type": "binary", "equation": "bernoulli(0.5)"},
        "W": {"type": "continuous", "equation": "normal(0, 1)"},
        "K": {"type": "continuous", "observed": False, "equation": "0.7*W + normal(0, 1)",
              "indicators": ["X1", "X2", "X3"]},
        "X1": {"type": "continuous", "equation": "1 + K + 0.5*A + normal(0, 0.6)"},
        "X2": {"type": "continuous", "equation": "-0.5 + 0.8*K - 0.4*A + normal(0, 0.5)"},
        "X3": {"type": "continuous", "equation": "0.3 + 1.2*K + normal(0, 0.8)"},
        "Y": {"type": "continuous", "equation": "1.5*K + 0.5*A + normal(0, 1)"},
    },
    "fairness": {"protected": "A", "unfair_paths": [["A", "X1"], ["A", "X2"], ["A", "Y"]]},
}  # fmt: skip


def closed_form_posterior(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian posterior of K given W, A, X1..X3 under the TRUE parameters (conjugate normal)."""
    prec = np.full(len(df), 1.0 / TRUE["sk"] ** 2)
    num = TRUE["a"] * df["W"].to_numpy() / TRUE["sk"] ** 2
    for j, x in enumerate(("X1", "X2", "X3")):
        lam, sd = TRUE["lam"][j], TRUE["sd"][j]
        resid = df[x].to_numpy() - TRUE["b"][j] - TRUE["cA"][j] * df["A"].to_numpy()
        prec = prec + lam**2 / sd**2
        num = num + lam * resid / sd**2
    return num / prec, 1.0 / np.sqrt(prec)


@pytest.fixture(scope="module")
def linear() -> tuple[ct.TrustSpec, pd.DataFrame, ct.SCM]:
    spec = ct.load_spec(LINEAR)
    df = ct.SCM.from_spec(spec).sample(N_LIN, random_state=0)
    scm = ct.SCM.fit(spec.structure(), df.drop(columns="K"), mechanisms="linear", random_state=0)
    return spec, df, scm


def _indicator(scm: ct.SCM, x: str):  # the fitted link of an indicator
    return scm.mechanisms[x].h.ind  # type: ignore[attr-defined]


def test_linear_gaussian_loadings_are_recovered(linear) -> None:
    _, _, scm = linear
    # Factor-model loadings at n = 5,000 with reliabilities 0.7-0.8: SE ≈ 0.015-0.02 (delta method on the
    # covariances). 0.06 is 3-4 SE; the noise sds likewise (SE ≈ 0.01).
    for j, x in enumerate(("X1", "X2", "X3")):
        ind = _indicator(scm, x)
        assert ind.loading == pytest.approx(TRUE["lam"][j], abs=0.06), x
        assert ind.sd == pytest.approx(TRUE["sd"][j], abs=0.04), x
        if TRUE["cA"][j]:
            assert float(ind.coef[0]) == pytest.approx(TRUE["cA"][j], abs=0.06), x
    model = scm.mechanisms["K"].model  # type: ignore[attr-defined]
    assert float(model.coef[0]) == pytest.approx(TRUE["a"], abs=0.06)
    assert model.scale == pytest.approx(TRUE["sk"], abs=0.06)
    assert _indicator(scm, "X1").loading == 1.0  # fixed: scale and sign of K
    node = scm.provenance["nodes"]["K"]
    assert node["status"] == "learned"
    assert node["inference"]["method"].startswith("SVI (Pyro")
    assert len(node["inference"]["elbo_trace"]) > 10
    assert set(node["inference"]["ppc"]) == {"X1", "X2", "X3"}


def test_posterior_matches_the_closed_form(linear) -> None:
    _, df, scm = linear
    post = scm.latent_posterior(df)
    mean, sd = closed_form_posterior(df)
    # Under the fitted parameters the posterior differs from the true-parameter one by the parameter error
    # (~2% per parameter at n = 5,000): the posterior mean moves by < 0.15 posterior sd for |K| <= 4.
    assert np.max(np.abs(post["mean"] - mean) / sd) < 0.2
    assert np.mean(np.abs(post["mean"] - mean) / sd) < 0.05
    np.testing.assert_allclose(post["sd"], sd, rtol=0.03)
    # The quadrature itself is exact for a Gaussian: same formula with the FITTED parameters.
    model = scm.mechanisms["K"].model  # type: ignore[attr-defined]
    prec = np.full(len(df), 1.0 / model.scale**2)
    num = model.coef[0] * df["W"].to_numpy() / model.scale**2
    for x in ("X1", "X2", "X3"):
        ind = _indicator(scm, x)
        off = ind.intercept + (ind.coef[0] * df["A"].to_numpy() if ind.coef.size else 0.0)
        prec = prec + ind.loading**2 / ind.sd**2
        num = num + ind.loading * (df[x].to_numpy() - off) / ind.sd**2
    np.testing.assert_allclose(post["mean"], num / prec, atol=1e-4 / np.sqrt(prec).min())
    np.testing.assert_allclose(post["sd"], 1.0 / np.sqrt(prec), rtol=1e-4)


def test_abduct_returns_posterior_draws(linear) -> None:
    _, df, scm = linear
    units = df.drop(columns="K").iloc[:40]
    ab = scm.abduct(units, ["K", "X1", "Y"], random_state=0, n_draws=400)
    draws = ab.columns["K"].reshape(40, 400)
    post = scm.latent_posterior(units)
    # 400 draws: the mean's SE is sd/20 (5 SE = 0.25 sd), the sd's relative SE 1/sqrt(800) = 3.5% (5 SE).
    assert np.all(np.abs(draws.mean(axis=1) - post["mean"]) < 0.25 * post["sd"])
    np.testing.assert_allclose(draws.std(axis=1), post["sd"], rtol=0.18)
    # A counterfactual with several draws carries several values of K per unit.
    cf = scm.counterfactual(units, do={"A": 1}, n_draws=8, include_latent=True, random_state=0)
    assert cf["K"].groupby(level=0).std().min() > 0


def test_children_of_k_other_than_indicators_are_fitted_on_its_posterior_mean(linear) -> None:
    _, _, scm = linear
    # Regression calibration: Y on E[K | X, A, W] and A is unbiased for Y's linear slope on K. SE of the
    # slope: sd(resid) / (sd(E[K|.]) sqrt(n)) ≈ 1.1 / (1.1 * 70) = 0.015; 0.08 is ~5 SE.
    coef = scm.mechanisms["Y"].h.coef  # type: ignore[attr-defined]
    parents = scm.parents["Y"]
    assert coef[parents.index("K")] == pytest.approx(1.5, abs=0.08)
    assert coef[parents.index("A")] == pytest.approx(0.5, abs=0.08)


def test_audit_with_a_latent_factor(linear) -> None:
    spec, df, scm = linear
    test = df.drop(columns="K").iloc[:600]
    train = df.drop(columns="K").iloc[600:]
    feats = spec.features
    model = LinearRegression().fit(train[feats], train["Y"])
    rep = ct.audit(model, spec=spec, scm=scm, data=test, objectives=["fairness"], n_bootstrap=10)
    beta = dict(zip(feats, model.coef_, strict=True))
    c1 = float(_indicator(scm, "X1").coef[0])
    c2 = float(_indicator(scm, "X2").coef[0])
    # Linear model and linear mechanisms: the unfair effect (A 0 -> 1 along A->X1, A->X2, A->Yhat) is
    # beta_A + beta_X1 c1 + beta_X2 c2 for every unit and every posterior draw of K (K is not A's
    # descendant), so the mean and the per-unit |Δ| agree with it up to float rounding.
    expected = beta["A"] + beta["X1"] * c1 + beta["X2"] * c2
    assert rep.metric("fairness.unfair_path_effect").value == pytest.approx(expected, abs=1e-9)
    per_unit = rep.metric("fairness.unfair_path_effect_abs")
    assert per_unit.value == pytest.approx(abs(expected), abs=1e-9)
    assert "posterior draws" in per_unit.method


def test_selective_learner_through_the_latent_factor(linear) -> None:
    spec, df, scm = linear
    data = df.drop(columns="K")
    train, test = data.iloc[1000:], data.iloc[:600]
    reg = ct.learners.SelectiveInvarianceRegressor(spec=spec, estimator=LinearRegression(), scm=scm)
    reg.fit(train[spec.features], train["Y"])
    rep = ct.audit(reg, spec=spec, scm=scm, data=test, objectives=["fairness"], n_bootstrap=10)
    # The fair-world features undo A along every unfair path, so the prediction cannot move along them.
    assert rep.metric("fairness.unfair_path_effect").value == pytest.approx(0.0, abs=1e-9)


def test_sensitivity_unmeasure_an_indicator(linear) -> None:
    spec, df, _ = linear
    data = df.drop(columns="K").iloc[:2000]
    model = LinearRegression().fit(data[spec.features], data["Y"])
    sens = ct.sensitivity(
        model, spec=spec.structure(), data=data, edits=[{"op": "unmeasure", "variable": "X3"}],
        objectives=["fairness"], mechanisms="linear", n_bootstrap=10,
    )  # fmt: skip
    row = sens[sens.edit == "unmeasure X3"].iloc[0]
    # Two indicators without a fixed loading: the edited spec is not identified, and says so.
    assert "indicator" in row.reason
    assert np.isnan(row.edited)


# -- identification and spec errors ------------------------------------------------------------------------
def _spec(indicators: list[str], **extra: object) -> dict[str, object]:
    variables: dict[str, object] = {
        "A": {"type": "binary"},
        "K": {"type": "continuous", "observed": False, "indicators": indicators, **extra},
        "X1": {"type": "continuous", "parents": ["K"]},
        "X2": {"type": "continuous", "parents": ["K", "A"]},
        "X3": {"type": "binary", "parents": ["K"]},
        "Y": {"type": "continuous", "parents": ["X1"]},
    }
    return {"target": "Y", "variables": variables}


def test_identification_errors_name_the_variables() -> None:
    with pytest.raises(IdentificationError, match=r"'K' has 2 indicator\(s\) \['X1', 'X2'\].*'X2'"):
        ct.scm.factor_latents(ct.load_spec(_spec(["X1", "X2"])))
    with pytest.raises(IdentificationError, match=r"'K' has 1 indicator"):
        ct.scm.factor_latents(ct.load_spec(_spec(["X1"])))
    # Two indicators with the second loading fixed are identified; three always are.
    assert ct.scm.factor_latents(ct.load_spec(_spec(["X1", "X2"], loadings={"X2": 0.8}))) == {
        "K": ("X1", "X2")
    }
    assert ct.scm.factor_latents(ct.load_spec(_spec(["X1", "X2", "X3"])))["K"] == ("X1", "X2", "X3")
    # A parent of both K and an indicator: its effect on the indicator is confounded with K's.
    both = _spec(["X1", "X2", "X3"])
    both["variables"]["K"]["parents"] = ["A"]  # type: ignore[index]
    with pytest.raises(IdentificationError, match=r"'A' is a parent of the indicator 'X2'"):
        ct.scm.factor_latents(ct.load_spec(both))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"K": {"indicators": ["X1", "X2", "Y"]}}, r"'K' is not a parent of 'Y'"),
        ({"K": {"indicators": ["X1", "X2", "X2"]}}, "listed twice"),
        ({"K": {"loadings": {"X1": 2.0}}}, r"first indicator's loading is fixed at \+1"),
        ({"K": {"loadings": {"Y": 2.0}}}, r"'Y' is not one of its indicators"),
        ({"X1": {"indicators": ["X2"]}}, "belongs on a latent"),
    ],
)
def test_spec_errors(change: dict[str, dict[str, object]], match: str) -> None:
    raw = _spec(["X1", "X2", "X3"])
    for var, fields in change.items():
        raw["variables"][var].update(fields)  # type: ignore[index]
    with pytest.raises(SpecError, match=match):
        ct.load_spec(raw)


def test_level2_design_uses_the_posterior_and_non_descendants(linear) -> None:
    spec, df, scm = linear
    units = df.drop(columns="K").iloc[:100]
    design = ct.learners.level2_design(scm, units)
    # W and X3 are not descendants of A; X1 and X2 are (A -> X1, A -> X2); A itself is left out.
    assert list(design.columns) == ["K", "W", "X3"]
    np.testing.assert_allclose(design["K"], scm.latent_posterior(units)["mean"])
    # The target never enters the posterior: the design is a function of the features only.
    np.testing.assert_allclose(ct.learners.level2_design(scm, units.drop(columns="Y"))["K"], design["K"])
    with pytest.raises(SpecError, match="no fitted latent factor"):
        ct.learners.level2_design(ct.SCM.from_spec(spec), units)


def test_save_and_load_keep_the_factor(linear, tmp_path) -> None:
    _, df, scm = linear
    path = tmp_path / "factor.npz"
    scm.save(path)
    back = ct.SCM.load(path)
    units = df.drop(columns="K").iloc[:50]
    pd.testing.assert_frame_equal(back.latent_posterior(units), scm.latent_posterior(units))
    pd.testing.assert_frame_equal(
        back.counterfactual(units, do={"A": 1}, random_state=0),
        scm.counterfactual(units, do={"A": 1}, random_state=0),
    )


def test_level2_design_with_several_protected_attributes(linear) -> None:
    _, df, scm = linear
    units = df.drop(columns="K").iloc[:20]
    # K = 0.7 W + noise: protecting W too makes K a descendant of a protected attribute: refused.
    with pytest.raises(IdentificationError, match=r"\['K'\] are descendants of the protected \['A', 'W'\]"):
        ct.learners.level2_design(scm, units, protected=["A", "W"])
    with pytest.raises(SpecError, match=r"protected \['B'\]"):
        ct.learners.level2_design(scm, units, protected=["A", "B"])


def test_provenance_notes_name_the_inference(linear) -> None:
    _, _, scm = linear
    notes = {line.split(":")[0]: line for line in scm.provenance_notes()}
    assert notes["K"].startswith("K: learned: latent factor (SVI), ELBO ")
    assert "indicator of K with a gaussian family" in notes["X2"]
    assert any("regression calibration" in a for a in scm.provenance["assumptions"])


def test_counterfactual_fair_regressor_level2(linear) -> None:
    spec, df, scm = linear
    data = df.drop(columns="K")
    train, test = data.iloc[1000:], data.iloc[:300]
    reg = ct.learners.CounterfactualFairRegressor(spec=spec, scm=scm, level=2, protected=["A"])
    reg.fit(train[spec.features], train["Y"])
    assert reg.representation_ == ["K", "W", "X3"]
    design = ct.learners.level2_design(scm, test, protected=["A"])
    expected = LinearRegression().fit(ct.learners.level2_design(scm, train, protected=["A"]), train["Y"])
    np.testing.assert_allclose(reg.predict(test[spec.features]), expected.predict(design), atol=1e-9)
