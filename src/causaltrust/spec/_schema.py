"""The trust spec: a causal graph with roles for its paths, as validated pydantic models.

``TrustSpec`` is what :func:`causaltrust.load_spec` returns. Field names follow DESIGN.md's schema. All
models forbid unknown keys, and cross-field rules (acyclic graph, paths along existing edges, roles that
agree, features that exist) are checked once, when the spec is built, so every later stage can rely on them.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import warnings
from collections.abc import Mapping
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from causaltrust import _dag
from causaltrust.exceptions import GraphError, SpecError
from causaltrust.spec._equations import CompiledEquation, VarInfo, compile_equation

__all__ = [
    "MAX_VARIABLES",
    "ExplainabilitySpec",
    "FairnessSpec",
    "PrivacySpec",
    "RecourseSpec",
    "RobustnessSpec",
    "ShiftSpec",
    "Threshold",
    "TrustSpec",
    "VariableSpec",
]

Category = int | float | str
VarType = Literal["continuous", "binary", "categorical", "count"]
Path = tuple[str, ...]
_STRICT = ConfigDict(extra="forbid", frozen=True)
# Documented limit (DESIGN.md, issue 32): 2,000 variables load in about a second on one core; path work
# on them is bounded separately (causaltrust._dag.MAX_PATH_NODES).
MAX_VARIABLES = 2_000


class VariableSpec(BaseModel):
    """One variable: its type, optional equation (or parents), role and whether data contains it."""

    model_config = _STRICT

    type: VarType
    categories: tuple[Category, ...] | None = None
    equation: str | None = None
    parents: tuple[str, ...] | None = None
    observed: bool = True
    role: Literal["target", "protected", "environment"] | None = None
    measures: str | None = None
    indicators: tuple[str, ...] | None = None
    loadings: dict[str, float] = Field(default_factory=dict)
    assume: bool = False
    description: str = ""

    @field_validator("categories", mode="before")
    @classmethod
    def _plain_categories(cls, v: Any) -> Any:
        # Before coercion: pydantic would turn true/false into 1/0 and keep inf, NaN and 10**400.
        if isinstance(v, list | tuple):
            for c in v:
                if isinstance(c, bool):
                    raise ValueError(f"categories are numbers or strings, not true/false (got {c!r})")
                if isinstance(c, float) and not math.isfinite(c):
                    raise ValueError(f"category {c!r} is not a finite number")
                if isinstance(c, int) and abs(c) >= 2**63:
                    raise ValueError(f"category {c} does not fit in a 64-bit integer")
        return v

    @model_validator(mode="after")
    def _categories_match_type(self) -> VariableSpec:
        if self.type == "categorical":
            if not self.categories or len(self.categories) < 2:
                raise ValueError("a categorical variable needs 'categories:' with at least two values")
            if len(set(self.categories)) != len(self.categories):
                raise ValueError(f"categories {list(self.categories)} repeat a value")
            if any(isinstance(c, bool) for c in self.categories):
                raise ValueError("categories are numbers or strings, not true/false")
        elif self.categories is not None:
            raise ValueError(f"'categories:' only applies to categorical variables, not {self.type}")
        return self

    @property
    def engine_type(self) -> Literal["continuous", "binary", "categorical"]:
        """The type the SCM engine stores: a ``count`` is a non-negative integer held as a number."""
        return "continuous" if self.type == "count" else self.type

    def info(self) -> VarInfo:
        return VarInfo(
            self.engine_type,
            tuple(self.categories or (0, 1) if self.type == "binary" else self.categories or ()),
            count=self.type == "count",
        )


class FairnessSpec(BaseModel):
    """``protected`` attribute, its ``baseline`` level, and the unfair path entries (prefixes allowed)."""

    model_config = _STRICT

    protected: str
    baseline: Category = 0
    unfair_paths: tuple[Path, ...] = ()


class RobustnessSpec(BaseModel):
    """``environment`` variable with its spurious and contextual path entries."""

    model_config = _STRICT

    environment: str
    spurious_paths: tuple[Path, ...] = ()
    contextual_paths: tuple[Path, ...] = ()


class PrivacySpec(BaseModel):
    """Differential-privacy budget and the variables whose information is sensitive."""

    model_config = _STRICT

    epsilon: float | None = Field(default=None, gt=0, allow_inf_nan=False)  # inf would promise nothing
    delta: float = Field(default=1e-5, ge=0, lt=1)
    sensitive: tuple[str, ...] = ()


class RecourseSpec(BaseModel):
    """Which variables a person can act on, at what cost, within what bounds; the favourable outcome."""

    model_config = _STRICT

    actionable: tuple[str, ...] = ()
    immutable: tuple[str, ...] = ()
    costs: dict[str, float] = Field(default_factory=dict)
    bounds: dict[str, tuple[float, float]] = Field(default_factory=dict)
    favorable: Category = 1
    # A continuous target: the outcome is favourable above (or below) this threshold (issue 26).
    favorable_threshold: float | None = None
    favorable_direction: Literal["above", "below"] = "above"

    @field_validator("costs")
    @classmethod
    def _positive_costs(cls, v: dict[str, float]) -> dict[str, float]:
        for k, c in v.items():
            if not c > 0:
                raise ValueError(f"cost of {k!r} must be positive, got {c}")
        return v

    @field_validator("bounds")
    @classmethod
    def _ordered_bounds(cls, v: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        for k, (lo, hi) in v.items():
            if not lo < hi:
                raise ValueError(f"bounds of {k!r} must be [low, high] with low < high, got [{lo}, {hi}]")
        return v


class ExplainabilitySpec(BaseModel):
    """Variables the model's output should be invariant to."""

    model_config = _STRICT

    irrelevant: tuple[str, ...] = ()


class ShiftSpec(BaseModel):
    """A named intervention: hard ``do`` values, replaced ``equations``, and extended ``categories``."""

    model_config = _STRICT

    do: dict[str, Category] = Field(default_factory=dict)
    equations: dict[str, str] = Field(default_factory=dict)
    categories: dict[str, tuple[Category, ...]] = Field(default_factory=dict)
    description: str = ""


class Threshold(BaseModel):
    """Pass/fail bounds of one metric (effects compare by absolute value)."""

    model_config = _STRICT

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _some_bound(self) -> Threshold:
        for name, bound in (("min", self.min), ("max", self.max)):
            if bound is not None and math.isnan(bound):
                raise ValueError(f"'{name}: .nan' is not a bound (every comparison with NaN fails)")
        if self.min is None and self.max is None:
            raise ValueError("a threshold needs 'min:' or 'max:'")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class TrustSpec(BaseModel):
    """A validated trust spec.

    Build one with :func:`causaltrust.load_spec` (YAML path, YAML text or dict). Read-only.

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec = ct.load_spec({"target": "Y", "variables": {
    ...     "A": {"type": "binary", "equation": "bernoulli(0.5)"},
    ...     "Y": {"type": "continuous", "equation": "2*A + normal(0, 1)"}},
    ...     "fairness": {"protected": "A", "unfair_paths": [["A", "Y"]]}})
    >>> spec.parents("Y"), spec.fair_paths()
    (('A',), [])
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = "spec"
    description: str = ""
    target: str
    features_: tuple[str, ...] | None = Field(default=None, alias="features")
    variables: dict[str, VariableSpec]
    fairness: FairnessSpec | None = None
    robustness: RobustnessSpec | None = None
    privacy: PrivacySpec | None = None
    recourse: RecourseSpec | None = None
    explainability: ExplainabilitySpec | None = None
    shifts: dict[str, ShiftSpec] = Field(default_factory=dict)
    thresholds: dict[str, Threshold] = Field(default_factory=dict)

    _equations: dict[str, CompiledEquation] = PrivateAttr(default_factory=dict)
    _parents: dict[str, tuple[str, ...]] = PrivateAttr(default_factory=dict)
    _order: tuple[str, ...] = PrivateAttr(default=())

    # -- validation -----------------------------------------------------------------------------------
    @model_validator(mode="after")
    def _check(self) -> TrustSpec:
        if not self.variables:
            raise ValueError("'variables:' is empty; declare at least the target and its causes")
        if len(self.variables) > MAX_VARIABLES:
            raise ValueError(
                f"{len(self.variables):,} variables; the limit is {MAX_VARIABLES:,} (split the model, or "
                "leave out variables that do not bear on the target)"
            )
        for name in self.variables:
            if not name.isidentifier() or name.startswith("__"):
                raise ValueError(
                    f"variable name {name!r} is not a valid identifier (letters, digits, _; no leading "
                    "digit, no dunder): equations refer to variables by name"
                )
        self._build_graph()
        self._check_roles()
        self._check_paths()
        self._check_sections()
        return self

    def _build_graph(self) -> None:
        infos = {k: v.info() for k, v in self.variables.items()}
        for name, var in self.variables.items():
            if var.equation is not None:
                eq = compile_equation(name, var.equation, infos)
                self._equations[name] = eq
                if var.parents is not None and set(var.parents) != set(eq.parents):
                    raise SpecError(
                        f"variables.{name}: 'parents: {list(var.parents)}' disagrees with the parents its "
                        f"equation uses {list(eq.parents)}; drop 'parents:' or make them the same"
                    )
                self._parents[name] = eq.parents
            else:
                pas = var.parents or ()
                for p in pas:
                    if p not in self.variables:
                        raise GraphError(
                            f"variables.{name}.parents: unknown variable {p!r}; declare it under 'variables:'"
                        )
                    if p == name:
                        raise GraphError(f"variables.{name}.parents: a variable cannot be its own parent")
                self._parents[name] = tuple(pas)
        self._order = tuple(_dag.topological_order(self._parents))

    def _check_roles(self) -> None:
        v = self.variables
        if self.target not in v:
            raise SpecError(f"target {self.target!r} is not a declared variable ({', '.join(v)})")
        if not v[self.target].observed:
            raise SpecError(f"target {self.target!r} has 'observed: false'; the target must be observed")
        declared = {
            "target": self.target,
            "protected": self.fairness.protected if self.fairness else None,
            "environment": self.robustness.environment if self.robustness else None,
        }
        for role, name in declared.items():
            if name is not None and name not in v:
                section = "fairness.protected" if role == "protected" else "robustness.environment"
                raise SpecError(f"{section}: {name!r} is not a declared variable ({', '.join(v)})")
            if name is not None and not v[name].observed:
                raise SpecError(f"the {role} {name!r} has 'observed: false'; it must be observed")
        named = [(r, n) for r, n in declared.items() if n is not None]
        for (r1, n1), (r2, n2) in itertools.combinations(named, 2):
            if n1 == n2:
                raise SpecError(f"{n1!r} is both the {r1} and the {r2}; each role needs its own variable")
        for name, var in v.items():
            if var.role is not None and declared[var.role] != name:
                where = {"target": "target", "protected": "fairness.protected",
                         "environment": "robustness.environment"}[var.role]  # fmt: skip
                raise SpecError(
                    f"variables.{name}.role is {var.role!r} but {where} is {declared[var.role]!r}; "
                    f"the section is authoritative: make them agree or drop 'role:'"
                )
        if self.features_ is not None:
            if not self.features_:
                raise SpecError("'features:' is empty; list the model's inputs or omit it")
            for f in self.features_:
                if f not in v:
                    raise SpecError(f"features: {f!r} is not a declared variable")
                if f == self.target:
                    raise SpecError(f"features: the target {f!r} cannot be a model input")
                if not v[f].observed:
                    raise SpecError(f"features: {f!r} has 'observed: false'; a latent is never a feature")
            if len(set(self.features_)) != len(self.features_):
                raise SpecError("features: a feature is listed twice")
        if self.fairness is not None:
            self._check_category(self.fairness.protected, self.fairness.baseline, "fairness.baseline")
        if self.recourse is not None:
            self._check_category(self.target, self.recourse.favorable, "recourse.favorable")
            if self.recourse.favorable_threshold is not None and v[self.target].type != "continuous":
                raise SpecError(
                    f"recourse.favorable_threshold applies to a continuous target; {self.target!r} is "
                    f"{v[self.target].type}: use recourse.favorable (the favourable label)"
                )
        for name, var in v.items():
            if not var.observed:
                self._check_latent(name)
        self._check_measures()
        self._check_indicators()

    def _check_category(self, var: str, value: object, where: str) -> None:
        spec = self.variables[var]
        allowed: tuple[object, ...] = (
            (0, 1) if spec.type == "binary" else spec.categories or () if spec.type == "categorical" else ()
        )
        if allowed and value not in allowed:
            raise SpecError(f"{where}: {value!r} is not a value of {var!r} (values: {list(allowed)})")

    def _check_latent(self, name: str) -> None:
        if self.variables[name].type != "continuous":
            raise SpecError(
                f"variables.{name}: a latent ('observed: false') variable must be continuous; discrete "
                "latents cannot be abducted"
            )

    def _check_measures(self) -> None:
        """``measures: L`` marks the observed, noise-free, unit-slope measurement M = L + δ(other parents)."""
        measured: dict[str, str] = {}
        for name, var in self.variables.items():
            if var.assume and var.equation is None:
                raise SpecError(
                    f"variables.{name}: 'assume: true' pins the spec's equation, but {name!r} has none; "
                    "give it an 'equation:' or drop 'assume'"
                )
            lat = var.measures
            if lat is None:
                continue
            where = f"variables.{name}.measures"
            if lat not in self.variables:
                raise SpecError(f"{where}: {lat!r} is not a declared variable")
            if self.variables[lat].observed:
                raise SpecError(
                    f"{where}: {lat!r} is observed; 'measures:' names the latent ('observed: false') "
                    f"variable that {name!r} measures"
                )
            if not var.observed or var.type != "continuous":
                raise SpecError(f"{where}: the measurement {name!r} must be an observed continuous variable")
            if lat not in self._parents[name]:
                raise SpecError(
                    f"{where}: {lat!r} is not a parent of {name!r}; add it to {name!r}'s equation or "
                    f"'parents:' (the measurement is {name} = {lat} + offsets of the other parents)"
                )
            eq = self._equations.get(name)
            if eq is not None and eq.kind != "deterministic":
                raise SpecError(
                    f"{where}: the equation of {name!r} ({var.equation!r}) has a noise term, but a "
                    f"measurement is noise-free ({name} = {lat} + offsets); drop the noise or 'measures:'"
                )
            if lat in measured:
                raise SpecError(
                    f"{where}: {lat!r} is already measured by {measured[lat]!r}; mark one measurement"
                )
            measured[lat] = name

    def _check_indicators(self) -> None:
        """``indicators: [X1, X2, ...]`` on a latent K: its noisy observed children (a factor model).

        Structural checks only; whether data identify K (enough indicators, fixed loadings) is checked by
        :meth:`SCM.fit`, since a spec that is only simulated needs no identification.
        """
        owner: dict[str, str] = {}
        for name, var in self.variables.items():
            where = f"variables.{name}"
            if var.loadings and var.indicators is None:
                raise SpecError(f"{where}.loadings: only a latent with 'indicators:' has loadings")
            if var.indicators is None:
                continue
            if var.observed:
                raise SpecError(
                    f"{where}.indicators: {name!r} is observed; 'indicators:' belongs on a latent "
                    "('observed: false') variable"
                )
            if self.measurement(name) is not None:
                raise SpecError(
                    f"{where}.indicators: {name!r} is also measured by {self.measurement(name)!r} "
                    "('measures:'); a latent has either one noise-free measurement or noisy indicators"
                )
            if not var.indicators:
                raise SpecError(f"{where}.indicators: the list is empty; name its observed indicators")
            if len(set(var.indicators)) != len(var.indicators):
                raise SpecError(f"{where}.indicators: an indicator is listed twice")
            for x in var.indicators:
                if x not in self.variables:
                    raise SpecError(f"{where}.indicators: {x!r} is not a declared variable")
                xv = self.variables[x]
                if not xv.observed or xv.type == "categorical":
                    raise SpecError(
                        f"{where}.indicators: {x!r} must be an observed continuous, binary or count variable "
                        f"(got {'a latent' if not xv.observed else 'categorical'})"
                    )
                if xv.measures is not None:
                    raise SpecError(f"{where}.indicators: {x!r} already 'measures: {xv.measures}'")
                if name not in self._parents[x]:
                    raise SpecError(
                        f"{where}.indicators: {name!r} is not a parent of {x!r}; add it to {x!r}'s "
                        "equation or 'parents:'"
                    )
                if x in owner:
                    raise SpecError(
                        f"{where}.indicators: {x!r} is already an indicator of {owner[x]!r}; an indicator "
                        "loads on one latent factor"
                    )
                owner[x] = name
            for x, lam in var.loadings.items():
                if x not in var.indicators:
                    raise SpecError(f"{where}.loadings: {x!r} is not one of its indicators")
                if not math.isfinite(lam) or lam == 0:
                    raise SpecError(f"{where}.loadings.{x}: a fixed loading is a finite nonzero number")
            first = var.indicators[0]
            if var.loadings.get(first, 1.0) != 1.0:
                raise SpecError(
                    f"{where}.loadings.{first}: the first indicator's loading is fixed at +1 (it sets the "
                    f"scale and sign of {name!r}); reorder the indicators or drop the loading"
                )

    def structure(self) -> TrustSpec:
        """This spec with every equation replaced by its ``parents:`` (what :meth:`SCM.fit` learns from).

        Types, roles, ``measures:``, sections, shifts and thresholds are kept; so are the equations of
        variables marked ``assume: true``. The result can be fitted, not simulated.

        Examples
        --------
        >>> import causaltrust as ct
        >>> spec = ct.scenarios.load("readmission")[0].structure()
        >>> spec.equation("Y") is None, spec.parents("X"), spec.variables["X"].measures
        (True, ('L', 'E'), 'L')
        """
        raw = self.to_dict()
        for name, var in raw["variables"].items():
            if "equation" in var and not var.get("assume", False):
                del var["equation"]
                var["parents"] = list(self._parents[name])
        return TrustSpec.model_validate(raw)

    def indicators(self, latent: str) -> tuple[str, ...]:
        """The indicators of ``latent`` (``indicators:``; empty when it has none)."""
        self._require(latent)
        return tuple(self.variables[latent].indicators or ())

    def measurement(self, latent: str) -> str | None:
        """The observed variable with ``measures: latent`` (None when there is none)."""
        self._require(latent)
        for name, var in self.variables.items():
            if var.measures == latent:
                return name
        return None

    def _check_paths(self) -> None:
        edges = {(p, c) for c, pas in self._parents.items() for p in pas}
        groups: list[tuple[str, str | None, tuple[Path, ...]]] = []
        if self.fairness is not None:
            groups.append(("fairness.unfair_paths", self.fairness.protected, self.fairness.unfair_paths))
        if self.robustness is not None:
            env = self.robustness.environment
            groups.append(("robustness.spurious_paths", env, self.robustness.spurious_paths))
            groups.append(("robustness.contextual_paths", env, self.robustness.contextual_paths))
        for where, source, entries in groups:
            for i, path in enumerate(entries):
                label = f"{where}[{i}] {list(path)}"
                if len(path) < 2:
                    raise SpecError(f"{label}: a path entry needs at least two nodes, e.g. [{source}, Y]")
                if path[0] != source:
                    raise SpecError(f"{label}: must start at {source!r}")
                for a, b in itertools.pairwise(path):
                    if a not in self.variables or b not in self.variables:
                        bad = a if a not in self.variables else b
                        raise GraphError(f"{label}: {bad!r} is not a declared variable")
                    if (a, b) not in edges:
                        raise GraphError(
                            f"{label}: the edge {a} -> {b} does not exist in the graph "
                            f"(parents of {b}: {list(self._parents[b])})"
                        )
                if len(set(path)) != len(path):
                    raise GraphError(f"{label}: a directed path visits each node once")
                self._warn_dead_end(label, path)
        if self.robustness is not None:
            for s in self.robustness.spurious_paths:
                for c in self.robustness.contextual_paths:
                    n = min(len(s), len(c))
                    if s[:n] == c[:n]:
                        raise SpecError(
                            f"robustness: spurious entry {list(s)} and contextual entry {list(c)} overlap "
                            "(one is a prefix of the other), so some paths would be both; split them"
                        )

    def _warn_dead_end(self, label: str, path: Path) -> None:
        """Warn about an entry that selects no path: its last node reaches neither the target nor an input.

        An entry ending at a model input that does not cause the target is legitimate (a proxy, or the
        spurious feature of a robustness spec): it selects paths to the prediction.
        """
        below = _dag.descendants(self._parents, [path[-1]]) | {path[-1]}
        if self.target in below or below & set(self.features):
            return
        warnings.warn(
            f"{label}: {path[-1]!r} has no directed path to the target {self.target!r} nor to any model "
            "input, so this entry selects no path; check it",
            UserWarning,
            stacklevel=2,
        )

    def _check_sections(self) -> None:
        v = self.variables

        def need(names: tuple[str, ...] | list[str], where: str, observed: bool = False) -> None:
            for n in names:
                if n not in v:
                    raise SpecError(f"{where}: {n!r} is not a declared variable")
                if observed and not v[n].observed:
                    raise SpecError(f"{where}: {n!r} is latent ('observed: false')")

        if self.privacy is not None:
            need(self.privacy.sensitive, "privacy.sensitive")
        if self.explainability is not None:
            need(self.explainability.irrelevant, "explainability.irrelevant", observed=True)
        if self.recourse is not None:
            r = self.recourse
            need(r.actionable, "recourse.actionable", observed=True)
            need(r.immutable, "recourse.immutable")
            need(list(r.costs), "recourse.costs")
            need(list(r.bounds), "recourse.bounds")
            both = set(r.actionable) & set(r.immutable)
            if both:
                raise SpecError(f"recourse: {sorted(both)} are both actionable and immutable")
            if self.target in r.actionable:
                raise SpecError("recourse.actionable: the target cannot be acted on directly")
            for k in list(r.costs) + list(r.bounds):
                if k not in r.actionable:
                    raise SpecError(f"recourse: {k!r} has a cost or bound but is not in 'actionable:'")
        for sname, shift in self.shifts.items():
            self.shift_equations(sname)  # compiles and checks
            need(list(shift.do), f"shifts.{sname}.do")
            for var, value in shift.do.items():
                self._check_category_shift(sname, var, value)

    def _check_category_shift(self, sname: str, var: str, value: object) -> None:
        cats = self.shift_categories(sname).get(var)
        spec = self.variables[var]
        if spec.type == "binary" and value not in (0, 1):
            raise SpecError(f"shifts.{sname}.do: {var} is binary; {value!r} is not 0 or 1")
        if spec.type == "categorical" and cats is not None and value not in cats:
            raise SpecError(f"shifts.{sname}.do: {value!r} is not a category of {var} ({list(cats)})")
        if spec.type in ("continuous", "count") and not isinstance(value, int | float):
            raise SpecError(f"shifts.{sname}.do: {var} is {spec.type}; {value!r} is not a number")

    def __eq__(self, other: object) -> bool:
        # Compare the declared content only: the private compiled equations are derived from it and
        # their AST nodes compare by identity, which made two loads of the same spec unequal.
        if not isinstance(other, TrustSpec):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]  # dict fields: use the .hash property

    def __repr__(self) -> str:
        # The full model dump runs to pages; a spec is identified by its name, target, size and hash.
        latent = f", {len(self.latent)} latent" if self.latent else ""
        return (
            f"TrustSpec(name={self.name!r}, target={self.target!r}, "
            f"{len(self.variables)} variables{latent}, hash={self.hash[:12]})"
        )

    # -- public views ---------------------------------------------------------------------------------
    @property
    def protected(self) -> str | None:
        """The protected attribute (``fairness.protected``), or None."""
        return self.fairness.protected if self.fairness else None

    @property
    def environment(self) -> str | None:
        """The environment variable (``robustness.environment``), or None."""
        return self.robustness.environment if self.robustness else None

    @property
    def features(self) -> list[str]:
        """The model's inputs: ``features`` as written, else every observed variable but the target."""
        if self.features_ is not None:
            return list(self.features_)
        return [n for n, v in self.variables.items() if v.observed and n != self.target]

    @property
    def observed(self) -> list[str]:
        """Variables that data contains, in declaration order."""
        return [n for n, v in self.variables.items() if v.observed]

    @property
    def latent(self) -> list[str]:
        """Variables with ``observed: false``."""
        return [n for n, v in self.variables.items() if not v.observed]

    @property
    def order(self) -> tuple[str, ...]:
        """A topological order, ties broken by declaration order."""
        return self._order

    @property
    def graph_parents(self) -> dict[str, tuple[str, ...]]:
        """``{variable: parents}`` in a fixed order (the order the equation mentions them)."""
        return dict(self._parents)

    def parents(self, variable: str) -> tuple[str, ...]:
        """Parents of ``variable``."""
        self._require(variable)
        return self._parents[variable]

    def equation(self, variable: str) -> CompiledEquation | None:
        """The compiled equation of ``variable`` (None when the spec lists only parents)."""
        self._require(variable)
        return self._equations.get(variable)

    def _require(self, variable: str) -> None:
        if variable not in self.variables:
            raise SpecError(f"unknown variable {variable!r}; declared: {', '.join(self.variables)}")

    def unfair_paths(self) -> list[Path]:
        """Unfair path entries as written (tuples; may be prefixes)."""
        return list(self.fairness.unfair_paths) if self.fairness else []

    def spurious_paths(self) -> list[Path]:
        """Spurious environment path entries as written."""
        return list(self.robustness.spurious_paths) if self.robustness else []

    def contextual_paths(self) -> list[Path]:
        """Contextual environment path entries as written."""
        return list(self.robustness.contextual_paths) if self.robustness else []

    def expand_paths(
        self, entries: list[Path] | tuple[Path, ...], target: str | None = None, *, limit: int = 10_000
    ) -> list[Path]:
        """Every full directed path to ``target`` (default: the spec's) that begins with an entry."""
        target = target or self.target
        out: dict[Path, None] = {}
        for e in entries:
            for p in _dag.all_paths(self._parents, e[0], target, prefix=e, limit=limit):
                out[p] = None
        return list(out)

    def all_paths(self, source: str, target: str | None = None, *, limit: int = 10_000) -> list[Path]:
        """Every directed path from ``source`` to ``target`` (default: the spec's target)."""
        self._require(source)
        return _dag.all_paths(self._parents, source, target or self.target, limit=limit)

    def fair_paths(self) -> list[Path]:
        """Full protected → target paths not covered by an unfair entry (SpecError past 10,000 paths)."""
        if self.fairness is None:
            return []
        unfair = set(self.expand_paths(self.unfair_paths()))
        return [p for p in self.all_paths(self.fairness.protected) if p not in unfair]

    def spurious_full_paths(self, target: str | None = None) -> list[Path]:
        """Full environment → target paths covered by a spurious entry."""
        return self.expand_paths(self.spurious_paths(), target)

    def contextual_full_paths(self, target: str | None = None) -> list[Path]:
        """Full environment → target paths not spurious (uncovered paths count as contextual)."""
        if self.robustness is None:
            return []
        spurious = set(self.spurious_full_paths(target))
        return [p for p in self.all_paths(self.robustness.environment, target) if p not in spurious]

    def shift_categories(self, name: str) -> dict[str, tuple[Category, ...]]:
        """Categories of each categorical variable once shift ``name`` applies (added ones appended)."""
        shift = self.shift(name)
        cats = {n: tuple(v.categories) for n, v in self.variables.items() if v.categories}
        for var, new in shift.categories.items():
            if var not in self.variables or self.variables[var].type != "categorical":
                raise SpecError(f"shifts.{name}.categories: {var!r} is not a categorical variable")
            old = cats[var]
            if tuple(new[: len(old)]) != old or len(set(new)) != len(new):
                raise SpecError(
                    f"shifts.{name}.categories.{var}: {list(new)} must start with the declared categories "
                    f"{list(old)} in order and append new ones (codes must stay stable)"
                )
            cats[var] = tuple(new)
        return cats

    def shift_equations(self, name: str) -> dict[str, CompiledEquation]:
        """Compiled replacement equations of shift ``name`` (checked against its categories)."""
        shift = self.shift(name)
        cats = self.shift_categories(name)
        infos = {
            n: VarInfo(
                v.engine_type, cats.get(n, (0, 1) if v.type == "binary" else ()), count=v.type == "count"
            )
            for n, v in self.variables.items()
        }
        out = {}
        for var, text in shift.equations.items():
            if var not in self.variables:
                raise SpecError(f"shifts.{name}.equations: {var!r} is not a declared variable")
            try:
                out[var] = compile_equation(var, text, infos)
            except SpecError as exc:
                raise SpecError(f"shifts.{name}: {exc}") from None
        return out

    def shift(self, name: str) -> ShiftSpec:
        """The shift called ``name`` (its ``do``, ``equations`` and ``categories``); SpecError if unknown.

        Examples
        --------
        >>> import causaltrust as ct
        >>> sorted(ct.scenarios.load("readmission")[0].shift("new_device").equations)
        ['X']
        """
        if name not in self.shifts:
            raise SpecError(f"unknown shift {name!r}; the spec defines: {', '.join(self.shifts) or 'none'}")
        return self.shifts[name]

    def to_dict(self) -> dict[str, Any]:
        """A plain dict that :func:`causaltrust.load_spec` turns back into an equal spec."""
        return _plain(self.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True))

    @cached_property
    def hash(self) -> str:
        """SHA-256 of the canonical JSON of the spec (ledger key)."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


def _plain(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    return obj
