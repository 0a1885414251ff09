"""Explainability metrics: path attribution, causal recourse, responsiveness, irrelevant invariance."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.special import expit
from scipy.stats import spearmanr
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

import causaltrust as ct
from causaltrust.audit import AuditOptions, build_context, metric_info
from causaltrust.audit.explain import explain_metrics
from causaltrust.audit.explain._recourse import cheapest_actions
from causaltrust.audit.explain._response import spearman
from causaltrust.graph import PREDICTION

OPTIONS = AuditOptions(n_bootstrap=50, recourse_units=100)
FEATURES = ["A", "E", "X", "Z", "F"]


@pytest.fixture(scope="module")
def readmission() -> tuple[Any, Any, pd.DataFrame, pd.DataFrame]:
    spec, scm = ct.scenarios.load("readmission")
    return spec, scm, scm.sample(5000, random_state=1), scm.sample(2000, random_state=2)


def _context(model: Any, readmission: Any, spec: Any = None, scm: Any = None) -> Any:
    spec0, scm0, train, test = readmission
    return build_context(
        model,
        spec=spec or spec0,
        scm=scm or scm0,
        data=test,
        train_data=train,
        random_state=0,
        options=OPTIONS,
    )


@pytest.fixture(scope="module")
def logistic(readmission: Any) -> LogisticRegression:
    spec, _, train, _ = readmission
    return LogisticRegression().fit(train[spec.features], train[spec.target])


@pytest.fixture(scope="module")
def logistic_run(logistic: Any, readmission: Any) -> tuple[Any, dict[str, Any]]:
    ctx = _context(logistic, readmission)
    return ctx, {m.name: m for m in explain_metrics(ctx)}


def _on_columns(cols: list[str]) -> Pipeline:
    """A logistic model that receives every feature but uses only ``cols``."""
    keep = ColumnTransformer([("keep", "passthrough", cols)], remainder="drop")
    return make_pipeline(keep, LogisticRegression())


def _favorable(model: Any, scm: Any, rows: pd.DataFrame, do: dict[str, Any], seed: int) -> np.ndarray:
    cf = scm.counterfactual(rows, do=do, random_state=seed)
    return np.asarray(model.predict(cf[FEATURES]) == 0)


# -- names ------------------------------------------------------------------------------------------------


def test_names_are_registered_and_complete(logistic_run: Any) -> None:
    ctx, metrics = logistic_run
    for name in metrics:
        assert metric_info(name).description  # raises for an unknown base name
    a = PREDICTION
    expected = {
        f"explainability.path_attribution[A→{a}]",
        f"explainability.path_attribution[A→Z→{a}]",
        f"explainability.path_attribution[A→L→X→{a}]",
        "explainability.path_attribution[interaction]",
        "explainability.recourse_validity",
        "explainability.recourse_cost",
        "explainability.noncausal_recourse_validity",
        "explainability.relevant_responsiveness",
    }
    assert set(metrics) == expected  # irrelevant_invariance is absent: the readmission list is empty
    assert all(m.interval is not None for m in metrics.values())
    assert any("assumptions" in n for n in ctx.notes)


# -- causal recourse ---------------------------------------------------------------------------------------


def test_causal_recourse_examples_flip_when_resimulated(
    logistic: Any, logistic_run: Any, readmission: Any
) -> None:
    spec, scm, _, test = readmission
    ctx, _ = logistic_run
    examples = ctx.extras["recourse_examples"]
    assert len(examples) == 10
    lo, hi = spec.recourse.bounds["F"]
    for ex in examples:
        row = test.loc[[ex["unit"]]]
        assert logistic.predict(row[FEATURES])[0] == 1  # a rejected unit
        assert ex["old"]["F"] == pytest.approx(float(row["F"].iloc[0]))
        new = ex["causal_action"]["F"]
        assert set(ex["causal_action"]) == {"F"}  # immutables A, E, Z are never acted on
        assert lo <= new <= hi
        assert ex["causal_cost"] == pytest.approx(abs(new - ex["old"]["F"]))
        for seed in (11, 12):  # independent draws: the action does not rest on the search's coupling
            cf = scm.counterfactual(row, do={"F": [new]}, random_state=seed)
            assert logistic.predict(cf[FEATURES])[0] == 0
            for v in ("A", "E", "Z"):
                assert cf[v].iloc[0] == row[v].iloc[0]
            # Propagation: F → L → X changed the measured lab the model sees.
            assert cf["X"].iloc[0] == pytest.approx(row["X"].iloc[0] - 0.4 * (new - ex["old"]["F"]))
        # Cheapest: an independent brute-force grid over the bounds finds nothing cheaper than one step.
        grid = np.linspace(lo, hi, 601)
        rows = pd.concat([row] * len(grid), ignore_index=True)
        ok = _favorable(logistic, scm, rows, {"F": grid}, seed=3)
        best = np.abs(grid[ok] - ex["old"]["F"]).min()
        assert ex["causal_cost"] <= best + 1e-9
        assert ex["causal_cost"] >= best - (hi - lo) / 600 - 1e-9


def test_recourse_validity_cost_and_noncausal(logistic_run: Any) -> None:
    ctx, metrics = logistic_run
    valid = metrics["explainability.recourse_validity"].value
    nc = metrics["explainability.noncausal_recourse_validity"].value
    assert valid == pytest.approx(1.0 - ctx.extras["recourse_infeasible_share"])
    assert valid > 0.95
    # The model's own F coefficient is small: moving F alone (X held) often cannot flip within [0, 6],
    # while the causal action also lowers L, hence X.
    assert nc < valid
    assert ctx.extras["noncausal_recourse_infeasible_share"] > 0.02
    cost = metrics["explainability.recourse_cost"]
    assert 0 < cost.value < 6
    for ex in ctx.extras["recourse_examples"]:
        if ex["noncausal_action"] is not None:
            # Raising F alone must be at least as costly as raising it with its effect on X.
            assert ex["noncausal_cost"] >= ex["causal_cost"] - 1e-6


# A lever U reaches the model only through a binary node B = 1[V < sigmoid(2 U)]; the model approves B = 1.
BINARY_LEVER = {
    "name": "binary_lever",
    "target": "Y",
    "features": ["B"],
    "variables": {
        "U": {"type": "continuous", "equation": "normal(0, 1)"},
        "B": {"type": "binary", "equation": "bernoulli(sigmoid(2*U))"},
        "Y": {"type": "binary", "role": "target", "equation": "bernoulli(0.2 + 0.6*B)"},
    },
    "recourse": {"actionable": ["U"], "costs": {"U": 1.0}, "bounds": {"U": [-6, 6]}, "favorable": 1},
}


def test_recourse_validity_through_a_binary_node_matches_its_closed_form() -> None:
    # A rejected unit has B = 0, so its abducted V is uniform on [p, 1), p = sigmoid(2 u). The search, on
    # its own draw V_s, finds the cheapest u' with sigmoid(2 u') >= V_s (to 2**-20 of a grid step; not
    # found only when V_s > sigmoid(12), probability < 1e-5). Re-simulated with a fresh V, the action is
    # favourable with probability (V_s - p) / (1 - p): uniform on [0, 1), so validity is 1/2 in
    # expectation, against 1 for "an action was found". The m units' checks are independent Bernoulli(1/2)
    # draws: sd 0.5 / sqrt(m) = 0.025 at m = 400; 4 sd.
    spec = ct.load_spec(BINARY_LEVER)
    scm = ct.SCM.from_spec(spec)
    test = scm.sample(1000, random_state=5)

    def model(df: pd.DataFrame) -> np.ndarray:  # P(approve): 0.9 when B = 1, else 0.1
        return np.asarray(0.1 + 0.8 * df["B"].to_numpy(dtype=float))

    m = 400
    assert (test["B"] == 0).sum() > m
    ctx = build_context(
        model, spec=spec, scm=scm, data=test, random_state=0,
        options=AuditOptions(n_bootstrap=20, recourse_units=m),
    )  # fmt: skip
    metrics = {x.name: x for x in explain_metrics(ctx)}
    assert ctx.extras["recourse_units"] == m
    assert ctx.extras["recourse_infeasible_share"] == 0.0
    assert metrics["explainability.recourse_validity"].value == pytest.approx(0.5, abs=4 * 0.5 / np.sqrt(m))
    # U is not the model's input: the feature-only explainer has nothing to move.
    assert metrics["explainability.noncausal_recourse_validity"].value == 0.0


def test_cheapest_actions_two_variables_matches_closed_form() -> None:
    # Favourable iff 2*x0 + x1 >= 3 with costs (1, 1): the optimum moves x0 alone by (3 - 2*x0 - x1) / 2.
    rng = np.random.default_rng(0)
    old = rng.uniform(-1, 0.5, size=(50, 2))

    def evaluate(units: np.ndarray, values: np.ndarray) -> np.ndarray:
        return np.asarray(2 * values[:, 0] + values[:, 1] >= 3)

    lo, hi = np.array([-2.0, -2.0]), np.array([4.0, 4.0])
    res = cheapest_actions(evaluate, old, lo, hi, np.ones(2), np.zeros(2, dtype=bool))
    assert res.found.all()
    assert evaluate(np.arange(50), res.values).all()
    optimum = (3 - 2 * old[:, 0] - old[:, 1]) / 2
    assert np.all(res.cost >= optimum - 1e-9)
    assert np.all(res.cost <= optimum + 6 / 30)  # within one coarse grid step
    assert np.all((res.values >= lo) & (res.values <= hi))


def test_cheapest_actions_one_variable_finds_each_threshold_to_2_pow_minus_20() -> None:
    # Favourable iff x >= theta_u (a per-unit threshold): the cheapest action is x = theta_u exactly. The
    # search brackets it within one grid step (6/63) and shrinks the bracket 2**20-fold, in few model calls.
    rng = np.random.default_rng(1)
    m = 40
    theta = rng.uniform(0.0, 3.9, m)
    old = rng.uniform(-1.0, -0.5, (m, 1))
    calls = []

    def evaluate(units: np.ndarray, values: np.ndarray) -> np.ndarray:
        calls.append(len(units))
        return np.asarray(values[:, 0] >= theta[units])

    lo, hi = np.array([-2.0]), np.array([4.0])
    res = cheapest_actions(evaluate, old, lo, hi, np.ones(1), np.zeros(1, dtype=bool))
    assert res.found.all()
    assert np.all(res.values[:, 0] >= theta)  # favourable
    assert np.all(res.values[:, 0] - theta <= (6 / 63) * 2.0**-20 + 1e-12)
    # One grid call, one call at the bracket's low end, five multisection rounds (16**5 = 2**20).
    assert len(calls) == 7


# -- path attribution -------------------------------------------------------------------------------------


def test_path_attribution_parts_and_interaction_against_numpy(
    logistic: Any, logistic_run: Any, readmission: Any
) -> None:
    # Re-implement the readmission worlds in NumPy from the unit's abducted noise of Z alone: A along
    # A→Ŷ moves the A input; A→Z→Ŷ moves Z to 1[U < P(Z=1 | A)]; A→L→X→Ŷ moves X by 1.0 (L = A + ...).
    # The baseline world has A = 0 on every path.
    ctx, metrics = logistic_run
    _, _, _, test = readmission
    a, z, x = (test[c].to_numpy(dtype=float) for c in ("A", "Z", "X"))
    u = np.asarray(ctx.worlds.noises(["Z"])["Z"].eps)
    p0, p1 = expit(-0.5), expit(1.0)
    assert np.array_equal(u < np.where(a == 1, p1, p0), z == 1)  # abduction consistent with the data
    z0, z1 = (u < p0).astype(float), (u < p1).astype(float)
    x0 = x - a  # X with A = 0 along A→L→X

    def f(a_in: Any, z_in: np.ndarray, x_in: np.ndarray) -> np.ndarray:
        frame = test[FEATURES].assign(A=a_in, Z=z_in, X=x_in)
        return logistic.predict_proba(frame[FEATURES])[:, 1]

    base = f(0.0, z0, x0)
    p = PREDICTION
    truth = {
        f"A→{p}": f(1.0, z0, x0) - base,
        f"A→Z→{p}": f(0.0, z1, x0) - base,
        f"A→L→X→{p}": f(0.0, z0, x0 + 1.0) - base,
    }
    truth["interaction"] = f(1.0, z1, x0 + 1.0) - base - sum(truth.values())
    for name, d in truth.items():
        got = metrics[f"explainability.path_attribution[{name}]"].value
        assert got == pytest.approx(float(d.mean()), abs=1e-12), name
    assert abs(truth["interaction"].mean()) > 1e-4  # logistic: not additive


def test_path_attribution_linear_model_is_additive(readmission: Any) -> None:
    spec, _, train, _ = readmission
    lin = LinearRegression().fit(train[spec.features], train[spec.target])
    ctx = _context(lin, readmission)
    metrics = {m.name: m for m in explain_metrics(ctx)}
    p = PREDICTION
    assert abs(metrics["explainability.path_attribution[interaction]"].value) < 1e-10
    coef = dict(zip(spec.features, lin.coef_, strict=True))
    # Closed forms: A→Ŷ moves the A input by 1; A→L→X→Ŷ moves L, hence X, by 1.0.
    assert metrics[f"explainability.path_attribution[A→{p}]"].value == pytest.approx(coef["A"], abs=1e-10)
    assert metrics[f"explainability.path_attribution[A→L→X→{p}]"].value == pytest.approx(coef["X"], abs=1e-10)


def test_path_attribution_categorical_levels() -> None:
    spec, scm = ct.scenarios.load("lending")
    test = scm.sample(400, random_state=3)

    def model(df: pd.DataFrame) -> np.ndarray:
        z = -1.0 * df["score"] + 0.8 * (df["race"] == "black") + 0.5 * (df["zip"] == "eastside")
        return np.asarray(1 / (1 + np.exp(-z)))

    ctx = build_context(
        model,
        spec=spec,
        scm=scm,
        data=test,
        random_state=0,
        options=AuditOptions(n_bootstrap=10, recourse_units=20),
    )
    names = [m.name for m in explain_metrics(ctx)]
    for level in ("black", "hispanic"):
        assert f"explainability.path_attribution[race→{PREDICTION}@{level}]" in names
        assert f"explainability.path_attribution[interaction@{level}]" in names
    assert "explainability.recourse_validity" in names


# -- responsiveness ---------------------------------------------------------------------------------------


def test_spearman_matches_scipy() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=300), rng.normal(size=300)
    y = np.round(x + y, 1)  # ties
    assert spearman(x, y) == pytest.approx(spearmanr(x, y).statistic, abs=1e-12)
    assert spearman(np.zeros(10), x[:10]) == 0.0


def test_responsiveness_logistic_positive_and_blind_model_zero(logistic_run: Any, readmission: Any) -> None:
    _, metrics = logistic_run
    m = metrics["explainability.relevant_responsiveness"]
    assert m.value > 0.5
    assert m.low is not None
    assert m.low > 0.3
    spec, _, train, _ = readmission
    blind = _on_columns(["A", "E"]).fit(train[FEATURES], train[spec.target])
    ctx = _context(blind, readmission)
    from causaltrust.audit.explain import responsiveness_metrics

    (r,) = responsiveness_metrics(ctx)
    assert r.value == pytest.approx(0.0, abs=1e-12)


# -- irrelevant invariance --------------------------------------------------------------------------------


def test_irrelevant_invariance(readmission: Any) -> None:
    _, _, train, _ = readmission
    with open(ct.scenarios.path("readmission")) as fh:
        raw = yaml.safe_load(fh)
    raw["explainability"] = {"irrelevant": ["E"]}
    spec = ct.load_spec(raw)
    scm = ct.SCM.from_spec(spec)
    from causaltrust.audit.explain import irrelevant_invariance_metrics

    uses_e = LogisticRegression().fit(train[FEATURES], train["Y"])
    (m,) = irrelevant_invariance_metrics(_context(uses_e, readmission, spec, scm))
    assert m.name == "explainability.irrelevant_invariance"
    assert m.value > 0.01
    ignores_e = _on_columns(["A", "Z", "F"]).fit(train[FEATURES], train["Y"])
    (m0,) = irrelevant_invariance_metrics(_context(ignores_e, readmission, spec, scm))
    assert m0.value == pytest.approx(0.0, abs=1e-12)


# -- skips ------------------------------------------------------------------------------------------------


def test_skips_without_sections(logistic: Any, readmission: Any) -> None:
    with open(ct.scenarios.path("readmission")) as fh:
        raw = yaml.safe_load(fh)
    for key in ("recourse", "fairness", "thresholds"):
        raw.pop(key)
    for v in raw["variables"].values():
        v.pop("role", None)
    raw["variables"]["Y"]["role"] = "target"
    spec = ct.load_spec(raw)
    ctx = _context(logistic, readmission, spec, ct.SCM.from_spec(spec))
    assert explain_metrics(ctx) == []
    assert any("recourse" in n for n in ctx.notes)
    assert any("path_attribution skipped" in n for n in ctx.notes)
