"""Reward models fitted on observational feedback, naive or deconfounded (double machine learning).

Model: engagement ``Y = θ·φ(text) + g(C) + ε`` with text embedding φ and known confounders C that also shape
which
texts appear. A naive reward regresses Y on φ and absorbs the part of g(C) that φ predicts. The deconfounded
reward
partials C out with cross-fitting (Robinson 1988; Chernozhukov et al. 2018): residuals ``Y - E[Y|C]`` and
``φ - E[φ|C]`` come from nuisance models fitted on the other folds, and θ is the ridge regression of the one
on the
other. ``residualize="outcome"`` removes E[Y|C] from the outcome only (the reward-signal correction described
by
DeconfoundLM), which is unbiased only when φ is independent of C.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import SplineTransformer, StandardScaler
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from causaltrust.exceptions import DataError
from causaltrust.text._learners import _SavesAsData, _validated_fit

__all__ = ["RewardModel"]

_ALPHAS = tuple(float(a) for a in np.logspace(-3, 3, 13))


def _default_nuisance() -> Any:
    # flexible in each confounder (cubic splines), multi-output so one fit predicts every embedding dimension
    return make_pipeline(StandardScaler(), SplineTransformer(n_knots=5, degree=3), RidgeCV(alphas=_ALPHAS))


class RewardModel(_SavesAsData, RegressorMixin, BaseEstimator):
    """Reward model on text embeddings, naive (``deconfound=[]``) or deconfounded by cross-fitted partialling
    out.

    Parameters
    ----------
    deconfound : sequence of str
        Names of the confounder columns passed to ``fit(..., confounders=df)``. Empty: the naive reward model.
    encoder : object with ``encode(list[str]) -> ndarray``, callable, or None
        Text embedding; default the offline MiniLM encoder (``ct.text.minilm_encoder()``).
    residualize : {"both", "outcome"}
        "both" (default): partial the confounders out of the outcome and of the embeddings (double ML).
        "outcome": only out of the outcome.
    nuisance : sklearn regressor or None
        Model of E[Y | C] and E[φ | C] (multi-output); default cubic splines per confounder with ridge.
    alphas : sequence of float
        Ridge penalties tried (by efficient leave-one-out) for the final regression.
    folds : int
        Cross-fitting folds.
    random_state : int or None
        Seed of the fold split.

    Attributes
    ----------
    coef_ : ndarray
        θ, the reward's weights on the embedding.
    intercept_ : float
        Reward of the mean embedding at the mean confounder value.

    Examples
    --------
    >>> import causaltrust as ct
    >>> data = ct.text.FeedbackSimulator(confounding=1.0).sample(400, random_state=0)
    >>> rm = ct.text.RewardModel(deconfound=["peak_hour", "audience"], random_state=0)
    >>> rm = rm.fit(data.texts, data.outcome, confounders=data.confounders)  # doctest: +SKIP
    >>> rm.predict(["What do you think?"]).shape  # doctest: +SKIP
    (1,)
    """

    _code_settings = ("encoder",)
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "deconfound": ["array-like"],
        "encoder": [HasMethods(["encode"]), callable, None],
        "residualize": [StrOptions({"both", "outcome"})],
        "nuisance": [HasMethods(["fit", "predict"]), None],
        "alphas": ["array-like"],
        "folds": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        deconfound: Sequence[str] = (),
        *,
        encoder: Any = None,
        residualize: str = "both",
        nuisance: Any = None,
        alphas: Sequence[float] = _ALPHAS,
        folds: int = 5,
        random_state: int | None = None,
    ) -> None:
        self.deconfound = deconfound
        self.encoder = encoder
        self.residualize = residualize
        self.nuisance = nuisance
        self.alphas = alphas
        self.folds = folds
        self.random_state = random_state

    def _embed(self, texts: Any) -> np.ndarray:
        if isinstance(texts, str) or not isinstance(texts, Sequence | np.ndarray | pd.Series):
            raise DataError(f"texts must be a list of strings, got {type(texts).__name__}")
        items = list(texts)
        if not items or not all(isinstance(t, str) for t in items):
            raise DataError("texts must be a non-empty list of strings")
        enc = self.encoder
        if enc is None:
            from causaltrust.text._models import minilm_encoder

            enc = minilm_encoder()
        uniq, inverse = np.unique(np.asarray(items, dtype=object), return_inverse=True)
        emb = enc.encode(list(uniq)) if hasattr(enc, "encode") else enc(list(uniq))
        emb = np.asarray(emb, dtype=float)
        if emb.ndim != 2 or emb.shape[0] != len(uniq):
            raise DataError(f"the encoder must return one embedding row per text, got shape {emb.shape}")
        return emb[inverse.ravel()]

    @_validated_fit
    def fit(self, X: Any, y: Any, *, confounders: pd.DataFrame | None = None) -> RewardModel:
        """Fit on texts ``X`` with outcomes ``y``; ``confounders`` holds the ``deconfound`` columns."""
        emb = self._embed(X)
        target = np.asarray(y, dtype=float).ravel()
        if target.shape[0] != emb.shape[0] or not np.all(np.isfinite(target)):
            raise DataError(
                f"y must hold one finite outcome per text ({emb.shape[0]}), got {target.shape[0]} values"
            )
        names = list(self.deconfound)
        ridge = RidgeCV(alphas=list(self.alphas))
        self.n_features_in_ = emb.shape[1]
        if not names:
            ridge.fit(emb, target)
            self.coef_, self.intercept_ = ridge.coef_.copy(), float(ridge.intercept_)
            self.alpha_ = float(ridge.alpha_)
            return self
        if confounders is None or not isinstance(confounders, pd.DataFrame):
            raise DataError(f"deconfound={names} needs confounders=DataFrame with those columns in fit")
        missing = [c for c in names if c not in confounders.columns]
        if missing:
            raise DataError(f"confounders lacks the columns {missing}; it has {list(confounders.columns)}")
        conf = confounders[names].to_numpy(dtype=float)
        if conf.shape[0] != emb.shape[0] or not np.all(np.isfinite(conf)):
            raise DataError(
                f"confounders must have {emb.shape[0]} rows of finite numbers, got {conf.shape[0]}"
            )
        y_res = np.empty_like(target)
        e_res = emb.copy()
        base = self.nuisance if self.nuisance is not None else _default_nuisance()
        split = KFold(n_splits=self.folds, shuffle=True, random_state=self.random_state)
        for train, test in split.split(conf):
            y_res[test] = target[test] - clone(base).fit(conf[train], target[train]).predict(conf[test])
            if self.residualize == "both":
                e_res[test] = emb[test] - clone(base).fit(conf[train], emb[train]).predict(conf[test])
        ridge.fit(e_res, y_res)
        self.coef_ = ridge.coef_.copy()
        self.alpha_ = float(ridge.alpha_)
        # the reward of the mean text at the average confounder value
        self.intercept_ = float(target.mean() - emb.mean(axis=0) @ self.coef_)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Reward of each text: ``θ·φ(text) + intercept``."""
        check_is_fitted(self, "coef_")
        emb = self._embed(X)
        if emb.shape[1] != self.n_features_in_:
            raise DataError(
                f"the encoder gives {emb.shape[1]} dimensions; the model was fitted on {self.n_features_in_}"
            )
        return np.asarray(emb @ self.coef_ + self.intercept_, dtype=float)
