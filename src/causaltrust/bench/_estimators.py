"""The logistic regression every sweep method is built on, fitted on standardised columns.

Real tables mix scales (ages, amounts in the thousands, one-hot columns): plain lbfgs then stops at
``max_iter`` before converging and L2 shrinks each coefficient by an amount that depends on its column's
unit. Standardising inside ``fit`` and folding the scaling back into ``coef_`` / ``intercept_`` keeps a plain
:class:`~sklearn.linear_model.LogisticRegression` (same parameters, raw-scale coefficients, ``sample_weight``
passed through, so fairlearn's reductions and the selective learner's weighted labels work unchanged).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

__all__ = ["StandardizedLogisticRegression"]


class StandardizedLogisticRegression(LogisticRegression):
    """``LogisticRegression`` fitted on z-scored columns; ``coef_`` and ``intercept_`` on the raw scale.

    Examples
    --------
    >>> import numpy as np
    >>> from causaltrust.bench._estimators import StandardizedLogisticRegression
    >>> X = np.column_stack([np.arange(200.0) * 1_000, np.tile([0.0, 1.0], 100)])
    >>> y = (np.arange(200) > 100).astype(int)
    >>> clf = StandardizedLogisticRegression().fit(X, y)
    >>> bool(clf.score(X, y) > 0.95)
    True
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> StandardizedLogisticRegression:
        dense = X.toarray() if hasattr(X, "toarray") else X
        values = np.asarray(dense, dtype=np.float64)
        mean = values.mean(axis=0)
        scale = values.std(axis=0)
        scale[scale == 0] = 1.0  # a constant column stays as it is
        fitted: Any = super().fit((dense - mean) / scale, y, sample_weight=sample_weight)
        # w·(x - μ)/σ + b = (w/σ)·x + (b - Σ w μ/σ)
        coef = np.asarray(fitted.coef_, dtype=np.float64) / scale
        self.coef_ = coef
        self.intercept_ = np.asarray(fitted.intercept_, dtype=np.float64) - coef @ mean
        return self
