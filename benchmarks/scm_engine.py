"""Time the readmission SCM three ways: hand-written NumPy (the floor), dowhy.gcm and causaltrust.

    .venv-peers/bin/python benchmarks/scm_engine.py [--sizes 1e4,1e5,1e6] [--repeats 3] \
        [--out benchmarks/RESULTS.md]

Operations: sample, do(A=1), counterfactual do(A=0), path counterfactual (causaltrust only) and fit (up to
1e5 rows). Each cell is the best of --repeats runs (time.perf_counter, garbage collected before each run,
imports and model construction outside the timer, every operation warmed up once on a small sample first). The
peak memory of one sample at --memory-rows rows is measured with tracemalloc in a fresh subprocess per
implementation. The table is printed and written as the ``## SCM engine`` section of --out.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import _readmission_peers as peers
import _results

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "benchmarks" / "RESULTS.md"
SECTION = "## SCM engine"
# The seed of every timed operation: np.random.default_rng(0), random_state=0, dowhy's global seed 0.
SEED = 0
# The observed units come from their own seed: with the same seed as the counterfactual, the floor's abduction
# uniforms would be the very draws that generated A, and the counterfactual would be visibly biased.
DATA_SEED = 2024
FIT_MAX_ROWS = 100_000  # fitting is timed at 1e4 and 1e5 rows only
WARMUP_ROWS = 1_000
OPS = ("sample", "do(A=1)", "counterfactual do(A=0)", "path counterfactual", "fit (linear)")
MAIN = ("floor", "dowhy", "causaltrust")  # the three columns of the main table
IMPLS = (*MAIN, "dowhy-fitted")
UNFAIR_PATHS = [("A", "Y"), ("A", "Z")]


# ------------------------------------------------------------------------------------------------------------
# The three implementations behind one interface: each operation takes what it needs and returns a frame.
# ------------------------------------------------------------------------------------------------------------


class Impl:
    """One implementation; an operation left as None is one it does not offer."""

    name = ""

    def __init__(self) -> None:
        self.version = ""
        self.sample: Callable[[int], Any] | None = None
        self.do: Callable[[int], Any] | None = None
        # counterfactual and fit get (observed units without L, the same units with L)
        self.counterfactual: Callable[[pd.DataFrame, pd.DataFrame], Any] | None = None
        self.path_counterfactual: Callable[[pd.DataFrame], Any] | None = None
        self.fit: Callable[[pd.DataFrame, pd.DataFrame], Any] | None = None

    def reseed(self) -> None:
        """Run before each timed call, outside the timer."""

    def prepare(self, op: str, args: tuple[Any, ...]) -> None:
        """Per-call set-up that must stay outside the timer."""

    def op(self, name: str) -> Callable[..., Any] | None:
        """The callable for operation ``name``."""
        return {
            "sample": self.sample,
            "do(A=1)": self.do,
            "counterfactual do(A=0)": self.counterfactual,
            "path counterfactual": self.path_counterfactual,
            "fit (linear)": self.fit,
        }[name]

    def args(self, name: str, n: int, observed: pd.DataFrame, full: pd.DataFrame) -> tuple[Any, ...]:
        """Positional arguments of operation ``name``."""
        if name in ("sample", "do(A=1)"):
            return (n,)
        if name == "path counterfactual":
            return (observed,)
        return (observed, full)


class Floor(Impl):
    """Hand-written NumPy; fit is scikit-learn called directly."""

    name = "floor"

    def __init__(self) -> None:
        super().__init__()
        self.version = f"numpy {np.__version__}"
        self.sample = lambda n: peers.floor_sample(n, SEED)
        self.do = lambda n: peers.floor_sample(n, SEED, do_a=1)
        self.counterfactual = lambda obs, full: peers.floor_counterfactual(obs, do_a=0, seed=SEED)
        self.fit = lambda obs, full: peers.floor_fit(full)


class Dowhy(Impl):
    """dowhy.gcm with the true mechanisms given explicitly (L observed: dowhy has no latent variables)."""

    name = "dowhy"

    def __init__(self) -> None:
        super().__init__()
        import dowhy
        from dowhy import gcm
        from dowhy.gcm.util.general import set_random_seed

        gcm.config.disable_progress_bars()
        self.version = f"dowhy {dowhy.__version__}"
        self._gcm = gcm
        self._set_random_seed = set_random_seed
        # Frames converted to dowhy's dtypes outside the timer, per operation: (source, converted).
        self._frames: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}
        self._frame = pd.DataFrame()
        self._fit_scm: Any = None
        sample_scm, cf_scm = self._models()
        self.sample = lambda n: gcm.draw_samples(sample_scm, n)
        self.do = lambda n: gcm.interventional_samples(sample_scm, {"A": lambda a: 1}, num_samples_to_draw=n)
        self.counterfactual = lambda obs, full: gcm.counterfactual_samples(
            cf_scm, {"A": lambda a: 0}, observed_data=self._frame
        )
        self.fit = self._fit

    def _models(self) -> tuple[Any, Any]:
        """The models for sampling and for counterfactuals."""
        return peers.dowhy_true_scm(), peers.dowhy_true_scm(binary_as_anm=True)

    def _convert(self, op: str, full: pd.DataFrame) -> pd.DataFrame:
        """The observed units (with L) as operation ``op`` takes them; the true model reads E as a number."""
        return peers.dowhy_fit_frame(full) if op == "fit (linear)" else full

    def reseed(self) -> None:
        """dowhy draws from NumPy's global generator (np.random.*, scipy's rvs): seeded by dowhy's helper."""
        self._set_random_seed(SEED)

    def prepare(self, op: str, args: tuple[Any, ...]) -> None:
        """Outside the timer: the frame in dowhy's dtypes, and for fit a fresh unfitted model."""
        if op not in ("counterfactual do(A=0)", "fit (linear)"):
            return
        full = args[1]
        source, frame = self._frames.get(op, (None, None))
        if source is not full or frame is None:  # holding the source keeps this identity check sound
            frame = self._convert(op, full)
            self._frames[op] = (full, frame)
        self._frame = frame
        if op == "fit (linear)":
            self._fit_scm = peers.dowhy_linear_scm()

    def _fit(self, obs: pd.DataFrame, full: pd.DataFrame) -> Any:
        self._gcm.fit(self._fit_scm, self._frame)
        return self._fit_scm


class DowhyFitted(Dowhy):
    """dowhy.gcm as typically used: linear mechanism classes fitted once with gcm.fit (not timed), E as
    strings; Z and Y ClassifierFCMs for sampling, LinearRegression ANMs for counterfactuals."""

    name = "dowhy-fitted"

    def __init__(self) -> None:
        super().__init__()
        self.fit = None  # fit is timed in the dowhy column already

    def _models(self) -> tuple[Any, Any]:
        return peers.dowhy_fitted_scms(peers.floor_sample(FIT_MAX_ROWS, DATA_SEED + 1))

    def _convert(self, op: str, full: pd.DataFrame) -> pd.DataFrame:
        return peers.dowhy_fit_frame(full, binary_as_anm=True)


class CausalTrust(Impl):
    """causaltrust: the readmission scenario's SCM and SCM.fit with linear mechanisms."""

    name = "causaltrust"

    def __init__(self) -> None:
        super().__init__()
        import causaltrust as ct

        self.version = f"causaltrust {getattr(ct, '__version__', '?')}"
        spec, scm = ct.scenarios.load("readmission")
        self.sample = lambda n: scm.sample(n, random_state=SEED)
        self.do = lambda n: scm.sample(n, do={"A": 1}, random_state=SEED)
        self.counterfactual = lambda obs, full: scm.counterfactual(obs, do={"A": 0}, random_state=SEED)
        self.path_counterfactual = lambda obs: scm.path_counterfactual(
            obs, source="A", value=0, paths=UNFAIR_PATHS, random_state=SEED
        )
        self.fit = lambda obs, full: ct.SCM.fit(spec, obs, random_state=SEED, mechanisms="linear")


def load_impls(only: list[str]) -> tuple[dict[str, Impl], dict[str, str]]:
    """The implementations in ``only`` that import and build; the others with the reason they are out."""
    impls: dict[str, Impl] = {}
    missing: dict[str, str] = {}
    for cls in (Floor, Dowhy, CausalTrust, DowhyFitted):
        if cls.name not in only:
            missing[cls.name] = "not run (--only)"
            continue
        try:
            impls[cls.name] = cls()
        except Exception as exc:  # any failure to import or build: report it and time the others
            missing[cls.name] = f"not available ({type(exc).__name__}: {exc})"
            print(f"{cls.name}: {missing[cls.name]}", flush=True)
    return impls, missing


# ------------------------------------------------------------------------------------------------------------
# Timing
# ------------------------------------------------------------------------------------------------------------


@dataclass
class Cell:
    """Best time of one operation by one implementation at one size (or why there is none)."""

    seconds: float | None = None
    runs: int = 0
    error: str | None = None
    result: Any = field(default=None, repr=False)


def time_best(impl: Impl, op: str, args: tuple[Any, ...], repeats: int) -> Cell:
    """Best of ``repeats`` timed calls; the last result is kept for the sanity checks."""
    func = impl.op(op)
    assert func is not None
    cell = Cell()
    for _ in range(repeats):
        cell.result = None  # the previous result would double the memory of a large run
        impl.prepare(op, args)
        impl.reseed()
        gc.collect()
        start = time.perf_counter()
        result = func(*args)
        elapsed = time.perf_counter() - start
        cell.seconds = elapsed if cell.seconds is None else min(cell.seconds, elapsed)
        cell.runs += 1
        cell.result = result
        del result
    return cell


def run_op(impl: Impl, op: str, args: tuple[Any, ...], repeats: int, strict: bool) -> Cell:
    """time_best, with a failing operation recorded instead of ending the run (unless --strict)."""
    try:
        return time_best(impl, op, args, repeats)
    except Exception as exc:
        if strict:
            raise
        message = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        print(f"  {impl.name} {op}: failed ({message})", flush=True)
        return Cell(error=message)


def warm_up(impls: dict[str, Impl], strict: bool) -> dict[tuple[str, str], str]:
    """Call every operation once on a small sample so lazy imports and first-call caches stay out of the
    timings; an operation that fails here is skipped later."""
    full = peers.floor_sample(WARMUP_ROWS, DATA_SEED)
    observed = full.drop(columns=["L"])
    failed: dict[tuple[str, str], str] = {}
    for impl in impls.values():
        for op in OPS:
            if impl.op(op) is None:
                continue
            cell = run_op(impl, op, impl.args(op, WARMUP_ROWS, observed, full), 1, strict)
            if cell.error is not None:
                failed[(impl.name, op)] = cell.error
    return failed


@dataclass
class Row:
    """One line of the table."""

    op: str
    n: int
    cells: dict[str, Cell]
    check: str = ""


def run_size(
    impls: dict[str, Impl], n: int, repeats: int, failed: dict[tuple[str, str], str], strict: bool
) -> list[Row]:
    """Time every operation at ``n`` rows on one shared observed sample."""
    full = peers.floor_sample(n, DATA_SEED)  # the observed units; dowhy sees L too
    observed = full.drop(columns=["L"])
    rows = []
    for op in OPS:
        if op == "fit (linear)" and n > FIT_MAX_ROWS:
            continue
        cells: dict[str, Cell] = {}
        for name, impl in impls.items():
            if impl.op(op) is None:
                continue
            if (name, op) in failed:
                cells[name] = Cell(error=failed[(name, op)])
                continue
            cells[name] = run_op(impl, op, impl.args(op, n, observed, full), repeats, strict)
        if not cells:  # no implementation offers it (path counterfactual without causaltrust)
            continue
        row = Row(op, n, cells)
        row.check = summarize(row)
        for cell in cells.values():  # 1e6-row results are large: keep only the summary
            cell.result = None
        rows.append(row)
        shown = ", ".join(f"{k} {fmt_s(c)}" for k, c in cells.items())
        print(f"  n={n:>9,} {op:<24} {shown}", flush=True)
    return rows


# ------------------------------------------------------------------------------------------------------------
# Memory (one sample at --memory-rows rows, each implementation in its own process)
# ------------------------------------------------------------------------------------------------------------


def memory_probe(name: str, n: int) -> int:
    """Child process: print tracemalloc's peak while drawing a sample of ``n`` rows, and the frame's size."""
    cls = {"floor": Floor, "dowhy": Dowhy, "causaltrust": CausalTrust, "dowhy-fitted": DowhyFitted}[name]
    impl = cls()
    assert impl.sample is not None
    impl.reseed()
    impl.sample(WARMUP_ROWS)  # lazy imports and caches are not the sample's memory
    impl.reseed()
    gc.collect()
    tracemalloc.start()
    df = impl.sample(n)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = int(df.memory_usage(index=True, deep=True).sum())
    print(json.dumps({"peak": peak, "result": size, "columns": list(df.columns)}))
    return 0


def measure_memory(names: list[str], n: int) -> dict[str, dict[str, Any]]:
    """Peak traced memory of one sample per implementation, each in a fresh interpreter."""
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--memory-probe", name, "--memory-rows", str(n)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        lines = proc.stdout.strip().splitlines()
        if proc.returncode != 0 or not lines:
            reason = (proc.stderr.strip().splitlines() or ["no output"])[-1][:200]
            out[name] = {"error": reason}
            print(f"  memory {name}: failed ({reason})", flush=True)
            continue
        out[name] = json.loads(lines[-1])
        print(f"  memory {name}: peak {out[name]['peak'] / 2**20:.1f} MiB", flush=True)
    return out


# ------------------------------------------------------------------------------------------------------------
# Sanity checks (outside the timings): do the implementations compute the same thing?
# ------------------------------------------------------------------------------------------------------------


def summarize(row: Row) -> str:
    """Mean of Y per implementation, and for counterfactuals how far X' is from the floor's (X' is
    deterministic given the abducted L, so it must agree to rounding)."""
    if row.op == "fit (linear)":
        return ""
    floor = row.cells.get("floor")
    floor_x = floor.result["X"].to_numpy() if floor is not None and floor.result is not None else None
    parts = []
    for name, cell in row.cells.items():
        df = cell.result
        if not isinstance(df, pd.DataFrame) or "Y" not in df:
            continue
        part = f"{name} {float(pd.to_numeric(df['Y']).mean()):.4f}"
        if row.op == "counterfactual do(A=0)" and name != "floor" and floor_x is not None and "X" in df:
            gap = float(np.max(np.abs(pd.to_numeric(df["X"]).to_numpy(dtype=float) - floor_x)))
            part += f" (max abs X' - floor X' = {gap:.1e})"
        parts.append(part)
    return ", ".join(parts)


def sanity(rows: list[Row]) -> list[str]:
    """The summaries at the largest size."""
    if not rows:
        return []
    n = max(r.n for r in rows)
    lines = [
        f"Sanity check at {n:,} rows: mean of Y (counterfactuals on the same observed units; X' must match "
        "the floor's to rounding except for dowhy-fitted, whose coefficients are estimated):",
        "",
    ]
    lines += [f"- {r.op}: {r.check}" for r in rows if r.n == n and r.check]
    return lines


# ------------------------------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------------------------------


def fmt_s(cell: Cell | None) -> str:
    """Seconds with 4 significant digits, 'error' or 'n/a'."""
    if cell is None:
        return "n/a"
    if cell.error is not None:
        return "error"
    assert cell.seconds is not None
    return f"{cell.seconds:.4g}"


def ratio(num: Cell | None, den: Cell | None) -> str:
    """num / den as '12.3x', or '-' when either is missing."""
    if num is None or den is None or num.seconds is None or den.seconds is None or den.seconds <= 0:
        return "-"
    return f"{num.seconds / den.seconds:.1f}x"


def table(rows: list[Row]) -> list[str]:
    """Markdown table of seconds and ratios."""
    head = (
        "| operation | rows | NumPy floor (s) | dowhy (s) | causaltrust (s) | dowhy / causaltrust "
        "| causaltrust / floor | dowhy / floor | runs | notes |"
    )
    lines = [head, "|" + "---|" * 10]
    cf_by_n = {r.n: r.cells.get("causaltrust") for r in rows if r.op == "counterfactual do(A=0)"}
    for r in rows:
        f, d, c = (r.cells.get(k) for k in MAIN)
        notes = []
        if r.op == "path counterfactual":
            notes.append(f"path cf / our cf = {ratio(c, cf_by_n.get(r.n))}")
        if r.op == "fit (linear)":
            notes.append("floor = scikit-learn called directly")
        notes += [f"{k}: {cell.error}" for k, cell in r.cells.items() if cell.error and k in MAIN]
        runs = max((cell.runs for k, cell in r.cells.items() if k in MAIN), default=0)
        cols = [r.op, f"{r.n:,}", fmt_s(f), fmt_s(d), fmt_s(c), ratio(d, c), ratio(c, f), ratio(d, f)]
        cols += [str(runs), "; ".join(notes).replace("|", "/")]
        lines.append("| " + " | ".join(cols) + " |")
    return lines


def fitted_table(rows: list[Row]) -> list[str]:
    """Markdown table of dowhy with fitted mechanisms (typical use) against the others."""
    rows = [r for r in rows if "dowhy-fitted" in r.cells]
    if not rows:
        return []
    lines = [
        "dowhy as typically used (`gcm.fit` of its linear mechanism classes beforehand, not timed; E as "
        "strings, so dowhy one-hot encodes it on every call; Z and Y LinearRegression ANMs for "
        "counterfactuals):",
        "",
        "| operation | rows | dowhy fitted (s) | / floor | / causaltrust | / dowhy (true mechanisms) "
        "| runs |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        g = r.cells["dowhy-fitted"]
        f, d, c = (r.cells.get(k) for k in MAIN)
        cols = [r.op, f"{r.n:,}", fmt_s(g), ratio(g, f), ratio(g, c), ratio(g, d), str(g.runs)]
        lines.append("| " + " | ".join(cols) + " |")
    return lines


def memory_table(mem: dict[str, dict[str, Any]], n: int) -> list[str]:
    """Markdown table of peak memory per implementation."""
    if not mem:
        return []
    lines = [
        f"Peak memory of one `sample` of {n:,} rows x all variables (tracemalloc peak, fresh process each):",
        "",
        "| implementation | peak (MiB) | result frame (MiB) | peak / result |",
        "|---|---|---|---|",
    ]
    for name, m in mem.items():
        if "error" in m:
            lines.append(f"| {name} | error: {m['error']} | | |")
            continue
        peak, size = m["peak"] / 2**20, m["result"] / 2**20
        lines.append(f"| {name} | {peak:.1f} | {size:.1f} | {peak / size:.2f}x |")
    return lines


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: the machine may be shared, and this says how much to trust small
    differences."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def machine(load_at_start: str) -> str:
    """nproc, CPU model, load, Python and library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        text = Path("/proc/cpuinfo").read_text()
        match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
        cpu = match.group(1).strip() if match else cpu
    except OSError:
        pass
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    import scipy
    import sklearn

    libs = f"numpy {np.__version__}, pandas {pd.__version__}, scipy {scipy.__version__}"
    libs += f", scikit-learn {sklearn.__version__}"
    return (
        f"nproc {nproc} ({cpu}), load average {load_at_start} at the start and {load_average()} at the end, "
        f"Python {platform.python_version()} on {platform.system()}, {libs}"
    )


def command() -> str:
    """The command line as invoked, paths relative to the working directory where possible."""

    def rel(p: str) -> str:
        r = os.path.relpath(p)
        return p if r.startswith("..") else r

    return shlex.join([rel(sys.executable), rel(sys.argv[0]), *sys.argv[1:]])


NOTES = [
    "dowhy has no latent variables: it is given the graph with L observed and the sample including L; "
    "causaltrust and the floor get the sample without L and abduct L from X = L + artifact(E).",
    "dowhy's mechanisms are the true ones, set explicitly: scipy distributions for A, E, F and L's noise, a "
    "fixed-parameter linear model for L, an additive noise model with zero noise for X, ClassifierFCMs with "
    "the true probabilities for Z and Y.",
    "dowhy's counterfactuals fail on ClassifierFCM nodes (no `estimate_noise`), so its counterfactual model "
    "has Z and Y as AdditiveNoiseModels `node = P(node = 1 | parents) + N`: their counterfactual values are "
    "not 0/1. causaltrust and the floor keep them binary (uniform noise abducted from the interval the "
    "observed value allows).",
    "fit: dowhy `gcm.fit` with empirical roots, LinearRegression additive noise models (L, X) and "
    "LogisticRegression ClassifierFCMs (Z, Y), on the sample with L (E as strings, Z and Y as bool, as dowhy "
    "requires); causaltrust `SCM.fit(..., mechanisms='linear')` on the sample without L (L and X keep their "
    "given equations); the floor fits the same scikit-learn models as dowhy, directly.",
    "The floor builds its result DataFrame inside the timer, since every implementation returns one.",
    f"Seeds: every timed call uses seed {SEED} (NumPy `default_rng({SEED})`, `random_state={SEED}`, "
    f"dowhy's `set_random_seed({SEED})` before each call); the observed units are a floor sample with seed "
    f"{DATA_SEED}.",
]


def section(
    rows: list[Row],
    mem: dict[str, dict[str, Any]],
    mem_rows: int,
    impls: dict[str, Impl],
    missing: dict[str, str],
    repeats: int,
    checks: list[str],
    load_at_start: str,
) -> str:
    """The ``## SCM engine`` section of RESULTS.md."""
    versions = ", ".join(dict.fromkeys(i.version for i in impls.values() if i.name != "floor"))
    lines = [
        SECTION,
        "",
        "Readmission SCM (A, E, F, Z, latent L, X, Y), every variable sampled. Seconds are the best of "
        f"{repeats} runs (fewer where the runs column says so); ratios > 1 mean the first is slower.",
        "",
        f"- Date: {dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {machine(load_at_start)}; {versions or 'no peers'}",
        f"- Command: `{command()}`",
    ]
    lines += [f"- {name}: {why}" for name, why in missing.items()]
    lines += ["", *table(rows), ""]
    fitted = fitted_table(rows)
    if fitted:
        lines += [*fitted, ""]
    if mem:
        lines += [*memory_table(mem, mem_rows), ""]
    if checks:
        lines += [*checks, ""]
    lines += ["Notes:", "", *[f"- {note}" for note in NOTES], ""]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------------------
# Entry point
# ------------------------------------------------------------------------------------------------------------


def parse_sizes(text: str) -> list[int]:
    """'1e4,1e5' -> [10000, 100000]."""
    return [int(float(s)) for s in text.split(",") if s.strip()]


def write_section(path: Path, text: str) -> None:
    """Replace (or append) this benchmark's section of RESULTS.md (see _results.write_section)."""
    _results.write_section(text, path)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e4,1e5,1e6", help="comma-separated row counts")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per cell (the best is kept)")
    parser.add_argument("--big-repeats", type=int, default=3, help="at most this many runs at >= 1e6 rows")
    parser.add_argument("--memory-rows", default="1e6", help="rows of the memory probe; 0 skips it")
    parser.add_argument("--only", default=",".join(IMPLS), help="comma-separated implementations to run")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="markdown file to write the section to")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--strict", action="store_true", help="let a failing operation raise")
    parser.add_argument("--memory-probe", choices=IMPLS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    mem_rows = int(float(args.memory_rows))
    if args.memory_probe:
        return memory_probe(args.memory_probe, mem_rows)

    only = [name.strip() for name in args.only.split(",")]
    unknown = sorted(set(only) - set(IMPLS))
    if unknown:
        parser.error(f"--only: unknown implementation(s) {unknown}; choose from {list(IMPLS)}")
    load_at_start = load_average()
    impls, missing = load_impls(only)
    failed = warm_up(impls, args.strict)
    rows: list[Row] = []
    for n in parse_sizes(args.sizes):
        repeats = min(args.repeats, args.big_repeats) if n >= 1_000_000 else args.repeats
        rows += run_size(impls, n, max(repeats, 1), failed, args.strict)

    checks = sanity(rows)
    mem = measure_memory(list(impls), mem_rows) if mem_rows > 0 else {}
    text = section(rows, mem, mem_rows, impls, missing, args.repeats, checks, load_at_start)
    print()
    print(text)
    if not args.no_write:
        write_section(args.out, text)
        print(f"wrote the '{SECTION}' section of {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
