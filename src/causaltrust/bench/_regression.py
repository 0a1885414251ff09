"""Regressor twins of the sweep methods: a method picks its twin when the spec's target is continuous.

``causaltrust bench law_school -m erm -m unaware -m cf_fair -m selective_fitted`` runs least squares,
unawareness, Kusner's Fair Add and the selective regressor: the builders in ``_methods`` and
``_baselines`` hand over to :func:`regressor_twin` when the target is continuous. ``C`` keeps its meaning
(the inverse L2 strength): the final estimator is ``Ridge(alpha=1/C)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from causaltrust.exceptions import BenchError
from causaltrust.scm import SCM
from causaltrust.spec import TrustSpec

__all__ = ["REGRESSION_METHODS", "REGRESSION_ONLY", "build_bgl", "is_continuous", "regressor_twin"]

#: The sweep methods that run on a continuous target (their builders pick a regressor twin).
REGRESSION_METHODS = (
    "bgl", "cf_augment", "cf_augment_fitted", "cf_fair", "cf_fair_fitted", "erm", "selective",
    "selective_fitted", "unaware",
)  # fmt: skip

#: The sweep methods that need a continuous target: a default method list on a binary target leaves them out.
REGRESSION_ONLY = ("bgl",)


def is_continuous(spec: TrustSpec) -> bool:
    """Whether the spec's target is continuous (the regressor twins apply)."""
    return spec.variables[spec.target].type == "continuous"


def _ridge(C: float) -> Any:
    from sklearn.linear_model import Ridge

    return Ridge(alpha=1.0 / float(C))


def regressor_twin(kind: str, spec: TrustSpec, scm: SCM | None, params: Mapping[str, Any], seed: int) -> Any:
    """The regressor version of sweep method family ``kind`` (erm, unaware, cf_fair, cf_augment, selective).

    A family without a twin raises a :class:`BenchError` naming the method to use instead.
    """
    from causaltrust import learners

    est = _ridge(params.get("C", 1.0))
    if kind == "erm":
        return learners.ERMRegressor(spec=spec, estimator=est, random_state=seed)
    if kind == "unaware":
        return learners.UnawareRegressor(spec=spec, estimator=est, random_state=seed)
    if kind == "cf_fair":
        return learners.CounterfactualFairRegressor(spec=spec, estimator=est, scm=scm, random_state=seed)
    if kind == "cf_augment":
        return learners.CounterfactualAugmentationRegressor(
            spec=spec, estimator=est, scm=scm, random_state=seed
        )
    if kind == "selective":
        return learners.SelectiveInvarianceRegressor(
            spec=spec,
            estimator=est,
            scm=scm,
            fairness=bool(params["fairness"]),
            robustness=("map" if bool(params["robustness"]) else False)
            if spec.robustness is not None
            else None,
            fair_labels=bool(params["fair_labels"]),
            n_draws=int(params["n_draws"]),
            random_state=seed,
        )
    raise BenchError(
        f"method family {kind!r} has no regressor twin; the spec's target {spec.target!r} is continuous. "
        "Use erm, unaware, cf_fair, cf_augment, bgl or selective"
    )


def build_bgl(spec: TrustSpec, scm: SCM | None, params: Mapping[str, Any], seed: int) -> Any:
    """fairlearn's bounded-group-loss reduction (continuous target only)."""
    from causaltrust.learners import BoundedGroupLossRegressor

    if not is_continuous(spec):
        raise BenchError(
            f"method 'bgl' bounds each group's squared error and needs a continuous target; {spec.target!r} "
            f"is {spec.variables[spec.target].type}: use eg_dp or eg_eo"
        )
    bound = params["upper_bound"]
    return BoundedGroupLossRegressor(
        spec=spec,
        estimator=_ridge(params["C"]),
        upper_bound=None if bound is None else float(bound),
        max_iter=int(params["max_iter"]),
        random_state=seed,
    )
