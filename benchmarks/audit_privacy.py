"""Time the privacy family of an audit on the readmission scenario.

    .venv/bin/python benchmarks/audit_privacy.py [--rows 10000] [--shadows 16] [--repeats 3]

The shadow attack is compared with its floor in the same run: the same number of bare scikit-learn
``clone().fit()`` calls on half of the pooled points plus ``predict_proba`` on all of them, which any
shadow-model implementation (ART's ``ShadowModels``, privacy-meter) must also pay. No peer library for
LiRA is pinned in ``constraints-peers.txt``, so the floor is the reference and the ratio is causaltrust's
overhead (Gaussian fits, ROC, bootstrap). Each cell is the best of --repeats runs; imports, sampling and
``build_context`` stay outside the timer.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

import causaltrust as ct
from causaltrust.audit import AuditContext, AuditOptions, build_context
from causaltrust.audit.privacy import privacy_metrics
from causaltrust.audit.privacy._losses import model_outputs, target_values
from causaltrust.audit.privacy._membership import shadow_metrics


def best_of(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000, help="training rows and test rows (each)")
    ap.add_argument("--shadows", type=int, default=16)
    ap.add_argument("--bootstrap", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    spec, scm = ct.scenarios.load("readmission")
    train = scm.sample(args.rows, random_state=1)
    test = scm.sample(args.rows, random_state=2)
    model = LogisticRegression().fit(train[spec.features], train[spec.target])
    options = AuditOptions(n_bootstrap=args.bootstrap, n_shadow=args.shadows)

    def ctx() -> AuditContext:
        return build_context(model, spec=spec, scm=scm, data=test, train_data=train, options=options)

    contexts = [ctx() for _ in range(3 * args.repeats)]  # fresh notes per run; built outside the timer
    adapter, meta = contexts[0].model, scm.meta
    members = model_outputs(adapter, train[spec.features], target_values(train, meta, spec.target, "train"))
    non_members = model_outputs(adapter, test[spec.features], target_values(test, meta, spec.target, "test"))

    pooled = np.r_[np.arange(args.rows), np.arange(args.rows)]  # same size as the attack's pooled points
    X = train[spec.features].iloc[pooled % args.rows]
    y = train[spec.target].iloc[pooled % args.rows]
    rng = np.random.default_rng(0)

    def floor() -> None:
        for _ in range(args.shadows):
            half = rng.permutation(len(X))[: len(X) // 2]
            est = clone(model).fit(X.iloc[half], y.iloc[half])
            est.predict_proba(X)

    it = iter(contexts)
    t_floor = best_of(floor, args.repeats)
    t_shadow = best_of(lambda: shadow_metrics(next(it), members, non_members), args.repeats)
    t_family = best_of(lambda: privacy_metrics(next(it)), args.repeats)
    print(
        f"readmission, LogisticRegression, {args.rows} train + {args.rows} test rows, {args.shadows} "
        f"shadows, {args.bootstrap} bootstrap resamples (best of {args.repeats})"
    )
    rows = [
        ("floor: bare clone/fit/predict_proba", t_floor),
        ("causaltrust shadow attack (3 metrics)", t_shadow),
        ("causaltrust privacy_metrics (all 6)", t_family),
    ]
    for label, t in rows:
        print(f"{label:40s} {t:8.2f} s   x{t / t_floor:.2f} of the floor")


if __name__ == "__main__":
    main()
