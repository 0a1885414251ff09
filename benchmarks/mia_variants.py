"""Why the shadow attack misses a full tree at 1% FPR (issue 33): four likelihood-ratio variants, same shadows.

    PYTHONPATH=src python benchmarks/mia_variants.py

Readmission, 500 members (training rows) and 500 non-members (test rows); per model and number of shadows
(trained on balanced halves of the 1,000 points, as the audit does), AUC and TPR at 1% FPR of

* ``LiRA``: the audit's scores (``causaltrust.audit.privacy.lira_scores``: per-example means, one global
  variance below 64 shadows, per-example variances from 64);
* ``shrunk``: per-example means, per-example variances shrunk towards the global one (4 pseudo-shadows);
* ``offline``: the one-sided OUT test, -log P_out(φ >= φ_target) under the shrunk Gaussian;
* ``empirical``: per-example shares of IN and OUT shadows with φ >= φ_target (add-half smoothing).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

import causaltrust as ct
from causaltrust.audit.privacy import lira_scores, tpr_at_fpr
from causaltrust.audit.privacy._membership import balanced_assignment

N = 500
PSEUDO = 4.0  # pseudo-shadows of the global variance in the shrunk per-example variance


def _phi(model: Any, X: pd.DataFrame, y: np.ndarray) -> np.ndarray:
    p = model.predict_proba(X)[:, 1]
    p_y = np.clip(np.where(y == 1, p, 1 - p), 1e-6, 1 - 1e-6)  # the audit's clip (logit within ±13.8)
    out: np.ndarray = np.log(p_y) - np.log1p(-p_y)
    return out


def _shrunk(phi: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c = mask.sum(axis=0)
    mu = np.where(mask, phi, 0.0).sum(axis=0) / c
    sq = (np.where(mask, phi - mu, 0.0) ** 2).sum(axis=0)
    pooled = sq.sum() / (c - 1).sum()
    return mu, np.maximum((sq + PSEUDO * pooled) / (c - 1 + PSEUDO), 1e-6)


def main() -> None:
    spec, scm = ct.scenarios.load("readmission")
    train, test = scm.sample(N, random_state=1), scm.sample(N, random_state=2)
    pool = pd.concat([train, test], ignore_index=True)
    X, y_raw = pool[spec.features], pool[spec.target]
    y = y_raw.to_numpy(dtype=float)
    member = np.r_[np.ones(N), np.zeros(N)]
    models: list[tuple[str, Any]] = [
        ("full tree", DecisionTreeClassifier(random_state=0)),
        ("1-NN", KNeighborsClassifier(1)),
        ("forest (min_samples_leaf=1)", RandomForestClassifier(100, random_state=0)),
        ("LR (C = 0.1)", LogisticRegression(C=0.1, max_iter=1000)),
    ]
    print(
        "| model | shadows | shadow CPU s | LiRA | shrunk | offline | empirical |\n|---|---|---|---|---|---|---|"
    )
    for name, proto in models:
        target = clone(proto).fit(train[spec.features], train[spec.target])
        phi_t = _phi(target, X, y)
        rng = np.random.default_rng(0)
        for shadows in (8, 16, 64):
            t = time.process_time()
            keep = balanced_assignment(shadows, len(pool), rng)
            phi = np.empty((shadows, len(pool)))
            for k in range(shadows):
                est = clone(proto)
                if "random_state" in est.get_params():
                    est.set_params(random_state=k + 1)
                phi[k] = _phi(est.fit(X[keep[k]], y_raw[keep[k]]), X, y)
            cpu = time.process_time() - t
            mu_in, var_in = _shrunk(phi, keep)
            mu_out, var_out = _shrunk(phi, ~keep)
            hit = phi >= phi_t - 1e-9
            k_in, k_out = (hit & keep).sum(axis=0), (hit & ~keep).sum(axis=0)
            n_in, n_out = keep.sum(axis=0), (~keep).sum(axis=0)
            scores = [
                lira_scores(phi, keep, phi_t, per_example_variance=shadows >= 64),
                0.5 * (
                    np.log(var_out) - np.log(var_in)
                    + (phi_t - mu_out) ** 2 / var_out - (phi_t - mu_in) ** 2 / var_in
                ),
                -norm.logsf(phi_t, mu_out, np.sqrt(var_out)),
                np.log((k_in + 0.5) / (n_in + 1)) - np.log((k_out + 0.5) / (n_out + 1)),
            ]  # fmt: skip
            cells = []
            for s in scores:
                fpr, tpr, _ = roc_curve(member, s, drop_intermediate=False)
                cells.append(f"{roc_auc_score(member, s):.3f} / {tpr_at_fpr(fpr, tpr, 0.01):.3f}")
            print(f"| {name} | {shadows} | {cpu:.1f} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
