"""The story's comparison rule: paired by seed, with a margin of one point on probability scales.

Ground truth: ``scipy.stats.ttest_rel`` on the per-seed values written into the ledger (a paired Student-t
95% interval excludes 0 exactly when the two-sided paired t-test has p < 0.05), and the margin from the
values themselves.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from causaltrust.bench import Ledger, summarize
from causaltrust.report import story_verdicts
from causaltrust.report._judge import TIE_MARGIN, compare

BASE = [0.60, 0.70, 0.80]  # a seed effect both configurations share (the same rows per seed)


def _ledger(
    path: Path,
    values: dict[str, dict[str, list[float]]],
    seeds: dict[str, list[int]] | None = None,
    settings: dict[str, str] | None = None,
) -> Ledger:
    """One cell per method and seed, with the given metric values per seed (method → metric → values)."""
    led = Ledger.open(path, create=True)
    now = datetime.datetime(2026, 1, 1, 12, 0, 0)
    for method, metrics in values.items():
        n = len(next(iter(metrics.values())))
        for k, seed in enumerate((seeds or {}).get(method, list(range(n)))):
            led.write(
                {
                    "cell_id": f"{method}-{seed}",
                    "scenario": "toy",
                    "spec_hash": "h",
                    "method": method,
                    "params_json": "{}",
                    "seed": seed,
                    "settings_json": (settings or {}).get(method, "{}"),
                    "status": "ok",
                    "error": None,
                    "traceback": None,
                    "fit_seconds": 0.0,
                    "audit_seconds": 0.0,
                    "cpu_seconds": 0.0,
                    "started_at": now,
                    "finished_at": now,
                    "package_version": "0",
                    "host": "here",
                    "metrics": [
                        {
                            "name": m,
                            "value": v[k],
                            "low": None,
                            "high": None,
                            "better": "higher",
                            "passed": None,
                        }
                        for m, v in metrics.items()
                    ],
                    "notes": [],
                }
            )
    return led


def _rows(led: Ledger) -> dict[str, pd.Series]:
    return {str(r["method"]): r for _, r in summarize(led).iterrows()}


def test_summary_carries_each_configurations_values_per_seed(tmp_path: Path) -> None:
    acc = {"a": [0.61, 0.72, 0.83], "b": [0.6, 0.7, 0.8]}
    led = _ledger(tmp_path / "r.duckdb", {m: {"accuracy.interventional": v} for m, v in acc.items()})
    rows = _rows(led)
    for m, v in acc.items():
        assert rows[m]["seed_values"]["accuracy.interventional"] == dict(enumerate(v))


def test_a_shared_seed_effect_is_paired_out(tmp_path: Path) -> None:
    a = [b + d for b, d in zip(BASE, [0.020, 0.021, 0.019], strict=True)]
    led = _ledger(
        tmp_path / "r.duckdb", {"a": {"accuracy.interventional": a}, "b": {"accuracy.interventional": BASE}}
    )
    rows = _rows(led)
    m = "accuracy.interventional"
    # each configuration's own interval is wide (the seed effect): they overlap, and used to be a tie
    assert rows["a"][m + "::lo"] <= rows["b"][m + "::hi"]
    assert stats.ttest_rel(a, BASE).pvalue < 0.05
    assert compare(rows["a"], rows["b"], m) == "win"
    assert compare(rows["b"], rows["a"], m) == "lose"
    assert story_verdicts(led)[""]["accuracy"]["top"] == ["a"]


def test_differences_that_do_not_hold_across_seeds_are_a_tie(tmp_path: Path) -> None:
    a = [b + d for b, d in zip(BASE, [0.05, -0.02, 0.06], strict=True)]
    led = _ledger(
        tmp_path / "r.duckdb", {"a": {"accuracy.interventional": a}, "b": {"accuracy.interventional": BASE}}
    )
    rows = _rows(led)
    assert np.mean(a) - np.mean(BASE) > TIE_MARGIN  # not the margin's doing
    assert stats.ttest_rel(a, BASE).pvalue > 0.05
    assert compare(rows["a"], rows["b"], "accuracy.interventional") == "tie"
    assert story_verdicts(led)[""]["accuracy"]["top"] == ["a", "b"]


def test_a_consistent_difference_under_one_point_is_a_tie_on_probability_scales_only(tmp_path: Path) -> None:
    d = [0.005, 0.006, 0.004]
    b = [0.30, 0.50, 0.70]
    a = [x + y for x, y in zip(b, d, strict=True)]
    assert stats.ttest_rel(a, b).pvalue < 0.05  # significant, yet under the story's resolution
    values = {
        "a": {"accuracy.interventional": a, "accuracy.rmse": a, "accuracy.observational": b},
        "b": {"accuracy.interventional": b, "accuracy.rmse": b, "accuracy.observational": b},
    }
    rows = _rows(_ledger(tmp_path / "r.duckdb", values))
    assert compare(rows["a"], rows["b"], "accuracy.interventional") == "tie"
    # RMSE is on the target's own scale: no margin, the paired test decides (lower is better)
    assert compare(rows["a"], rows["b"], "accuracy.rmse") == "lose"


def test_path_effects_get_the_margin_for_classifiers_not_regressors(tmp_path: Path) -> None:
    effect = "fairness.unfair_path_effect"
    b = [0.10, 0.20, 0.30]
    a = [x + d for x, d in zip(b, [0.004, 0.005, 0.003], strict=True)]
    clf = {m: {effect: v, "accuracy.observational": [0.7, 0.7, 0.7]} for m, v in (("a", a), ("b", b))}
    reg = {m: {effect: v, "accuracy.rmse": [1.0, 1.0, 1.0]} for m, v in (("a", a), ("b", b))}
    clf_rows = _rows(_ledger(tmp_path / "c.duckdb", clf))
    reg_rows = _rows(_ledger(tmp_path / "r.duckdb", reg))
    assert stats.ttest_rel(a, b).pvalue < 0.05
    assert compare(clf_rows["a"], clf_rows["b"], effect) == "tie"  # 0.004 of P(Ŷ = 1) on average
    assert compare(reg_rows["b"], reg_rows["a"], effect) == "win"  # 0.004 of the output's units: |b| < |a|


def test_only_shared_seeds_are_paired(tmp_path: Path) -> None:
    m = "accuracy.interventional"
    # b's seed 3 is far off; a has no seed 3, so only seeds 1 and 2 pair: a - b = +0.03, +0.031
    a, b = [0.5, 0.63, 0.731], [0.60, 0.70, 0.10]
    led = _ledger(
        tmp_path / "r.duckdb",
        {"a": {m: a}, "b": {m: b}},
        seeds={"a": [0, 1, 2], "b": [1, 2, 3]},
    )
    rows = _rows(led)
    assert stats.ttest_rel(a[1:], b[:2]).pvalue < 0.05
    assert compare(rows["a"], rows["b"], m) == "win"


def test_rows_of_other_settings_are_not_paired(tmp_path: Path) -> None:
    m = "accuracy.interventional"
    a = [b + d for b, d in zip(BASE, [0.020, 0.021, 0.019], strict=True)]
    led = _ledger(
        tmp_path / "r.duckdb",
        {"a": {m: a}, "b": {m: BASE}},
        settings={"a": '{"n_train": 100}', "b": '{"n_train": 200}'},
    )
    rows = _rows(led)
    # seed 0 at 100 rows is not seed 0 at 200 rows: no pairs, so their own (overlapping) intervals decide
    assert rows["a"][m + "::lo"] <= rows["b"][m + "::hi"]
    assert compare(rows["a"], rows["b"], m) == "tie"
