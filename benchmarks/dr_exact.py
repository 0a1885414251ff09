"""The model-free DR check of an unaware model (issue 32): exact zeros, repeated cross-fitting, overlap.

An unaware logistic regression (every feature but the protected attribute, one-hot categoricals) is trained
on half of each dataset; its predicted probabilities on the other half are decomposed with
``ct.decompose_disparity(method="dr")`` and ``outcome_parents`` = its inputs. Before issue 32 the DR
ctf-DE of such a model was a noisy estimate of a quantity that is exactly 0 (COMPAS: -0.0015 [-0.0030,
-0.0000]); now it is reported as 0 with the reason. The table also gives one and five cross-fittings of the
other terms, and the clipped share of propensities with the trimmed estimate where overlap is poor.

Run: ``PYTHONPATH=src python benchmarks/dr_exact.py`` (about 3 minutes on one core).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import causaltrust as ct

ROWS = {"compas": None, "german": None, "adult": 8_000}  # Adult: a seeded subsample keeps this short


def unaware_scores(name: str) -> tuple[ct.TrustSpec, pd.DataFrame, list[str]]:
    spec, df = ct.datasets.spec(name), ct.datasets.load(name)
    if ROWS[name] is not None and len(df) > ROWS[name]:
        df = df.sample(ROWS[name], random_state=0)
    a = spec.fairness.protected
    inputs = [f for f in spec.features if f != a]
    cats = [f for f in inputs if spec.variables[f].type == "categorical"]
    nums = [f for f in inputs if f not in cats]
    pre = ColumnTransformer(
        [("c", OneHotEncoder(handle_unknown="ignore"), cats), ("n", StandardScaler(), nums)]
    )
    model = make_pipeline(pre, LogisticRegression(max_iter=2000))
    order = np.random.default_rng(0).permutation(len(df))
    train, test = df.iloc[order[: len(df) // 2]], df.iloc[order[len(df) // 2 :]].copy()
    model.fit(train[inputs], train[spec.target])
    test["unaware"] = model.predict_proba(test[inputs])[:, 1]
    return spec, test, inputs


def main() -> None:
    rows = []
    for name in ROWS:
        spec, test, inputs = unaware_scores(name)
        for repeats in (1, 5):
            t0 = time.perf_counter()
            dec = ct.decompose_disparity(
                spec, data=test, outcome="unaware", outcome_parents=inputs, repeats=repeats, n_boot=200
            )
            wall = time.perf_counter() - t0
            for lv in dec.levels:
                trimmed = "" if lv.trimmed is None else f"{lv.trimmed[1].value:+.4f} (n={lv.n_trimmed})"
                rows.append({
                    "dataset": name, "x1": lv.value, "repeats": repeats, "n": lv.n0 + lv.n1,
                    "DE": f"{lv.de:.4f}" + (" exact" if "de" in lv.exact else ""),
                    "IE": f"{lv.ie:.4f}", "SE": f"{lv.se:.4f}", "clipped": f"{100 * lv.clipped:.1f}%",
                    "trimmed SE": "" if lv.trimmed is None else f"{lv.trimmed[3].value:+.4f}",
                    "trimmed DE": trimmed, "seconds": round(wall, 1),
                })  # fmt: skip
    frame = pd.DataFrame(rows)
    print("| " + " | ".join(frame.columns) + " |")
    print("|" + "---|" * len(frame.columns))
    for row in frame.itertuples(index=False):
        print("| " + " | ".join(str(v) for v in row) + " |")


if __name__ == "__main__":
    main()
