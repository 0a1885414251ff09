"""A sweep through a real Dask cluster (scheduler + two worker processes on 127.0.0.1) equals a local one."""

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from causaltrust import bench

pytest.importorskip("distributed")

SMALL = {"n_train": 1000, "n_test": 1000, "n_bootstrap": 10, "n_shadow": 0, "recourse_units": 10}
SWEEP = {"methods": ["erm", "selective"], "seeds": [0, 1], "grid": {"C": [1.0, -1.0]}}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dask_cli():
    exe = Path(sys.executable).with_name("dask")
    return str(exe) if exe.exists() else shutil.which("dask")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from distributed import Client

    cli = _dask_cli()
    if cli is None:
        pytest.skip("the `dask` command line is not installed")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path_factory.mktemp("dask-logs")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    procs = []
    try:
        procs.append(
            subprocess.Popen(
                [cli, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                stdout=subprocess.DEVNULL,
                stderr=open(logs / "scheduler.log", "w"),  # noqa: SIM115 - closed with the process
                env=env,
            )
        )
        for i in range(2):
            procs.append(
                subprocess.Popen(
                    [cli, "worker", address, "--nthreads", "1", "--no-dashboard", "--name", f"w{i}"],
                    stdout=subprocess.DEVNULL,
                    stderr=open(logs / f"worker{i}.log", "w"),  # noqa: SIM115
                    env=env,
                )
            )
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=20)


def _table(led):
    cols = ["method", "params_json", "seed", "name", "value", "low", "high", "better", "passed"]
    return led.to_frame(wide=False)[cols]


def test_dask_sweep_equals_local_sweep(cluster, tmp_path):
    remote = bench.run(
        "readmission", store=tmp_path / "dask.duckdb", scheduler=cluster, progress=False, **SWEEP, **SMALL
    )
    local = bench.run(
        "readmission", store=tmp_path / "local.duckdb", n_jobs=1, progress=False, **SWEEP, **SMALL
    )
    assert remote.last_sweep.n_ran == local.last_sweep.n_ran == 8
    rc, lc = remote.cells(), local.cells()
    assert rc["cell_id"].tolist() == lc["cell_id"].tolist()  # same cells, same seeds
    assert rc["status"].tolist() == lc["status"].tolist()
    assert (rc["status"] == "failed").sum() == 4  # C=-1 fails the same way everywhere
    pd.testing.assert_frame_equal(_table(remote), _table(local))
    # Idempotent through the cluster as well: nothing left to run.
    again = bench.run(
        "readmission",
        store=tmp_path / "dask.duckdb",
        scheduler=cluster,
        progress=False,
        **{**SWEEP, "grid": {"C": [1.0]}},
        **SMALL,
    )
    assert (again.last_sweep.n_ran, again.last_sweep.n_skipped) == (0, 4)


def test_unreachable_scheduler_is_a_clear_error_and_no_ledger(tmp_path):
    store = tmp_path / "r.duckdb"
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    with pytest.raises(bench.BenchError, match="could not reach the Dask scheduler"):
        bench.run(
            "readmission",
            store=store,
            scheduler=address,
            scheduler_timeout=2,
            progress=False,
            methods=["erm"],
            seeds=[0],
            **SMALL,
        )
    assert not store.exists()
    assert os.listdir(tmp_path) == []
