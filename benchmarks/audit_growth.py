"""How the audit grows with the number of test rows, and the group metrics against a bincount floor (issue 30).

    .venv/bin/python benchmarks/audit_growth.py [--rows 10000 100000 1000000] [--pairs 15] [--json out.json]
    .venv/bin/python benchmarks/audit_growth.py --skip-audit [--cases regression]   # the group floors only

1. Audit growth: ``ct.audit`` of the readmission scenario's logistic-regression pipeline (benchmarks/audit.py's
   model, trained on 20,000 rows) on 1e4, 1e5 and 1e6 test rows, each objective alone (``n_shadow=0``,
   default ``n_bootstrap=200``), process CPU seconds of one call and the peak of traced memory (tracemalloc).
   The growth exponent between two sizes is log(CPU ratio) / log(rows ratio): 1.0 is linear.
2. Group metrics against a strict floor: ``demographic_parity_difference`` and ``equalized_odds_difference``
   of a classifier, ``mean_difference`` and ``standardized_mean_difference`` of a regressor (one call on every
   unit, and the audit's bootstrap form: a resample's index gather plus the statistic) against the fewest
   NumPy passes that give the same numbers (bincounts of group and group-by-class codes; for the standardized
   difference also the one gather and the two passes of the pooled within-group squares). Results are checked
   bit for bit against the floor. CPU seconds and ratios are medians of ``--pairs`` interleaved pairs
   (benchmarks/_paired.py).

Prints the tables as Markdown (and writes them as JSON with ``--json``); the numbers go into
benchmarks/RESULTS.md by hand with the command, as the machine is shared (ratios in one run).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from _paired import load, paired_cpu
from audit import OBJECTIVES, TRAIN_ROWS, TRAIN_SEED, make_model

Call = Callable[[], float]
Stat = Callable[[np.ndarray, np.ndarray, int], float]

# -- group metrics ---------------------------------------------------------------------------------------


def floor_dp(pred: np.ndarray, g: np.ndarray, k: int) -> float:
    c = np.bincount(g, minlength=k)
    s = np.bincount(g, weights=pred, minlength=k)
    r = s[c > 0] / c[c > 0]
    return float(r.max() - r.min())


def floor_eo(codes: np.ndarray, pred: np.ndarray, k: int) -> float:
    c = np.bincount(codes, minlength=2 * k).reshape(k, 2)
    h = np.bincount(codes, weights=pred, minlength=2 * k).reshape(k, 2)
    present = c.sum(axis=1) > 0
    out = 0.0
    for cls in (1, 0):
        r = np.divide(h[:, cls], c[:, cls], out=np.zeros(k), where=c[:, cls] > 0)[present]
        out = max(out, float(r.max() - r.min()))
    return out


def floor_smd(pred: np.ndarray, g: np.ndarray, k: int) -> float:
    """Standardized mean difference: the mean gap (two bincounts) over the pooled within-group sd, whose
    squares are one gather of the group means and two in-place passes (as the library's formula, bit for bit)."""
    c = np.bincount(g, minlength=k)
    m = np.bincount(g, weights=pred, minlength=k) / np.maximum(c, 1)  # an empty group's 0 is never gathered
    gap = float(m[c > 0].max() - m[c > 0].min())
    if gap == 0.0:
        return 0.0
    d = m[g]
    np.square(np.subtract(pred, d, out=d), out=d)
    dof = len(g) - np.count_nonzero(c)
    sd = math.sqrt(float(d.sum()) / dof) if dof > 0 else 0.0
    return gap / sd if sd > 0 else math.inf


def group_rows(n: int, pairs: int, kinds: list[str]) -> list[dict[str, Any]]:
    from causaltrust.audit import _fairness
    from causaltrust.audit._fairness import (
        demographic_parity_difference,
        equalized_odds_difference,
        mean_difference,
        standardized_mean_difference,
    )

    def _eo_resample(codes: np.ndarray, pred: np.ndarray, k: int, i: np.ndarray) -> float:
        if hasattr(_fairness, "_eo_resample"):  # this version's bootstrap statistic
            return float(_fairness._eo_resample(codes, pred, k, i))
        return equalized_odds_difference(y[i], pred[i], g[i], k)  # before issue 30: three gathers

    rng = np.random.default_rng(0)
    g = (rng.random(n) < 0.4).astype(np.int64)
    y = (rng.random(n) < 0.45).astype(np.float64)
    pred = (rng.random(n) < 0.5 + 0.2 * g).astype(np.float64)
    codes = 2 * g + (y == 1)
    idx = rng.integers(0, n, n)
    # A regressor's predictions: continuous, their mean shifted by group (as the audit's model scores).
    score = rng.standard_normal(n) + 0.3 * g

    def both_forms(label: str, ours: Stat, floor: Stat, values: np.ndarray) -> dict[str, tuple[Call, Call]]:
        """The statistic on every unit, and the audit's bootstrap form: a resample's gathers, then the statistic."""
        return {
            f"{label}, all units": (lambda: ours(values, g, 2), lambda: floor(values, g, 2)),
            f"{label}, one bootstrap resample": (
                lambda: ours(values[idx], g[idx], 2),
                lambda: floor(values[idx], g[idx], 2),
            ),
        }

    cases: dict[str, tuple[Call, Call]] = {}
    if "classification" in kinds:
        cases |= both_forms("demographic parity", demographic_parity_difference, floor_dp, pred)
        cases |= {
            "equalized odds, all units": (
                lambda: equalized_odds_difference(y, pred, g, 2),
                lambda: floor_eo(2 * g + (y == 1), pred, 2),
            ),
            "equalized odds, one bootstrap resample": (
                lambda: _eo_resample(codes, pred, 2, idx),
                lambda: floor_eo(codes[idx], pred[idx], 2),
            ),
        }
    if "regression" in kinds:
        # The mean difference's floor is the selection-rate gap's: max - min of per-group means.
        cases |= both_forms("mean difference", mean_difference, floor_dp, score)
        cases |= both_forms("standardized mean difference", standardized_mean_difference, floor_smd, score)
    rows = []
    for label, (ours, floor) in cases.items():
        same = ours() == floor()
        t = paired_cpu(ours, floor, pairs)
        rows.append(
            {"case": label, "rows": n, "causaltrust": t.library, "floor": t.floor, "ratio": t.ratio,
             "ratio_q1": t.ratio_q1, "ratio_q3": t.ratio_q3, "equal": bool(same)}
        )  # fmt: skip
        print(f"  {label:<52} n={n:>9,}  {t.library:.3g} s vs floor {t.floor:.3g} s: {t.ratio:.2f}x "
              f"{t.spread}  equal {same}", flush=True)  # fmt: skip
    return rows


# -- audit growth ----------------------------------------------------------------------------------------


def audit_rows(sizes: list[int], objectives: list[str]) -> list[dict[str, Any]]:
    import causaltrust as ct

    spec, scm = ct.scenarios.load("readmission")
    train = scm.sample(TRAIN_ROWS, random_state=TRAIN_SEED).drop(columns=list(scm.latent))
    model = make_model(spec, train)
    # warm every path once on a small sample
    ct.audit(model, spec=spec, scm=scm, data=scm.sample(500, random_state=3), train_data=train, n_shadow=0)
    rows = []
    for n in sizes:
        test = scm.sample(n, random_state=2).drop(columns=list(scm.latent))
        for objective in objectives:
            tracemalloc.start()
            c0, t0 = time.process_time(), time.perf_counter()
            ct.audit(
                model, spec=spec, scm=scm, data=test, train_data=train, objectives=[objective], n_shadow=0
            )
            cpu, wall = time.process_time() - c0, time.perf_counter() - t0
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            rows.append({"objective": objective, "rows": n, "cpu": cpu, "wall": wall, "peak_mib": peak})
            print(f"  audit {objective:<15} n={n:>9,}  CPU {cpu:8.2f} s  wall {wall:8.2f} s  peak {peak:8.1f} MiB",
                  flush=True)  # fmt: skip
    return rows


def growth_table(rows: list[dict[str, Any]]) -> str:
    sizes = sorted({r["rows"] for r in rows})
    by = {(r["objective"], r["rows"]): r for r in rows}
    head = ["objective", *[f"CPU s at {n:,}" for n in sizes]]
    head += [f"exponent {a:,}→{b:,}" for a, b in itertools.pairwise(sizes)]
    head += [f"peak MiB at {n:,}" for n in sizes]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for obj in [*OBJECTIVES, "all five (sum)"]:
        if obj == "all five (sum)":
            cpu = {n: sum(by[(o, n)]["cpu"] for o in OBJECTIVES) for n in sizes}
            peak = {n: max(by[(o, n)]["peak_mib"] for o in OBJECTIVES) for n in sizes}
        else:
            cpu = {n: by[(obj, n)]["cpu"] for n in sizes}
            peak = {n: by[(obj, n)]["peak_mib"] for n in sizes}
        exps = [math.log(cpu[b] / cpu[a]) / math.log(b / a) for a, b in itertools.pairwise(sizes)]
        cells = [obj, *[f"{cpu[n]:.2f}" for n in sizes], *[f"{e:.2f}" for e in exps]]
        cells += [f"{peak[n]:.0f}" for n in sizes]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--pairs", type=int, default=15, help="interleaved pairs per group-metric timing")
    ap.add_argument(
        "--cases",
        nargs="+",
        default=["classification", "regression"],
        choices=["classification", "regression"],
        help="which group metrics to time",
    )
    ap.add_argument("--json", default=None)
    ap.add_argument("--skip-audit", action="store_true")
    ap.add_argument("--skip-group", action="store_true")
    ap.add_argument("--objectives", nargs="+", default=list(OBJECTIVES), choices=OBJECTIVES)
    args = ap.parse_args()
    out: dict[str, Any] = {}
    if not args.skip_group:
        print(f"group metrics: {args.pairs} interleaved pairs, CPU seconds (process_time), medians; {load()}")
        out["group"] = [r for n in (100_000, 1_000_000) for r in group_rows(n, args.pairs, args.cases)]
        print(
            "\n| metric | rows | causaltrust CPU s | floor CPU s | ratio (quartiles) | equal to the floor |"
        )
        print("|---|---|---|---|---|---|")
        for r in out["group"]:
            print(f"| {r['case']} | {r['rows']:,} | {r['causaltrust']:.3g} | {r['floor']:.3g} | "
                  f"{r['ratio']:.2f}x [{r['ratio_q1']:.2f}, {r['ratio_q3']:.2f}] | {r['equal']} |")  # fmt: skip
        print(load())
    if not args.skip_audit:
        out["audit"] = audit_rows(args.rows, args.objectives)
        if list(args.objectives) == list(OBJECTIVES):
            print()
            print(growth_table(out["audit"]))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
