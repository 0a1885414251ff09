"""``ct.bench.run``: methods × parameters × seeds on a scenario, every finished cell written to a ledger."""

from __future__ import annotations

import hashlib
import inspect
import itertools
import json
import math
import os
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from causaltrust.bench._crosscheck import default_audit_mechanisms
from causaltrust.bench._executors import (
    CellTask,
    DaskExecutor,
    InProcessExecutor,
    LocalExecutor,
    connect_dask,
)
from causaltrust.bench._ledger import Claim, Ledger, SweepStats, check_store
from causaltrust.bench._registry import (
    METHODS,
    BenchError,
    MethodSpec,
    get_method,
    method_names,
    resolve_params,
)
from causaltrust.exceptions import CausalTrustError
from causaltrust.scm import SCM, check_data
from causaltrust.spec import TrustSpec, load_spec

if TYPE_CHECKING:
    from causaltrust.audit import AuditOptions

__all__ = ["expand_grid", "plan", "run"]

# Set by the runner itself; audit_kwargs may not override them.
_RESERVED_AUDIT = {"model", "spec", "scm", "data", "train_data", "random_state", "options"}
_SETTINGS = ("n_train", "n_test", "n_bootstrap", "n_shadow", "recourse_units")


def _canonical(obj: Any, what: str) -> str:
    try:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise BenchError(f"{what}: values must be JSON numbers, strings, booleans or null ({exc})") from None


def _normalise(method: MethodSpec, params: Mapping[str, Any]) -> dict[str, Any]:
    out = resolve_params(method, params)
    for k, v in out.items():
        # C=1 and C=1.0 are the same cell.
        default = method.params[k]
        if isinstance(default, float) and isinstance(v, int) and not isinstance(v, bool):
            out[k] = float(v)
    return out


def _values(method: str | None, param: str, values: Any) -> list[Any]:
    where = f"grid[{method!r}][{param!r}]" if method else f"grid[{param!r}]"
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        values = [values]
    values = list(values)
    if not values:
        raise BenchError(f"{where}: give at least one value")
    return values


def expand_grid(
    methods: Sequence[str], grid: Mapping[str, Any] | None
) -> list[tuple[MethodSpec, dict[str, Any]]]:
    """Every (method, parameters) combination of a sweep, defaults filled in.

    ``grid`` takes one of two forms (not mixed):

    * per method: ``{"erm": {"C": [0.1, 1.0]}, "selective": {"fair_labels": [True, False]}}``: every key is
      a method of ``methods``, every parameter must be one that method takes;
    * shared: ``{"C": [0.1, 1.0]}``: each parameter varies in every method that takes it (methods that do not
      keep their default); a parameter that no chosen method takes is an error.

    Examples
    --------
    >>> from causaltrust.bench import expand_grid
    >>> [(m.name, p["C"]) for m, p in expand_grid(["erm"], {"C": [0.1, 1]})]
    [('erm', 0.1), ('erm', 1.0)]
    """
    chosen = method_names(methods)
    if grid is not None and not isinstance(grid, Mapping):
        raise BenchError(f"grid: expected a dict, got {type(grid).__name__}")
    grid = dict(grid or {})
    for k, v in grid.items():
        if isinstance(v, Mapping):
            get_method(k)  # a dict of parameters under an unknown name: a misspelt method
    names = [m.name for m in chosen]
    keyed = [k for k in grid if k in METHODS]
    if keyed and len(keyed) != len(grid):
        other = [k for k in grid if k not in METHODS]
        msg = f"grid: mixes method keys {keyed} with parameter keys {other}; use one form"
        raise BenchError(msg)
    per_method: dict[str, dict[str, list[Any]]] = {n: {} for n in names}
    if keyed:
        for name, params in grid.items():
            if name not in names:
                raise BenchError(f"grid: method {name!r} is not in methods={names}")
            if not isinstance(params, Mapping):
                raise BenchError(f"grid[{name!r}]: expected a dict of parameter -> values")
            resolve_params(METHODS[name], dict.fromkeys(params))  # unknown parameters fail here
            per_method[name] = {p: _values(name, p, v) for p, v in params.items()}
    else:
        for param, vals in grid.items():
            takers = [m.name for m in chosen if param in m.params]
            if not takers:
                accepted = "; ".join(f"{m.name}: {', '.join(sorted(m.params)) or 'none'}" for m in chosen)
                raise BenchError(f"grid: no chosen method takes a parameter {param!r} (accepted: {accepted})")
            for name in takers:
                per_method[name][param] = _values(None, param, vals)
    out: list[tuple[MethodSpec, dict[str, Any]]] = []
    for m in chosen:
        keys = list(per_method[m.name])
        seen: set[str] = set()
        for combo in itertools.product(*(per_method[m.name][k] for k in keys)):
            params = _normalise(m, dict(zip(keys, combo, strict=True)))
            key = _canonical(params, f"grid[{m.name!r}]")
            if key not in seen:
                seen.add(key)
                out.append((m, params))
    return out


def _resolve_spec(
    spec_or_scenario: Any, data: pd.DataFrame | None
) -> tuple[str, TrustSpec, pd.DataFrame | None, str | None]:
    from causaltrust import datasets, scenarios

    if isinstance(spec_or_scenario, str) and spec_or_scenario in scenarios.available():
        spec = load_spec(scenarios.path(spec_or_scenario))
        key = spec_or_scenario
    elif isinstance(spec_or_scenario, str) and spec_or_scenario in datasets.available():
        # A shipped dataset: its literature graph, and its own rows unless others are given.
        spec = datasets.spec(spec_or_scenario)
        key = spec_or_scenario
        if data is None:
            data = datasets.load(spec_or_scenario)
    else:
        spec = load_spec(spec_or_scenario)
        key = spec.name or spec.hash[:16]
    if not spec.features:
        raise BenchError(
            f"spec {spec.name!r} has no model inputs (its only observed variable is the target "
            f"{spec.target!r}); declare the features the methods learn from"
        )
    if data is None:
        try:
            SCM.from_spec(spec)  # cells rebuild it in their worker; check once here that they can
        except CausalTrustError as exc:
            raise BenchError(
                f"spec {spec.name!r} cannot be simulated ({exc}); pass data=DataFrame to sweep on your data"
            ) from None
        return key, spec, None, None
    if not isinstance(data, pd.DataFrame):
        raise BenchError(f"data: expected a pandas DataFrame, got {type(data).__name__}")
    if len(data) < 4:
        raise BenchError(f"data: a sweep needs at least 4 rows to split into train and test, got {len(data)}")
    digest = hashlib.sha256(pd.util.hash_pandas_object(data, index=True).to_numpy().tobytes()).hexdigest()
    # Checked once here; each cell fits its reference SCM on its own held-out rows.
    check_data(spec, data, context="data")
    if spec.variables[spec.target].type != "continuous" and data[spec.target].nunique() < 2:
        raise BenchError(
            f"data: the target {spec.target!r} takes one value ({str(data[spec.target].iloc[0])!r}) in all "
            f"{len(data)} rows; a classifier needs rows of at least two classes"
        )
    return key, spec, data, digest


def _check_seeds(seeds: Any) -> list[int]:
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        seeds = [seeds]
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Sequence | range):
        raise BenchError(f"seeds: expected a list of non-negative integers, got {seeds!r}")
    out = []
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise BenchError(f"seeds: expected non-negative integers, got {s!r}")
        out.append(int(s))
    if not out:
        raise BenchError("seeds: give at least one seed")
    if len(set(out)) != len(out):
        raise BenchError(f"seeds: {sorted({s for s in out if out.count(s) > 1})} listed twice")
    return out


def _check_sizes(sizes: Mapping[str, Any]) -> None:
    # The audit's own settings are checked by AuditOptions (`_audit_settings`).
    for k, v in sizes.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 2:
            raise BenchError(f"{k}: expected an integer >= 2, got {v!r}")


def _audit_settings(
    options: AuditOptions | None, shorthand: Mapping[str, int | None], audit_kwargs: Mapping[str, Any] | None
) -> tuple[AuditOptions, dict[str, Any]]:
    """The sweep's one ``AuditOptions`` and the cells' other audit keywords.

    ``options`` is the route; ``n_bootstrap``, ``n_shadow``, ``recourse_units`` and option keys inside
    ``audit_kwargs`` are its shorthand (None: not set), as in :func:`causaltrust.audit`. Giving a setting
    both ways is refused, so none is silently dropped. The returned keywords hold the keys of
    ``audit_kwargs`` that are not options (``objectives``, ...) and every option that is neither one of the
    three cell settings nor at its default: two sweeps that audit alike give their cells the same ids.
    """
    from dataclasses import fields

    from causaltrust.audit import AuditOptions, audit

    kwargs = dict(audit_kwargs or {})
    names = [f.name for f in fields(AuditOptions)]
    allowed = (set(inspect.signature(audit).parameters) | set(names)) - _RESERVED_AUDIT - set(_SETTINGS)
    bad = sorted(set(kwargs) - allowed)
    if bad:
        msg = f"audit_kwargs: {bad} cannot be set here; allowed: {', '.join(sorted(allowed))}"
        raise BenchError(msg)
    given = {**shorthand, **{k: kwargs.pop(k) for k in names if k in kwargs}}
    try:
        resolved = AuditOptions.resolve(options, **given)
    except CausalTrustError as exc:
        raise BenchError(str(exc)) from None
    default = AuditOptions()
    for name in names:
        if name not in _SETTINGS and getattr(resolved, name) != getattr(default, name):
            kwargs[name] = getattr(resolved, name)
    return resolved, kwargs


def plan(
    spec_or_scenario: Any,
    *,
    data: pd.DataFrame | None = None,
    methods: Sequence[str],
    seeds: Sequence[int],
    grid: Mapping[str, Any] | None = None,
    n_train: int = 20_000,
    n_test: int = 20_000,
    options: AuditOptions | None = None,
    n_bootstrap: int | None = None,
    n_shadow: int | None = None,
    recourse_units: int | None = None,
    audit_kwargs: Mapping[str, Any] | None = None,
    pin_threads: bool = True,
    scm_mechanisms: str = "auto",
    audit_mechanisms: str | None = None,
    dr_check: bool = True,
) -> list[CellTask]:
    """The cells of a sweep, validated, in run order; runs nothing.

    Run order: seed, then method (methods that learn their SCM from the training rows first, then the others,
    each in the given order), then parameters.

    A cell's id is the SHA-256 of the canonical JSON (sorted keys) of its scenario, spec hash, data digest,
    method, parameters (defaults filled in), seed and settings (sizes and audit options): change any of them
    and it is a different cell.

    Examples
    --------
    >>> from causaltrust.bench import plan
    >>> cells = plan("readmission", methods=["erm", "selective"], seeds=[0, 1], grid={"C": [0.1, 1.0]})
    >>> len(cells), cells[0].method.name, len(cells[0].cell_id)
    (8, 'erm', 64)
    """
    shorthand = {"n_bootstrap": n_bootstrap, "n_shadow": n_shadow, "recourse_units": recourse_units}
    _check_sizes({"n_train": n_train, "n_test": n_test})
    resolved, kwargs = _audit_settings(options, shorthand, audit_kwargs)
    settings = {"n_train": n_train, "n_test": n_test, **{k: getattr(resolved, k) for k in shorthand}}
    combos = expand_grid(methods, grid)
    wrong_kind = sorted({m.name for m, _ in combos if m.data != "tabular"})
    if wrong_kind:
        raise BenchError(
            f"methods {wrong_kind} take text, not a spec scenario's tables; run them with "
            "causaltrust.bench.run_text"
        )
    seed_list = _check_seeds(seeds)
    key, spec, data, digest = _resolve_spec(spec_or_scenario, data)
    all_settings: dict[str, Any] = {**settings, "audit": kwargs}
    if scm_mechanisms not in ("auto", "linear", "gbm"):
        raise BenchError(
            f"scm_mechanisms: expected 'auto', 'linear' or 'gbm' (SCM.fit mechanisms), got {scm_mechanisms!r}"
        )
    if audit_mechanisms not in (None, "auto", "linear", "gbm"):
        raise BenchError(
            f"audit_mechanisms: expected None, 'auto', 'linear' or 'gbm' (the audit's reference SCM), got "
            f"{audit_mechanisms!r}"
        )
    if not isinstance(dr_check, bool):
        raise BenchError(f"dr_check: expected True or False, got {dr_check!r}")
    if data is not None:  # only fitted SCMs have mechanisms to choose (simulated cells keep their ids)
        # Real data: the reference SCM defaults to the other class than the methods' own (issue 32).
        audit_mechanisms = audit_mechanisms or default_audit_mechanisms(scm_mechanisms)
        all_settings["scm_mechanisms"] = scm_mechanisms
        all_settings["audit_mechanisms"] = audit_mechanisms
        all_settings["dr_check"] = dr_check
    settings_json = _canonical(all_settings, "audit_kwargs")
    # Methods that learn their SCM from the training rows run first at each seed and next to each other, so
    # the executors can give them to one worker that fits their shared SCMs once (`affinity`).
    combos = sorted(combos, key=lambda c: c[0].needs_scm != "fitted")
    tasks = []
    for seed in seed_list:
        for method, params in combos:
            params_json = _canonical(params, f"parameters of {method.name!r}")
            ident = {
                "scenario": key,
                "spec_hash": spec.hash,
                "data": digest,
                "method": method.name,
                "params": params,
                "seed": seed,
                "settings": all_settings,
            }
            cell_id = hashlib.sha256(_canonical(ident, "cell").encode()).hexdigest()
            tasks.append(
                CellTask(
                    cell_id=cell_id,
                    scenario=key,
                    spec=spec,
                    method=method,
                    params=params,
                    params_json=params_json,
                    seed=seed,
                    settings=settings,
                    settings_json=settings_json,
                    data=data,
                    data_digest=digest,
                    scm_mechanisms=scm_mechanisms,
                    audit_mechanisms=audit_mechanisms if data is not None else None,
                    dr_check=dr_check and data is not None,
                    pin_threads=pin_threads,
                    audit_kwargs=kwargs,
                )
            )
    return tasks


class _Progress:
    """Progress on stderr: a rich bar on a terminal, plain log lines (one per finished cell) otherwise."""

    def __init__(self, enabled: bool, total: int, skipped: int) -> None:
        self.enabled = enabled
        self._progress: Any = None
        self._task: Any = None
        self.total, self.skipped = total, skipped
        self.done = 0
        self.t0 = time.perf_counter()

    def _line(self, text: str) -> None:
        print(f"causaltrust: {text}", file=sys.stderr, flush=True)

    def __enter__(self) -> _Progress:
        if not self.enabled:
            return self
        from rich.console import Console

        console = Console(stderr=True)
        if self.skipped:
            self._line(f"{self.skipped} cell(s) already done in the ledger, {self.total} to run")
        if self.total == 0:
            return self
        if not console.is_terminal:
            self._line(f"sweep: {self.total} cell(s) to run")
            return self
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self._progress = Progress(
            # The counts first: in a narrow or non-interactive console rich truncates from the right.
            TextColumn(
                "[bold]sweep[/] {task.completed}/{task.total} done · {task.fields[running]} running · "
                "{task.fields[failed]} failed · {task.fields[skipped]} skipped"
            ),
            BarColumn(bar_width=20),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._progress.__enter__()
        self._task = self._progress.add_task(
            "sweep", total=self.total, running=0, failed=0, skipped=self.skipped
        )
        return self

    def update(
        self, *, advance: int = 0, running: int, failed: int, cell: Mapping[str, Any] | None = None
    ) -> None:
        self.done += advance
        if self._progress is not None:
            self._progress.update(self._task, advance=advance, running=running, failed=failed)
        elif self.enabled and cell is not None:
            status = cell["status"] if cell["status"] == "ok" else f"FAILED ({cell.get('error')})"
            self._line(
                f"sweep {self.done}/{self.total} done · {running} running · {failed} failed · "
                f"{time.perf_counter() - self.t0:.0f} s · {cell['method']} seed {cell['seed']}: {status}"
            )

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(None, None, None)


class _Claims:
    """The sweep's cells as a task source: each cell is claimed in the ledger before it is handed out.

    Cells another live sweep holds are passed over and retried; with nothing else to do and ``block``,
    the source waits (polling) until their owner finishes them (counted as skipped) or dies (then this
    sweep claims and runs them). A heartbeat thread keeps this sweep's claims alive.
    """

    def __init__(self, ledger: Ledger, tasks: Sequence[CellTask], ttl: float, poll: float) -> None:
        self.ledger = ledger
        self.claim = Claim.new(ttl)
        self.waiting: dict[str, CellTask] = {t.cell_id: t for t in tasks}
        self.returned: list[CellTask] = []
        self.finished_elsewhere = 0
        self.poll = poll
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, name="causaltrust-claims", daemon=True)

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.claim.ttl / 4):
            try:
                self.ledger.heartbeat(self.claim)
            except Exception:
                continue

    def __enter__(self) -> _Claims:
        if self.waiting:
            self._beat.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._beat.is_alive():
            self._stop.set()
            self._beat.join()
            self.ledger.release(self.claim)

    def take(self, *, block: bool) -> CellTask | None:
        if self.returned:
            return self.returned.pop()
        while self.waiting:
            chosen, done, _held = self.ledger.claim_next(list(self.waiting), self.claim)
            for cid in done:
                del self.waiting[cid]
                self.finished_elsewhere += 1
            if chosen is not None:
                return self.waiting.pop(chosen)
            if not block or not self.waiting:
                return None
            time.sleep(self.poll)
        return None

    def put_back(self, task: CellTask) -> None:
        self.returned.append(task)


def run(
    spec_or_scenario: Any,
    *,
    data: pd.DataFrame | None = None,
    methods: Sequence[str],
    seeds: Sequence[int],
    grid: Mapping[str, Any] | None = None,
    store: str | os.PathLike[str] = "results.duckdb",
    executor: str = "local",
    n_jobs: int | None = None,
    scheduler: str | None = None,
    n_train: int = 20_000,
    n_test: int = 20_000,
    options: AuditOptions | None = None,
    n_bootstrap: int | None = None,
    n_shadow: int | None = None,
    recourse_units: int | None = None,
    audit_kwargs: Mapping[str, Any] | None = None,
    progress: bool = True,
    scheduler_timeout: float = 5.0,
    claim_ttl: float = 60.0,
    scm_mechanisms: str = "auto",
    audit_mechanisms: str | None = None,
    dr_check: bool = True,
) -> Ledger:
    """Run a sweep: every (method, parameters, seed) cell trained, audited and written to a ledger.

    A cell samples ``n_train`` training and ``n_test`` test rows from the scenario's true SCM (seeds
    derived from the cell's seed, so all methods at one seed see the same rows), fits the method and audits
    it against the true SCM. Each finished cell is written in one transaction. Cells already ``ok`` in the
    ledger are skipped, failed ones run again, and a sweep killed at any moment completes when run again.

    Parameters
    ----------
    spec_or_scenario : str, TrustSpec, dict or path
        A built-in scenario name (``"readmission"``), a shipped dataset (``"compas"``: its literature spec
        and its rows, see :func:`causaltrust.datasets.available`) or a spec with equations for every
        variable.
    data : DataFrame, optional
        Sweep on these rows instead of simulating: each cell splits them (seeded) into ``n_test`` test rows
        (at most half) and up to ``n_train`` training rows. The reference SCM that audits the cell is
        fitted (:meth:`SCM.fit`) on its held-out test rows, never on the rows the model saw; methods that
        take an SCM (true or fitted) get one fitted on the training rows (there is no true SCM for real data).
    methods : list of str
        Names in :data:`~causaltrust.bench.METHODS`.
    seeds : list of int
        One cell per seed (and method and parameters).
    grid : dict, optional
        Parameter values to sweep, per method or shared (see :func:`expand_grid`).
    store : path
        The DuckDB ledger (created when missing; an existing file must be a causaltrust ledger).
    executor : {"local", "dask"}
        ``"local"``: ``n_jobs`` worker processes (``n_jobs=1`` runs in this process). ``"dask"``, implied by
        ``scheduler``: the Dask cluster at ``scheduler``.
    n_jobs : int, optional
        Local worker processes (default: ``os.cpu_count()``), each pinned to one BLAS / torch thread.
    scheduler : str, optional
        Dask scheduler address, e.g. ``"tcp://127.0.0.1:8786"``; unreachable within
        ``scheduler_timeout`` seconds raises :class:`BenchError` before the ledger is touched.
    n_train, n_test : int
        Cell sizes (part of each cell's identity).
    options : AuditOptions, optional
        Every audit setting of the cells in one object (:class:`causaltrust.audit.AuditOptions`), the route
        ``ct.audit`` takes; part of each cell's identity (settings at their default are left out of it).
    n_bootstrap, n_shadow, recourse_units : int, optional
        Shorthand for the same fields of ``options`` (None: AuditOptions' default, 200, 8 and 200);
        setting one here and giving ``options`` is a :class:`BenchError`.
    audit_kwargs : dict, optional
        Further :func:`causaltrust.audit` keywords (``objectives``, ...); AuditOptions' fields given here
        (``n_draws``, ``shift_n``, ...) are shorthand like the three above.
    progress : bool
        Show progress on stderr: a bar (cells done, running, failed, time left) on a terminal, one plain
        line per finished cell otherwise (a log, a pipe); a resumed sweep first says how many cells are
        already done.
    claim_ttl : float
        Seconds a claim on a cell lives without a heartbeat. Sweeps sharing ``store`` claim each cell
        before running it, so every cell is computed once; a claim by a process that is gone (same host)
        is free at once, one from another host after ``claim_ttl`` seconds without a heartbeat.
    scm_mechanisms : {"auto", "linear", "gbm"}
        With ``data``: the ``mechanisms`` of every :meth:`SCM.fit` of the sweep (the reference on the test
        rows, and the training-rows SCM of methods that need one). ``"linear"`` is much faster on wide
        categorical data; part of each data cell's identity.
    audit_mechanisms : {"auto", "linear", "gbm"}, optional
        With ``data``: the ``mechanisms`` of the audit's reference SCM only. Default: the *other* class
        than ``scm_mechanisms`` (``"linear"`` → ``"gbm"``, ``"gbm"`` → ``"linear"``, ``"auto"`` →
        ``"gbm"``), a cross-class audit, so no method is graded by the model class it learned from
        (:data:`~causaltrust.bench.OTHER_CLASS`); pass ``scm_mechanisms`` itself for a same-class audit.
        Recorded in each cell's settings (part of its identity) and notes; simulated scenarios are
        audited against their true SCM and ignore it.
    dr_check : bool, default True
        With ``data``: also record the model-free check of every cell, the cross-fitted doubly robust
        decomposition of the model's predictions on the test rows (metrics ``dr.tv``, ``dr.ctf_de``,
        ``dr.ctf_ie``, ``dr.ctf_se``, ``dr.clipped``; see :func:`causaltrust.decompose_disparity`),
        beside the SCM audit's ``fairness.*`` metrics. Ignored for simulated scenarios.

    Returns
    -------
    Ledger
        The ledger, with ``last_sweep`` (:class:`SweepStats`) describing this call.

    Raises
    ------
    BenchError
        Unknown method, a parameter a method does not take, a store that is not a causaltrust ledger, an
        unreachable scheduler: raised before the ledger is created or opened for writing.

    Examples
    --------
    >>> import os, tempfile
    >>> import causaltrust as ct
    >>> store = os.path.join(tempfile.mkdtemp(), "results.duckdb")
    >>> led = ct.bench.run("readmission", methods=["erm"], seeds=[0], store=store, n_jobs=1,
    ...                    n_train=1000, n_test=1000, n_bootstrap=10, n_shadow=0, recourse_units=10,
    ...                    progress=False)
    >>> led.cells()["status"].tolist()
    ['ok']
    """
    t_start = time.perf_counter()
    tasks = plan(
        spec_or_scenario,
        data=data,
        methods=methods,
        seeds=seeds,
        grid=grid,
        n_train=n_train,
        n_test=n_test,
        options=options,
        n_bootstrap=n_bootstrap,
        n_shadow=n_shadow,
        recourse_units=recourse_units,
        audit_kwargs=audit_kwargs,
        scm_mechanisms=scm_mechanisms,
        audit_mechanisms=audit_mechanisms,
        dr_check=dr_check,
    )
    path = check_store(store)
    if executor not in ("local", "dask"):
        raise BenchError(f"executor: expected 'local' or 'dask', got {executor!r}")
    if scheduler is None and executor == "dask":
        msg = "executor='dask' needs scheduler='tcp://host:port' (the address of `dask scheduler`)"
        raise BenchError(msg)
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1):
        raise BenchError(f"n_jobs: expected a positive integer or None, got {n_jobs!r}")
    if not (isinstance(scheduler_timeout, int | float) and math.isfinite(scheduler_timeout)):
        raise BenchError(f"scheduler_timeout: expected seconds, got {scheduler_timeout!r}")
    if not (isinstance(claim_ttl, int | float) and math.isfinite(claim_ttl) and claim_ttl > 0):
        raise BenchError(f"claim_ttl: expected a positive number of seconds, got {claim_ttl!r}")
    if path.exists():
        Ledger(path).verify()  # a damaged ledger is refused before anything runs (BenchError)
    existing = Ledger(path).finished_ids() if path.exists() else set()
    todo = [t for t in tasks if t.cell_id not in existing]
    runner: InProcessExecutor | LocalExecutor | DaskExecutor
    if scheduler is not None:
        runner = DaskExecutor(connect_dask(scheduler, float(scheduler_timeout)))
    elif (n_jobs or os.cpu_count() or 1) == 1 or len(todo) <= 1:
        runner = InProcessExecutor()
    else:
        runner = LocalExecutor(min(n_jobs or os.cpu_count() or 1, len(todo)))
    # Everything is validated: only now is the ledger created (or opened for writing).
    write_s = write_cpu = cell_s = cpu_s = 0.0
    failed = ran = elsewhere = 0
    try:
        ledger = Ledger.open(path, create=True)
        if todo:
            ledger.prepare_writing()  # a read-only ledger fails here, before any cell is computed
        with (
            _Progress(progress, len(todo), len(tasks) - len(todo)) as bar,
            _Claims(ledger, todo, claim_ttl, poll=min(1.0, claim_ttl / 4)) as source,
        ):
            if todo:
                bar.update(running=min(len(todo), runner.n_workers), failed=0)
            for res in runner.results(source):
                t0, c0 = time.perf_counter(), time.process_time()
                ledger.write(res)
                write_s += time.perf_counter() - t0
                write_cpu += time.process_time() - c0
                ran += 1
                failed += res["status"] != "ok"
                cell_s += (res["fit_seconds"] or 0.0) + (res["audit_seconds"] or 0.0)
                cpu_s += res.get("cpu_seconds") or 0.0
                bar.update(advance=1, running=runner.running, failed=failed, cell=res)
            elsewhere = source.finished_elsewhere
    finally:
        runner.close()
    ledger.last_sweep = SweepStats(
        n_cells=len(tasks),
        n_skipped=len(tasks) - len(todo) + elsewhere,
        n_ran=ran,
        n_failed=failed,
        wall_seconds=time.perf_counter() - t_start,
        write_seconds=write_s,
        write_cpu_seconds=write_cpu,
        cell_seconds=cell_s,
        cpu_seconds=cpu_s,
    )
    return ledger
