"""Causal recourse (Karimi, Schölkopf & Valera 2021) against the non-causal counterfactual explainer.

A rejected unit asks: what is the cheapest change of the variables I can act on that gets me the
favourable decision? Causally, acting on a variable also changes its descendants (more follow-up visits
lower the true lab value, hence the measured one); a feature-independent explainer moves the feature alone.
Both searches share one vectorised routine: a grid of candidate actions for every unit at once (one SCM
counterfactual per batch of candidates x units), then multisection along the segment from the unit's current
values to its cheapest favourable candidate, then (several variables) one pass of per-variable
multisection.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from causaltrust import _dag
from causaltrust.audit._context import AuditContext
from causaltrust.audit._report import Metric
from causaltrust.scm import Abduction

__all__ = ["RecourseResult", "cheapest_actions", "recourse_metrics"]

Array = np.ndarray
# evaluate(unit_positions, values (len, k)) -> favourable decision per row
Evaluate = Callable[[Array, Array], Array]

_GRID_1D = 64  # grid points for one actionable variable
_GRID_BUDGET = 1024  # candidate combinations per unit for several variables
# The switching point is searched by multisection: each round evaluates _SECTIONS - 1 evenly spaced interior
# points of every unit's bracket in one model call and keeps the section where the decision first turns
# favourable, so the bracket shrinks _SECTIONS-fold per call. Five rounds of 16 give 16**-5 = 2**-20 of the
# bracket, the precision of twenty halvings (for one variable one grid step, 6/63 at the demo's bounds: 1e-7
# in its units), in a quarter of the model calls; a call on 15x the rows costs little more, as the recourse
# batches are small (benchmarks/RESULTS.md, "Recourse search").
_SECTIONS = 16
_ROUNDS = 5
_MAX_ROWS = 200_000  # rows per SCM counterfactual batch (memory bound)
_EXAMPLES = 10


@dataclass(frozen=True)
class RecourseResult:
    """The cheapest action found for each unit (NaN rows where none was found within bounds)."""

    values: Array  # (m, k) new values of the actionable variables
    found: Array  # (m,) bool
    cost: Array  # (m,) NaN where not found


def _costs(new: Array, old: Array, weights: Array) -> Array:
    return np.asarray(np.abs(new - old) @ weights, dtype=np.float64)


def _batched(evaluate: Evaluate, units: Array, values: Array) -> Array:
    out = np.empty(len(units), dtype=bool)
    for s in range(0, len(units), _MAX_ROWS):
        out[s : s + _MAX_ROWS] = evaluate(units[s : s + _MAX_ROWS], values[s : s + _MAX_ROWS])
    return out


def _bisect(
    evaluate: Evaluate,
    units: Array,
    point: Callable[[Array, Array], Array],
    t_lo: Array,
    t_hi: Array,
) -> Array:
    """Smallest favourable t found by multisection, keeping the favourable end (f(t_hi) holds on entry).

    ``point(t, rows)`` gives the actionable values of units ``rows`` (positions in ``units``) at ``t``.
    Where f(t_lo) is already favourable, t_lo is returned. Each round replaces a bracket by the section
    ending at its first favourable interior point (or the last section when none is), so f(t_hi) keeps
    holding. The decision may switch back and forth inside a bracket; the search then finds one switching
    point, still favourable and no dearer than t_hi.
    """
    t_lo = t_lo.copy()
    t_hi = t_hi.copy()
    lo_ok = _batched(evaluate, units, point(t_lo, np.arange(len(units))))
    t_hi[lo_ok] = t_lo[lo_ok]
    live = np.flatnonzero(~lo_ok)
    frac = np.arange(1, _SECTIONS) / _SECTIONS
    n = len(live)
    for _ in range(_ROUNDS):
        if not n:
            break
        lo, hi = t_lo[live], t_hi[live]
        ts = lo[:, None] + (hi - lo)[:, None] * frac  # (n, _SECTIONS - 1) interior points
        rows = np.repeat(live, len(frac))
        ok = _batched(evaluate, units[rows], point(ts.ravel(), rows)).reshape(n, len(frac))
        hit = ok.any(axis=1)
        first = np.argmax(ok, axis=1)
        at = np.arange(n)
        t_hi[live] = np.where(hit, ts[at, first], hi)
        t_lo[live] = np.where(hit, np.where(first > 0, ts[at, first - 1], lo), ts[:, -1])
    return t_hi


def cheapest_actions(
    evaluate: Evaluate,
    old: Array,
    lo: Array,
    hi: Array,
    weights: Array,
    discrete: Array,
) -> RecourseResult:
    """Cheapest favourable action for each unit within bounds (vectorised over units).

    Parameters
    ----------
    evaluate : callable
        ``evaluate(unit_positions, values)`` returns whether the decision is favourable for unit
        ``unit_positions[r]`` when its actionable variables are set to ``values[r]``.
    old : ndarray (m, k)
        Current values of the k actionable variables.
    lo, hi : ndarray (k,)
        Bounds of each variable.
    weights : ndarray (k,)
        Cost per unit of change (cost = sum weights * |new - old|).
    discrete : ndarray (k,) of bool
        Variables that only take the grid's values (binary: 0 and 1); they are not bisected.

    Returns
    -------
    RecourseResult
    """
    m, k = old.shape
    if k == 1:
        per_var = [_GRID_1D]
    else:
        g = max(2, int(np.floor(_GRID_BUDGET ** (1.0 / k))) - 1)
        per_var = [g] * k
    # Candidate values per variable and unit: the current value (no change) first, then the grid.
    cands = []
    for j in range(k):
        grid = np.array([0.0, 1.0]) if discrete[j] else np.linspace(lo[j], hi[j], per_var[j])
        cands.append(np.column_stack([old[:, j], np.broadcast_to(grid, (m, len(grid)))]))
    combos = np.array(list(itertools.product(*[range(c.shape[1]) for c in cands])), dtype=np.int64)
    combos = combos[(combos != 0).any(axis=1)]  # the all-unchanged combination is the rejection itself
    n_c = len(combos)
    units = np.repeat(np.arange(m), n_c)
    values = np.empty((m * n_c, k))
    for j in range(k):
        values[:, j] = cands[j][units, np.tile(combos[:, j], m)]
    fav = _batched(evaluate, units, values).reshape(m, n_c)
    cost = _costs(values, old[units], weights).reshape(m, n_c)
    cost = np.where(fav, cost, np.inf)
    best = np.argmin(cost, axis=1)
    found = np.isfinite(cost[np.arange(m), best])
    cand = values.reshape(m, n_c, k)[np.arange(m), best]
    cand = np.where(found[:, None], cand, old)
    idx = np.flatnonzero(found)
    out = cand.copy()
    if len(idx):
        o, c = old[idx], cand[idx]
        cont = ~discrete

        def along(t: Array, rows: Array) -> Array:
            # Continuous variables move from their current value toward the candidate; clipping keeps a
            # unit that starts outside the bounds inside them, and cost still grows monotonically in t.
            p, start = c[rows], o[rows]
            p[:, cont] = np.clip(
                start[:, cont] + t[:, None] * (p[:, cont] - start[:, cont]), lo[cont], hi[cont]
            )
            return p

        t_lo = np.zeros(len(idx))
        if k == 1 and not discrete[0]:
            # The grid neighbour on the unit's side of the candidate was unfavourable (it is cheaper), so
            # the switching point lies within one grid step of the candidate.
            step = (hi[0] - lo[0]) / (per_var[0] - 1)
            dist = np.abs(c[:, 0] - o[:, 0])
            t_lo = np.clip(1.0 - step / np.maximum(dist, 1e-300), 0.0, 1.0)
        every = np.arange(len(idx))
        t = _bisect(evaluate, idx, along, t_lo, np.ones(len(idx)))
        cur = along(t, every)
        if k > 1:
            # One pass of per-variable bisection: each variable shrinks toward its current value while the
            # others hold, which removes changes the ray from the current values forced on it.
            for j in [int(i) for i in np.flatnonzero(cont)]:
                base = cur.copy()

                def shrink(s: Array, rows: Array, j: int = j, base: Array = base) -> Array:
                    p = base[rows]
                    p[:, j] = np.clip(o[rows, j] + s * (p[:, j] - o[rows, j]), lo[j], hi[j])
                    return p

                s = _bisect(evaluate, idx, shrink, np.zeros(len(idx)), np.ones(len(idx)))
                cur = shrink(s, every)
        out[idx] = cur
    final_cost = np.where(found, _costs(out, old, weights), np.nan)
    return RecourseResult(values=out, found=found, cost=final_cost)


def _take(x: Any, rows: Array, n: int) -> Any:
    """Rows ``rows`` of an abduction's per-unit arrays (length ``n``); anything else is shared by all."""
    if isinstance(x, np.ndarray) and x.ndim >= 1 and x.shape[0] == n:
        return x[rows]
    if isinstance(x, dict):
        return {k: _take(v, rows, n) for k, v in x.items()}
    return x


def _abduction_rows(ab: Abduction, rows: Array) -> Abduction:
    """The abduction of units ``rows`` (repeats allowed): each keeps the noise abducted for it once."""
    n = ab.n
    noise = {
        v: replace(
            z,
            eps=_take(z.eps, rows, n),
            value=_take(z.value, rows, n),
            parents=_take(z.parents, rows, n),
            extra=_take(z.extra, rows, n),
        )
        for v, z in ab.noise.items()
    }
    columns = {k: c[rows] for k, c in ab.columns.items()}
    return replace(ab, columns=columns, noise=noise, n_units=len(rows))


def _favorable(ctx: AuditContext, X: Any) -> Array:
    """Whether the model's outcome for each row of X is favourable: the favourable label (binary target),
    or a prediction above (below) ``recourse.favorable_threshold`` (continuous target)."""
    r = ctx.spec.recourse
    assert r is not None
    if ctx.model.task == "binary":
        return np.asarray(ctx.model.labels(X) == float(r.favorable))
    assert r.favorable_threshold is not None
    pred = ctx.model.scores(X)
    t = float(r.favorable_threshold)
    return np.asarray(pred >= t if r.favorable_direction == "above" else pred <= t)


def _rejected(ctx: AuditContext) -> Array:
    return np.flatnonzero(~_favorable(ctx, ctx.data[ctx.spec.features]))


def _plain(x: Any) -> Any:
    return x.item() if hasattr(x, "item") else x


def recourse_metrics(ctx: AuditContext) -> list[Metric]:
    """``explainability.recourse_validity``, ``recourse_cost`` and ``noncausal_recourse_validity``.

    Up to ``options.recourse_units`` rejected test units (seeded choice) get the cheapest action on the
    spec's actionable variables, within bounds (default: data mean ± 3 sd), that flips the model's decision
    once propagated through the SCM counterfactual (the unit's noise abducted once and kept for every
    candidate). Validity re-simulates each chosen action with fresh counterfactual draws (another abduction
    per unit); units without a feasible action count as invalid. The non-causal action moves
    the feature alone in the model's input and is then checked the same way.

    Parameters
    ----------
    ctx : AuditContext
        The audit's shared inputs.

    Returns
    -------
    list of Metric
        Empty (with a note) without a recourse section, actionable variables, a binary target, or
        rejected units.
    """
    spec = ctx.spec
    r = spec.recourse
    if r is None or not r.actionable:
        ctx.notes.append(
            "explainability recourse metrics skipped: the spec has no recourse section with actionable "
            "variables (recourse: {actionable: [...], favorable: ...})."
        )
        return []
    if ctx.model.task != "binary" and r.favorable_threshold is None:
        ctx.notes.append(
            "explainability recourse metrics skipped: the target is continuous and the spec sets no "
            "recourse.favorable_threshold (the outcome is favourable above it; favorable_direction: below "
            "reverses that)."
        )
        return []
    actionable = [v for v in r.actionable if ctx.scm.meta[v].vtype != "categorical"]
    if len(actionable) < len(r.actionable):
        skipped = sorted(set(r.actionable) - set(actionable))
        ctx.notes.append(
            f"explainability recourse: categorical actionable variables {skipped} are not searched."
        )
    if not actionable:
        return []
    rejected = _rejected(ctx)
    if len(rejected) == 0:
        ctx.notes.append("explainability recourse metrics skipped: the model rejects no test unit.")
        return []
    m = min(ctx.options.recourse_units, len(rejected))
    if m < 1:
        ctx.notes.append("explainability recourse metrics skipped: recourse_units is 0.")
        return []
    rng = ctx.rng("explainability.recourse")
    chosen = np.sort(rng.choice(rejected, size=m, replace=False))
    rows = ctx.data.iloc[chosen].reset_index(drop=True)
    feats = spec.features
    k = len(actionable)
    old = np.column_stack([rows[v].to_numpy(dtype=np.float64) for v in actionable])
    discrete = np.array([ctx.scm.meta[v].vtype == "binary" for v in actionable])
    lo = np.empty(k)
    hi = np.empty(k)
    for j, v in enumerate(actionable):
        if discrete[j]:
            lo[j], hi[j] = 0.0, 1.0
        elif v in r.bounds:
            lo[j], hi[j] = r.bounds[v]
        else:
            col = ctx.data[v].to_numpy(dtype=np.float64)
            mu, sd = float(col.mean()), float(col.std())
            lo[j], hi[j] = mu - 3 * sd, mu + 3 * sd
    weights = np.array([float(r.costs.get(v, 1.0)) for v in actionable])
    search_seed = int(rng.integers(2**31))
    check_seed = int(rng.integers(2**31))

    # Each unit's noise is abducted once per seed and kept for every candidate action: the search looks for
    # the cheapest action in one counterfactual world of the unit (with a binary descendant, fresh noise per
    # candidate would pick the cheapest candidate whose own draw happened to favour it), and the check
    # re-simulates the causal and the non-causal action in one other world.
    descendants = sorted(_dag.descendants(ctx.scm.parents, set(actionable)) - set(actionable))
    abductions: dict[int, Abduction] = {}

    def causal_labels(units: Array, values: Array, seed: int) -> Array:
        if seed not in abductions:
            abductions[seed] = ctx.scm.abduct(rows, descendants, random_state=seed)
        batch = rows.iloc[units].reset_index(drop=True)
        cf = ctx.scm.counterfactual(
            batch,
            do={v: values[:, j] for j, v in enumerate(actionable)},
            abduction=_abduction_rows(abductions[seed], units),
        )
        return _favorable(ctx, cf[feats])

    in_model = [j for j, v in enumerate(actionable) if v in feats]

    def noncausal_labels(units: Array, values: Array) -> Array:
        X = rows[feats].iloc[units].reset_index(drop=True)
        for j in in_model:
            # Binary inputs keep their integer dtype, as the model saw them in training.
            X[actionable[j]] = values[:, j].astype(np.int64) if discrete[j] else values[:, j]
        return _favorable(ctx, X)

    causal = cheapest_actions(lambda u, x: causal_labels(u, x, search_seed), old, lo, hi, weights, discrete)
    idx = np.flatnonzero(causal.found)
    valid = np.zeros(m, dtype=bool)
    if len(idx):
        valid[idx] = causal_labels(idx, causal.values[idx], check_seed)

    if in_model:
        nc = cheapest_actions(noncausal_labels, old, lo, hi, weights, discrete)
    else:
        nc = RecourseResult(old.copy(), np.zeros(m, dtype=bool), np.full(m, np.nan))
    nc_idx = np.flatnonzero(nc.found)
    survives = np.zeros(m, dtype=bool)
    if len(nc_idx):
        survives[nc_idx] = causal_labels(nc_idx, nc.values[nc_idx], check_seed)

    ctx.extras["recourse_infeasible_share"] = float(1.0 - causal.found.mean())
    ctx.extras["noncausal_recourse_infeasible_share"] = float(1.0 - nc.found.mean())
    ctx.extras["recourse_units"] = int(m)
    examples = []
    for i in range(min(_EXAMPLES, m)):
        examples.append(
            {
                "unit": _plain(ctx.data.index[chosen[i]]),
                "old": {v: float(old[i, j]) for j, v in enumerate(actionable)},
                "causal_action": (
                    {v: float(causal.values[i, j]) for j, v in enumerate(actionable)}
                    if causal.found[i]
                    else None
                ),
                "causal_cost": float(causal.cost[i]) if causal.found[i] else None,
                "causal_valid": bool(valid[i]),
                "noncausal_action": (
                    {v: float(nc.values[i, j]) for j, v in enumerate(actionable)} if nc.found[i] else None
                ),
                "noncausal_cost": float(nc.cost[i]) if nc.found[i] else None,
                "noncausal_survives": bool(survives[i]),
            }
        )
    ctx.extras["recourse_examples"] = examples
    ctx.notes.append(
        f"explainability recourse: {m} of {len(rejected)} rejected test units, actions on {actionable} "
        "searched and checked with the audit's SCM counterfactual (descendants of the acted-on variables "
        "change too); this is recourse under the assumed SCM, and the counterfactual couplings of discrete "
        "nodes are assumptions, not facts learnable from data. Units without a favourable action within "
        "bounds count as invalid (shares in the report's meta). The non-causal explainer moves only the "
        "feature in the model's input; its validity counts units whose action still flips the decision "
        "once propagated."
    )
    metrics = [
        ctx.mean_metric(
            "explainability.recourse_validity",
            valid.astype(np.float64),
            method="share of selected rejected units whose causal action, re-simulated, is favourable",
        ),
        ctx.mean_metric(
            "explainability.noncausal_recourse_validity",
            survives.astype(np.float64),
            method="share of selected rejected units whose feature-only action still flips once propagated",
        ),
    ]
    if valid.any():
        metrics.insert(
            1,
            ctx.mean_metric(
                "explainability.recourse_cost",
                causal.cost[valid],
                method="mean cost sum(costs * |new - old|) over units with a valid causal action",
            ),
        )
    else:
        metrics.insert(1, ctx.metric("explainability.recourse_cost", float("nan"), method="no valid action"))
    return metrics
