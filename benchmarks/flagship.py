"""Fair + robust flagship on the fairness-feasible set (issue 25, day 2): no target data.

Run: ``.venv/bin/python benchmarks/flagship.py [--scenarios readmission lending] [--seeds 3] [--rows 4000]
[--no-write]``. ``--part NAME`` runs one scenario into ``benchmarks/.flagship-NAME.duckdb`` (a ledger: cells
already there are reused); ``--assemble`` writes the RESULTS section from those ledgers. Each ledger's HTML
report (with the frontier plots) goes to ``reports/flagship-NAME.html``.

Every configuration is a real ``ct.bench`` cell: trained on the training environments, audited against the
true SCM (``ct.audit``, thresholds judged by the spec). The selective learner enforces both invariances at
once (fairness on the unfair paths, bounded robustness on the spurious ones; SCM learned from the training
rows). The baselines cannot block one path of the protected attribute and keep another; they get what they
can use of the spec: the environment as the group / anchor and, as a second option, every environment ×
protected group (``groups="environment_protected"``, Sagawa et al.'s groups, Adragna et al.'s protected
environments), with and without the environment as an input, over their own penalty grids. Fairness
baselines (unawareness, Kusner's counterfactual fairness, counterfactual augmentation) and ERM complete
the set.

The comparison is on the **feasible set**: configurations that meet every threshold of the spec on every seed
(readmission: |fairness.unfair_path_effect| <= 0.02; lending: that, |robustness.spurious_path_effect| <= 0.05
and explainability.recourse_validity >= 0.8). Among those: the best on each shift's accuracy and on the mean
over shifts (``accuracy.interventional``), and the best causal against the best baseline.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import _results
import causaltrust as ct

HERE = Path(__file__).parent
GAMMAS = [0.0, 0.5, 1.0, 2.0, 5.0]
METHODS = [
    "selective_bounded_fitted",
    "selective_fitted",
    "erm",
    "unaware",
    "cf_fair_fitted",
    "cf_augment_fitted",
    "anchor",
    "irm",
    "vrex",
    "groupdro",
]
GROUPS = ["environment", "environment_protected"]
GRID: dict[str, dict[str, list[Any]]] = {
    "selective_bounded_fitted": {"shift_strength": GAMMAS},
    "selective_fitted": {"robustness": ["map", "drop", False]},
    "anchor": {"gamma": [1.0, 10.0, 100.0], "env_feature": [False, True], "groups": GROUPS},
    "irm": {"penalty": [1.0, 100.0, 10_000.0], "env_feature": [False, True], "groups": GROUPS},
    "vrex": {"penalty": [1.0, 100.0, 10_000.0], "env_feature": [False, True], "groups": GROUPS},
    "groupdro": {"penalty": [0.01, 1.0], "env_feature": [False, True], "groups": GROUPS},
}


# --light (used for lending on the shared machine: its fairness audit took 160-200 s a cell at 64 unit draws):
# fewer per-unit draws (the judged thresholds are on means and on recourse, not on the per-unit metrics),
# half as many test rows, 50 recourse units, and the grid without the settings that measured as inert or
# redundant on readmission.
LIGHT_GRID: dict[str, dict[str, list[Any]]] = {
    **GRID,
    "anchor": {"gamma": [1.0, 10.0, 100.0], "env_feature": [False], "groups": GROUPS},
    "irm": {"penalty": [1.0, 10_000.0], "env_feature": [False, True], "groups": GROUPS},
    "vrex": {"penalty": [1.0, 10_000.0], "env_feature": [False, True], "groups": GROUPS},
    "groupdro": {"penalty": [0.01], "env_feature": [False, True], "groups": GROUPS},
}
LIGHT_AUDIT = {"unit_draws": 4}


def run(name: str, seeds: int, rows: int, light: bool = False) -> Any:
    store = HERE / f".flagship-{name}.duckdb"
    return ct.bench.run(
        name,
        methods=METHODS,
        seeds=list(range(seeds)),
        grid=LIGHT_GRID if light else GRID,
        audit_kwargs=LIGHT_AUDIT if light else None,
        store=store,
        n_train=rows,
        n_test=rows // 2 if light else rows,
        n_bootstrap=50,
        n_shadow=0,
        recourse_units=50 if light else 100,
        n_jobs=1,
        progress=False,
    )


def _fmt(row: pd.Series, c: str) -> str:
    v = row.get(c)
    if v is None or not np.isfinite(float(v)):
        return "–"
    lo, hi = row.get(c + "::lo"), row.get(c + "::hi")
    half = (float(hi) - float(lo)) / 2 if lo is not None and hi is not None and np.isfinite(hi) else np.nan
    return f"{float(v):.3f}" + (f" ± {half:.3f}" if np.isfinite(half) else "")


def summarise(name: str, led: Any) -> list[str]:
    agg = ct.bench.summarize(led).reset_index(drop=True)
    spec = ct.scenarios.load(name)[0]
    meets = ct.bench.meets_thresholds(agg).fillna(False).astype(bool)
    causal = agg["method"].map(lambda m: ct.bench.METHODS[str(m)].causal).astype(bool)
    nodes = {e[1] for e in spec.spurious_paths()}
    shifts = [
        s
        for s, v in spec.shifts.items()
        if set(v.equations) & nodes and not v.categories and not v.do and f"accuracy.shift[{s}]" in agg
    ]
    acc = [f"accuracy.shift[{s}]" for s in shifts]
    thr = "; ".join(
        f"{m} {'|value|' if m.startswith(('fairness', 'robustness')) else 'value'} "
        + " and ".join(
            x
            for x in (
                f"≥ {t.min:g}" if t.min is not None else "",
                f"≤ {t.max:g}" if t.max is not None else "",
            )
            if x
        )
        for m, t in (spec.thresholds or {}).items()
    )
    cols = [
        "fairness.unfair_path_effect",
        "robustness.spurious_path_effect",
        "explainability.recourse_validity",
        "accuracy.observational",
        *acc,
        "accuracy.interventional",
    ]
    cols = [c for c in cols if c in agg.columns]
    out = [
        f"### {name}",
        "",
        f"Thresholds: {thr}. Feasible: {int(meets.sum())} of {len(agg)} configurations.",
        "",
    ]
    head = "| configuration | feasible | " + " | ".join(c.replace("accuracy.", "acc ") for c in cols) + " |"
    out += [head, "|---" * (head.count("|") - 1) + "|"]
    order = agg.assign(_m=~meets, _c=~causal).sort_values(
        ["_m", "_c", "accuracy.interventional"], ascending=[True, True, False]
    )
    for i, r in order.iterrows():
        flag = "**yes**" if meets[i] else "no"
        label = f"**{r['config']}**" if causal[i] else str(r["config"])
        out.append(f"| {label} | {flag} | " + " | ".join(_fmt(r, c) for c in cols) + " |")
    out += [
        "",
        "Among the feasible configurations (mean over seeds ± half-width of the 95 % Student-t interval):",
        "",
    ]
    feas = agg[meets]
    for c in [*acc, "accuracy.interventional"]:
        if feas.empty:
            out.append(f"- {c}: no configuration meets every threshold.")
            continue
        best = feas.loc[feas[c].astype(float).idxmax()]
        fc, fb = feas[causal[meets]], feas[~causal[meets]]
        line = f"- {c}: best **{best['config']}** {_fmt(best, c)}"
        if len(fc) and len(fb):
            bc = fc.loc[fc[c].astype(float).idxmax()]
            bb = fb.loc[fb[c].astype(float).idxmax()]
            diff = 100 * (float(bc[c]) - float(bb[c]))
            line += (
                f"; best causal {bc['config']} {_fmt(bc, c)} vs best baseline {bb['config']} {_fmt(bb, c)}: "
                f"{diff:+.1f} points"
            )
        elif len(fb):
            line += "; no causal configuration is feasible"
        else:
            line += "; no baseline is feasible"
        out.append(line)
    # The best infeasible configuration on the mean over shifts: what meeting the thresholds costs.
    if (~meets).any() and meets.any():
        c = "accuracy.interventional"
        top = agg.loc[agg[c].astype(float).idxmax()]
        if not meets[int(top.name)]:
            best = feas.loc[feas[c].astype(float).idxmax()]
            miss = [
                m.split("::")[0]
                for m in agg.columns
                if m.endswith("::passed") and pd.notna(top[m]) and float(top[m]) < 1
            ]
            out.append(
                f"- Most accurate overall: {top['config']} {_fmt(top, c)}, which misses {', '.join(miss)}; "
                f"meeting every threshold costs {100 * (float(top[c]) - float(best[c])):.1f} points of "
                "interventional accuracy."
            )
    out += ["", "Story lines (`ct.report.story_lines`, threshold-first):", ""]
    out += [f"- {line}" for line in ct.report.story_lines(led)]
    out.append("")
    return out


def screenshot(report: Path, out: Path) -> bool:
    """The report's frontier plots as a PNG (Debian Chromium through playwright); False when unavailable."""
    import shutil

    chromium = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return False
    if chromium is None:
        return False
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--headless"])
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(report.resolve().as_uri())
            page.wait_for_selector("#frontier-0-0.js-plotly-plot", timeout=60_000)
            page.wait_for_load_state("load")
            out.parent.mkdir(parents=True, exist_ok=True)
            # The section's legend and its plots in one picture.
            top = page.locator("h2#frontiers ~ .mlegend").first.bounding_box()
            bottom = page.locator("h2#frontiers ~ div.grid2").first.bounding_box()
            if top is None or bottom is None:
                return False
            clip = {
                "x": bottom["x"],
                "y": top["y"],
                "width": bottom["width"],
                "height": bottom["y"] + bottom["height"] - top["y"],
            }
            page.screenshot(path=str(out), clip=clip, full_page=True)
        finally:
            browser.close()
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scenarios", nargs="+", default=["readmission", "lending"])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--rows", type=int, default=4000)
    ap.add_argument("--part", help="run one scenario into its ledger")
    ap.add_argument("--assemble", action="store_true", help="write the section from the ledgers")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--light", nargs="*", default=[], help="scenarios run with LIGHT_GRID and LIGHT_AUDIT")
    ap.add_argument("--light-seeds", type=int, default=1, help="seeds of the --light scenarios")
    args = ap.parse_args()
    if args.part:
        t0 = time.perf_counter()
        run(
            args.part,
            args.light_seeds if args.part in args.light else args.seeds,
            args.rows,
            args.part in args.light,
        )
        print(f"{args.part}: {time.perf_counter() - t0:.0f} s", flush=True)
        return
    ledgers: dict[str, Any] = {}
    shots: dict[str, bool] = {}
    for name in args.scenarios:
        ledgers[name] = (
            ct.bench.Ledger.open(HERE / f".flagship-{name}.duckdb")
            if args.assemble
            else run(
                name, args.light_seeds if name in args.light else args.seeds, args.rows, name in args.light
            )
        )
        Path("reports").mkdir(exist_ok=True)
        report = ct.report.write_html(ledgers[name], Path("reports") / f"flagship-{name}.html")
        shots[name] = screenshot(report, HERE / "img" / f"flagship-{name}-frontiers.png")
    section = [
        "## Fair + robust flagship on the feasible set, no target data (issue 25, day 2)",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; nproc {os.cpu_count()}, load average "
        f"{os.getloadavg()[0]:.1f} (shared machine)",
        f"- Command: `.venv/bin/python benchmarks/flagship.py {' '.join(sys.argv[1:])}`".rstrip()
        + (
            " (after `flagship.py --part NAME` for NAME in "
            + ", ".join(args.scenarios)
            + ", run in parallel with `nice`)"
            if args.assemble
            else ""
        ),
        f"- {args.seeds} seeds × {args.rows:,} training rows, {args.rows:,} test rows; every cell audited against "
        "the true SCM by `ct.audit` (n_bootstrap 50, no shadow models, 100 recourse units). Bold rows: causal "
        "methods. `groups=environment_protected`: every environment × protected group is a group (GroupDRO), "
        "an environment (IRM, V-REx) or an anchor level (anchor). Reports with the frontier plots: "
        "`reports/flagship-NAME.html`.",
        *(
            [
                f"- Light (shared machine): {', '.join(args.light)} with {args.light_seeds} seed(s), "
                f"{args.rows // 2:,} test rows, 50 recourse units, {LIGHT_AUDIT['unit_draws']} posterior draws "
                "per unit for the per-unit metrics (no threshold is on them), and a smaller grid (anchor without "
                "the environment as an input only, IRM / V-REx λ ∈ {1, 10⁴}, GroupDRO η = 0.01)."
            ]
            if args.light
            else []
        ),
        "",
    ]
    for name in args.scenarios:
        section += summarise(name, ledgers[name])
        if shots[name]:
            section += [
                f"Frontiers (the report's section, `reports/flagship-{name}.html`): accuracy per shift and "
                "its mean vs |spurious-path effect|, one curve per method over its own settings.",
                "",
                f"![{name} frontiers](img/flagship-{name}-frontiers.png)",
                "",
            ]
    text = "\n".join(section)
    print(text)
    if not args.no_write:
        _results.write_section(text)


if __name__ == "__main__":
    main()
