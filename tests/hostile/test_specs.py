"""Hostile and careless specs: each one a SpecError naming the thing (generated here, not checked in)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import causaltrust as ct
from causaltrust.cli import app
from causaltrust.exceptions import SpecError

BASE = "target: Y\nvariables:\n  X: {type: continuous, equation: 'normal(0, 1)'}\n"


def _spec(y_equation: str = "X + normal(0, 1)", **extra: object) -> dict[str, object]:
    spec: dict[str, object] = {
        "target": "Y",
        "variables": {
            "X": {"type": "continuous", "equation": "normal(0, 1)"},
            "Y": {"type": "continuous", "equation": y_equation},
        },
    }
    spec.update(extra)
    return spec


DUP_EQUATION = "target: Y\nvariables:\n  Y:\n    type: continuous\n    equation: 'X'\n    equation: '1'\n"


@pytest.mark.parametrize(
    ("text", "key", "lines"),
    [
        (BASE + "  Y: {type: continuous, equation: 'X'}\ntarget: X\n", "target", "1 and 5"),
        (BASE + "  X: {type: binary}\n  Y: {type: continuous}\n", "X", "3 and 4"),
        (BASE + "  Y: {type: continuous}\nvariables: {}\n", "variables", "2 and 5"),
        (DUP_EQUATION, "equation", "5 and 6"),
    ],
)
def test_duplicate_yaml_keys_name_both_lines(text: str, key: str, lines: str) -> None:
    with pytest.raises(SpecError, match=rf"key '{key}' appears twice in one mapping \(lines {lines}\)"):
        ct.load_spec(text)


def test_huge_integer_literal() -> None:
    with pytest.raises(SpecError, match=r"equation of 'Y': a number is too large for a float"):
        ct.load_spec(_spec("1" + "0" * 400 + " + normal(0, 1)"))


@pytest.mark.parametrize(
    ("equation", "fragment"),
    [
        ("-" * 1200 + "X", r"nest|nested too deeply"),
        (" + ".join(["X"] * 300), r"nests 300 operations deep; the limit is 200"),
        (" + ".join(["X"] * 1000), r"equation of 'Y' (nests|is nested)"),
        ("X" + " + X" * 5000, "characters long; the limit is 20,000"),
    ],
)
def test_deep_or_long_equations_refused_at_load(equation: str, fragment: str) -> None:
    with pytest.raises(SpecError, match=fragment):
        ct.load_spec(_spec(equation))


def test_deeply_nested_yaml() -> None:
    with pytest.raises(SpecError, match="nested too deeply"):
        ct.load_spec("target: Y\nvariables: " + "[" * 5000 + "]" * 5000 + "\n")


def test_non_utf8_spec_file(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes((BASE + "  Y: {type: continuous, description: 'caf\xe9'}\n").encode("latin-1"))
    with pytest.raises(SpecError, match=r"s\.yaml' is not UTF-8 text"):
        ct.load_spec(path)


@pytest.mark.parametrize(
    ("categories", "fragment"),
    [
        ([True, False], "not true/false"),
        ([0, float("nan")], "category nan is not a finite number"),
        ([0, float("inf")], "category inf is not a finite number"),
        ([0, 10**400], "does not fit in a 64-bit integer"),
    ],
)
def test_bad_categories(categories: list[object], fragment: str) -> None:
    spec = _spec()
    spec["variables"]["E"] = {"type": "categorical", "categories": categories}  # type: ignore[index]
    with pytest.raises(SpecError, match=fragment):
        ct.load_spec(spec)


def test_nan_threshold() -> None:
    with pytest.raises(SpecError, match=r"'max: \.nan' is not a bound"):
        ct.load_spec(_spec(thresholds={"accuracy.observational": {"max": float("nan")}}))


@pytest.mark.parametrize(
    ("sections", "fragment"),
    [
        ({"fairness": {"protected": "Y"}}, "'Y' is both the target and the protected"),
        ({"robustness": {"environment": "Y"}}, "'Y' is both the target and the environment"),
        (
            {"fairness": {"protected": "A"}, "robustness": {"environment": "A"}},
            "'A' is both the protected and the environment",
        ),
    ],
)
def test_role_clashes(sections: dict[str, object], fragment: str) -> None:
    spec = _spec("X + A + normal(0, 1)", **sections)
    spec["variables"]["A"] = {"type": "binary", "equation": "bernoulli(0.5)"}  # type: ignore[index]
    with pytest.raises(SpecError, match=fragment):
        ct.load_spec(spec)


@pytest.mark.parametrize(
    "equation", ["1/0 + normal(0, 1)", "1e400 + X", "9**9**9 + X", "log(0*X)", "sqrt(-1 - X*X)"]
)
def test_non_finite_draws_name_the_variable(equation: str) -> None:
    scm = ct.SCM.from_spec(_spec(equation))
    with pytest.raises(
        SpecError, match=r"sampling 'Y' \(.*\) gave non-finite values \(inf or NaN\) in 50 of 50 rows"
    ):
        scm.sample(50, random_state=0)


def test_too_many_variables() -> None:
    many = {"target": "Y", "variables": {f"V{i}": {"type": "continuous"} for i in range(2_001)}}
    with pytest.raises(SpecError, match="2,001 variables; the limit is 2,000"):
        ct.load_spec(many)
    with pytest.raises(ValueError, match="2,001 variables; the limit is 2,000"):
        ct.TrustSpec.model_validate(many)  # the schema holds the limit too, not only the loader


def _chain(n: int) -> dict[str, object]:
    """The reported hang: a chain A -> X0 -> ... -> Y of ``n`` + 2 variables, with A -> every node."""
    v: dict[str, object] = {
        "A": {"type": "categorical", "categories": [0, 1], "equation": "categorical([0.5, 0.5])"}
    }
    prev = "A"
    for i in range(n):
        v[f"X{i}"] = {"type": "continuous", "equation": f"{prev} + A + normal(0, 1)"}
        prev = f"X{i}"
    v["Y"] = {"type": "continuous", "equation": f"{prev} + A + normal(0, 1)"}
    return {
        "target": "Y",
        "variables": v,
        "fairness": {"protected": "A", "baseline": 0, "unfair_paths": [["A", "Y"]]},
    }


def test_twenty_thousand_variable_chain_is_refused_before_parsing_equations(tmp_path: Path) -> None:
    path = tmp_path / "chain.yaml"
    path.write_text(json.dumps(_chain(19_998)), encoding="utf-8")  # JSON is YAML, and quick to write
    with pytest.raises(SpecError, match="20,000 variables; the limit is 2,000"):
        ct.load_spec(path)
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 2
    assert "20,000 variables; the limit is 2,000" in res.output


def test_long_chain_within_the_variable_limit_is_refused_by_path_work(tmp_path: Path) -> None:
    # 1,998 paths from A to Y of 1,000 nodes on average: ~2e6 nodes to list, past the 1e6 limit.
    spec = ct.load_spec(_chain(1_997))
    with pytest.raises(ct.GraphError, match=r"1,998 directed paths from A to Y have 1,998,999 nodes in all"):
        spec.fair_paths()
    path = tmp_path / "chain.yaml"
    path.write_text(json.dumps(_chain(1_997)), encoding="utf-8")
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 2
    assert "nodes in all; the limit is 1,000,000" in res.output


def test_deep_chain_is_refused_by_path_specific_worlds() -> None:
    # 500 paths of at most 501 edges: few enough to list, too deep for the recursive path-specific worlds.
    spec = ct.load_spec(_chain(500))
    assert len(spec.all_paths("A")) == 501  # listing is fine: A -> Y and A -> Xi -> ... -> Y
    with pytest.raises(ct.GraphError, match=r"a directed path from A has 501 edges; .* at most 400"):
        ct.decompose_effects(ct.SCM.from_spec(spec), n=10, random_state=0)


@pytest.mark.parametrize(
    ("equation", "bad"),
    [
        ("bernoulli(sqrt(X - 100))", "50 of 50"),  # NaN for every unit
        ("bernoulli(1 + exp(X))", "50 of 50"),  # above 1 for every unit
        ("bernoulli(0 * log(1 + X * X) - 0.5)", "50 of 50"),  # below 0
    ],
)
def test_bernoulli_probability_outside_0_1_or_nan_names_the_variable(equation: str, bad: str) -> None:
    spec = _spec()
    spec["variables"]["Y"] = {"type": "binary", "equation": equation}  # type: ignore[index]
    scm = ct.SCM.from_spec(spec)
    with pytest.raises(ct.exceptions.DataError, match=rf"the probability of 'Y' is .* \({bad} units out of"):
        scm.sample(50, random_state=0)
