"""Per-example losses and confidences of a model on labelled rows: what membership attacks look at."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from causaltrust.audit._model import ModelAdapter
from causaltrust.scm._data import VariableMeta, frame_to_columns

__all__ = ["CLIP", "Outputs", "model_outputs", "target_values"]

Array = np.ndarray

# Probabilities are clipped so a memorising model (p = 1 on its training rows) gives a finite loss and a
# finite logit; 1e-6 bounds the logit at about ±13.8.
CLIP = 1e-6


@dataclass(frozen=True)
class Outputs:
    """Per-example loss (lower = better fit) and confidence φ (higher = better fit) of one model."""

    loss: Array
    phi: Array
    hard: bool  # a classifier without probabilities: its 0/1 labels were used as probabilities


def target_values(df: pd.DataFrame, meta: dict[str, VariableMeta], target: str, context: str) -> Array:
    """The target column as the SCM stores it (0/1 floats for a binary target)."""
    return np.asarray(frame_to_columns(df, meta, [target], context=context)[target], dtype=np.float64)


def model_outputs(model: ModelAdapter, X: pd.DataFrame, y: Array) -> Outputs:
    """Loss and confidence of ``model`` on each row of ``X`` with true values ``y``.

    Classifiers: loss = -log p_y and φ = log(p_y / (1 - p_y)), with p_y the clipped probability of the
    true label (Carlini et al. 2022 use this logit scaling because it makes φ close to Gaussian).
    Regressors: loss = squared error and φ = -squared error.
    """
    if model.task == "regression":
        err = (y - model.scores(X)) ** 2
        return Outputs(loss=err, phi=-err, hard=False)
    p = model.probabilities(X)
    hard = p is None
    if p is None:
        p = model.labels(X)
    p_y = np.clip(np.where(y == 1, p, 1.0 - p), CLIP, 1.0 - CLIP)
    return Outputs(loss=-np.log(p_y), phi=np.log(p_y) - np.log1p(-p_y), hard=hard)
