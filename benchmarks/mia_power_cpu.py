"""The shadow attack's power per CPU second (issue 33, day 3): which scorer and how many shadows by default.

    PYTHONPATH=src python benchmarks/mia_power_cpu.py [--seeds 3] [--rows 500]

Readmission, ``--rows`` members (training rows) and as many non-members (test rows), per data seed; per
model and number of shadows (trained on balanced halves of the pooled points, as the audit does) the same
shadows are scored four ways:

* ``LiRA``: per-example means, one global variance per side (the audit's scorer before day 3);
* ``LiRA per-ex``: per-example variances (Carlini et al.'s online attack; unstable below ~64 shadows);
* ``offline``: the one-sided OUT test with a global variance (LiRA's offline, fixed-variance variant);
* ``RMIA``: log p_target(true label) - log mean over all shadows (Zarifzadeh et al. 2024, online), the
  audit's scorer for classifiers since day 3 (``causaltrust.audit.privacy.rmia_scores``).

Prints mean AUC and TPR at 1% FPR over the seeds, the shadows' CPU seconds per audit (``time.process_time``,
shared by all four scorers) and the TPR at 1% FPR per CPU second of shadows.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.tree import DecisionTreeClassifier

import causaltrust as ct
from causaltrust.audit.privacy import lira_scores, memorising_forest, rmia_scores, tpr_at_fpr
from causaltrust.audit.privacy._losses import CLIP
from causaltrust.audit.privacy._membership import balanced_assignment

SCORERS = ("LiRA", "LiRA per-ex", "offline", "RMIA")


def _p_true(model: Any, X: pd.DataFrame, y: np.ndarray) -> np.ndarray:
    p = model.predict_proba(X)[:, 1]
    out: np.ndarray = np.clip(np.where(y == 1, p, 1 - p), CLIP, 1 - CLIP)  # the audit's clip
    return out


def _scores(P: np.ndarray, keep: np.ndarray, p_t: np.ndarray) -> list[np.ndarray]:
    phi, phi_t = np.log(P) - np.log1p(-P), np.log(p_t) - np.log1p(-p_t)
    out = ~keep
    mu_out = np.where(out, phi, 0.0).sum(axis=0) / out.sum(axis=0)
    var_out = (np.where(out, phi - mu_out, 0.0) ** 2).sum() / (out.sum(axis=0) - 1).sum()
    return [
        lira_scores(phi, keep, phi_t),
        lira_scores(phi, keep, phi_t, per_example_variance=True),
        -norm.logsf(phi_t, mu_out, np.sqrt(var_out)),
        rmia_scores(P, p_t),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--rows", type=int, default=500)
    ap.add_argument("--shadows", type=int, nargs="+", default=[4, 8, 16, 64])
    args = ap.parse_args()
    spec, scm = ct.scenarios.load("readmission")
    n = args.rows
    models: list[tuple[str, Any]] = [
        ("forest (100 trees, min_samples_leaf=1)", RandomForestClassifier(100, random_state=0)),
        ("canary forest (25 trees)", memorising_forest(list(spec.features), 0)),
        ("full tree", DecisionTreeClassifier(random_state=0)),
        ("LR (C = 0.1)", LogisticRegression(C=0.1, max_iter=1000)),
    ]
    print(
        "| model | shadows | shadow CPU s | "
        + " | ".join(f"{s} AUC / TPR@1% (TPR per CPU s)" for s in SCORERS)
        + " |\n|---|---|---|"
        + "---|" * len(SCORERS)
    )
    member = np.r_[np.ones(n), np.zeros(n)]
    for name, proto in models:
        for shadows in args.shadows:
            auc, tpr, cpu = np.zeros(len(SCORERS)), np.zeros(len(SCORERS)), 0.0
            for seed in range(args.seeds):
                train, test = (
                    scm.sample(n, random_state=1 + 10 * seed),
                    scm.sample(n, random_state=2 + 10 * seed),
                )
                pool = pd.concat([train, test], ignore_index=True)
                X, y_raw = pool[spec.features], pool[spec.target]
                y = y_raw.to_numpy(dtype=float)
                p_t = _p_true(clone(proto).fit(train[spec.features], train[spec.target]), X, y)
                rng = np.random.default_rng(seed)
                t = time.process_time()
                keep = balanced_assignment(shadows, len(pool), rng)
                P = np.empty((shadows, len(pool)))
                for k in range(shadows):
                    est = clone(proto)
                    est.set_params(**{p: k + 1 for p in est.get_params() if p.endswith("random_state")})
                    P[k] = _p_true(est.fit(X[keep[k]], y_raw[keep[k]]), X, y)
                cpu += (time.process_time() - t) / args.seeds
                for j, s in enumerate(_scores(P, keep, p_t)):
                    fpr, tp, _ = roc_curve(member, s, drop_intermediate=False)
                    auc[j] += roc_auc_score(member, s) / args.seeds
                    tpr[j] += tpr_at_fpr(fpr, tp, 0.01) / args.seeds
            cells = [f"{a:.3f} / {t:.3f} ({t / cpu:.2f})" for a, t in zip(auc, tpr, strict=True)]
            print(f"| {name} | {shadows} | {cpu:.2f} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
