"""The story never says a configuration that fails an objective's own threshold "does as well" on it."""

from __future__ import annotations

import pandas as pd
from story_frames import aggregate_frame

from causaltrust.report._ledger import headline_sentences

UNF = "fairness.unfair_path_effect"
INT = "accuracy.interventional"


def _agg(ref_unfair: tuple[float, float, float], passed: float) -> pd.DataFrame:
    """Two configurations: ``selective`` meets |unfair| <= 0.02 on every seed; ``groupdro`` is more accurate
    and its unfair-path effect is ``ref_unfair`` (mean, lo, hi), met on a share ``passed`` of the seeds."""
    rows = []
    for config, acc, unf, ok in (
        ("selective", (0.762, 0.750, 0.774), (0.0, 0.0, 0.0), 1.0),
        ("groupdro", (0.782, 0.771, 0.793), ref_unfair, passed),
    ):
        rows.append(
            {
                "config": config,
                "method": config,
                INT: acc[0],
                f"{INT}::lo": acc[1],
                f"{INT}::hi": acc[2],
                UNF: unf[0],
                f"{UNF}::lo": unf[1],
                f"{UNF}::hi": unf[2],
                f"{UNF}::passed": ok,
            }
        )
    return aggregate_frame(rows)


def _fairness(agg: pd.DataFrame) -> str:
    thresholds = {"s": {UNF: {"min": None, "max": 0.02}}}
    return next(s for _, s in headline_sentences(agg, thresholds, {"s": None}) if s.startswith("<b>Fairness"))


def test_failing_its_own_threshold_is_said_not_a_tie():
    # The lending flagship's case (3 seeds): 0.060 [-0.005, 0.126] overlaps 0.000 but fails on 2 of 3 seeds.
    sentence = _fairness(_agg((0.060, -0.005, 0.126), 1 / 3))
    assert "does as well here" not in sentence
    assert "<b>groupdro</b>, misses this threshold (0.060 [-0.005, 0.126]; met on 33% of seeds)." in sentence


def test_meeting_it_with_overlapping_intervals_is_still_a_tie():
    # Met on every seed (it then fails no threshold at all): the overlap reads as before.
    sentence = _fairness(_agg((0.004, -0.005, 0.013), 1.0))
    assert "misses this threshold" not in sentence
