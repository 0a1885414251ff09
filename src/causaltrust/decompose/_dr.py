"""Cross-fitted doubly robust scores for the x-specific counterfactual terms (Plečko & Bareinboim 2024).

With confounders Z and mediators W of the Standard Fairness Model, x0 = baseline, x1 = value,
``mu(z, w) = E[Y | x1, z, w]``, ``m(z) = E[Y | x1, z]``, ``e(z) = P(x1 | z)``, ``e(z, w) = P(x1 | z, w)``,
the two nested counterfactual means the decomposition needs are identified by

* ``E[Y_{x1, W_{x0}} | x0] = E[mu(Z, W) | x0]``, with efficient score (divided by ``P(x0)``)
  ``1{x0} mu(Z, W) + 1{x1} (1 - e(Z, W)) / e(Z, W) (Y - mu(Z, W))``;
* ``E[Y_{x1} | x0] = E[m(Z) | x0]``, score ``1{x0} m(Z) + 1{x1} (1 - e(Z)) / e(Z) (Y - m(Z))``.

(The general x-specific score of ``E[Y_{x_y, W_{x_w}} | x_z]`` has a third, nested-regression term; it
cancels here because the mediators are at the conditioning level x0.) Each is consistent when either the
outcome regression or the propensity is, and the product of their errors is second order. Nuisances are
fitted on ``folds - 1`` folds and evaluated on the held-out one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from causaltrust.decompose._structure import Structure
from causaltrust.exceptions import DataError

__all__ = ["CLIP", "LEARNERS", "design", "dr_scores"]

Array = np.ndarray
LEARNERS = ("boosting", "linear")
CLIP = 0.01  # propensities are clipped to [CLIP, 1 - CLIP]


def design(st: Structure, data: pd.DataFrame, names: Sequence[str]) -> Array:
    """Numeric design matrix: categorical (or non-numeric) columns one-hot, the rest as floats."""
    blocks: list[Array] = []
    for v in names:
        col = data[v]
        var = st.spec.variables[v]
        numeric = pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)
        if var.type == "categorical" or not numeric:
            if var.type == "continuous":
                raise DataError(f"column {v!r} is continuous in the spec but holds {col.dtype} values")
            blocks.append(pd.get_dummies(col.astype(str), dtype=np.float64).to_numpy())
        else:
            blocks.append(col.to_numpy(dtype=np.float64)[:, None])
    if not blocks:
        return np.zeros((len(data), 0))
    return np.hstack(blocks)


def _model(learner: str, task: str, seed: int) -> Any:
    if learner == "linear":
        from sklearn.linear_model import LinearRegression, LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        if task == "classify":
            return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        return LinearRegression()
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    # Early stopping on held-out loss keeps the probabilities honest (propensities enter as ratios).
    kw = {
        "learning_rate": 0.05, "max_iter": 400, "max_leaf_nodes": 15, "min_samples_leaf": 20,
        "early_stopping": True, "validation_fraction": 0.2, "n_iter_no_change": 20, "random_state": seed,
    }  # fmt: skip
    if task == "classify":
        return HistGradientBoostingClassifier(**kw)
    return HistGradientBoostingRegressor(**kw)


def _fit_predict(learner: str, task: str, X: Array, y: Array, X_new: Array, seed: int) -> Array:
    """Fitted conditional mean (P(y = 1) for ``classify``) at ``X_new``; the mean when X has no columns."""
    if X.shape[1] == 0 or len(y) < 20 or np.unique(y).size == 1:
        return np.full(len(X_new), float(np.mean(y)))
    est = _model(learner, task, seed).fit(X, y)
    if task == "classify":
        proba = est.predict_proba(X_new)
        return np.asarray(proba[:, list(est.classes_).index(1.0)], dtype=np.float64)
    return np.asarray(est.predict(X_new), dtype=np.float64)


def dr_scores(
    Z: Array, W: Array, y: Array, x1: Array, *, binary: bool, learner: str, folds: int, seed: int
) -> tuple[Array, Array, list[str], Array]:
    """``(s_de, s_se, notes, e)``: cross-fitted doubly robust per-unit scores (module docstring).

    ``e`` is ``(n, 2)``: each unit's out-of-fold propensities ``e(z)`` and ``e(z, w)`` before clipping to
    ``[CLIP, 1 - CLIP]``.
    """
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits

    n = len(y)
    t = x1.astype(np.float64)
    if min(int(x1.sum()), int((~x1).sum())) < folds:
        raise DataError(
            f"each group needs at least folds={folds} rows for cross-fitting; got {int((~x1).sum())} at x0 "
            f"and {int(x1.sum())} at x1 (use fewer folds)"
        )
    ZW = np.hstack([Z, W])
    mu = np.empty(n)
    m = np.empty(n)
    e_z = np.empty(n)
    e_zw = np.empty(n)
    task = "classify" if binary else "regress"
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    # One thread per fit: OpenMP boosting on a shared or small machine is many times slower threaded, and
    # the fits are small (one per fold and nuisance).
    with threadpool_limits(limits=1):
        for k, (tr, te) in enumerate(splitter.split(np.zeros(n), x1)):
            s = seed + 7 * k
            e_z[te] = _fit_predict(learner, "classify", Z[tr], t[tr], Z[te], s)
            e_zw[te] = (
                e_z[te]
                if W.shape[1] == 0
                else _fit_predict(learner, "classify", ZW[tr], t[tr], ZW[te], s + 1)
            )
            tr1 = tr[x1[tr]]
            mu[te] = _fit_predict(learner, task, ZW[tr1], y[tr1], ZW[te], s + 2)
            m[te] = mu[te] if W.shape[1] == 0 else _fit_predict(learner, task, Z[tr1], y[tr1], Z[te], s + 3)
    notes = []
    clipped = (e_z < CLIP) | (e_z > 1 - CLIP) | (e_zw < CLIP) | (e_zw > 1 - CLIP)
    if clipped.any():
        notes.append(
            f"{int(clipped.sum())} of {n} units ({100 * clipped.mean():.1f}%) have an estimated propensity "
            f"outside [{CLIP}, {1 - CLIP}] (clipped): overlap between the groups is poor there"
        )
    raw = np.column_stack([e_z, e_zw])
    e_z = np.clip(e_z, CLIP, 1 - CLIP)
    e_zw = np.clip(e_zw, CLIP, 1 - CLIP)
    s_de = (1 - t) * mu + t * (1 - e_zw) / e_zw * (y - mu)
    s_se = (1 - t) * m + t * (1 - e_z) / e_z * (y - m)
    return s_de, s_se, notes, raw
