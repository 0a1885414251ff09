"""Path-targeted privacy vs full DP-SGD (issue 33): accuracy against ε on the sensitive attribute.

    PYTHONPATH=src python benchmarks/privacy_front.py [--seeds 3] [--rows 5000]

On readmission (sensitive A, simulated) and adult (sensitive sex, real; ``--rows`` training rows drawn from
the data, the same number of test rows), per ε on the sensitive attribute, mean over seeds of test accuracy
and of the attribute-inference advantage (the audit's attacker: 5-fold cross-validated logistic regression
from [score, label, score*label] to the attribute, balanced accuracy rescaled to 0 = chance) of

* ``RR + de-bias``: :class:`SensitiveDPClassifier` (randomized response on the attribute, ε_A = ε exactly);
* ``RR naive``: the same reports used as if true (``debias=False``);
* ``DP-SGD (ε/2)``: :class:`DPLogisticRegression` on every encoded input and the label at row-level ε/2,
  so that changing one person's attribute (a substitution: remove a row, add one) costs at most ε by group
  privacy: equal ε on the attribute;
* ``DP-SGD (ε)``: the same at row-level ε (its bound on the attribute is 2ε);

and two references without noise: logistic regression on every input (ε_A = ∞), and the unaware model
(the attribute dropped: under the threat model, other columns public, its output does not depend on the
attribute, so ε_A = 0). Continuous inputs are divided by public constants (not by statistics of the rows,
which would be learned outside DP-SGD's accountant), categorical ones one-hot over the spec's categories.
"""

from __future__ import annotations

import argparse
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import causaltrust as ct
from causaltrust.audit.privacy import attribute_advantage
from causaltrust.learners import DPLogisticRegression, SensitiveDPClassifier

EPSILONS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
# Public scales of the continuous inputs (the variables' documented ranges), so DP-SGD's clipping sees
# comparable columns without learning anything from the rows.
SCALES = {
    "adult": {"age": 100.0, "education_num": 16.0, "hours_per_week": 100.0},
    "readmission": {},
}


def _data(name: str, rows: int, seed: int) -> tuple[Any, pd.DataFrame, pd.DataFrame, str]:
    if name == "readmission":
        spec, scm = ct.scenarios.load("readmission")
        return spec, scm.sample(rows, random_state=seed), scm.sample(rows, random_state=10_000 + seed), "A"
    base = ct.datasets.spec(name)
    spec = ct.load_spec(
        {**base.model_dump(mode="json", exclude_none=True), "privacy": {"sensitive": ["sex"]}}
    )
    df = ct.datasets.load(name).sample(2 * rows, random_state=seed).reset_index(drop=True)
    for col, scale in SCALES[name].items():
        df[col] = df[col] / scale
    return spec, df.iloc[:rows], df.iloc[rows:], "sex"


def _onehot(spec: Any, model: Any, features: list[str] | None = None) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    cats = [f for f in features or spec.features if spec.variables[f].type == "categorical"]
    encode = ColumnTransformer(
        [
            (
                "onehot",
                OneHotEncoder(
                    categories=[list(spec.variables[f].categories) for f in cats],
                    handle_unknown="ignore",
                    sparse_output=False,
                ),
                cats,
            )
        ],
        remainder="passthrough",
    )
    return Pipeline([("encode", encode), ("model", model)])


def _attribute_advantage(p: np.ndarray, a: np.ndarray, seed: int) -> float:
    """The audit's attribute-inference attacker (causaltrust.audit.privacy._attribute) on given outputs."""
    classes, codes = np.unique(a, return_inverse=True)
    label = (p >= 0.5).astype(float)
    X = np.column_stack([p, label, p * label])
    attacker = make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=1000))
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    return attribute_advantage(codes, cross_val_predict(attacker, X, codes, cv=cv), len(classes))


def _models(spec: Any, eps: float | None, seed: int) -> dict[str, tuple[list[str], Any]]:
    """Per method: the columns it reads and the unfitted model."""
    every = list(spec.features)
    if eps is None:
        unaware = [f for f in every if f not in spec.privacy.sensitive]
        return {
            "LR, no noise (ε_A = ∞)": (every, _onehot(spec, LogisticRegression(max_iter=2000))),
            "unaware (ε_A = 0)": (unaware, _onehot(spec, LogisticRegression(max_iter=2000), unaware)),
        }
    return {
        "RR + de-bias": (every, SensitiveDPClassifier(spec, sensitive_epsilon=eps, random_state=seed)),
        "RR naive": (
            every,
            SensitiveDPClassifier(spec, sensitive_epsilon=eps, debias=False, random_state=seed),
        ),
        "DP-SGD (ε/2)": (
            every,
            _onehot(spec, DPLogisticRegression(target_epsilon=eps / 2, random_state=seed)),
        ),
        "DP-SGD (ε)": (every, _onehot(spec, DPLogisticRegression(target_epsilon=eps, random_state=seed))),
    }


def _run(
    name: str, eps: float | None, spec: Any, train: pd.DataFrame, test: pd.DataFrame, a: str, seed: int
) -> list[dict[str, Any]]:
    out = []
    y_tr, y_te = train[spec.target].astype(int), test[spec.target].astype(int)
    for method, (features, model) in _models(spec, eps, seed).items():
        try:
            model.fit(train[features], y_tr)
        except ValueError as exc:  # Opacus: "The privacy budget is too low" for these rows and steps
            out.append({"data": name, "eps": eps, "method": method, "seed": seed, "failed": str(exc)})
            continue
        p = model.predict_proba(test[features])[:, 1]
        out.append(
            {
                "data": name,
                "eps": eps,
                "method": method,
                "seed": seed,
                "accuracy": float(np.mean((p >= 0.5) == y_te.to_numpy())),
                "attr_adv": _attribute_advantage(p, test[a].to_numpy(), seed),
            }
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--rows", type=int, default=5_000)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    rows: list[dict[str, Any]] = []
    t0 = time.process_time()
    for name in ("readmission", "adult"):
        for seed in range(args.seeds):
            spec, train, test, a = _data(name, args.rows, seed)
            for eps in (None, *EPSILONS):
                rows += _run(name, eps, spec, train, test, a, seed)
        print(f"{name}: done, {time.process_time() - t0:.0f} CPU s", flush=True)
    df = pd.DataFrame(rows)
    agg = df.groupby(["data", "eps", "method"], dropna=False)[["accuracy", "attr_adv"]].agg(["mean", "std"])
    for name in ("readmission", "adult"):
        ref = agg.loc[name]
        print(f"\n{name}: references (no noise)\n")
        print("| model | accuracy | attribute-inference advantage |\n|---|---|---|")
        for (eps, method), r in ref.iterrows():
            if pd.isna(eps):
                print(
                    f"| {method} | {r[('accuracy', 'mean')]:.4f} ± {r[('accuracy', 'std')]:.4f} | "
                    f"{r[('attr_adv', 'mean')]:.3f} |"
                )
        methods = ["RR + de-bias", "RR naive", "DP-SGD (ε/2)", "DP-SGD (ε)"]
        print(f"\n{name}: accuracy (attribute-inference advantage) by ε on the sensitive attribute\n")
        print("| ε_A | " + " | ".join(methods) + " |\n" + "|---" * (len(methods) + 1) + "|")
        for eps in EPSILONS:
            cells = []
            for m in methods:
                r = ref.loc[(eps, m)]
                acc, sd, adv = r[("accuracy", "mean")], r[("accuracy", "std")], r[("attr_adv", "mean")]
                cells.append(
                    "Opacus: budget too low" if pd.isna(acc) else f"{acc:.4f} ± {sd:.4f} ({adv:.3f})"
                )
            print(f"| {eps:g} | " + " | ".join(cells) + " |")
    print(f"\ntotal {time.process_time() - t0:.0f} CPU s; {args.seeds} seeds, {args.rows} training rows")


if __name__ == "__main__":
    main()
