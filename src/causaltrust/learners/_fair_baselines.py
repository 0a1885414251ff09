"""Standard fairness baselines, spec-aware, that selective invariance is measured against.

Each estimator reads the protected attribute from the column the spec names (of a DataFrame, or of a 2-D
array in the spec's feature order) and one-hot encodes
categorical features with the same :class:`~causaltrust.learners._base.Design` as the causal learners, so a
comparison is never won against a strawman. Each targets one invariance (its docstring says which):

* :class:`ERMClassifier`: none (plain empirical risk minimisation, the reference point);
* :class:`UnawareClassifier`: the prediction ignores the protected attribute as an *input* (no direct
  effect A→Ŷ); proxies and mediators still carry A's effect;
* :class:`ReductionsClassifier`: statistical parity of the decisions (Ŷ ⟂ A, or Ŷ ⟂ A | Y), in-processing
  with fairlearn's :class:`~fairlearn.reductions.ExponentiatedGradient`;
* :class:`ThresholdOptimizerClassifier`: the same group parities by post-processing with fairlearn's
  :class:`~fairlearn.postprocessing.ThresholdOptimizer` (group-specific randomized thresholds);
* :class:`CounterfactualFairClassifier`: Kusner et al.'s (2017) level-3 counterfactual fairness (the
  prediction is a function of A's non-descendants and abducted noise only, so every path from A is blocked);
* :class:`CounterfactualAugmentationClassifier`: approximate invariance under do(A) by training on each
  unit together with its counterfactual twin with A changed (label kept).
"""

from __future__ import annotations

import inspect
from dataclasses import KW_ONLY, dataclass
from numbers import Integral, Real
from typing import Any, ClassVar, cast

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import check_is_fitted

from causaltrust import _dag
from causaltrust.exceptions import DataError, SpecError
from causaltrust.learners import _fairlearn as fairlearn
from causaltrust.learners._base import (
    ESTIMATOR_CONSTRAINT,
    BinaryClassifierMixin,
    Design,
    RowStream,
    SpecEstimator,
    fit_context,
    pooled,
    row_keys,
)
from causaltrust.learners._level2 import factor_columns, require_factor
from causaltrust.scm import SCM, BernoulliMechanism
from causaltrust.spec import TrustSpec

__all__ = [
    "CounterfactualAugmentationClassifier",
    "CounterfactualFairClassifier",
    "ERMClassifier",
    "ReductionsClassifier",
    "ThresholdOptimizerClassifier",
    "UnawareClassifier",
]

Array = np.ndarray
_CONSTRAINTS = StrOptions({"demographic_parity", "equalized_odds"})


def _takes(fn: Any, name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


@dataclass(eq=False, repr=False)
class _FairCore(SpecEstimator):
    """The fairness baselines' shared core for both targets: the protected attribute(s), the encoding of
    the features and the fit of the final estimator (``_RegressorBase`` in ``_regressors.py`` is the twin
    of the classifiers' ``_FairBase``). The fields are the scikit-learn parameters (see SpecEstimator)."""

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **SpecEstimator._parameter_constraints,
        "estimator": ESTIMATOR_CONSTRAINT,
    }
    #: whether the protected attribute(s) are inputs of the final estimator
    _uses_protected = True
    #: whether the spec must name a protected attribute (ERMRegressor works without one)
    _needs_protected = True
    #: whether the final estimator must take ``sample_weight`` (the reductions)
    _needs_weights = False

    spec: Any = None
    estimator: Any = None
    _: KW_ONLY
    random_state: int | None = None

    def _default_estimator(self) -> Any:
        raise NotImplementedError

    def _base_estimator(self) -> Any:
        return self._default_estimator() if self.estimator is None else self.estimator

    def _estimator(self) -> Any:
        return self._clone(self.estimator, self._default_estimator)

    # -- validation -----------------------------------------------------------------------------------
    def _protected_names(self, spec: TrustSpec) -> list[str]:
        """The protected attribute(s): the ``protected`` setting where the learner has one, else the
        spec's; each must be a binary or categorical feature."""
        name = type(self).__name__
        given = getattr(self, "protected", None)
        if given is not None:
            names = [given] if isinstance(given, str) else list(given)
        elif spec.fairness is not None and spec.protected is not None:
            names = [spec.protected]
        elif self._needs_protected:
            fix = " or pass protected=[...]" if hasattr(self, "protected") else ""
            raise SpecError(
                f"{name} needs a spec with a 'fairness' section naming the protected attribute "
                f"(fairness: {{protected: A, ...}}){fix}"
            )
        else:
            names = []
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

    def _check_spec(self, spec: TrustSpec) -> None:
        self.protected_ = self._protected_names(spec)
        name, est = type(self).__name__, self._base_estimator()
        if self._needs_weights and not _takes(est.fit, "sample_weight"):
            raise DataError(
                f"{name}: the reductions approach reweights training rows, but "
                f"{type(est).__name__}.fit takes no sample_weight"
            )

    # -- the core step --------------------------------------------------------------------------------
    def _inputs(self, spec: TrustSpec) -> list[str]:
        return [f for f in spec.features if self._uses_protected or f not in self.protected_]

    @fit_context(nested=True)
    def fit(self, X: pd.DataFrame, y: Any) -> Any:
        """Fit on the encoded features of ``X``.

        Parameters
        ----------
        X : DataFrame or 2-D array
            The spec's features (the protected attribute among them); an array in their order.
        y : array-like
            The target: binary coded 0/1 for a classifier, continuous for a regressor.

        Returns
        -------
        self
        """
        X, y_arr = self._prepare(X, y)
        self._fit_encoded(X, self._columns(X), y_arr)
        return self

    def _encode_fit(self, cols: dict[str, Array], inputs: list[str]) -> Array:
        self.design_ = Design(self.meta_, inputs).fit(cols)
        self.category_freq_ = Design(self.meta_, self.spec_.features).fit(cols).freq
        return self.design_.transform(cols)

    def _fit_encoded(self, X: pd.DataFrame, cols: dict[str, Array], y: Array) -> None:
        Z = self._encode_fit(cols, self._inputs(self.spec_))
        self.estimator_ = self._estimator().fit(Z, y)

    def _represent(self, X: pd.DataFrame, cols: dict[str, Array]) -> Array:
        """What the final estimator sees for the rows of ``X``."""
        return self.design_.transform(cols)

    def _sensitive(self, cols: dict[str, Array]) -> Array:
        """The one protected column, fairlearn's ``sensitive_features``."""
        return cols[self.protected_[0]]


class _FairBase(BinaryClassifierMixin, _FairCore):
    """The fairness baseline classifiers: encode the features, fit the estimator, predict P(1)."""

    #: whether the final estimator must expose predict_proba
    _needs_proba = True
    #: whether prediction pools a row with an unseen category over the known ones (abduction needs them)
    _pool = False

    def _default_estimator(self) -> Any:
        return LogisticRegression(max_iter=1000)

    def _check_spec(self, spec: TrustSpec) -> None:
        super()._check_spec(spec)
        est = self._base_estimator()
        if self._needs_proba and not hasattr(est, "predict_proba"):
            raise DataError(
                f"{type(self).__name__} needs probabilities from its estimator, but {type(est).__name__} has "
                "no predict_proba; wrap it in sklearn.calibration.CalibratedClassifierCV"
            )

    def _positive(self, proba: Any, est: Any) -> Array:
        classes = list(np.asarray(est.classes_).tolist())
        return np.asarray(proba, dtype=np.float64)[:, classes.index(1)]

    def _row_uniforms(self, X: pd.DataFrame) -> Array:
        """One uniform per row keyed by its feature values: randomized decisions are reproducible and do
        not depend on which other rows are in the batch."""
        stream = RowStream(row_keys(X, self.spec_.features, self.seed_ ^ 0xDEC1DE))
        return stream.random(len(X))

    # -- prediction -----------------------------------------------------------------------------------
    def _p1(self, X: pd.DataFrame, cols: dict[str, Array]) -> Array:
        if self._pool:
            return pooled(self._p1_known, X, cols, self.meta_, self.category_freq_)
        return self._p1_known(X, cols)

    def _p1_known(self, X: pd.DataFrame, cols: dict[str, Array]) -> Array:
        return self._positive(self.estimator_.predict_proba(self._represent(X, cols)), self.estimator_)

    def predict_proba(self, X: pd.DataFrame) -> Array:
        """Probabilities of classes 0 and 1 for the rows of ``X`` (a DataFrame of ``spec.features``)."""
        check_is_fitted(self, "estimator_")
        X, cols = self._predict_frame(X, "predict_proba")
        p = self._p1(X, cols)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame) -> Array:
        """Predicted class (1 when P(1) >= 0.5)."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)


@dataclass(eq=False, repr=False)
class _Randomized(_FairBase):
    """A randomized classifier: ``predict_proba`` is P(decide 1); ``predict`` draws the decision with one
    uniform per row keyed by the row's values and ``random_state`` (reproducible, batch-invariant). Both
    are fairlearn's, holding a group-fairness ``constraint``."""

    _needs_proba = False

    _: KW_ONLY
    constraint: str = "demographic_parity"

    def predict(self, X: pd.DataFrame) -> Array:
        """Decisions, reproducible per row: 1 when a row-keyed uniform is below P(decide 1)."""
        p = self.predict_proba(X)[:, 1]
        X, _ = self._predict_frame(X)
        return (self._row_uniforms(X) < p).astype(np.int64)


class ERMClassifier(_FairBase):
    """Plain empirical risk minimisation on the one-hot encoded features (no invariance targeted).

    The reference point of every comparison: the protected attribute, its proxies and the environment
    are all inputs.

    Parameters
    ----------
    spec : TrustSpec, dict or path
        The trust spec (features, protected attribute, target).
    estimator : classifier with predict_proba, default LogisticRegression(max_iter=1000)
        Fitted on the encoded features.
    random_state : int, optional
        Seeds the estimator when it has an unset ``random_state``.

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, scm = ct.scenarios.load("readmission")
    >>> train = scm.sample(2000, random_state=1)
    >>> clf = ct.learners.ERMClassifier(spec=spec).fit(train[spec.features], train[spec.target])
    >>> clf.predict_proba(train[spec.features].head(2)).shape
    (2, 2)
    """


class UnawareClassifier(_FairBase):
    """Fairness through unawareness: the protected attribute is dropped from the inputs.

    Targets invariance of the prediction to the protected attribute *as an input*: the direct effect
    A→Ŷ (Plečko–Bareinboim ``ctf_de``) is zero by construction. Proxies (A→Z→Ŷ) and mediators (A→L→X→Ŷ) still
    carry A's effect, so the unfair path effect through a proxy remains.

    Parameters
    ----------
    spec : TrustSpec, dict or path
        The trust spec; its protected attribute is read from (and then ignored in) the DataFrame.
    estimator : classifier with predict_proba, default LogisticRegression(max_iter=1000)
    random_state : int, optional
        Seeds the estimator when it has an unset ``random_state``.

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, scm = ct.scenarios.load("readmission")
    >>> train = scm.sample(2000, random_state=1)
    >>> clf = ct.learners.UnawareClassifier(spec=spec).fit(train[spec.features], train[spec.target])
    >>> clf.design_.features
    ['E', 'X', 'Z', 'F']
    """

    _uses_protected = False


@dataclass(eq=False, repr=False)
class ReductionsClassifier(_Randomized):
    """In-processing group fairness with fairlearn's exponentiated-gradient reduction.

    Targets *statistical* (observational, rung-1) invariance of the decisions: demographic parity
    (Ŷ ⟂ A) or equalized odds (Ŷ ⟂ A | Y), up to ``eps``, blind to which paths carry A's influence (the
    legitimate A→L→… variation is suppressed along with the unfair one). Wraps
    :class:`fairlearn.reductions.ExponentiatedGradient` (not re-implemented) with the protected column as
    the sensitive feature; the base estimator sees the same encoded features as :class:`ERMClassifier`.

    The result is a randomized classifier: :meth:`predict_proba` is its probability of deciding 1
    (fairlearn's ``_pmf_predict``); :meth:`predict` draws the decision with one uniform per row keyed by
    the row's values and ``random_state``, so decisions are reproducible and batch-invariant and keep the
    constraint's guarantee (which holds for the randomized decisions, not for thresholding at 0.5).

    Parameters
    ----------
    spec : TrustSpec, dict or path
    estimator : classifier, default LogisticRegression(max_iter=1000)
        Needs ``fit(X, y, sample_weight=...)`` and ``predict``.
    constraint : {"demographic_parity", "equalized_odds"}
    eps : float
        Allowed constraint violation (fairlearn's ``eps``).
    max_iter : int
        Exponentiated-gradient iterations.
    random_state : int, optional
        Seeds the randomized decisions (and the estimator when it has an unset ``random_state``).

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, scm = ct.scenarios.load("readmission")
    >>> train = scm.sample(2000, random_state=1)
    >>> clf = ct.learners.ReductionsClassifier(spec=spec, random_state=0)
    >>> clf = clf.fit(train[spec.features], train[spec.target])
    >>> clf.predict(train[spec.features].head(3)).shape
    (3,)
    """

    _: KW_ONLY
    eps: float = 0.01
    max_iter: int = 50

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **_FairBase._parameter_constraints,
        "constraint": [_CONSTRAINTS],
        "eps": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }
    _needs_weights = True

    def _fit_encoded(self, X: pd.DataFrame, cols: dict[str, Array], y: Array) -> None:
        """Run exponentiated gradient with the protected column as the sensitive feature."""
        Z = self._encode_fit(cols, self._inputs(self.spec_))
        self.estimator_ = fairlearn.reduction(
            self._estimator(), self.constraint, eps=float(self.eps), max_iter=int(self.max_iter)
        )
        self.estimator_.fit(Z, y, sensitive_features=self._sensitive(cols))

    def _p1(self, X: pd.DataFrame, cols: dict[str, Array]) -> Array:
        return fairlearn.mixture_mean(self.estimator_, self.design_.transform(cols))


class ThresholdOptimizerClassifier(_Randomized):
    """Post-processing group fairness with fairlearn's :class:`~fairlearn.postprocessing.ThresholdOptimizer`.

    Targets statistical (rung-1) invariance of the decisions: demographic parity or equalized odds, by
    group-specific (randomized) thresholds on the base estimator's score. The base estimator is trained
    on the encoded features (``prefit=False``); the sensitive feature at fit *and* prediction time is the
    protected column of the DataFrame, so the same rows give the same decisions.

    :meth:`predict_proba` is the probability of a positive decision (fairlearn's ``_pmf_predict``);
    :meth:`predict` draws it with a row-keyed uniform (reproducible, batch-invariant).

    Parameters
    ----------
    spec : TrustSpec, dict or path
    estimator : classifier with predict_proba or decision_function, default LogisticRegression
    constraint : {"demographic_parity", "equalized_odds"}
    random_state : int, optional
        Seeds the randomized decisions (and the estimator when it has an unset ``random_state``).

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, scm = ct.scenarios.load("readmission")
    >>> train = scm.sample(2000, random_state=1)
    >>> clf = ct.learners.ThresholdOptimizerClassifier(spec=spec, random_state=0)
    >>> clf = clf.fit(train[spec.features], train[spec.target])
    >>> p = clf.predict_proba(train[spec.features])[:, 1]
    >>> bool(((p >= 0) & (p <= 1)).all())
    True
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **_FairBase._parameter_constraints,
        "constraint": [_CONSTRAINTS],
    }

    def _check_spec(self, spec: TrustSpec) -> None:
        super()._check_spec(spec)
        name, est = type(self).__name__, self._base_estimator()
        if not (hasattr(est, "predict_proba") or hasattr(est, "decision_function")):
            raise DataError(
                f"{name} thresholds a score: {type(est).__name__} has neither predict_proba nor "
                "decision_function"
            )

    def _fit_encoded(self, X: pd.DataFrame, cols: dict[str, Array], y: Array) -> None:
        """Fit the base estimator and the group thresholds (sensitive feature: the protected column)."""
        Z = self._encode_fit(cols, self._inputs(self.spec_))
        self.estimator_ = fairlearn.threshold_optimizer(self._estimator(), self.constraint)
        self.estimator_.fit(Z, y, sensitive_features=self._sensitive(cols))

    def _p1(self, X: pd.DataFrame, cols: dict[str, Array]) -> Array:
        Z = self.design_.transform(cols)
        return fairlearn.threshold_positive_rate(self.estimator_, Z, self._sensitive(cols))


@dataclass(eq=False, repr=False)
class _SCMCore(_FairCore):
    """The counterfactual learners (both targets): an SCM given, or learned from the training rows."""

    scm: SCM | None = None

    def _fit_encoded(self, X: pd.DataFrame, cols: dict[str, Array], y: Array) -> None:
        # ``scm_mechanisms`` is a setting of the regressors only (``SCM.fit``'s ``mechanisms=``).
        self.scm_ = self._fit_scm(X, y, mechanisms=getattr(self, "scm_mechanisms", "auto"))
        self._fit_counterfactual(X, cols, y)

    def _fit_counterfactual(self, X: pd.DataFrame, cols: dict[str, Array], y: Array) -> None:
        raise NotImplementedError


@dataclass(eq=False, repr=False)
class _CounterfactualFair(_SCMCore):
    """Kusner et al.'s level 3 for both targets: the estimator sees the protected attributes'
    non-descendants and the abducted noise of their descendants (the classes' docstrings say more)."""

    _pool = True

    _: KW_ONLY
    level: int = 3
    n_draws: int = 16

    def _check_spec(self, spec: TrustSpec) -> None:
        super()._check_spec(spec)
        if self.level == 2:
            require_factor(spec, type(self).__name__)

    def _fit_counterfactual(self, X: pd.DataFrame, cols: dict[str, Array], y: Array) -> None:
        """Abduct the noise of the protected descendants; fit the estimator on it and the non-descendants."""
        spec, scm = self.spec_, self.scm_
        desc = _dag.descendants(scm.parents, self.protected_)
        self.nondescendants_ = [f for f in spec.features if f not in desc and f not in self.protected_]
        needed = _dag.ancestral_closure(scm.parents, spec.features)
        # Level 2 abducts nothing: the factors' posterior means stand in for the descendants.
        self.abducted_ = [] if self.level == 2 else [v for v in scm.order if v in desc and v in needed]
        self._encode_fit(cols, self.nondescendants_)
        Z, self.representation_ = self._abduct(X, cols)
        self.estimator_ = self._estimator().fit(Z, y)

    def _inputs(self, spec: TrustSpec) -> list[str]:
        return self.nondescendants_

    def _represent(self, X: pd.DataFrame, cols: dict[str, Array]) -> Array:
        return self._abduct(X, cols)[0]

    def _abduct(self, X: pd.DataFrame, cols: dict[str, Array]) -> tuple[Array, list[str]]:
        """Non-descendants (encoded) and the abducted noise of each descendant, one block per node.

        Level 2: the latent factors' posterior means, then the encoded non-descendants.
        """
        scm, n = self.scm_, len(X)
        if self.level == 2:
            means, factors = factor_columns(scm, X, protected=self.protected_)
            return np.hstack([means, self.design_.transform(cols)]), [*factors, *self.design_.names]
        full = scm.recover_latents(cols, self.abducted_)
        keys = row_keys(X, self.spec_.features, self.seed_ ^ 0xC0F)
        blocks = [self.design_.transform(cols)]
        names = list(self.design_.names)
        for v in self.abducted_:
            mech = scm.mechanisms[v]
            if v not in full:
                raise DataError(f"{type(self).__name__}: {v!r} is needed for abduction but not in X")
            if isinstance(mech, BernoulliMechanism):
                p = np.asarray(mech.mean(full, n, v), dtype=np.float64)
                block = np.where(full[v] == 1.0, p / 2.0, p + (1.0 - p) / 2.0)[:, None]
            else:
                stream = cast(np.random.Generator, RowStream(keys))
                draws = 1 if scm.meta[v].vtype == "continuous" else int(self.n_draws)
                acc: Array | None = None
                for _ in range(draws):
                    eps = mech.abduct(full[v], full, stream, v).eps
                    if eps is None:
                        break  # noise-free (a measurement): nothing of its own to keep
                    e = np.asarray(eps, dtype=np.float64).reshape(n, -1)
                    acc = e if acc is None else acc + e
                if acc is None:
                    continue
                block = acc / draws
            blocks.append(block)
            names.extend([f"noise[{v}]"] if block.shape[1] == 1 else
                         [f"noise[{v}][{k}]" for k in range(block.shape[1])])  # fmt: skip
        return np.hstack(blocks), names

    def represent(self, X: pd.DataFrame) -> Array:
        """The representation the estimator sees: encoded non-descendants, then abducted noise columns."""
        check_is_fitted(self, "estimator_")
        X, cols = self._predict_frame(X, "represent")
        return self._represent(X, cols)


@dataclass(eq=False, repr=False)
class _Augmentation(_SCMCore):
    """Counterfactual data augmentation for both targets: each unit joined by its twins with a protected
    attribute set to each other level (noise abducted, target kept)."""

    _: KW_ONLY
    n_augment: int = 1

    def _fit_counterfactual(self, X: pd.DataFrame, cols: dict[str, Array], y: Array) -> None:
        """Add each unit's counterfactual twins (protected attribute changed, target kept); fit on all."""
        name, spec, scm = type(self).__name__, self.spec_, self.scm_
        frame = X[spec.features].assign(**{spec.target: y}).reset_index(drop=True)
        missing = [v for v in scm.observed if v not in frame.columns]
        if missing:
            raise DataError(f"{name}: counterfactuals need every observed variable; X lacks {missing}")
        parts_X, parts_y, parts_w = [self._encode_fit(cols, self._inputs(spec))], [y], [np.ones(len(y))]
        k = int(self.n_augment)
        for j, a in enumerate(self.protected_):
            meta = self.meta_[a]
            levels: list[Any] = [0, 1] if meta.vtype == "binary" else list(meta.categories)
            for i, level in enumerate(levels):
                other = cols[a] != (float(level) if meta.vtype == "binary" else float(i))
                if not other.any():
                    continue
                seed = self.seed_ + 1000 * j + i
                cf = scm.counterfactual(frame[other], do={a: level}, random_state=seed, n_draws=k)
                parts_X.append(self.design_.transform(self._columns(cf)))
                parts_y.append(np.repeat(y[other], k))
                parts_w.append(np.full(len(cf), 1.0 / k))
        Z, t, w = np.vstack(parts_X), np.concatenate(parts_y), np.concatenate(parts_w)
        est = self._estimator()
        if k > 1 and _takes(est.fit, "sample_weight"):
            est.fit(Z, t, sample_weight=w)
        else:
            est.fit(Z, t)
        self.estimator_ = est
        self.n_train_rows_ = len(t)


#: Settings of the counterfactual learners (both targets); FAIR_ADD_PARAMS: Kusner level 3 or 2.
SCM_PARAMS: dict[str, list[Any]] = {"scm": [SCM, None]}
FAIR_ADD_PARAMS: dict[str, list[Any]] = {
    "n_draws": [Interval(Integral, 1, None, closed="left")],
    "level": [Options(Integral, {2, 3})],
}
AUGMENT_PARAMS: dict[str, list[Any]] = {"n_augment": [Interval(Integral, 1, None, closed="left")]}


class CounterfactualFairClassifier(_CounterfactualFair, _FairBase):
    """Kusner et al.'s (2017) level-3 counterfactual fairness through an SCM (``level=2``: Fair K).

    Targets counterfactual (rung-3) invariance under do(A) along **every** path: the estimator sees only
    the protected attribute's non-descendants among the features and the abducted noise terms of its
    descendants, all of which are the same in the factual and the counterfactual world. Kusner's
    definition constrains the *total* counterfactual effect of A, so the legitimate A→L→X variation is
    removed along with the unfair paths (at a cost in accuracy); selective invariance keeps it.

    Path by path the picture differs: to abduct a descendant's noise the estimator reads A itself
    (``N_L = L - h(A, F)``), so an audit that switches A along A→L→X only (A's own input held at the
    baseline) moves the abducted noise. The fair-path effect is then clearly nonzero and is cancelled by
    an opposite effect along the direct edge A→Ŷ: the total is zero, its decomposition is not.

    Noise terms: continuous additive-noise descendants give ``N = value - h(parents)`` exactly (a latent
    descendant such as the true lab value is first recovered from its measurement); noise-free
    descendants (a measurement) carry no noise of their own. Binary descendants give the **posterior
    mean** of their uniform noise given the observed value, ``p/2`` or ``(1 + p)/2`` (exact, no
    sampling); categorical ones the mean of ``n_draws`` Gumbel draws from their posterior, keyed per row.
    Discrete noise is not identified from data, so these inputs are invariant in the mean over units,
    not unit by unit: the counterfactual effect is near zero, not exactly zero (it is exactly zero when
    every descendant is continuous with additive noise).

    ``level=2`` ("Fair K"): the estimator sees each latent factor's posterior mean given the indicators
    among the features (the spec needs ``indicators:`` on a latent that A does not cause), then A's
    non-descendants; see :func:`level2_design`. The posterior is the same in every counterfactual world of
    the unit, so the prediction's counterfactual effect of A is zero under the SCM used, whatever the
    indicators' families.

    Parameters
    ----------
    spec : TrustSpec, dict or path
    estimator : classifier with predict_proba, default LogisticRegression(max_iter=1000)
    scm : SCM, optional
        The causal model. When None, learned with ``SCM.fit`` from the training rows (X and y).
    level : {3, 2}, default 3
        Kusner's level of causal assumptions (3: additive noise; 2: latent factors with indicators).
    n_draws : int
        Posterior draws averaged for categorical descendants.
    random_state : int, optional
        Seeds the SCM fit, the per-row posterior draws and the estimator.

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, scm = ct.scenarios.load("readmission")
    >>> train = scm.sample(2000, random_state=1)
    >>> clf = ct.learners.CounterfactualFairClassifier(spec=spec, scm=scm, random_state=0)
    >>> clf = clf.fit(train[spec.features], train[spec.target])
    >>> clf.representation_
    ['E=0', 'E=1', 'E=2', 'F', 'noise[Z]', 'noise[L]']
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **_FairBase._parameter_constraints,
        **SCM_PARAMS,
        **FAIR_ADD_PARAMS,
    }


class CounterfactualAugmentationClassifier(_Augmentation, _FairBase):
    """Counterfactual data augmentation on the protected attribute through an SCM.

    Targets counterfactual invariance under do(A) approximately, through the data: each training unit is
    joined by ``n_augment`` counterfactual twins with A set to each other level
    (``scm.counterfactual(rows, do={A: level})``, noise abducted, label kept), and the estimator is
    fitted on the union. A stays an input; the model learns that changing A (and what A changes
    downstream) should not change the label. Nothing is enforced at prediction time, and every path
    (fair ones included) is discouraged alike.

    Parameters
    ----------
    spec : TrustSpec, dict or path
    estimator : classifier with predict_proba, default LogisticRegression(max_iter=1000)
    scm : SCM, optional
        The causal model. When None, learned with ``SCM.fit`` from the training rows (X and y).
    n_augment : int
        Counterfactual draws per unit and other level (each weighted ``1 / n_augment`` when the estimator
        takes ``sample_weight``, so originals and twins weigh the same).
    random_state : int, optional
        Seeds the SCM fit, the abduction and the estimator.

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, scm = ct.scenarios.load("readmission")
    >>> train = scm.sample(2000, random_state=1)
    >>> clf = ct.learners.CounterfactualAugmentationClassifier(spec=spec, scm=scm, random_state=0)
    >>> clf = clf.fit(train[spec.features], train[spec.target])
    >>> clf.n_train_rows_
    4000
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **_FairBase._parameter_constraints,
        **SCM_PARAMS,
        **AUGMENT_PARAMS,
    }
