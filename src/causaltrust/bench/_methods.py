"""The core sweep methods (ERM and the selective learners) and the builder helpers the baselines share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from causaltrust.bench._registry import (
    METHODS,
    BenchError,
    MethodSpec,
    causal_methods,
    get_method,
    method_names,
    register,
    resolve_params,
)
from causaltrust.scm import SCM
from causaltrust.spec import TrustSpec

__all__ = [
    "METHODS",
    "BenchError",
    "MethodSpec",
    "build_erm",
    "build_selective",
    "build_selective_bounded",
    "causal_methods",
    "get_method",
    "method_names",
    "register",
    "resolve_params",
]


def _categorical_features(spec: TrustSpec) -> list[str]:
    return [f for f in spec.features if spec.variables[f].type == "categorical"]


def _logistic(C: float, seed: int) -> Any:
    # Standardised inside fit: real data mixes scales, and unscaled lbfgs stops before converging.
    from causaltrust.bench._estimators import StandardizedLogisticRegression

    return StandardizedLogisticRegression(C=float(C), max_iter=1000, random_state=seed)


def build_erm(spec: TrustSpec, scm: SCM | None, params: Mapping[str, Any], seed: int) -> Any:
    """Logistic regression on the spec's features, categorical features one-hot encoded."""
    from causaltrust.bench._regression import is_continuous, regressor_twin

    if is_continuous(spec):  # a continuous target: least squares (ERMRegressor)
        return regressor_twin("erm", spec, scm, params, seed)
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    cats = _categorical_features(spec)
    encode = ColumnTransformer(
        [("onehot", OneHotEncoder(handle_unknown="ignore"), cats)],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )
    return Pipeline([("encode", encode), ("model", _logistic(params["C"], seed))])


def build_selective(spec: TrustSpec, scm: SCM | None, params: Mapping[str, Any], seed: int) -> Any:
    """SelectiveInvarianceClassifier; ``scm`` is the true SCM, or None to fit one from the training rows."""
    from causaltrust.bench._regression import is_continuous, regressor_twin
    from causaltrust.learners import SelectiveInvarianceClassifier

    if is_continuous(spec):
        return regressor_twin("selective", spec, scm, params, seed)
    return SelectiveInvarianceClassifier(
        spec=spec,
        estimator=_logistic(params["C"], seed),
        scm=scm,
        fairness=_fairness_mode(params["fairness"]),
        # A spec without a robustness section (real datasets) has nothing to hold invariant there.
        robustness=_robustness_mode(params["robustness"]) if spec.robustness is not None else None,
        fair_labels=bool(params["fair_labels"]),
        n_draws=int(params["n_draws"]),
        random_state=seed,
    )


def build_selective_bounded(spec: TrustSpec, scm: SCM | None, params: Mapping[str, Any], seed: int) -> Any:
    """SelectiveInvarianceClassifier, ``robustness="bounded"``; ``shift_strength`` is the γ grid's knob."""
    from causaltrust.learners import SelectiveInvarianceClassifier

    return SelectiveInvarianceClassifier(
        spec=spec,
        estimator=_logistic(params["C"], seed),
        scm=scm,
        fairness=_fairness_mode(params["fairness"]),
        robustness="bounded" if spec.robustness is not None else None,
        shift_strength=float(params["shift_strength"]),
        fair_labels=bool(params["fair_labels"]),
        n_draws=int(params["n_draws"]),
        random_state=seed,
    )


def _fairness_mode(value: Any) -> bool | str:
    """Grid values "block" (each unfair path blocked, the default for True) and "map" (the paths' sum
    held at the baseline) pass through; False switches fairness off."""
    if value in ("block", "map"):
        return str(value)
    return bool(value)


def _robustness_mode(value: Any) -> bool | str:
    """Grid values True / "map" map the spurious paths, "drop" drops their inputs, False switches it off."""
    if value in ("map", "drop"):
        return str(value)
    return "map" if bool(value) else False


_SELECTIVE_PARAMS = {"C": 1.0, "fairness": True, "robustness": True, "fair_labels": True, "n_draws": 8}


register(
    MethodSpec(
        "erm",
        "empirical risk minimisation: logistic regression on every feature (one-hot categoricals)",
        "none",
        build_erm,
        {"C": 1.0},
        None,
    )
)
register(
    MethodSpec(
        "selective",
        "selective invariance with the true SCM: unfair and spurious paths blocked, fair-world labels",
        "fairness (unfair paths) + robustness (spurious paths)",
        build_selective,
        _SELECTIVE_PARAMS,
        "true",
        causal=True,
    )
)
register(
    MethodSpec(
        "selective_fitted",
        "selective invariance with an SCM fitted on the training rows (audited against the true SCM)",
        "fairness (unfair paths) + robustness (spurious paths)",
        build_selective,
        _SELECTIVE_PARAMS,
        "fitted",
        causal=True,
    )
)


_BOUNDED_PARAMS = {**{k: v for k, v in _SELECTIVE_PARAMS.items() if k != "robustness"}, "shift_strength": 1.0}
register(
    MethodSpec(
        "selective_bounded",
        "selective invariance, bounded robustness: trained for spurious shifts up to shift_strength noise sd",
        "fairness (unfair paths) + bounded robustness (spurious paths)",
        build_selective_bounded,
        _BOUNDED_PARAMS,
        "true",
        causal=True,
    )
)
register(
    MethodSpec(
        "selective_bounded_fitted",
        "selective invariance, bounded robustness, SCM fitted on the training rows",
        "fairness (unfair paths) + bounded robustness (spurious paths)",
        build_selective_bounded,
        _BOUNDED_PARAMS,
        "fitted",
        causal=True,
    )
)
