"""The DuckDB ledger: format tag, one transaction per cell, refusing files that are not ledgers."""

import datetime
import os

import duckdb
import pytest

from causaltrust import bench


def _result(cell_id="c1", status="ok", names=("accuracy.observational", "fairness.unfair_path_effect")):
    now = datetime.datetime(2026, 1, 1, 12, 0, 0)
    return {
        "cell_id": cell_id,
        "scenario": "readmission",
        "spec_hash": "h",
        "method": "erm",
        "params_json": '{"C":1.0}',
        "seed": 0,
        "settings_json": "{}",
        "status": status,
        "error": None if status == "ok" else "ValueError: boom",
        "traceback": None,
        "fit_seconds": 0.1,
        "audit_seconds": 0.2,
        "cpu_seconds": 0.3,
        "started_at": now,
        "finished_at": now,
        "package_version": "0.1.0",
        "host": "here",
        "metrics": [
            {
                "name": n,
                "value": 0.5 + i,
                "low": 0.4,
                "high": float("nan"),
                "better": "higher",
                "passed": None,
            }
            for i, n in enumerate(names)
        ],
        "notes": ["a note"],
    }


def _snapshot(path):
    return path.read_bytes(), os.stat(path).st_mtime_ns


def test_new_ledger_has_format_tag_and_schema(tmp_path):
    led = bench.Ledger.open(tmp_path / "r.duckdb", create=True)
    meta = led.meta()
    assert meta["format"] == bench.LEDGER_FORMAT == "causaltrust-ledger"
    assert meta["schema_version"] == str(bench.SCHEMA_VERSION)
    assert len(led) == 0
    assert sorted(os.listdir(tmp_path)) == ["r.duckdb"]  # no temporary file left behind
    with pytest.raises(bench.BenchError, match="no ledger"):
        bench.Ledger.open(tmp_path / "other.duckdb")


def test_write_is_replace_by_cell_id(tmp_path):
    led = bench.Ledger.open(tmp_path / "r.duckdb", create=True)
    led.write(_result(status="failed", names=()))
    led.write(_result())
    led.write(_result())  # the same cell again: replaced, never duplicated
    data = led.data()
    assert data.cells["cell_id"].tolist() == ["c1"]
    assert data.cells["status"].tolist() == ["ok"]
    assert len(data.metrics) == 2
    assert len(data.notes) == 1
    assert led.finished_ids() == {"c1"}
    tidy = led.to_frame(wide=False)
    assert tidy["name"].tolist() == ["accuracy.observational", "fairness.unfair_path_effect"]
    wide = led.to_frame()
    assert wide.loc[0, "fairness.unfair_path_effect"] == 1.5
    assert wide.columns[:5].tolist() == ["cell_id", "scenario", "method", "params_json", "seed"]


def test_a_failing_write_leaves_nothing_of_the_cell(tmp_path):
    led = bench.Ledger.open(tmp_path / "r.duckdb", create=True)
    led.write(_result("c0"))
    bad = _result("c1", names=("accuracy.observational", "accuracy.observational"))  # duplicate key
    with pytest.raises(duckdb.ConstraintException, match=r"(?i)duplicate key"):
        led.write(bad)
    data = led.data()
    assert set(data.cells["cell_id"]) == {"c0"}
    assert set(data.metrics["cell_id"]) == {"c0"}
    assert set(data.notes["cell_id"]) == {"c0"}


def test_failed_cells_are_not_finished(tmp_path):
    led = bench.Ledger.open(tmp_path / "r.duckdb", create=True)
    led.write(_result("c0", status="failed", names=()))
    assert led.finished_ids() == set()
    assert led.cells("failed")["error"].tolist() == ["ValueError: boom"]


@pytest.mark.parametrize("kind", ["text", "empty", "duckdb_without_meta", "duckdb_wrong_tag"])
def test_a_file_that_is_not_a_ledger_is_refused_and_untouched(tmp_path, kind):
    path = tmp_path / "results.duckdb"
    if kind == "text":
        path.write_text("name,value\na,1\n")
    elif kind == "empty":
        path.touch()
    else:
        con = duckdb.connect(str(path))
        if kind == "duckdb_wrong_tag":
            con.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR)")
            con.execute("INSERT INTO meta VALUES ('format', 'something-else')")
        else:
            con.execute("CREATE TABLE t (x INT)")
        con.close()
    before = _snapshot(path)
    listing = sorted(os.listdir(tmp_path))
    with pytest.raises(bench.BenchError, match="not a causaltrust ledger"):
        bench.Ledger.open(path, create=True)
    assert _snapshot(path) == before
    assert sorted(os.listdir(tmp_path)) == listing


def test_store_in_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(bench.BenchError, match="does not exist"):
        bench.Ledger.open(tmp_path / "nope" / "r.duckdb", create=True)
    assert not (tmp_path / "nope").exists()
