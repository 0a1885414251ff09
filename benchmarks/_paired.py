"""Paired CPU-time ratios of a library call and its floor, robust to a shared, loaded machine (issue 30).

Each repeat times the two calls back to back, in alternating order (floor first on even repeats, the library
first on odd ones), so slow drifts of the machine's load, clock or cache state hit both sides of a pair alike.
A call under ``min_cpu`` CPU seconds is looped within its timing. Reported: the median CPU seconds of each
side, the median and quartiles of the per-pair ratios (library / floor), and as a cross-check the ratio of
the two sides' fastest calls (interference from other processes only adds time). The garbage collector is off
while timing and collected between pairs, so a collection triggered by one side is not charged to the other.

CPU time is ``time.process_time`` (user + system time of this process): page faults of fresh arrays are
system time and are part of the cost.
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Paired:
    """Medians of paired timings (CPU seconds per call) and of their ratios."""

    library: float
    floor: float
    ratio: float
    ratio_q1: float
    ratio_q3: float
    pairs: int
    #: fastest library call / fastest floor call
    best_ratio: float

    @property
    def spread(self) -> str:
        return f"[{self.ratio_q1:.2f}, {self.ratio_q3:.2f}]"


def _loops(fn: Callable[[], Any], min_cpu: float) -> int:
    c0 = time.process_time()
    fn()
    one = time.process_time() - c0
    return max(1, int(min_cpu / max(one, 1e-6)))


def _time(fn: Callable[[], Any], loops: int) -> float:
    c0 = time.process_time()
    for _ in range(loops):
        fn()
    return (time.process_time() - c0) / loops


def paired_cpu(
    library: Callable[[], Any], floor: Callable[[], Any], repeats: int, min_cpu: float = 0.05
) -> Paired:
    """Time ``library`` and ``floor`` in ``repeats`` interleaved pairs (one warm-up call each first)."""
    loops_lib, loops_floor = _loops(library, min_cpu), _loops(floor, min_cpu)
    lib_t, floor_t, ratios = [], [], []
    enabled = gc.isenabled()
    gc.disable()
    try:
        for r in range(repeats):
            gc.collect()
            if r % 2 == 0:
                f = _time(floor, loops_floor)
                t = _time(library, loops_lib)
            else:
                t = _time(library, loops_lib)
                f = _time(floor, loops_floor)
            lib_t.append(t)
            floor_t.append(f)
            ratios.append(t / f)
    finally:
        if enabled:
            gc.enable()
    q1, _, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else (ratios[0],) * 3
    return Paired(
        statistics.median(lib_t),
        statistics.median(floor_t),
        statistics.median(ratios),
        q1,
        q3,
        repeats,
        min(lib_t) / min(floor_t),
    )


def load() -> str:
    """The 1, 5 and 15 minute load averages and the CPU count, for the record."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} on {os.cpu_count()} CPUs"
