"""Where cells run: in this process, in local worker processes, or on a Dask cluster.

A cell is a pure function of its :class:`CellTask`: it samples (or splits) data, fits, audits and returns
a plain dict. It never touches the ledger, so worker processes and Dask workers only compute; the client
that started the sweep writes every result.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

import numpy as np
import pandas as pd

from causaltrust._random import derive_seed
from causaltrust._version import __version__
from causaltrust.bench._registry import BenchError, MethodSpec
from causaltrust.scm import SCM
from causaltrust.spec import TrustSpec

__all__ = [
    "CellTask",
    "DaskExecutor",
    "InProcessExecutor",
    "LocalExecutor",
    "TaskSource",
    "audit_options",
    "connect_dask",
    "pin_threads",
    "run_cell",
]

_THREAD_VARS = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


@dataclass(frozen=True)
class CellTask:
    """Everything one cell needs, picklable: (scenario, method, parameters, seed) plus the settings."""

    cell_id: str
    scenario: str
    spec: TrustSpec
    method: MethodSpec
    params: Mapping[str, Any]
    params_json: str
    seed: int
    settings: Mapping[str, Any]
    settings_json: str
    scm: SCM | None = None  # reference SCM when it cannot be rebuilt from the spec
    data: pd.DataFrame | None = None
    pin_threads: bool = True
    audit_kwargs: Mapping[str, Any] = field(default_factory=dict)
    data_digest: str | None = None  # identifies ``data`` in the fitted-SCM cache of a worker
    scm_mechanisms: str = "auto"  # SCM.fit mechanisms for the SCMs fitted on given data
    audit_mechanisms: str | None = None  # the audit's reference SCM on given data (None: scm_mechanisms)
    dr_check: bool = False  # given data: also the model-free DR decomposition of the model's predictions


_SCM_CACHE: dict[str, SCM] = {}


def _reference_scm(task: CellTask) -> SCM:
    if task.scm is not None:
        return task.scm
    key = task.spec.hash
    if key not in _SCM_CACHE:
        _SCM_CACHE[key] = SCM.from_spec(task.spec)
    return _SCM_CACHE[key]


def _fitted_scm(task: CellTask, rows: pd.DataFrame, part: str, mechanisms: str | None = None) -> SCM:
    """An SCM fitted on one part (``"train"`` / ``"test"``) of a cell's split of the given data.

    Cached per worker: every method at one seed shares the split, so it shares the fitted SCMs too.
    ``mechanisms`` defaults to the task's ``scm_mechanisms``.
    """
    mechanisms = mechanisms or task.scm_mechanisms
    settings = (int(task.settings["n_train"]), int(task.settings["n_test"]))
    data = task.data_digest or id(task.data)
    key = f"{task.spec.hash}:{data}:{task.seed}:{settings}:{mechanisms}:{part}"
    if key not in _SCM_CACHE:
        if len(_SCM_CACHE) > 32:
            _SCM_CACHE.clear()
        seed = derive_seed(task.seed, f"scm-{part}")
        _SCM_CACHE[key] = SCM.fit(task.spec, rows, mechanisms=mechanisms, random_state=seed)
    return _SCM_CACHE[key]


def _cell_data(task: CellTask, scm: SCM | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    n_train, n_test = int(task.settings["n_train"]), int(task.settings["n_test"])
    if task.data is None:
        assert scm is not None  # simulated cells always have their scenario's SCM
        # Derived from the cell seed only: every method at one seed sees the same rows (paired comparison).
        train = scm.sample(n_train, random_state=derive_seed(task.seed, "train"))
        test = scm.sample(n_test, random_state=derive_seed(task.seed, "test"))
        observed = [c for c in train.columns if c in set(task.spec.observed)]
        return train[observed], test[observed]
    order = np.random.default_rng(derive_seed(task.seed, "split")).permutation(len(task.data))
    n_te = min(n_test, len(order) // 2)
    n_tr = min(n_train, len(order) - n_te)
    return task.data.iloc[order[n_te : n_te + n_tr]], task.data.iloc[order[:n_te]]


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _base_result(task: CellTask) -> dict[str, Any]:
    return empty_result(
        task.cell_id, task.scenario, task.spec.hash, task.method.name, task.params_json, int(task.seed),
        task.settings_json,
    )  # fmt: skip


def empty_result(
    cell_id: str, scenario: str, spec_hash: str, method: str, params_json: str, seed: int, settings_json: str
) -> dict[str, Any]:
    """A cell's result before it runs (status ``failed`` until it finishes), in ``Ledger.write``'s format."""
    return {
        "cell_id": cell_id,
        "scenario": scenario,
        "spec_hash": spec_hash,
        "method": method,
        "params_json": params_json,
        "seed": seed,
        "settings_json": settings_json,
        "status": "failed",
        "error": None,
        "traceback": None,
        "fit_seconds": None,
        "audit_seconds": None,
        "cpu_seconds": None,
        "started_at": _now(),
        "finished_at": None,
        "package_version": __version__,
        "host": socket.gethostname(),
        "extras_json": None,
        "metrics": [],
        "notes": [],
    }


def failed_result(task: CellTask, error: BaseException | str, tb: str | None = None) -> dict[str, Any]:
    """The result of a cell that could not even run (its worker died): status ``failed`` with the error."""
    res = _base_result(task)
    res["error"] = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    res["traceback"] = tb
    res["finished_at"] = res["started_at"]
    return res


def mark_failed(res: dict[str, Any], exc: BaseException) -> dict[str, Any]:
    """``res`` (a cell result) as failed by ``exc``, raised inside the cell: error, traceback, finish time."""
    res["error"] = f"{type(exc).__name__}: {exc}"
    res["traceback"] = traceback.format_exc()
    res["finished_at"] = _now()
    return res


def _json_safe(obj: Any) -> Any:
    from causaltrust.audit._report import _json_safe as safe

    return safe(obj)


def _float(x: Any) -> float | None:
    return None if x is None else float(x)


def audit_options(task: CellTask) -> tuple[Any, dict[str, Any]]:
    """The cell's audit settings as one ``AuditOptions`` (the sweep's settings and any option among
    ``audit_kwargs``), and the other audit keywords (``objectives``, ...)."""
    from dataclasses import fields

    from causaltrust.audit import AuditOptions

    names = {f.name for f in fields(AuditOptions)}
    given = dict(task.audit_kwargs)
    options = AuditOptions(
        n_bootstrap=int(task.settings["n_bootstrap"]),
        n_shadow=int(task.settings["n_shadow"]),
        recourse_units=int(task.settings["recourse_units"]),
        **{k: v for k, v in given.items() if k in names},
    )
    return options, {k: v for k, v in given.items() if k not in names}


def run_cell(task: CellTask) -> dict[str, Any]:
    """Run one cell: data, fit, audit. Pure: returns a plain dict and never raises for a failing cell.

    Returns
    -------
    dict
        ``cell_id, scenario, spec_hash, method, params_json, seed, settings_json, status`` (``"ok"`` or
        ``"failed"``), ``error`` and ``traceback`` (failed cells), ``fit_seconds, audit_seconds,
        cpu_seconds, started_at, finished_at, package_version, host``, ``metrics`` (list of dicts
        ``name, value, low, high, better, passed``) and ``notes`` (list of str).
    """
    res = _base_result(task)
    with _pinned(task.pin_threads):
        try:
            from causaltrust.audit import audit

            spec = task.spec
            if task.data is None:
                scm = _reference_scm(task)
                train, test = _cell_data(task, scm)
                given = scm if task.method.needs_scm == "true" else None
            else:
                # Real data: no true SCM. The audit's reference is fitted on the held-out rows; a method
                # that wants an SCM ("true" or "fitted") gets the one fitted on its training rows, shared
                # by every method at this seed.
                train, test = _cell_data(task, None)
                scm = _fitted_scm(task, test, "test", task.audit_mechanisms)
                given = _fitted_scm(task, train, "train") if task.method.needs_scm is not None else None
            t0, c0 = time.perf_counter(), time.process_time()
            model = task.method.build(spec, given, dict(task.params), int(task.seed))
            model.fit(train[spec.features], train[spec.target])
            t1 = time.perf_counter()
            options, rest = audit_options(task)
            report = audit(
                model,
                spec=spec,
                scm=scm,
                data=test,
                train_data=train,
                random_state=int(task.seed),
                options=options,
                **rest,
            )
            t2, c2 = time.perf_counter(), time.process_time()
            dr_metrics, dr_notes = _dr_check(task, model, test)
        except Exception as exc:
            return mark_failed(res, exc)
    res["metrics"] = [
        {
            "name": m.name,
            "value": float(m.value),
            "low": _float(m.low),
            "high": _float(m.high),
            "better": m.better,
            "passed": m.passed,
        }
        for m in report.metrics
    ] + dr_metrics
    notes = list(report.notes) + dr_notes
    if task.data is not None:
        audited_with = task.audit_mechanisms or task.scm_mechanisms
        notes.append(
            f"Data given: the reference SCM of this audit is fitted (SCM.fit on the {len(test)} held-out "
            f"test rows), not a true SCM (mechanisms={audited_with!r}); counterfactual metrics are estimates "
            "under the spec's graph and inherit the fit's errors."
        )
        if audited_with != task.scm_mechanisms:
            notes.append(
                f"Cross-class audit: the reference SCM's mechanisms ({audited_with!r}) differ from those of "
                f"the SCMs the methods learn from ({task.scm_mechanisms!r}), so a method is not graded by "
                "the model class it was trained on"
                + (
                    " (at the nodes where 'auto' chose a linear model; where it chose boosting the classes "
                    "agree)."
                    if task.scm_mechanisms == "auto"
                    else "."
                )
                + " Every fairness.* effect of this cell holds under this audit; dr.* is the model-free "
                "check."
            )
        else:
            notes.append(
                f"Same-class audit: the reference SCM has the mechanisms ({audited_with!r}) of the SCMs the "
                "methods learn from, so a method that learned its SCM is graded by its own model class; "
                "compare with a cross-class audit (audit_mechanisms) and the model-free dr.* check."
            )
        if task.method.needs_scm is not None:
            notes.append(
                f"Data given: {task.method.name!r} received an SCM fitted on its {len(train)} training rows "
                "(there is no true SCM for real data)."
            )
    extras = {k: v for k, v in report.meta.items() if k.startswith("recourse")}
    if "seconds" in report.meta:
        extras["audit_seconds_by_objective"] = report.meta["seconds"]
    res.update(
        status="ok",
        extras_json=json.dumps(_json_safe(extras), default=str, allow_nan=False) if extras else None,
        fit_seconds=t1 - t0,
        audit_seconds=t2 - t1,
        cpu_seconds=c2 - c0,
        finished_at=_now(),
        notes=notes,
    )
    return res


def _dr_check(task: CellTask, model: Any, test: pd.DataFrame) -> tuple[list[dict[str, Any]], list[str]]:
    """The model-free DR check of a data cell (empty for simulated cells or when switched off)."""
    if not task.dr_check or task.data is None:
        return [], []
    from causaltrust.bench._crosscheck import dr_check

    n_boot = int(task.settings["n_bootstrap"])
    return dr_check(model, task.spec, test, random_state=int(task.seed), n_boot=n_boot)


def run_cells(tasks: Sequence[CellTask]) -> list[dict[str, Any]]:
    """Run cells one after the other in this process; SCM fits they share are computed once.

    The cells of one :func:`affinity` group fit the same SCMs (on the same training rows, and in their
    audits' shadow models on the same shadow rows with the same seeds): inside
    :func:`causaltrust.scm.reuse_fits` each is fitted once. Results equal those of :func:`run_cell`.
    """
    from causaltrust.scm import reuse_fits

    with reuse_fits():
        return [run_cell(task) for task in tasks]


MAX_GROUP = 4  # cells per group: bounds how much work one worker takes at once


def affinity(task: CellTask) -> tuple[str, str, int] | None:
    """The key of cells that fit the same SCMs, or None: simulated cells of methods that learn their SCM.

    Such methods (``needs_scm="fitted"``) fit ``SCM.fit`` on the cell's training rows, which depend only on
    the seed and the settings, and their shadow models refit it on the same shadow rows with the same seeds.
    """
    if task.method.needs_scm != "fitted" or task.data is not None:
        return None
    return (task.spec.hash, task.settings_json, int(task.seed))


class Grouper:
    """Takes cells from a source in groups of up to :data:`MAX_GROUP` consecutive cells of one affinity."""

    def __init__(self) -> None:
        self.pending: CellTask | None = None  # taken (claimed) after a group ended: the next group's first

    def take(self, source: TaskSource, *, block: bool) -> list[CellTask]:
        first = self.pending if self.pending is not None else source.take(block=block)
        self.pending = None
        if first is None:
            return []
        group, key = [first], affinity(first)
        while key is not None and len(group) < MAX_GROUP:
            nxt = source.take(block=False)
            if nxt is None:
                break
            if affinity(nxt) != key:
                self.pending = nxt
                break
            group.append(nxt)
        return group


class TaskSource(Protocol):
    """Where executors get cells: ``take`` the next one this sweep may run (claimed in the ledger)."""

    def take(self, *, block: bool) -> CellTask | None:
        """The next cell, or None when none is free (``block``: wait while other sweeps hold cells)."""
        ...

    def put_back(self, task: CellTask) -> None:
        """Give back a cell taken but not run (its worker died with others in flight)."""
        ...


class ListSource:
    """A :class:`TaskSource` over a plain list (no ledger, no claims)."""

    def __init__(self, tasks: Sequence[CellTask]) -> None:
        self._pending = list(reversed(tasks))

    def take(self, *, block: bool) -> CellTask | None:
        return self._pending.pop() if self._pending else None

    def put_back(self, task: CellTask) -> None:
        self._pending.append(task)


# -- dying with the parent ----------------------------------------------------------------------------
_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int | None = None) -> None:
    """Make this worker process exit when the process that started it dies, even by SIGKILL.

    Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``, so the kernel kills the worker when its parent dies. The
    signal follows the parent *thread* that forked; the pool's workers are started from the thread that
    runs the sweep, which outlives them. Everywhere (and against the race where the parent died before
    prctl ran): a daemon thread that exits the process once the parent process id changes. ``parent`` is
    the pid the worker expects as its parent (the client passes its own): a worker that starts after
    its parent died sees another parent and exits at once.
    """
    import signal
    import threading

    parent = os.getppid() if parent is None else parent
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent:  # the parent died while this worker started
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="causaltrust-parent-watch", daemon=True).start()


def _init_worker(parent: int) -> None:
    die_with_parent(parent)
    pin_threads()


# -- thread pinning -----------------------------------------------------------------------------------
_GLOBAL_LIMITS: Any = None


def pin_threads() -> None:
    """Pin BLAS / OpenMP / torch to one thread in this process (worker-process initializer).

    Environment variables cover libraries loaded later; threadpoolctl limits the ones already loaded.
    """
    global _GLOBAL_LIMITS
    for var in _THREAD_VARS:
        os.environ[var] = "1"
    if _GLOBAL_LIMITS is None:
        from threadpoolctl import threadpool_limits

        _GLOBAL_LIMITS = threadpool_limits(limits=1)  # kept: the limits last as long as the process
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


@contextlib.contextmanager
def _pinned(enabled: bool) -> Iterator[None]:
    # Per-cell limits for shared processes (this one, a Dask worker); restored afterwards.
    if not enabled or _GLOBAL_LIMITS is not None:
        yield
        return
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    with threadpool_limits(limits=1):
        if torch is not None:
            torch.set_num_threads(1)
        try:
            yield
        finally:
            if torch is not None and before is not None:
                torch.set_num_threads(before)


# -- executors ----------------------------------------------------------------------------------------
class InProcessExecutor:
    """Run cells one after the other in this process (``n_jobs=1``)."""

    n_workers = 1

    def __init__(self) -> None:
        self.running = 0

    def results(self, source: TaskSource) -> Iterator[dict[str, Any]]:
        grouper = Grouper()
        while group := grouper.take(source, block=True):
            self.running = len(group)
            out = run_cells(group)
            self.running = 0
            yield from out

    def close(self) -> None:
        return None


class LocalExecutor:
    """Run cells in ``n_workers`` spawned worker processes, each pinned to one BLAS thread."""

    def __init__(self, n_workers: int) -> None:
        self.n_workers = n_workers
        self.running = 0
        self._pool: ProcessPoolExecutor | None = None
        self._grouper = Grouper()

    def _new_pool(self) -> ProcessPoolExecutor:
        import multiprocessing

        # spawn, not fork: the client may hold threads (progress bar) and open BLAS pools.
        ctx = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(
            max_workers=self.n_workers, mp_context=ctx, initializer=_init_worker, initargs=(os.getpid(),)
        )

    def _top_up(
        self,
        source: TaskSource,
        in_flight: dict[Future[list[dict[str, Any]]], list[CellTask]],
        *,
        may_block: bool,
    ) -> None:
        # Keep exactly one group (usually one cell) per worker: "running" is then true, and a kill loses at
        # most those. Cells that fit the same SCMs go to one worker together (see `affinity`).
        # ``may_block`` is False while this sweep holds finished results it has not written yet: waiting
        # then for cells another sweep holds could wait forever, as that sweep may be waiting on ours.
        assert self._pool is not None
        while len(in_flight) < self.n_workers:
            group = self._grouper.take(source, block=may_block and not in_flight)
            if not group:
                return
            in_flight[self._pool.submit(run_cells, group)] = group

    def results(self, source: TaskSource) -> Iterator[dict[str, Any]]:
        from concurrent.futures.process import BrokenProcessPool

        in_flight: dict[Future[list[dict[str, Any]]], list[CellTask]] = {}
        self._grouper = Grouper()
        self._pool = self._new_pool()
        while True:
            self._top_up(source, in_flight, may_block=True)  # every result so far is written
            if not in_flight:
                return
            self.running = sum(len(g) for g in in_flight.values())
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            out: list[dict[str, Any]] = []
            broken = False
            for fut in done:
                group = in_flight.pop(fut)
                try:
                    out.extend(fut.result())
                except BrokenProcessPool as exc:
                    broken = True
                    out.extend(failed_result(task, f"worker process died: {exc}") for task in group)
                except Exception as exc:  # pickling errors and the like
                    tb = traceback.format_exc()
                    out.extend(failed_result(task, exc, tb) for task in group)
            if broken:
                # A dead worker breaks the whole pool: the other cells in flight go back in the queue.
                for group in reversed(list(in_flight.values())):
                    for task in reversed(group):
                        source.put_back(task)
                in_flight.clear()
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()
            else:
                # Top up before handing results back, so workers compute while the client writes; without
                # waiting for cells other sweeps hold (the loop's next top-up waits, once these are written).
                self._top_up(source, in_flight, may_block=False)
            self.running = sum(len(g) for g in in_flight.values())
            yield from out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def connect_dask(scheduler: str, timeout: float) -> Any:
    """A ``distributed.Client`` for ``scheduler``; :class:`BenchError` within ``timeout`` s if unreachable."""
    try:
        import distributed
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "running a sweep on a Dask cluster needs distributed: pip install 'causaltrust[dist]'"
        ) from None
    if not isinstance(scheduler, str) or "://" not in scheduler:
        raise BenchError(f"scheduler: expected an address such as 'tcp://host:8786', got {scheduler!r}")
    try:
        client_cls: Any = distributed.Client  # untyped library
        return client_cls(scheduler, timeout=f"{timeout}s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        msg = (
            f"scheduler: could not reach the Dask scheduler at {scheduler!r} within {timeout:g} s "
            f"({type(exc).__name__}: {exc}); start one with `dask scheduler` and `dask worker {scheduler}`"
        )
        raise BenchError(msg) from None


class DaskExecutor:
    """Run cells on a Dask cluster; workers return results, the client writes them."""

    def __init__(self, client: Any) -> None:
        self.client = client
        info = client.scheduler_info()
        self.n_workers = max(1, sum(int(w.get("nthreads", 1)) for w in info.get("workers", {}).values()))
        self.running = 0

    def results(self, source: TaskSource) -> Iterator[dict[str, Any]]:
        import distributed

        as_completed: Any = distributed.as_completed  # untyped library

        in_flight: dict[Any, CellTask] = {}
        # Twice the threads: the scheduler always has the next cell at hand (network round trips).
        limit = 2 * self.n_workers

        def submit(block: bool) -> Any:
            task = source.take(block=block)
            if task is None:
                return None
            fut = self.client.submit(run_cell, task, key=f"causaltrust-cell-{task.cell_id}", pure=False)
            in_flight[fut] = task
            return fut

        first: list[Any] = []
        while len(first) < limit and (fut := submit(block=not first)) is not None:
            first.append(fut)
        if not first:
            return
        queue: Any = as_completed(first, loop=self.client.loop)
        self.running = min(len(in_flight), self.n_workers)
        for fut in queue:
            task = in_flight.pop(fut)
            # Never wait for cells other sweeps hold while this result is unwritten (they may be waiting on
            # ours): take a free cell now if there is one, and wait only after the result is written.
            nxt = submit(block=False)
            if nxt is not None:
                queue.add(nxt)
            self.running = min(len(in_flight), self.n_workers)
            try:
                res = fut.result()
            except Exception as exc:  # a worker died, or the cell could not be (un)pickled
                res = failed_result(task, exc, traceback.format_exc())
            fut.release()
            yield res
            if not in_flight and (nxt := submit(block=True)) is not None:
                queue.add(nxt)
                self.running = 1

    def close(self) -> None:
        self.client.close()
