"""The privacy family of an audit: the model's own ε and what attacks on it can learn."""

from __future__ import annotations

import math

from causaltrust.audit._context import AuditContext
from causaltrust.audit._report import Metric
from causaltrust.audit.privacy._attribute import attribute_inference_metric
from causaltrust.audit.privacy._losses import model_outputs, target_values
from causaltrust.audit.privacy._membership import (
    advantage_power_metric,
    loss_threshold_metric,
    shadow_metrics,
)

__all__ = ["compose_epsilon", "epsilon_metric", "privacy_metrics", "sensitive_epsilon_metric"]

MIA_NAMES = (
    "privacy.mia_advantage",
    "privacy.mia_auc",
    "privacy.mia_tpr_at_1pct_fpr",
    "privacy.mia_tpr_at_0.1pct_fpr",
)


def compose_epsilon(parts: dict[str, tuple[float, str]]) -> float:
    """ε of the whole pipeline from its parts' ε on the same training rows (basic sequential composition).

    inf when any part has no DP at all (e.g. a model trained without DP), else NaN when some part was
    fitted from the rows without differential privacy (the rest is private, but nothing bounds the
    whole), else the sum. Parts other than the model cost 0 today (taken from the spec, a given SCM or
    separate rows), so the sum is the model's own accountant ε exactly; a second private part would be
    composed more tightly by an RDP accountant over both mechanisms.
    """
    values = [eps for eps, _ in parts.values()]
    if any(math.isinf(v) for v in values):
        return math.inf
    if any(math.isnan(v) for v in values):
        return math.nan
    return math.fsum(values)


def epsilon_metric(ctx: AuditContext) -> list[Metric]:
    """``privacy.epsilon`` for the whole fitted pipeline and its ``privacy.epsilon_parts[part]``.

    A model that reports ``privacy_epsilon_parts_`` (what it learned from its training rows, each with its
    ε) gets the composition of its parts (:func:`compose_epsilon`): NaN with the reason in the notes when
    any part is not private. A model with only ``privacy_epsilon_`` is taken to have learned nothing else
    from the rows (a note says the audit cannot check that); without either, ε is inf.
    """
    parts = ctx.model.epsilon_parts
    if parts is None:
        eps = ctx.model.epsilon
        parts = {"model": (eps, "model.privacy_epsilon_" if math.isfinite(eps) else "no DP accountant")}
        if math.isfinite(eps):
            ctx.notes.append(
                "privacy.epsilon is the model's own accountant ε (privacy_epsilon_); the model does not "
                "report privacy_epsilon_parts_, so preprocessing fitted on the same rows outside it "
                "(scaling, encoders, an SCM) cannot be checked and is not covered."
            )
    eps = compose_epsilon(parts)
    composed = getattr(ctx.model.model, "privacy_epsilon_composed_", None)
    rdp = composed is not None and math.isfinite(eps)  # every part private: one RDP accountant over them all
    if composed is not None and rdp:
        eps = float(composed)
    shown = {
        k: ("not private" if math.isnan(e) else "no DP" if math.isinf(e) else f"{e:.4g}")
        for k, (e, _) in parts.items()
    }
    ctx.notes.append(
        "privacy.epsilon_parts: "
        + "; ".join(f"{k}: {shown[k]} ({how})" for k, (_, how) in parts.items())
        + "."
    )
    if math.isnan(eps):
        bad = [k for k, (e, _) in parts.items() if math.isnan(e)]
        ctx.notes.append(
            f"privacy.epsilon is NaN: {', '.join(bad)} learned from the training rows without differential "
            "privacy, so no ε covers the whole model. Pass scm= (an SCM fitted on other data) or "
            "scm_data= (separate rows) to the learner to keep the training rows out of it."
        )
    if ctx.scm_fitted_on in ("train_data", "data"):
        ctx.notes.append(
            f"The audit's SCM was fitted on {ctx.scm_fitted_on} without any privacy protection: ε does not "
            "cover it. Pass scm= (a given SCM) or scm_data= (separate rows) to keep those rows out of it."
        )
    budget = ctx.spec.privacy.epsilon if ctx.spec.privacy is not None else None
    if budget is not None and not eps <= budget:
        value = "NaN (not private)" if math.isnan(eps) else "inf" if math.isinf(eps) else f"{eps:.4g}"
        ctx.notes.append(f"privacy.epsilon = {value} exceeds the spec's privacy budget ε = {budget:.4g}.")
    if math.isnan(eps):
        method = "composed over privacy_epsilon_parts_: a part is not private"
    elif rdp:
        method = "every mechanism of privacy_epsilon_parts_ in one RDP accountant (privacy_epsilon_composed_)"
    elif math.isfinite(eps):
        method = "composed over privacy_epsilon_parts_ (basic composition)"
    else:
        method = "no DP accountant on the model"
    out = [ctx.metric("privacy.epsilon", eps, None, method=method)]
    out += [ctx.metric(f"privacy.epsilon_parts[{k}]", e, None, method=how) for k, (e, how) in parts.items()]
    return out


def sensitive_epsilon_metric(ctx: AuditContext, row_epsilon: float) -> Metric | None:
    """``privacy.sensitive_epsilon``: ε for the spec's ``privacy.sensitive`` variables (None without them).

    Neighbouring data sets differ in one person's sensitive values, every other column the same (the
    threat model of DESIGN.md "Issue 33: day 2"). A model that privatises those values itself reports
    ``privacy_sensitive_epsilon_`` (e.g. randomized response: a closed form); when its row-level ε is
    also finite the smaller of the two bounds is reported. Otherwise the whole row's
    guarantee bounds it: changing one person's sensitive values replaces their row (remove it, add the
    changed one), so by group privacy ε_sensitive <= 2 ε_row (at δ' = (1 + e^ε_row) δ); NaN or inf when
    the row-level ε is.
    """
    privacy = ctx.spec.privacy
    if privacy is None or not privacy.sensitive:
        return None
    name = "privacy.sensitive_epsilon"
    who = ", ".join(privacy.sensitive)
    own = getattr(ctx.model.model, "privacy_sensitive_epsilon_", None)
    if own is not None:
        how = str(getattr(ctx.model.model, "privacy_sensitive_mechanism_", "the model's own mechanism"))
        if math.isfinite(row_epsilon) and 2.0 * row_epsilon < float(own):
            # Both bounds hold (the row-level accountant's covers a substitution at 2ε): the smaller.
            how = f"2 x privacy.epsilon (group privacy over a substitution), below {how} at {float(own):.4g}"
            return ctx.metric(name, 2.0 * row_epsilon, None, method=how)
        return ctx.metric(name, float(own), None, method=f"{how}; neighbours differ in {who} of one person")
    if math.isnan(row_epsilon):
        method = f"not private: privacy.epsilon is NaN, so nothing bounds the release of {who}"
    elif math.isinf(row_epsilon):
        method = f"no DP mechanism on {who} and no row-level accountant"
    else:
        method = (
            f"group privacy over a substitution: 2 x privacy.epsilon (changing {who} of one person removes "
            "a row and adds one), at delta' = (1 + e^epsilon) delta"
        )
    return ctx.metric(name, 2.0 * row_epsilon, None, method=method)


def privacy_metrics(ctx: AuditContext) -> list[Metric]:
    """Privacy metrics of an audit (names as in DESIGN.md "Trust metrics").

    - ``privacy.epsilon``: ε of the whole fitted pipeline (NaN when a part is not private), and
      ``privacy.epsilon_parts[part]``: each part's ε;
    - ``privacy.mia_advantage``: loss-threshold membership attack (Yeom et al. 2018);
    - ``privacy.mia_auc``, ``privacy.mia_tpr_at_1pct_fpr``, ``privacy.mia_tpr_at_0.1pct_fpr``: a shadow-model
      attack (RMIA, Zarifzadeh et al. 2024, for classifiers; LiRA, Carlini et al. 2022, for regressors);
    - ``privacy.mia_power[mia_advantage]``, ``privacy.mia_power[mia_tpr_at_1pct_fpr]``: the attacks' power,
      the same attacks against a memorising random forest on the same rows (classifiers);
    - ``privacy.attribute_inference_advantage``: how well the outputs reveal the protected attribute;
    - ``privacy.sensitive_epsilon``: ε for the spec's ``privacy.sensitive`` variables
      (:func:`sensitive_epsilon_metric`), when the spec lists them.

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
    >>> [m.name for m in privacy_metrics(ctx)][:3]
    ['privacy.epsilon', 'privacy.epsilon_parts[model]', 'privacy.mia_advantage']
    """
    metrics = epsilon_metric(ctx)
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
        power = advantage_power_metric(ctx, train, ctx.data)
        if power is not None:
            metrics.append(power)
        _power_notes(ctx, metrics)
    attribute = attribute_inference_metric(ctx)
    if attribute is not None:
        metrics.append(attribute)
    sensitive = sensitive_epsilon_metric(ctx, metrics[0].value)
    if sensitive is not None:
        metrics.append(sensitive)
    return metrics


def _power_notes(ctx: AuditContext, metrics: list[Metric]) -> None:
    # Every surface that lists the notes (CLI audit, notebook, HTML) states each attack's power beside it.
    values = {m.name: m.value for m in metrics}
    for name in ("privacy.mia_advantage", "privacy.mia_tpr_at_1pct_fpr"):
        power = values.get(f"privacy.mia_power[{name.removeprefix('privacy.')}]")
        if power is not None and name in values:
            ctx.notes.append(
                f"{name} = {values[name]:.3g}; the same attack at the same settings on a memorising random "
                f"forest trained on the same rows: {power:.3g} (the attack's power: a small value for this "
                "model is evidence only where the power is large)."
            )
