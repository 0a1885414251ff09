"""Recourse with each unit's noise abducted once (session 5) against the code before it, same cell.

Run this file once with the old source and once with the new one on ``PYTHONPATH``, alternately; each run
prints the median CPU seconds of three explainability audits of ERM on readmission and the recourse metrics:

    OMP_NUM_THREADS=1 PYTHONPATH=<old checkout>/src .venv/bin/python benchmarks/recourse_world.py before
    OMP_NUM_THREADS=1 PYTHONPATH=src .venv/bin/python benchmarks/recourse_world.py after
"""

from __future__ import annotations

import sys
import time

import numpy as np

import causaltrust as ct
from causaltrust.learners import ERMClassifier

METRICS = ("explainability.recourse_validity", "explainability.recourse_cost")


def main(label: str) -> None:
    spec, scm = ct.scenarios.load("readmission")
    train, test = scm.sample(5000, random_state=1), scm.sample(5000, random_state=2)
    model = ERMClassifier(spec).fit(train[spec.features], train[spec.target])

    def audit() -> ct.TrustReport:
        return ct.audit(
            model,
            spec=spec,
            scm=scm,
            data=test,
            objectives=["explainability"],
            n_bootstrap=20,
            recourse_units=100,
        )

    audit()  # warm-up: imports and caches
    times = []
    for _ in range(3):
        start = time.process_time()
        rep = audit()
        times.append(time.process_time() - start)
    values = {k: round(float(rep.metric(k).value), 6) for k in METRICS}
    print(label, "median CPU s", round(float(np.median(times)), 3), values)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "run")
