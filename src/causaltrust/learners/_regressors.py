"""Regressor twins of the fairness baselines, for a continuous target (a grade, a credit limit, a score).

Each reads the protected attribute(s) from the DataFrame columns the spec names and one-hot encodes
categorical features with the same :class:`~causaltrust.learners._base.Design` as every other learner:

* :class:`ERMRegressor`: none (least squares on every feature, the reference point; Kusner's "Full");
* :class:`UnawareRegressor`: the protected attribute(s) dropped from the inputs (Kusner's "Unaware");
* :class:`CounterfactualFairRegressor`: Kusner et al.'s (2017) counterfactual fairness; ``level=3`` is
  their "Fair Add" (the protected attributes' descendants enter only through their abducted additive
  noise, i.e. their residuals on their parents);
* :class:`CounterfactualAugmentationRegressor`: each unit joined by its counterfactual twins with the
  protected attribute changed (target kept);
* :class:`BoundedGroupLossRegressor`: group fairness for regression, fairlearn's bounded-group-loss
  reduction (Agarwal, Dudík & Wu 2019): every group's mean squared error at most a bound.

``protected`` (default: the spec's ``fairness.protected``) may list more than one attribute, as Kusner's
law school analysis protects race and sex together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import LinearRegression
from sklearn.utils.validation import check_is_fitted

from causaltrust import _dag
from causaltrust.exceptions import DataError, SpecError
from causaltrust.learners._base import Design, check_frame, columns_with_unseen, resolve_spec
from causaltrust.learners._fair_baselines import CounterfactualFairClassifier, _pooled, _takes
from causaltrust.scm import SCM
from causaltrust.scm._data import VariableMeta
from causaltrust.spec import TrustSpec

__all__ = [
    "BoundedGroupLossRegressor",
    "CounterfactualAugmentationRegressor",
    "CounterfactualFairRegressor",
    "ERMRegressor",
    "UnawareRegressor",
]

Array = np.ndarray
_LEVELS = (2, 3)


class _Design(Design):
    """A :class:`Design` that may have no inputs (Fair Add on a graph where every feature descends from A)."""

    def transform(self, cols: Mapping[str, Array]) -> Array:
        if not self.features:
            return np.empty((len(next(iter(cols.values()))), 0))
        return super().transform(cols)


class _RegressorBase(RegressorMixin, BaseEstimator):
    """Validation, encoding and prediction plumbing of the regressors (continuous target)."""

    #: whether the protected attribute(s) are inputs of the final estimator
    _uses_protected = True

    def __init__(
        self,
        spec: Any = None,
        estimator: Any = None,
        *,
        protected: Any = None,
        random_state: int | None = None,
    ) -> None:
        self.spec = spec
        self.estimator = estimator
        self.protected = protected
        self.random_state = random_state

    @property
    def _seed(self) -> int:
        return 0 if self.random_state is None else int(self.random_state)

    def _protected_names(self, spec: TrustSpec, *, required: bool) -> list[str]:
        name = type(self).__name__
        given = self.protected
        if given is None:
            if spec.protected is None:
                if required:
                    raise SpecError(
                        f"{name} needs a protected attribute: give the spec a 'fairness' section "
                        "(fairness: {protected: A, ...}) or pass protected=[...]"
                    )
                return []
            names = [spec.protected]
        else:
            names = [given] if isinstance(given, str) else list(given)
            if not names or not all(isinstance(p, str) for p in names):
                raise ValueError(
                    f"{name}: protected must be a variable name or a list of them, got {given!r}"
                )
        for p in names:
            if p not in spec.features:
                raise SpecError(
                    f"{name} reads the protected attribute {p!r} from X, but it is not among the spec's "
                    f"features {spec.features}; add it to 'features:'"
                )
            if spec.variables[p].type == "continuous":
                raise SpecError(
                    f"{name} needs binary or categorical protected attributes; {p!r} is continuous"
                )
        return names

    def _validate_fit(self, X: Any, y: Any) -> tuple[TrustSpec, pd.DataFrame, Array]:
        name = type(self).__name__
        spec = resolve_spec(self.spec, name)
        if spec.variables[spec.target].type != "continuous":
            twin = name.replace("Regressor", "Classifier")
            raise SpecError(
                f"{name} predicts a continuous target, but the spec's target {spec.target!r} is "
                f"{spec.variables[spec.target].type}; use {twin} (or declare the target continuous)"
            )
        X = check_frame(X, spec.features, name, spec=spec)
        y_arr = np.asarray(y)
        if y_arr.ndim != 1 or len(y_arr) != len(X):
            raise DataError(
                f"{name}.fit: y must be 1-D with one value per row of X ({len(X)}), got {y_arr.shape}"
            )
        try:
            y_num = y_arr.astype(np.float64)
        except (TypeError, ValueError):
            raise DataError(
                f"{name}.fit: y must be numeric, got values such as {y_arr[:3].tolist()}"
            ) from None
        if not np.all(np.isfinite(y_num)):
            raise DataError(f"{name}.fit: y has NaN or infinite values")
        est = self._base_estimator()
        if not (hasattr(est, "fit") and hasattr(est, "predict")):
            raise DataError(
                f"{name}: estimator must be a scikit-learn regressor with fit and predict, got "
                f"{type(est).__name__}"
            )
        return spec, X, y_num

    def _base_estimator(self) -> Any:
        return LinearRegression() if self.estimator is None else self.estimator

    def _clone_estimator(self) -> Any:
        est = clone(self._base_estimator())
        params = est.get_params(deep=False)
        if "random_state" in params and params["random_state"] is None and self.random_state is not None:
            est.set_params(random_state=self.random_state)
        return est

    def _inputs(self, spec: TrustSpec) -> list[str]:
        drop = set(self.protected_) if not self._uses_protected else set()
        return [f for f in spec.features if f not in drop]

    def _begin_fit(self, spec: TrustSpec, X: pd.DataFrame) -> dict[str, Array]:
        self.spec_ = spec
        self.meta_ = {
            n: VariableMeta(n, v.type, tuple(v.categories or ()), v.observed)
            for n, v in spec.variables.items()
        }
        self.n_features_in_ = len(spec.features)
        self.feature_names_in_ = np.asarray(spec.features, dtype=object)
        cols = columns_with_unseen(X, self.meta_, spec.features, type(self).__name__)
        self.design_ = _Design(self.meta_, self._inputs(spec)).fit(cols)
        self.category_freq_ = Design(self.meta_, spec.features).fit(cols).freq
        return cols

    def _predict_cols(self, X: Any) -> tuple[pd.DataFrame, dict[str, Array]]:
        check_is_fitted(self, "design_")
        name = type(self).__name__
        X = check_frame(X, self.spec_.features, name, spec=self.spec_, fit=False)
        return X, columns_with_unseen(X, self.meta_, self.spec_.features, name)

    def _represent(self, X: pd.DataFrame, cols: dict[str, Array]) -> Array:
        return self.design_.transform(cols)

    def _predict_known(self, X: pd.DataFrame, cols: dict[str, Array]) -> Array:
        return np.asarray(self.estimator_.predict(self._represent(X, cols)), dtype=np.float64).reshape(len(X))

    def predict(self, X: pd.DataFrame) -> Array:
        """Predictions for the rows of ``X`` (a DataFrame of ``spec.features``)."""
        X, cols = self._predict_cols(X)
        return _pooled(cast(Any, self), X, cols, self._predict_known)

    def _fit_plain(self, X: pd.DataFrame, y: Any, *, drops: bool) -> None:
        spec, X, y_arr = self._validate_fit(X, y)
        self.protected_ = self._protected_names(spec, required=drops)
        cols = self._begin_fit(spec, X)
        self.estimator_ = self._clone_estimator().fit(self.design_.transform(cols), y_arr)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags


class ERMRegressor(_RegressorBase):
    """Least squares on every encoded feature (no invariance targeted): Kusner et al.'s "Full" model.

    Parameters
    ----------
    spec : TrustSpec, dict or path
        The trust spec; its target must be continuous.
    estimator : regressor, default LinearRegression()
        Fitted on the encoded features.
    protected : str or list of str, optional
        Not used by this estimator (kept so that every regressor takes the same parameters).
    random_state : int, optional
        Seeds the estimator when it has an unset ``random_state``.

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, df = ct.datasets.spec("law_school"), ct.datasets.load("law_school")
    >>> reg = ct.learners.ERMRegressor(spec=spec).fit(df[spec.features], df[spec.target])
    >>> reg.predict(df[spec.features].head(2)).shape
    (2,)
    """

    def fit(self, X: pd.DataFrame, y: Any) -> ERMRegressor:
        """Fit the estimator on the encoded features of ``X`` (``y`` continuous)."""
        self._fit_plain(X, y, drops=False)
        return self


class UnawareRegressor(_RegressorBase):
    """Fairness through unawareness for regression: the protected attribute(s) dropped from the inputs.

    The direct effect A→Ŷ is zero by construction; A's descendants among the features still carry its
    effect (Kusner et al.'s "Unaware" model).

    Parameters
    ----------
    spec : TrustSpec, dict or path
    estimator : regressor, default LinearRegression()
    protected : str or list of str, optional
        The attributes to drop (default: the spec's protected attribute).
    random_state : int, optional

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, df = ct.datasets.spec("law_school"), ct.datasets.load("law_school")
    >>> reg = ct.learners.UnawareRegressor(spec=spec, protected=["race", "sex"])
    >>> reg.fit(df[spec.features], df[spec.target]).design_.features
    ['UGPA', 'LSAT']
    """

    _uses_protected = False

    def fit(self, X: pd.DataFrame, y: Any) -> UnawareRegressor:
        """Fit the estimator on every encoded feature but the protected attribute(s)."""
        self._fit_plain(X, y, drops=True)
        return self


class _SCMRegressorBase(_RegressorBase):
    """SCM handling (given, or learned from the training rows) of the counterfactual regressors."""

    scm: SCM | None
    scm_mechanisms: Any

    def _resolve_scm(self, spec: TrustSpec, X: pd.DataFrame, y: Array) -> SCM:
        name = type(self).__name__
        if self.scm is not None:
            if not isinstance(self.scm, SCM):
                raise DataError(f"{name}: scm must be a causaltrust SCM, got {type(self.scm).__name__}")
            if set(self.scm.variables) != set(spec.variables):
                raise SpecError(f"{name}: the SCM's variables {self.scm.variables} differ from the spec's")
            self.scm_source_ = "given"
            return self.scm
        frame = X.assign(**{spec.target: y})
        missing = [v for v in spec.observed if v not in frame.columns]
        if missing:
            raise DataError(
                f"{name}: learning the SCM needs every observed variable; X lacks {missing}. Pass scm=..."
            )
        self.scm_source_ = "training rows"
        return SCM.fit(spec, frame[[*spec.observed]], mechanisms=self.scm_mechanisms, random_state=self._seed)


class CounterfactualFairRegressor(_SCMRegressorBase):
    """Kusner et al.'s (2017) counterfactual fairness for a continuous target.

    ``level=3`` ("Fair Add"): the estimator sees the protected attributes' non-descendants among the
    features and the abducted noise of every descendant the features depend on. For additive-noise
    descendants that noise is the residual of the descendant on its parents (``UGPA - h(race, sex)``), the
    same in the factual and every counterfactual world, so the prediction's counterfactual effect of each
    protected attribute is exactly zero under the SCM used. Binary and categorical descendants enter
    through their posterior-mean noise, as in :class:`CounterfactualFairClassifier`.

    ``level=2`` ("Fair K", predictions from the posterior of latent factors) needs latent factors with
    indicators in the spec; it is refused until that lands.

    Parameters
    ----------
    spec : TrustSpec, dict or path
        The trust spec; its target must be continuous.
    estimator : regressor, default LinearRegression()
    scm : SCM, optional
        The causal model. When None, learned with ``SCM.fit`` from the training rows (X and y).
    level : {3, 2}, default 3
        Kusner's level of causal assumptions (3: additive noise; 2: latent factors, not yet available).
    protected : str or list of str, optional
        Attributes whose every effect is blocked (default: the spec's protected attribute).
    n_draws : int
        Posterior draws averaged for categorical descendants.
    scm_mechanisms : str or mapping, default "auto"
        ``mechanisms=`` of ``SCM.fit`` when the SCM is learned ("linear" is Kusner's level 3).
    random_state : int, optional

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, df = ct.datasets.spec("law_school"), ct.datasets.load("law_school")
    >>> reg = ct.learners.CounterfactualFairRegressor(spec=spec, protected=["race", "sex"],
    ...                                               scm_mechanisms="linear")
    >>> reg.fit(df[spec.features], df[spec.target]).representation_
    ['noise[UGPA]', 'noise[LSAT]']
    """

    def __init__(
        self,
        spec: Any = None,
        estimator: Any = None,
        scm: SCM | None = None,
        *,
        level: int = 3,
        protected: Any = None,
        n_draws: int = 16,
        scm_mechanisms: Any = "auto",
        random_state: int | None = None,
    ) -> None:
        self.spec = spec
        self.estimator = estimator
        self.scm = scm
        self.level = level
        self.protected = protected
        self.n_draws = n_draws
        self.scm_mechanisms = scm_mechanisms
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: Any) -> CounterfactualFairRegressor:
        """Abduct the noise of the protected attributes' descendants; fit on it and the non-descendants."""
        name = type(self).__name__
        if isinstance(self.level, bool) or self.level not in _LEVELS:
            raise ValueError(
                f"{name}: level must be 3 (additive noise) or 2 (latent factors), got {self.level!r}"
            )
        if self.level == 2:
            raise SpecError(
                f"{name}(level=2) predicts from the posterior of latent factors (Kusner's Fair K), which "
                "needs latent variables with indicators in the spec (K: {observed: false, indicators: "
                "[...]}); that is not available yet. Use level=3 (Fair Add: residuals of the protected "
                "attributes' descendants)"
            )
        if not (isinstance(self.n_draws, int | np.integer) and self.n_draws >= 1):
            raise ValueError(f"{name}: n_draws must be a positive integer, got {self.n_draws!r}")
        spec, X, y_arr = self._validate_fit(X, y)
        self.protected_ = self._protected_names(spec, required=True)
        scm = self._resolve_scm(spec, X, y_arr)
        self.scm_ = scm
        desc = _dag.descendants(scm.parents, self.protected_)
        self.nondescendants_ = [f for f in spec.features if f not in desc and f not in self.protected_]
        needed = _dag.ancestral_closure(scm.parents, spec.features)
        self.abducted_ = [v for v in scm.order if v in desc and v in needed]
        cols = self._begin_fit(spec, X)
        Z, self.representation_ = self._abduct(X, cols)
        self.estimator_ = self._clone_estimator().fit(Z, y_arr)
        return self

    def _inputs(self, spec: TrustSpec) -> list[str]:
        return self.nondescendants_

    def _abduct(self, X: pd.DataFrame, cols: dict[str, Array]) -> tuple[Array, list[str]]:
        # The classifier's abduction needs only the attributes set above (scm_, abducted_, design_, spec_,
        # n_draws, random_state): one implementation for both targets.
        out: tuple[Array, list[str]] = CounterfactualFairClassifier._represent(cast(Any, self), X, cols)
        return out

    def _represent(self, X: pd.DataFrame, cols: dict[str, Array]) -> Array:
        return self._abduct(X, cols)[0]

    def represent(self, X: pd.DataFrame) -> Array:
        """The representation the estimator sees: encoded non-descendants, then abducted noise columns."""
        X, cols = self._predict_cols(X)
        return self._represent(X, cols)


class CounterfactualAugmentationRegressor(_SCMRegressorBase):
    """Counterfactual data augmentation on the protected attribute(s), continuous target.

    Each training unit is joined by ``n_augment`` counterfactual twins per other level of each protected
    attribute (``scm.counterfactual(rows, do={A: level})``, noise abducted, target kept); the estimator is
    fitted on the union. Nothing is enforced at prediction time; every path, fair ones included, is
    discouraged alike.

    Parameters
    ----------
    spec : TrustSpec, dict or path
    estimator : regressor, default LinearRegression()
    scm : SCM, optional
        The causal model. When None, learned with ``SCM.fit`` from the training rows.
    n_augment : int
        Counterfactual draws per unit and other level (each weighted ``1 / n_augment`` when the estimator
        takes ``sample_weight``).
    protected : str or list of str, optional
        Attributes to intervene on (default: the spec's protected attribute).
    scm_mechanisms : str or mapping, default "auto"
        ``mechanisms=`` of ``SCM.fit`` when the SCM is learned.
    random_state : int, optional

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, df = ct.datasets.spec("law_school"), ct.datasets.load("law_school").head(2000)
    >>> reg = ct.learners.CounterfactualAugmentationRegressor(spec=spec, protected="sex",
    ...                                                       scm_mechanisms="linear")
    >>> reg.fit(df[spec.features], df[spec.target]).n_train_rows_
    4000
    """

    def __init__(
        self,
        spec: Any = None,
        estimator: Any = None,
        scm: SCM | None = None,
        *,
        n_augment: int = 1,
        protected: Any = None,
        scm_mechanisms: Any = "auto",
        random_state: int | None = None,
    ) -> None:
        self.spec = spec
        self.estimator = estimator
        self.scm = scm
        self.n_augment = n_augment
        self.protected = protected
        self.scm_mechanisms = scm_mechanisms
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: Any) -> CounterfactualAugmentationRegressor:
        """Add each unit's counterfactual twins (protected attribute changed, target kept); fit on all."""
        name = type(self).__name__
        if not (isinstance(self.n_augment, int | np.integer) and self.n_augment >= 1):
            raise ValueError(f"{name}: n_augment must be a positive integer, got {self.n_augment!r}")
        spec, X, y_arr = self._validate_fit(X, y)
        self.protected_ = self._protected_names(spec, required=True)
        scm = self._resolve_scm(spec, X, y_arr)
        self.scm_ = scm
        frame = X[spec.features].assign(**{spec.target: y_arr}).reset_index(drop=True)
        cols = self._begin_fit(spec, X)
        k = int(self.n_augment)
        parts_X, parts_y, parts_w = [self.design_.transform(cols)], [y_arr], [np.ones(len(y_arr))]
        for j, a in enumerate(self.protected_):
            meta = self.meta_[a]
            levels: Sequence[Any] = [0, 1] if meta.vtype == "binary" else meta.categories
            for i, level in enumerate(levels):
                other = cols[a] != (float(level) if meta.vtype == "binary" else float(i))
                if not other.any():
                    continue
                seed = self._seed + 1000 * j + i
                cf = scm.counterfactual(frame[other], do={a: level}, random_state=seed, n_draws=k)
                parts_X.append(
                    self.design_.transform(columns_with_unseen(cf, self.meta_, spec.features, name))
                )
                parts_y.append(np.repeat(y_arr[other], k))
                parts_w.append(np.full(len(cf), 1.0 / k))
        Z, t, w = np.vstack(parts_X), np.concatenate(parts_y), np.concatenate(parts_w)
        est = self._clone_estimator()
        if k > 1 and _takes(est.fit, "sample_weight"):
            est.fit(Z, t, sample_weight=w)
        else:
            est.fit(Z, t)
        self.estimator_ = est
        self.n_train_rows_ = len(t)
        return self


class BoundedGroupLossRegressor(_RegressorBase):
    """Group fairness for regression: fairlearn's bounded-group-loss reduction (Agarwal et al. 2019).

    Minimises the overall squared error subject to every protected group's mean squared error being at
    most ``upper_bound``, with :class:`fairlearn.reductions.ExponentiatedGradient` and
    :class:`fairlearn.reductions.BoundedGroupLoss` (``SquareLoss`` clipped to the training target's
    range). The result is a mixture of regressors; :meth:`predict` returns its expected prediction
    (``Σ weights_[i] · predictors_[i].predict(X)``, fairlearn's public attributes), deterministic and
    batch-invariant, rather than fairlearn's randomized pick of one regressor per row.

    Targets a statistical (rung-1) property, blind to paths: no group is predicted much worse than the
    others. It does not make predictions invariant to the protected attribute.

    Parameters
    ----------
    spec : TrustSpec, dict or path
    estimator : regressor taking ``sample_weight``, default LinearRegression()
    upper_bound : float, optional
        The bound on each group's mean squared error. Default: the pooled mean squared error of the
        unconstrained estimator on the training rows (no group predicted worse than the average row).
    max_iter : int
        Exponentiated-gradient iterations.
    protected : str, optional
        The grouping attribute (default: the spec's protected attribute; one attribute).
    random_state : int, optional

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, df = ct.datasets.spec("law_school"), ct.datasets.load("law_school").head(3000)
    >>> reg = ct.learners.BoundedGroupLossRegressor(spec=spec).fit(df[spec.features], df[spec.target])
    >>> bool(reg.upper_bound_ > 0)
    True
    """

    def __init__(
        self,
        spec: Any = None,
        estimator: Any = None,
        *,
        upper_bound: float | None = None,
        max_iter: int = 50,
        protected: Any = None,
        random_state: int | None = None,
    ) -> None:
        self.spec = spec
        self.estimator = estimator
        self.upper_bound = upper_bound
        self.max_iter = max_iter
        self.protected = protected
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: Any) -> BoundedGroupLossRegressor:
        """Run exponentiated gradient with a bounded-group-loss constraint on the protected column."""
        from fairlearn.reductions import BoundedGroupLoss, ExponentiatedGradient, SquareLoss

        name = type(self).__name__
        if self.upper_bound is not None and not (
            isinstance(self.upper_bound, int | float)
            and not isinstance(self.upper_bound, bool)
            and self.upper_bound > 0
        ):
            raise ValueError(
                f"{name}: upper_bound must be a positive number or None, got {self.upper_bound!r}"
            )
        if not (isinstance(self.max_iter, int | np.integer) and self.max_iter >= 1):
            raise ValueError(f"{name}: max_iter must be a positive integer, got {self.max_iter!r}")
        spec, X, y_arr = self._validate_fit(X, y)
        self.protected_ = self._protected_names(spec, required=True)
        if len(self.protected_) != 1:
            raise ValueError(
                f"{name}: bounded group loss takes one grouping attribute, got {self.protected_}"
            )
        if not _takes(self._base_estimator().fit, "sample_weight"):
            raise DataError(
                f"{name}: the reduction reweights training rows, but "
                f"{type(self._base_estimator()).__name__}.fit takes no sample_weight"
            )
        cols = self._begin_fit(spec, X)
        Z = self.design_.transform(cols)
        bound = self.upper_bound
        if bound is None:
            resid = y_arr - self._clone_estimator().fit(Z, y_arr).predict(Z)
            bound = float(np.mean(resid**2))
        self.upper_bound_ = float(bound)
        loss = SquareLoss(float(y_arr.min()), float(y_arr.max()))
        self.estimator_ = ExponentiatedGradient(
            self._clone_estimator(),
            constraints=BoundedGroupLoss(loss, upper_bound=self.upper_bound_),
            max_iter=int(self.max_iter),
        )
        self.estimator_.fit(Z, y_arr, sensitive_features=cols[self.protected_[0]])
        return self

    def _predict_known(self, X: pd.DataFrame, cols: dict[str, Array]) -> Array:
        Z = self.design_.transform(cols)
        weights = np.asarray(self.estimator_.weights_, dtype=np.float64)
        out = np.zeros(len(X))
        for w, predictor in zip(weights, self.estimator_.predictors_, strict=True):
            if w > 0:
                out += w * np.asarray(predictor.predict(Z), dtype=np.float64)
        return out / weights.sum()
