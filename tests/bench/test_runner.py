"""ct.bench.run: validation before the ledger is touched, failing cells, idempotence, resume after kill -9."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import duckdb
import numpy as np
import pandas as pd
import pytest

import causaltrust as ct
from causaltrust import bench
from causaltrust.bench._methods import build_erm

SMALL = {"n_train": 1000, "n_test": 1000, "n_bootstrap": 10, "n_shadow": 0, "recourse_units": 10}


def _run(store, **kw):
    opts = {"methods": ["erm"], "seeds": [0], "n_jobs": 1, "progress": False, **SMALL, **kw}
    return bench.run("readmission", store=store, **opts)


def _snapshot(path):
    return path.read_bytes(), os.stat(path).st_mtime_ns


# -- bad input: clear errors, ledger untouched ------------------------------------------------------------
def test_unknown_method_lists_the_known_ones(tmp_path):
    store = tmp_path / "r.duckdb"
    expected = r"unknown method 'ermm' \(did you mean 'erm'\?\); known methods: .*\berm\b.*\bselective\b"
    with pytest.raises(bench.BenchError, match=expected):
        _run(store, methods=["erm", "ermm"])
    assert not store.exists()


def test_grid_parameter_the_method_does_not_take(tmp_path):
    store = tmp_path / "r.duckdb"
    with pytest.raises(
        bench.BenchError, match=r"method 'erm' takes no parameter\(s\) \['fairness'\]; it accepts: C"
    ):
        _run(store, grid={"erm": {"fairness": [True]}})
    with pytest.raises(bench.BenchError, match="no chosen method takes a parameter 'alpha'"):
        _run(store, grid={"alpha": [1.0]})
    with pytest.raises(bench.BenchError, match="unknown method 'ermm'"):
        _run(store, grid={"ermm": {"C": [1.0]}})
    with pytest.raises(bench.BenchError, match="not in methods"):
        _run(store, grid={"selective": {"fairness": [True]}})
    assert not store.exists()


def test_other_bad_input_is_refused_before_the_ledger(tmp_path):
    store = tmp_path / "r.duckdb"
    for kw, match in [
        ({"seeds": [0, 0]}, "listed twice"),
        ({"seeds": [-1]}, "non-negative"),
        ({"n_jobs": 0}, "n_jobs"),
        ({"executor": "threads"}, "executor"),
        ({"executor": "dask"}, "needs scheduler"),
        ({"audit_kwargs": {"data": None}}, "audit_kwargs"),
        ({"n_bootstrap": -1}, "n_bootstrap"),
    ]:
        with pytest.raises(bench.BenchError, match=match):
            _run(store, **kw)
    assert not store.exists()


def test_store_that_is_not_a_ledger_is_untouched(tmp_path):
    store = tmp_path / "results.duckdb"
    con = duckdb.connect(str(store))
    con.execute("CREATE TABLE sales (x INT)")
    con.close()
    before = _snapshot(store)
    with pytest.raises(bench.BenchError, match="not a causaltrust ledger"):
        _run(store)
    assert _snapshot(store) == before


def test_grid_forms_expand_to_the_same_cells():
    per_method = bench.plan(
        "readmission", methods=["erm", "selective"], seeds=[0], grid={"erm": {"C": [0.5, 1]}}
    )
    shared = bench.plan("readmission", methods=["erm"], seeds=[0], grid={"C": [0.5, 1.0]})
    assert [t.cell_id for t in per_method if t.method.name == "erm"] == [t.cell_id for t in shared]
    assert [t.params["C"] for t in shared] == [0.5, 1.0]
    assert len({t.cell_id for t in per_method}) == 3
    # Each part of a cell's identity changes its id.
    base = bench.plan("readmission", methods=["erm"], seeds=[0])[0].cell_id
    assert bench.plan("readmission", methods=["erm"], seeds=[1])[0].cell_id != base
    assert bench.plan("readmission", methods=["erm"], seeds=[0], n_bootstrap=7)[0].cell_id != base
    assert bench.plan("lending", methods=["erm"], seeds=[0])[0].cell_id != base


# -- failing cells ----------------------------------------------------------------------------------------
def _raising_build(spec, scm, params, seed):
    raise RuntimeError("this method always fails")


def test_failing_cells_are_recorded_and_the_sweep_goes_on(tmp_path):
    store = tmp_path / "r.duckdb"
    bench.register(bench.MethodSpec("always_fails", "test method", "none", _raising_build, {}))
    try:
        led = _run(store, methods=["always_fails", "erm"], grid={"erm": {"C": [1.0, -1.0]}})
        cells = led.cells().set_index("method")
        assert (led.last_sweep.n_ran, led.last_sweep.n_failed) == (3, 2)
        assert cells.loc["always_fails", "status"] == "failed"
        assert cells.loc["always_fails", "error"] == "RuntimeError: this method always fails"
        assert "Traceback" in cells.loc["always_fails", "traceback"]
        erm = led.cells().query("method == 'erm'").set_index("params_json")
        assert erm.loc['{"C":1.0}', "status"] == "ok"
        assert erm.loc['{"C":-1.0}', "status"] == "failed"
        assert "C" in erm.loc['{"C":-1.0}', "error"]
        # Failed cells run again; finished ones are skipped.
        again = _run(store, methods=["always_fails", "erm"], grid={"erm": {"C": [1.0, -1.0]}})
        assert (again.last_sweep.n_skipped, again.last_sweep.n_ran) == (1, 2)
        assert len(again.cells()) == 3
    finally:
        del bench.METHODS["always_fails"]


def test_registry_refuses_duplicates_and_bad_specs():
    with pytest.raises(bench.BenchError, match="exists"):
        bench.register(bench.MethodSpec("erm", "dup", "none", build_erm, {"C": 1.0}))
    with pytest.raises(bench.BenchError, match="needs_scm"):
        bench.MethodSpec("x", "x", "none", build_erm, {}, "maybe")  # type: ignore[arg-type]


# -- idempotence and executors ----------------------------------------------------------------------------
def _metric_table(led):
    return led.to_frame(wide=False)[["method", "params_json", "seed", "name", "value", "low", "high"]]


def test_rerun_is_idempotent_and_local_workers_match_in_process(tmp_path):
    one, two = tmp_path / "one.duckdb", tmp_path / "two.duckdb"
    kw = {"methods": ["erm", "selective_fitted"], "seeds": [0, 1]}
    led1 = _run(one, **kw)
    assert (led1.last_sweep.n_ran, led1.last_sweep.n_failed) == (4, 0)
    before = _snapshot(one)
    again = _run(one, **kw)
    assert (again.last_sweep.n_ran, again.last_sweep.n_skipped) == (0, 4)
    assert _snapshot(one) == before  # not even opened for writing
    led2 = _run(two, n_jobs=2, **kw)
    assert led2.last_sweep.n_ran == 4
    pd.testing.assert_frame_equal(_metric_table(led1), _metric_table(led2))
    assert set(led2.notes()["note"]) == set(led1.notes()["note"])


# -- resume after kill -9 ----------------------------------------------------------------------------------
def _ok_cells(path):
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:  # not created yet, or the writer holds it right now
        return None
    try:
        return con.execute("SELECT count(*) FROM cells WHERE status = 'ok'").fetchone()[0]
    except duckdb.Error:
        return None
    finally:
        con.close()


def test_resume_after_kill_9_loses_and_duplicates_nothing(tmp_path):
    store = tmp_path / "r.duckdb"
    kw = {"methods": ["erm", "selective"], "seeds": [0, 1, 2, 3]}
    code = textwrap.dedent(
        f"""
        import sys
        from causaltrust import bench
        bench.run("readmission", store=sys.argv[1], n_jobs=1, progress=False, **{ {**kw, **SMALL}!r})
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(store)], start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        done = None
        while time.monotonic() < deadline and proc.poll() is None:
            done = _ok_cells(store)
            if done is not None and done >= 1:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the sweep finished before it could be killed"
        assert done is not None
        assert 1 <= done < 8
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    killed_at = bench.Ledger.open(store).finished_ids()
    assert 1 <= len(killed_at) < 8
    led = _run(store, **kw)
    assert led.last_sweep.n_skipped == len(killed_at)
    assert led.last_sweep.n_ran == 8 - len(killed_at)
    planned = {t.cell_id for t in bench.plan("readmission", **kw, **SMALL)}
    cells = led.cells()
    assert sorted(cells["cell_id"]) == sorted(planned)  # every cell exactly once
    assert (cells["status"] == "ok").all()
    metrics = led.data().metrics
    assert not metrics.duplicated(["cell_id", "name"]).any()
    # Rows = cells x metrics per cell, the per-method counts taken from cells run on their own.
    per_method = {
        m: len(
            bench.run_cell(next(t for t in bench.plan("readmission", methods=[m], seeds=[0], **SMALL)))[
                "metrics"
            ]
        )
        for m in kw["methods"]
    }
    counts = metrics.groupby("cell_id").size()
    expected = cells.set_index("cell_id")["method"].map(per_method)
    assert counts.sort_index().tolist() == expected.sort_index().tolist()
    assert len(metrics) == sum(expected)


def test_ct_audit_is_what_a_cell_records(tmp_path):
    task = bench.plan("readmission", methods=["erm"], seeds=[3], **SMALL)[0]
    res = bench.run_cell(task)
    assert res["status"] == "ok"
    assert res["fit_seconds"] > 0
    assert res["audit_seconds"] > 0
    spec, scm = ct.scenarios.load("readmission")
    from causaltrust.bench._executors import _cell_data

    train, test = _cell_data(task, scm)
    model = (
        bench.METHODS["erm"].build(spec, None, task.params, 3).fit(train[spec.features], train[spec.target])
    )
    rep = ct.audit(
        model,
        spec=spec,
        scm=scm,
        data=test,
        train_data=train,
        random_state=3,
        n_bootstrap=10,
        n_shadow=0,
        recourse_units=10,
    )
    assert [m["name"] for m in res["metrics"]] == rep.names
    # NaN-aware equality: adapted metrics are NaN ("not applicable") for a model that cannot adapt.
    np.testing.assert_array_equal([m["value"] for m in res["metrics"]], [m.value for m in rep.metrics])


def test_sweep_on_given_data_splits_rows_and_fits_the_reference(tmp_path):
    spec, scm = ct.scenarios.load("readmission")
    df = scm.sample(2000, random_state=5).drop(columns=["L"])
    led = _run(tmp_path / "r.duckdb", data=df, methods=["erm"], n_train=1000, n_test=500)
    assert led.cells()["status"].tolist() == ["ok"]
    assert any("reference SCM" in n for n in led.notes()["note"])
    ids = {bench.plan(spec, data=d, methods=["erm"], seeds=[0])[0].cell_id for d in (df, df.iloc[:1500])}
    assert len(ids) == 2  # the data is part of a cell's identity


def test_progress_bar_reports_done_running_failed(tmp_path, capsys):
    _run(tmp_path / "r.duckdb", grid={"C": [-1.0]}, progress=True)
    err = capsys.readouterr().err
    # Not a terminal: one plain line per finished cell (a bar would be invisible in a log).
    assert "sweep 1/1 done · 0 running · 1 failed" in err
    assert "erm seed 0: FAILED (" in err
    _run(tmp_path / "r.duckdb", progress=True)  # the default cell runs...
    capsys.readouterr()
    _run(tmp_path / "r.duckdb", progress=True)  # ...and a resume says it is already done
    assert "1 cell(s) already done in the ledger, 0 to run" in capsys.readouterr().err


# -- cells that fit the same SCMs run together -------------------------------------------------------------
FITTED = ["cf_fair_fitted", "selective_fitted", "cf_augment_fitted"]


def test_plan_runs_methods_that_learn_their_scm_first_at_each_seed():
    cells = bench.plan("readmission", methods=["erm", "cf_fair_fitted", "unaware", "selective_fitted"],
                       seeds=[0, 1], **SMALL)  # fmt: skip
    order = [(c.seed, c.method.name) for c in cells]
    assert order == [
        (0, "cf_fair_fitted"), (0, "selective_fitted"), (0, "erm"), (0, "unaware"),
        (1, "cf_fair_fitted"), (1, "selective_fitted"), (1, "erm"), (1, "unaware"),
    ]  # fmt: skip


def test_grouper_groups_consecutive_fitted_cells_of_one_seed():
    from causaltrust.bench._executors import MAX_GROUP, Grouper, ListSource

    cells = bench.plan("readmission", methods=["erm", *FITTED], seeds=[0, 1], grid={"C": [0.5, 1.0]}, **SMALL)
    source, grouper, groups = ListSource(cells), Grouper(), []
    while group := grouper.take(source, block=False):
        groups.append([(c.seed, c.method.name) for c in group])
    # every cell exactly once, in plan order
    assert [x for g in groups for x in g] == [(c.seed, c.method.name) for c in cells]
    for g in groups:
        assert len(g) <= MAX_GROUP
        if len(g) > 1:
            assert len({s for s, _ in g}) == 1
            assert all(m in FITTED for _, m in g)
    # per seed: 3 fitted methods x 2 values of C = 6 cells, in groups of 4 and 2; each erm cell runs alone
    assert MAX_GROUP == 4
    assert [len(g) for g in groups] == [4, 2, 1, 1, 4, 2, 1, 1]


def test_cells_run_together_record_what_each_records_alone():
    # Sharing the SCM fits changes nothing: run_cells (one reuse_fits scope) against run_cell per cell.
    from causaltrust.bench._executors import run_cell, run_cells

    small = {**SMALL, "n_train": 600, "n_test": 600, "n_shadow": 4}
    cells = bench.plan("readmission", methods=FITTED[:2], seeds=[3], **small)
    together = run_cells(cells)
    for cell, res in zip(cells, together, strict=True):
        alone = run_cell(cell)
        assert res["status"] == alone["status"] == "ok", (res["error"], alone["error"])
        pd.testing.assert_frame_equal(pd.DataFrame(res["metrics"]), pd.DataFrame(alone["metrics"]))
