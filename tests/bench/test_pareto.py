"""Pareto front, hypervolume, ranks and dominance against hand-computed small cases."""

import math

import numpy as np
import pandas as pd
import pytest

from causaltrust import bench

ACC, UPE = "accuracy.observational", "fairness.unfair_path_effect"
MIA, SPE = "privacy.mia_auc", "robustness.spurious_path_effect"


def test_directions_come_from_the_metric_registry():
    assert bench.directions([ACC, UPE, MIA]) == ["higher", "zero", "lower"]
    assert bench.directions(["my.score"], {"my.score": "higher"}) == ["higher"]
    with pytest.raises(bench.BenchError, match="not a known metric"):
        bench.directions(["my.score"])
    with pytest.raises(bench.BenchError, match="expected one of"):
        bench.directions([ACC], {ACC: "up"})


def _frame_2d():
    # minimisation space (-acc, |upe|): r0 (-.9,.3) r1 (-.8,.1) r2 (-.7,.05) r3 (-.85,.2) on the front;
    # r4 (-.75,.15) and r6 (-.8,.12) dominated by r1; r5 ties r1 exactly (stays); r7 has a NaN (left out).
    return pd.DataFrame(
        {
            ACC: [0.9, 0.8, 0.7, 0.85, 0.75, 0.8, 0.8, np.nan],
            UPE: [0.3, -0.1, 0.05, 0.2, -0.15, 0.1, -0.12, 0.0],
        }
    )


def test_pareto_front_2d_with_zero_direction():
    front = bench.pareto_front(_frame_2d(), [ACC, UPE])
    assert front.index.tolist() == [0, 1, 2, 3, 5]
    # Treated as "lower" instead of "zero", -0.15 would be the best and r4 would join the front.
    as_lower = bench.pareto_front(_frame_2d(), [ACC, UPE], directions={UPE: "lower"})
    assert 4 in as_lower.index


def test_hypervolume_2d_by_hand():
    # Sorted by -acc: widths .05, .05, .1, .1 times heights (.4 - |upe|) .1, .2, .3, .35 -> 0.08.
    front = bench.pareto_front(_frame_2d(), [ACC, UPE])
    hv = bench.hypervolume(front[[ACC, UPE]], reference=[0.6, 0.4])
    assert hv == pytest.approx(0.08, abs=1e-12)
    # Dominated and NaN rows add nothing.
    assert bench.hypervolume(_frame_2d(), reference=[0.6, 0.4]) == pytest.approx(0.08, abs=1e-12)
    # Plain arrays are minimised: boxes of (1,4), (2,2), (4,1) up to (5,5) -> 1 + 6 + 4.
    assert bench.hypervolume([[1, 4], [2, 2], [4, 1], [3, 3]], reference=[5, 5]) == pytest.approx(11.0)
    # Points outside the reference box count for nothing; no points, no volume.
    assert bench.hypervolume([[6, 0]], reference=[5, 5]) == 0.0
    assert bench.hypervolume(np.empty((0, 2)), reference=[5, 5]) == 0.0


def test_front_and_hypervolume_3d_by_hand():
    # (-acc, mia, |spe|): P1 (-1,.5,.5) box 1*.5*.5 = .25, P2 (-.5,0,0) box .5*1*1 = .5, overlap
    # .5*.5*.5 = .125 -> union .625. P3 and P4 are dominated by P2 (P4 only once |spe| is used).
    df = pd.DataFrame(
        {ACC: [1.0, 0.5, 0.4, 0.45], MIA: [0.5, 0.0, 0.6, 0.0], SPE: [-0.5, 0.0, 0.6, -0.6]},
        index=["P1", "P2", "P3", "P4"],
    )
    assert bench.pareto_front(df, [ACC, MIA, SPE]).index.tolist() == ["P1", "P2"]
    assert bench.hypervolume(df, reference=[0.0, 1.0, 1.0]) == pytest.approx(0.625, abs=1e-12)
    # Read as "lower", spe = -0.5 and -0.6 would be outside [.., 1] differently: a different volume.
    as_lower = bench.hypervolume(df, reference=[0.0, 1.0, 1.0], directions=["higher", "lower", "lower"])
    assert not math.isclose(as_lower, 0.625)


def test_ranks_per_objective_and_pareto_layer():
    df = pd.DataFrame({ACC: [0.8, 0.7, 0.8, 0.6], UPE: [0.2, -0.1, 0.3, 0.4]})
    r = bench.ranks(df, [ACC, UPE])
    assert r[f"rank[{ACC}]"].tolist() == [1, 3, 1, 4]
    assert r[f"rank[{UPE}]"].tolist() == [2, 1, 3, 4]
    assert r["mean_rank"].tolist() == [1.5, 2.0, 2.0, 4.0]
    # Row 2 is dominated by row 0 only; row 3 by rows 0, 1 and 2 (third layer).
    assert r["pareto_rank"].tolist() == [1, 1, 2, 3]


def test_dominance_summary_by_hand():
    df = pd.DataFrame(
        {
            "method": ["selective", "selective", "selective_fitted", "erm", "erm", "dp"],
            ACC: [0.8, 0.85, 0.7, 0.75, 0.86, 0.6],
            UPE: [0.0, -0.1, 0.02, 0.2, 0.3, 0.0],
        }
    )
    s = bench.dominance_summary(df, [ACC, UPE], reference=[0.5, 0.4]).set_index("baseline")
    assert s.index.tolist() == ["dp", "erm"]
    # Causal front c1 (-.8, 0), c2 (-.85, .1): HV .05*.3 + .3*.4 = .135.
    assert s["hv_causal"].tolist() == pytest.approx([0.135, 0.135])
    erm, dp = s.loc["erm"], s.loc["dp"]
    # erm: e1 (-.75,.2) dominated by c1; e2 (-.86,.3) is not. HV .11*.1 + .25*.2 = .061; union .136.
    assert not erm["dominates"]
    assert erm["share_front_dominated"] == 0.5
    assert erm["share_points_dominated"] == 0.5
    assert erm["hv_baseline"] == pytest.approx(0.061)
    assert erm["hv_difference"] == pytest.approx(0.074)
    assert erm["hv_causal_only"] == pytest.approx(0.075)
    assert erm["hv_baseline_only"] == pytest.approx(0.001)
    # dp: (-.6, 0) dominated by c1 (same |upe|, better accuracy). HV .1*.4 = .04.
    assert dp["dominates"]
    assert dp["share_points_dominated"] == 1.0
    assert dp["hv_baseline"] == pytest.approx(0.04)
    assert dp["hv_baseline_only"] == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(bench.BenchError, match="no rows of the causal methods"):
        bench.dominance_summary(df[df["method"] == "erm"], [ACC, UPE])


def test_default_reference_lies_beyond_every_point():
    df = pd.DataFrame({"method": ["selective", "erm"], ACC: [0.8, 0.6], UPE: [0.1, 0.3]})
    s = bench.dominance_summary(df, [ACC, UPE])
    acc_ref, upe_ref = s.attrs["reference"]
    assert acc_ref == pytest.approx(0.6 - 0.02)
    assert upe_ref == pytest.approx(0.3 + 0.02)
    assert s["hv_baseline"].iloc[0] > 0


def test_missing_objective_column_is_a_clear_error():
    with pytest.raises(bench.BenchError, match="not in the frame"):
        bench.pareto_front(pd.DataFrame({ACC: [0.5]}), [ACC, UPE])
