"""Worst-environment accuracy of IRM, V-REx and GroupDRO against pooled ERM (same network), with fit times.

    .venv/bin/python benchmarks/learners_invariance.py [--hidden 0|32] [--seeds 0,1,2]

Two settings: the "colored" synthetic task of the tests (spurious feature agreeing with the label 90% and 80%
of the time in the training environments and 10% in the held-out one; invariant feature 75% everywhere) and
the readmission scenario audited with ``ct.audit`` (worst hospital accuracy and accuracy under the
``new_device`` shift). There is no peer implementation in this environment (DomainBed is a research
codebase, not a package), so ERM with the same architecture is the reference. Times are wall-clock fits on
one torch thread, informative only on the machine that printed them.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import causaltrust as ct
from causaltrust.learners._invariance import (
    GroupDROClassifier,
    IRMClassifier,
    TorchERMClassifier,
    VRExClassifier,
)

# The "colored" task of tests/learners/test_invariance.py.
COLORED = {
    "name": "colored",
    "target": "Y",
    "features": ["E", "C", "S", "N"],
    "variables": {
        "E": {"type": "categorical", "categories": [0, 1, 2], "equation": "categorical([0.5, 0.5, 0])"},
        "Y": {"type": "binary", "equation": "bernoulli(0.5)"},
        "C": {"type": "binary", "equation": "bernoulli(0.25 + 0.5*Y)"},
        "N": {"type": "continuous", "equation": "normal(0, 1)"},
        "S": {
            "type": "binary",
            "equation": "bernoulli(Y*(0.9*(E == 0) + 0.8*(E == 1) + 0.1*(E == 2))"
            " + (1 - Y)*(0.1*(E == 0) + 0.2*(E == 1) + 0.9*(E == 2)))",
        },
    },
    "robustness": {"environment": "E", "spurious_paths": [["E", "S"]]},
}
METHODS = [TorchERMClassifier, IRMClassifier, VRExClassifier, GroupDROClassifier]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=0, help="hidden width (0: linear model)")
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    hidden = () if args.hidden == 0 else (args.hidden,)
    seeds = [int(s) for s in args.seeds.split(",")]

    spec = ct.load_spec(COLORED)
    scm = ct.SCM.from_spec(spec)
    train = scm.sample(20_000, random_state=0)
    test = scm.sample(10_000, do={"E": 2}, random_state=1)
    r_spec, r_scm = ct.scenarios.load("readmission")
    r_train = r_scm.sample(20_000, random_state=1)
    r_test = r_scm.sample(10_000, random_state=2)

    print(f"hidden={hidden}, seeds={seeds}; mean over seeds (min-max)")
    heads = ("colored env2 acc", "readm. worst env", "readm. new_device")
    print(f"{'method':20s} " + " ".join(f"{h:>22s}" for h in heads) + f" {'fit s':>7s}")
    for cls in METHODS:
        col, worst, shift, times = [], [], [], []
        for seed in seeds:
            model = cls(spec, hidden=hidden, random_state=seed)
            t0 = time.perf_counter()
            model.fit(train, train["Y"])
            times.append(time.perf_counter() - t0)
            col.append(float(np.mean(model.predict(test) == test["Y"].to_numpy())))
            r_model = cls(r_spec, hidden=hidden, random_state=seed).fit(r_train, r_train["Y"])
            rep = ct.audit(
                r_model, spec=r_spec, scm=r_scm, data=r_test, objectives=["accuracy", "robustness"],
                n_bootstrap=20,
            )  # fmt: skip
            worst.append(rep.metric("robustness.worst_environment_accuracy").value)
            shift.append(rep.metric("accuracy.shift[new_device]").value)

        def cell(v: list[float]) -> str:
            return f"{np.mean(v):.3f} ({min(v):.3f}-{max(v):.3f})"

        cells = " ".join(f"{cell(v):>22s}" for v in (col, worst, shift))
        print(f"{cls.__name__:20s} {cells} {np.median(times):7.2f}")


if __name__ == "__main__":
    main()
