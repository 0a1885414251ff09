"""Wall time and peak memory of the main job (``causaltrust demo``, what ``make run`` runs).

Run: ``.venv/bin/python benchmarks/demo.py [--no-write]``. Writes the ``## Demo (main job)`` section of
benchmarks/RESULTS.md (other sections are kept). The demo runs in a fresh output folder, so every cell runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    exe = Path(sys.executable).with_name("causaltrust")
    with tempfile.TemporaryDirectory() as tmp:
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        proc = subprocess.run([str(exe), "demo", "--out", tmp], capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"demo failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    # Largest resident set of any finished descendant (the CLI process or one of its worker processes).
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    cells = re.search(r"cells: (\d+) ran", proc.stdout)
    section = [
        "## Demo (main job)",
        "",
        "`causaltrust demo` (what `make run` runs): readmission, every registered method, 3 seeds, 20,000 training "
        "and 20,000 test rows per cell, 8 shadow models, 200 bootstrap resamples, recourse for 200 rejected "
        "units; local worker processes, one per core; ledger, report and headline table written.",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: nproc {os.cpu_count()}, load average "
        f"{load0:.2f} at the start; Python {platform.python_version()}",
        "- Command: `.venv/bin/python benchmarks/demo.py`",
        "",
        "| cells | wall time | target | peak RSS of the largest process |",
        "|---|---|---|---|",
        f"| {cells.group(1) if cells else '?'} | {wall:.0f} s | ≤ 300 s (aim 120 s) | {peak_mib:.0f} MiB |",
        "",
    ]
    print("\n".join(section))
    if not args.no_write:
        import _results

        _results.write_section("\n".join(section))


if __name__ == "__main__":
    main()
