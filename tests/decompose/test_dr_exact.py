"""The doubly robust decomposition knows exact zeros, repeats cross-fitting, and reports poor overlap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causaltrust as ct
from causaltrust.exceptions import DataError


def _spec(a1: float) -> dict[str, object]:
    # Z confounds X (strength a1), W mediates X -> Y.
    return {
        "name": "sfm",
        "target": "Y",
        "variables": {
            "Z": {"type": "continuous", "equation": "normal(0, 1)"},
            "X": {"type": "binary", "equation": f"bernoulli(sigmoid(-0.3 + {a1}*Z))"},
            "W": {"type": "continuous", "equation": "0.5 + 1.0*X + 0.6*Z + normal(0, 1)"},
            "Y": {"type": "binary", "equation": "bernoulli(sigmoid(-0.5 + 0.7*X + 0.5*Z + 0.8*W))"},
        },
        "fairness": {"protected": "X", "baseline": 0},
    }


@pytest.fixture(scope="module")
def world() -> pd.DataFrame:
    df = ct.SCM.from_spec(_spec(0.8)).sample(3_000, random_state=3)
    # Two "models" that never read X: one reads Z and W, one reads Z only (scores, not thresholded).
    df["score_zw"] = 1 / (1 + np.exp(-(0.4 * df["Z"] + 0.9 * df["W"])))
    df["score_z"] = 1 / (1 + np.exp(-(1.2 * df["Z"])))
    return df


def test_model_that_does_not_read_the_protected_attribute_has_exactly_zero_direct_effect(world) -> None:
    dec = ct.decompose_disparity(
        _spec(0.8), data=world, outcome="score_zw", outcome_parents=["Z", "W"], learner="linear", n_boot=50
    )
    # Y = f(Z, W) with no X: Y_{x1, W_{x0}} = Y for every unit, so ctf-DE is 0 by the graph, not ~0.
    assert (dec.de.value, dec.de.low, dec.de.high) == (0.0, 0.0, 0.0)
    level = dec.levels[0]
    assert "does not read 'X'" in level.exact["de"]
    assert "ie" not in level.exact  # it reads the mediator W
    assert any(n.startswith("ctf-DE is exactly 0 by the graph") for n in dec.notes)
    # TV = DE - IE - SE still holds exactly, and TV is the observed difference in means.
    tv = world.loc[world.X == 1, "score_zw"].mean() - world.loc[world.X == 0, "score_zw"].mean()
    assert dec.tv.value == pytest.approx(tv, abs=1e-12)
    assert dec.tv.value == pytest.approx(dec.de.value - dec.ie.value - dec.se.value, abs=1e-12)


def test_model_reading_only_confounders_has_zero_direct_and_indirect_effects(world) -> None:
    dec = ct.decompose_disparity(
        _spec(0.8), data=world, outcome="score_z", outcome_parents=["Z"], learner="linear", n_boot=50
    )
    assert dec.de.value == 0.0
    assert dec.ie.value == 0.0
    assert dec.se.value == pytest.approx(-dec.tv.value, abs=1e-12)  # all of the disparity is spurious
    assert set(dec.levels[0].exact) == {"de", "ie"}
    frame = dec.to_frame().set_index("term")
    assert frame.loc["ie", "exact"].startswith("'score_z' reads no descendant of 'X'")


def test_repeated_cross_fitting_medians_and_widens_with_the_split(world) -> None:
    one = ct.decompose_disparity(_spec(0.8), data=world, outcome="Y", learner="linear", n_boot=50)
    rep = ct.decompose_disparity(_spec(0.8), data=world, outcome="Y", learner="linear", n_boot=50, repeats=3)
    assert "median over 3 repeated 5-fold cross-fittings" in rep.interval
    assert rep.tv.value == pytest.approx(one.tv.value, abs=1e-12)  # group means do not depend on the split
    for term in ("de", "ie", "se"):
        e1, e3 = getattr(one, term), getattr(rep, term)
        # The split moves a DR estimate by far less than its sampling sd (~0.01 at n = 3,000).
        assert abs(e3.value - e1.value) < 0.01
        assert e3.low < e3.value < e3.high
    with pytest.raises(DataError, match="repeats must be a positive integer"):
        ct.decompose_disparity(_spec(0.8), data=world, outcome="Y", repeats=0)


def test_poor_overlap_reports_the_clipped_share_and_a_trimmed_estimate() -> None:
    # X almost determined by Z (slope 5): many propensities beyond 0.01 / 0.99.
    df = ct.SCM.from_spec(_spec(5.0)).sample(3_000, random_state=4)
    dec = ct.decompose_disparity(_spec(5.0), data=df, outcome="Y", learner="linear", n_boot=50)
    level = dec.levels[0]
    assert level.clipped > 0.05
    assert level.trimmed is not None
    assert 0 < level.n_trimmed < len(df)
    assert any("on the" in n and "units with propensities in [0.1, 0.9]" in n for n in dec.notes)
    assert {"trimmed", "trimmed_low", "trimmed_high", "clipped"} <= set(dec.to_frame().columns)
    mild = ct.SCM.from_spec(_spec(0.3)).sample(3_000, random_state=4)
    good = ct.decompose_disparity(_spec(0.3), data=mild, outcome="Y", learner="linear", n_boot=50)
    assert good.levels[0].clipped < level.clipped
