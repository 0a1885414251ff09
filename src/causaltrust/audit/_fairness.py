"""Fairness: observational group metrics and counterfactual, path-specific effects on the prediction."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np

from causaltrust.audit._context import AuditContext, ratio_rows
from causaltrust.audit._report import Metric
from causaltrust.scm._data import frame_to_columns

__all__ = [
    "demographic_parity_difference",
    "equalized_odds_difference",
    "fairness_metrics",
    "group_rates",
    "levels",
    "mean_difference",
    "standardized_mean_difference",
]

Array = np.ndarray


def _group_rates(values: Array, groups: Array, k: int) -> Array:
    """Mean of ``values`` per group code (NaN for empty groups), via bincount: no per-element Python."""
    counts = np.bincount(groups, minlength=k).astype(np.float64)
    sums = np.bincount(groups, weights=values, minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts


def _present_means(pred: Array, groups: Array, k: int) -> tuple[Array, Array]:
    """Mean of ``pred`` per group code (NaN for empty groups) and which groups are present: two bincounts."""
    counts = np.bincount(groups, minlength=k)
    sums = np.bincount(groups, weights=pred, minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts, counts > 0


def mean_difference(pred: Array, groups: Array, k: int) -> float:
    """max - min mean prediction over the groups present (a regression's demographic-parity gap).

    Examples
    --------
    >>> import numpy as np
    >>> mean_difference(np.array([1.0, 3.0, 10.0]), np.array([0, 0, 1]), 2)
    8.0
    """
    means, present = _present_means(pred, groups, k)
    means = means[present]
    return float(means.max() - means.min())


def standardized_mean_difference(pred: Array, groups: Array, k: int) -> float:
    """:func:`mean_difference` divided by the pooled within-group sd of the predictions (Cohen's d form).

    0 when the predictions do not vary within any group and the groups agree; inf when only the groups
    differ.

    Examples
    --------
    >>> import numpy as np
    >>> round(standardized_mean_difference(np.array([0.0, 2.0, 2.0, 4.0]), np.array([0, 0, 1, 1]), 2), 4)
    1.4142
    """
    means, present = _present_means(pred, groups, k)
    seen = means[present]
    diff = float(seen.max() - seen.min())
    if diff == 0.0:
        return 0.0
    # The squared deviations from the group means, summed: one gather and two in-place passes (the sum
    # of (pred - means[groups]) ** 2 as written, bit for bit).
    dev = means[groups]
    np.subtract(pred, dev, out=dev)
    np.square(dev, out=dev)
    within = float(dev.sum())
    dof = len(groups) - int(present.sum())
    sd = float(np.sqrt(within / dof)) if dof > 0 else 0.0
    return diff / sd if sd > 0 else float("inf")


def demographic_parity_difference(y_pred: Array, groups: Array, k: int) -> float:
    """max - min selection rate over groups present (fairlearn's ``demographic_parity_difference``)."""
    rates = _group_rates(y_pred, groups, k)
    rates = rates[~np.isnan(rates)]
    return float(rates.max() - rates.min())


def equalized_odds_difference(y_true: Array, y_pred: Array, groups: Array, k: int) -> float:
    """max(TPR difference, FPR difference) over groups (fairlearn's default ``agg="worst_case"``).

    Equal to fairlearn on every input: the groups are those present in the data, and a group without
    positives (negatives) has a TPR (FPR) of 0, as fairlearn's rates divide by zero to 0.
    """
    return _eo_from_codes(2 * np.asarray(groups, dtype=np.int64) + (y_true == 1), y_pred, k)


def _eo_from_codes(codes: Array, y_pred: Array, k: int) -> float:
    """Equalized odds from ``2 * group + (y == 1)`` codes: two bincounts over all units.

    The per-bin sums add the same values in the same (row) order as bincounts over each class's rows, so the
    result is bit for bit that of masking by class first.
    """
    counts = np.bincount(codes, minlength=2 * k).astype(np.float64).reshape(k, 2)
    hits = np.bincount(codes, weights=y_pred, minlength=2 * k).reshape(k, 2)
    present = counts.sum(axis=1) > 0
    diffs = []
    for cls in (1, 0):  # positives (TPR), then negatives (FPR)
        c, h = counts[:, cls], hits[:, cls]
        rates = np.divide(h, c, out=np.zeros(k), where=c > 0)[present]
        diffs.append(float(rates.max() - rates.min()))
    return float(max(diffs))


def levels(ctx: AuditContext, var: str, baseline: Any) -> list[Any]:
    """The non-baseline levels of a binary or categorical variable."""
    meta = ctx.scm.meta[var]
    if meta.vtype == "binary":
        return [1 - int(baseline)]
    if meta.vtype == "categorical":
        return [c for c in meta.categories if c != baseline]
    return [baseline + 1.0]


def _label(var_type: str, name: str, level: Any) -> str:
    return name if var_type == "binary" else f"{name}[{level}]"


def group_rates(
    y_true: Array, y_pred: Array, groups: Array, categories: Sequence[Any], name: str
) -> list[dict[str, Any]]:
    """Per protected group: units, observed positive rate, selection rate, TPR and FPR (for an auditor).

    The differences of these rates are ``fairness.demographic_parity_difference`` and
    ``fairness.equalized_odds_difference``; a rate over no units is None.
    """
    out = []
    for code, level in enumerate(categories):
        g = groups == code
        pos, neg = g & (y_true == 1), g & (y_true != 1)
        out.append(
            {
                name: level,
                "units": int(g.sum()),
                "positive rate": float(y_true[g].mean()) if g.any() else None,
                "selection rate": float(y_pred[g].mean()) if g.any() else None,
                "TPR": float(y_pred[pos].mean()) if pos.any() else None,
                "FPR": float(y_pred[neg].mean()) if neg.any() else None,
            }
        )
    return out


def fairness_metrics(ctx: AuditContext) -> list[Metric]:
    """``fairness.*`` metrics of the model on the test units (DESIGN.md: contrasts, signs, headline)."""
    ctx.require("fairness")
    spec = ctx.spec
    assert spec.fairness is not None
    a = spec.fairness.protected
    base = spec.fairness.baseline
    meta = ctx.scm.meta[a]
    X = ctx.data[spec.features]
    y = ctx.data[spec.target].to_numpy(dtype=np.float64)
    scores = ctx.model.scores(X)
    labels = ctx.model.labels(X, scores)
    groups = frame_to_columns(ctx.data, ctx.scm.meta, [a], context="audit data")[a].astype(np.int64)
    k = max(int(groups.max()) + 1, len(meta.categories) if meta.categories else 2)
    metrics: list[Metric] = []
    if ctx.model.task == "binary":
        lab = np.asarray(labels, dtype=np.float64)
        eo_codes = 2 * groups + (y == 1)
        metrics.append(
            ctx.weighted_metric(
                "fairness.demographic_parity_difference",
                lambda i: demographic_parity_difference(labels[i], groups[i], k),
                partial(_rate_spread_rows, *_indicators(groups, k, lab)),
                len(y),
                method="max-min selection rate over groups (fairlearn definition)",
            )
        )
        metrics.append(
            ctx.weighted_metric(
                "fairness.equalized_odds_difference",
                partial(_eo_resample, eo_codes, lab, k),
                partial(_eo_rows, *_indicators(eo_codes, 2 * k, lab)),
                len(y),
                method="max of TPR and FPR group differences (fairlearn definition)",
            )
        )
        ctx.extras["group_rates"] = group_rates(y, labels, groups, meta.categories or [0, 1], a)
    else:
        metrics.append(
            ctx.stat_metric(
                "fairness.mean_difference",
                lambda i: mean_difference(scores[i], groups[i], k),
                len(y),
                method="max - min mean prediction over groups present (outcome units)",
            )
        )
        metrics.append(
            ctx.stat_metric(
                "fairness.standardized_mean_difference",
                lambda i: standardized_mean_difference(scores[i], groups[i], k),
                len(y),
                method="mean difference / pooled within-group sd of the predictions",
            )
        )
    w = ctx.worlds
    unfair = w.full_paths(a, spec.unfair_paths())
    fair = w.complement(a, spec.unfair_paths())
    everything = w.full_paths(a, None)
    direct = [p for p in everything if len(p) == 2]
    headline: dict[str, list[Metric]] = {}
    base_code = _code(meta, base)
    for level in levels(ctx, a, base):
        world = w.path_world(a, level, base)
        f0 = ctx.model.scores(w.features_along(world, []))
        d_total = ctx.model.scores(w.features_along(world, everything)) - f0 if everything else 0 * f0
        d_unfair = ctx.model.scores(w.features_along(world, unfair)) - f0 if unfair else 0 * f0
        d_fair = ctx.model.scores(w.features_along(world, fair)) - f0 if fair else 0 * f0
        parts = {
            "fairness.counterfactual_effect": d_total,
            "fairness.unfair_path_effect": d_unfair,
            "fairness.fair_path_effect": d_fair,
            "fairness.interaction_effect": d_total - d_unfair - d_fair,
        }
        for name, d in parts.items():
            m = ctx.mean_metric(
                _label(meta.vtype, name, level),
                w.per_unit(d),
                method="signed mean over units of the per-unit counterfactual change (a population average)",
            )
            headline.setdefault(name, []).append(m)
        # Per-unit forms (Kusner's criterion is individual): signed means cancel when the effect's sign
        # varies across units, so each unit's posterior mean |Δ| is averaged (_abs) and ranked (_p95).
        named = {"counterfactual_effect": everything, "unfair_path_effect": unfair, "fair_path_effect": fair}
        per_unit, how_abs = w.unit_abs_effects(a, level, base, named, ctx.model.scores)
        for short, values in per_unit.items():
            for suffix, m in (
                ("_abs", ctx.mean_metric(_label(meta.vtype, f"fairness.{short}_abs", level), values,
                                         method=how_abs + "; mean over units")),
                ("_p95", ctx.p95_metric(_label(meta.vtype, f"fairness.{short}_p95", level), values,
                                        method=how_abs + "; 95th percentile over units")),
            ):  # fmt: skip
                headline.setdefault(f"fairness.{short}{suffix}", []).append(m)
        # Plečko-Bareinboim counterfactual decomposition of the prediction's disparity, x0 = baseline,
        # x1 = level: TV = ctf_de - ctf_ie - ctf_se.
        at_x0 = groups == base_code
        at_x1 = groups == _code(meta, level)
        if at_x0.sum() > 1 and at_x1.sum() > 1:
            fw = w.path_world(a, level, None)  # inactive paths keep the factual value (x0 for these units)
            f_fact = w.per_unit(ctx.model.scores(w.features_along(fw, [])))
            f_de = w.per_unit(ctx.model.scores(w.features_along(fw, direct))) if direct else f_fact
            f_x1 = w.per_unit(ctx.model.scores(w.features_along(fw, everything))) if everything else f_fact
            how = "Plečko-Bareinboim; x0 = baseline; TV = ctf_de - ctf_ie - ctf_se"
            ctf = [
                ctx.group_mean_metric(
                    _label(meta.vtype, "fairness.ctf_de", level), f_de - f_fact, at_x0, method=how
                ),
                ctx.group_mean_metric(
                    _label(meta.vtype, "fairness.ctf_ie", level), f_de - f_x1, at_x0, method=how
                ),
                ctx.weighted_metric(
                    _label(meta.vtype, "fairness.ctf_se", level),
                    partial(_ctf_se, f_x1, f_fact, at_x0, at_x1),
                    partial(_ctf_se_rows, f_x1, f_fact, at_x0, at_x1),
                    len(groups),
                    method=how,
                ),
            ]
            for m in ctf:
                headline.setdefault(m.name.split("[")[0], []).append(m)
    for name, ms in headline.items():
        if meta.vtype == "binary":
            metrics.extend(ms)
        else:
            metrics.extend(ms)
            metrics.append(ctx.largest_over_levels(name, ms))
    if not ctx.scm.parents.get(a):
        ctx.notes.append(_root_note(ctx, a, groups))
    return metrics


ROOT_ALPHA = 0.01  # family-wise level of the tests of A against the other roots (Bonferroni)


def root_associations(ctx: AuditContext, a: str, groups: Array) -> list[tuple[str, float, str]]:
    """(root, p-value, test) for each observed root of the graph other than ``a``, tested against ``a``.

    Discrete roots: chi-square test of the contingency table; continuous roots: Kruskal-Wallis across the
    levels of ``a``. A root is never a descendant of ``a``, so under the spec's graph each is independent
    of ``a`` when ``a`` is a root too.
    """
    from scipy.stats import chi2_contingency, kruskal

    scm = ctx.scm
    roots = [v for v in scm.order if v != a and not scm.parents.get(v) and scm.meta[v].observed]
    roots = [v for v in roots if v in ctx.data.columns]
    cols = frame_to_columns(ctx.data, scm.meta, roots, context="audit data") if roots else {}
    levels = np.unique(groups)
    out = []
    for v in roots:
        x = cols[v]
        if scm.meta[v].vtype == "continuous":
            samples = [x[groups == g] for g in levels]
            p = float(kruskal(*samples).pvalue) if len(levels) > 1 and np.ptp(x) > 0 else 1.0
            out.append((v, p, "Kruskal-Wallis"))
            continue
        codes = np.unique(x.astype(np.int64), return_inverse=True)[1]
        table = np.zeros((len(levels), int(codes.max()) + 1))
        np.add.at(table, (np.searchsorted(levels, groups), codes), 1.0)
        table = table[:, table.sum(axis=0) > 0]
        p = float(chi2_contingency(table).pvalue) if min(table.shape) > 1 else 1.0
        out.append((v, p, "chi-square"))
    return out


def _root_note(ctx: AuditContext, a: str, groups: Array) -> str:
    """What ctf_se rests on when ``a`` is a root: the spec's assumption, checked against the data."""
    tests = root_associations(ctx, a, groups)
    level = ROOT_ALPHA / max(len(tests), 1)
    found = [(v, p, how) for v, p, how in tests if p < level]
    head = (
        f"ctf_se is 0 only under the spec's assumption that {a!r} has no causes (it is a root of the graph)"
    )
    if found:
        detail = ", ".join(f"{v} ({how} p = {p:.2g})" for v, p, how in found)
        return (
            f"{head}; the data contradict it: {a!r} is associated with the root(s) {detail} (Bonferroni "
            f"level {level:.2g}). A nonzero ctf_se reflects that association (confounding the graph omits), "
            "not noise: revisit the graph."
        )
    checked = ", ".join(v for v, _, _ in tests) or "none observed"
    return f"{head}; the data show no association with the other roots ({checked}; level {ROOT_ALPHA})."


def _indicators(codes: Array, k: int, values: Array) -> tuple[Array, Array]:
    """``(n, k)`` one-hot of ``codes`` and the same with each row scaled by ``values``."""
    onehot = np.zeros((len(codes), k))
    onehot[np.arange(len(codes)), codes] = 1.0
    return onehot, onehot * values[:, None]


def _rates_rows(onehot: Array, weighted: Array, counts: Array) -> tuple[Array, Array]:
    """Per resample row of ``counts``: units and mean value per code (two matrix products)."""
    units = counts @ onehot
    with np.errstate(invalid="ignore", divide="ignore"):
        return units, (counts @ weighted) / units


def _rate_spread_rows(onehot: Array, weighted: Array, counts: Array) -> Array:
    """Demographic parity difference of each resample (a row of counts), over the groups present in it."""
    _, rates = _rates_rows(onehot, weighted, counts)
    out: Array = np.nanmax(rates, axis=1) - np.nanmin(rates, axis=1)
    return out


def _eo_rows(onehot: Array, weighted: Array, counts: Array) -> Array:
    """Equalized odds of each resample from the indicators of ``2 * group + (y == 1)`` codes (fairlearn's
    rule: groups present in the resample; a rate over no units of its class is 0)."""
    units, rates = _rates_rows(onehot, weighted, counts)
    k = units.shape[1] // 2
    units, rates = units.reshape(-1, k, 2), np.nan_to_num(rates.reshape(-1, k, 2), nan=0.0)
    present = units.sum(axis=2) > 0
    diffs = []
    for cls in (1, 0):
        r = rates[:, :, cls]
        diffs.append(np.where(present, r, -np.inf).max(axis=1) - np.where(present, r, np.inf).min(axis=1))
    out: Array = np.maximum(diffs[0], diffs[1])
    return out


def _eo_resample(codes: Array, labels: Array, k: int, i: Array) -> float:
    """Equalized odds on resampled units ``i`` (group and class codes computed once, not per resample)."""
    return _eo_from_codes(codes[i], labels[i], k)


def _ctf_se(f_x1: Array, f_fact: Array, at_x0: Array, at_x1: Array, i: Array) -> float:
    """Ctf-SE on resampled units ``i``: E[f(x1-world) | x0] - E[f | x1]."""
    return float(f_x1[i][at_x0[i]].mean() - f_fact[i][at_x1[i]].mean())


def _ctf_se_rows(f_x1: Array, f_fact: Array, at_x0: Array, at_x1: Array, counts: Array) -> Array:
    """:func:`_ctf_se` of each resample row of ``counts`` (the large-audit form: weights, no gathers)."""
    x0, x1 = at_x0.astype(np.float64), at_x1.astype(np.float64)
    return ratio_rows(f_x1 * x0, x0, counts) - ratio_rows(f_fact * x1, x1, counts)


def _code(meta: Any, value: Any) -> int:
    if meta.vtype == "categorical":
        return int(list(meta.categories).index(value))
    return int(value)
