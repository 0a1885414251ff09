"""Sampling and hard interventions, checked against closed forms (linear-Gaussian SCMs) and invariants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import causaltrust as ct
from causaltrust import _dag
from strategies import SETTINGS, LinearSCM, linear_scms, mixed_scms

N = 20_000


def linear_moments(gen: LinearSCM, do: dict[str, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mean vector and covariance matrix of a linear-Gaussian SCM (optionally under hard interventions).

    With V = c + B V + D^(1/2) eps, V = (I - B)^-1 (c + D^(1/2) eps); do(X = x) zeroes X's row of B, sets
    c_X = x and removes X's noise.
    """
    names = list(gen.parents)
    k = len(names)
    idx = {v: i for i, v in enumerate(names)}
    b = np.zeros((k, k))
    c = np.array([gen.intercepts[v] for v in names])
    d = np.array([gen.scales[v] ** 2 for v in names])
    for v, coefs in gen.coefs.items():
        for p, w in coefs.items():
            b[idx[v], idx[p]] = w
    for v, x in (do or {}).items():
        b[idx[v], :] = 0.0
        c[idx[v]] = x
        d[idx[v]] = 0.0
    inv = np.linalg.inv(np.eye(k) - b)
    return inv @ c, inv @ np.diag(d) @ inv.T


def assert_moments(df: pd.DataFrame, mean: np.ndarray, cov: np.ndarray, names: list[str]) -> None:
    n = len(df)
    x = df[names].to_numpy()
    sd = np.sqrt(np.diag(cov))
    # Sample mean: sd/sqrt(n). Sample covariance of a Gaussian pair: sqrt((s_ii s_jj + s_ij^2)/n).
    np.testing.assert_array_less(np.abs(x.mean(axis=0) - mean), 5 * sd / np.sqrt(n) + 1e-12)
    emp = np.cov(x, rowvar=False).reshape(len(names), len(names))
    tol = 5 * np.sqrt((np.outer(sd**2, sd**2) + cov**2) / n) + 1e-12
    np.testing.assert_array_less(np.abs(emp - cov), tol)


@SETTINGS
@given(linear_scms(min_nodes=1))
def test_linear_sample_matches_closed_form_moments(gen):
    scm = ct.SCM.from_spec(gen.spec)
    df = scm.sample(N, random_state=0)
    mean, cov = linear_moments(gen)
    assert_moments(df, mean, cov, list(gen.parents))


@SETTINGS
@given(linear_scms(min_nodes=2), st.data())
def test_hard_intervention_cuts_incoming_edges_linear(gen, data):
    names = list(gen.parents)
    x_var = data.draw(st.sampled_from(names))
    x_val = data.draw(st.floats(-3, 3).map(lambda v: round(v, 2)))
    scm = ct.SCM.from_spec(gen.spec)
    df = scm.sample(N, do={x_var: x_val}, random_state=1)
    assert (df[x_var] == x_val).all()
    mean, cov = linear_moments(gen, do={x_var: x_val})
    # Non-descendants (X's parents among them) keep their distribution; descendants depend on x only.
    assert_moments(df, mean, cov, names)
    assert scm.intervene(do={x_var: x_val}).parents[x_var] == ()
    # The original model is unchanged.
    assert scm.parents == ct.load_spec(gen.spec).graph_parents


def _same_distribution(a: pd.Series, b: pd.Series, vtype: str) -> None:
    """Two independent samples of one variable agree (5-sigma, tolerance from the sample sizes)."""
    na, nb = len(a), len(b)
    if vtype == "continuous":
        va, vb = a.var(), b.var()
        assert abs(a.mean() - b.mean()) <= 5 * np.sqrt(va / na + vb / nb) + 1e-12
    else:
        for level in set(a) | set(b):
            pa, pb = (a == level).mean(), (b == level).mean()
            p = (pa * na + pb * nb) / (na + nb)
            assert abs(pa - pb) <= 5 * np.sqrt(p * (1 - p) * (1 / na + 1 / nb)) + 1e-12


@SETTINGS
@given(mixed_scms(min_nodes=2), st.data())
def test_hard_intervention_cuts_incoming_edges_mixed(gen, data):
    names = list(gen.parents)
    x_var = data.draw(st.sampled_from(names))
    vtype = gen.types[x_var]
    x_val = {"continuous": 0.7, "binary": 1}.get(vtype) or gen.categories.get(x_var, (None,))[-1]
    scm = ct.SCM.from_spec(gen.spec)
    n = 5_000
    obs = scm.sample(n, random_state=2)
    intv = scm.sample(n, do={x_var: x_val}, random_state=3)
    assert (intv[x_var] == x_val).all()
    desc = _dag.descendants(gen.parents, [x_var])
    for v in names:
        if v != x_var and v not in desc:
            _same_distribution(obs[v], intv[v], gen.types[v])
    # Descendants depend on x only: the same distribution as in the model where X's equation is the
    # constant x (a soft intervention written in the spec language), sampled independently.
    if vtype == "categorical":
        eq = "categorical([{}])".format(", ".join("1" if c == x_val else "0" for c in gen.categories[x_var]))
    else:
        eq = f"bernoulli({x_val!r})" if vtype == "binary" else repr(x_val)
    soft = scm.intervene(equations={x_var: eq}).sample(n, random_state=4)
    assert (soft[x_var] == x_val).all()
    for v in desc:
        _same_distribution(soft[v], intv[v], gen.types[v])


@SETTINGS
@given(mixed_scms(min_nodes=1))
def test_sample_types_and_values(gen):
    scm = ct.SCM.from_spec(gen.spec)
    df = scm.sample(300, random_state=0)
    assert list(df.columns) == list(gen.parents)
    assert isinstance(df.index, pd.RangeIndex)
    assert len(df) == 300
    for v, vtype in gen.types.items():
        if vtype == "continuous":
            assert df[v].dtype == np.float64
            assert np.isfinite(df[v]).all()
        elif vtype == "binary":
            assert df[v].dtype == np.int64
            assert set(df[v]) <= {0, 1}
        else:
            assert set(df[v]) <= set(gen.categories[v])


@SETTINGS
@given(mixed_scms(min_nodes=1))
def test_same_seed_same_bytes(gen):
    scm = ct.SCM.from_spec(gen.spec)
    a = scm.sample(200, random_state=7)
    b = ct.SCM.from_spec(gen.spec).sample(200, random_state=7)
    pd.testing.assert_frame_equal(a, b)
    root = next(iter(gen.parents))
    value = {"continuous": 0.5, "binary": 0}.get(gen.types[root]) or gen.categories.get(root, (0,))[0]
    pd.testing.assert_frame_equal(
        scm.sample(200, do={root: value}, random_state=7), scm.sample(200, do={root: value}, random_state=7)
    )


def test_different_seeds_differ():
    _, scm = ct.scenarios.load("readmission")
    a = scm.sample(100, random_state=0)
    b = scm.sample(100, random_state=1)
    assert not np.array_equal(a["F"], b["F"])


def test_sampling_does_not_touch_global_numpy_state():
    _, scm = ct.scenarios.load("readmission")
    np.random.seed(123)  # noqa: NPY002 - the legacy global state is what must stay untouched
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    scm.sample(100, random_state=0)
    scm.sample(100)
    assert np.array_equal(np.random.get_state()[1], before)  # noqa: NPY002


def test_per_unit_do_array():
    spec = {
        "target": "Y",
        "variables": {
            "X": {"type": "continuous", "equation": "normal(0, 1)"},
            "Y": {"type": "continuous", "equation": "3*X + 1"},
        },
    }
    scm = ct.SCM.from_spec(spec)
    x = np.linspace(-1, 1, 5)
    df = scm.sample(5, do={"X": x}, random_state=0)
    np.testing.assert_array_equal(df["X"], x)
    np.testing.assert_allclose(df["Y"], 3 * x + 1)


def test_soft_intervention_and_shift_on_readmission():
    _spec, scm = ct.scenarios.load("readmission")
    shifted = scm.shift("new_device")
    df = shifted.sample(2_000, random_state=0)
    artifact = -1.0 * (df["E"] == 1) + 1.2 * (df["E"] == 2)
    np.testing.assert_allclose(df["X"], df["L"] + artifact, atol=1e-12)
    hosp = scm.shift("new_hospital").sample(500, random_state=0)
    assert (hosp["E"] == 3).all()
    np.testing.assert_allclose(hosp["X"], hosp["L"] + 0.3, atol=1e-12)
    # the original SCM still has three hospitals
    assert set(scm.sample(2_000, random_state=0)["E"]) == {0, 1, 2}


def test_intervene_with_unknown_category_raises():
    _, scm = ct.scenarios.load("readmission")
    with pytest.raises(ct.DataError, match="3 is not a category of 'E'"):
        scm.sample(10, do={"E": 3})
    assert (scm.intervene(categories={"E": [0, 1, 2, 3]}).sample(10, do={"E": 3})["E"] == 3).all()


def test_save_load_round_trip(tmp_path):
    spec, scm = ct.scenarios.load("readmission")
    path = tmp_path / "model.joblib"
    scm.save(path)
    loaded = ct.SCM.load(path)
    assert isinstance(loaded, ct.SCM)
    assert loaded.spec == spec
    pd.testing.assert_frame_equal(loaded.sample(500, random_state=3), scm.sample(500, random_state=3))
    df = scm.sample(200, random_state=1).drop(columns="L")
    pd.testing.assert_frame_equal(
        loaded.counterfactual(df, do={"A": 1}, random_state=0),
        scm.counterfactual(df, do={"A": 1}, random_state=0),
    )
    assert not list(tmp_path.glob("*.tmp"))


def test_save_load_intervened_model(tmp_path):
    _, scm = ct.scenarios.load("readmission")
    shifted = scm.shift("new_hospital")
    shifted.save(tmp_path / "s.joblib")
    pd.testing.assert_frame_equal(
        ct.SCM.load(tmp_path / "s.joblib").sample(100, random_state=0), shifted.sample(100, random_state=0)
    )
