"""Power of the audit's shadow membership attack (issue 33): AUC and TPR at 1% FPR by number of shadows.

Usage: ``PYTHONPATH=src python benchmarks/mia_power.py [n_rows] [shadows ...]`` (default 500 rows; 8 16 32
64 shadows). Members are ``n_rows`` training rows of readmission, non-members ``n_rows`` test rows.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

import causaltrust as ct


def main(n: int, shadows: list[int]) -> None:
    spec, scm = ct.scenarios.load("readmission")
    train, test = scm.sample(n, random_state=1), scm.sample(n, random_state=2)
    models: list[tuple[str, Any]] = [
        ("full tree", DecisionTreeClassifier(random_state=0)),
        ("1-NN", KNeighborsClassifier(1)),
        ("LR (C = 0.1)", LogisticRegression(C=0.1, max_iter=1000)),
    ]
    print("| model | shadows | AUC | TPR at 1% FPR | Yeom advantage | CPU s |\n|---|---|---|---|---|---|")
    for ns in shadows:
        for name, model in models:
            t = time.process_time()
            model.fit(train[spec.features], train[spec.target])
            rep = ct.audit(
                model, spec=spec, scm=scm, data=test, train_data=train, objectives=["privacy"],
                n_shadow=ns, n_bootstrap=20, random_state=0,
            )  # fmt: skip
            auc, tpr, adv = (
                rep.metric(k).value
                for k in ("privacy.mia_auc", "privacy.mia_tpr_at_1pct_fpr", "privacy.mia_advantage")
            )
            cpu = time.process_time() - t
            print(f"| {name} | {ns} | {auc:.3f} | {tpr:.3f} | {adv:.3f} | {cpu:.1f} |", flush=True)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(args[0] if args else 500, args[1:] or [8, 16, 32, 64])
