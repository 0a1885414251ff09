"""The method registry: every learner a sweep can run, by name, with the knobs a grid may vary.

The registry imports no other bench module: the builders (``_methods``, ``_baselines``, ``_text``) register
into it, and the package's ``__init__`` imports them, so the bench package has no import circle."""

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
    "method_names",
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
