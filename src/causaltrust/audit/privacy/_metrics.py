"""The privacy family of an audit: the model's own ε and what attacks on it can learn."""

from __future__ import annotations

import math

from causaltrust.audit._context import AuditContext
from causaltrust.audit._report import Metric
from causaltrust.audit.privacy._attribute import attribute_inference_metric
from causaltrust.audit.privacy._losses import model_outputs, target_values
from causaltrust.audit.privacy._membership import loss_threshold_metric, shadow_metrics

__all__ = ["epsilon_metric", "privacy_metrics"]

MIA_NAMES = (
    "privacy.mia_advantage",
    "privacy.mia_auc",
    "privacy.mia_tpr_at_1pct_fpr",
    "privacy.mia_tpr_at_0.1pct_fpr",
)


def epsilon_metric(ctx: AuditContext) -> Metric:
    """``privacy.epsilon``: the model's ``privacy_epsilon_`` (inf without one), with DESIGN's scope note."""
    eps = ctx.model.epsilon
    ctx.notes.append(
        "privacy.epsilon is the final estimator's own accountant ε (privacy_epsilon_, inf when the model has "
        "none); it covers that estimator's training only, not preprocessing fitted outside it, model "
        "selection, or an SCM."
    )
    if ctx.scm_fitted_on in ("train_data", "data"):
        ctx.notes.append(
            f"The audit's SCM was fitted on {ctx.scm_fitted_on} without any privacy protection: ε does not "
            "cover it. Pass scm= (a given SCM) or scm_data= (separate rows) to keep those rows out of it."
        )
    budget = ctx.spec.privacy.epsilon if ctx.spec.privacy is not None else None
    if budget is not None and not eps <= budget:
        shown = "inf" if math.isinf(eps) else f"{eps:.4g}"
        ctx.notes.append(f"privacy.epsilon = {shown} exceeds the spec's privacy budget ε = {budget:.4g}.")
    method = "model.privacy_epsilon_" if math.isfinite(eps) else "no DP accountant on the model"
    return ctx.metric("privacy.epsilon", eps, None, method=method)


def privacy_metrics(ctx: AuditContext) -> list[Metric]:
    """Privacy metrics of an audit (names as in DESIGN.md "Trust metrics").

    - ``privacy.epsilon``: the model's own differential-privacy accountant ε;
    - ``privacy.mia_advantage``: loss-threshold membership attack (Yeom et al. 2018);
    - ``privacy.mia_auc``, ``privacy.mia_tpr_at_1pct_fpr``, ``privacy.mia_tpr_at_0.1pct_fpr``: a shadow-model
      attack in the style of LiRA (Carlini et al. 2022);
    - ``privacy.attribute_inference_advantage``: how well the outputs reveal the protected attribute.

    Membership metrics need ``ctx.train_data`` (members) besides the test data (non-members); without it
    they are absent and a note says why. Every random choice is seeded from ``ctx.rng(metric name)``.

    Parameters
    ----------
    ctx : AuditContext
        The audit's shared inputs (see :func:`causaltrust.audit.build_context`).

    Returns
    -------
    list of Metric

    Examples
    --------
    >>> import causaltrust as ct
    >>> from sklearn.linear_model import LogisticRegression
    >>> from causaltrust.audit import AuditOptions, build_context
    >>> spec, scm = ct.scenarios.load("readmission")
    >>> train, test = scm.sample(500, random_state=1), scm.sample(500, random_state=2)
    >>> model = LogisticRegression().fit(train[spec.features], train[spec.target])
    >>> ctx = build_context(model, spec=spec, scm=scm, data=test, train_data=train,
    ...                     options=AuditOptions(n_bootstrap=20, n_shadow=4))
    >>> [m.name for m in privacy_metrics(ctx)][:2]
    ['privacy.epsilon', 'privacy.mia_advantage']
    """
    metrics = [epsilon_metric(ctx)]
    train = ctx.train_data
    if train is None:
        ctx.notes.append(
            f"{', '.join(MIA_NAMES)}: skipped, membership inference needs the model's training rows "
            "(train_data=) as members; the test data are the non-members."
        )
    else:
        spec, meta = ctx.spec, ctx.scm.meta
        members = model_outputs(
            ctx.model, train[spec.features], target_values(train, meta, spec.target, "audit train_data")
        )
        non_members = model_outputs(
            ctx.model, ctx.data[spec.features], target_values(ctx.data, meta, spec.target, "audit data")
        )
        metrics.append(loss_threshold_metric(ctx, members, non_members))
        metrics.extend(shadow_metrics(ctx, members, non_members))
    attribute = attribute_inference_metric(ctx)
    if attribute is not None:
        metrics.append(attribute)
    return metrics
