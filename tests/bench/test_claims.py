"""Sweeps that clean up after themselves and share a ledger: dying workers, cell claims, writability."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from causaltrust import bench
from causaltrust.bench._ledger import Claim

SMALL = {"n_train": 600, "n_test": 600, "n_bootstrap": 5, "n_shadow": 0, "recourse_units": 5}
linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _children(pid: int) -> set[int]:
    out = set()
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            out |= {int(x) for x in task.read_text().split()}
        except FileNotFoundError:  # the thread ended between the listing and the read
            continue
    return out


def _alive(pid: int) -> bool:
    # A killed process may linger as a zombie until someone reaps it: that is dead too.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def _n_cells(path: Path) -> int:
    import duckdb

    try:
        with duckdb.connect(str(path), read_only=True) as con:
            return int(con.execute("SELECT count(*) FROM cells").fetchone()[0])
    except duckdb.Error:  # not created yet, or the writer holds it right now
        return 0


@linux
def test_sigkill_of_the_client_leaves_no_worker_alive(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import sys
        from causaltrust import bench
        bench.run("readmission", store=sys.argv[1], methods=["erm", "selective"], seeds=list(range(6)),
                  n_jobs=2, progress=False, **{SMALL!r})
        """
    )
    store = tmp_path / "r.duckdb"
    proc = subprocess.Popen([sys.executable, "-c", code, str(store)])
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 240
        # Two pool workers plus the resource tracker, and a finished cell: the workers are past start-up.
        while time.monotonic() < deadline and proc.poll() is None:
            workers |= _children(proc.pid)
            if len(workers) >= 3 and _n_cells(store):
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the sweep ended before its workers were seen"
        assert len(workers) >= 2
        os.kill(proc.pid, signal.SIGKILL)  # the client only, not its process group
        proc.wait(timeout=30)
        grace = time.monotonic() + 15
        while time.monotonic() < grace and any(_alive(w) for w in workers):
            time.sleep(0.1)
        assert [w for w in workers if _alive(w)] == []
    finally:
        for w in workers | {proc.pid}:
            if _alive(w):
                os.kill(w, signal.SIGKILL)


def test_two_concurrent_sweeps_compute_each_cell_once(tmp_path: Path) -> None:
    store = tmp_path / "shared.duckdb"
    kw = {"methods": ["erm", "unaware"], "seeds": [0, 1, 2], **SMALL}
    code = textwrap.dedent(
        f"""
        import json, sys
        from causaltrust import bench
        led = bench.run("readmission", store=sys.argv[1], n_jobs=1, progress=False, **{kw!r})
        s = led.last_sweep
        print(json.dumps({{"ran": s.n_ran, "skipped": s.n_skipped, "failed": s.n_failed}}))
        """
    )
    bench.Ledger.open(store, create=True)  # both start on an existing ledger
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(store)], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    stats = []
    for p in procs:
        out, _ = p.communicate(timeout=600)
        assert p.returncode == 0
        stats.append(json.loads(out.strip().splitlines()[-1]))
    n_cells = 6
    assert sum(s["ran"] for s in stats) == n_cells  # each cell computed by exactly one of the two
    assert all(s["ran"] + s["skipped"] == n_cells and s["failed"] == 0 for s in stats)
    led = bench.Ledger.open(store)
    assert len(led.finished_ids()) == n_cells
    assert led.claims().empty  # both released what they held


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_claims_of_dead_or_silent_sweeps_expire_and_live_ones_hold(tmp_path: Path) -> None:
    store = tmp_path / "r.duckdb"
    led = bench.Ledger.open(store, create=True)
    led.prepare_writing()
    host = socket.gethostname()
    me = Claim.new(ttl=30.0)
    now = time.time()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        rows = [
            ("dead", "other-1", _dead_pid(), host, now),  # killed sweep on this host: free at once
            ("silent", "other-2", 1, "elsewhere", now - 60),  # other host, no heartbeat for 60 s > ttl
            ("live", "other-3", sleeper.pid, host, now),  # a running sweep: held
            ("remote", "other-4", 1, "elsewhere", now - 5),  # other host, recent heartbeat: held
        ]
        import duckdb

        with duckdb.connect(str(store)) as con:
            con.executemany("INSERT INTO claims VALUES (?, ?, ?, ?, ?)", rows)
        got, done, held = led.claim_next(["live", "remote", "dead", "silent"], me)
        assert (got, done, held) == ("dead", set(), {"live", "remote"})
        got, _, _ = led.claim_next(["live", "remote", "silent"], me)
        assert got == "silent"
        assert led.claim_next(["live", "remote"], me)[0] is None
        claims = led.claims().set_index("cell_id")
        assert claims.loc["dead", "owner"] == me.owner
        assert claims.loc["dead", "pid"] == os.getpid()
        led.release(me)
        assert set(led.claims()["cell_id"]) == {"live", "remote"}
    finally:
        sleeper.kill()
        sleeper.wait()


def test_sweep_runs_a_cell_whose_claimant_was_killed(tmp_path: Path) -> None:
    store = tmp_path / "r.duckdb"
    cell = bench.plan("readmission", methods=["erm"], seeds=[0], **SMALL)[0].cell_id
    led = bench.Ledger.open(store, create=True)
    led.prepare_writing()
    import duckdb

    with duckdb.connect(str(store)) as con:
        con.execute(
            "INSERT INTO claims VALUES (?, ?, ?, ?, ?)",
            [cell, "killed-sweep", _dead_pid(), socket.gethostname(), time.time()],
        )
    out = bench.run("readmission", store=store, methods=["erm"], seeds=[0], n_jobs=1, progress=False, **SMALL)
    assert out.last_sweep is not None
    assert out.last_sweep.n_ran == 1
    assert out.finished_ids() == {cell}
    assert out.claims().empty


def test_unwritable_ledger_is_refused_before_any_cell_runs(tmp_path: Path, monkeypatch) -> None:
    store = tmp_path / "r.duckdb"
    bench.Ledger.open(store, create=True)
    built = []

    def build(spec, scm, params, seed):  # records that a cell started computing
        built.append(seed)
        raise RuntimeError("must not run")

    bench.register(bench.MethodSpec("records_builds", "test", "none", build, {}))
    # Tests run as root here, which writes anywhere: make the file look read-only to the check.
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, m: False if Path(p) == store else real(p, m))
    try:
        with pytest.raises(bench.BenchError, match=r"r\.duckdb' cannot be written \(its file is read-only\)"):
            bench.run("readmission", store=store, methods=["records_builds"], seeds=[0], n_jobs=1,
                      progress=False, **SMALL)  # fmt: skip
    finally:
        del bench.METHODS["records_builds"]
    assert built == []
