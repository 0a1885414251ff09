"""CPU seconds of one sweep cell per method (fit + audit at the demo's settings): python benchmarks/cell_cpu.py erm selective."""

import sys
import time

from causaltrust import bench
from causaltrust.bench._executors import run_cell

for method in sys.argv[1:]:
    task = bench.plan("readmission", methods=[method], seeds=[0])[0]
    c0, t0 = time.process_time(), time.perf_counter()
    res = run_cell(task)
    print(
        method,
        res["status"],
        f"cpu={time.process_time() - c0:.2f}",
        f"wall={time.perf_counter() - t0:.1f}",
        flush=True,
    )
