"""Every learner of the learners issue, registered as a sweep method (builders importable by name)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sklearn.pipeline import Pipeline

from causaltrust.bench._methods import _categorical_features, _logistic
from causaltrust.bench._registry import MethodSpec, register
from causaltrust.bench._regression import build_bgl, is_continuous, regressor_twin
from causaltrust.exceptions import BenchError
from causaltrust.scm import SCM
from causaltrust.spec import TrustSpec

__all__ = ["EpsilonPipeline"]


class EpsilonPipeline(Pipeline):
    """A Pipeline that exposes its final step's ``privacy_epsilon_`` (the audit reads it)."""

    @property
    def privacy_epsilon_(self) -> float:
        return float(getattr(self.steps[-1][1], "privacy_epsilon_", float("inf")))

    @property
    def privacy_epsilon_parts_(self) -> dict[str, tuple[float, str]]:
        """The final step's ε, and the one-hot encoder's: 0 with the spec's categories, NaN when learned."""
        eps = self.privacy_epsilon_
        parts = {"model": (eps, "the final step's DP accountant" if math.isfinite(eps) else "no DP")}
        for _, step in self.steps[:-1]:
            for _, enc, _ in getattr(step, "transformers_", []):
                if hasattr(enc, "categories_"):
                    from_data = enc.get_params().get("categories", "auto") == "auto"
                    parts["encoders"] = (
                        (math.nan, "one-hot categories learned from the training rows")
                        if from_data
                        else (0.0, "one-hot categories from the spec")
                    )
        return parts


def _encoded(spec: TrustSpec, model: Any) -> Pipeline:
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder

    cats = _categorical_features(spec)
    declared = [spec.variables[f].categories for f in cats]
    # The spec's categories when it declares them all: nothing about the training rows is learned.
    categories: Any = [list(c) for c in declared if c] if all(declared) else "auto"
    encode = ColumnTransformer(
        [("onehot", OneHotEncoder(categories=categories, handle_unknown="ignore"), cats)],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )
    return EpsilonPipeline([("encode", encode), ("model", model)])


def build_unaware(spec: TrustSpec, scm: SCM | None, params: Mapping[str, Any], seed: int) -> Any:
    if is_continuous(spec):
        return regressor_twin("unaware", spec, scm, params, seed)
    from causaltrust.learners import UnawareClassifier

    return UnawareClassifier(spec=spec, estimator=_logistic(params["C"], seed))


def build_reductions(spec: TrustSpec, scm: SCM | None, params: Mapping[str, Any], seed: int) -> Any:
    from causaltrust.learners import ReductionsClassifier

    return ReductionsClassifier(
        spec=spec,
        estimator=_logistic(params["C"], seed),
        constraint=params["constraint"],
        eps=float(params["eps"]),
        random_state=seed,
    )


def build_threshold(spec: TrustSpec, scm: SCM | None, params: Mapping[str, Any], seed: int) -> Any:
    from causaltrust.learners import ThresholdOptimizerClassifier

    return ThresholdOptimizerClassifier(
        spec=spec, estimator=_logistic(params["C"], seed), constraint=params["constraint"], random_state=seed
    )


def build_cf_fair(spec: TrustSpec, scm: SCM | None, params: Mapping[str, Any], seed: int) -> Any:
    if is_continuous(spec):
        return regressor_twin("cf_fair", spec, scm, params, seed)
    from causaltrust.learners import CounterfactualFairClassifier

    return CounterfactualFairClassifier(
        spec=spec, estimator=_logistic(params["C"], seed), scm=scm, random_state=seed
    )


def build_cf_augment(spec: TrustSpec, scm: SCM | None, params: Mapping[str, Any], seed: int) -> Any:
    if is_continuous(spec):
        return regressor_twin("cf_augment", spec, scm, params, seed)
    from causaltrust.learners import CounterfactualAugmentationClassifier

    return CounterfactualAugmentationClassifier(
        spec=spec, estimator=_logistic(params["C"], seed), scm=scm, random_state=seed
    )


def build_torch_invariance(spec: TrustSpec, scm: SCM | None, params: Mapping[str, Any], seed: int) -> Any:
    from causaltrust import learners

    algorithm = params["algorithm"]
    cls = {
        "irm": learners.IRMClassifier,
        "vrex": learners.VRExClassifier,
        "groupdro": learners.GroupDROClassifier,
    }[algorithm]
    # The knob that trades accuracy for invariance (None: the class default): IRM / V-REx's penalty weight
    # λ, GroupDRO's step size η.
    knob = (
        {}
        if params.get("penalty") is None
        else {"eta" if algorithm == "groupdro" else "lambda_": params["penalty"]}
    )
    # protected_input=False (V-REx, GroupDRO): fairness through unawareness, a route to a fairness threshold
    # that needs no graph.
    aware = params.get("protected_input", True)
    if not isinstance(aware, bool):
        raise BenchError(f"protected_input: expected True or False, got {aware!r}")
    return cls(
        spec=spec if aware else _unaware_spec(spec),
        epochs=int(params["epochs"]),
        use_environment_as_feature=bool(params.get("env_feature", False)),
        group_by=_group_by(spec, params.get("groups", "environment")),
        random_state=seed,
        **knob,
    )


_GROUPS = ("environment", "environment_protected")


def _group_by(spec: TrustSpec, groups: Any) -> list[str] | None:
    """The ``groups`` grid value as the learners' ``group_by``: ``"environment"`` (the default: the spec's
    environment) or ``"environment_protected"`` (every environment × protected group: the information about
    the protected attribute that a method seeing only group labels can use)."""
    if groups not in _GROUPS:
        raise BenchError(f"groups: expected one of {list(_GROUPS)}, got {groups!r}")
    if groups == "environment":
        return None
    if spec.protected is None or spec.environment is None:
        raise BenchError(
            f"groups='environment_protected' needs a spec with a protected attribute and an environment; "
            f"spec {spec.name!r} has protected={spec.protected!r}, environment={spec.environment!r}"
        )
    return [spec.environment, spec.protected]


def _unaware_spec(spec: TrustSpec) -> TrustSpec:
    """The spec with its protected attribute left out of the features (``protected_input=False``): the model
    never reads it, as fairness through unawareness, though ``groups="environment_protected"`` may still
    form its training groups from it (the column stays in the rows; the learners ignore columns that are not
    features)."""
    if spec.protected is None:
        raise BenchError(
            f"protected_input=False needs a spec with a protected attribute; spec {spec.name!r} has none"
        )
    from causaltrust.spec import load_spec

    raw = spec.model_dump(by_alias=True, exclude_none=True)
    raw["features"] = [f for f in spec.features if f != spec.protected]
    return load_spec(raw)


def build_anchor(spec: TrustSpec, scm: SCM | None, params: Mapping[str, Any], seed: int) -> Any:
    """Anchor classification (linear logistic), the environment as anchor, no path knowledge."""
    from causaltrust.learners import AnchorClassifier

    return AnchorClassifier(
        spec=spec,
        gamma=float(params["gamma"]),
        C=float(params["C"]),
        use_environment_as_feature=bool(params["env_feature"]),
        group_by=_group_by(spec, params.get("groups", "environment")),
    )


def build_dp_lr(spec: TrustSpec, scm: SCM | None, params: Mapping[str, Any], seed: int) -> Any:
    from causaltrust.learners import DPLogisticRegression

    return _encoded(spec, DPLogisticRegression(target_epsilon=float(params["epsilon"]), random_state=seed))


def build_input_noise(spec: TrustSpec, scm: SCM | None, params: Mapping[str, Any], seed: int) -> Any:
    from causaltrust.learners import InputNoiseClassifier

    return InputNoiseClassifier(
        spec=spec,
        estimator=_logistic(params["C"], seed),
        noise_scale=float(params["noise_scale"]),
        random_state=seed,
    )


def build_selective_private(spec: TrustSpec, scm: SCM | None, params: Mapping[str, Any], seed: int) -> Any:
    """The flagship with a DP-SGD final estimator (ε on every input), optionally with the uncalibrated
    ``sensitive_input_noise`` heuristic (no ε) on the sensitive variables' inputs."""
    from causaltrust.learners import DPLogisticRegression, SelectiveInvarianceClassifier

    eps = params["epsilon"]
    estimator = (
        DPLogisticRegression(target_epsilon=float(eps), random_state=seed)
        if eps is not None
        else _logistic(1.0, seed)
    )
    noise = float(params["sensitive_input_noise"])
    return SelectiveInvarianceClassifier(
        spec=spec, scm=scm, estimator=estimator, sensitive_input_noise=noise, random_state=seed
    )


def build_recenter(spec: TrustSpec, scm: SCM | None, params: Mapping[str, Any], seed: int) -> Any:
    """Per-environment re-centering and scaling of continuous features (adapts on unlabeled rows)."""
    from causaltrust.learners import RecenteringClassifier

    return RecenteringClassifier(spec=spec, estimator=_logistic(params["C"], seed), random_state=seed)


def build_importance_weighted(spec: TrustSpec, scm: SCM | None, params: Mapping[str, Any], seed: int) -> Any:
    """ERM reweighted by a domain classifier's density ratio once adapted on unlabeled rows."""
    from causaltrust.learners import ImportanceWeightedClassifier

    return ImportanceWeightedClassifier(spec=spec, estimator=_logistic(params["C"], seed), random_state=seed)


_BASELINES: list[MethodSpec] = [
    MethodSpec(
        "unaware",
        "fairness through unawareness: ERM without the protected attribute",
        "direct effect of A",
        build_unaware,
        {"C": 1.0},
    ),
    MethodSpec(
        "eg_dp",
        "fairlearn ExponentiatedGradient, demographic parity",
        "demographic parity (every A-path)",
        build_reductions,
        {"C": 1.0, "constraint": "demographic_parity", "eps": 0.01},
    ),
    MethodSpec(
        "eg_eo",
        "fairlearn ExponentiatedGradient, equalized odds",
        "equalized odds (every A-path given Y)",
        build_reductions,
        {"C": 1.0, "constraint": "equalized_odds", "eps": 0.01},
    ),
    MethodSpec(
        "threshold_dp",
        "fairlearn ThresholdOptimizer, demographic parity",
        "demographic parity (post-processing)",
        build_threshold,
        {"C": 1.0, "constraint": "demographic_parity"},
    ),
    MethodSpec(
        "cf_fair",
        "counterfactual fairness, Kusner et al. level 3 (true SCM)",
        "counterfactual invariance to A",
        build_cf_fair,
        {"C": 1.0},
        "true",
    ),
    MethodSpec(
        "cf_augment",
        "counterfactual data augmentation on A through the true SCM",
        "counterfactual invariance to A",
        build_cf_augment,
        {"C": 1.0},
        "true",
    ),
    MethodSpec(
        "cf_fair_fitted",
        "counterfactual fairness, Kusner et al. level 3 (SCM fitted on the training rows)",
        "counterfactual invariance to A",
        build_cf_fair,
        {"C": 1.0},
        "fitted",
    ),
    MethodSpec(
        "cf_augment_fitted",
        "counterfactual data augmentation on A through an SCM fitted on the training rows",
        "counterfactual invariance to A",
        build_cf_augment,
        {"C": 1.0},
        "fitted",
    ),
    MethodSpec(
        "bgl",
        "fairlearn bounded group loss (continuous target): every group's squared error at most a bound",
        "group loss parity (every A-path)",
        build_bgl,
        {"C": 1.0, "upper_bound": None, "max_iter": 20},
    ),
    MethodSpec(
        "recenter",
        "per-environment re-centering and scaling of continuous features (adapts on unlabeled target rows)",
        "environment shift of feature location and scale",
        build_recenter,
        {"C": 1.0},
    ),
    MethodSpec(
        "importance_weighted",
        "importance-weighted ERM with a logistic domain classifier (adapts on unlabeled target rows)",
        "covariate shift",
        build_importance_weighted,
        {"C": 1.0},
    ),
    MethodSpec(
        "irm",
        "invariant risk minimisation (DomainBed)",
        "invariance across environments",
        build_torch_invariance,
        {"algorithm": "irm", "epochs": 300, "penalty": None, "env_feature": False, "groups": "environment"},
    ),
    MethodSpec(
        "vrex",
        "V-REx: variance of environment risks (DomainBed)",
        "invariance across environments",
        build_torch_invariance,
        {
            "algorithm": "vrex",
            "epochs": 300,
            "penalty": None,
            "env_feature": False,
            "groups": "environment",
            "protected_input": True,
        },
    ),
    MethodSpec(
        "groupdro",
        "GroupDRO (DomainBed)",
        "worst-environment risk",
        build_torch_invariance,
        {
            "algorithm": "groupdro",
            "epochs": 300,
            "penalty": None,
            "env_feature": False,
            "groups": "environment",
            "protected_input": True,
        },
    ),
    MethodSpec(
        "anchor",
        "anchor classification: logistic loss + (gamma - 1) x environment-mean residual penalty",
        "invariance across environments (anchor = environment)",
        build_anchor,
        {"gamma": 5.0, "C": 1.0, "env_feature": False, "groups": "environment"},
    ),
    MethodSpec(
        "dp_lr",
        "DP-SGD logistic regression (Opacus accountant)",
        "differential privacy (every input)",
        build_dp_lr,
        {"epsilon": 1.0},
    ),
    MethodSpec(
        "input_noise",
        "uniform Gaussian input obfuscation of every feature",
        "obfuscation (every input)",
        build_input_noise,
        {"C": 1.0, "noise_scale": 1.0},
    ),
    MethodSpec(
        "selective_private",
        "selective invariance (true SCM, not learned from the rows) + DP-SGD final estimator: ε covers "
        "every input and label of the final estimator's training",
        "fairness + robustness + DP-SGD on every input (not path-targeted)",
        build_selective_private,
        {"epsilon": 1.0, "sensitive_input_noise": 0.0},
        "true",
        causal=True,
    ),
]
for _method in _BASELINES:
    register(_method)
