"""Path attribution: the protected attribute's effect on the output, switched on one path at a time."""

from __future__ import annotations

from typing import Any

import numpy as np

from causaltrust.audit._context import AuditContext
from causaltrust.audit._report import Metric

__all__ = ["path_attribution_metrics", "path_name"]

Array = np.ndarray
_NAME = "explainability.path_attribution"


def path_name(path: tuple[str, ...]) -> str:
    """A path as the report names it, e.g. ``A→L→X→Ŷ``."""
    return "→".join(path)


def _other_levels(ctx: AuditContext, var: str, baseline: Any) -> list[Any]:
    meta = ctx.scm.meta[var]
    if meta.vtype == "binary":
        return [1 - int(baseline)]
    if meta.vtype == "categorical":
        return [c for c in meta.categories if c != baseline]
    # A continuous protected attribute: one unit above the baseline, as the fairness family does.
    return [float(baseline) + 1.0]


def path_attribution_metrics(ctx: AuditContext) -> list[Metric]:
    """``explainability.path_attribution[path]`` for every full A → Ŷ path, plus ``[interaction]``.

    Each path's attribution is the mean over units of f(features with A switched from the baseline to the
    other level along that path alone) - f(features with A at the baseline everywhere). The interaction is
    the per-unit remainder total - sum of parts, so parts + interaction = total exactly; it is 0 for a
    model additive in features that no two paths share.

    Parameters
    ----------
    ctx : AuditContext
        The audit's shared inputs.

    Returns
    -------
    list of Metric
        Empty (with a note) when the spec has no fairness section.
    """
    spec = ctx.spec
    if spec.fairness is None:
        ctx.notes.append(
            "explainability.path_attribution skipped: the spec has no fairness section naming a protected "
            "attribute whose paths could be attributed."
        )
        return []
    a = spec.fairness.protected
    base = spec.fairness.baseline
    paths = ctx.worlds.full_paths(a, None)
    if not paths:
        ctx.notes.append(
            f"explainability.path_attribution skipped: no directed path from {a} to the prediction."
        )
        return []
    levels = _other_levels(ctx, a, base)
    suffix = len(levels) > 1 or ctx.scm.meta[a].vtype == "categorical"
    metrics: list[Metric] = []
    for level in levels:
        world = ctx.worlds.path_world(a, level, base)
        f0 = ctx.model.scores(ctx.worlds.features_along(world, []))
        total = ctx.model.scores(ctx.worlds.features_along(world, paths)) - f0
        parts_sum = np.zeros_like(total)
        tag = f"@{level}" if suffix else ""
        for p in paths:
            part = ctx.model.scores(ctx.worlds.features_along(world, [p])) - f0
            parts_sum += part
            metrics.append(
                ctx.mean_metric(
                    f"{_NAME}[{path_name(p)}{tag}]",
                    ctx.worlds.per_unit(part),
                    method=f"mean per-unit change of the output, {a}: {base}→{level} along this path only",
                )
            )
        metrics.append(
            ctx.mean_metric(
                f"{_NAME}[interaction{tag}]",
                ctx.worlds.per_unit(total - parts_sum),
                method="per-unit total effect minus the sum of single-path effects (non-additive part)",
            )
        )
    ctx.notes.append(
        f"explainability.path_attribution: {a} is switched from {base} along one path at a time (every other "
        "path sees the baseline) on the test units' abducted noise; the interaction row is the per-unit "
        "remainder, so the parts and the interaction add up to the total counterfactual effect."
    )
    return metrics
