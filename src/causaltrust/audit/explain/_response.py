"""Responsiveness to relevant interventions and invariance to irrelevant ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from causaltrust.audit._context import AuditContext
from causaltrust.audit._ranks import Ranker, weighted_spearman
from causaltrust.audit._report import Metric

__all__ = ["irrelevant_invariance_metrics", "responsiveness_metrics", "spearman"]

Array = np.ndarray


def spearman(x: Array, y: Array) -> float:
    """Spearman rank correlation; 0 when either side is constant (a model that does not respond at all).

    ``scipy.stats.spearmanr`` returns NaN for a constant input; here a constant model change means "no
    responsiveness", which is the finding the metric exists to report, so it is scored 0.
    """
    if len(x) < 2 or np.ptp(x) == 0.0 or np.ptp(y) == 0.0:
        return 0.0
    rx = rankdata(x)
    ry = rankdata(y)
    rx -= rx.mean()
    ry -= ry.mean()
    denom = float(np.sqrt((rx * rx).sum() * (ry * ry).sum()))
    return float((rx * ry).sum() / denom) if denom > 0 else 0.0


def responsiveness_metrics(ctx: AuditContext) -> list[Metric]:
    """``explainability.relevant_responsiveness``: does the model move where the true outcome moves?

    For each actionable variable v, every test unit gets do(v = v + 1 sd) (clipped to the spec's bounds;
    binary variables are flipped). Across units, the Spearman correlation between the model's output
    change and the true expected-outcome change E[Y | parents] under the SCM counterfactual is averaged
    over the actionable variables; the interval bootstraps units.

    Parameters
    ----------
    ctx : AuditContext
        The audit's shared inputs.

    Returns
    -------
    list of Metric
        Empty (with a note) without a recourse section or actionable variables.
    """
    spec = ctx.spec
    if spec.recourse is None or not spec.recourse.actionable:
        ctx.notes.append(
            "explainability.relevant_responsiveness skipped: the spec lists no actionable variables "
            "(recourse: {actionable: [...]})."
        )
        return []
    target = spec.target
    data = ctx.data
    feats = spec.features
    base_scores = ctx.model.scores(data[feats])
    base_expect = ctx.scm.expectation(data, target)
    pairs: list[tuple[Array, Array]] = []
    for v in spec.recourse.actionable:
        meta = ctx.scm.meta[v]
        if meta.vtype == "categorical":
            ctx.notes.append(f"explainability.relevant_responsiveness: categorical actionable {v} skipped.")
            continue
        old = data[v].to_numpy(dtype=np.float64)
        if meta.vtype == "binary":
            new = 1.0 - old
        else:
            sd = float(np.std(old))
            lo, hi = spec.recourse.bounds.get(v, (-np.inf, np.inf))
            new = np.clip(old + sd, lo, hi)
        cf = ctx.scm.counterfactual(
            data,
            do={v: new},
            random_state=int(ctx.rng(f"responsiveness:{v}").integers(2**31)),
            include_latent=True,
        )
        d_model = ctx.model.scores(cf[feats]) - base_scores
        d_true = ctx.scm.expectation(cf, target) - base_expect
        pairs.append((d_model, d_true))
    if not pairs:
        return []

    # Rank once; each resample is then a bincount (O(n)) instead of two sorts.
    rankers = [(Ranker(m), Ranker(t), np.ptp(m) == 0.0 or np.ptp(t) == 0.0) for m, t in pairs]
    n_units = len(data)

    def stat(idx: Array) -> float:
        w = np.bincount(idx, minlength=n_units).astype(np.float64)
        return float(np.mean([0.0 if flat else weighted_spearman(rm, rt, w) for rm, rt, flat in rankers]))

    ctx.notes.append(
        "explainability.relevant_responsiveness: each actionable variable is raised by one standard "
        "deviation (clipped to its bounds) on every test unit through the audit's SCM counterfactual; the "
        "true change is in E[target | parents] (a probability for a binary target). A model whose output "
        "does not change scores 0."
    )
    return [
        ctx.stat_metric(
            "explainability.relevant_responsiveness",
            stat,
            len(data),
            method="Spearman correlation across units (model change vs true expected-outcome change), "
            "mean over actionable variables; bootstrap over units",
        )
    ]


def irrelevant_invariance_metrics(ctx: AuditContext) -> list[Metric]:
    """``explainability.irrelevant_invariance``: mean |output change| when irrelevant variables change.

    Each unit's value of an irrelevant variable is replaced by another unit's (a seeded permutation, so
    the intervention stays within the observed distribution) and propagated to its descendants through
    the SCM counterfactual. The per-unit change is averaged over the irrelevant variables.

    Parameters
    ----------
    ctx : AuditContext
        The audit's shared inputs.

    Returns
    -------
    list of Metric
        Empty when ``explainability.irrelevant`` is missing or empty (DESIGN.md: the metric is absent).
    """
    spec = ctx.spec
    if spec.explainability is None or not spec.explainability.irrelevant:
        return []
    data = ctx.data
    feats = spec.features
    base = ctx.model.scores(data[feats])
    rng = ctx.rng("explainability.irrelevant_invariance")
    changes = np.zeros(len(data))
    irrelevant = list(spec.explainability.irrelevant)
    for v in irrelevant:
        perm = rng.permutation(len(data))
        new = data[v].to_numpy()[perm]
        cf = ctx.scm.counterfactual(data, do={v: pd.Series(new)}, random_state=int(rng.integers(2**31)))
        changes += np.abs(ctx.model.scores(cf[feats]) - base)
    changes /= len(irrelevant)
    ctx.notes.append(
        f"explainability.irrelevant_invariance: {', '.join(irrelevant)} set to another unit's value (a "
        "permutation) and propagated through the audit's SCM counterfactual."
    )
    return [
        ctx.mean_metric(
            "explainability.irrelevant_invariance",
            changes,
            method="mean |output change| under permutation interventions on the irrelevant variables",
        )
    ]
