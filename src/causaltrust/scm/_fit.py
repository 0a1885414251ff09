"""Learn an SCM's mechanisms from a DataFrame: one model per node given its parents.

Continuous nodes get an additive-noise model ``h(parents) + N`` whose noise is resampled from the in-sample
residuals; binary and categorical nodes get calibrated class probabilities; roots get their empirical
distribution. A latent variable L is identified through its measurement M (``measures: L``), asserted to be
noise-free with unit slope: ``M = L + δ(other parents of M)``. The offsets δ are learned jointly with
E[L | pa(L)] by partially linear regression (cross-fitted residual on residual, Robinson 1988); L's own
mechanism is then learned on L̂ = M − δ̂, and every other child of L (the target included) takes L̂ as an
input. Spec equations are used only for variables the user pins (``assume``). Everything a fitted mechanism
holds is a module-level class, so fitted SCMs pickle (:meth:`SCM.save`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.special import expit, softmax

from causaltrust import _dag
from causaltrust.exceptions import DataError, IdentificationError, SpecError
from causaltrust.scm._data import VariableMeta, frame_to_columns
from causaltrust.scm._mechanisms import (
    AdditiveNoiseMechanism,
    BernoulliMechanism,
    CategoricalMechanism,
    EmpiricalMechanism,
    MeasurementMechanism,
    Mechanism,
    from_equation,
)
from causaltrust.scm._scaled import raw_coefficients, scaled_logistic
from causaltrust.scm._transformed import LogAdditiveNoiseMechanism, use_log_scale
from causaltrust.spec import TrustSpec

if TYPE_CHECKING:
    from causaltrust.scm._model import SCM

__all__ = ["FIT_MECHANISMS", "fit_scm"]

Array = np.ndarray
Env = Mapping[str, Array]
_Splits = list[tuple[Array, Array]]
#: The model classes ``SCM.fit(mechanisms=...)`` takes by name; the CLI's mechanism flags offer these.
FIT_MECHANISMS = ("auto", "linear", "gbm")
_MODES = FIT_MECHANISMS
# Boosting must beat the linear/logistic model by this relative margin to be chosen: the simpler model
# extrapolates sanely and is far cheaper to sample from, so a tie (noise in the CV score) goes to it.
_MARGIN = 1e-3
_EPS = 1e-15
# Every category a fitted discrete mechanism saw in its training rows keeps at least this probability (the
# row is then renormalised): a boosted model can round a category's probability to exactly 0 on a row where
# it occurs, and abducting that row would fail (issue 32). 1e-6 is far below any frequency a fit of fewer
# than a million rows can estimate, so it never changes a reported effect beyond 1e-6. Noted in provenance.
PROBABILITY_FLOOR = 1e-6
# A class with fewer training rows than this is pooled with the other rare classes before a boosted or
# user-given classifier is fitted (:class:`_PooledRare`): calibration splits each fit in 3 and early
# stopping holds out 10% stratified, which fail on classes of one or two rows.
_MIN_CLASS_ROWS = 10
# Every fit runs with one BLAS/OpenMP thread. Threads oversubscribe the cores whenever other processes
# run (tests, benchmarks, a shared machine): on Adult (45k rows), a multinomial logistic fit of occupation
# took 1.9 CPU s single-threaded and 33 CPU s (58 s wall) with default threads on a loaded 2-core machine.
# Model selection (the CV scores in provenance) runs on a seeded random subsample of at most this many rows;
# the chosen model is then fitted on every row. 10,000 rows put the CV standard error of a log-loss or MSE
# well below the _MARGIN-sized gaps that decide the choice on real tables, while the cost of scoring boosting
# (cv x 3 calibration fits per classifier) stops growing with n. A subsample can only favour the simpler
# model (boosting gains more from extra rows), which is the conservative direction.
_SELECT_ROWS = 10_000
# With ``"auto"``, the candidates are scored by ``cv``-fold CV while the selection set is small, and on one
# holdout split (the first of those folds: trained on (cv-1)/cv of the rows, scored on the other 1/cv) once
# that fold holds at least this many rows. Both candidates are scored on the same held-out rows, so the
# comparison is paired; the holdout's score has about sqrt(cv) times the CV's standard error, which matters
# only for gaps of a few tenths of a percent, where the tie rule (_MARGIN) gives the simpler model anyway.
# It cuts the scoring fits by a factor cv (calibrated boosting: 3 fits instead of 3 * cv), which is most of
# an ``"auto"`` fit (issue 30). dowhy.gcm's automatic assignment scores its candidates by 5-fold CV on at
# most 20,000 training rows per split; this rule spends less on the choice and keeps the same paired logic.
_HOLDOUT_ROWS = 2_000
# ``provenance["nodes"][v]["selection"]`` of a node whose model class was given (``"linear"``, ``"gbm"``, an
# estimator): nothing is chosen, so no CV score is computed (it was 60% of a linear fit at 1e4 rows).
_FIXED = "none: the model class was given, so no CV score was computed"
# Boosting stops when the loss on a held-out 10% of its training rows has not improved for this many rounds
# (scikit-learn's own rule, which it switches on by default only above 10,000 rows). It bounds the cost of a
# fit by what the data supports instead of a fixed 100 rounds, and is the usual guard against overfitting.
_N_ITER_NO_CHANGE = 10


# -- design matrix ------------------------------------------------------------------------------------
class _Design:
    """Parents' internal columns → a float design matrix (categorical parents one-hot, unseen codes → 0).

    A plain class with NumPy only: it runs on every ``h(env)`` / ``p(env)`` call of a fitted SCM, which
    may be sampled at millions of rows.
    """

    def __init__(self, parents: tuple[str, ...], levels: tuple[int, ...]) -> None:
        self.parents = parents
        self.levels = levels  # 0: numeric column; K > 0: categorical with K codes
        self.width = sum(k if k else 1 for k in levels)

    def __call__(self, env: Env) -> Array:
        cols = [np.asarray(env[p]) for p in self.parents]
        n = max((c.shape[0] for c in cols if c.ndim), default=1)
        one_hot = any(self.levels)
        X = np.zeros((n, self.width)) if one_hot else np.empty((n, self.width))
        rows = np.arange(n) if one_hot else None
        off = 0
        for col, k in zip(cols, self.levels, strict=True):
            c = np.broadcast_to(col, (n,))
            if not k:
                X[:, off] = c
                off += 1
                continue
            codes = c.astype(np.intp, copy=False)
            ok = (codes >= 0) & (codes < k)
            if ok.all():
                X[rows, off + codes] = 1.0
            else:
                # A category added after fitting (a shift's new hospital) has no column: all-zero row,
                # so the prediction falls back on the intercept rather than crashing.
                X[rows[ok], off + codes[ok]] = 1.0  # type: ignore[index]
            off += k
        return X


# -- picklable callables held by fitted mechanisms -----------------------------------------------------
class _LinearH:
    """``h(env) = X @ coef + intercept`` without sklearn's per-call validation."""

    def __init__(self, design: _Design, coef: Array, intercept: float) -> None:
        self.design = design
        self.coef = np.asarray(coef, dtype=np.float64).ravel()
        self.intercept = float(intercept)

    def __call__(self, env: Env) -> Array:
        out: Array = self.design(env) @ self.coef + self.intercept
        return out


class _EstimatorH:
    """``h(env) = estimator.predict(X)`` for boosted or user-supplied regressors."""

    def __init__(self, design: _Design, estimator: Any) -> None:
        self.design = design
        self.estimator = estimator

    def __call__(self, env: Env) -> Array:
        return np.asarray(self.estimator.predict(self.design(env)), dtype=np.float64)


class _ResidualDraw:
    """Noise drawn from the in-sample residuals (the empirical noise distribution)."""

    def __init__(self, residuals: Array) -> None:
        self.residuals = np.ascontiguousarray(residuals, dtype=np.float64)

    def __call__(self, n: int, rng: np.random.Generator) -> Array:
        out: Array = self.residuals[rng.integers(0, len(self.residuals), n)]
        return out


class _Probs:
    """Class probabilities as an (n, K) matrix in category-code order.

    ``kind`` is ``"constant"`` (one row, broadcast), ``"logistic"`` (coefficients kept, softmax/sigmoid
    in NumPy) or ``"estimator"`` (``predict_proba``). ``classes`` are the codes the model saw; the codes it
    never saw share ``unseen`` (add-one smoothing: each has pseudo-count 1 against the n training rows), so a
    category absent from the training rows is unlikely but not impossible, and abducting it does not fail.
    """

    def __init__(
        self,
        design: _Design,
        k: int,
        classes: Array,
        *,
        estimator: Any = None,
        coef: Array | None = None,
        intercept: Array | None = None,
        constant: Array | None = None,
        n_rows: int = 0,
    ) -> None:
        self.design = design
        self.k = k
        self.classes = np.asarray(classes, dtype=np.intp)
        self.estimator = estimator
        self.coef = coef
        self.intercept = intercept
        self.constant = constant
        missing = k - len(self.classes)
        self.unseen = missing / (n_rows + missing) if missing and n_rows else 0.0

    def matrix(self, env: Env, n: int) -> Array:
        if self.constant is not None:
            return self.constant[None, :]
        X = self.design(env)
        if self.coef is not None and self.intercept is not None:
            z = X @ self.coef.T + self.intercept
            if z.shape[1] == 1:  # binary logistic: one logit for classes[1]
                p1 = expit(z[:, 0])
                proba = np.column_stack([1.0 - p1, p1])
            else:
                proba = softmax(z, axis=1)
        else:
            proba = np.asarray(self.estimator.predict_proba(X), dtype=np.float64)
        if proba.shape[1] > 1 and proba.min(initial=1.0) < PROBABILITY_FLOOR:
            proba = np.maximum(proba, PROBABILITY_FLOOR)
            proba /= proba.sum(axis=1, keepdims=True)
        if len(self.classes) == self.k and np.array_equal(self.classes, np.arange(self.k)):
            return proba
        out = np.zeros((proba.shape[0], self.k))
        unseen = getattr(self, "unseen", 0.0)  # SCMs saved before smoothing existed have none
        out[:, self.classes] = proba * (1.0 - unseen)
        if unseen:
            never = np.setdiff1d(np.arange(self.k), self.classes)
            out[:, never] = unseen / len(never)
        return out


class _CategoricalP:
    """``probs(env, n)`` of a :class:`CategoricalMechanism`."""

    def __init__(self, probs: _Probs) -> None:
        self.probs = probs

    def __call__(self, env: Env, n: int) -> Array:
        return self.probs.matrix(env, n)


class _BinaryP:
    """``p(env)`` = P(node = 1 | parents) of a :class:`BernoulliMechanism`."""

    def __init__(self, probs: _Probs) -> None:
        self.probs = probs

    def __call__(self, env: Env) -> Array | float:
        if self.probs.constant is not None:
            return float(self.probs.constant[1])
        out: Array = self.probs.matrix(env, 0)[:, 1]
        return out


# -- model selection ----------------------------------------------------------------------------------
def _folds(n: int, y: Array | None, cv: int, seed: int) -> list[tuple[Array, Array]]:
    from sklearn.model_selection import KFold, StratifiedKFold

    if y is not None and np.unique(y, return_counts=True)[1].min() >= cv:
        splitter: Any = StratifiedKFold(cv, shuffle=True, random_state=seed)
        return list(splitter.split(np.zeros(n), y))
    splitter = KFold(cv, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(n)))


def _select_rows(n: int, seed: int, y: Array | None = None, floor: int = 0) -> Array | None:
    """Rows the CV scores use: all of them (None) up to ``_SELECT_ROWS``, else a seeded sorted subsample.

    With class codes ``y`` the subsample is stratified, and each class keeps at least ``min(count, floor)``
    rows, so a rare class that allowed calibrated boosting on all rows still allows it (both candidates are
    scored on the same rows, so the comparison stays fair; such a class weighs a little more in the score).
    """
    if n <= _SELECT_ROWS:
        return None
    rng = np.random.default_rng(seed)
    if y is None:
        return np.sort(rng.choice(n, _SELECT_ROWS, replace=False))
    classes, counts = np.unique(y, return_counts=True)
    take = np.maximum(np.floor(counts * (_SELECT_ROWS / n)).astype(np.intp), np.minimum(counts, floor))
    parts = [rng.choice(np.flatnonzero(y == c), t, replace=False) for c, t in zip(classes, take, strict=True)]
    return np.sort(np.concatenate(parts))


def _boosting_kwargs(seed: int) -> dict[str, Any]:
    return {"random_state": seed, "early_stopping": True, "n_iter_no_change": _N_ITER_NO_CHANGE}


def _regressor(kind: Any, seed: int) -> Any:
    from sklearn.base import clone
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import LinearRegression

    if not isinstance(kind, str):
        return clone(kind)
    return LinearRegression() if kind == "linear" else HistGradientBoostingRegressor(**_boosting_kwargs(seed))


def _classifier(kind: Any, seed: int) -> Any:
    from sklearn.base import clone
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier

    if not isinstance(kind, str):
        return _PooledRare(clone(kind))
    if kind == "logistic":
        return scaled_logistic()
    return _PooledRare(
        CalibratedClassifierCV(
            HistGradientBoostingClassifier(**_boosting_kwargs(seed)), method="sigmoid", cv=3
        )
    )


class _PooledRare:
    """A classifier fitted with the classes of fewer than ``_MIN_CLASS_ROWS`` rows pooled into one.

    The pooled class's probability is shared among its members by their training frequencies. When the
    pool itself is still too small, the classifier is fitted on the other classes' rows and the rare classes
    keep their training frequencies (constant in the parents); with fewer than two common classes the whole
    mechanism is those frequencies. A fit that would crash on rare categories (calibration, early stopping)
    thus never does, and every class it saw keeps a positive probability.
    """

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    def fit(self, X: Array, y: Array) -> _PooledRare:
        y = np.asarray(y, dtype=np.intp)
        classes, counts = np.unique(y, return_counts=True)
        self.classes_ = classes
        rare = counts < _MIN_CLASS_ROWS
        n = len(y)
        self.pool_: int | None = None  # the code that stands for the pooled classes
        self.share_ = np.zeros(len(classes))  # of the pool (pooled) or of all rows (left out)
        self.fitted_ = True
        if not rare.any():
            self.mode_ = "plain"
            self.estimator.fit(X, y)
            return self
        if counts[rare].sum() >= _MIN_CLASS_ROWS:
            self.mode_ = "pooled"
            self.pool_ = int(classes[rare][0])
            self.share_[rare] = counts[rare] / counts[rare].sum()
            self.estimator.fit(X, np.where(np.isin(y, classes[rare]), self.pool_, y))
            return self
        self.mode_ = "left out"
        self.share_[rare] = counts[rare] / n
        if (~rare).sum() >= 2:
            keep = np.isin(y, classes[~rare])
            self.estimator.fit(X[keep], y[keep])
        else:
            self.mode_ = "frequencies"
            self.share_ = counts / n
        return self

    def predict_proba(self, X: Array) -> Array:
        n = X.shape[0]
        if self.mode_ == "frequencies":
            return np.tile(self.share_, (n, 1))
        inner = np.asarray(self.estimator.predict_proba(X), dtype=np.float64)
        if self.mode_ == "plain":
            return inner
        col = {int(c): j for j, c in enumerate(self.estimator.classes_)}
        out = np.zeros((n, len(self.classes_)))
        rare = self.share_ > 0
        common = ~rare
        out[:, common] = inner[:, [col[int(c)] for c in self.classes_[common]]]
        if self.pool_ is not None:
            out[:, rare] = inner[:, [col[self.pool_]]] * self.share_[rare]
        else:
            out[:, common] *= 1.0 - self.share_.sum()
            out[:, rare] = self.share_[rare]
        return out


def _proba(est: Any, X: Array, k: int) -> Array:
    proba = np.asarray(est.predict_proba(X), dtype=np.float64)
    out = np.zeros((X.shape[0], k))
    out[:, np.asarray(est.classes_, dtype=np.intp)] = proba
    return out


def _cross_fit(kind: Any, X: Array, Y: Array, folds: list[tuple[Array, Array]], seed: int) -> Array:
    """Out-of-fold predictions of ``Y`` (one column, or several fitted at once when the model allows it)."""
    out = np.empty(Y.shape)
    multi = Y.ndim == 2 and kind != "linear"  # OLS solves every column in one least-squares call
    for tr, te in folds:
        if multi:
            for j in range(Y.shape[1]):
                out[te, j] = _regressor(kind, seed).fit(X[tr], Y[tr, j]).predict(X[te])
        elif Y.ndim == 2 and Y.shape[1] == 0:
            continue
        else:
            out[te] = _regressor(kind, seed).fit(X[tr], Y[tr]).predict(X[te])
    return out


def _selection_folds(n: int, y: Array | None, cv: int, seed: int) -> list[tuple[Array, Array]]:
    """Splits that score the ``"auto"`` candidates: the ``cv`` folds, or only the first one (a holdout)
    once it holds at least ``_HOLDOUT_ROWS`` rows."""
    folds = _folds(n, y, cv, seed)
    return folds[:1] if len(folds[0][1]) >= _HOLDOUT_ROWS else folds


def _selection_text(folds: list[tuple[Array, Array]], n_rows: int, total: int) -> str:
    """How a node's model was chosen, for ``provenance["nodes"][v]["selection"]``."""
    of = f" of {total:,}" if n_rows < total else ""
    if len(folds) == 1:
        test = len(folds[0][1])
        return f"holdout: fitted on {n_rows - test:,}, scored on {test:,}{of} rows"
    return f"{len(folds)}-fold CV on {n_rows:,}{of} rows"


def _cv_regression(kind: Any, X: Array, y: Array, folds: list[tuple[Array, Array]], seed: int) -> float:
    """Mean squared error on the held-out rows of ``folds`` (every row when they are a full CV)."""
    total, count = 0.0, 0
    for tr, te in folds:
        pred = _regressor(kind, seed).fit(X[tr], y[tr]).predict(X[te])
        total += float(np.sum((y[te] - pred) ** 2))
        count += len(te)
    return total / count


def _cv_log_loss(kind: Any, X: Array, y: Array, k: int, folds: list[tuple[Array, Array]], seed: int) -> float:
    """Mean log-loss on the held-out rows of ``folds`` (every row when they are a full CV)."""
    total, count = 0.0, 0
    for tr, te in folds:
        if np.unique(y[tr]).size == 1:
            p = np.zeros((len(te), k))
            p[:, y[tr][0]] = 1.0
        else:
            p = _proba(_classifier(kind, seed).fit(X[tr], y[tr]), X[te], k)
        total -= float(np.sum(np.log(np.clip(p[np.arange(len(te)), y[te]], _EPS, 1.0))))
        count += len(te)
    return total / count


def _choose(scores: dict[str, float], simple: str) -> str:
    best = min(scores, key=lambda name: scores[name])
    if best != simple and scores[best] < scores[simple] - _MARGIN * abs(scores[simple]):
        return best
    return simple


_CONTROLLER: list[Any] = []  # [number of imported modules when built, ThreadpoolController]


def _threads() -> AbstractContextManager[Any]:
    """One BLAS / OpenMP thread inside a fit.

    Scanning the process for thread pools (what ``threadpool_limits`` does on every call) cost about 6 ms,
    a fifth of a linear fit at 1e4 rows: the scan is kept and redone only when modules were imported since
    (a new extension may have brought its own pool).
    """
    import sys

    # Their OpenMP and BLAS pools are loaded before the scan.
    from threadpoolctl import ThreadpoolController

    if not _CONTROLLER or _CONTROLLER[0] != len(sys.modules):
        _CONTROLLER[:] = [len(sys.modules), ThreadpoolController()]
    limiter: AbstractContextManager[Any] = _CONTROLLER[1].limit(limits=1)
    return limiter


# -- one node -----------------------------------------------------------------------------------------
class _NodeFit:
    """Fits one learned node; collects its mechanism, its provenance label and its CV scores."""

    def __init__(
        self, name: str, vtype: str, design: _Design, env: Env, y: Array, seed: int, cv: int
    ) -> None:
        self.name = name
        self.vtype = vtype
        self.design = design
        self.env = env
        self.X = design(env)
        self.y = y
        self.seed = seed
        self.cv = cv
        self.scores: dict[str, float] = {}
        self.metric: str | None = None
        self.score: float | None = None
        self.fitted: Any = None  # the final model (linear coefficients make the provenance equation)
        self.cv_rows: int | None = None  # rows of the selection set (None: nothing was scored)
        self.selection = _FIXED
        self.residual_sd: float | None = None

    def continuous(self, choice: Any) -> tuple[Mechanism, str]:
        log = isinstance(choice, str) and use_log_scale(self.y)
        if log:  # a non-negative, right-skewed node (a count, an amount): additive noise on log1p scale
            self.y = np.log1p(self.y)
        label, est = self._regression_model(choice)
        self.fitted = est
        y = self.y
        if label == "linear":
            h: Any = _LinearH(self.design, est.coef_, est.intercept_)
        else:
            h = _EstimatorH(self.design, est)
        residuals = y - h(self.env)
        self.residual_sd = float(np.std(residuals))
        if log:
            label = f"{label} (log1p scale)"
            draw = _ResidualDraw(residuals)
            exp_mean = float(np.mean(np.exp(residuals)))
            mech_log = LogAdditiveNoiseMechanism(self.design.parents, h, draw, f"fitted: {label}", exp_mean)
            return mech_log, label
        mech = AdditiveNoiseMechanism(
            self.design.parents,
            h,
            _ResidualDraw(residuals),
            f"fitted: {label}",
            noise_mean=float(residuals.mean()),  # nonzero for shrunk (ridge) or boosted fits
        )
        return mech, label

    def _selection_set(self, y: Array, classes: bool = False) -> tuple[Array, Array, _Splits]:
        """Design, target and splits of the ``"auto"`` scores (a seeded subsample above ``_SELECT_ROWS``)."""
        rows = _select_rows(len(y), self.seed, y if classes else None, 3 * self.cv)
        X, y_sel = (self.X, y) if rows is None else (self.X[rows], y[rows])
        folds = _selection_folds(len(y_sel), y_sel if classes else None, self.cv, self.seed)
        self.cv_rows = len(y_sel)
        self.selection = _selection_text(folds, len(y_sel), len(y))
        return X, y_sel, folds

    def _regression_model(self, choice: Any) -> tuple[str, Any]:
        if not (isinstance(choice, str) and choice == "auto"):  # a given class: nothing to choose or score
            label = choice if isinstance(choice, str) else repr(choice)
            return label, _regressor(choice, self.seed).fit(self.X, self.y)
        X, y, folds = self._selection_set(self.y)
        self.metric = "mse"
        self.scores = {c: _cv_regression(c, X, y, folds, self.seed) for c in ("linear", "gbm")}
        kind = _choose(self.scores, "linear")
        self.score = self.scores[kind]
        return kind, _regressor(kind, self.seed).fit(self.X, self.y)

    def discrete(self, choice: Any, k: int) -> tuple[Mechanism, str]:
        codes = self.y.astype(np.intp)
        classes, counts = np.unique(codes, return_counts=True)
        parents = self.design.parents
        if classes.size == 1:
            # One class in the data: the node is constant there; predicting it with probability 1 is
            # the only fit consistent with the data (and keeps abduction valid on it).
            constant = np.zeros(k)
            constant[classes[0]] = 1.0
            probs = _Probs(self.design, k, classes, constant=constant)
            label = "constant"
        else:
            label, probs = self._classifier_model(choice, codes, k, counts)
        if self.vtype == "binary":
            return BernoulliMechanism(parents, _BinaryP(probs), self.name, f"fitted: {label}"), label
        return CategoricalMechanism(parents, _CategoricalP(probs), k, self.name, f"fitted: {label}"), label

    def _classifier_model(self, choice: Any, codes: Array, k: int, counts: Array) -> tuple[str, _Probs]:
        from sklearn.base import clone

        if not isinstance(choice, str):
            if not hasattr(choice, "predict_proba"):
                raise SpecError(
                    f"mechanisms[{self.name!r}]: {self.name!r} is {self.vtype}, so its estimator needs "
                    f"predict_proba (a classifier); got {choice!r}"
                )
            est = _PooledRare(clone(choice)).fit(self.X, codes)
            return repr(choice), _Probs(self.design, k, est.classes_, estimator=est, n_rows=len(codes))
        kind = {"auto": "auto", "linear": "logistic", "gbm": "calibrated-gbm"}[choice]
        if kind == "auto":
            self.metric = "log_loss"
            X, y, folds = self._selection_set(codes, classes=True)
            # Calibration splits each training fold in 3 again; tiny classes cannot support that.
            sel_counts = np.unique(y, return_counts=True)[1]
            calibratable = len(sel_counts) == len(counts) and sel_counts.min() >= 3 * self.cv
            candidates = ("logistic", "calibrated-gbm") if calibratable else ("logistic",)
            self.scores = {c: _cv_log_loss(c, X, y, k, folds, self.seed) for c in candidates}
            kind = _choose(self.scores, "logistic")
            self.score = self.scores[kind]
            if not calibratable:
                self.selection += " (logistic only: a class is too rare to calibrate boosting)"
        est = _classifier(kind, self.seed).fit(self.X, codes)
        self.fitted = est
        if kind == "logistic":
            coef, intercept = raw_coefficients(est)
            probs = _Probs(self.design, k, est.classes_, coef=coef, intercept=intercept, n_rows=len(codes))
            return kind, probs
        return kind, _Probs(self.design, k, est.classes_, estimator=est, n_rows=len(codes))


# -- entry point --------------------------------------------------------------------------------------
def _check_args(
    spec: TrustSpec, mechanisms: str | Mapping[str, Any], cv: int, assumed: set[str]
) -> tuple[str, dict[str, Any]]:
    if isinstance(cv, bool) or not isinstance(cv, int | np.integer) or cv < 2:
        raise ValueError(f"SCM.fit: cv must be an integer >= 2 (the number of CV folds), got {cv!r}")
    if isinstance(mechanisms, str):
        if mechanisms not in _MODES:
            raise SpecError(
                f"SCM.fit: mechanisms must be 'auto', 'linear', 'gbm' or a mapping {{variable: estimator}}, "
                f"got {mechanisms!r}"
            )
        return mechanisms, {}
    if not isinstance(mechanisms, Mapping):
        raise SpecError(
            f"SCM.fit: mechanisms must be 'auto', 'linear', 'gbm' or a mapping {{variable: estimator}}, "
            f"got {type(mechanisms).__name__}"
        )
    per_node = dict(mechanisms)
    for name, choice in per_node.items():
        if name not in spec.variables:
            raise SpecError(f"SCM.fit mechanisms: {name!r} is not a variable ({', '.join(spec.variables)})")
        if name in assumed:
            raise SpecError(
                f"SCM.fit mechanisms[{name!r}]: {name!r} is assumed (its spec equation is pinned), so it is "
                "not learned from data; drop it from mechanisms or from assume"
            )
        if spec.variables[name].measures is not None:
            raise SpecError(
                f"SCM.fit mechanisms[{name!r}]: {name!r} measures {spec.variables[name].measures!r}; its "
                "offsets are learned by partially linear regression, not by a chosen estimator"
            )
        if not spec.parents(name):
            raise SpecError(
                f"SCM.fit mechanisms[{name!r}]: {name!r} has no parents, so it is drawn from its empirical "
                "distribution; an estimator does not apply"
            )
        if isinstance(choice, str):
            if choice not in _MODES:
                raise SpecError(
                    f"SCM.fit mechanisms[{name!r}]: expected one of {_MODES} or an estimator, got {choice!r}"
                )
        elif not (hasattr(choice, "fit") and hasattr(choice, "get_params")):
            raise SpecError(
                f"SCM.fit mechanisms[{name!r}]: expected a scikit-learn estimator (with fit and get_params) "
                f"or one of {_MODES}, got {type(choice).__name__}"
            )
    return "auto", per_node


def _assumed(spec: TrustSpec, assume: Iterable[str]) -> set[str]:
    """Variables whose spec equation is pinned: ``assume=[...]`` plus ``assume: true`` in the spec."""
    if isinstance(assume, str):
        raise SpecError(f"SCM.fit assume: expected a list of variable names, got the string {assume!r}")
    out = {v for v, var in spec.variables.items() if var.assume}
    for v in assume:
        if v not in spec.variables:
            raise SpecError(f"SCM.fit assume: {v!r} is not a variable ({', '.join(spec.variables)})")
        if spec.equation(v) is None:
            raise SpecError(
                f"SCM.fit assume: {v!r} has no equation in the spec, so there is nothing to pin; give it "
                "an 'equation:' or learn it"
            )
        out.add(v)
    return out


def _measurements(spec: TrustSpec, assumed: set[str]) -> dict[str, str]:
    """``{latent: measurement}``; IdentificationError naming the variables when a latent is not identified."""
    parents = spec.graph_parents
    children = _dag.children_map(parents)
    out: dict[str, str] = {}
    for lat in spec.latent:
        if spec.indicators(lat):  # a latent factor (scm._factor)
            continue
        m = spec.measurement(lat)
        if m is None:
            learned = [v for v in (lat, *children.get(lat, [])) if v not in assumed]
            if learned:
                raise IdentificationError(
                    f"SCM.fit: the latent {lat!r} has no measurement, so data cannot recover it and "
                    f"{learned} cannot be learned. Mark its observed measurement with 'measures: {lat}' "
                    f"(an observed child M = {lat} + offsets of M's other parents), or pin {learned} with "
                    "assume=[...]"
                )
            continue
        pa_l = parents[lat]
        latent_pa = [p for p in pa_l if not spec.variables[p].observed]
        if latent_pa:
            raise IdentificationError(
                f"SCM.fit: the latent {lat!r} has latent parents {latent_pa}; recovering {lat!r} through "
                f"{m!r} needs every parent of {lat!r} observed"
            )
        others = [q for q in parents[m] if q != lat]
        hidden = [q for q in others if not spec.variables[q].observed]
        if hidden:
            raise IdentificationError(
                f"SCM.fit: the measurement {m!r} of {lat!r} has other latent parents {hidden}; its offsets "
                "need observed parents"
            )
        desc = _dag.descendants(parents, [lat])
        for q in others:
            if q in pa_l or q in desc:
                rel = "a parent" if q in pa_l else "a descendant"
                raise IdentificationError(
                    f"SCM.fit: {q!r} is a parent of the measurement {m!r} and also {rel} of the latent "
                    f"{lat!r}, so its offset in {m!r} cannot be told apart from its effect on {lat!r}. "
                    f"The offsets of {m} = {lat} + δ({', '.join(others)}) are identified only when their "
                    f"variables are neither parents nor descendants of {lat!r}"
                )
        out[lat] = m
    return out


class _OffsetFit:
    """Offsets of a measurement ``M = L + δ(Q)`` jointly with E[L | pa(L)] (partially linear regression).

    E[M | pa(L), Q] = g(pa(L)) + δ(Q) because L's noise is independent of Q given pa(L) (Q is neither a
    parent nor a descendant of L). Residualising M and the offset design D(Q) on pa(L) with cross-fitted
    models and regressing residual on residual (no intercept) gives δ̂ without knowing g (Robinson 1988).
    δ(first category) = 0, so L is on the first category's scale; numeric parents get a slope.
    """

    def __init__(self, lat: str, m: str, spec: TrustSpec, meta: Mapping[str, VariableMeta]) -> None:
        self.lat = lat
        self.m = m
        self.pa = spec.parents(lat)
        self.parents = spec.parents(m)
        self.others = tuple(q for q in self.parents if q != lat)
        self.meta = meta
        self.selection = _FIXED

    def _offset_design(self, cols: Env) -> tuple[Array, list[tuple[str, int | None]]]:
        blocks: list[Array] = []
        names: list[tuple[str, int | None]] = []
        for q in self.others:
            col = np.asarray(cols[q])
            if self.meta[q].vtype == "categorical":
                for code in range(1, len(self.meta[q].categories)):
                    blocks.append((col == code).astype(np.float64))
                    names.append((q, code))
            else:
                blocks.append(col.astype(np.float64))
                names.append((q, None))
        D = np.column_stack(blocks) if blocks else np.zeros((len(cols[self.m]), 0))
        return D, names

    def fit(self, cols: Env, kind: str, seed: int, cv: int) -> MeasurementMechanism:
        n = len(cols[self.m])
        y = np.asarray(cols[self.m], dtype=np.float64)
        D, names = self._offset_design(cols)
        for j, (q, code) in enumerate(names):
            if code is not None and not D[:, j].any():
                level = self.meta[q].categories[code]
                raise IdentificationError(
                    f"SCM.fit: level {level!r} of {q!r} never occurs in the data, so its offset in the "
                    f"measurement {self.m!r} of {self.lat!r} is not identified; drop the category or add rows"
                )
        if self.pa:
            design = _Design(
                self.pa,
                tuple(
                    len(self.meta[p].categories) if self.meta[p].vtype == "categorical" else 0
                    for p in self.pa
                ),
            )
            P = design(cols)
            folds = _folds(n, None, cv, seed)
            fitted_y: Array | None = None
            if kind == "auto":
                rows = _select_rows(n, seed)
                sel_n = n if rows is None else len(rows)
                sel = _selection_folds(sel_n, None, cv, seed)
                if len(sel) == len(folds) and rows is None:
                    # The selection folds are the cross-fitting folds: keep their predictions.
                    oof = {c: _cross_fit(c, P, y, folds, seed) for c in ("linear", "gbm")}
                    scores = {c: float(np.mean((y - f) ** 2)) for c, f in oof.items()}
                else:
                    Ps, ys = (P, y) if rows is None else (P[rows], y[rows])
                    scores = {c: _cv_regression(c, Ps, ys, sel, seed) for c in ("linear", "gbm")}
                    oof = {}
                self.selection = _selection_text(sel, sel_n, n)
                kind = _choose(scores, "linear")
                fitted_y = oof.get(kind)
            res_y = y - (fitted_y if fitted_y is not None else _cross_fit(kind, P, y, folds, seed))
            res_d = D - _cross_fit(kind, P, D, folds, seed)
        else:
            res_y = y - y.mean()
            res_d = D - D.mean(axis=0)
        self.nuisance = kind if self.pa else "mean"
        for j, (q, code) in enumerate(names):
            raw = D[:, j].var()
            if raw > 0 and res_d[:, j].var() < _OVERLAP * raw:
                what = f"level {self.meta[q].categories[code]!r} of {q!r}" if code is not None else repr(q)
                raise IdentificationError(
                    f"SCM.fit: {what} is (almost) determined by the parents of {self.lat!r} "
                    f"{list(self.pa)} (under {_OVERLAP:.0%} of its variance is left once they are known), "
                    f"so its offset in the measurement {self.m!r} cannot be told apart from their effect on "
                    f"{self.lat!r}. Every level needs to be observed across the range of {list(self.pa)}"
                )
        coef = np.linalg.lstsq(res_d, res_y, rcond=None)[0] if D.shape[1] else np.zeros(0)
        offsets: dict[str, Array | float] = {}
        for q in self.others:
            if self.meta[q].vtype == "categorical":
                offsets[q] = np.zeros(len(self.meta[q].categories))
        for (q, code), c in zip(names, coef, strict=True):
            if code is None:
                offsets[q] = float(c)
            else:
                off = offsets[q]
                assert isinstance(off, np.ndarray)
                off[code] = float(c)
        cats = {q: self.meta[q].categories for q in self.others}
        return MeasurementMechanism(self.lat, self.parents, offsets, cats)


# A level whose indicator keeps less than this share of its variance given pa(L) is treated as determined
# by pa(L): its offset would rest on a few rows and be confounded with g(pa(L)).
_OVERLAP = 0.01


def _invert(mech: Mechanism, lat: str, cols: Env, m: str, n: int) -> Array:
    """L̂ = (M - h(L=0)) / c for an assumed measurement equation affine in L."""
    others = {p: cols[p] for p in mech.parents if p != lat}
    h0 = np.broadcast_to(mech.mean({**others, lat: np.zeros(n)}, n, m), (n,))
    c = np.broadcast_to(mech.mean({**others, lat: np.ones(n)}, n, m), (n,)) - h0
    if lat not in mech.affine_in() or np.any(c == 0):
        raise IdentificationError(
            f"SCM.fit: the assumed equation of {m!r} does not recover {lat!r}: a measurement must be "
            f"noise-free and affine in {lat!r} with a nonzero coefficient"
        )
    return np.asarray((np.asarray(cols[m]) - h0) / c, dtype=np.float64)


def _names(design: _Design, meta: Mapping[str, VariableMeta]) -> list[str]:
    out: list[str] = []
    for p, k in zip(design.parents, design.levels, strict=True):
        if k:
            out.extend(f"({p} == {c!r})" for c in meta[p].categories[:k])
        else:
            out.append(p)
    return out


def _linear_text(coef: Array, intercept: float, names: list[str]) -> str:
    text = f"{intercept:.3f}"
    for c, name in zip(coef, names, strict=True):
        if round(float(c), 3) != 0.0:
            text += f" {'-' if c < 0 else '+'} {abs(float(c)):.3f}*{name}"
    return text


def _equation_text(v: str, label: str, node: _NodeFit, meta: Mapping[str, VariableMeta]) -> str:
    parents = ", ".join(node.design.parents)
    est = node.fitted
    if label == "linear" and est is not None:
        sd = node.residual_sd if node.residual_sd is not None else float(np.std(node.y - est.predict(node.X)))
        lin = _linear_text(est.coef_, float(est.intercept_), _names(node.design, meta))
        return f"{lin} + noise(sd {sd:.3f})"
    if label == "logistic" and est is not None and node.vtype == "binary":
        coef, intercept = raw_coefficients(est)  # fitted on standardised columns; printed on the raw scale
        lin = _linear_text(coef[0], float(intercept[0]), _names(node.design, meta))
        return f"bernoulli(sigmoid({lin}))"
    return f"{label}({parents})"


def fit_scm(
    cls: type[SCM],
    spec: TrustSpec,
    data: pd.DataFrame,
    *,
    mechanisms: str | Mapping[str, Any] = "auto",
    random_state: int | None = None,
    cv: int = 3,
    assume: Iterable[str] = (),
) -> SCM:
    """Learn every mechanism of ``spec`` that ``data`` identifies (what :meth:`SCM.fit` calls).

    Parameters
    ----------
    cls : type
        The SCM class to build (``SCM``).
    spec : TrustSpec
        The structure: each node's parents come from its ``parents:`` list or its equation (equations are
        otherwise ignored), and ``measures: L`` marks the measurement of each latent L.
    data : DataFrame
        One column per observed variable (extra columns are ignored), no missing values.
    mechanisms : {"auto", "linear", "gbm"} or mapping, default "auto"
        ``"auto"`` picks, per node, the model with the best held-out score: linear regression vs
        histogram gradient boosting (mean squared error) for continuous nodes, logistic regression vs
        sigmoid-calibrated gradient boosting (log-loss) for binary and categorical ones. ``"linear"``
        fits linear / logistic models only, ``"gbm"`` boosted ones only (categories with fewer than 10
        rows pooled for the fit, their probability shared by frequency); a node whose model class is
        given this way (or by an estimator) has nothing to choose and gets no CV score
        (``cv_score`` None). A mapping ``{node: estimator}``
        uses a clone of the estimator for that node (a classifier with ``predict_proba`` for discrete
        nodes, its rare categories pooled the same way), or ``"auto"`` / ``"linear"`` / ``"gbm"``;
        unlisted nodes are ``"auto"``. The same choice is made for the nuisance regressions of each
        measurement's offsets. Every category seen in the data keeps a probability of at least
        ``PROBABILITY_FLOOR`` (1e-6; ``provenance["probability_floor"]``), so abducting a training row
        never fails.
        With ``"auto"`` / ``"linear"`` / ``"gbm"``, a continuous node whose values are non-negative with
        skewness above 1 (a count, an amount) is modelled on the log1p scale, ``expm1(h(parents) + N)``;
        logistic models are fitted on standardised columns.
    random_state : int, optional
        Seed of the CV folds and of the boosted models; the same data and seed give the same SCM.
    cv : int, default 3
        Number of cross-validation (and cross-fitting) folds; the data needs at least ``2 * cv`` rows.
        Above 10,000 rows the ``"auto"`` scores (model selection) use a seeded random subsample of 10,000
        rows, stratified by class for discrete nodes; when one fold of that selection set holds at least
        2,000 rows the candidates are scored on that fold alone (a holdout: fitted on the other folds),
        else by ``cv``-fold CV. The chosen model is fitted on every row, and the offsets' cross-fitting
        always uses every row and ``cv`` folds. Boosting stops early on a held-out 10% of its training rows.
    assume : list of str, optional
        Variables whose spec equation is pinned instead of learned (also ``assume: true`` in the spec).

    Returns
    -------
    SCM
        Roots drawn from their observed values; continuous nodes as additive noise with resampled
        residuals; discrete nodes with learned probabilities; each measurement ``M = L + δ̂``; each latent
        learned on L̂ = M − δ̂. ``provenance["nodes"][v]`` is ``{"status": "learned" | "assumed", "model",
        "cv_metric", "cv_score", "cv_rows", "selection", "equation"}`` (``cv_rows``: the rows of the
        selection set; ``selection``: how the model was chosen, e.g. ``"holdout: fitted on 6,666, scored
        on 3,334 of 100,000 rows"``, or that the class was given and nothing was scored, the CV fields
        then None);
        ``provenance["assumptions"]`` lists what data cannot check (each measurement's noise-free unit
        slope, each pinned equation).

    Raises
    ------
    DataError
        Missing columns, NaN, undeclared categories, wrong types, or fewer than ``2 * cv`` rows.
    IdentificationError
        A latent without a ``measures:`` child (unless it and its children are assumed); a parent of a
        measurement that is also a parent or descendant of its latent; a level of such a parent that never
        occurs, or that the latent's parents (almost) determine.
    SpecError
        ``assume`` names a variable without an equation; ``mechanisms`` names a node that is not learned.

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, true = ct.scenarios.load("readmission")
    >>> data = true.sample(4_000, random_state=0).drop(columns="L")
    >>> scm = ct.SCM.fit(spec, data, mechanisms="linear", random_state=0)
    >>> scm.provenance["nodes"]["Y"]["status"], scm.provenance["nodes"]["L"]["model"]
    ('learned', 'linear')
    """
    from causaltrust.scm._factor import factor_latents, fit_factor

    assumed = _assumed(spec, assume)
    factors = factor_latents(spec, assumed)
    measured = _measurements(spec, assumed)
    default, per_node = _check_args(spec, mechanisms, cv, assumed)
    meta = {
        n: VariableMeta(n, v.type, tuple(v.categories or ()), v.observed) for n, v in spec.variables.items()
    }
    cols = frame_to_columns(data, meta, spec.observed, context="SCM.fit data")
    n_rows = len(data)
    if n_rows < 2 * cv:
        raise DataError(
            f"SCM.fit data has {n_rows} row(s); fitting with cv={cv} folds needs at least {2 * cv} "
            "(more rows, or a smaller cv)"
        )
    seed = int(np.random.default_rng(random_state).integers(0, 2**31 - 1))
    mechs: dict[str, Mechanism] = {}
    nodes: dict[str, dict[str, Any]] = {}
    scores: dict[str, dict[str, float]] = {}
    assumptions: list[str] = []
    support: dict[str, dict[str, Any]] = {}
    for i, v in enumerate(spec.order):
        var = spec.variables[v]
        categories = tuple(var.categories or ())
        if v in factors:  # a latent factor: its indicators' model is fitted with it (SVI)
            factor = fit_factor(spec, v, cols, meta, seed + i)
            mechs.update(factor.mechanisms)
            nodes.update(factor.nodes)
            cols[v] = factor.posterior_mean
            assumptions.extend(factor.assumptions)
            support[v] = _support(spec.parents(v), cols, meta)
            continue
        if v in measured:  # a latent: recover L̂ from its measurement before anything uses it
            m = measured[v]
            if m in assumed:
                eq_m = spec.equation(m)
                assert eq_m is not None
                mechs[m] = from_equation(eq_m, "continuous", (), m)
                cols[v] = _invert(mechs[m], v, cols, m, n_rows)
            else:
                kind = per_node.get(v, default)
                fit = _OffsetFit(v, m, spec, meta)
                with _threads():
                    mech_m = fit.fit(cols, kind if isinstance(kind, str) else "auto", seed + i, cv)
                mechs[m] = mech_m
                cols[v] = np.asarray(cols[m], dtype=np.float64) - mech_m.delta(cols, n_rows)
                nodes[m] = {
                    "status": "learned",
                    "model": f"measurement of {v}: offsets by partially linear regression "
                    f"(nuisance {fit.nuisance}, cross-fitted)",
                    "cv_metric": None,
                    "cv_score": None,
                    "selection": fit.selection if fit.pa else "none: the latent has no parents",
                    "equation": mech_m.equation(),
                    "assumption": f"measures {v} (noise-free, unit slope)",
                }
            assumptions.append(f"{m} measures {v} (noise-free, unit slope)")
            support[v] = _support(spec.parents(v), cols, meta)
        if v in mechs:  # a measurement, built with its latent above
            if v in assumed:
                nodes[v] = _assumed_entry(spec, v)
                assumptions.append(f"{v}: {spec.variables[v].equation}")
            continue
        if v in assumed:
            eq = spec.equation(v)
            assert eq is not None
            mechs[v] = from_equation(eq, var.engine_type, categories, v)
            nodes[v] = _assumed_entry(spec, v)
            assumptions.append(f"{v}: {var.equation}")
            continue
        if v not in cols:
            # A latent with no measurement whose children are all assumed: it cannot be learned either.
            raise IdentificationError(
                f"SCM.fit: the latent {v!r} has no measurement ('measures: {v}') and is not assumed"
            )
        parents = spec.parents(v)
        if not parents:
            mechs[v] = EmpiricalMechanism(cols[v].copy(), var.engine_type)
            nodes[v] = {"status": "learned", "model": "empirical", "cv_metric": None, "cv_score": None,
                        "equation": f"empirical distribution of {n_rows} values"}  # fmt: skip
            continue
        design = _Design(
            parents, tuple(len(meta[p].categories) if meta[p].vtype == "categorical" else 0 for p in parents)
        )
        node = _NodeFit(v, var.engine_type, design, {p: cols[p] for p in parents}, cols[v], seed + i, cv)
        choice = per_node.get(v, default)
        with _threads():
            if var.engine_type == "continuous":
                mechs[v], label = node.continuous(choice)
            else:
                k = len(categories) if var.type == "categorical" else 2
                mechs[v], label = node.discrete(choice, k)
        if node.scores:
            scores[v] = node.scores
        nodes[v] = {
            "status": "learned",
            "model": label,
            "cv_metric": node.metric,
            "cv_score": node.score,
            "cv_rows": node.cv_rows,
            "selection": node.selection,
            "equation": _equation_text(v, label, node, meta),
        }
        if not var.observed:
            nodes[v]["equation"] += f" (fitted on {v} recovered as {measured[v]} - offsets)"
    provenance = {
        "source": "fit",
        "n_rows": n_rows,
        "random_state": random_state,
        "mode": mechanisms if isinstance(mechanisms, str) else "per-node",
        "nodes": {v: nodes[v] for v in spec.variables},
        "mechanisms": {
            v: nodes[v]["model"] if nodes[v]["status"] == "learned" else "equation" for v in spec.variables
        },
        "cv_scores": scores,
        # every category seen in the data keeps at least this probability in a fitted discrete mechanism
        "probability_floor": PROBABILITY_FLOOR,
        "assumptions": assumptions,
        "support": support,
    }
    return cls(spec, mechs, provenance=provenance)


def _assumed_entry(spec: TrustSpec, v: str) -> dict[str, Any]:
    return {"status": "assumed", "model": "spec equation", "cv_metric": None, "cv_score": None,
            "equation": spec.variables[v].equation}  # fmt: skip


def _support(parents: tuple[str, ...], cols: Env, meta: Mapping[str, VariableMeta]) -> dict[str, Any]:
    """Training support of a latent's parents (``adapt`` warns when new rows leave it)."""
    out: dict[str, Any] = {}
    for p in parents:
        col = np.asarray(cols[p])
        if meta[p].vtype == "continuous":
            out[p] = [float(col.min()), float(col.max())]
        else:
            out[p] = sorted(int(c) for c in np.unique(col))
    return out
