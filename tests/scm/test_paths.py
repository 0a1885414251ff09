"""Path-specific counterfactuals and effects: per-path semantics, linear closed forms, the readmission
decomposition against an independent NumPy simulation."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy.special import expit

import causaltrust as ct
from strategies import SETTINGS, LinearSCM, dags, linear_scms, mixed_scms


def _paths(parents: dict[str, tuple[str, ...]], source: str, target: str) -> list[tuple[str, ...]]:
    """Directed paths by plain recursion over children (independent of causaltrust._dag)."""
    if source == target:
        return [(target,)]
    out = []
    for child in (c for c, pas in parents.items() if source in pas):
        out.extend((source, *rest) for rest in _paths(parents, child, target))
    return out


def _product(gen: LinearSCM, path: tuple[str, ...]) -> float:
    return float(np.prod([gen.coefs[b][a] for a, b in itertools.pairwise(path)]))


# -- the concrete shared-edge SCM --------------------------------------------------------------------
a, b, c, d, e = 2.0, -1.5, 0.5, 3.0, -1.0
SHARED = {
    "target": "Y",
    "variables": {
        "A": {"type": "continuous", "equation": "normal(0, 1)"},
        "X": {"type": "continuous", "equation": f"{a}*A + normal(0, 1)"},
        "Z": {"type": "continuous", "equation": f"({b})*X + normal(0, 1)"},
        "Y": {"type": "continuous", "equation": f"{c}*X + {d}*Z + ({e})*A + normal(0, 1)"},
    },
}
AXY, AXZY, AY = ("A", "X", "Y"), ("A", "X", "Z", "Y"), ("A", "Y")


@pytest.fixture(scope="module")
def shared() -> ct.SCM:
    return ct.SCM.from_spec(SHARED)


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        ([AXY], a * c),
        ([AXZY], a * b * d),
        ([AY], e),
        ([AXY, AXZY], a * c + a * b * d),
        ([("A", "X")], a * c + a * b * d),  # a prefix stands for every path that begins with it
        ([("A", "X", "Z")], a * b * d),
        ([AXY, AY], a * c + e),
        ([AXY, AXZY, AY], a * c + a * b * d + e),
        (None, a * c + a * b * d + e),
        ([], 0.0),
    ],
)
def test_shared_edge_path_effects_are_exact(shared, paths, expected):
    for value, baseline in [(1, 0), (2.5, -0.5)]:
        got = ct.path_effect(shared, source="A", target="Y", paths=paths, value=value, baseline=baseline,
                             n=500, random_state=0)  # fmt: skip
        assert got == pytest.approx(expected * (value - baseline), rel=1e-9, abs=1e-12)


def test_shared_edge_path_counterfactual_per_unit(shared):
    df = shared.sample(300, random_state=1)
    v = 1.5
    delta = v - df["A"]
    # Only A -> X -> Y: X is switched along X -> Y; Z (on A -> X -> Z -> Y) stays factual.
    cf = shared.path_counterfactual(df, source="A", value=v, paths=[AXY], random_state=0)
    np.testing.assert_allclose(cf["Y"], df["Y"] + a * c * delta, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(cf["X"], df["X"] + a * delta, rtol=1e-10, atol=1e-10)
    pd.testing.assert_series_equal(cf["Z"], df["Z"])
    pd.testing.assert_series_equal(cf["A"], df["A"])
    # Only A -> X -> Z -> Y: Z moves, but the copy of X on the edge X -> Y is factual.
    cf = shared.path_counterfactual(df, source="A", value=v, paths=[AXZY], random_state=0)
    np.testing.assert_allclose(cf["Y"], df["Y"] + a * b * d * delta, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(cf["Z"], df["Z"] + a * b * delta, rtol=1e-10, atol=1e-10)
    pd.testing.assert_series_equal(cf["X"], df["X"])
    # Only the direct edge.
    cf = shared.path_counterfactual(df, source="A", value=v, paths=[AY], random_state=0)
    np.testing.assert_allclose(cf["Y"], df["Y"] + e * delta, rtol=1e-10, atol=1e-10)
    pd.testing.assert_frame_equal(cf[["X", "Z"]], df[["X", "Z"]])
    # An explicit baseline: every other path sees it instead of the factual A.
    cf = shared.path_counterfactual(df, source="A", value=v, baseline=0.0, paths=[AY], random_state=0)
    base = 0.0 - df["A"]
    expected = df["Y"] + e * delta + (a * c + a * b * d) * base
    np.testing.assert_allclose(cf["Y"], expected, rtol=1e-10, atol=1e-10)


# -- linear closed form on random SCMs --------------------------------------------------------------
@st.composite
def dags_with_two_paths(draw: st.DrawFn) -> dict[str, tuple[str, ...]]:
    """A random DAG plus two to four distinct directed paths from some node to the last one (edges added).

    The paths' structure is built, not filtered for: random DAGs mostly have no path or one path between
    two nodes, where a path-specific effect is either 0 or the total effect.
    """
    base = draw(dags(min_nodes=4))
    names = list(base)
    parents = {v: set(pas) for v, pas in base.items()}
    s = draw(st.integers(0, len(names) - 3))
    between = names[s + 1 : -1]  # never empty: s <= len(names) - 3
    route = st.sets(st.sampled_from(between)).map(lambda m: sorted(m, key=names.index))
    # Two to four distinct routes (there are 2 ** len(between) of them): s reaches the target by each.
    k = min(draw(st.integers(2, 4)), 2 ** len(between))
    for middle in draw(st.lists(route, min_size=k, max_size=k, unique_by=tuple)):
        for u, w in itertools.pairwise([names[s], *middle, names[-1]]):
            parents[w].add(u)
    return {v: tuple(sorted(pas, key=names.index)) for v, pas in parents.items()}


@st.composite
def linear_with_paths(draw: st.DrawFn):
    """A linear SCM, a source with at least two directed paths to the target, every such path and a
    non-empty proper subset of them (neither the empty set nor the total effect)."""
    gen = draw(linear_scms(dag=dags_with_two_paths()))
    names = list(gen.parents)
    target = names[-1]
    sources = [s for s in names[:-1] if len(_paths(gen.parents, s, target)) >= 2]  # never empty
    source = draw(st.sampled_from(sources))
    every = _paths(gen.parents, source, target)
    chosen = draw(st.lists(st.sampled_from(every), min_size=1, max_size=len(every) - 1, unique=True))
    return gen, source, target, every, chosen


@SETTINGS
@given(linear_with_paths())
def test_linear_path_effect_equals_sum_of_coefficient_products(case):
    gen, source, target, every, chosen = case
    assert 0 < len(chosen) < len(every)  # a proper subset: the path-specific case
    scm = ct.SCM.from_spec(gen.spec)
    closed = sum(_product(gen, p) for p in chosen)
    got = ct.path_effect(scm, source=source, target=target, paths=chosen, value=1.5, baseline=-0.5,
                         n=200, random_state=0)  # fmt: skip
    assert got == pytest.approx(2.0 * closed, rel=1e-8, abs=1e-9)
    total = sum(_product(gen, p) for p in every)
    got_total = ct.path_effect(scm, source=source, target=target, paths=None, value=1.5, baseline=-0.5,
                               n=200, random_state=0)  # fmt: skip
    assert got_total == pytest.approx(2.0 * total, rel=1e-8, abs=1e-9)


@SETTINGS
@given(linear_with_paths())
def test_linear_path_counterfactual_per_unit(case):
    gen, source, target, _every, chosen = case
    scm = ct.SCM.from_spec(gen.spec)
    df = scm.sample(100, random_state=5)
    value = 0.75
    cf = scm.path_counterfactual(df, source=source, value=value, paths=chosen, target=target, random_state=0)
    delta = value - df[source]
    closed = sum(_product(gen, p) for p in chosen)
    np.testing.assert_allclose(cf[target], df[target] + closed * delta, rtol=1e-9, atol=1e-9)
    # Each parent of the target is reported as the copy on its own edge into the target.
    for parent in gen.parents[target]:
        if parent == source:
            continue
        into = {p[:-1] for p in chosen if p[-2] == parent}
        shift = sum(_product(gen, q) for q in into)
        np.testing.assert_allclose(cf[parent], df[parent] + shift * delta, rtol=1e-9, atol=1e-9)


def assert_same_per_unit_law(a: pd.Series, b: pd.Series) -> None:
    """Two counterfactual draws (index: unit, draw) have the same per-unit law.

    The operations draw their abduction noise from separate streams, so discrete nodes agree in
    distribution, not draw by draw. Per-unit mean differences are independent across units with mean 0.
    """
    d = (a.groupby(level=0).mean() - b.groupby(level=0).mean()).to_numpy(dtype=float)
    if not d.any():
        return
    assert abs(d.mean()) <= 5 * d.std(ddof=1) / np.sqrt(len(d))


# -- identities on random mixed SCMs -----------------------------------------------------------------
@st.composite
def mixed_with_source(draw: st.DrawFn):
    """A random mixed SCM and a binary or continuous source with at least one directed path to the target."""
    gen = draw(mixed_scms(min_nodes=2))
    target = gen.spec["target"]
    candidates = [
        v for v in list(gen.parents)[:-1] if gen.types[v] != "categorical" and _paths(gen.parents, v, target)
    ]
    assume(candidates)
    return gen, draw(st.sampled_from(candidates))


@SETTINGS
@given(mixed_with_source(), st.data())
def test_all_paths_equal_counterfactual_and_factual_value_returns_data(case, data):
    gen, source = case
    target = gen.spec["target"]
    scm = ct.SCM.from_spec(gen.spec)
    df = scm.sample(200, random_state=6)
    every = _paths(gen.parents, source, target)
    value = 1
    pcf = scm.path_counterfactual(df, source=source, value=value, paths=every, random_state=3, n_draws=32)
    cf = scm.counterfactual(df, do={source: value}, random_state=3, n_draws=32)
    if all(gen.types[v] == "continuous" for p in every for v in p[1:]):
        # No discrete node between source and target: both are exact and must agree to the bit.
        pd.testing.assert_series_equal(pcf[target], cf[target])
    else:
        assert_same_per_unit_law(pcf[target], cf[target])
    # value = each unit's factual source returns the data, for any path set.
    chosen = data.draw(st.lists(st.sampled_from(every), min_size=1, unique=True))
    same = scm.path_counterfactual(df, source=source, value=df[source], paths=chosen, random_state=3)
    pd.testing.assert_frame_equal(same, df)


@SETTINGS
@given(mixed_with_source())
def test_total_effect_all_paths_and_interventional_difference(case):
    gen, source = case
    target = gen.spec["target"]
    scm = ct.SCM.from_spec(gen.spec)
    every = _paths(gen.parents, source, target)
    kw = {"source": source, "target": target, "value": 1, "baseline": 0, "n": 4_000, "random_state": 9}
    none = ct.path_effect(scm, paths=None, return_interval=True, **kw)
    assert ct.path_effect(scm, paths=every, **kw) == none[0]
    # Independently: difference of means of the target sampled under do(source = 1) and do(source = 0).
    m = 20_000
    y1 = scm.sample(m, do={source: 1}, random_state=101)[target].to_numpy(dtype=float)
    y0 = scm.sample(m, do={source: 0}, random_state=202)[target].to_numpy(dtype=float)
    engine_se = (none[2] - none[1]) / (2 * 1.959963984540054)
    tol = 5 * np.sqrt(y1.var() / m + y0.var() / m + engine_se**2) + 1e-12
    assert abs((y1.mean() - y0.mean()) - none[0]) <= tol


@SETTINGS
@given(mixed_with_source())
def test_same_seed_same_path_outputs(case):
    gen, source = case
    target = gen.spec["target"]
    every = _paths(gen.parents, source, target)
    scm = ct.SCM.from_spec(gen.spec)
    df = scm.sample(100, random_state=0)
    kw = {"source": source, "value": 1, "paths": every[:1], "random_state": 4, "n_draws": 2}
    pd.testing.assert_frame_equal(scm.path_counterfactual(df, **kw), scm.path_counterfactual(df, **kw))
    ekw = {"source": source, "paths": every[:1], "n": 500, "random_state": 4}
    assert ct.path_effect(scm, **ekw) == ct.path_effect(ct.SCM.from_spec(gen.spec), **ekw)


# -- readmission -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def readmission():
    return ct.scenarios.load("readmission")


def _readmission_numpy(n: int, seed: int) -> dict[str, np.ndarray]:
    """Per-unit contrasts of P(Y = 1) for A: 0 -> 1, written from the YAML equations (common noise)."""
    rng = np.random.default_rng(seed)
    f = 0.5 + rng.normal(size=n)
    e = rng.choice(3, size=n, p=[0.4, 0.35, 0.25])
    l0 = 0.0 - 0.4 * f + rng.normal(size=n)
    l1 = l0 + 1.0
    u = rng.random(n)
    z0 = (u < expit(-0.5)).astype(float)
    z1 = (u < expit(-0.5 + 1.5)).astype(float)

    def p(lv, z, a, env=e):
        return expit(-1 + 1.2 * lv + 0.7 * z + 0.5 * a - 0.3 * f + 0.6 * (env == 2))

    base = p(l0, z0, 0)
    # E contrasts with A, L, Z from their own marginals.
    a_obs = (rng.random(n) < 0.4).astype(float)
    l_obs = a_obs - 0.4 * f + (l0 + 0.4 * f)  # same noise, A drawn from its marginal
    z_obs = (u < expit(-0.5 + 1.5 * a_obs)).astype(float)
    e0 = np.zeros(n)
    return {
        "A.total": p(l1, z1, 1) - base,
        "A.unfair": p(l0, z1, 1) - base,
        "A.fair": p(l1, z0, 0) - base,
        "A.interaction": p(l1, z1, 1) - p(l0, z1, 1) - p(l1, z0, 0) + base,
        "E[2].total": p(l_obs, z_obs, a_obs, env=e0 + 2) - p(l_obs, z_obs, a_obs, env=e0),
    }


def test_readmission_decomposition(readmission):
    _, scm = readmission
    n = 100_000
    dec = ct.decompose_effects(scm, n=n, random_state=0)
    names = [x.name for x in dec.effects]
    assert names[:4] == ["A.total", "A.unfair", "A.fair", "A.interaction"]
    # The interaction remainder against its NumPy counterpart (below, with the other parts); for E the
    # spurious path E -> X does not reach Y, so the contextual part is all of the total.
    assert dec["E[2].contextual"].estimate == pytest.approx(dec["E[2].total"].estimate, abs=1e-12)
    assert dec["A.fair"].paths == (("A", "L", "Y"),)
    assert set(dec["A.unfair"].paths) == {("A", "Y"), ("A", "Z", "Y")}
    # E -> X does not reach Y: no spurious effect; hospital 1 has no policy effect at all.
    assert dec["E[2].spurious"].estimate == 0.0
    assert dec["E[1].total"].estimate == 0.0
    m = 400_000
    truth = _readmission_numpy(m, seed=2024)
    for name, diffs in truth.items():
        tol = 5 * np.sqrt(diffs.var() / m + diffs.var() / n)
        assert abs(dec[name].estimate - diffs.mean()) < tol, (name, dec[name].estimate, diffs.mean())
    frame = dec.to_frame()
    assert list(frame.columns) == ["effect", "estimate", "low", "high", "paths"]
    assert (frame["low"] <= frame["estimate"]).all()
    assert (frame["estimate"] <= frame["high"]).all()


def test_readmission_fair_effect_via_path_effect(readmission):
    spec, scm = readmission
    m, n = 400_000, 100_000
    fair = _readmission_numpy(m, seed=7)["A.fair"]
    got = ct.path_effect(scm, source="A", paths=spec.fair_paths(), n=n, random_state=1)
    assert abs(got - fair.mean()) < 5 * np.sqrt(fair.var() / m + fair.var() / n)


def test_readmission_path_counterfactual_without_latent_column(readmission):
    spec, scm = readmission
    data = scm.sample(3_000, random_state=3).drop(columns="L")
    fair_world = scm.path_counterfactual(data, source="A", value=0, paths=spec.unfair_paths(), random_state=0)
    assert list(fair_world.columns) == list(data.columns)
    # A -> L -> X is not unfair: X is untouched; A and F are never changed.
    pd.testing.assert_frame_equal(fair_world[["A", "E", "F", "X"]], data[["A", "E", "F", "X"]])
    old = data["A"] == 0
    pd.testing.assert_frame_equal(fair_world[old], data[old])
    # Monotone couplings: lowering A along A -> Z (p falls) can only turn Z from 1 to 0.
    assert (fair_world["Z"] <= data["Z"]).all()
    every = spec.all_paths("A")
    all_paths = scm.path_counterfactual(data, source="A", value=0, paths=every, random_state=0, n_draws=16)
    full_cf = scm.counterfactual(data, do={"A": 0}, random_state=0, n_draws=16)
    assert_same_per_unit_law(all_paths["Y"], full_cf["Y"])


def test_readmission_unfair_path_effect_on_the_binary_target(readmission):
    spec, scm = readmission
    m, n = 400_000, 100_000
    truth = _readmission_numpy(m, seed=11)["A.unfair"]
    est, low, high = ct.path_effect(scm, source="A", paths=spec.unfair_paths(), n=n, random_state=2,
                                    return_interval=True)  # fmt: skip
    assert low < est < high
    assert abs(est - truth.mean()) < 5 * np.sqrt(truth.var() / m + truth.var() / n)
