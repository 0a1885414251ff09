"""Attribute inference: how well the model's outputs reveal the protected attribute."""

from __future__ import annotations

from functools import partial

import numpy as np

from causaltrust.audit._context import AuditContext
from causaltrust.audit._report import Metric
from causaltrust.scm._data import frame_to_columns

__all__ = ["attribute_advantage", "attribute_inference_metric"]

Array = np.ndarray

N_FOLDS = 5


def attribute_advantage(a: Array, pred: Array, k: int) -> float:
    """Balanced accuracy of ``pred`` for ``a`` (codes ``0..k-1``) rescaled so chance is 0 and perfect is 1.

    Classes absent from ``a`` (possible in a bootstrap resample) are left out of the balanced accuracy.

    Examples
    --------
    >>> import numpy as np
    >>> attribute_advantage(np.array([0, 0, 1, 1]), np.array([0, 0, 1, 1]), 2)
    1.0
    >>> attribute_advantage(np.array([0, 0, 1, 1]), np.array([0, 0, 0, 0]), 2)
    0.0
    """
    totals = np.bincount(a, minlength=k)
    hits = np.bincount(a, weights=(pred == a).astype(np.float64), minlength=k)
    present = totals > 0
    bal = float(np.mean(hits[present] / totals[present]))
    return (bal - 1.0 / k) / (1.0 - 1.0 / k)


def _advantage_rows(onehot: Array, hit: Array, k: int, counts: Array) -> Array:
    """:func:`attribute_advantage` of each resample row of ``counts`` (the large-audit form: weights, no
    gathers); ``onehot`` is the ``(n, k)`` one-hot of the codes, ``hit`` the same masked by correct rows."""
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = (counts @ hit) / (counts @ onehot)  # NaN for a class absent from the resample: left out
    bal = np.nanmean(recall, axis=1)
    out: Array = (bal - 1.0 / k) / (1.0 - 1.0 / k)
    return out


def attribute_inference_metric(ctx: AuditContext) -> Metric | None:
    """``privacy.attribute_inference_advantage`` on the test units (None, with a note, when not applicable).

    The attacker sees only the model's outputs (score, label, score*label) and fits a logistic regression
    to the protected attribute; its out-of-fold predictions are scored by balanced accuracy, so a model
    whose outputs carry no information about A scores about 0 whatever the groups' sizes.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    name = "privacy.attribute_inference_advantage"
    if ctx.spec.fairness is None:
        ctx.notes.append(f"{name}: skipped, the spec has no fairness section naming a protected attribute.")
        return None
    a_name = ctx.spec.fairness.protected
    if a_name not in ctx.data.columns:
        ctx.notes.append(
            f"{name}: skipped, the test data has no column for the protected attribute {a_name!r}."
        )
        return None
    a_raw = frame_to_columns(ctx.data, ctx.scm.meta, [a_name], context="audit data")[a_name]
    classes, codes = np.unique(a_raw, return_inverse=True)
    k = len(classes)
    counts = np.bincount(codes, minlength=k)
    folds = min(N_FOLDS, int(counts.min()))
    if k < 2 or folds < 2:
        ctx.notes.append(
            f"{name}: skipped, the protected attribute {a_name!r} needs at least two levels with two test "
            f"units each (level counts: {counts.tolist()})."
        )
        return None

    X_test = ctx.data[ctx.spec.features]
    s = ctx.model.scores(X_test)
    label = ctx.model.labels(X_test, s)
    X = np.column_stack([s, label, s * label])
    # Balanced class weights: the attacker aims at balanced accuracy, so a minority group is not ignored.
    attacker = make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=1000))
    seed = int(ctx.rng(f"{name}/cv").integers(0, 2**31 - 1))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    pred = cross_val_predict(attacker, X, codes, cv=cv)

    def stat(idx: Array) -> float:
        return attribute_advantage(codes[idx], pred[idx], k)

    kind = "logistic regression" if k == 2 else f"multinomial logistic regression ({k} levels)"
    method = (
        f"{folds}-fold cross-validated {kind} from [score, label, score*label] to {a_name}; (balanced "
        "accuracy - 1/k) / (1 - 1/k); bootstrap over units (attacker fixed)"
    )
    onehot = np.zeros((len(codes), k))
    onehot[np.arange(len(codes)), codes] = 1.0
    rows = partial(_advantage_rows, onehot, onehot * (pred == codes)[:, None], k)
    return ctx.weighted_metric(name, stat, rows, len(codes), method=method)
