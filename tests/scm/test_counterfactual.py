"""Counterfactuals: abduction, action, prediction; exactness where the model makes them exact, and the
discrete couplings checked against independent rejection sampling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import expit

import causaltrust as ct
from causaltrust import _dag
from causaltrust.scm._mechanisms import BernoulliMechanism, CategoricalMechanism, Noise
from strategies import SETTINGS, dags, linear_scms, mixed_scms

EULER_GAMMA = 0.5772156649015329


def _levels(gen, v):
    return {"continuous": (-1.0, 0.5, 2.0), "binary": (0, 1)}.get(gen.types[v]) or gen.categories[v]


# -- identities --------------------------------------------------------------------------------------
@SETTINGS
@given(mixed_scms(min_nodes=1))
def test_empty_do_returns_the_data(gen):
    scm = ct.SCM.from_spec(gen.spec)
    df = scm.sample(100, random_state=0)
    df.index = pd.Index([f"u{i}" for i in range(100)], name="unit")
    df["extra"] = np.arange(100)
    cf = scm.counterfactual(df, do={}, random_state=0)
    pd.testing.assert_frame_equal(cf, df)
    assert cf is not df


@SETTINGS
@given(mixed_scms(min_nodes=1), st.data())
def test_do_observed_values_returns_the_data(gen, data):
    scm = ct.SCM.from_spec(gen.spec)
    df = scm.sample(200, random_state=1)
    df.index = df.index + 1000  # a non-default index must survive
    v = data.draw(st.sampled_from(list(gen.parents)))
    cf = scm.counterfactual(df, do={v: df[v].to_numpy()}, random_state=5)
    pd.testing.assert_frame_equal(cf, df)
    cf2 = scm.counterfactual(df, do={v: df[v]}, random_state=5, n_draws=3)
    pd.testing.assert_frame_equal(cf2.xs(2, level="draw"), df)


@SETTINGS
@given(mixed_scms(min_nodes=2), st.data())
def test_counterfactual_do_sets_value_and_keeps_non_descendants(gen, data):
    scm = ct.SCM.from_spec(gen.spec)
    df = scm.sample(200, random_state=2)
    v = data.draw(st.sampled_from(list(gen.parents)))
    value = data.draw(st.sampled_from(_levels(gen, v)))
    cf = scm.counterfactual(df, do={v: value}, random_state=0)
    assert (cf[v] == value).all()
    desc = _dag.descendants(gen.parents, [v])
    keep = [w for w in gen.parents if w != v and w not in desc]
    pd.testing.assert_frame_equal(cf[keep], df[keep])
    # Units whose value already equals the do() value are unchanged everywhere.
    same = (df[v] == value).to_numpy()
    pd.testing.assert_frame_equal(cf[same], df[same])


@SETTINGS
@given(mixed_scms(min_nodes=2), st.data())
def test_same_seed_same_counterfactual(gen, data):
    scm = ct.SCM.from_spec(gen.spec)
    df = scm.sample(150, random_state=3)
    v = data.draw(st.sampled_from(list(gen.parents)))
    value = _levels(gen, v)[-1]
    a = scm.counterfactual(df, do={v: value}, random_state=11, n_draws=2)
    b = ct.SCM.from_spec(gen.spec).counterfactual(df, do={v: value}, random_state=11, n_draws=2)
    pd.testing.assert_frame_equal(a, b)


# -- linear closed form ------------------------------------------------------------------------------
def _total_coefficient(gen, source: str, target: str) -> float:
    """Sum over directed paths of products of edge coefficients (independent enumeration)."""
    if source == target:
        return 1.0
    children = {v: [c for c, pas in gen.parents.items() if v in pas] for v in gen.parents}
    return sum(gen.coefs[c][source] * _total_coefficient(gen, c, target) for c in children[source])


@st.composite
def dags_with_a_grandchild(draw: st.DrawFn) -> dict[str, tuple[str, ...]]:
    """A random DAG plus a route a -> b -> c without the edge a -> c (edges added, one removed): a has a
    descendant that is not its child, so do(a) must propagate over more than one edge."""
    base = draw(dags(min_nodes=4))
    names = list(base)
    parents = {v: set(pas) for v, pas in base.items()}
    i = draw(st.integers(0, len(names) - 3))
    j = draw(st.integers(i + 1, len(names) - 2))
    k = draw(st.integers(j + 1, len(names) - 1))
    parents[names[j]].add(names[i])
    parents[names[k]].add(names[j])
    parents[names[k]].discard(names[i])
    return {v: tuple(sorted(pas, key=names.index)) for v, pas in parents.items()}


def _far_descendants(parents: dict[str, tuple[str, ...]], v: str) -> set[str]:
    """Descendants of v that are not its children (independent of causaltrust._dag)."""
    children = {c for c, pas in parents.items() if v in pas}
    seen: set[str] = set()
    todo = list(children)
    while todo:
        w = todo.pop()
        seen.add(w)
        todo.extend(c for c, pas in parents.items() if w in pas and c not in seen)
    return seen - children


@SETTINGS
@given(linear_scms(dag=dags_with_a_grandchild()), st.data())
def test_linear_counterfactual_is_exact(gen, data):
    scm = ct.SCM.from_spec(gen.spec)
    df = scm.sample(100, random_state=4)
    # The intervened node has a descendant two or more edges away (never empty: the route's first node).
    v = data.draw(st.sampled_from([w for w in gen.parents if _far_descendants(gen.parents, w)]))
    x = data.draw(st.floats(-3, 3).map(lambda z: round(z, 2)))
    cf = scm.counterfactual(df, do={v: x}, random_state=0)
    for w in gen.parents:
        expected = df[w] + _total_coefficient(gen, v, w) * (x - df[v]) if w != v else x + 0 * df[w]
        np.testing.assert_allclose(cf[w], expected, rtol=1e-9, atol=1e-9)


# -- n_draws -----------------------------------------------------------------------------------------
def _binary_chain() -> ct.SCM:
    return ct.SCM.from_spec(
        {
            "target": "Y",
            "variables": {
                "A": {"type": "binary", "equation": "bernoulli(0.5)"},
                "C": {
                    "type": "categorical",
                    "categories": ["x", "y", "z"],
                    "equation": "categorical(logits=[0, A, 2*A - 1])",
                },
                "Y": {"type": "binary", "equation": "bernoulli(sigmoid(-0.5 + 1.5*A))"},
            },
        }
    )


def test_n_draws_adds_a_draw_level_and_draws_differ():
    scm = _binary_chain()
    df = scm.sample(300, random_state=0)
    df.index = pd.Index(np.arange(300) * 10, name="unit")
    cf = scm.counterfactual(df, do={"A": 1}, random_state=0, n_draws=4)
    assert cf.index.names == ["unit", "draw"]
    assert len(cf) == 1200
    assert list(cf.index.get_level_values("draw")[:4]) == [0, 1, 2, 3]
    assert list(cf.index.get_level_values("unit")[:5]) == [0, 0, 0, 0, 10]
    assert list(cf.columns) == list(df.columns)
    changed = df.index[df["A"] == 0]
    per_unit = cf.loc[changed]
    for col in ("Y", "C"):
        spread = per_unit.groupby(level="unit")[col].nunique()
        assert (spread > 1).any(), f"all draws of {col} agree for every unit"
    # Units already at A = 1 keep their values in every draw.
    kept = cf.loc[df.index[df["A"] == 1]]
    assert (kept.groupby(level="unit")["Y"].nunique() == 1).all()
    # Same seed → same bytes; n_draws=1 has a plain index.
    pd.testing.assert_frame_equal(cf, scm.counterfactual(df, do={"A": 1}, random_state=0, n_draws=4))
    assert scm.counterfactual(df, do={"A": 1}, random_state=0).index.equals(df.index)


def test_n_draws_validated():
    scm = _binary_chain()
    df = scm.sample(10, random_state=0)
    with pytest.raises(ct.DataError, match="n_draws"):
        scm.counterfactual(df, do={"A": 1}, n_draws=0)


# -- discrete abduction at the mechanism level -------------------------------------------------------
def test_bernoulli_abduction_reproduces_the_observation_without_the_anchor():
    n = 50_000
    rng = np.random.default_rng(0)
    x = rng.normal(size=n)
    mech = BernoulliMechanism(("X",), lambda env: expit(env["X"]), "B")
    env = {"X": x}
    value = mech.sample(env, n, rng)
    noise = mech.abduct(value, env, rng, "B")
    # Drop the anchor: the abducted U alone must reproduce the factual value for every unit.
    np.testing.assert_array_equal(mech.evaluate(env, Noise(noise.eps), n), value)
    # ... and, averaged over the model's own values, U is Uniform(0, 1) (posterior integrates to prior).
    u = noise.eps
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / n)
    assert abs(np.mean(u < 0.25) - 0.25) < 5 * np.sqrt(0.25 * 0.75 / n)


def _categorical(probs_fn, k):
    return CategoricalMechanism(("X",), probs_fn, k, "C")


@pytest.mark.parametrize(
    "table",
    [
        np.array([[0.2, 0.3, 0.5], [0.7, 0.2, 0.1]]),
        np.array([[0.5, 0.0, 0.5], [0.0, 0.5, 0.5]]),  # probability-0 categories
        np.array([[0.0, 0.0, 1.0, 0.0], [0.25, 0.25, 0.25, 0.25]]),
    ],
)
def test_categorical_abduction_reproduces_the_observation(table):
    n = 40_000
    rng = np.random.default_rng(1)
    x = rng.integers(0, 2, size=n)
    mech = _categorical(lambda env, n: table[env["X"]], table.shape[1])
    env = {"X": x}
    value = mech.sample(env, n, rng)
    assert np.all(table[x, value] > 0)
    noise = mech.abduct(value, env, rng, "C")
    np.testing.assert_array_equal(mech.evaluate(env, Noise(noise.eps), n), value)
    # Gumbels of categories that can be chosen are, marginally, standard Gumbel.
    g = noise.eps[table[x] > 0]
    assert abs(g.mean() - EULER_GAMMA) < 5 * np.sqrt(np.pi**2 / 6 / g.size)


def _rejection_counterfactual(p_fact: np.ndarray, p_cf: np.ndarray, observed: int, m: int, seed: int):
    """Distribution of argmax(log p_cf + G) given argmax(log p_fact + G) = observed, with G iid standard
    Gumbel, by plain rejection sampling (independent of the engine's top-down construction)."""
    rng = np.random.default_rng(seed)
    g = rng.gumbel(size=(m, len(p_fact)))
    with np.errstate(divide="ignore"):
        keep = np.argmax(np.log(p_fact) + g, axis=1) == observed
        cf = np.argmax(np.log(p_cf) + g[keep], axis=1)
    return np.bincount(cf, minlength=len(p_fact)) / keep.sum(), keep.sum()


@pytest.mark.parametrize(
    ("p0", "p1"),
    [
        ([0.2, 0.3, 0.5], [0.6, 0.3, 0.1]),
        ([0.5, 0.0, 0.5], [0.0, 0.5, 0.5]),  # a category impossible in the factual world becomes possible
        ([0.1, 0.45, 0.45], [0.45, 0.1, 0.45]),
    ],
)
def test_categorical_counterfactual_matches_rejection_sampling(p0, p1):
    p0, p1 = np.array(p0), np.array(p1)
    spec = {
        "target": "C",
        "variables": {
            "A": {"type": "binary", "equation": "bernoulli(0.5)"},
            "C": {
                "type": "categorical",
                "categories": ["a", "b", "c"],
                "equation": "categorical([{}])".format(
                    ", ".join(f"{a}*(1 - A) + {b}*A" for a, b in zip(p0, p1, strict=True))
                ),
            },
        },
    }
    scm = ct.SCM.from_spec(spec)
    n = 30_000
    cats = np.array(["a", "b", "c"])
    for observed in np.flatnonzero(p0 > 0):
        df = pd.DataFrame({"A": np.zeros(n, dtype=int), "C": np.full(n, cats[observed])})
        cf = scm.counterfactual(df, do={"A": 1}, random_state=int(observed))
        got = np.array([(cf["C"] == c).mean() for c in cats])
        want, m = _rejection_counterfactual(p0, p1, int(observed), 400_000, seed=10 + int(observed))
        tol = 5 * np.sqrt(want * (1 - want) * (1 / n + 1 / m)) + 1e-12
        np.testing.assert_array_less(np.abs(got - want), tol)


def test_bernoulli_counterfactual_is_monotone_with_the_closed_form_rate():
    # Y = 1[U < p(A)], p increasing in A: under do(A=1) units with Y=1 stay 1, units with Y=0 turn 1 with
    # probability (p1 - p0) / (1 - p0).
    spec = {
        "target": "Y",
        "variables": {
            "A": {"type": "binary", "equation": "bernoulli(0.5)"},
            "Y": {"type": "binary", "equation": "bernoulli(sigmoid(-0.5 + 1.5*A))"},
        },
    }
    scm = ct.SCM.from_spec(spec)
    n = 40_000
    df = pd.DataFrame({"A": np.zeros(n, dtype=int), "Y": np.repeat([0, 1], n // 2)})
    cf = scm.counterfactual(df, do={"A": 1}, random_state=0)
    assert (cf["Y"][df["Y"] == 1] == 1).all()
    p0, p1 = expit(-0.5), expit(1.0)
    rate = (p1 - p0) / (1 - p0)
    got = cf["Y"][df["Y"] == 0].mean()
    assert abs(got - rate) < 5 * np.sqrt(rate * (1 - rate) / (n // 2))
    # Downward: units at A=1 with Y=0 stay 0 under do(A=0).
    df1 = df.assign(A=1)
    cf1 = scm.counterfactual(df1, do={"A": 0}, random_state=0)
    assert (cf1["Y"][df1["Y"] == 0] == 0).all()


# -- latent abduction (readmission) ------------------------------------------------------------------
@pytest.fixture(scope="module")
def readmission():
    return ct.scenarios.load("readmission")


def test_latent_is_abducted_from_its_measurement(readmission):
    _, scm = readmission
    full = scm.sample(2_000, random_state=0)
    data = full.drop(columns="L")
    cf = scm.counterfactual(data, do={"A": 1}, random_state=0)
    assert list(cf.columns) == list(data.columns)
    # L = A - 0.4 F + noise; X = L + artifact(E): under do(A = 1), X moves by exactly 1 - A.
    np.testing.assert_allclose(cf["X"] - data["X"], 1.0 - data["A"], atol=1e-12)
    pd.testing.assert_frame_equal(cf[["E", "F"]], data[["E", "F"]])
    # Same answer as when the true L is in the data (it is recovered exactly: X - artifact(E)).
    with_l = scm.counterfactual(full, do={"A": 1}, random_state=0)
    pd.testing.assert_frame_equal(with_l.drop(columns="L"), cf, check_exact=False, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(with_l["L"], full["L"] + 1.0 - full["A"], atol=1e-12)


def test_latent_counterfactual_under_do_on_f(readmission):
    _, scm = readmission
    data = scm.sample(1_000, random_state=1).drop(columns="L")
    cf = scm.counterfactual(data, do={"F": 2.0}, random_state=0)
    np.testing.assert_allclose(cf["X"] - data["X"], -0.4 * (2.0 - data["F"]), atol=1e-12)


def test_counterfactual_passes_through_extra_columns(readmission):
    _, scm = readmission
    data = scm.sample(50, random_state=2).drop(columns="L")
    data["note"] = [f"n{i}" for i in range(50)]
    cf = scm.counterfactual(data, do={"A": 0}, random_state=0, n_draws=2)
    assert list(cf.columns) == list(data.columns)
    assert list(cf["note"].xs(1, level="draw")) == list(data["note"])


# -- the public abduction API ------------------------------------------------------------------------------
def test_abduction_is_reusable_across_counterfactuals() -> None:
    _, scm = ct.scenarios.load("readmission")
    full = scm.sample(500, random_state=3)
    df = full.drop(columns="L")
    ab = scm.abduct(df, ["Z", "L", "X", "Y"], random_state=4)
    # L recovered exactly from its measurement X = L + artifact(E); continuous noise is exact.
    np.testing.assert_allclose(ab.columns["L"], full["L"].to_numpy(), atol=1e-9)
    eps_l = full["L"].to_numpy() - (full["A"].to_numpy() - 0.4 * full["F"].to_numpy())
    np.testing.assert_allclose(ab.noise["L"].eps, eps_l, atol=1e-9)
    # Bernoulli noise lies in the interval the observed Z allows.
    p_z = expit(-0.5 + 1.5 * df["A"].to_numpy())
    assert np.array_equal(ab.noise["Z"].eps < p_z, df["Z"].to_numpy() == 1)
    # Reusing it is the same abduction as the call's own with that seed, and it couples two worlds per unit.
    cf1 = scm.counterfactual(df, do={"A": 1}, abduction=ab)
    pd.testing.assert_frame_equal(cf1, scm.counterfactual(df, do={"A": 1}, random_state=4))
    cf0 = scm.counterfactual(df, do={"A": 0}, abduction=ab)
    np.testing.assert_allclose(cf1["X"] - cf0["X"], 1.0, atol=1e-9)  # L = 1.0*A + ...: X moves by 1 per unit
    z_switch = (ab.noise["Z"].eps < expit(1.0)).astype(float)  # Z under A = 1 from the same uniform
    np.testing.assert_array_equal(cf1["Z"].to_numpy(dtype=float), z_switch)
    pcf = scm.path_counterfactual(df, source="A", value=1, paths=[("A", "Z")], abduction=ab)
    np.testing.assert_array_equal(pcf["Z"].to_numpy(dtype=float), z_switch)
    np.testing.assert_allclose(pcf["X"].to_numpy(), df["X"].to_numpy())  # A→L→X not switched


def test_abduction_mismatch_is_a_clean_error() -> None:
    _, scm = ct.scenarios.load("readmission")
    df = scm.sample(50, random_state=3).drop(columns="L")
    ab = scm.abduct(df, ["Z"], random_state=0)
    with pytest.raises(ct.DataError, match="no noise for"):
        scm.counterfactual(df, do={"A": 1}, abduction=ab)
    with pytest.raises(ct.DataError, match="50 units x 1 draws"):
        scm.counterfactual(df.iloc[:10], do={"A": 1}, abduction=ab)
    with pytest.raises(ct.SpecError, match="not variables"):
        scm.abduct(df, ["nope"])
