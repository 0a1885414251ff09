"""Sweeps sharing one ledger never deadlock: a finished cell is written before the next is waited for."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from causaltrust import bench
from causaltrust.bench import _executors


class _Task:
    """Just enough of a CellTask for the executors: an id and no SCM affinity."""

    def __init__(self, cell_id: str) -> None:
        self.cell_id = cell_id
        self.data = None
        self.method = type("M", (), {"needs_scm": None})()


class _StrictSource:
    """A task source that fails the test when it is asked to *wait* while a handed-out cell is unwritten.

    Waiting there is the deadlock: another sweep may hold the cell we wait for while waiting for ours.
    """

    def __init__(self, ids: Sequence[str]) -> None:
        self.pending = [_Task(c) for c in reversed(ids)]
        self.handed: set[str] = set()
        self.written: set[str] = set()
        self.blocking_takes = 0

    def take(self, *, block: bool) -> Any:
        if block:
            self.blocking_takes += 1
            unwritten = self.handed - self.written
            assert not unwritten, f"waited for other sweeps' cells while {sorted(unwritten)} were unwritten"
        if not self.pending:
            return None
        task = self.pending.pop()
        self.handed.add(task.cell_id)
        return task

    def put_back(self, task: Any) -> None:
        self.pending.append(task)


def _fake_run_cells(tasks: Sequence[Any]) -> list[dict[str, Any]]:
    return [{"cell_id": t.cell_id, "status": "ok"} for t in tasks]


@pytest.mark.parametrize("n_workers", [1, 2, 3])
def test_local_executor_writes_before_it_waits(monkeypatch: pytest.MonkeyPatch, n_workers: int) -> None:
    # Threads stand in for the worker processes (same Future interface, no spawn): the order of the
    # executor's calls is what is checked, and it does not depend on where cells run.
    monkeypatch.setattr(_executors, "run_cells", _fake_run_cells)
    ex = _executors.LocalExecutor(n_workers)
    monkeypatch.setattr(ex, "_new_pool", lambda: ThreadPoolExecutor(max_workers=n_workers))
    source = _StrictSource([f"c{i}" for i in range(7)])
    try:
        for res in ex.results(source):
            source.written.add(res["cell_id"])  # what the sweep's client does: write, then ask for more
    finally:
        ex.close()
    assert source.written == {f"c{i}" for i in range(7)}
    assert source.blocking_takes >= 1  # the executor does wait, once its results are written


def test_in_process_executor_writes_before_it_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_executors, "run_cells", _fake_run_cells)
    source = _StrictSource(["a", "b", "c"])
    for res in _executors.InProcessExecutor().results(source):
        source.written.add(res["cell_id"])
    assert source.written == {"a", "b", "c"}


SMALL = {"n_train": 300, "n_test": 300, "n_bootstrap": 2, "n_shadow": 0, "recourse_units": 2}


@pytest.mark.slow
def test_two_sweeps_with_two_jobs_on_one_ledger_finish(tmp_path: Path) -> None:
    # The reported deadlock: two `--jobs 2` sweeps on one ledger stopped at 6 of 8 cells, each holding the
    # claim of a finished, unwritten cell while waiting for the other's. Eight cells, two workers each.
    store = tmp_path / "shared.duckdb"
    kw = {"methods": ["erm", "unaware"], "seeds": [0, 1, 2, 3], **SMALL}
    code = textwrap.dedent(
        f"""
        import json, sys
        from causaltrust import bench
        led = bench.run("readmission", store=sys.argv[1], n_jobs=2, progress=False, **{kw!r})
        s = led.last_sweep
        print(json.dumps({{"ran": s.n_ran, "skipped": s.n_skipped, "failed": s.n_failed}}))
        """
    )
    bench.Ledger.open(store, create=True)
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(store)], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    stats = []
    try:
        for p in procs:
            out, _ = p.communicate(timeout=540)  # a deadlock shows as this timeout, not as a hang
            assert p.returncode == 0
            stats.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    n_cells = 8
    assert sum(s["ran"] for s in stats) == n_cells  # each cell computed by exactly one sweep
    assert all(s["ran"] + s["skipped"] == n_cells and s["failed"] == 0 for s in stats)
    led = bench.Ledger.open(store)
    assert len(led.finished_ids()) == n_cells
    assert led.claims().empty
