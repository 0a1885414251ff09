"""Bad input: every error is a SpecError / GraphError / DataError / IdentificationError naming the thing."""

from __future__ import annotations

import copy
import textwrap
from typing import Any

import numpy as np
import pandas as pd
import pytest

import causaltrust as ct
from causaltrust.exceptions import DataError, GraphError, IdentificationError, SpecError


def base() -> dict[str, Any]:
    """A valid spec with every section, to break one thing at a time."""
    return {
        "target": "Y",
        "variables": {
            "A": {"type": "binary", "equation": "bernoulli(0.4)"},
            "E": {"type": "categorical", "categories": [0, 1, 2], "equation": "categorical([0.4, 0.3, 0.3])"},
            "R": {
                "type": "categorical",
                "categories": ["white", "black"],
                "equation": "categorical([0.5, 0.5])",
            },
            "F": {"type": "continuous", "equation": "normal(0, 1)"},
            "X": {"type": "continuous", "equation": "A + 0.5*(E == 1) + normal(0, 1)"},
            "Z": {"type": "binary", "equation": "bernoulli(sigmoid(A - 0.5))"},
            "Y": {
                "type": "binary",
                "equation": 'bernoulli(sigmoid(X + Z + A - F + (R == "white") + (E == 2)))',
            },
        },
        "fairness": {"protected": "A", "unfair_paths": [["A", "Y"], ["A", "Z"]]},
        "robustness": {"environment": "E", "spurious_paths": [["E", "X"]], "contextual_paths": [["E", "Y"]]},
        "recourse": {"actionable": ["F"], "immutable": ["A"], "costs": {"F": 1.0}, "bounds": {"F": [0, 3]}},
        "privacy": {"epsilon": 1.0, "sensitive": ["A"]},
    }


def test_base_spec_is_valid():
    ct.SCM.from_spec(ct.load_spec(base()))


def with_equation(var: str, text: str) -> dict[str, Any]:
    d = base()
    d["variables"][var]["equation"] = text
    return d


def edit(path: str, value: Any) -> dict[str, Any]:
    """``base()`` with the key at dotted ``path`` set to ``value`` (``None`` deletes it)."""
    d = base()
    *head, last = path.split(".")
    node = d
    for k in head:
        node = node[k]
    if value is None:
        del node[last]
    else:
        node[last] = copy.deepcopy(value)
    return d


def _raises(source: Any, exc: type[Exception], *fragments: str) -> str:
    with pytest.raises(exc) as info:
        ct.load_spec(source)
    msg = str(info.value)
    for f in fragments:
        assert f in msg, f"{f!r} not in message:\n{msg}"
    return msg


# -- YAML and schema ---------------------------------------------------------------------------------
def test_malformed_yaml_names_the_line():
    text = textwrap.dedent(
        """\
        target: Y
        variables:
          X: {type: continuous, equation: "normal(0, 1)"}
          Y: {type: continuous, equation: "X + normal(0, 1)"
        fairness: {}
        """
    )
    msg = _raises(text, SpecError, "not valid YAML", "line 5")
    assert "line" in msg


def test_unknown_key_names_the_key_and_line():
    text = textwrap.dedent(
        """\
        target: Y
        variables:
          X: {type: continuous, equation: "normal(0, 1)"}
          Y: {type: continuous, equaton: "X + normal(0, 1)"}
        """
    )
    _raises(text, SpecError, "unknown key 'equaton'", "variables.Y.equaton", "line 4")


def test_unknown_top_level_key():
    d = base()
    d["fairnes"] = {"protected": "A"}
    _raises(d, SpecError, "unknown key 'fairnes'")


def test_wrong_type_names_the_field():
    _raises(edit("variables.X.type", "real"), SpecError, "variables.X.type")
    _raises(edit("privacy.epsilon", "lots"), SpecError, "privacy.epsilon")
    _raises(edit("privacy.epsilon", -1.0), SpecError, "privacy.epsilon")


def test_missing_required_key():
    _raises(edit("target", None), SpecError, "target", "required key is missing")


def test_not_a_mapping():
    _raises("- just\n- a list\n", SpecError, "must be a mapping")
    with pytest.raises(SpecError, match="load_spec expects"):
        ct.load_spec(42)  # type: ignore[arg-type]


def test_missing_file():
    _raises("no/such/spec.yaml", SpecError, "does not exist", "no/such/spec.yaml")


def test_categorical_needs_categories():
    d = base()
    del d["variables"]["E"]["categories"]
    _raises(d, SpecError, "variables.E", "categories")


def test_categories_on_continuous_variable():
    _raises(edit("variables.F.categories", [0, 1]), SpecError, "variables.F", "only applies to categorical")


def test_bad_variable_name():
    d = base()
    d["variables"]["__x"] = {"type": "continuous", "equation": "normal(0, 1)"}
    _raises(d, SpecError, "'__x'", "not a valid identifier")


# -- graph -------------------------------------------------------------------------------------------
def test_cyclic_graph_shows_the_cycle():
    d = base()
    d["variables"]["F"]["equation"] = "Z + normal(0, 1)"  # Z <- A, F <- Z, Z <- F closes F -> Z -> F
    d["variables"]["Z"]["equation"] = "bernoulli(sigmoid(A + F))"
    msg = _raises(d, GraphError, "cycle")
    assert "F -> Z -> F" in msg or "Z -> F -> Z" in msg


def test_unknown_parent():
    d = base()
    d["variables"]["Q"] = {"type": "continuous", "parents": ["A", "Nope"]}
    _raises(d, GraphError, "variables.Q.parents", "'Nope'")


def test_parents_disagree_with_equation():
    _raises(edit("variables.X.parents", ["A"]), SpecError, "variables.X", "disagrees", "['A', 'E']")


def test_path_through_missing_edge():
    _raises(edit("fairness.unfair_paths", [["A", "F", "Y"]]), GraphError, "A -> F", "does not exist")
    _raises(edit("fairness.unfair_paths", [["A", "Q"]]), GraphError, "'Q'", "not a declared variable")


def test_path_not_starting_at_protected():
    _raises(
        edit("fairness.unfair_paths", [["Z", "Y"]]), SpecError, "fairness.unfair_paths[0]", "start at 'A'"
    )
    _raises(edit("robustness.spurious_paths", [["A", "X"]]), SpecError, "robustness.spurious_paths[0]", "'E'")


def test_path_too_short():
    _raises(edit("fairness.unfair_paths", [["A"]]), SpecError, "at least two nodes")


def test_spurious_contextual_overlap():
    _raises(
        edit("robustness.contextual_paths", [["E", "X", "Y"]]),
        SpecError,
        "overlap",
        "['E', 'X']",
        "['E', 'X', 'Y']",
    )


# -- roles and sections ------------------------------------------------------------------------------
def test_unknown_target():
    _raises(edit("target", "Q"), SpecError, "target 'Q'", "not a declared variable")


def test_unknown_protected():
    _raises(edit("fairness.protected", "Q"), SpecError, "fairness.protected", "'Q'")


def test_role_disagreement():
    _raises(edit("variables.Z.role", "protected"), SpecError, "variables.Z.role", "'protected'", "'A'")
    _raises(edit("variables.F.role", "target"), SpecError, "variables.F.role", "target is 'Y'")


def test_latent_target_protected_and_feature():
    _raises(edit("variables.Y.observed", False), SpecError, "target 'Y'", "observed: false")
    _raises(edit("variables.A.observed", False), SpecError, "protected 'A'", "observed: false")
    d = base()
    d["variables"]["X"]["observed"] = False
    d["variables"]["M"] = {"type": "continuous", "equation": "X + 1"}
    d["features"] = ["A", "X"]
    _raises(d, SpecError, "features: 'X'", "latent")


def test_discrete_latent():
    d = base()
    d["variables"]["Z"]["observed"] = False
    _raises(d, SpecError, "variables.Z", "must be continuous")


def test_features_contain_target_or_unknown():
    _raises(edit("features", ["A", "Y"]), SpecError, "features", "target 'Y'")
    _raises(edit("features", ["A", "Q"]), SpecError, "features", "'Q'")
    _raises(edit("features", ["A", "A"]), SpecError, "features", "twice")


def test_recourse_unknown_variables():
    _raises(edit("recourse.actionable", ["F", "Nope"]), SpecError, "recourse.actionable", "'Nope'")
    _raises(edit("recourse.costs", {"Q": 1.0}), SpecError, "recourse.costs", "'Q'")
    _raises(edit("recourse.immutable", ["F"]), SpecError, "recourse", "actionable and immutable")
    _raises(edit("recourse.bounds", {"F": [3, 0]}), SpecError, "bounds", "'F'")


def test_privacy_and_explainability_unknown_variables():
    _raises(edit("privacy.sensitive", ["Q"]), SpecError, "privacy.sensitive", "'Q'")
    _raises(edit("explainability", {"irrelevant": ["Q"]}), SpecError, "explainability.irrelevant", "'Q'")


def test_baseline_not_a_level():
    _raises(edit("fairness.baseline", 2), SpecError, "fairness.baseline", "'A'")


def test_shift_categories_must_extend_declared():
    d = base()
    d["shifts"] = {"s": {"categories": {"E": [0, 2, 1, 3]}}}
    _raises(d, SpecError, "shifts.s.categories.E", "must start with the declared categories")
    d["shifts"] = {"s": {"categories": {"F": [0, 1]}}}
    _raises(d, SpecError, "shifts.s.categories", "'F'", "not a categorical")


def test_shift_equation_and_do_checked():
    d = base()
    d["shifts"] = {"s": {"equations": {"X": "A + (E == 3)"}}}
    _raises(d, SpecError, "shifts.s", "3 is not a category of 'E'")
    d["shifts"] = {"s": {"categories": {"E": [0, 1, 2, 3]}, "equations": {"X": "A + (E == 3)"}}}
    ct.load_spec(d)  # the shift's categories make E == 3 valid
    d["shifts"] = {"s": {"do": {"A": 2}}}
    _raises(d, SpecError, "shifts.s.do", "binary")
    d["shifts"] = {"s": {"do": {"Q": 1}}}
    _raises(d, SpecError, "shifts.s.do", "'Q'")


# -- equations ---------------------------------------------------------------------------------------
EQUATION_ERRORS = [
    ("X", "A + Nope + normal(0, 1)", ["equation of 'X'", "unknown name 'Nope'", "column 5"]),
    ("X", "A.__class__", ["equation of 'X'", "attribute access"]),
    ("X", "A.real + 1", ["attribute access"]),
    ("X", "F[0]", ["subscripts"]),
    ("X", "(lambda q: q)(A)", ["only calls of allowed functions"]),
    ("X", "lambda: 1", ["lambdas"]),
    ("X", "__builtins__", ["'__builtins__'", "dunder"]),
    ("X", "__import__('os')", ["the function '__import__' is not allowed"]),
    ("X", "open('/etc/passwd')", ["the function 'open' is not allowed"]),
    ("X", "eval('1')", ["the function 'eval' is not allowed"]),
    ("X", "exec('x=1')", ["the function 'exec' is not allowed"]),
    ("X", "A if F > 0 else 0", ["if-expressions"]),
    ("X", "[A, F]", ["lists"]),
    ("X", "A +", ["not a valid expression"]),
    ("X", "A @ F", ["MatMult"]),
    ("X", "A + bernoulli(0.5)", ["bernoulli(...) must be the whole equation"]),
    ("X", "exp", ["'exp' is a function"]),
    ("X", "exp(A, F)", ["exp takes 1 argument(s), got 2"]),
    ("X", "sigmoid(x=A)", ["no keyword arguments"]),
    ("X", "X + normal(0, 1)", ["refers to itself"]),
    ("X", "normal(0, -1)", ["scale of normal is negative"]),
    ("X", "normal(0, 1, 2)", ["normal takes two arguments"]),
    ("X", "normal(normal(0, 1), 1)", ["noise parameters cannot contain noise"]),
    ("X", "True + A", ["the constant True is not a number"]),
    ("X", "'abc' + A", ["the string 'abc' can only be compared with a categorical variable"]),
    ("X", "(F == 'abc')", ["the string 'abc' can only be compared"]),
    ("X", "R + 1", ["'R' has string categories and can only be compared with a literal"]),
    ("X", "(R > 'white')", ["only == and != apply"]),
    ("X", "(R == 'purple')", ["'purple' is not a category of 'R'", "['white', 'black']"]),
    ("X", "(E == 7)", ["7 is not a category of 'E'"]),
    ("X", "", ["equation of 'X' is empty"]),
    ("F", "bernoulli(0.5)", ["bernoulli(p) draws 0/1, but 'F' is continuous"]),
    ("Z", "A + normal(0, 1)", ["'Z' is binary; noise terms belong to continuous variables"]),
    ("Z", "bernoulli(0.5, 0.2)", ["bernoulli takes exactly one argument"]),
    ("Z", "bernoulli(A + normal(0, 1))", ["cannot contain noise"]),
    ("Z", "categorical([0.5, 0.5])", ["categorical(...) draws a category, but 'Z' is binary"]),
    ("E", "categorical([0.5, 0.5])", ["2 entries for 3 categories", "[0, 1, 2]"]),
    ("E", "categorical(logits=[1, 2, 3, 4])", ["4 entries for 3 categories"]),
    ("E", "categorical([0.5, -0.1, 0.6])", ["probability -0.1 is negative"]),
    ("E", "categorical(0.5)", ["literal list"]),
    ("E", "categorical(weights=[1, 1, 1])", ["categorical takes one list"]),
    ("R", "(A == 1)", ["string categories, so its equation must be categorical"]),
]


@pytest.mark.parametrize(
    ("var", "text", "fragments"), EQUATION_ERRORS, ids=[e[1] or "empty" for e in EQUATION_ERRORS]
)
def test_equation_errors_name_variable_and_problem(var, text, fragments):
    _raises(with_equation(var, text), SpecError, *fragments)


def test_equation_error_points_at_the_column_with_a_caret():
    msg = _raises(with_equation("X", "A + 2*Nope"), SpecError, "column 7")
    lines = msg.splitlines()
    expr_line = next(i for i, line in enumerate(lines) if line.strip() == "A + 2*Nope")
    assert lines[expr_line + 1].index("^") == lines[expr_line].index("N")
    assert "Allowed:" in msg or "Use a declared variable" in msg


# -- SCM construction and data -----------------------------------------------------------------------
def test_from_spec_with_parents_only_suggests_fit():
    d = base()
    d["variables"]["X"] = {"type": "continuous", "parents": ["A", "E"]}
    with pytest.raises(SpecError, match=r"SCM\.fit") as info:
        ct.SCM.from_spec(d)
    assert "'X'" in str(info.value)


@pytest.fixture(scope="module")
def scm_and_data() -> tuple[ct.SCM, pd.DataFrame]:
    scm = ct.SCM.from_spec(base())
    return scm, scm.sample(20, random_state=0)


def _cf_raises(scm: ct.SCM, df: pd.DataFrame, *fragments: str) -> None:
    with pytest.raises(DataError) as info:
        scm.counterfactual(df, do={"A": 1}, random_state=0)
    for f in fragments:
        assert f in str(info.value), f"{f!r} not in {info.value}"


def test_data_missing_column(scm_and_data):
    scm, df = scm_and_data
    _cf_raises(scm, df.drop(columns=["X", "Z"]), "missing column(s) ['X', 'Z']")


def test_data_nan_names_rows(scm_and_data):
    scm, df = scm_and_data
    bad = df.copy()
    bad.index = [f"u{i}" for i in range(len(df))]
    bad.loc["u3", "F"] = np.nan
    bad.loc["u7", "F"] = np.inf
    _cf_raises(scm, bad, "'F'", "NaN", "2 row(s): 'u3', 'u7'")


def test_data_undeclared_category(scm_and_data):
    scm, df = scm_and_data
    bad = df.copy()
    bad.loc[4, "E"] = 9
    _cf_raises(scm, bad, "'E'", "[9]", "not among its declared categories", "[0, 1, 2]", "1 row(s): 4")
    bad = df.copy()
    bad["R"] = bad["R"].astype(object)
    bad.loc[2, "R"] = "purple"
    _cf_raises(scm, bad, "'R'", "['purple']")


def test_data_non_numeric_continuous(scm_and_data):
    scm, df = scm_and_data
    bad = df.copy()
    bad["F"] = bad["F"].astype(str)
    _cf_raises(scm, bad, "'F'", "continuous", "convert it to numbers")


def test_data_non_binary_values(scm_and_data):
    scm, df = scm_and_data
    bad = df.copy()
    bad.loc[5, "Z"] = 2
    _cf_raises(scm, bad, "binary column 'Z'", "other than 0/1", "1 row(s): 5")


def test_data_not_a_frame(scm_and_data):
    scm, df = scm_and_data
    with pytest.raises(DataError, match="expected a pandas DataFrame"):
        scm.counterfactual(df.to_numpy(), do={"A": 1})


def test_bad_do_values(scm_and_data):
    scm, df = scm_and_data
    with pytest.raises(DataError, match="'A' is binary"):
        scm.sample(5, do={"A": 3})
    with pytest.raises(DataError, match="'purple' is not a category of 'R'"):
        scm.sample(5, do={"R": "purple"})
    with pytest.raises(SpecError, match="'Q' is not a variable"):
        scm.sample(5, do={"Q": 1})
    with pytest.raises(DataError, match="needs 20 entries"):
        scm.counterfactual(df, do={"F": np.zeros(3)})
    with pytest.raises(DataError, match="n must be a positive integer"):
        scm.sample(0)


def test_path_entries_checked_by_engine(scm_and_data):
    scm, df = scm_and_data
    with pytest.raises(GraphError, match="the edge A -> F does not exist"):
        scm.path_counterfactual(df, source="A", value=1, paths=[("A", "F", "Y")])
    with pytest.raises(GraphError, match="must start at 'A'"):
        ct.path_effect(scm, source="A", paths=[("Z", "Y")], n=10)
    with pytest.raises(GraphError, match="list of node lists"):
        ct.path_effect(scm, source="A", paths="AY", n=10)


# -- identification ----------------------------------------------------------------------------------
def _latent_spec(x_equation: str) -> dict[str, Any]:
    return {
        "target": "Y",
        "variables": {
            "A": {"type": "binary", "equation": "bernoulli(0.5)"},
            "L": {"type": "continuous", "observed": False, "equation": "A + normal(0, 1)"},
            "X": {"type": "continuous", "equation": x_equation},
            "Y": {"type": "continuous", "equation": "L + A + normal(0, 1)"},
        },
    }


@pytest.mark.parametrize(
    ("x_equation", "reason"),
    [
        ("L + normal(0, 1)", "not noise-free and additive (linear) in L"),
        ("L * L + A", "not noise-free and additive (linear) in L"),
        ("exp(L)", "not noise-free and additive (linear) in L"),
        ("A * L", "coefficient on L is 0 for some units"),
    ],
)
def test_unidentified_latent_raises_naming_it(x_equation, reason):
    scm = ct.SCM.from_spec(_latent_spec(x_equation))
    df = scm.sample(50, random_state=0).drop(columns="L")
    with pytest.raises(IdentificationError, match="latent variable 'L' is not identified") as info:
        scm.counterfactual(df, do={"A": 1}, random_state=0)
    assert reason in str(info.value)


def test_latent_without_observed_child():
    spec = {
        "target": "Y",
        "variables": {
            "L": {"type": "continuous", "observed": False, "equation": "normal(0, 1)"},
            "W": {"type": "continuous", "observed": False, "equation": "L + 1"},
            "Y": {"type": "continuous", "equation": "W + normal(0, 1)"},
        },
    }
    scm = ct.SCM.from_spec(spec)
    df = scm.sample(10, random_state=0).drop(columns=["L", "W"])
    # L only feeds the latent W: nothing identifies it, and do(L) recomputes W from it.
    # (W's factual value is needed to abduct Y's noise, and W = L + 1 needs L.)
    with pytest.raises(IdentificationError, match="latent variable 'L' is not identified") as info:
        scm.counterfactual(df, do={"L": 0.0}, random_state=0)
    assert "W is latent too" in str(info.value)


def test_unidentified_latent_is_not_needed_when_untouched():
    # A counterfactual that changes nothing around L needs no L.
    spec = _latent_spec("L + normal(0, 1)")
    spec["variables"]["B"] = {"type": "continuous", "equation": "normal(0, 1)"}
    spec["variables"]["C"] = {"type": "continuous", "equation": "B + normal(0, 1)"}
    scm = ct.SCM.from_spec(spec)
    df = scm.sample(10, random_state=0).drop(columns="L")
    cf = scm.counterfactual(df, do={"B": 1.0}, random_state=0)
    np.testing.assert_allclose(cf["C"] - df["C"], 1.0 - df["B"], atol=1e-12)


def test_non_invertible_noise_raises():
    spec = {
        "target": "Y",
        "variables": {
            "X": {"type": "continuous", "equation": "normal(0, 1)"},
            "Y": {"type": "continuous", "equation": "exp(normal(0, 1)) * X"},
        },
    }
    scm = ct.SCM.from_spec(spec)
    df = scm.sample(10, random_state=0)
    with pytest.raises(IdentificationError, match="cannot abduct the noise of 'Y'") as info:
        scm.counterfactual(df, do={"X": 1.0}, random_state=0)
    assert "exp(normal(0, 1)) * X" in str(info.value)
    with pytest.raises(IdentificationError, match="'Y'"):
        scm.path_counterfactual(df, source="X", value=1.0, paths=[("X", "Y")], random_state=0)


def test_two_heteroscedastic_noise_terms_raise():
    spec = {
        "target": "Y",
        "variables": {
            "X": {"type": "continuous", "equation": "uniform(1, 2)"},
            "Y": {"type": "continuous", "equation": "X * normal(0, 1) + X * laplace(0, 1)"},
        },
    }
    scm = ct.SCM.from_spec(spec)
    df = scm.sample(10, random_state=0)
    with pytest.raises(IdentificationError, match="2 noise terms"):
        scm.counterfactual(df, do={"X": 1.5}, random_state=0)


def test_categorical_observation_with_probability_zero_raises():
    spec = {
        "target": "C",
        "variables": {
            "A": {"type": "binary", "equation": "bernoulli(0.5)"},
            "C": {"type": "categorical", "categories": ["a", "b"], "equation": "categorical([A, 1 - A])"},
        },
    }
    scm = ct.SCM.from_spec(spec)
    df = pd.DataFrame({"A": [1, 1], "C": ["a", "b"]})  # unit 1 contradicts the model
    with pytest.raises(IdentificationError, match="unit 1"):
        scm.counterfactual(df, do={"A": 0}, random_state=0)


# -- persistence -------------------------------------------------------------------------------------
def test_load_rejects_non_scm_files(tmp_path):
    import joblib

    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ct.CausalTrustError, match="not a causaltrust SCM file"):
        ct.SCM.load(text)
    other = tmp_path / "other.joblib"
    joblib.dump({"format": "something-else"}, other)
    with pytest.raises(ct.CausalTrustError, match="not a causaltrust SCM file"):
        ct.SCM.load(other)
    with pytest.raises(ct.CausalTrustError, match="does not exist"):
        ct.SCM.load(tmp_path / "missing.joblib")
