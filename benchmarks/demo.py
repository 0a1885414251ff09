"""Wall time, peak memory and profile of the main job (``causaltrust demo``, what ``make run`` runs).

Run: ``.venv/bin/python benchmarks/demo.py [--heading "## ..."] [--no-write] [-- DEMO OPTIONS]``. Writes the
``## Demo (main job)`` section of benchmarks/RESULTS.md (or the one ``--heading`` names; other sections are kept).
Options after ``--`` go to ``causaltrust demo`` (e.g. ``-- --seeds 1 --shadows 0`` to time a cut). The demo runs in a
fresh output folder, so every cell runs. The profile comes from the demo's own ledger: each cell records its
fit time and the wall time of each objective's audit (``audit_seconds_by_objective`` in ``extras_json``).
"""

from __future__ import annotations

import argparse
import json
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

import pandas as pd

PHASES = ("fit", "accuracy", "fairness", "robustness", "privacy", "explainability")


def profile(store: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seconds per phase summed over cells, overall and per method (both sorted, largest first)."""
    import duckdb

    with duckdb.connect(str(store), read_only=True) as con:
        cells = con.sql(
            "select method, fit_seconds, audit_seconds, cpu_seconds, extras_json from cells where status = 'ok'"
        ).df()
    rows = []
    for rec in cells.itertuples():
        by = json.loads(rec.extras_json or "{}").get("audit_seconds_by_objective", {})
        row = {"method": rec.method, "fit": rec.fit_seconds, **{p: by.get(p, 0.0) for p in PHASES[1:]}}
        row["other audit"] = max(0.0, rec.audit_seconds - sum(by.values()))
        row["cpu"] = rec.cpu_seconds
        rows.append(row)
    per_cell = pd.DataFrame(rows)
    phases = [*PHASES, "other audit"]
    per_method = per_cell.groupby("method")[[*phases, "cpu"]].sum()
    per_method["total"] = per_method[phases].sum(axis=1)
    per_method = per_method.sort_values("total", ascending=False)
    overall = per_cell[phases].sum().sort_values(ascending=False).to_frame("seconds")
    overall["share"] = overall["seconds"] / overall["seconds"].sum()
    return overall, per_method


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--heading", default="## Demo (main job)")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--story-json", default=None, help="also write the run's story verdicts (JSON) here")
    ap.add_argument("demo_args", nargs="*", help="options passed to `causaltrust demo` (after --)")
    args = ap.parse_args()
    exe = Path(sys.executable).with_name("causaltrust")
    with tempfile.TemporaryDirectory() as tmp:
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        proc = subprocess.run(
            [str(exe), "demo", "--out", tmp, *args.demo_args], capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.exit(f"demo failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
        overall, per_method = profile(Path(tmp) / "results.duckdb")
        if args.story_json:
            import causaltrust as ct

            verdicts = ct.report.story_verdicts(ct.bench.Ledger.open(Path(tmp) / "results.duckdb"))
            Path(args.story_json).write_text(json.dumps(verdicts, indent=1, sort_keys=True))
    # Largest resident set of any finished descendant (the CLI process or one of its worker processes).
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    cells = re.search(r"cells: (\d+) ran", proc.stdout)
    cell_s = float(overall["seconds"].sum())
    cmd = "`.venv/bin/python benchmarks/demo.py"
    if args.heading != "## Demo (main job)":
        cmd += f" --heading {args.heading!r}"
    if args.demo_args:
        cmd += " -- " + " ".join(args.demo_args)
    from causaltrust.bench import demo_settings

    full = "--full" in args.demo_args
    other = [a for a in args.demo_args if a != "--full"]
    st = demo_settings(full)
    section = [
        args.heading,
        "",
        f"`causaltrust demo{' --full' if full else ''}` ({'the full settings' if full else 'what `make run` runs'}): "
        f"readmission, every registered method, {st['seeds']} seeds, {st['n_train']:,} training and "
        f"{st['n_test']:,} test rows per cell, {st['n_shadow']} shadow models, {st['n_bootstrap']} bootstrap "
        f"resamples, recourse for {st['recourse_units']} rejected units; local worker processes, one per core; "
        "ledger, report and headline table written."
        + (f" **This run changes the settings: `{' '.join(other)}`.**" if other else ""),
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: nproc {os.cpu_count()}, load average "
        f"{load0:.2f} at the start; Python {platform.python_version()}",
        f"- Command: {cmd}`",
        "",
        "| cells | wall time | target | peak RSS of the largest process | cell seconds (sum over cells) |",
        "|---|---|---|---|---|",
        f"| {cells.group(1) if cells else '?'} | {wall:.0f} s | ≤ 60 s | {peak_mib:.0f} MiB | {cell_s:.0f} s |",
        "",
        "Profile: wall seconds of each phase summed over the cells (a cell's fit, then each objective of its "
        f"audit; the privacy objective includes the shadow models ({st['n_shadow']} here), each a refit of the "
        "method).",
        "",
        "| phase | seconds | share |",
        "|---|---|---|",
        *(f"| {p} | {r.seconds:.0f} | {r.share:.0%} |" for p, r in overall.iterrows()),
        "",
        "Per method (seeds summed), largest first:",
        "",
        "| method | total | fit | accuracy | fairness | robustness | privacy | explainability |",
        "|---|---|---|---|---|---|---|---|",
        *(
            f"| {m} | {r.total:.1f} | {r.fit:.1f} | {r.accuracy:.1f} | {r.fairness:.1f} | {r.robustness:.1f} | "
            f"{r.privacy:.1f} | {r.explainability:.1f} |"
            for m, r in per_method.iterrows()
        ),
        "",
    ]
    print("\n".join(section))
    if not args.no_write:
        import _results

        _results.write_section("\n".join(section))


if __name__ == "__main__":
    main()
