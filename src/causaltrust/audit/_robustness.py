"""Robustness: per-environment accuracy, spurious-mechanism invariance, contextual environment effects."""

from __future__ import annotations

import numpy as np

from causaltrust import _dag
from causaltrust.audit._accuracy import shift_data
from causaltrust.audit._context import AuditContext
from causaltrust.audit._fairness import levels
from causaltrust.audit._report import Metric
from causaltrust.scm._data import codes_to_values, frame_to_columns
from causaltrust.spec import TrustSpec

__all__ = ["robustness_metrics", "spurious_shifts"]

Array = np.ndarray


def spurious_nodes(spec: TrustSpec) -> set[str]:
    """Nodes whose mechanism carries a spurious edge: the head of each spurious entry's first edge."""
    return {e[1] for e in spec.spurious_paths()}


def spurious_shifts(spec: TrustSpec) -> list[str]:
    """Shifts that change spurious mechanisms and nothing else (sparse mechanism shifts of the artifact).

    A shift that also replaces other mechanisms (a new hospital with its own policy), adds categories or
    fixes values is not a spurious shift: part of what it changes is real.
    """
    nodes = spurious_nodes(spec)
    out = []
    for name, shift in spec.shifts.items():
        changed = set(shift.equations)
        if changed and changed <= nodes and not shift.do and not shift.categories:
            out.append(name)
    return out


def robustness_metrics(ctx: AuditContext) -> list[Metric]:
    """``robustness.*`` metrics (DESIGN.md definitions)."""
    ctx.require("robustness")
    spec = ctx.spec
    assert spec.robustness is not None
    env = spec.robustness.environment
    meta = ctx.scm.meta[env]
    metrics: list[Metric] = []
    X = ctx.data[spec.features]
    y = ctx.data[spec.target].to_numpy(dtype=np.float64)
    codes = frame_to_columns(ctx.data, ctx.scm.meta, [env], context="audit data")[env].astype(np.int64)
    if ctx.model.task == "binary":
        correct = (ctx.model.labels(X) == y).astype(np.float64)
        accs = {}
        for code in np.unique(codes):
            level = codes_to_values(np.array([code]), meta)[0] if meta.vtype == "categorical" else int(code)
            mask = codes == code
            m = ctx.group_mean_metric(f"robustness.environment_accuracy[{level}]", correct, mask)
            metrics.append(m)
            accs[level] = m.value
        if accs:
            metrics.append(ctx.metric("robustness.worst_environment_accuracy", min(accs.values())))
            metrics.append(ctx.metric("robustness.environment_gap", max(accs.values()) - min(accs.values())))
    metrics.extend(_spurious_effect(ctx))
    metrics.extend(_contextual_effect(ctx))
    return metrics


def _spurious_effect(ctx: AuditContext) -> list[Metric]:
    spec = ctx.spec
    shifts = spurious_shifts(spec)
    if not shifts:
        ctx.notes.append(
            "robustness.spurious_path_effect needs a shift that changes only spurious mechanisms "
            f"(mechanisms of {sorted(spurious_nodes(spec)) or 'none'}); the spec has none, so it is absent."
        )
        return []
    X = ctx.data[spec.features]
    base = ctx.model.scores(X)
    # Per unit, the posterior mean of |Δ|: exact when every node the shift changes (and the model reads)
    # is continuous, since their noise is abducted exactly; else averaged over posterior draws.
    draws = _unit_draws(ctx, shifts)
    plain, adapted_runs = [], []
    can_adapt = ctx.model.supports_adapt
    for name in shifts:
        shifted = ctx.scm.counterfactual(
            ctx.data, shift=name, random_state=int(ctx.rng(f"cf:{name}").integers(2**31)), n_draws=draws
        )
        Xs = shifted[spec.features]
        plain.append(
            np.abs(ctx.model.scores(Xs) - np.repeat(base, draws)).reshape(len(base), draws).mean(axis=1)
        )
        if can_adapt:
            adapted = ctx.model.adapt(shift_data(ctx, name, "adapt")[spec.features])  # type: ignore[index]
            assert adapted is not None
            d = np.abs(adapted.scores(Xs) - np.repeat(base, draws))
            adapted_runs.append(d.reshape(len(base), draws).mean(axis=1))
    per_unit = np.mean(plain, axis=0)
    how = f"mean |f(x under shifted mechanism) - f(x)| over units and shifts {shifts}; no model adapted"
    exact = "exact (the shifted nodes are continuous)" if draws == 1 else f"over {draws} abduction draws"
    out = [
        ctx.mean_metric("robustness.spurious_path_effect", per_unit, method=how),
        ctx.p95_metric(
            "robustness.spurious_path_effect_p95",
            per_unit,
            method=f"95th percentile over units of the posterior mean |Δ| per unit, {exact}",
        ),
    ]
    name = "robustness.spurious_path_effect_adapted"
    if adapted_runs:
        out.append(
            ctx.mean_metric(
                name,
                np.mean(adapted_runs, axis=0),
                method=how.replace("no model adapted", "model adapted on an unlabeled sample of each shift"),
            )
        )
    else:
        out.append(ctx.metric(name, float("nan"), method="not applicable: the model cannot adapt"))
    return out


def _unit_draws(ctx: AuditContext, shifts: list[str]) -> int:
    """1 when the shifted counterfactual is deterministic per unit, else the per-unit draw count."""
    scm = ctx.scm
    read = _dag.ancestral_closure(scm.parents, ctx.spec.features)
    for name in shifts:
        replaced = set(ctx.spec.shifts[name].equations)
        changed = (_dag.descendants(scm.parents, replaced) | replaced) & read
        if any(scm.meta[v].vtype != "continuous" for v in changed):
            return ctx.options.draws_per_unit
    return 1


def _contextual_effect(ctx: AuditContext) -> list[Metric]:
    spec = ctx.spec
    assert spec.robustness is not None
    env = spec.robustness.environment
    meta = ctx.scm.meta[env]
    w = ctx.worlds
    contextual = w.complement(env, spec.spurious_paths())
    ref = meta.categories[0] if meta.vtype == "categorical" else 0
    out: list[Metric] = []
    for level in levels(ctx, env, ref):
        world = w.path_world(env, level, ref)
        f0 = ctx.model.scores(w.features_along(world, []))
        d = ctx.model.scores(w.features_along(world, contextual)) - f0 if contextual else 0 * f0
        name = "robustness.contextual_path_effect" + ("" if meta.vtype == "binary" else f"[{level}]")
        out.append(ctx.mean_metric(name, w.per_unit(d), method=f"{env} from {ref!r} along contextual paths"))
    if meta.vtype != "binary" and out:
        out.append(ctx.largest_over_levels("robustness.contextual_path_effect", out))
    return out
