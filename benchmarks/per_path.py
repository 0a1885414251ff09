"""Per-path blocking on adult_nabi (issue 32): each unfair path's effect beside the total, and what it costs.

Adult after Nabi & Shpitser: sex's direct path to income and every path through marital status are unfair.
Per seed, 1,500 training and 1,500 test rows; four models:

* ERM and unawareness (sex dropped): logistic regression on one-hot categories and scaled numbers;
* the selective learner with ``fairness="map"`` (the old behaviour: sex held at its baseline along all
  unfair paths together, which undoes the marital-status share by reading sex) and with ``fairness="block"``
  (the default: each unfair path blocked on its own), both on one SCM fitted on the training rows
  (mechanisms ``linear``).

Each model is audited against an SCM fitted on the test rows (linear mechanisms) three times, with the
spec's unfair paths narrowed to the direct path, to the marital-status entry, and both (the total): signed
mean effect and per-unit mean |Δ| (16 posterior draws per unit: an unbiased estimate of each unit's posterior
mean |Δ|, averaged over 1,500 units). The model-free DR check decomposes the predictions
(``ct.decompose_disparity``, outcome parents = the features the model reads): its ctf-DE is the direct path.

Run: ``PYTHONPATH=src nice python benchmarks/per_path.py [--seeds 0 1 2] [--rows 1500]`` (24 minutes on a
shared two-core machine with other jobs running; most of it is the three audits of the "map" learner, whose
every prediction abducts the categorical mediators). Prints markdown tables for RESULTS.md.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import causaltrust as ct

NAME = "adult_nabi"
ENTRIES = {"direct": [["sex", "income"]], "marital": [["sex", "marital_status"]]}
MODELS = ["erm", "unaware", "selective_map", "selective_block"]


def _narrowed(spec: ct.TrustSpec, entries: list[list[str]] | None) -> ct.TrustSpec:
    """The spec with its unfair paths replaced by ``entries`` (None: as written)."""
    if entries is None:
        return spec
    d = spec.to_dict()
    d["fairness"]["unfair_paths"] = entries
    return ct.load_spec(d)


def _logistic(spec: ct.TrustSpec, inputs: list[str]) -> Any:
    cats = [f for f in inputs if spec.variables[f].type == "categorical"]
    nums = [f for f in inputs if f not in cats]
    pre = ColumnTransformer(
        [("c", OneHotEncoder(handle_unknown="ignore"), cats), ("n", StandardScaler(), nums)]
    )
    return make_pipeline(pre, LogisticRegression(max_iter=2000))


class _Columns:
    """A fitted pipeline on a subset of the features, called with every feature (as the audit does)."""

    def __init__(self, model: Any, inputs: list[str]) -> None:
        self.model, self.inputs, self.classes_ = model, inputs, np.array([0, 1])

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.model.predict_proba(X[self.inputs]))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)


def run_seed(spec: ct.TrustSpec, df: pd.DataFrame, seed: int, rows: int, draws: int) -> list[dict[str, Any]]:
    order = np.random.default_rng(seed).permutation(len(df))
    train, test = df.iloc[order[:rows]], df.iloc[order[rows : 2 * rows]]
    a, y, feats = spec.fairness.protected, spec.target, spec.features
    X, yt = train[feats], train[y]
    t0 = time.perf_counter()
    own = ct.SCM.fit(spec, train[list(spec.observed)], mechanisms="linear", random_state=seed)
    audit_scm = ct.SCM.fit(spec, test[list(spec.observed)], mechanisms="linear", random_state=seed)
    unaware_inputs = [f for f in feats if f != a]
    models: dict[str, tuple[Any, list[str]]] = {
        "erm": (_Columns(_logistic(spec, feats).fit(X, yt), feats), feats),
        "unaware": (_Columns(_logistic(spec, unaware_inputs).fit(X[unaware_inputs], yt), unaware_inputs),
                    unaware_inputs),
    }  # fmt: skip
    for mode in ("map", "block"):
        clf = ct.learners.SelectiveInvarianceClassifier(spec=spec, scm=own, fairness=mode, random_state=seed)
        clf.fit(X, yt)
        # What the model reads (the DR check's outcome parents): the blocked learner reads marital status
        # and the other moved features to re-evaluate their children, never sex.
        reads = feats if mode == "map" else unaware_inputs
        models[f"selective_{mode}"] = (clf, reads)
    print(f"seed {seed}: fitted in {time.perf_counter() - t0:.0f} s", flush=True)
    out = []
    for name, (model, reads) in models.items():
        t1 = time.perf_counter()
        p = model.predict_proba(test[feats])[:, 1]
        row: dict[str, Any] = {
            "seed": seed,
            "model": name,
            "accuracy": float(((p >= 0.5) == test[y].to_numpy()).mean()),
            "inputs": len(getattr(model, "inputs_", reads)),
        }
        for label, entries in (("total", None), *ENTRIES.items()):
            rep = ct.audit(
                model, spec=_narrowed(spec, entries), scm=audit_scm, data=test, objectives=["fairness"],
                n_bootstrap=50, random_state=seed, unit_draws=draws,
            )  # fmt: skip
            row[f"{label}"] = rep.metric("fairness.unfair_path_effect").value
            row[f"{label}_abs"] = rep.metric("fairness.unfair_path_effect_abs").value
            if label == "total":
                row["fair"] = rep.metric("fairness.fair_path_effect").value
        t2 = time.perf_counter()
        scored = test.assign(pred=p)
        dec = ct.decompose_disparity(
            spec, data=scored, outcome="pred", outcome_parents=reads, random_state=seed
        )
        lv = dec.levels[0]
        row["dr_de"], row["dr_de_lo"], row["dr_de_hi"] = lv.de.value, lv.de.low, lv.de.high
        row["dr_de_exact"] = "de" in lv.exact
        row["dr_ie"] = lv.ie.value
        row["seconds"] = time.perf_counter() - t1
        row["dr_seconds"] = time.perf_counter() - t2
        print(f"  {name}: {row}", flush=True)
        out.append(row)
    return out


def tables(frame: pd.DataFrame) -> str:
    g = frame.groupby("model")
    cols = [
        "accuracy",
        "total",
        "total_abs",
        "direct",
        "direct_abs",
        "marital",
        "marital_abs",
        "fair",
        "dr_de",
    ]
    mean, sd = g[cols].mean().reindex(MODELS), g[cols].std(ddof=1).reindex(MODELS)
    lines = [
        "| model | accuracy | total unfair (signed / per unit) | direct path | marital-status entry | fair paths "
        "| DR ctf-DE (seeds whose interval excludes 0) |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in MODELS:
        sub = frame[frame.model == m]
        excl = int(((sub.dr_de_lo > 0) | (sub.dr_de_hi < 0)).sum())
        exact = " exact 0" if sub.dr_de_exact.all() else f" ({excl} of {len(sub)})"
        cell = [f"{mean.loc[m, 'accuracy']:.3f} ± {sd.loc[m, 'accuracy']:.3f}"]
        for k in ("total", "direct", "marital"):
            cell.append(f"{mean.loc[m, k]:+.3f} / {mean.loc[m, k + '_abs']:.3f}")
        cell.append(f"{mean.loc[m, 'fair']:+.3f}")
        cell.append(f"{mean.loc[m, 'dr_de']:+.4f}{exact}")
        lines.append(f"| {m} | " + " | ".join(cell) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--rows", type=int, default=1500)
    parser.add_argument(
        "--unit-draws", type=int, default=16, help="posterior draws per unit of the per-unit forms"
    )
    parser.add_argument("--csv", default=None, help="also write the per-seed rows here")
    args = parser.parse_args()
    spec, df = ct.datasets.spec(NAME), ct.datasets.load(NAME)
    t0 = time.perf_counter()
    rows = [r for s in args.seeds for r in run_seed(spec, df, s, args.rows, args.unit_draws)]
    frame = pd.DataFrame(rows)
    if args.csv:
        frame.to_csv(args.csv, index=False)
    print(f"\n{NAME}: {args.rows:,} train / {args.rows:,} test rows, seeds {args.seeds}; "
          f"{time.perf_counter() - t0:.0f} s\n")  # fmt: skip
    print(tables(frame))


if __name__ == "__main__":
    main()
