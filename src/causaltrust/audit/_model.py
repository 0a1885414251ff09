"""One interface over the models an audit accepts: scikit-learn estimators, torch wrappers, callables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from causaltrust.exceptions import DataError

__all__ = ["ModelAdapter"]

Array = np.ndarray


class ModelAdapter:
    """Scores and labels of any model over a DataFrame of the spec's features.

    - classifiers with ``predict_proba``: the score is P(positive class); labels come from ``predict``
      when the model has it (so models with their own thresholds keep them);
    - models with only ``predict``: the score is the prediction (labels for hard classifiers);
    - plain callables ``f(df) -> array``: scores (probabilities for a binary target).

    Effects on a classifier are on its score (the probability of the positive class).
    """

    def __init__(self, model: Any, features: Sequence[str], task: Literal["binary", "regression"]) -> None:
        self.model = model
        self.features = list(features)
        self.task = task
        self.has_proba = hasattr(model, "predict_proba")
        self.has_predict = hasattr(model, "predict")
        if not (self.has_proba or self.has_predict or callable(model)):
            raise DataError(
                f"the model ({type(model).__name__}) has neither predict_proba nor predict and is not "
                "callable; pass a fitted estimator or a function f(DataFrame) -> array"
            )
        names = getattr(model, "feature_names_in_", None)
        if names is not None:
            missing = [str(c) for c in names if str(c) not in self.features]
            if missing:
                raise DataError(
                    f"the model was fitted on columns {missing} that are not among the spec's features "
                    f"{self.features}; refit it on the spec's features, or list them under 'features:'"
                )
        self.positive_index = self._positive_index()

    @property
    def name(self) -> str:
        return type(self.model).__name__

    def _positive_index(self) -> int:
        classes = getattr(self.model, "classes_", None)
        if classes is None or not self.has_proba:
            return 1
        classes = list(np.asarray(classes).tolist())
        if 1 in classes:
            return classes.index(1)
        if len(classes) == 2:
            return 1
        raise DataError(f"the model's classes {classes} do not include the positive class 1")

    def _call(self, method: str, X: pd.DataFrame) -> Array:
        try:
            out = self.model(X) if method == "call" else getattr(self.model, method)(X)
        except (KeyError, ValueError, TypeError) as exc:
            raise DataError(
                f"the model's {method if method != 'call' else '__call__'} failed on a DataFrame of the "
                f"spec's features {self.features}: {type(exc).__name__}: {exc}. The model must accept "
                "exactly these columns (categorical ones as their category values)"
            ) from exc
        arr = np.asarray(out)
        if arr.shape[0] != len(X):
            raise DataError(f"the model returned {arr.shape[0]} predictions for {len(X)} rows")
        return arr

    def scores(self, X: pd.DataFrame) -> Array:
        """P(positive) for classifiers, predictions for regressors, the output for callables."""
        X = X[self.features]
        if self.task == "binary" and self.has_proba:
            proba = self._call("predict_proba", X)
            if proba.ndim != 2:
                raise DataError(f"predict_proba returned shape {proba.shape}; expected (n, n_classes)")
            out = proba[:, self.positive_index]
        elif self.has_predict:
            out = self._call("predict", X)
        else:
            out = self._call("call", X)
        out = np.asarray(out, dtype=np.float64).reshape(len(X))
        if not np.all(np.isfinite(out)):
            raise DataError("the model returned NaN or infinite predictions")
        return out

    def labels(self, X: pd.DataFrame, scores: Array | None = None) -> Array:
        """Predicted labels (binary task) or predictions (regression)."""
        if self.task == "regression":
            return self.scores(X) if scores is None else scores
        if self.has_predict and self.has_proba:
            out = self._call("predict", X[self.features])
            return np.asarray(out, dtype=np.float64).reshape(len(X))
        s = self.scores(X) if scores is None else scores
        return (s >= 0.5).astype(np.float64)

    def probabilities(self, X: pd.DataFrame) -> Array | None:
        """P(positive) when the model exposes probabilities, else None."""
        if self.task == "binary" and (self.has_proba or not self.has_predict):
            s = self.scores(X)
            if np.all((s >= 0) & (s <= 1)):
                return s
        return None

    @property
    def supports_adapt(self) -> bool:
        """Whether the model uses unlabeled target rows: its ``supports_adapt_`` (else: has ``adapt``)."""
        flag = getattr(self.model, "supports_adapt_", None)
        if flag is not None:
            return bool(flag)
        return callable(getattr(self.model, "adapt", None))

    @property
    def target_world(self) -> str:
        """``"fair"`` for a model trained on fair-world labels (``target_world_``), else ``"observed"``."""
        return str(getattr(self.model, "target_world_", "observed"))

    def adapt(self, X_new: pd.DataFrame) -> ModelAdapter | None:
        """The model adapted to unlabeled data of a new environment; None when it cannot adapt."""
        if not self.supports_adapt:
            return None
        return ModelAdapter(self.model.adapt(X_new[self.features]), self.features, self.task)

    @property
    def epsilon(self) -> float:
        eps = getattr(self.model, "privacy_epsilon_", None)
        return float(eps) if eps is not None else float("inf")

    @property
    def epsilon_parts(self) -> dict[str, tuple[float, str]] | None:
        """The model's ``privacy_epsilon_parts_`` (part → (ε, how)), or None when it reports none."""
        parts = getattr(self.model, "privacy_epsilon_parts_", None)
        return None if parts is None else {str(k): (float(v[0]), str(v[1])) for k, v in parts.items()}
