"""Mechanisms for the plug-in decomposition: saturated where every parent is discrete, else chosen by CV.

An additive logistic model of ``admitted ~ gender + dept`` cannot represent a department that treats women
differently from the rest (an interaction of the protected attribute with a discrete mediator), and the
plug-in direct effect then comes out wrong with a narrow interval. Where every parent of a node is binary or
categorical the conditional distribution is a table, and the saturated model (one free distribution per
cell of parent values: the empirical cell frequencies) is exact up to sampling error. Elsewhere
``SCM.fit``'s ``"auto"`` compares a linear model with gradient boosting (which fits interactions) by
cross-validation. :func:`refit_modes` pins each node to the family chosen on the full data, so that the
bootstrap refits of :mod:`causaltrust.decompose._refit` estimate the same model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from causaltrust.scm import SCM
from causaltrust.spec import TrustSpec

__all__ = ["CellMeanClassifier", "CellMeanRegressor", "plugin_mechanisms", "refit_modes"]

Array = np.ndarray


def _row_hashes(X: Any) -> Array:
    """One 64-bit hash per row of X (pandas' row hashing: vectorised; collisions have odds ~ n² / 2⁶⁴)."""
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    out: Array = pd.util.hash_pandas_object(pd.DataFrame(arr), index=False).to_numpy(dtype=np.uint64)
    return out


def _cells(X: Any) -> tuple[Array, Array]:
    """Each row's cell (distinct row of X) as an index, and the cells' sorted row hashes."""
    uniq, inverse = np.unique(_row_hashes(X), return_inverse=True)
    return inverse.reshape(-1), uniq


class _CellBase(BaseEstimator):
    """Shared cell lookup: rows of a new X mapped to the training cells (-1 for an unseen cell)."""

    def _lookup(self, X: Any) -> Array:
        check_is_fitted(self, "cells_")
        h = _row_hashes(X)
        pos = np.minimum(np.searchsorted(self.cells_, h), len(self.cells_) - 1)
        out: Array = np.where(self.cells_[pos] == h, pos, -1)
        return out


class CellMeanClassifier(ClassifierMixin, _CellBase):
    """The saturated classifier: P(class | cell) = the class's frequency among training rows of the cell.

    A cell not seen in training gets the pooled class frequencies.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0, 0], [0, 0], [0, 1], [1, 1]])
    >>> CellMeanClassifier().fit(X, [0, 1, 1, 0]).predict_proba([[0, 0], [1, 1]])
    array([[0.5, 0.5],
           [1. , 0. ]])
    """

    def fit(self, X: Any, y: Any) -> CellMeanClassifier:
        """Count the classes in every cell of parent values."""
        inverse, self.cells_ = _cells(X)
        self.classes_, codes = np.unique(np.asarray(y), return_inverse=True)
        counts = np.zeros((len(self.cells_), len(self.classes_)))
        np.add.at(counts, (inverse, codes.reshape(-1)), 1.0)
        self.proba_ = counts / counts.sum(axis=1, keepdims=True)
        self.pooled_ = counts.sum(axis=0) / counts.sum()
        return self

    def predict_proba(self, X: Any) -> Array:
        """Cell frequencies of each class (pooled frequencies for an unseen cell)."""
        idx = self._lookup(X)
        out: Array = np.where((idx >= 0)[:, None], self.proba_[np.maximum(idx, 0)], self.pooled_)
        return out

    def predict(self, X: Any) -> Array:
        """The most frequent class of the row's cell."""
        out: Array = self.classes_[self.predict_proba(X).argmax(axis=1)]
        return out


class CellMeanRegressor(RegressorMixin, _CellBase):
    """The saturated regressor: E[y | cell] = the mean of the training rows of the cell (pooled if unseen).

    Examples
    --------
    >>> CellMeanRegressor().fit([[0], [0], [1]], [1.0, 3.0, 5.0]).predict([[0], [1], [2]])
    array([2., 5., 3.])
    """

    def fit(self, X: Any, y: Any) -> CellMeanRegressor:
        """Average the target in every cell of parent values."""
        inverse, self.cells_ = _cells(X)
        y_arr = np.asarray(y, dtype=np.float64)
        sums = np.bincount(inverse, weights=y_arr, minlength=len(self.cells_))
        self.means_ = sums / np.bincount(inverse, minlength=len(self.cells_))
        self.pooled_ = float(y_arr.mean())
        return self

    def predict(self, X: Any) -> Array:
        """The cell mean of each row (the pooled mean for an unseen cell)."""
        idx = self._lookup(X)
        out: Array = np.where(idx >= 0, self.means_[np.maximum(idx, 0)], self.pooled_)
        return out


def plugin_mechanisms(spec: TrustSpec) -> dict[str, Any]:
    """``mechanisms=`` for ``SCM.fit``: saturated where every parent is observed and discrete, else "auto".

    Nodes that are assumed, measure a latent, or have a latent parent keep ``SCM.fit``'s own handling.
    """
    out: dict[str, Any] = {}
    for v in spec.variables:
        var, parents = spec.variables[v], spec.parents(v)
        if not parents or var.assume or var.measures is not None or not var.observed:
            continue
        if all(spec.variables[p].observed and spec.variables[p].type != "continuous" for p in parents):
            out[v] = CellMeanRegressor() if var.type == "continuous" else CellMeanClassifier()
    return out


# What SCM.fit's provenance calls a chosen family, as the mode that asks for it again.
_MODE_OF = {"linear": "linear", "logistic": "linear", "gbm": "gbm", "calibrated-gbm": "gbm"}


def refit_modes(spec: TrustSpec, scm: SCM) -> dict[str, Any]:
    """The saturated mechanisms plus, for every other learned node, the family chosen on the full data."""
    out = plugin_mechanisms(spec)
    nodes = scm.provenance.get("nodes", {})
    for v, info in nodes.items():
        if v in out or info.get("status") != "learned" or not spec.parents(v):
            continue
        if spec.variables[v].measures is not None:
            continue
        mode = _MODE_OF.get(str(info.get("model")))
        if mode is not None:
            out[v] = mode
    return out
