"""Sweep throughput: one local worker against two, and what writing the ledger costs.

    .venv/bin/python benchmarks/bench_sweep.py [--seeds 8] [--n 10000] [--out benchmarks/RESULTS.md]

Runs the same 24-cell sweep (erm, selective, selective_fitted x 8 seeds on the readmission scenario) with
``n_jobs=1`` (in this process, BLAS pinned to one thread) and ``n_jobs=2`` (two spawned worker processes,
each pinned to one thread), each into a fresh ledger, and reports the speed-up and the ledger's share of the
cell time. The results of both runs must be identical (same seeds). The table is printed and written as the
``## Sweep`` section of --out (other sections are kept). Not a test: nothing here gates on a time.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

import _results
from causaltrust import __version__, bench

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "RESULTS.md"
SECTION = "## Sweep"
METHODS = ["erm", "selective", "selective_fitted"]


def load_average() -> str:
    """1, 5 and 15 minute load averages: the machine may be shared; this says how far to trust the ratio."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def sweep(store: Path, n_jobs: int, seeds: int, n: int) -> tuple[bench.Ledger, float]:
    t0 = time.perf_counter()
    led = bench.run(
        "readmission",
        methods=METHODS,
        seeds=list(range(seeds)),
        store=store,
        n_jobs=n_jobs,
        n_train=n,
        n_test=n,
        n_bootstrap=200,
        n_shadow=4,
        recourse_units=100,
        progress=False,
    )
    return led, time.perf_counter() - t0


def _spin(seconds: float) -> float:
    t0, c0 = time.perf_counter(), time.process_time()
    x = 0
    while time.perf_counter() - t0 < seconds:
        x += 1
    return time.process_time() - c0


def cores_available(seconds: float = 3.0) -> float:
    """CPU seconds per wall second that two busy-looping processes get: the ceiling of any speed-up here."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(2) as pool:
        return sum(pool.map(_spin, [seconds, seconds])) / seconds


def write_section(path: Path, text: str) -> None:
    """Replace (or append) this benchmark's section of RESULTS.md (see _results.write_section)."""
    _results.write_section(text, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8, help="seeds per method (3 methods)")
    parser.add_argument("--n", type=int, default=10_000, help="training and test rows per cell")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    load_start = load_average()
    ceiling = cores_available()
    print(f"two busy-looping processes get {ceiling:.2f} cores", flush=True)
    rows = []
    frames = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n_jobs in (1, 2):
            led, wall = sweep(Path(tmp) / f"jobs{n_jobs}.duckdb", n_jobs, args.seeds, args.n)
            st = led.last_sweep
            assert st is not None
            if st.n_failed:
                sys.exit(f"{st.n_failed} cells failed: {led.cells('failed')['error'].tolist()}")
            frames[n_jobs] = led.to_frame(wide=False)[["method", "seed", "name", "value", "low", "high"]]
            rows.append((n_jobs, st, wall))
            print(f"n_jobs={n_jobs}: {st.n_ran} cells in {wall:.1f} s", flush=True)
    same = frames[1].equals(frames[2])
    (_, st1, wall1), (_, _, wall2) = rows
    speedup = wall1 / wall2
    lines = [
        SECTION,
        "",
        f"{st1.n_ran} cells ({', '.join(METHODS)} x {args.seeds} seeds, readmission, {args.n:,} training "
        f"and {args.n:,} test rows, n_bootstrap=200, n_shadow=4, recourse_units=100), each in a new ledger. "
        "n_jobs=1 runs in the client process, n_jobs=2 in two spawned worker processes; every worker has "
        "BLAS pinned to one thread. Wall time includes starting the workers.",
        "",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- Machine: nproc {len(os.sched_getaffinity(0))}, load average {load_start} at the start and "
        f"{load_average()} at the end, Python {platform.python_version()}, causaltrust {__version__}",
        "- Command: `.venv/bin/python benchmarks/bench_sweep.py`",
        "",
        "| n_jobs | cells | wall (s) | cell time, fit + audit (s) | ledger writes (s) | per write (ms) "
        "| writes / cell time | cell CPU (s) | write CPU (s) | write CPU / cell CPU | CPU s per wall s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n_jobs, st, wall in rows:
        lines.append(
            f"| {n_jobs} | {st.n_ran} | {wall:.1f} | {st.cell_seconds:.1f} | {st.write_seconds:.2f} | "
            f"{1000 * st.write_seconds / st.n_ran:.0f} | {100 * st.write_seconds / st.cell_seconds:.1f}% | "
            f"{st.cpu_seconds:.1f} | {st.write_cpu_seconds:.2f} | "
            f"{100 * st.write_cpu_seconds / st.cpu_seconds:.1f}% | {st.cpu_seconds / wall:.2f} |"
        )
    lines += [
        "",
        f"Speed-up, two workers over one: **{speedup:.2f}x** (target >= 1.7x on 2 idle cores). "
        f"Metrics of the two runs identical: {'yes' if same else 'NO'}. "
        "CPU s per wall s is the cores the sweep actually got: on a shared machine it, not the core count, "
        f"bounds the speed-up. Calibration before the runs: two busy-looping processes got {ceiling:.2f} "
        "cores (2.00 on an idle 2-core machine).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    write_section(args.out, text)
    if not same:
        diff = pd.concat([frames[1], frames[2]]).drop_duplicates(keep=False)
        sys.exit(f"the two runs differ:\n{diff}")


if __name__ == "__main__":
    main()
