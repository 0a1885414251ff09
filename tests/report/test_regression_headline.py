"""A continuous target with shifts: the headline and the accuracy sentence read the interventional RMSE."""

from __future__ import annotations

import numpy as np

import causaltrust as ct
from causaltrust.report._ledger import HEADLINE, headline_sentences


def _spec_with_shifts() -> ct.TrustSpec:
    d = ct.scenarios.load("credit_limit")[0].to_dict()
    d["shifts"] = {"poorer": {"equations": {"I": "3 - 0.8*A + normal(0, 1)"}}}
    return ct.load_spec(d)


def test_interventional_rmse_is_a_headline_metric_and_lower_is_better(tmp_path):
    spec = _spec_with_shifts()
    led = ct.bench.run(
        spec,
        methods=["erm", "unaware"],
        seeds=[0],
        store=tmp_path / "r.duckdb",
        n_train=600,
        n_test=400,
        n_bootstrap=10,
        n_shadow=0,
        recourse_units=20,
        progress=False,
    )
    agg = ct.bench.summarize(led)
    assert "accuracy.interventional_rmse" in HEADLINE
    assert np.isfinite(agg["accuracy.interventional_rmse"]).all()
    # The accuracy sentence ranks by the interventional RMSE (ahead of the observational one) and names
    # the configuration with the LOWEST value as best.
    acc = next(s for _, s in headline_sentences(agg) if s.startswith("<b>Accuracy</b>"))
    assert "accuracy.interventional_rmse (lower is better)" in acc
    best = str(agg.loc[agg["accuracy.interventional_rmse"].idxmin(), "config"])
    assert f"best <b>{best}</b>" in acc
