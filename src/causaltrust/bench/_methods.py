"""The method registry: every learner a sweep can run, by name, with the knobs a grid may vary."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from causaltrust.exceptions import BenchError, did_you_mean
from causaltrust.scm import SCM
from causaltrust.spec import TrustSpec

__all__ = [
    "METHODS",
    "BenchError",
    "MethodSpec",
    "causal_methods",
    "get_method",
    "register",
    "resolve_params",
]

NeedsSCM = Literal["true", "fitted"] | None
DataKind = Literal["tabular", "text"]
Builder = Callable[[TrustSpec, "SCM | None", Mapping[str, Any], int], Any]


@dataclass(frozen=True)
class MethodSpec:
    """One runnable method of a sweep.

    Parameters
    ----------
    name : str
        Registry key, used in ``methods=[...]``, grids and the ledger.
    description : str
        One line for tables and reports.
    invariance : str
        Which invariance the method targets (``"none"`` for plain risk minimisation).
    build : callable
        ``build(spec, scm, params, seed) -> estimator``: an unfitted scikit-learn style estimator whose
        ``fit(X, y)`` takes a DataFrame of ``spec.features``. Must be importable by name (a module-level
        function) so that worker processes can unpickle it.
    params : mapping
        Every parameter a grid may set, with its default. Anything else is refused.
    needs_scm : {"true", "fitted", None}
        ``"true"``: ``build`` receives the scenario's true SCM; ``"fitted"``: it receives ``None`` and the
        estimator fits its own SCM from the training rows (still audited against the true SCM); ``None``:
        no causal model at all.
    data : {"tabular", "text"}
        The kind of data the method takes: ``"tabular"`` methods run on spec scenarios (``run``, ``demo``),
        ``"text"`` methods on the text benchmark (``causaltrust.bench.run_text``); neither is offered the
        other's data.
    causal : bool
        True for the path-selective causal methods a report compares against the best baseline (the
        headline sentences, the highlighted markers, dominance). Baselines that merely use an SCM, such as
        counterfactual fairness, stay False: they are what the causal methods are compared with.

    Examples
    --------
    >>> from causaltrust.bench import METHODS
    >>> sorted(METHODS["erm"].params)
    ['C']
    """

    name: str
    description: str
    invariance: str
    build: Builder
    params: Mapping[str, Any] = field(default_factory=dict)
    needs_scm: NeedsSCM = None
    data: DataKind = "tabular"
    causal: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        if self.needs_scm not in ("true", "fitted", None):
            got = self.needs_scm
            msg = f"MethodSpec {self.name!r}: needs_scm must be 'true', 'fitted' or None, got {got!r}"
            raise BenchError(msg)
        if self.data not in ("tabular", "text"):
            raise BenchError(f"MethodSpec {self.name!r}: data must be 'tabular' or 'text', got {self.data!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        # MappingProxyType does not pickle; rebuild from a plain dict (workers receive MethodSpecs).
        return (
            MethodSpec,
            (
                self.name,
                self.description,
                self.invariance,
                self.build,
                dict(self.params),
                self.needs_scm,
                self.data,
                self.causal,
            ),
        )


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

# The one place where methods are named. Baselines from other learner modules register here too.
METHODS: dict[str, MethodSpec] = {}


def register(method: MethodSpec, *, replace: bool = False) -> MethodSpec:
    """Add ``method`` to :data:`METHODS` (``replace=True`` to overwrite an existing name).

    Examples
    --------
    >>> from causaltrust.bench import METHODS, MethodSpec, register
    >>> from causaltrust.bench._methods import build_erm
    >>> m = register(MethodSpec("erm_strong_l2", "ERM, C=0.01", "none", build_erm, {"C": 0.01}))
    >>> "erm_strong_l2" in METHODS
    True
    >>> del METHODS["erm_strong_l2"]
    """
    if not isinstance(method, MethodSpec):
        raise BenchError(f"register: expected a MethodSpec, got {type(method).__name__}")
    if method.name in METHODS and not replace:
        msg = f"register: a method called {method.name!r} exists; pass replace=True to overwrite it"
        raise BenchError(msg)
    METHODS[method.name] = method
    return method


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


def causal_methods() -> list[str]:
    """Names of the registered methods flagged ``causal`` (sorted).

    Examples
    --------
    >>> from causaltrust.bench import causal_methods
    >>> "selective" in causal_methods() and "erm" not in causal_methods()
    True
    """
    return sorted(name for name, m in METHODS.items() if m.causal)


def get_method(name: str) -> MethodSpec:
    """The registered method called ``name``; a :class:`BenchError` listing the known names otherwise."""
    if not isinstance(name, str) or name not in METHODS:
        known = ", ".join(sorted(METHODS))
        hint = did_you_mean(name, list(METHODS))
        msg = f"unknown method {name!r}{hint}; known methods: {known} (add one with register())"
        raise BenchError(msg)
    return METHODS[name]


def resolve_params(method: MethodSpec, params: Mapping[str, Any]) -> dict[str, Any]:
    """``method``'s defaults updated with ``params``; unknown names raise a :class:`BenchError`."""
    bad = sorted(set(params) - set(method.params))
    if bad:
        accepted = ", ".join(f"{k}={v!r}" for k, v in sorted(method.params.items())) or "none"
        msg = f"method {method.name!r} takes no parameter(s) {bad}; it accepts: {accepted}"
        raise BenchError(msg)
    return {**method.params, **params}


def method_names(methods: Iterable[str]) -> list[MethodSpec]:
    """Resolve names in order, refusing duplicates and unknown names."""
    if isinstance(methods, str):
        methods = [methods]
    out: list[MethodSpec] = []
    for name in methods:
        m = get_method(name)
        if any(o.name == m.name for o in out):
            raise BenchError(f"methods: {name!r} is listed twice")
        out.append(m)
    if not out:
        raise BenchError(f"methods: give at least one method; known methods: {', '.join(sorted(METHODS))}")
    return out


# Registered last: the baselines module registers through ``register`` above.
from causaltrust.bench import _baselines  # noqa: E402, F401
