"""The demo ledger's metrics before and after a refactor: same sweep, same seeds, compared value by value.

Run the sweep under each source tree, then compare::

    git archive main src | tar -x -C /tmp/main_tree          # the code before
    PYTHONPATH=/tmp/main_tree/src python benchmarks/ledger_identity.py run --out before.csv
    PYTHONPATH=src python benchmarks/ledger_identity.py run --out after.csv
    python benchmarks/ledger_identity.py compare before.csv after.csv

``run`` is the demo's sweep (every registered tabular method on readmission) at a smaller size (2,000 train
and test rows, one seed, no shadow models, 20 bootstrap resamples) so that it takes minutes, not the demo's
five. ``compare`` prints every metric that differs and exits 1 if any does (NaN equals NaN). ``run`` sets
``CAUSALTRUST_DP_NOISE_SEED=0`` unless it is set: the DP learners draw their noise from the operating system
per fit (issue 33), so without the switch their metrics differ between any two runs, refactor or not.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

_KEY = ("method", "params_json", "seed", "status", "name")
_VALUES = ("value", "low", "high")


def _same(x: object, y: object) -> bool:
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    return x == y


def run(out: Path, seeds: list[int], n: int) -> None:
    os.environ.setdefault("CAUSALTRUST_DP_NOISE_SEED", "0")  # before the learners read it
    import causaltrust as ct
    from causaltrust.bench import METHODS

    methods = sorted(m for m, spec in METHODS.items() if getattr(spec, "data", "tabular") == "tabular")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        ledger = ct.bench.run(
            "readmission",
            methods=methods,
            seeds=seeds,
            store=Path(tmp) / "ledger.duckdb",
            executor="local",
            n_jobs=1,
            n_train=n,
            n_test=n,
            n_bootstrap=20,
            n_shadow=0,
            recourse_units=20,
            progress=False,
        )
        metrics = ledger.metrics()
        status = ledger.cells()[["cell_id", "status"]]
    frame = metrics.merge(status, on="cell_id")
    keep = [c for c in (*_KEY, *_VALUES) if c in frame.columns]
    frame = frame[keep].sort_values([c for c in _KEY if c in frame.columns]).reset_index(drop=True)
    frame.to_csv(out, index=False, float_format="%.17g")
    print(
        f"{len(methods)} methods x {len(seeds)} seed(s): {len(frame)} rows in {time.perf_counter() - start:.0f} s"
    )


def compare(before: Path, after: Path) -> int:
    a, b = pd.read_csv(before), pd.read_csv(after)
    key = [c for c in _KEY if c in a.columns]
    values = [c for c in _VALUES if c in a.columns]
    merged = a.merge(b, on=key, how="outer", suffixes=("_before", "_after"), indicator=True)
    only = merged[merged["_merge"] != "both"]
    both = merged[merged["_merge"] == "both"]
    same = pd.Series(True, index=both.index)
    for v in values:
        same &= np.array([_same(x, y) for x, y in zip(both[f"{v}_before"], both[f"{v}_after"], strict=True)])
    differ = both[~same]
    print(
        f"{len(both)} metrics compared ({', '.join(values)}); {len(differ)} differ; {len(only)} on one side only"
    )
    if len(differ):
        for v in values:
            gap = (differ[f"{v}_after"] - differ[f"{v}_before"]).abs()
            rel = gap / differ[f"{v}_before"].abs().clip(lower=1e-300)
            print(f"  {v}: largest absolute difference {gap.max():.3g}, largest relative {rel.max():.3g}")
        print("  methods:", ", ".join(sorted(set(differ["method"]))))
        cols = [*key, *(f"{v}_{side}" for v in values for side in ("before", "after"))]
        print(differ[cols].to_string(max_rows=80))
    if len(only):
        print(only[[*key, "_merge"]].to_string(max_rows=60))
    return 1 if len(differ) or len(only) else 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--seeds", type=int, nargs="+", default=[0])
    r.add_argument("--n", type=int, default=2000)
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.cmd == "run":
        run(args.out, args.seeds, args.n)
        return 0
    return compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
