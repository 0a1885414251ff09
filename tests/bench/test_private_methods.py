"""``sensitive_rr``: path-targeted randomized response as a sweep method (issue 33)."""

from __future__ import annotations

import pytest

from causaltrust import bench


def test_sensitive_rr_cell_reports_its_closed_form_epsilon(tmp_path):
    led = bench.run(
        "readmission", store=tmp_path / "p.duckdb", methods=["sensitive_rr"],
        grid={"sensitive_rr": {"epsilon": [0.5]}}, seeds=[0], n_jobs=1, progress=False, n_train=600,
        n_test=600, n_bootstrap=5, n_shadow=0, recourse_units=5,
    )  # fmt: skip
    cells = led.cells()
    assert (cells["status"] == "ok").all(), cells["error"].tolist()
    m = led.metrics().set_index("name")["value"]
    # k-ary randomized response on readmission's binary A: ε_A is the parameter exactly (closed form).
    assert m["privacy.sensitive_epsilon"] == pytest.approx(0.5, rel=1e-12)
    assert m["privacy.epsilon"] == float("inf")  # the other columns and the label are not private
    assert 0.6 < m["accuracy.observational"] <= 1.0
