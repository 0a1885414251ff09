"""Path-specific causal effects, and their split into unfair / fair and spurious / contextual parts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, overload

import numpy as np
import pandas as pd

from causaltrust import _dag
from causaltrust.exceptions import DataError, SpecError
from causaltrust.scm._data import value_to_internal
from causaltrust.scm._mechanisms import Mechanism, Noise
from causaltrust.scm._model import SCM, stream
from causaltrust.scm._paths import MultiPathWorld

__all__ = ["Effect", "EffectDecomposition", "decompose_effects", "path_effect", "path_effects"]

Array = np.ndarray
Path = tuple[str, ...]
_Z95 = 1.959963984540054


@dataclass(frozen=True)
class Effect:
    """A Monte-Carlo effect estimate: mean over units of a per-unit contrast, with a 95% interval."""

    name: str
    estimate: float
    low: float
    high: float
    n: int
    paths: tuple[Path, ...] = ()

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.estimate, self.low, self.high)


def _effect(name: str, diffs: Array, paths: Sequence[Path]) -> Effect:
    est = float(diffs.mean())
    se = float(diffs.std(ddof=1) / np.sqrt(len(diffs))) if len(diffs) > 1 else float("nan")
    return Effect(name, est, est - _Z95 * se, est + _Z95 * se, len(diffs), tuple(paths))


def _output(target_is_binary: bool, n: int) -> Any:
    def out(v: str, mech: Mechanism, env: dict[str, Array], noise: Noise) -> Array:
        if target_is_binary:
            return mech.expectation(env, noise, n, v)
        return mech.evaluate(env, noise, n)

    return out


def _unit_contrasts(
    scm: SCM,
    *,
    source: str,
    target: str | None,
    path_sets: dict[str, Sequence[Sequence[str]] | None],
    value: Any,
    baseline: Any,
    n: int,
    random_state: int | None,
) -> dict[str, tuple[Array, tuple[Path, ...]]]:
    target = target or scm.spec.target
    if source not in scm.meta or target not in scm.meta:
        bad = source if source not in scm.meta else target
        raise SpecError(f"{bad!r} is not a variable ({', '.join(scm.meta)})")
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2:
        raise DataError(f"n must be an integer >= 2, got {n!r}")
    n = int(n)
    meta = scm.meta[source]
    value_i = value_to_internal(value, meta, n, "path_effect value")
    rng = stream(random_state, "path_effect")
    # The simulated units live in the world where the source is at baseline; every other world reuses
    # their noise (common random numbers), so contrasts are per unit and have low variance.
    base_model = scm.intervene(do={source: baseline})
    noises: dict[str, Noise] = {}
    cols: dict[str, Array] = {}
    for v in scm.order:
        mech = base_model.mechanisms[v]
        noises[v] = mech.draw_noise(n, rng)
        cols[v] = mech.evaluate(cols, noises[v], n)
    desc = _dag.descendants(scm.parents, [source])
    resolved: dict[str, list[Path]] = {}
    for name, entries in path_sets.items():
        if entries is None:
            resolved[name] = _dag.all_paths(scm.parents, source, target)
        else:
            resolved[name] = scm.full_paths(scm.check_paths(entries, source), source, target)
    if target not in desc:
        return {name: (np.zeros(n), tuple(p)) for name, p in resolved.items()}
    world = MultiPathWorld(scm.parents, scm.mechanisms, noises, cols, {source: (value_i, None)}, n)
    out_fn = _output(scm.meta[target].vtype == "binary", n)
    y0 = world.node(target, (frozenset(),), output=out_fn)
    out = {}
    for name, active in resolved.items():
        diff = world.node(target, (frozenset(active),), output=out_fn) - y0 if active else np.zeros(n)
        out[name] = (diff, tuple(active))
    return out


def path_effects(
    scm: SCM,
    *,
    source: str,
    target: str | None = None,
    path_sets: dict[str, Sequence[Sequence[str]] | None],
    value: Any = 1,
    baseline: Any = 0,
    n: int = 100_000,
    random_state: int | None = None,
) -> dict[str, Effect]:
    """Several path-specific effects of one contrast, sharing one set of simulated units.

    ``path_sets`` maps a name to path entries (prefixes allowed; ``None`` = every path: the total effect).
    Each effect is the mean over units of ``Y(source=value along the paths, baseline elsewhere) -
    Y(source=baseline)``, on the probability of the positive class for a binary target.
    """
    diffs = _unit_contrasts(
        scm, source=source, target=target, path_sets=path_sets, value=value, baseline=baseline, n=n,
        random_state=random_state,
    )  # fmt: skip
    return {name: _effect(name, d, paths) for name, (d, paths) in diffs.items()}


@overload
def path_effect(
    scm: SCM, *, source: str, target: str | None = ..., paths: Sequence[Sequence[str]] | None = ...,
    value: Any = ..., baseline: Any = ..., n: int = ..., random_state: int | None = ...,
    return_interval: Literal[False] = ...,
) -> float: ...  # fmt: skip
@overload
def path_effect(
    scm: SCM, *, source: str, target: str | None = ..., paths: Sequence[Sequence[str]] | None = ...,
    value: Any = ..., baseline: Any = ..., n: int = ..., random_state: int | None = ...,
    return_interval: Literal[True],
) -> tuple[float, float, float]: ...  # fmt: skip
def path_effect(
    scm: SCM,
    *,
    source: str,
    target: str | None = None,
    paths: Sequence[Sequence[str]] | None = None,
    value: Any = 1,
    baseline: Any = 0,
    n: int = 100_000,
    random_state: int | None = None,
    return_interval: bool = False,
) -> float | tuple[float, float, float]:
    """The effect of ``source`` on ``target`` along ``paths`` (all paths when None: the total effect).

    Monte-Carlo over ``n`` simulated units that share their noise across the two worlds, so the contrast
    has low variance. For a binary target the effect is on P(target = 1). With ``return_interval=True``
    returns ``(estimate, low, high)``, a 95% normal interval over units.

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, scm = ct.scenarios.load("readmission")
    >>> round(ct.path_effect(scm, source="A", target="Y", paths=[("A", "Y")], n=20_000,
    ...                      random_state=0), 2)
    0.08
    """
    eff = path_effects(
        scm, source=source, target=target, path_sets={"effect": paths}, value=value, baseline=baseline,
        n=n, random_state=random_state,
    )["effect"]  # fmt: skip
    return eff.as_tuple() if return_interval else eff.estimate


@dataclass(frozen=True)
class EffectDecomposition:
    """Total effects of the protected attribute and the environment split by path role.

    Rows: ``total``, ``unfair``, ``fair``, ``interaction`` (= total - unfair - fair; path effects do not
    add up in nonlinear models) for the protected attribute; ``total``, ``spurious``, ``contextual``,
    ``interaction`` for each non-reference environment level.
    """

    effects: tuple[Effect, ...]
    target: str
    n: int

    def to_frame(self) -> pd.DataFrame:
        """One row per effect: name, estimate, low, high, paths."""
        return pd.DataFrame(
            {
                "effect": [e.name for e in self.effects],
                "estimate": [e.estimate for e in self.effects],
                "low": [e.low for e in self.effects],
                "high": [e.high for e in self.effects],
                "paths": [" ; ".join("→".join(p) for p in e.paths) for e in self.effects],
            }
        )

    def __getitem__(self, name: str) -> Effect:
        for e in self.effects:
            if e.name == name:
                return e
        raise KeyError(f"no effect {name!r}; have {[e.name for e in self.effects]}")


def decompose_effects(
    scm: SCM, *, target: str | None = None, n: int = 100_000, random_state: int | None = None
) -> EffectDecomposition:
    """Split the protected attribute's and the environment's total effects by the spec's path roles.

    Protected attribute A (``fairness``): ``A.total``, ``A.unfair`` (the spec's unfair entries),
    ``A.fair`` (every other A-path), ``A.interaction``; contrast ``fairness.baseline`` → each other level.
    Environment E (``robustness``): for each level e other than the first category, ``E[e].total``,
    ``E[e].spurious``, ``E[e].contextual`` and ``E[e].interaction``.
    """
    spec = scm.spec
    target = target or spec.target
    effects: list[Effect] = []
    if spec.fairness is not None:
        a = spec.fairness.protected
        for level in _levels(scm, a, spec.fairness.baseline):
            fair = (
                spec.fair_paths()
                if target == spec.target
                else _complement(scm, a, target, spec.unfair_paths())
            )
            res = _unit_contrasts(
                scm, source=a, target=target, value=level, baseline=spec.fairness.baseline, n=n,
                random_state=random_state,
                path_sets={"total": None, "unfair": spec.unfair_paths(), "fair": fair},
            )  # fmt: skip
            label = a if scm.meta[a].vtype == "binary" else f"{a}[{level}]"
            effects.extend(_with_interaction(label, res, "unfair", "fair"))
    if spec.robustness is not None:
        e = spec.robustness.environment
        ref = scm.meta[e].categories[0] if scm.meta[e].vtype == "categorical" else 0
        spurious = spec.spurious_paths()
        contextual = _complement(scm, e, target, spurious)
        for level in _levels(scm, e, ref):
            res = _unit_contrasts(
                scm, source=e, target=target, value=level, baseline=ref, n=n, random_state=random_state,
                path_sets={"total": None, "spurious": spurious, "contextual": contextual},
            )  # fmt: skip
            label = e if scm.meta[e].vtype == "binary" else f"{e}[{level}]"
            effects.extend(_with_interaction(label, res, "spurious", "contextual"))
    if not effects:
        raise SpecError("the spec has neither a 'fairness' nor a 'robustness' section: nothing to decompose")
    return EffectDecomposition(tuple(effects), target, n)


def _levels(scm: SCM, var: str, baseline: Any) -> list[Any]:
    meta = scm.meta[var]
    if meta.vtype == "binary":
        return [1 - int(baseline)]
    if meta.vtype == "categorical":
        return [c for c in meta.categories if c != baseline]
    raise SpecError(f"{var!r} is continuous; effect decompositions need a binary or categorical source")


def _complement(scm: SCM, source: str, target: str, entries: Sequence[Sequence[str]]) -> list[Path]:
    covered = set(scm.full_paths([tuple(e) for e in entries], source, target))
    return [p for p in _dag.all_paths(scm.parents, source, target) if p not in covered]


def _with_interaction(
    label: str, res: dict[str, tuple[Array, tuple[Path, ...]]], a: str, b: str
) -> list[Effect]:
    (d_total, p_total), (d_a, p_a), (d_b, p_b) = res["total"], res[a], res[b]
    return [
        _effect(f"{label}.total", d_total, p_total),
        _effect(f"{label}.{a}", d_a, p_a),
        _effect(f"{label}.{b}", d_b, p_b),
        _effect(f"{label}.interaction", d_total - d_a - d_b, ()),
    ]
