"""Accuracy: observational, interventional (under the spec's shifts) and against fair-world labels."""

from __future__ import annotations

import numpy as np

from causaltrust.audit._context import AuditContext
from causaltrust.audit._model import ModelAdapter
from causaltrust.audit._ranks import Ranker, weighted_auc, weighted_auc_rows
from causaltrust.audit._report import Metric
from causaltrust.exceptions import DataError
from causaltrust.scm import fair_world_labels as fair_world_labels_of

__all__ = ["accuracy_metrics", "fair_world_labels", "score_metrics", "shift_data"]

Array = np.ndarray
_EPS = 1e-12


def _log_loss_per_unit(y: Array, p: Array) -> Array:
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def score_metrics(
    ctx: AuditContext, prefix_name: str, y: Array, model: ModelAdapter, X: object
) -> list[Metric]:
    """Observational-style metrics of ``model`` on (X, y)."""
    scores = model.scores(X)  # type: ignore[arg-type]
    if model.task == "regression":
        sq = (scores - y) ** 2
        rmse = ctx.stat_metric(
            "accuracy.rmse", lambda i: float(np.sqrt(sq[i].mean())), len(y), method="bootstrap over units"
        )

        def r2(i: Array) -> float:
            yi = y[i]
            tot = float(((yi - yi.mean()) ** 2).sum())
            return 1.0 - float(sq[i].sum()) / tot if tot > 0 else float("nan")

        mae = ctx.mean_metric("accuracy.mae", np.abs(scores - y))
        return [rmse, mae, ctx.stat_metric("accuracy.r2", r2, len(y))]
    labels = model.labels(X, scores)  # type: ignore[arg-type]
    out = [ctx.mean_metric(prefix_name, (labels == y).astype(np.float64))]
    if prefix_name == "accuracy.observational":
        probs = model.probabilities(X)  # type: ignore[arg-type]
        s = probs if probs is not None else scores
        ranker, positive = Ranker(s), y == 1
        out.append(
            ctx.weighted_metric(
                "accuracy.auc",
                lambda i: weighted_auc(ranker, positive, np.bincount(i, minlength=len(y)).astype(np.float64)),
                lambda counts: weighted_auc_rows(ranker, positive, counts, ordered=True),
                len(y),
                columns=ranker.order,
            )
        )
        if probs is not None:
            out.append(ctx.mean_metric("accuracy.log_loss", _log_loss_per_unit(y, probs)))
    return out


def shift_data(ctx: AuditContext, name: str, purpose: str) -> object:
    """A sample from the spec's shift ``name`` (``purpose`` keeps evaluation and adaptation rows apart)."""
    n = ctx.options.shift_n or len(ctx.data)
    seed = int(ctx.rng(f"shift:{name}:{purpose}").integers(0, 2**31 - 1))
    return ctx.scm.shift(name).sample(n, random_state=seed)


def accuracy_metrics(ctx: AuditContext) -> list[Metric]:
    """``accuracy.*``: observational, per shift (adapted when the model can), interventional, fair world."""
    spec = ctx.spec
    y = ctx.data[spec.target].to_numpy(dtype=np.float64)
    X = ctx.data[spec.features]
    metrics = score_metrics(ctx, "accuracy.observational", y, ctx.model, X)
    if ctx.model.task == "regression":
        return metrics + _regression_worlds(ctx)
    metrics.extend(_shift_metrics(ctx))
    if spec.fairness is not None:
        y_fw = fair_world_labels(ctx)
        labels = np.repeat(ctx.model.labels(X), ctx.worlds.n_draws)
        correct = ctx.worlds.per_unit((labels == y_fw).astype(np.float64))
        metrics.append(
            ctx.mean_metric(
                "accuracy.fair_world",
                correct,
                method="against path-counterfactual labels with the unfair paths blocked",
            )
        )
        ctx.notes.append(
            "Fair-world labels are path counterfactuals of the target with the protected attribute at its "
            "baseline along the unfair paths; Bernoulli/categorical noise couplings used for them are "
            "assumptions, not facts learnable from data."
        )
    return metrics


def _rmse_metric(ctx: AuditContext, name: str, pred: Array, target: Array, method: str) -> Metric:
    sq = (pred - target) ** 2
    return ctx.stat_metric(name, lambda i: float(np.sqrt(sq[i].mean())), len(sq), method=method)


def _regression_worlds(ctx: AuditContext) -> list[Metric]:
    """Regression: RMSE on each shift (no target data, and adapted) and against fair-world targets."""
    spec = ctx.spec
    out: list[Metric] = []
    plain: list[float] = []
    adapted_values: list[float] = []
    for name in spec.shifts:
        df = shift_data(ctx, name, "evaluate")
        ys = df[spec.target].to_numpy(dtype=np.float64)  # type: ignore[index]
        Xs = df[spec.features]  # type: ignore[index]
        m = _rmse_metric(ctx, f"accuracy.shift_rmse[{name}]", ctx.model.scores(Xs), ys, "no target data")
        out.append(m)
        plain.append(m.value)
        adapted = ctx.model.adapt(shift_data(ctx, name, "adapt")[spec.features])  # type: ignore[index]
        if adapted is None:
            nan = "not applicable: the model cannot use unlabeled target rows (supports_adapt_ is False)"
            out.append(ctx.metric(f"accuracy.shift_rmse_adapted[{name}]", float("nan"), method=nan))
            adapted_values.append(float("nan"))
        else:
            how = "adapted on an unlabeled sample of the shift"
            m = _rmse_metric(ctx, f"accuracy.shift_rmse_adapted[{name}]", adapted.scores(Xs), ys, how)
            out.append(m)
            adapted_values.append(m.value)
    if plain:
        # The regression twins of accuracy.interventional(_worst, _adapted): RMSE, so lower is better and
        # the worst shift is the largest.
        out.append(
            ctx.metric("accuracy.interventional_rmse", float(np.mean(plain)), method="mean over shifts")
        )
        out.append(
            ctx.metric("accuracy.interventional_rmse_worst", float(np.max(plain)), method="worst shift")
        )
        out.append(
            ctx.metric(
                "accuracy.interventional_rmse_adapted",
                float(np.mean(adapted_values)),
                method="mean over shifts, each model adapted on an unlabeled sample (NaN: cannot adapt)",
            )
        )
    if spec.fairness is not None:
        y_fw = fair_world_labels(ctx)
        pred = np.repeat(ctx.model.scores(ctx.data[spec.features]), ctx.worlds.n_draws)
        sq = ctx.worlds.per_unit((pred - y_fw) ** 2)
        out.append(
            ctx.stat_metric(
                "accuracy.fair_world_rmse",
                lambda i: float(np.sqrt(sq[i].mean())),
                len(sq),
                method="against path-counterfactual targets with the unfair paths blocked",
            )
        )
    return out


def _shift_metrics(ctx: AuditContext) -> list[Metric]:
    """Both robustness regimes per shift: no target data, and adapted on an unlabeled sample (DESIGN.md).

    Calibration is judged against the model's own target: observed labels, or fair-world labels (path
    counterfactuals under the shifted SCM) for a model trained on the fair world.
    """
    spec = ctx.spec
    out: list[Metric] = []
    plain: list[float] = []
    adapted_values: list[float] = []
    fair = ctx.model.target_world == "fair" and spec.fairness is not None
    for name in spec.shifts:
        df = shift_data(ctx, name, "evaluate")
        ys = df[spec.target].to_numpy(dtype=np.float64)  # type: ignore[index]
        Xs = df[spec.features]  # type: ignore[index]
        y_cal = ys
        if fair:
            shifted = ctx.scm.shift(name)
            y_cal = fair_world_labels_of(
                shifted,
                df,  # type: ignore[arg-type]
                n_draws=1,
                random_state=ctx.rng(f"shift-fair-world:{name}"),
            )
        adapted = ctx.model.adapt(shift_data(ctx, name, "adapt")[spec.features])  # type: ignore[index]
        for suffix, model in (("", ctx.model), ("_adapted", adapted)):
            if model is None:
                nan = "not applicable: the model cannot use unlabeled target rows (supports_adapt_ is False)"
                for base in ("shift", "shift_log_loss", "shift_calibration"):
                    out.append(ctx.metric(f"accuracy.{base}{suffix}[{name}]", float("nan"), method=nan))
                adapted_values.append(float("nan"))
                continue
            try:
                labels = model.labels(Xs)
                probs = model.probabilities(Xs)
            except DataError as exc:
                raise DataError(f"on data sampled from shift {name!r}: {exc}") from exc
            how = "adapted on an unlabeled sample of the shift" if suffix else "no target data"
            m = ctx.mean_metric(
                f"accuracy.shift{suffix}[{name}]", (labels == ys).astype(np.float64), method=how
            )
            out.append(m)
            (adapted_values if suffix else plain).append(m.value)
            if probs is not None:
                out.append(
                    ctx.mean_metric(
                        f"accuracy.shift_log_loss{suffix}[{name}]", _log_loss_per_unit(ys, probs), method=how
                    )
                )
                against = "fair-world labels (the model's target)" if fair else "observed labels"
                out.append(
                    ctx.mean_metric(
                        f"accuracy.shift_calibration{suffix}[{name}]",
                        probs - y_cal,
                        method=f"mean predicted probability - rate of {against}; {how}",
                    )
                )
    if plain:
        out.append(ctx.metric("accuracy.interventional", float(np.mean(plain)), method="mean over shifts"))
        out.append(ctx.metric("accuracy.interventional_worst", float(np.min(plain)), method="worst shift"))
        out.append(
            ctx.metric(
                "accuracy.interventional_adapted",
                float(np.mean(adapted_values)),
                method="mean over shifts, each model adapted on an unlabeled sample (NaN: cannot adapt)",
            )
        )
    return out


def fair_world_labels(ctx: AuditContext) -> Array:
    """Each unit's target with the protected attribute at ``fairness.baseline`` along the unfair paths.

    One value per unit and draw (``n_units * n_draws``), abducted with the audit's SCM.
    """
    return fair_world_labels_of(
        ctx.scm, ctx.data, n_draws=ctx.worlds.n_draws, random_state=ctx.rng("accuracy.fair_world")
    )
