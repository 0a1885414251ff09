"""What a DP SCM costs the selective learner (issue 33): ε for the whole pipeline against accuracy and fairness.

    PYTHONPATH=src python benchmarks/dp_scm.py [--seeds 3] [--rows 5000]

Readmission, ``--rows`` training and test rows per seed. Every configuration is
``SelectiveInvarianceClassifier(spec, estimator=DPLogisticRegression(target_epsilon=1))`` (DP-SGD at row-level
ε = 1, δ = 1e-5); only the SCM that maps the units changes:

* ``true SCM``: the scenario's own (a given SCM costs the training rows nothing): the ceiling;
* ``SCM.fit`` (linear): fitted on the training rows without DP: ``privacy.epsilon`` is NaN;
* ``DPLinearFit(ε_scm)``: fitted on the training rows under DP (public bounds F in [-4, 4], X in [-6, 8]);
  ``privacy.epsilon`` is one RDP accountant over the SCM's releases and DP-SGD's steps.

Audited against the true SCM on the test rows: accuracy (observed labels, and the true fair-world labels the
learner is trained to predict), ``fairness.unfair_path_effect_abs`` (per unit:
closer to 0 is better) and ``privacy.epsilon``; mean ± sd over the seeds and the CPU seconds of each fit.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from typing import Any

import numpy as np

import causaltrust as ct
from causaltrust.learners import DPLogisticRegression, SelectiveInvarianceClassifier
from causaltrust.scm import DPLinearFit

BOUNDS = {"F": (-4.0, 4.0), "X": (-6.0, 8.0)}
METRICS = (
    "accuracy.observational",
    "accuracy.fair_world",
    "fairness.unfair_path_effect_abs",
    "privacy.epsilon",
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--rows", type=int, default=5000)
    ap.add_argument("--scm-epsilons", type=float, nargs="+", default=[0.1, 0.5, 1.0, 4.0])
    args = ap.parse_args()
    warnings.filterwarnings("ignore", message="Optimal order")
    spec, true = ct.scenarios.load("readmission")
    configs: list[tuple[str, Any]] = [("true SCM", true), ("SCM.fit (linear, no DP)", None)]
    configs += [
        (f"DPLinearFit(ε_scm = {e:g})", DPLinearFit(epsilon=e, bounds=BOUNDS)) for e in args.scm_epsilons
    ]
    print(f"| SCM | {' | '.join(METRICS)} | fit CPU s |\n|---|" + "---|" * (len(METRICS) + 1))
    for name, scm in configs:
        vals: dict[str, list[float]] = {m: [] for m in METRICS}
        cpu = 0.0
        for seed in range(args.seeds):
            train = true.sample(args.rows, random_state=100 + seed)
            test = true.sample(args.rows, random_state=200 + seed)
            est = DPLogisticRegression(target_epsilon=1.0)
            kw: dict[str, Any] = {"scm": scm} if scm is not None else {"scm_mechanisms": "linear"}
            clf = SelectiveInvarianceClassifier(spec=spec, estimator=est, n_draws=1, random_state=seed, **kw)
            t = time.process_time()
            clf.fit(train[spec.features], train[spec.target])
            cpu += (time.process_time() - t) / args.seeds
            rep = ct.audit(
                clf, spec=spec, scm=true, data=test, objectives=["accuracy", "fairness", "privacy"],
                n_shadow=0, n_bootstrap=10, random_state=seed,
            )  # fmt: skip
            for m in METRICS:
                vals[m].append(rep.metric(m).value)
        cells = []
        for m in METRICS:
            v = np.asarray(vals[m])
            cells.append(
                "NaN"
                if np.isnan(v).any()
                else f"{v.mean():.4f} ± {v.std(ddof=1) if len(v) > 1 else math.nan:.4f}"
            )
        print(f"| {name} | " + " | ".join(cells) + f" | {cpu:.1f} |", flush=True)


if __name__ == "__main__":
    main()
