"""Learners side by side on the readmission scenario, and the flagship's fit cost against its base estimator.

Run: ``.venv/bin/python benchmarks/learners.py [--rows 20000] [--fit-rows 100000] [--no-write]``.
Writes the ``## Learners`` section of benchmarks/RESULTS.md (other sections are kept).
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sklearn.linear_model import LogisticRegression

import _results
import causaltrust as ct
from causaltrust.learners._base import Design, columns_with_unseen

RESULTS = Path(__file__).with_name("RESULTS.md")
HEAD = [
    ("accuracy.observational", "obs acc"),
    ("accuracy.shift[new_device]", "new device"),
    ("accuracy.shift_adapted[new_device]", "new device, adapted"),
    ("accuracy.shift[new_hospital]", "new hospital"),
    ("accuracy.fair_world", "fair world"),
    ("fairness.demographic_parity_difference", "DP diff"),
    ("fairness.unfair_path_effect", "unfair path"),
    ("fairness.fair_path_effect", "fair path"),
    ("robustness.spurious_path_effect", "spurious"),
    ("robustness.spurious_path_effect_adapted", "spurious, adapted"),
]


def _fmt(x: float) -> str:
    return "n/a" if x != x else f"{x:.3f}"  # NaN: the model cannot use unlabeled target rows


def methods(spec: Any, scm: Any) -> dict[str, Callable[[], Any]]:
    """Factories of every learner compared (baselines get one-hot categorical features)."""
    L = ct.learners
    out: dict[str, Callable[[], Any]] = {
        "ERM": lambda: L.ERMClassifier(spec=spec),
        "unaware": lambda: L.UnawareClassifier(spec=spec),
        "fairlearn EG (DP)": lambda: L.ReductionsClassifier(spec=spec, constraint="demographic_parity"),
        "fairlearn EG (EO)": lambda: L.ReductionsClassifier(spec=spec, constraint="equalized_odds"),
        "ThresholdOptimizer (DP)": lambda: L.ThresholdOptimizerClassifier(spec=spec, random_state=0),
        "counterfactual fair (Kusner L3)": lambda: L.CounterfactualFairClassifier(spec=spec, scm=scm),
        "counterfactual augmentation": lambda: L.CounterfactualAugmentationClassifier(spec=spec, scm=scm),
        "counterfactual fair (SCM fitted on train)": lambda: L.CounterfactualFairClassifier(spec=spec),
        "counterfactual augmentation (SCM fitted on train)": lambda: L.CounterfactualAugmentationClassifier(
            spec=spec
        ),
        "input noise": lambda: L.InputNoiseClassifier(spec=spec, random_state=0),
    }
    for name in ("IRMClassifier", "VRExClassifier", "GroupDROClassifier"):
        cls = getattr(L, name, None)
        if cls is not None:
            out[name.removesuffix("Classifier")] = lambda cls=cls: cls(spec=spec, random_state=0)
    out["selective (true SCM)"] = lambda: L.SelectiveInvarianceClassifier(spec=spec, scm=scm, random_state=0)
    out["selective (SCM fitted on train)"] = lambda: L.SelectiveInvarianceClassifier(
        spec=spec, random_state=0
    )
    # Ablations: what each invariance buys on its own.
    out["selective, fairness only"] = lambda: L.SelectiveInvarianceClassifier(
        spec=spec, scm=scm, robustness=False, random_state=0
    )
    out["selective, robustness only"] = lambda: L.SelectiveInvarianceClassifier(
        spec=spec, scm=scm, fairness=False, random_state=0
    )
    out["selective, observed labels"] = lambda: L.SelectiveInvarianceClassifier(
        spec=spec, scm=scm, fair_labels=False, random_state=0
    )
    out["selective + DP-LR (eps=1)"] = lambda: L.SelectiveInvarianceClassifier(
        spec=spec,
        scm=scm,
        estimator=L.DPLogisticRegression(target_epsilon=1.0, random_state=0),
        random_state=0,
    )
    return out


def side_by_side(rows: int) -> tuple[list[str], dict[str, dict[str, float]]]:
    spec, scm = ct.scenarios.load("readmission")
    train, test = scm.sample(rows, random_state=1), scm.sample(rows, random_state=2)
    X, y = train[spec.features], train[spec.target]
    table: dict[str, dict[str, float]] = {}
    for name, make in methods(spec, scm).items():
        t0 = time.perf_counter()
        model = make().fit(X, y)
        fit_s = time.perf_counter() - t0
        objectives = ["accuracy", "fairness", "robustness"]
        rep = ct.audit(model, spec=spec, scm=scm, data=test, objectives=objectives, n_bootstrap=50)
        row = {key: rep.metric(key).value for key, _ in HEAD}
        row["fit_s"] = fit_s
        table[name] = row
        print(
            f"{name:34s} " + " ".join(f"{row[k]:7.3f}" for k, _ in HEAD) + f"  fit {fit_s:6.2f}s", flush=True
        )
    lines = [
        "| method | " + " | ".join(h for _, h in HEAD) + " | fit (s) |",
        "|---|" + "---|" * (len(HEAD) + 1),
    ]
    for name, row in table.items():
        lines.append(f"| {name} | " + " | ".join(_fmt(row[k]) for k, _ in HEAD) + f" | {row['fit_s']:.2f} |")
    return lines, table


def fit_cost(rows: int, repeats: int) -> list[str]:
    spec, scm = ct.scenarios.load("readmission")
    train = scm.sample(rows, random_state=1)
    X, y = train[spec.features], train[spec.target]

    def best(f: Callable[[], Any]) -> float:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            f()
            times.append(time.perf_counter() - t0)
        return min(times)

    cols = columns_with_unseen(X, scm.meta, spec.features, "bench")
    Z = Design(scm.meta, spec.features).fit(cols).transform(cols)
    base = best(lambda: LogisticRegression(max_iter=1000).fit(Z, y))
    flag = best(
        lambda: ct.learners.SelectiveInvarianceClassifier(spec=spec, scm=scm, random_state=0).fit(X, y)
    )
    scm_fit = best(lambda: ct.SCM.fit(spec, train.drop(columns="L"), random_state=0))
    scm_fit_lin = best(lambda: ct.SCM.fit(spec, train.drop(columns="L"), random_state=0, mechanisms="linear"))
    return [
        f"Fit cost at {rows:,} rows (best of {repeats}):",
        "",
        "| fit | seconds | / base estimator |",
        "|---|---|---|",
        f"| LogisticRegression on the one-hot features (base) | {base:.3f} | 1.00x |",
        f"| SelectiveInvarianceClassifier, SCM given (default n_draws=4) | {flag:.3f} | {flag / base:.2f}x |",
        f"| SCM.fit (auto: CV linear vs boosting), reported separately | {scm_fit:.3f} | {scm_fit / base:.2f}x |",
        f"| SCM.fit (linear) | {scm_fit_lin:.3f} | {scm_fit_lin / base:.2f}x |",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--fit-rows", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--heading", default="## Learners", help="the RESULTS.md section to write")
    args = ap.parse_args()
    lines, table = side_by_side(args.rows)
    erm = table["ERM"]
    eg = table["fairlearn EG (DP)"]
    sel = table["selective (SCM fitted on train)"]
    obs, dp, unfair = (
        "accuracy.observational",
        "fairness.demographic_parity_difference",
        "fairness.unfair_path_effect",
    )
    spur, dev, fw = "robustness.spurious_path_effect", "accuracy.shift[new_device]", "accuracy.fair_world"
    spur_a, dev_a = "robustness.spurious_path_effect_adapted", "accuracy.shift_adapted[new_device]"
    eg_cost = erm[obs] - eg[obs]
    sel_cost = erm[obs] - sel[obs]
    headline = [
        f"- ERM → fairlearn EG (DP): DP difference {erm[dp]:.3f} → {eg[dp]:.3f}, accuracy {erm[obs]:.3f} → "
        f"{eg[obs]:.3f} (−{eg_cost:.3f}); fair-world accuracy {eg[fw]:.3f}.",
        f"- ERM → selective invariance (SCM fitted on the training rows): unfair-path effect {erm[unfair]:.3f} → "
        f"{sel[unfair]:.3f}, spurious-path effect {erm[spur]:.3f} → {sel[spur]:.3f} without target data and "
        f"{sel[spur_a]:.3f} adapted on unlabeled new-device rows, accuracy {erm[obs]:.3f} → {sel[obs]:.3f} "
        f"(−{sel_cost:.3f}: {sel_cost / max(eg_cost, 1e-9):.2f}x the cost EG pays), new-device accuracy "
        f"{erm[dev]:.3f} → {sel[dev]:.3f} without target data and {sel[dev_a]:.3f} adapted (ERM cannot adapt), "
        f"fair-world accuracy {erm[fw]:.3f} → {sel[fw]:.3f}.",
    ]
    true_sel = table["selective (true SCM)"]
    claims = [
        ("unfair-path effect of the fitted flagship ≤ 0.02", abs(sel[unfair]) <= 0.02, f"{sel[unfair]:.3f}"),
        (
            "spurious-path effect ≤ 0.01 with unlabeled new-device rows (adapted)",
            abs(sel[spur_a]) <= 0.01,
            f"{sel[spur_a]:.3f}",
        ),
        ("spurious-path effect ≤ 0.01 without target data", abs(sel[spur]) <= 0.01, f"{sel[spur]:.3f}"),
        (
            "accuracy cost below half of fairlearn EG (DP)'s",
            sel_cost < 0.5 * eg_cost,
            f"{sel_cost:.3f} vs {eg_cost:.3f}",
        ),
        (
            "new-device accuracy above ERM's by ≥ 3 points with unlabeled new-device rows (ERM cannot use them; "
            "like-with-like baselines that can: section 'Robustness in two regimes: readmission')",
            sel[dev_a] >= erm[dev] + 0.03,
            f"{sel[dev_a]:.3f} vs {erm[dev]:.3f}",
        ),
        (
            "new-device accuracy above ERM's by ≥ 3 points without target data",
            sel[dev] >= erm[dev] + 0.03,
            f"{sel[dev]:.3f} vs {erm[dev]:.3f}",
        ),
        ("fair-world accuracy above ERM's", sel[fw] > erm[fw], f"{sel[fw]:.3f} vs {erm[fw]:.3f}"),
        (
            "fitted flagship within 0.005 of the true-SCM flagship on every column",
            all(abs(sel[k] - true_sel[k]) <= 0.005 for k, _ in HEAD if sel[k] == sel[k]),
            "max gap " + f"{max(abs(sel[k] - true_sel[k]) for k, _ in HEAD if sel[k] == sel[k]):.3f}",
        ),
    ]
    headline += ["", "Readmission claims with the SCM learned from structure (training rows only):", ""]
    headline += [f"- {'holds' if ok else 'does NOT hold'}: {text} ({val})" for text, ok, val in claims]
    cost = fit_cost(args.fit_rows, args.repeats) if args.fit_rows else []
    load = os.getloadavg()
    section = [
        args.heading,
        "",
        f"Readmission scenario, {args.rows:,} training and {args.rows:,} test rows (seeds 1 and 2), every "
        "model audited against the true SCM (50 bootstrap resamples). Effects are on the model's probability; DP "
        "difference is fairlearn's demographic parity difference of the decisions.",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: nproc {os.cpu_count()}, load average "
        f"{load[0]:.2f}; Python {platform.python_version()}, causaltrust {ct.__version__}",
        f"- Command: `.venv/bin/python benchmarks/learners.py {shlex.join(sys.argv[1:])}`".rstrip(),
        "",
        *lines,
        "",
        "Headline:",
        "",
        *headline,
        "",
        *cost,
        "",
    ]
    print("\n".join([*headline, "", *cost]))
    if not args.no_write:
        _results.write_section("\n".join(section))
        print(f"wrote the '{args.heading}' section of {RESULTS}")


if __name__ == "__main__":
    main()
