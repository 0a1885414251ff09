"""Regressor twins of the fairness baselines, for a continuous target (a grade, a credit limit, a score).

Each reads the protected attribute(s) from the columns the spec names (of a DataFrame, or of a 2-D array
in the spec's feature order) and one-hot encodes
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

from dataclasses import KW_ONLY, dataclass
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression
from sklearn.utils._param_validation import Interval

from causaltrust.exceptions import SpecError
from causaltrust.learners import _fairlearn as fairlearn
from causaltrust.learners._base import RegressorMixin, pooled
from causaltrust.learners._fair_baselines import (
    AUGMENT_PARAMS,
    FAIR_ADD_PARAMS,
    SCM_PARAMS,
    _Augmentation,
    _CounterfactualFair,
    _FairCore,
)
from causaltrust.spec import TrustSpec

__all__ = [
    "BoundedGroupLossRegressor",
    "CounterfactualAugmentationRegressor",
    "CounterfactualFairRegressor",
    "ERMRegressor",
    "UnawareRegressor",
]

Array = np.ndarray


@dataclass(eq=False, repr=False)
class _RegressorBase(RegressorMixin, _FairCore):
    """The regressor twins of the fairness baselines (continuous target): the classifiers' core with a
    ``protected`` setting (one attribute or several) and least squares by default."""

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **_FairCore._parameter_constraints,
        "protected": [str, list, tuple, None],
    }
    _target = "continuous"

    _: KW_ONLY
    protected: Any = None

    def _default_estimator(self) -> Any:
        return LinearRegression()

    def _check_spec(self, spec: TrustSpec) -> None:
        name = type(self).__name__
        target = spec.variables[spec.target].type
        if target != "continuous":
            twin = name.replace("Regressor", "Classifier")
            raise SpecError(
                f"{name} predicts a continuous target, but the spec's target {spec.target!r} is "
                f"{target}; use {twin} (or declare the target continuous)"
            )
        super()._check_spec(spec)

    def _predict_known(self, X: pd.DataFrame, cols: dict[str, Array]) -> Array:
        return np.asarray(self.estimator_.predict(self._represent(X, cols)), dtype=np.float64).reshape(len(X))

    def predict(self, X: pd.DataFrame) -> Array:
        """Predictions for the rows of ``X`` (a DataFrame of ``spec.features``, or an array in their order).

        A row with a category unseen in training gets the average prediction over the known categories,
        weighted by their training frequencies.
        """
        X, cols = self._predict_frame(X)
        return pooled(self._predict_known, X, cols, self.meta_, self.category_freq_)


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

    _needs_protected = False


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


@dataclass(eq=False, repr=False)
class CounterfactualFairRegressor(_CounterfactualFair, _RegressorBase):
    """Kusner et al.'s (2017) counterfactual fairness for a continuous target.

    ``level=3`` ("Fair Add"): the estimator sees the protected attributes' non-descendants among the
    features and the abducted noise of every descendant the features depend on. For additive-noise
    descendants that noise is the residual of the descendant on its parents (``UGPA - h(race, sex)``), the
    same in the factual and every counterfactual world, so the prediction's counterfactual effect of each
    protected attribute is exactly zero under the SCM used. Binary and categorical descendants enter
    through their posterior-mean noise, as in :class:`CounterfactualFairClassifier`.

    ``level=2`` ("Fair K"): the estimator sees each latent factor's posterior mean given the indicators
    among the features (:func:`level2_design`; the spec needs ``indicators:`` on a latent that no protected
    attribute causes) and the non-descendants of the protected attributes.

    Parameters
    ----------
    spec : TrustSpec, dict or path
        The trust spec; its target must be continuous.
    estimator : regressor, default LinearRegression()
    scm : SCM, optional
        The causal model. When None, learned with ``SCM.fit`` from the training rows (X and y).
    level : {3, 2}, default 3
        Kusner's level of causal assumptions (3: additive noise; 2: latent factors with indicators).
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

    _: KW_ONLY
    scm_mechanisms: Any = "auto"

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **_RegressorBase._parameter_constraints,
        **SCM_PARAMS,
        **FAIR_ADD_PARAMS,
        "scm_mechanisms": [str, dict],
    }

    def _abduct(self, X: pd.DataFrame, cols: dict[str, Array]) -> tuple[Array, list[str]]:
        if self.level == 3:
            return super()._abduct(X, cols)
        # Kusner's level 2: each latent factor's posterior mean, then the numeric non-descendants.
        from causaltrust.learners._level2 import level2_design

        Z = level2_design(self.scm_, X, protected=self.protected_)
        return Z.to_numpy(dtype=np.float64), list(Z.columns)


@dataclass(eq=False, repr=False)
class CounterfactualAugmentationRegressor(_Augmentation, _RegressorBase):
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

    _: KW_ONLY
    scm_mechanisms: Any = "auto"

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **_RegressorBase._parameter_constraints,
        **SCM_PARAMS,
        **AUGMENT_PARAMS,
        "scm_mechanisms": [str, dict],
    }


@dataclass(eq=False, repr=False)
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

    _: KW_ONLY
    upper_bound: float | None = None
    max_iter: int = 50

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **_RegressorBase._parameter_constraints,
        "upper_bound": [Interval(Real, 0, None, closed="neither"), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }
    _needs_weights = True

    def _check_spec(self, spec: TrustSpec) -> None:
        super()._check_spec(spec)
        if len(self.protected_) != 1:
            raise SpecError(
                f"{type(self).__name__}: bounded group loss takes one grouping attribute, got "
                f"{self.protected_}; pass protected='<one attribute>'"
            )

    def _fit_encoded(self, X: pd.DataFrame, cols: dict[str, Array], y: Array) -> None:
        """Run exponentiated gradient with a bounded-group-loss constraint on the protected column."""
        Z = self._encode_fit(cols, self._inputs(self.spec_))
        bound = self.upper_bound
        if bound is None:
            bound = float(np.mean((y - self._estimator().fit(Z, y).predict(Z)) ** 2))
        self.upper_bound_ = float(bound)
        self.estimator_ = fairlearn.bounded_group_loss(
            self._estimator(),
            low=float(y.min()),
            high=float(y.max()),
            upper_bound=self.upper_bound_,
            max_iter=int(self.max_iter),
        )
        self.estimator_.fit(Z, y, sensitive_features=self._sensitive(cols))

    def _predict_known(self, X: pd.DataFrame, cols: dict[str, Array]) -> Array:
        return fairlearn.mixture_mean(self.estimator_, self.design_.transform(cols))
