"""cProfile of one sweep cell at the demo's settings, by cumulative time: python benchmarks/cell_profile.py erm."""

import cProfile
import pstats
import sys
import time

from causaltrust import bench
from causaltrust.bench._executors import run_cell

method = sys.argv[1]
tasks = bench.plan("readmission", methods=[method], seeds=[0])
t = time.perf_counter()
pr = cProfile.Profile()
pr.enable()
res = run_cell(tasks[0])
pr.disable()
print(
    method,
    res["status"],
    res["error"],
    "fit",
    round(res["fit_seconds"] or 0, 2),
    "audit",
    round(res["audit_seconds"] or 0, 2),
    "wall",
    round(time.perf_counter() - t, 2),
)
pstats.Stats(pr).sort_stats("cumtime").print_stats(45)
