"""ct.sensitivity on a linear SCM where every number has a closed form from OLS coefficients."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

import causaltrust as ct
from causaltrust.sensitivity import apply_edit, default_edits

SPEC = {
    "name": "linear",
    "target": "Y",
    "features": ["A", "Z", "W"],
    "variables": {
        "A": {"type": "binary", "parents": []},
        "Z": {"type": "continuous", "parents": ["A"]},
        "W": {"type": "continuous", "parents": ["A", "Z"]},
        "Y": {"type": "continuous", "parents": ["A", "Z", "W"]},
    },
    "fairness": {"protected": "A", "baseline": 0, "unfair_paths": [["A", "Z"]]},
}


def _data(n: int = 4_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    A = rng.integers(0, 2, n).astype(float)
    Z = 1.0 * A + rng.normal(size=n)
    W = 0.5 * A + 0.8 * Z + rng.normal(size=n)
    Y = 0.3 * A + 0.7 * W + 0.4 * Z + rng.normal(size=n)
    return pd.DataFrame({"A": A, "Z": Z, "W": W, "Y": Y})


def _ols(df: pd.DataFrame, y: str, xs: list[str]) -> dict[str, float]:
    X = np.column_stack([np.ones(len(df)), df[xs].to_numpy()])
    coef = np.linalg.lstsq(X, df[y].to_numpy(), rcond=None)[0]
    return dict(zip(xs, coef[1:], strict=True))


def _run(edits: list[dict[str, object]], spec: dict[str, object] = SPEC) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = _data()
    model = LinearRegression().fit(df[["A", "Z", "W"]], df["Y"])
    sens = ct.sensitivity(
        model, spec=spec, data=df, edits=edits, objectives=["fairness"], mechanisms="linear", n_bootstrap=10
    )
    return sens, df


def _effect(sens: pd.DataFrame, edit: str) -> pd.Series:
    return sens[(sens.edit == edit) & (sens.metric == "fairness.unfair_path_effect")].iloc[0]


def test_dropping_an_edge_on_an_unfair_path_changes_the_effect_by_the_closed_form() -> None:
    sens, df = _run([{"op": "drop_edge", "edge": ["Z", "W"]}])
    beta = dict(zip(["A", "Z", "W"], LinearRegression().fit(df[["A", "Z", "W"]], df["Y"]).coef_, strict=True))
    c_az = _ols(df, "Z", ["A"])["A"]
    c_zw = _ols(df, "W", ["A", "Z"])["Z"]
    # Linear model and linear mechanisms: the unfair-path effect (A 0 -> 1 along A->Z->...->Yhat) is
    # beta_Z*c_AZ + beta_W*c_ZW*c_AZ; without Z->W only beta_Z*c_AZ remains. Exact up to float rounding.
    row = _effect(sens, "drop Z->W")
    assert row.base == pytest.approx(beta["Z"] * c_az + beta["W"] * c_zw * c_az, abs=1e-9)
    assert row.change == pytest.approx(-beta["W"] * c_zw * c_az, abs=1e-9)
    assert row.reason == ""


def test_set_role_fair_and_unfair() -> None:
    sens, df = _run(
        [
            {"op": "set_role", "path": ["A", "Z"], "role": "fair"},
            {"op": "set_role", "path": ["A", "W"], "role": "unfair"},
        ]
    )
    beta = dict(zip(["A", "Z", "W"], LinearRegression().fit(df[["A", "Z", "W"]], df["Y"]).coef_, strict=True))
    c = _ols(df, "W", ["A", "Z"])
    assert _effect(sens, "role [A, Z] fair").edited == pytest.approx(0.0, abs=1e-12)
    # Adding [A, W] as unfair adds the path A->W->Yhat: beta_W * c_AW.
    assert _effect(sens, "role [A, W] unfair").change == pytest.approx(beta["W"] * c["A"], abs=1e-9)


def test_unidentified_edit_is_a_row_and_a_threshold_flip_is_flagged() -> None:
    spec = {**SPEC, "thresholds": {"fairness.unfair_path_effect": {"max": 0.9}}}
    sens, _ = _run([{"op": "add_edge", "edge": ["W", "A"]}, {"op": "drop_edge", "edge": ["Z", "W"]}], spec)
    cyc = sens[sens.edit == "add W->A"]
    assert len(cyc) == 1
    assert "cycle" in cyc.iloc[0].reason
    row = _effect(sens, "drop Z->W")
    # base ~ 0.4*1 + 0.7*0.8*1 = 0.96 fails max 0.9; edited ~ 0.4 passes
    assert bool(row.base_passed) is False
    assert bool(row.edited_passed) is True
    assert bool(row.flipped) is True


def test_bad_edits_are_errors() -> None:
    spec = ct.load_spec(SPEC)
    with pytest.raises(ct.SpecError, match="no such edge"):
        apply_edit(spec, {"op": "drop_edge", "edge": ["Y", "A"]})
    with pytest.raises(ct.SpecError, match="needs 'op'"):
        apply_edit(spec, {"op": "flip"})
    with pytest.raises(ct.SpecError, match="no 'measures:'"):
        apply_edit(spec, {"op": "unmeasure", "variable": "W"})


def test_default_edits_cover_every_edge_around_the_protected_attribute() -> None:
    spec = ct.load_spec(SPEC)
    labels = {(e["op"], tuple(e["edge"])) for e in default_edits(spec)}
    # A's edges A->Z, A->W, A->Y are dropped; A has no non-adjacent variable left to add an edge to.
    assert labels == {("drop_edge", ("A", "Z")), ("drop_edge", ("A", "W")), ("drop_edge", ("A", "Y"))}


def test_unmeasure_and_edits_at_a_measurement_on_readmission() -> None:
    spec, scm = ct.scenarios.load("readmission")
    observed = [v for v in spec.variables if spec.variables[v].observed]
    df = scm.sample(1_000, random_state=0)[observed]
    model = LinearRegression().fit(df[spec.features], df[spec.target])
    edits = [{"op": "unmeasure", "variable": "X"}, {"op": "drop_edge", "edge": ["E", "X"]}]
    sens = ct.sensitivity(
        model, spec=spec, data=df, edits=edits, objectives=["fairness"], mechanisms="linear", n_bootstrap=5
    )
    unmeasured = sens[sens.edit == "unmeasure X"]
    assert len(unmeasured) == 1  # L has no measurement left: not identified, one row with the reason
    assert "has no measurement" in unmeasured.iloc[0].reason
    # X = L with no offset parent is still a measurement of L: identified, every metric computed.
    dropped = sens[sens.edit == "drop E->X"]
    assert (dropped.reason == "").all()
    assert dropped.edited.notna().all()
