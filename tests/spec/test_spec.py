"""Loading trust specs and their views (graph, paths, roles, shifts)."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given

import causaltrust as ct
from causaltrust.spec import TrustSpec
from strategies import SETTINGS, dags, mixed_scms

SMALL_YAML = textwrap.dedent(
    """
    target: Y
    variables:
      X: {type: continuous, equation: "normal(0, 1)"}
      Y: {type: continuous, equation: "2*X + normal(0, 1)"}
    """
)


@pytest.fixture(scope="module")
def readmission() -> TrustSpec:
    spec, _ = ct.scenarios.load("readmission")
    return spec


def test_readmission_views(readmission):
    spec = readmission
    assert spec.name == "readmission"
    assert spec.target == "Y"
    assert spec.protected == "A"
    assert spec.environment == "E"
    assert spec.features == ["A", "E", "X", "Z", "F"]
    assert spec.observed == ["A", "E", "F", "Z", "X", "Y"]
    assert spec.latent == ["L"]
    assert spec.unfair_paths() == [("A", "Y"), ("A", "Z")]
    assert spec.fair_paths() == [("A", "L", "Y")]
    assert spec.spurious_paths() == [("E", "X")]
    assert spec.contextual_paths() == [("E", "Y")]
    # X does not cause Y (Y depends on the true lab value L): E -> X reaches no path to Y.
    assert spec.spurious_full_paths() == []
    assert spec.contextual_full_paths() == [("E", "Y")]
    assert set(spec.all_paths("A")) == {("A", "Y"), ("A", "Z", "Y"), ("A", "L", "Y")}
    assert set(spec.expand_paths([("A", "Z")])) == {("A", "Z", "Y")}


def test_readmission_parents_follow_the_equations(readmission):
    spec = readmission
    assert spec.parents("A") == ()
    assert spec.parents("L") == ("A", "F")
    assert spec.parents("X") == ("L", "E")
    assert spec.parents("Y") == ("L", "Z", "A", "F", "E")
    order = spec.order
    for v, pas in spec.graph_parents.items():
        assert all(order.index(p) < order.index(v) for p in pas)


def test_readmission_shift_categories_and_equations(readmission):
    spec = readmission
    assert spec.shift_categories("new_hospital")["E"] == (0, 1, 2, 3)
    assert spec.shift_categories("new_device")["E"] == (0, 1, 2)
    assert set(spec.shift_equations("new_hospital")) == {"E", "X", "Y"}
    assert spec.shift_equations("new_device")["X"].parents == ("L", "E")


def test_readmission_sections(readmission):
    spec = readmission
    assert spec.fairness.baseline == 0
    assert spec.privacy.epsilon == 1.0
    assert spec.privacy.sensitive == ("A",)
    assert spec.recourse.actionable == ("F",)
    assert spec.recourse.bounds == {"F": (0.0, 6.0)}
    assert spec.thresholds["fairness.unfair_path_effect"].max == 0.02


def test_load_spec_accepts_text_path_dict_and_spec(tmp_path):
    from_text = ct.load_spec(SMALL_YAML)
    f = tmp_path / "small.yaml"
    f.write_text(SMALL_YAML)
    from_path = ct.load_spec(f)
    from_str_path = ct.load_spec(str(f))
    from_dict = ct.load_spec(from_text.to_dict())
    assert from_text == from_path == from_str_path == from_dict
    assert ct.load_spec(from_text) is from_text
    assert from_text.features == ["X"]
    assert from_text.protected is None
    assert from_text.environment is None
    assert from_text.fair_paths() == []


def test_to_dict_and_dump_round_trip(readmission, tmp_path):
    again = ct.load_spec(readmission.to_dict())
    assert again == readmission
    assert again.hash == readmission.hash
    text = ct.dump_spec(readmission, tmp_path / "r.yaml")
    assert ct.load_spec(tmp_path / "r.yaml") == readmission
    assert ct.load_spec(text).hash == readmission.hash


def test_hash_changes_with_content(readmission):
    d = readmission.to_dict()
    d["variables"]["A"]["equation"] = "bernoulli(0.5)"
    assert ct.load_spec(d).hash != readmission.hash


def test_default_features_exclude_target_and_latents():
    spec = ct.load_spec(
        {
            "target": "Y",
            "variables": {
                "A": {"type": "binary", "equation": "bernoulli(0.5)"},
                "L": {"type": "continuous", "observed": False, "equation": "A + normal(0, 1)"},
                "X": {"type": "continuous", "equation": "L + 1"},
                "Y": {"type": "binary", "equation": "bernoulli(sigmoid(L))"},
            },
        }
    )
    assert spec.features == ["A", "X"]


def test_parents_only_spec_loads_and_has_no_equations():
    spec = ct.load_spec(
        {
            "target": "Y",
            "variables": {
                "A": {"type": "binary"},
                "X": {"type": "continuous", "parents": ["A"]},
                "Y": {"type": "binary", "parents": ["A", "X"]},
            },
            "fairness": {"protected": "A", "unfair_paths": [["A", "Y"]]},
        }
    )
    assert spec.equation("Y") is None
    assert spec.parents("Y") == ("A", "X")
    assert spec.fair_paths() == [("A", "X", "Y")]


def test_matching_parents_and_role_are_accepted():
    spec = ct.load_spec(
        {
            "target": "Y",
            "variables": {
                "A": {"type": "binary", "role": "protected", "equation": "bernoulli(0.5)"},
                "Y": {
                    "type": "continuous",
                    "role": "target",
                    "parents": ["A"],
                    "equation": "A + normal(0, 1)",
                },
            },
            "fairness": {"protected": "A"},
        }
    )
    assert spec.parents("Y") == ("A",)


def test_prefix_entries_expand_to_all_full_paths():
    spec = ct.load_spec(
        {
            "target": "Y",
            "variables": {
                "A": {"type": "binary", "equation": "bernoulli(0.5)"},
                "X": {"type": "continuous", "equation": "A + normal(0, 1)"},
                "Z": {"type": "continuous", "equation": "X + normal(0, 1)"},
                "Y": {"type": "continuous", "equation": "A + X + Z + normal(0, 1)"},
            },
            "fairness": {"protected": "A", "unfair_paths": [["A", "X"]]},
        }
    )
    assert set(spec.expand_paths(spec.unfair_paths())) == {("A", "X", "Y"), ("A", "X", "Z", "Y")}
    assert spec.fair_paths() == [("A", "Y")]


@SETTINGS
@given(mixed_scms())
def test_random_specs_load_with_the_generated_graph(gen):
    spec = ct.load_spec(gen.spec)
    for v, pas in gen.parents.items():
        # A parent drawn for a categorical node may cancel out of nothing: every drawn parent is used.
        assert set(spec.parents(v)) == set(pas)
    assert spec.order == tuple(gen.parents)  # already topological: ties keep declaration order
    assert ct.load_spec(spec.to_dict()) == spec


@SETTINGS
@given(dags(min_nodes=2))
def test_parents_only_random_dags_load(parents):
    spec = ct.load_spec(
        {
            "target": list(parents)[-1],
            "variables": {v: {"type": "continuous", "parents": list(pas)} for v, pas in parents.items()},
        }
    )
    assert spec.graph_parents == parents
    assert spec.features == list(parents)[:-1]
