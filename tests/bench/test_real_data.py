"""Sweeps on real rows: a dataset name brings spec and data; the audit's SCM is fitted on held-out rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causaltrust as ct
from causaltrust import bench
from causaltrust.bench import _executors

SPEC = {
    "name": "tiny",
    "target": "Y",
    "variables": {
        "A": {"type": "binary", "role": "protected"},
        "X": {"type": "continuous", "parents": ["A"]},
        "Y": {"type": "binary", "parents": ["A", "X"]},
    },
    "fairness": {"protected": "A", "unfair_paths": [["A", "Y"]]},
}


def _rows(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2, n)
    x = a + rng.normal(0, 1, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(x + 0.5 * a - 0.5)))).astype(int)
    return pd.DataFrame({"A": a, "X": x, "Y": y})


def test_a_dataset_name_brings_its_spec_and_rows() -> None:
    cells = bench.plan("compas", methods=["erm", "selective_fitted"], seeds=[0])
    assert {c.scenario for c in cells} == {"compas"}
    assert cells[0].spec.hash == ct.datasets.spec("compas").hash
    assert cells[0].data is not None
    assert len(cells[0].data) == 5_278
    assert cells[0].data_digest is not None


def test_bad_rows_fail_at_plan_time_naming_the_column() -> None:
    df = _rows(100).assign(X=lambda d: d["X"].astype(object))
    df.loc[3, "X"] = "n/a"
    with pytest.raises(ct.DataError, match="'X' is continuous but mixes numbers and text"):
        bench.plan(SPEC, data=df, methods=["erm"], seeds=[0])


def test_reference_scm_is_fitted_on_the_held_out_rows() -> None:
    df = _rows(600)
    settings = {"n_train": 400, "n_test": 200, "n_bootstrap": 5, "n_shadow": 0, "recourse_units": 5}
    cells = bench.plan(SPEC, data=df, methods=["erm", "selective"], seeds=[0], **settings)
    _executors._SCM_CACHE.clear()
    results = [_executors.run_cell(c) for c in cells]
    assert [r["status"] for r in results] == ["ok", "ok"], [r["error"] for r in results]
    fitted = {k.rsplit(":", 1)[1]: v for k, v in _executors._SCM_CACHE.items()}
    # The audit's reference saw only the 200 test rows; "selective" (which wants a true SCM) got the
    # 400 training rows. Both are fitted once per seed and shared by the methods.
    assert fitted["test"].provenance["n_rows"] == 200
    assert fitted["train"].provenance["n_rows"] == 400
    assert len(_executors._SCM_CACHE) == 2
    held_out = "fitted (SCM.fit on the 200 held-out test rows), not a true SCM"
    assert any(held_out in n for n in results[0]["notes"])
    assert any("received an SCM fitted on its 400 training rows" in n for n in results[1]["notes"])
    train, test = _executors._cell_data(cells[0], None)
    assert not set(train.index) & set(test.index)


def test_standardized_logistic_matches_an_independent_fit_on_z_scores() -> None:
    from sklearn.linear_model import LogisticRegression

    from causaltrust.bench._estimators import StandardizedLogisticRegression

    rng = np.random.default_rng(3)
    n = 400
    X = np.column_stack([rng.normal(3_000, 2_000, n), rng.integers(0, 2, n), np.ones(n)])
    y = (rng.random(n) < 1 / (1 + np.exp(-(X[:, 0] - 3_000) / 2_000 - X[:, 1]))).astype(int)
    w = rng.uniform(0.5, 2.0, n)
    clf = StandardizedLogisticRegression().fit(X, y, sample_weight=w)
    # Independent: z-score by hand (constant column left as is), fit plain sklearn, compare probabilities.
    sd = X.std(axis=0)
    sd[sd == 0] = 1.0
    ref = LogisticRegression().fit((X - X.mean(axis=0)) / sd, y, sample_weight=w)
    np.testing.assert_allclose(
        clf.predict_proba(X), ref.predict_proba((X - X.mean(axis=0)) / sd), rtol=0, atol=1e-10
    )
