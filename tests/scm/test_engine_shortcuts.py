"""The engine's shortcuts (issue 30) give the same bits as the general computation they replace.

Ground truth is the general path itself, reached with inputs the shortcut does not take (a per-unit do()
array instead of one number, a continuous co-parent instead of a categorical one), and hand formulas.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

import causaltrust as ct

SCENARIOS = [("readmission", "A", 0, "L"), ("lending", "race", "white", "S"), ("hiring", "G", 0, "K")]


@pytest.mark.parametrize(("name", "protected", "value", "latent"), SCENARIOS)
def test_scalar_do_equals_the_per_unit_array(name: str, protected: str, value: object, latent: str) -> None:
    # A scalar do() value is evaluated once; the same value as a per-unit array takes the general path.
    _, scm = ct.scenarios.load(name)
    df = scm.sample(2_000, random_state=1).drop(columns=latent)
    scalar = scm.counterfactual(df, do={protected: value}, random_state=3)
    array = scm.counterfactual(df, do={protected: [value] * len(df)}, random_state=3)
    pd.testing.assert_frame_equal(scalar, array, check_exact=True)
    assert scalar[protected].eq(value).all()


def test_unchanged_columns_pass_through_in_their_dtype() -> None:
    _, scm = ct.scenarios.load("readmission")
    df = scm.sample(500, random_state=0).drop(columns="L")
    df["Z"] = df["Z"].astype(np.int32)  # an unchanged binary column keeps the caller's dtype and values
    out = scm.counterfactual(df, do={"Z": 1}, random_state=0)
    assert out["E"].dtype == np.int64
    assert out["A"].dtype == df["A"].dtype
    pd.testing.assert_series_equal(out["A"], df["A"])
    pd.testing.assert_series_equal(out["E"], df["E"])
    out["E"] = 0  # the result owns its columns
    assert df["E"].max() == 2


def _with_measurement(equation: str) -> ct.SCM:
    spec = ct.scenarios.load("readmission")[0].to_dict()
    spec = copy.deepcopy(spec)
    spec["variables"]["X"]["equation"] = equation
    return ct.SCM.from_spec(spec)


def test_latent_recovered_with_a_non_unit_slope_per_category() -> None:
    # X = (1 + (E == 1)) * L + 0.8*(E == 2): slope 2 in hospital 1, else 1; L = (X - 0.8*(E == 2)) / slope.
    scm = _with_measurement("L + L*(E == 1) + 0.8*(E == 2)")
    df = scm.sample(3_000, random_state=0)
    cols = scm.recover_latents(scm.columns(df.drop(columns="L")), ["X"])
    e = df["E"].to_numpy()
    by_hand = (df["X"].to_numpy() - 0.8 * (e == 2)) / (1.0 + (e == 1))
    np.testing.assert_allclose(cols["L"], by_hand, rtol=0, atol=1e-12)
    np.testing.assert_allclose(cols["L"], df["L"].to_numpy(), rtol=0, atol=1e-12)


def test_latent_recovered_with_a_continuous_co_parent() -> None:
    # F is continuous, so the per-category table does not apply: the general path must still invert.
    scm = _with_measurement("L + 0.3*F - 0.5*(E == 2)")
    df = scm.sample(3_000, random_state=0)
    cols = scm.recover_latents(scm.columns(df.drop(columns="L")), ["X"])
    np.testing.assert_allclose(cols["L"], df["L"].to_numpy(), rtol=0, atol=1e-12)
