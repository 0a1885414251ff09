"""Text methods in the bench: declared as text, kept out of tabular sweeps and the demo, run by run_text."""

from __future__ import annotations

import pytest

import causaltrust as ct


def test_text_methods_are_declared_and_refused_by_tabular_sweeps(tmp_path):
    text = sorted(n for n, m in ct.bench.METHODS.items() if m.data == "text")
    assert text == ["text_cda", "text_consistency", "text_entity", "text_erm"]
    assert ct.bench.METHODS["erm"].data == "tabular"
    with pytest.raises(ct.BenchError, match="run_text"):
        ct.bench.plan("readmission", methods=["erm", "text_cda"], seeds=[0])
    with pytest.raises(ct.BenchError, match="takes tables"):
        ct.bench.run_text(["erm"], [0], store=str(tmp_path / "t.duckdb"))


def test_run_text_records_cells_in_a_ledger_and_skips_finished_ones(tmp_path):
    store = str(tmp_path / "text.duckdb")
    grid = {"text_consistency": {"strength": [0.0, 10.0]}, "text_erm": {"encoder": ["bow"]}}
    grid["text_consistency"]["encoder"] = ["bow"]
    kw = {"grid": grid, "store": store, "n_train": 300, "n_test": 150, "n_bootstrap": 0}
    led = ct.bench.run_text(["text_erm", "text_consistency"], [0], **kw)
    cells = led.cells()
    assert sorted(cells["status"]) == ["ok", "ok", "ok"]
    metrics = led.metrics()
    flips = metrics[metrics["name"] == "text.flip_rate"]
    by = {(r.method, r.params_json): r.value for r in flips.itertuples()}
    erm = next(v for (m, _), v in by.items() if m == "text_erm")
    zero = next(v for (m, p), v in by.items() if m == "text_consistency" and '"strength":0.0' in p)
    strong = next(v for (m, p), v in by.items() if m == "text_consistency" and '"strength":10.0' in p)
    assert zero == erm  # strength 0 is ERM
    assert strong < erm
    again = ct.bench.run_text(["text_erm", "text_consistency"], [0], **kw)
    assert len(again.cells()) == 3
