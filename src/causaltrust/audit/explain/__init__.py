"""Explainability: path attributions, causal recourse, responsiveness and invariance of the model."""

from __future__ import annotations

from causaltrust.audit._context import AuditContext
from causaltrust.audit._report import Metric
from causaltrust.audit.explain._attribution import path_attribution_metrics
from causaltrust.audit.explain._recourse import recourse_metrics
from causaltrust.audit.explain._response import irrelevant_invariance_metrics, responsiveness_metrics

__all__ = [
    "explain_metrics",
    "irrelevant_invariance_metrics",
    "path_attribution_metrics",
    "recourse_metrics",
    "responsiveness_metrics",
]


def explain_metrics(ctx: AuditContext) -> list[Metric]:
    """``explainability.*`` metrics of the model on the test units.

    Parameters
    ----------
    ctx : AuditContext
        The audit's shared inputs (model, spec, SCM, test units, seeds).

    Returns
    -------
    list of Metric
        ``explainability.path_attribution[path]`` (with ``[interaction]``), ``recourse_validity``,
        ``recourse_cost``, ``noncausal_recourse_validity``, ``relevant_responsiveness`` and
        ``irrelevant_invariance``; a family the spec cannot support is skipped with a note in
        ``ctx.notes``.

    Examples
    --------
    >>> import causaltrust as ct
    >>> from sklearn.linear_model import LogisticRegression
    >>> from causaltrust.audit import AuditOptions, build_context
    >>> from causaltrust.audit.explain import explain_metrics
    >>> spec, scm = ct.scenarios.load("readmission")
    >>> train, test = scm.sample(2000, random_state=1), scm.sample(500, random_state=2)
    >>> model = LogisticRegression().fit(train[spec.features], train[spec.target])
    >>> ctx = build_context(model, spec=spec, scm=scm, data=test, random_state=0,
    ...                     options=AuditOptions(n_bootstrap=20, recourse_units=20))
    >>> names = [m.name for m in explain_metrics(ctx)]
    >>> "explainability.recourse_validity" in names
    True
    """
    metrics: list[Metric] = []
    metrics.extend(path_attribution_metrics(ctx))
    metrics.extend(recourse_metrics(ctx))
    metrics.extend(responsiveness_metrics(ctx))
    metrics.extend(irrelevant_invariance_metrics(ctx))
    return metrics
