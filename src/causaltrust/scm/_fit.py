"""Learn an SCM's mechanisms from a DataFrame: one model per node given its parents.

Continuous nodes get an additive-noise model ``h(parents) + N`` whose noise is resampled from the in-sample
residuals; binary and categorical nodes get calibrated class probabilities; roots get their empirical
distribution. Latent variables and their observed children keep the spec's equations (data cannot reveal a
variable it never contains). Everything a fitted mechanism holds is a module-level class, so fitted SCMs
pickle (:meth:`SCM.save`).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.special import expit, softmax

from causaltrust import _dag
from causaltrust.exceptions import DataError, SpecError
from causaltrust.scm._data import VariableMeta, frame_to_columns
from causaltrust.scm._mechanisms import (
    AdditiveNoiseMechanism,
    BernoulliMechanism,
    CategoricalMechanism,
    EmpiricalMechanism,
    Mechanism,
    from_equation,
)
from causaltrust.scm._scaled import raw_coefficients, scaled_logistic
from causaltrust.spec import TrustSpec
from causaltrust.spec._equations import CompiledEquation

if TYPE_CHECKING:
    from causaltrust.scm._model import SCM

__all__ = ["fit_scm"]

Array = np.ndarray
Env = Mapping[str, Array]
_MODES = ("auto", "linear", "gbm")
# Boosting must beat the linear/logistic model by this relative margin to be chosen: the simpler model
# extrapolates sanely and is far cheaper to sample from, so a tie (noise in the CV score) goes to it.
_MARGIN = 1e-3
_EPS = 1e-15
# Below this many design-matrix cells, OpenMP threads in gradient boosting cost more than they save (and
# oversubscribe the cores when tests or benchmarks run in parallel processes): fit single-threaded.
_SERIAL_CELLS = 2_000_000


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
    in NumPy) or ``"estimator"`` (``predict_proba``). ``classes`` are the codes the model saw; other codes
    get probability 0.
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
    ) -> None:
        self.design = design
        self.k = k
        self.classes = np.asarray(classes, dtype=np.intp)
        self.estimator = estimator
        self.coef = coef
        self.intercept = intercept
        self.constant = constant

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
        if len(self.classes) == self.k and np.array_equal(self.classes, np.arange(self.k)):
            return proba
        out = np.zeros((proba.shape[0], self.k))
        out[:, self.classes] = proba
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


def _regressor(kind: str, seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import LinearRegression

    return LinearRegression() if kind == "linear" else HistGradientBoostingRegressor(random_state=seed)


def _classifier(kind: str, seed: int) -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier

    if kind == "logistic":
        return scaled_logistic()
    return CalibratedClassifierCV(HistGradientBoostingClassifier(random_state=seed), method="sigmoid", cv=3)


def _proba(est: Any, X: Array, k: int) -> Array:
    proba = np.asarray(est.predict_proba(X), dtype=np.float64)
    out = np.zeros((X.shape[0], k))
    out[:, np.asarray(est.classes_, dtype=np.intp)] = proba
    return out


def _cv_regression(kind: str, X: Array, y: Array, folds: list[tuple[Array, Array]], seed: int) -> float:
    sse = 0.0
    for tr, te in folds:
        est = _regressor(kind, seed).fit(X[tr], y[tr])
        sse += float(np.sum((y[te] - est.predict(X[te])) ** 2))
    return sse / len(y)


def _cv_log_loss(kind: str, X: Array, y: Array, k: int, folds: list[tuple[Array, Array]], seed: int) -> float:
    total = 0.0
    for tr, te in folds:
        if np.unique(y[tr]).size == 1:
            p = np.zeros((len(te), k))
            p[:, y[tr][0]] = 1.0
        else:
            p = _proba(_classifier(kind, seed).fit(X[tr], y[tr]), X[te], k)
        total -= float(np.sum(np.log(np.clip(p[np.arange(len(te)), y[te]], _EPS, 1.0))))
    return total / len(y)


def _choose(scores: dict[str, float], simple: str) -> str:
    best = min(scores, key=lambda name: scores[name])
    if best != simple and scores[best] < scores[simple] - _MARGIN * abs(scores[simple]):
        return best
    return simple


def _threads(cells: int) -> AbstractContextManager[Any]:
    if cells > _SERIAL_CELLS:
        return nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


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

    def continuous(self, choice: Any) -> tuple[Mechanism, str]:
        label, est = self._regression_model(choice)
        y = self.y
        if label == "linear":
            h: Any = _LinearH(self.design, est.coef_, est.intercept_)
        else:
            h = _EstimatorH(self.design, est)
        residuals = y - h(self.env)
        mech = AdditiveNoiseMechanism(
            self.design.parents,
            h,
            _ResidualDraw(residuals),
            f"fitted: {label}",
            noise_mean=float(residuals.mean()),  # nonzero for shrunk (ridge) or boosted fits
        )
        return mech, label

    def _regression_model(self, choice: Any) -> tuple[str, Any]:
        from sklearn.base import clone

        if not isinstance(choice, str):
            return repr(choice), clone(choice).fit(self.X, self.y)
        kind = choice
        if choice == "auto":
            folds = _folds(len(self.y), None, self.cv, self.seed)
            self.scores = {c: _cv_regression(c, self.X, self.y, folds, self.seed) for c in ("linear", "gbm")}
            kind = _choose(self.scores, "linear")
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
            est = clone(choice).fit(self.X, codes)
            return repr(choice), _Probs(self.design, k, est.classes_, estimator=est)
        kind = {"auto": "auto", "linear": "logistic", "gbm": "calibrated-gbm"}[choice]
        if kind == "auto":
            kind = "logistic"
            # Calibration splits each training fold in 3 again; tiny classes cannot support that.
            if counts.min() >= 3 * self.cv:
                folds = _folds(len(codes), codes, self.cv, self.seed)
                self.scores = {
                    c: _cv_log_loss(c, self.X, codes, k, folds, self.seed)
                    for c in ("logistic", "calibrated-gbm")
                }
                kind = _choose(self.scores, "logistic")
        est = _classifier(kind, self.seed).fit(self.X, codes)
        if kind == "logistic":
            coef, intercept = raw_coefficients(est)
            return kind, _Probs(self.design, k, est.classes_, coef=coef, intercept=intercept)
        return kind, _Probs(self.design, k, est.classes_, estimator=est)


# -- entry point --------------------------------------------------------------------------------------
def _check_args(
    spec: TrustSpec, mechanisms: str | Mapping[str, Any], cv: int, kept: set[str]
) -> tuple[str, dict[str, Any]]:
    if isinstance(cv, bool) or not isinstance(cv, int | np.integer) or cv < 2:
        raise ValueError(f"SCM.fit: cv must be an integer >= 2 (the number of CV folds), got {cv!r}")
    if isinstance(mechanisms, str):
        if mechanisms not in ("auto", "linear"):
            raise ValueError(
                f"SCM.fit: mechanisms must be 'auto', 'linear' or a mapping {{variable: estimator}}, got "
                f"{mechanisms!r}"
            )
        return mechanisms, {}
    if not isinstance(mechanisms, Mapping):
        raise ValueError(
            f"SCM.fit: mechanisms must be 'auto', 'linear' or a mapping {{variable: estimator}}, got "
            f"{type(mechanisms).__name__}"
        )
    per_node = dict(mechanisms)
    for name, choice in per_node.items():
        if name not in spec.variables:
            raise SpecError(f"SCM.fit mechanisms: {name!r} is not a variable ({', '.join(spec.variables)})")
        if name in kept:
            raise SpecError(
                f"SCM.fit mechanisms[{name!r}]: {name!r} keeps its spec equation (it is latent or a child of "
                "a latent variable), so it is not learned from data; drop it from mechanisms"
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


def _kept_nodes(spec: TrustSpec) -> dict[str, CompiledEquation]:
    """Equations of latent variables and their observed children; SpecError naming any without one."""
    children = _dag.children_map(spec.graph_parents)
    kept = set(spec.latent)
    for v in spec.latent:
        kept.update(children.get(v, []))
    ordered = [v for v in spec.variables if v in kept]
    equations = {v: eq for v in ordered if (eq := spec.equation(v)) is not None}
    missing = [v for v in ordered if v not in equations]
    if missing:
        raise SpecError(
            f"SCM.fit needs equations for {missing}: data never contains a latent ('observed: false') "
            "variable, so latent variables and their observed children keep the spec's equations. Add an "
            "'equation:' to each, or include the latent column in the data and mark it observed"
        )
    return equations


def fit_scm(
    cls: type[SCM],
    spec: TrustSpec,
    data: pd.DataFrame,
    *,
    mechanisms: str | Mapping[str, Any] = "auto",
    random_state: int | None = None,
    cv: int = 3,
) -> SCM:
    """Learn one mechanism per node of ``spec`` from ``data`` (what :meth:`SCM.fit` calls).

    Parameters
    ----------
    cls : type
        The SCM class to build (``SCM``).
    spec : TrustSpec
        The graph: each node's parents come from its equation or its ``parents:`` list.
    data : DataFrame
        One column per observed variable (extra columns are ignored), no missing values.
    mechanisms : {"auto", "linear"} or mapping, default "auto"
        ``"auto"`` picks, per node, the model with the best ``cv``-fold score: linear regression vs
        histogram gradient boosting (mean squared error) for continuous nodes, logistic regression vs
        sigmoid-calibrated gradient boosting (log-loss) for binary and categorical ones. ``"linear"``
        fits linear / logistic models only, without cross-validation. A mapping ``{node: estimator}``
        uses a clone of the estimator for that node (a classifier with ``predict_proba`` for discrete
        nodes), or ``"auto"`` / ``"linear"`` / ``"gbm"``; unlisted nodes are ``"auto"``.
    random_state : int, optional
        Seed of the CV folds and of the boosted models; the same data and seed give the same SCM.
    cv : int, default 3
        Number of cross-validation folds; the data needs at least ``2 * cv`` rows.

    Returns
    -------
    SCM
        Roots drawn from their observed values, continuous nodes as additive noise with resampled
        residuals, discrete nodes with learned probabilities; latent variables and their observed
        children keep the spec's equations. ``provenance`` records the chosen model and CV scores of
        every node.

    Raises
    ------
    DataError
        Missing columns, NaN, undeclared categories, wrong types, or fewer than ``2 * cv`` rows.
    SpecError
        A latent variable, or an observed child of one, has no equation; or ``mechanisms`` names a node
        that is not learned.

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, true = ct.scenarios.load("readmission")
    >>> data = true.sample(2_000, random_state=0).drop(columns="L")
    >>> scm = ct.SCM.fit(spec, data, mechanisms="linear", random_state=0)
    >>> scm.provenance["mechanisms"]["Z"], scm.provenance["mechanisms"]["L"]
    ('logistic', 'equation')
    """
    kept = _kept_nodes(spec)
    default, per_node = _check_args(spec, mechanisms, cv, set(kept))
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
    labels: dict[str, str] = {}
    scores: dict[str, dict[str, float]] = {}
    for i, v in enumerate(spec.order):
        var = spec.variables[v]
        categories = tuple(var.categories or ())
        if v in kept:
            mechs[v] = from_equation(kept[v], var.type, categories, v)
            labels[v] = "equation"
            continue
        parents = spec.parents(v)
        if not parents:
            mechs[v] = EmpiricalMechanism(cols[v].copy(), var.type)
            labels[v] = "empirical"
            continue
        design = _Design(
            parents, tuple(len(meta[p].categories) if meta[p].vtype == "categorical" else 0 for p in parents)
        )
        node = _NodeFit(v, var.type, design, {p: cols[p] for p in parents}, cols[v], seed + i, cv)
        choice = per_node.get(v, default)
        with _threads(n_rows * design.width):
            if var.type == "continuous":
                mechs[v], labels[v] = node.continuous(choice)
            else:
                k = len(categories) if var.type == "categorical" else 2
                mechs[v], labels[v] = node.discrete(choice, k)
        if node.scores:
            scores[v] = node.scores
    provenance = {
        "source": "fit",
        "n_rows": n_rows,
        "random_state": random_state,
        "mode": mechanisms if isinstance(mechanisms, str) else "per-node",
        "mechanisms": {v: labels[v] for v in spec.variables},
        "cv_scores": scores,
    }
    return cls(spec, mechs, provenance=provenance)
