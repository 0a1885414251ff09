"""Regressor twins: least squares, unawareness, Kusner's Fair Add, augmentation, bounded group loss.

Ground truth is computed independently with ``numpy.linalg.lstsq`` on hand-built one-hot designs (Kusner's
Fair Add: residuals of UGPA and LSAT on race and sex, then least squares of ZFYA on the residuals).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causaltrust as ct
from causaltrust.exceptions import DataError, SpecError
from causaltrust.learners import (
    BoundedGroupLossRegressor,
    CounterfactualAugmentationRegressor,
    CounterfactualFairRegressor,
    ERMRegressor,
    UnawareRegressor,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:fairlearn.*")

SPEC = ct.datasets.spec("law_school")
RACES = list(SPEC.variables["race"].categories or ())


@pytest.fixture(scope="module")
def law() -> pd.DataFrame:
    # 3,000 rows keep the tests fast; every race level has at least a handful of students.
    return ct.datasets.load("law_school").sample(n=3_000, random_state=0).reset_index(drop=True)


def _onehot(df: pd.DataFrame, with_race_sex: bool = True) -> np.ndarray:
    cols = [np.ones(len(df))]
    if with_race_sex:
        cols += [(df["race"] == r).to_numpy(float) for r in RACES[1:]]
        cols += [(df["sex"] == "male").to_numpy(float)]
    return np.column_stack(cols)


def _lstsq(Z: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.linalg.lstsq(Z, y, rcond=None)[0]


def test_erm_and_unaware_are_least_squares(law: pd.DataFrame) -> None:
    X, y = law[SPEC.features], law["ZFYA"].to_numpy()
    full = np.column_stack([_onehot(law), law[["UGPA", "LSAT"]].to_numpy(float)])
    np.testing.assert_allclose(
        ERMRegressor(spec=SPEC).fit(X, y).predict(X), full @ _lstsq(full, y), atol=1e-8
    )
    unaware = np.column_stack([_onehot(law, False), law[["UGPA", "LSAT"]].to_numpy(float)])
    reg = UnawareRegressor(spec=SPEC, protected=["race", "sex"]).fit(X, y)
    assert reg.design_.features == ["UGPA", "LSAT"]
    np.testing.assert_allclose(reg.predict(X), unaware @ _lstsq(unaware, y), atol=1e-8)


def test_fair_add_is_kusners_residual_regression(law: pd.DataFrame) -> None:
    X, y = law[SPEC.features], law["ZFYA"].to_numpy()
    reg = CounterfactualFairRegressor(spec=SPEC, protected=["race", "sex"], scm_mechanisms="linear")
    pred = reg.fit(X, y).predict(X)
    assert reg.representation_ == ["noise[UGPA]", "noise[LSAT]"]
    # Kusner's Fair Add by hand: residuals of GPA and LSAT on race and sex, then least squares of FYA.
    D = _onehot(law)
    res = [law[v].to_numpy(float) - D @ _lstsq(D, law[v].to_numpy(float)) for v in ("UGPA", "LSAT")]
    Z = np.column_stack([np.ones(len(law)), *res])
    np.testing.assert_allclose(pred, Z @ _lstsq(Z, y), atol=1e-6)


def test_fair_add_is_counterfactually_invariant_under_its_scm(law: pd.DataFrame) -> None:
    X, y = law[SPEC.features], law["ZFYA"]
    reg = CounterfactualFairRegressor(spec=SPEC, protected=["race", "sex"], scm_mechanisms="linear")
    reg.fit(X, y)
    erm = ERMRegressor(spec=SPEC).fit(X, y)
    base = law[[*SPEC.observed]]
    for do in ({"race": "Black"}, {"sex": "female"}):
        cf = reg.scm_.counterfactual(base, do=do, random_state=0)
        # Additive noise is abducted exactly: the prediction cannot move (up to float rounding).
        assert np.abs(reg.predict(cf[SPEC.features]) - reg.predict(X)).max() < 1e-9
        # The check can fail: least squares on race, sex, GPA and LSAT moves for the changed units (by
        # about 0.03 SD for sex, more for race: far above the 1e-9 above).
        assert np.abs(erm.predict(cf[SPEC.features]) - erm.predict(X)).max() > 0.01


def test_fair_add_with_the_specs_protected_attribute_keeps_sex(law: pd.DataFrame) -> None:
    reg = CounterfactualFairRegressor(spec=SPEC, scm_mechanisms="linear").fit(law[SPEC.features], law["ZFYA"])
    assert reg.protected_ == ["race"]
    assert reg.nondescendants_ == ["sex"]


def test_level_2_is_refused_until_latent_factors_exist(law: pd.DataFrame) -> None:
    with pytest.raises(SpecError, match=r"level=2.*latent factors.*use level=3"):
        CounterfactualFairRegressor(spec=SPEC, level=2).fit(law[SPEC.features], law["ZFYA"])
    with pytest.raises(ValueError, match=r"'level' parameter of CounterfactualFairRegressor must be"):
        CounterfactualFairRegressor(spec=SPEC, level=1).fit(law[SPEC.features], law["ZFYA"])


def test_augmentation_adds_one_twin_per_other_level(law: pd.DataFrame) -> None:
    sub = law.head(500)
    reg = CounterfactualAugmentationRegressor(spec=SPEC, protected="sex", scm_mechanisms="linear")
    reg.fit(sub[SPEC.features], sub["ZFYA"])
    assert reg.n_train_rows_ == 1_000  # every unit has exactly one other sex
    # Trained on twins with the target kept, the sex coefficient shrinks toward 0 relative to ERM.
    erm = ERMRegressor(spec=SPEC).fit(sub[SPEC.features], sub["ZFYA"])
    i = erm.design_.names.index("sex=male")
    assert abs(reg.estimator_.coef_[i]) < abs(erm.estimator_.coef_[i])


def test_bounded_group_loss_lowers_the_worst_group_error() -> None:
    # A minority group (20%) with another slope: least squares fits the majority's slope, so the minority's
    # error is large; a model that weights the minority up trades overall error for a lower worst group.
    rng = np.random.default_rng(0)
    n = 1_000
    g = (rng.random(n) < 0.2).astype(int)
    x = rng.normal(size=n)
    y = x + 2.0 * g * x + rng.normal(scale=0.3, size=n)
    spec = ct.load_spec({
        "target": "Y",
        "variables": {
            "G": {"type": "binary", "role": "protected"},
            "X": {"type": "continuous"},
            "Y": {"type": "continuous", "parents": ["G", "X"]},
        },
        "fairness": {"protected": "G", "unfair_paths": [["G", "Y"]]},
    })  # fmt: skip
    X = pd.DataFrame({"G": g, "X": x})

    def mse(pred: np.ndarray, k: int | None = None) -> float:
        m = np.ones(n, bool) if k is None else g == k
        return float(np.mean((pred[m] - y[m]) ** 2))

    erm = ERMRegressor(spec=spec).fit(X, y).predict(X)
    bgl_reg = BoundedGroupLossRegressor(spec=spec, max_iter=15).fit(X, y)
    bgl = bgl_reg.predict(X)
    # The default bound is ERM's pooled training error.
    assert bgl_reg.upper_bound_ == pytest.approx(mse(erm))
    # ERM: slope ≈ 1.4 (0.8·1 + 0.2·3), minority error ≈ 1.6²·Var(x) ≈ 2.5 against ≈ 0.25 for the
    # majority; the constraint must bring the minority's error down by far more than seed noise (5%).
    assert max(mse(bgl, 0), mse(bgl, 1)) < 0.95 * max(mse(erm, 0), mse(erm, 1))
    assert mse(bgl) >= mse(erm) - 1e-9  # least squares is the best pooled fit


def test_bad_inputs_are_one_clear_error(law: pd.DataFrame) -> None:
    compas = ct.datasets.spec("compas")
    with pytest.raises(SpecError, match="use ERMClassifier"):
        ERMRegressor(spec=compas).fit(ct.datasets.load("compas").head(50)[compas.features], np.zeros(50))
    with pytest.raises(DataError, match="y has missing values"):
        ERMRegressor(spec=SPEC).fit(law[SPEC.features].head(3), [0.0, np.nan, 1.0])
    with pytest.raises(DataError, match="y has infinite values"):
        ERMRegressor(spec=SPEC).fit(law[SPEC.features].head(3), [0.0, np.inf, 1.0])
    with pytest.raises(SpecError, match="'UGPA' is continuous"):
        UnawareRegressor(spec=SPEC, protected=["UGPA"]).fit(law[SPEC.features], law["ZFYA"])
    with pytest.raises(SpecError, match="one grouping attribute"):
        BoundedGroupLossRegressor(spec=SPEC, protected=["race", "sex"]).fit(law[SPEC.features], law["ZFYA"])
    with pytest.raises(DataError, match=r"X has 3 feature\(s\) \(columns\) but reads 4: the spec.s features"):
        ERMRegressor(spec=SPEC).fit(law[SPEC.features[:3]].to_numpy(), law["ZFYA"])


def test_an_array_in_the_specs_feature_order_is_read_as_those_columns(law: pd.DataFrame) -> None:
    X, y = law[SPEC.features], law["ZFYA"]
    for cls in (ERMRegressor, CounterfactualFairRegressor):
        on_frame = cls(spec=SPEC, random_state=0).fit(X, y)
        on_array = cls(spec=SPEC, random_state=0).fit(X.to_numpy(), y.to_numpy())
        np.testing.assert_array_equal(on_array.predict(X.to_numpy()), on_frame.predict(X))
