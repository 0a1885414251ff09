"""Kusner et al. (2017) Table 2 on the law school data: Full, Unaware, Fair Add, and the selective learner.

Usage::

    python benchmarks/law_school.py [--splits 20] [--write]

For each of ``--splits`` random 80/20 splits (``numpy.random.RandomState(seed).permutation``, seeds 0..):

* an SCM with Kusner's level-3 mechanisms (linear, additive Gaussian noise) is fitted on the training rows;
* **Full** (least squares on race, sex, UGPA, LSAT), **Unaware** (UGPA, LSAT), **Fair Add**
  (``CounterfactualFairRegressor(level=3)``, race and sex protected: least squares on the residuals of UGPA
  and LSAT given race and sex) and the **selective** regressor (``SelectiveInvarianceRegressor``, the
  spec's unfair paths: every race path; sex is not the spec's protected attribute) are fitted;
* test RMSE; and each model's per-unit counterfactual effect of race (Black vs White) and sex (male vs
  female) on the test units, under a *reference* SCM fitted on the test rows (not the one the learners
  used): ``_abs`` = mean |Δ prediction|, ``_p95`` = its 95th percentile over units.

Kusner's own split (R ``set.seed(0)``; ``caret::createDataPartition(p = .8)``) needs R's random number
generator and caret's stratification; it is not reproduced here.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

import causaltrust as ct
from _results import write_section
from causaltrust.learners import (
    CounterfactualFairRegressor,
    ERMRegressor,
    SelectiveInvarianceRegressor,
    UnawareRegressor,
)

KUSNER = {"Full": 0.873, "Unaware": 0.894, "Fair K": 0.929, "Fair Add": 0.918}  # Table 2, RMSE
MODELS = ["Full", "Unaware", "Fair Add", "Selective"]


def _models(spec: ct.TrustSpec, scm: ct.SCM, seed: int) -> dict[str, Any]:
    both = ["race", "sex"]
    return {
        "Full": ERMRegressor(spec=spec, estimator=LinearRegression()),
        "Unaware": UnawareRegressor(spec=spec, estimator=LinearRegression(), protected=both),
        "Fair Add": CounterfactualFairRegressor(
            spec=spec, estimator=LinearRegression(), scm=scm, protected=both
        ),
        "Selective": SelectiveInvarianceRegressor(
            spec=spec, estimator=LinearRegression(), scm=scm, robustness=None, random_state=seed
        ),
    }


def _effect(model: Any, ref: ct.SCM, test: pd.DataFrame, var: str, hi: str, lo: str) -> np.ndarray:
    feats = ref.spec.features
    up = ref.counterfactual(test, do={var: hi}, random_state=0)[feats]
    down = ref.counterfactual(test, do={var: lo}, random_state=0)[feats]
    return np.asarray(model.predict(up) - model.predict(down), dtype=np.float64)


def run(n_splits: int) -> pd.DataFrame:
    spec, df = ct.datasets.spec("law_school"), ct.datasets.load("law_school")
    obs = [*spec.observed]
    rows = []
    for seed in range(n_splits):
        perm = np.random.RandomState(seed).permutation(len(df))
        cut = int(0.8 * len(df))
        train, test = df.iloc[perm[:cut]][obs], df.iloc[perm[cut:]][obs].reset_index(drop=True)
        scm = ct.SCM.fit(spec, train, mechanisms="linear", random_state=seed)
        ref = ct.SCM.fit(spec, test, mechanisms="linear", random_state=seed)
        for name, model in _models(spec, scm, seed).items():
            t0 = time.perf_counter()
            model.fit(train[spec.features], train[spec.target])
            pred = model.predict(test[spec.features])
            rmse = float(np.sqrt(np.mean((pred - test[spec.target].to_numpy()) ** 2)))
            race = np.abs(_effect(model, ref, test, "race", "Black", "White"))
            sex = np.abs(_effect(model, ref, test, "sex", "male", "female"))
            rows.append(
                {
                    "seed": seed,
                    "model": name,
                    "rmse": rmse,
                    "race_abs": race.mean(),
                    "race_p95": np.quantile(race, 0.95),
                    "sex_abs": sex.mean(),
                    "sex_p95": np.quantile(sex, 0.95),
                    "seconds": time.perf_counter() - t0,
                }
            )
        print(f"split {seed}: done", flush=True)
    return pd.DataFrame(rows)


def table(res: pd.DataFrame, n_splits: int) -> str:
    g = res.groupby("model", sort=False)
    lines = [
        "## Kusner et al. (2017) Table 2 on the law school data (issue 26)",
        "",
        f"`python benchmarks/law_school.py --splits {n_splits} --write`: {n_splits} random 80/20 splits of "
        'the 21,790 students (`ct.datasets.load("law_school")`), SCM with Kusner\'s level-3 (linear '
        "additive-noise) mechanisms fitted on each training part. Effects are per unit on the test units, "
        "in ZFYA units, under a reference SCM fitted on the test part: race = do(Black) vs do(White), "
        "sex = do(male) vs do(female). Mean (sd) over splits.",
        "",
        "| model | RMSE | Kusner's RMSE | race effect _abs | race _p95 | sex effect _abs | sex _p95 |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in MODELS:
        r = g.get_group(name)

        def ms(col: str, r: pd.DataFrame = r) -> str:
            return f"{r[col].mean():.3f} ({r[col].std(ddof=1):.3f})"

        paper = f"{KUSNER[name]:.3f}" if name in KUSNER else "—"
        lines.append(
            f"| {name} | {ms('rmse')} | {paper} | {ms('race_abs')} | {ms('race_p95')} | {ms('sex_abs')} | "
            f"{ms('sex_p95')} |"
        )
    lines.append(f"| Fair K (level 2) | not run | {KUSNER['Fair K']:.3f} | | | | |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--splits", type=int, default=20)
    parser.add_argument("--write", action="store_true", help="write the table into benchmarks/RESULTS.md")
    args = parser.parse_args()
    res = run(args.splits)
    text = table(res, args.splits)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
