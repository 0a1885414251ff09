"""Path-targeted privacy: differential privacy for the spec's sensitive variables only (issue 33).

:class:`SensitiveDPClassifier` privatises each training row's value of the spec's ``privacy.sensitive``
variables with k-ary randomized response before anything is learned from them, and learns everything
else from the clean columns. Its guarantee is ``privacy_sensitive_epsilon_`` = ε in closed form:

* **Mechanism.** The sensitive variables of one row form one value of a joint domain of size K (the product
  of their levels). Randomized response keeps it with probability ``e^ε / (e^ε + K - 1)`` and otherwise
  reports one of the other K - 1 values uniformly. For any two true values a, a' and any report r,
  P(r | a) / P(r | a') <= e^ε, with equality for r = a: the mechanism is ε-DP (δ = 0) per person, exactly.
* **Threat model** (DESIGN.md "Issue 33: day 2"). Neighbouring data sets differ in the sensitive values of
  one person, every other column (the other features and the label) being the same: the
  semi-sensitive-features setting, as label-DP protects only the label. The adversary may know every
  other column of every row, the code and ``random_state``; it does not know the randomized-response
  noise (drawn from the operating system's cryptographic generator). Everything the learner does after
  the randomization reads the true sensitive values of no training row, so the fitted model is a
  post-processing of the reports and the public columns: ε-DP for the sensitive values.
* **Not covered.** The other columns and the label have no protection (``privacy_epsilon_`` is inf:
  adding or removing a whole row is not bounded); what the sensitive variable's descendants reveal about
  it (a proxy on its paths) is public under this threat model. A counterfactual neighbour (the sensitive
  value *and everything that flows from it* changed) changes the whole row; only row-level DP (DP-SGD,
  :class:`~causaltrust.learners.DPLogisticRegression`) covers that.

De-biasing: a model trained on the reports as if they were true would shrink the sensitive variables'
effect towards zero. With ``debias=True`` (default) the learner fits P(sensitive | other features, label)
as a multinomial logistic model by maximum likelihood *through the known channel* (the likelihood of each
report is the channel applied to the model's probabilities), takes each row's posterior over its true
sensitive value given its report, and trains the estimator on one weighted copy of the row per possible
value (an expectation-maximisation step with the channel known exactly).
"""

from __future__ import annotations

import math
from dataclasses import KW_ONLY, dataclass
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from causaltrust.exceptions import DataError, SpecError
from causaltrust.learners._base import (
    ESTIMATOR_CONSTRAINT,
    BinaryClassifierMixin,
    Design,
    SpecEstimator,
    fit_context,
    pooled,
)
from causaltrust.learners._dp import dp_noise_seeds
from causaltrust.spec import TrustSpec

__all__ = ["SensitiveDPClassifier", "randomized_response", "rr_keep_probability"]

Array = np.ndarray
MAX_LEVELS = 256  # joint values of the sensitive variables; beyond it randomized response reports noise
_L2 = 1e-3  # ridge on the posterior model's weights (per row): keeps separable data finite


def rr_keep_probability(epsilon: float, k: int) -> float:
    """Probability that k-ary randomized response at ``epsilon`` reports the true value.

    ``e^ε / (e^ε + k - 1)``; each other value is reported with probability ``1 / (e^ε + k - 1)``, so the
    likelihood ratio of any report under two true values is at most ``e^ε``.

    Examples
    --------
    >>> round(rr_keep_probability(math.log(3.0), 2), 6)
    0.75
    """
    if not (epsilon > 0 and math.isfinite(epsilon)) or k < 2:
        raise ValueError(f"rr_keep_probability: need a finite epsilon > 0 and k >= 2, got {epsilon!r}, {k!r}")
    # e^ε / (e^ε + k - 1) = 1 / (1 + (k - 1) e^-ε): no overflow at large ε.
    return 1.0 / (1.0 + (k - 1) * math.exp(-epsilon))


def randomized_response(codes: Array, k: int, epsilon: float, rng: np.random.Generator) -> Array:
    """k-ary randomized response on integer codes ``0..k-1``: each kept with :func:`rr_keep_probability`,
    else replaced by one of the other k - 1 codes uniformly at random.

    Examples
    --------
    >>> import numpy as np
    >>> out = randomized_response(np.zeros(10_000, dtype=int), 2, 1.0, np.random.default_rng(0))
    >>> bool(abs(out.mean() - 1 / (1 + math.e)) < 0.02)  # flipped with probability 1 / (1 + e)
    True
    """
    codes = np.asarray(codes, dtype=np.int64)
    if codes.size and (codes.min() < 0 or codes.max() >= k):
        raise ValueError(f"randomized_response: codes must lie in 0..{k - 1}")
    keep = rng.random(len(codes)) < rr_keep_probability(epsilon, k)
    other = rng.integers(0, k - 1, len(codes))
    other = other + (other >= codes)  # uniform over the k - 1 values that are not the true one
    return np.where(keep, codes, other)


def _channel_posterior(W: Array, reports: Array, k: int, p_keep: float) -> tuple[Array, Array]:
    """Fit P(true value | W) = softmax(W B) by maximum likelihood of the reports through the channel.

    Returns the weights B and each row's posterior over its true value given its report and W. The
    gradient of the log-likelihood in the logits is (posterior - prior), as in EM with a known channel.
    """
    from scipy.optimize import minimize

    n, d = W.shape
    p_other = (1.0 - p_keep) / (k - 1)
    T = np.full((n, k), p_other)
    T[np.arange(n), reports] = p_keep  # P(report_i | true value a), one row per unit

    def parts(b: Array) -> tuple[Array, Array]:
        logits = W @ b.reshape(d, k)
        logits -= logits.max(axis=1, keepdims=True)
        prior = np.exp(logits)
        prior /= prior.sum(axis=1, keepdims=True)
        return prior, T * prior

    def objective(b: Array) -> tuple[float, Array]:
        prior, joint = parts(b)
        lik = joint.sum(axis=1)
        post = joint / lik[:, None]
        loss = -np.log(lik).sum() / n + 0.5 * _L2 * float(b @ b)
        grad = -(W.T @ (post - prior)).ravel() / n + _L2 * b
        return float(loss), grad

    res = minimize(objective, np.zeros(d * k), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    _, joint = parts(res.x)
    return res.x.reshape(d, k), joint / joint.sum(axis=1, keepdims=True)


@dataclass(eq=False, repr=False)
class SensitiveDPClassifier(BinaryClassifierMixin, SpecEstimator):
    """Differential privacy where the sensitive information is: randomized response on the spec's
    ``privacy.sensitive`` variables, de-biased through the known channel (path-targeted privacy).

    Each training row's sensitive values (binary or categorical features, as one joint value) are
    replaced by a k-ary randomized-response report at ``sensitive_epsilon`` before anything is learned
    from them; every other feature and the label are used as they are. ``privacy_sensitive_epsilon_`` is
    the closed-form ε of that mechanism (pure ε-DP, δ = 0) under the threat model of the module docstring:
    neighbours differ in one person's sensitive values, every other column public. Row-level privacy
    (``privacy_epsilon_``) is inf: the other columns and the label are not protected.

    Parameters
    ----------
    spec : TrustSpec, dict or path
        The trust spec; its ``privacy.sensitive`` variables must be binary or categorical features.
    estimator : classifier, default=LogisticRegression(max_iter=1000)
        Trained on the encoded features; with ``debias=True`` its ``fit`` must take ``sample_weight``.
    sensitive_epsilon : float, default=1.0
        ε of the randomized response (positive, finite).
    debias : bool, default=True
        Train on the channel-corrected posterior of each row's true sensitive value (one weighted copy per
        value). False trains on the reports as if they were true (the naive baseline).
    dp_noise_seed : int or None, default=None
        Test-only: seeds the randomized response (a warning says ε then assumes the seed is secret).
        None: fresh secret bits from the operating system per fit (or ``CAUSALTRUST_DP_NOISE_SEED``).
    random_state : int, numpy Generator or None, default=None
        Seeds the non-private parts only (the estimator's own randomness).

    Attributes
    ----------
    privacy_sensitive_epsilon_ : float
        ε of the randomized response on the sensitive variables (closed form; δ = 0).
    privacy_sensitive_mechanism_ : str
        The mechanism, its keep probability and its domain size, in words.
    privacy_epsilon_ : float
        Row-level ε: ``inf`` (the other columns and the label are not protected) unless the estimator is
        DP and ``debias=False``.
    privacy_epsilon_parts_ : dict
        Row-level parts: ``{"model": (inf or the estimator's ε, how)}``, plus ``"encoders"`` (0) with a DP
        estimator and ``"posterior"`` (inf: fitted without row-level DP) with ``debias=True``. With
        ``debias=False`` and a DP estimator (e.g. :class:`~causaltrust.learners.DPLogisticRegression`) the
        row-level ε is the estimator's, and the audit's ``privacy.sensitive_epsilon`` is the smaller of
        the two bounds on the sensitive values.
    keep_probability_ : float
        ``e^ε / (e^ε + K - 1)``.
    sensitive_ : list of str
        The sensitive variables (the spec's ``privacy.sensitive``).
    sensitive_levels_ : int
        K, the size of their joint domain.
    report_rate_ : float
        Fraction of training rows whose report equals the true value (a realised draw, for checks).
    estimator_ : classifier
        The fitted estimator.
    design_ : Design
        The feature encoding.
    classes_ : ndarray
        ``[0, 1]``.

    Examples
    --------
    >>> import causaltrust as ct
    >>> from causaltrust.learners import SensitiveDPClassifier
    >>> spec, scm = ct.scenarios.load("readmission")
    >>> df = scm.sample(2000, random_state=0)
    >>> clf = SensitiveDPClassifier(spec, sensitive_epsilon=1.0).fit(df[spec.features], df[spec.target])
    >>> clf.privacy_sensitive_epsilon_, clf.predict_proba(df.head(3)).shape
    (1.0, (3, 2))
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **SpecEstimator._parameter_constraints,
        "estimator": ESTIMATOR_CONSTRAINT,
        "sensitive_epsilon": [Interval(Real, 0, math.inf, closed="neither")],
        "debias": ["boolean"],
        "dp_noise_seed": [Interval(Integral, 0, None, closed="left"), None],
    }

    spec: Any = None
    estimator: Any = None
    sensitive_epsilon: float = 1.0
    _: KW_ONLY
    debias: bool = True
    dp_noise_seed: int | None = None
    random_state: Any = None

    def _check_spec(self, spec: TrustSpec) -> None:
        name = type(self).__name__
        sensitive = list(spec.privacy.sensitive) if spec.privacy is not None else []
        if not sensitive:
            raise SpecError(
                f"{name} protects the spec's privacy.sensitive variables, and the spec lists none; add "
                "privacy: {sensitive: [...]} naming them (or use DPLogisticRegression for every input)"
            )
        levels = 1
        for v in sensitive:
            if v not in spec.features:
                raise SpecError(
                    f"{name}: privacy.sensitive variable {v!r} is not a feature, so randomized response "
                    f"on the model's inputs cannot protect it; features are {spec.features}. Protect it "
                    "with row-level DP (DPLogisticRegression) instead"
                )
            var = spec.variables[v]
            if var.type == "binary":
                levels *= 2
            elif var.type == "categorical" and var.categories:
                levels *= len(var.categories)
            else:
                raise SpecError(
                    f"{name}: privacy.sensitive variable {v!r} is {var.type}; randomized response needs a "
                    "binary or categorical variable with declared categories. Protect a continuous one "
                    "with row-level DP (DPLogisticRegression)"
                )
        if levels > MAX_LEVELS:
            raise SpecError(
                f"{name}: the sensitive variables {sensitive} have {levels} joint values (at most "
                f"{MAX_LEVELS}); randomized response over so many values reports mostly noise. Protect "
                "fewer variables, or merge categories"
            )

    # -- the joint code of the sensitive variables ----------------------------------------------------
    def _radix(self) -> list[int]:
        return [
            len(self.meta_[v].categories) if self.meta_[v].vtype == "categorical" else 2
            for v in self.sensitive_
        ]

    def _joint(self, cols: dict[str, Array]) -> Array:
        code = np.zeros(len(next(iter(cols.values()))), dtype=np.int64)
        for v, r in zip(self.sensitive_, self._radix(), strict=True):
            code = code * r + cols[v].astype(np.int64)
        return code

    def _split(self, code: Array) -> dict[str, Array]:
        out: dict[str, Array] = {}
        for v, r in reversed(list(zip(self.sensitive_, self._radix(), strict=True))):
            digit = code % r
            out[v] = digit.astype(np.float64) if self.meta_[v].vtype == "binary" else digit
            code = code // r
        return out

    @fit_context(nested=True)
    def fit(self, X: pd.DataFrame, y: Any) -> SensitiveDPClassifier:
        """Randomize the sensitive values of the rows, de-bias through the channel, fit the estimator.

        Parameters
        ----------
        X : DataFrame or 2-D array
            The spec's features (an array: in the spec's feature order).
        y : array-like of shape (n_samples,)
            Labels coded 0/1.

        Returns
        -------
        self
        """
        X, y_arr = self._prepare(X, y)
        name = type(self).__name__
        self.sensitive_ = list(self.spec_.privacy.sensitive) if self.spec_.privacy is not None else []
        cols = self._columns(X)
        unseen = [v for v in self.sensitive_ if self.meta_[v].vtype == "categorical" and (cols[v] < 0).any()]
        if unseen:
            raise DataError(f"{name}: {unseen} hold categories the spec does not declare; declare them")
        k = int(np.prod(self._radix()))
        eps = float(self.sensitive_epsilon)
        self.sensitive_levels_ = k
        self.keep_probability_ = rr_keep_probability(eps, k)
        # The mechanism's randomness is secret (never random_state); the true values are read only here.
        (seed,) = dp_noise_seeds(self.dp_noise_seed, name, 1)
        true = self._joint(cols)
        reports = randomized_response(true, k, eps, np.random.default_rng(seed))
        self.report_rate_ = float(np.mean(reports == true))
        del true
        private = {**cols, **self._split(reports)}
        self.design_ = Design(self.meta_, self.spec_.features).fit(private)
        self.estimator_: Any = self._clone(self.estimator, lambda: LogisticRegression(max_iter=1000))
        # Weights of unseen-category pooling: uniform for the sensitive variables (their training
        # frequencies are true values) and, with a DP estimator, for every variable (nothing learned from
        # the rows outside its accountant).
        private_model = "target_epsilon" in self.estimator_.get_params(deep=False)
        for v, w in self.design_.freq.items():
            if private_model or v in self.sensitive_:
                self.design_.freq[v] = np.full(len(w), 1.0 / len(w))
        if not self.debias:
            self.estimator_.fit(self.design_.transform(private), y_arr)
        else:
            self._fit_debiased(private, reports, y_arr, k)
        self.classes_ = np.array([0, 1])
        self.privacy_sensitive_epsilon_ = eps
        self.privacy_sensitive_mechanism_ = (
            f"{k}-ary randomized response on {', '.join(self.sensitive_)} (keep probability "
            f"{self.keep_probability_:.6g} = e^ε/(e^ε+{k - 1})), pure ε-DP per person"
        )
        return self

    def _fit_debiased(self, private: dict[str, Array], reports: Array, y: Array, k: int) -> None:
        others = [f for f in self.spec_.features if f not in self.sensitive_]
        W = Design(self.meta_, others).fit(private).transform(private) if others else np.empty((len(y), 0))
        W = np.column_stack([W, y.astype(np.float64)])
        sd = W.std(axis=0)
        W = (W - W.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
        W = np.column_stack([np.ones(len(W)), W])  # intercept
        _, post = _channel_posterior(W, reports, k, self.keep_probability_)
        # One copy of each row per possible sensitive value, weighted by its posterior (weights sum to 1).
        rows, values = np.nonzero(post > 1e-6)
        weights = post[rows, values]
        expanded = {f: v[rows] for f, v in private.items()}
        expanded.update(self._split(values.astype(np.int64)))
        try:
            self.estimator_.fit(self.design_.transform(expanded), y[rows], sample_weight=weights)
        except TypeError as exc:
            raise DataError(
                f"{type(self).__name__}(debias=True) trains on weighted copies of each row; the estimator "
                f"{type(self.estimator_).__name__} does not take sample_weight ({exc}). Use one that does "
                "(e.g. LogisticRegression) or debias=False"
            ) from None

    # -- privacy --------------------------------------------------------------------------------------
    @property
    def privacy_epsilon_(self) -> float:
        """Row-level ε (add or remove a whole row): the composition of :attr:`privacy_epsilon_parts_`,
        inf unless the estimator is DP and nothing else is learned from the rows (``debias=False``)."""
        check_is_fitted(self, "estimator_")
        values = [e for e, _ in self.privacy_epsilon_parts_.values()]
        return math.inf if any(math.isinf(e) for e in values) else math.fsum(values)

    @property
    def privacy_epsilon_parts_(self) -> dict[str, tuple[float, str]]:
        """Row-level parts (add/remove a whole row): nothing bounds them; the sensitive values' ε is
        :attr:`privacy_sensitive_epsilon_`."""
        check_is_fitted(self, "estimator_")
        eps = getattr(self.estimator_, "privacy_epsilon_", None)
        model = (
            (float(eps), "the estimator's DP accountant")
            if eps is not None
            else (math.inf, "non-private estimator on the other columns and the label")
        )
        parts = {"model": model}
        if eps is not None:
            parts["encoders"] = (0.0, "categories from the spec; unseen-category weights uniform")
        if self.debias:
            parts["posterior"] = (
                math.inf,
                "channel-corrected posterior fitted on the rows without row-level DP",
            )
        return parts

    # -- prediction -----------------------------------------------------------------------------------
    def _scores(self, X: pd.DataFrame, cols: dict[str, Array]) -> Array:
        p = self.estimator_.predict_proba(self.design_.transform(cols))
        out: Array = p[:, list(self.estimator_.classes_).index(1)]
        return out

    def predict_proba(self, X: pd.DataFrame) -> Array:
        """Probabilities of classes 0 and 1 (the person's own, true sensitive values are inputs)."""
        check_is_fitted(self, "estimator_")
        X, cols = self._predict_frame(X)
        p = pooled(self._scores, X, cols, self.meta_, self.design_.freq)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame) -> Array:
        """Predicted class (1 when P(1) >= 0.5)."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)
