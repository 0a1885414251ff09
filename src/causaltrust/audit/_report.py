"""TrustReport: named metrics with intervals, better directions and pass/fail against thresholds."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import pandas as pd

from causaltrust._format import fmt_interval, fmt_num, html_table
from causaltrust.exceptions import CausalTrustError

__all__ = ["METRICS", "Metric", "MetricInfo", "TrustReport", "metric_info"]

Better = Literal["higher", "lower", "zero", "informative"]

_UNIT = (0.0, 1.0)
_SIGNED_UNIT = (-1.0, 1.0)
_NONNEG = (0.0, math.inf)


@dataclass(frozen=True)
class MetricInfo:
    """What a metric means, which direction is better, and the range its values can take.

    ``better`` is ``higher``, ``lower``, ``zero`` (closer to 0, compared by |value|) or ``informative``
    (no better or worse: a legitimate effect such as the fair-path effect, reported, never ranked).
    ``bounds`` is the range of possible values (``None``: unbounded, e.g. effects on a regressor's output);
    intervals over seeds are clipped to it.
    """

    better: Better
    description: str
    bounds: tuple[float, float] | None = None


# The names are fixed by DESIGN.md ("Trust metrics"); reports, benchmarks and outside checks read them.
# ``name[qualifier]`` variants (per environment, shift, level, path) share their base name's entry.
METRICS: dict[str, MetricInfo] = {
    "accuracy.observational": MetricInfo("higher", "accuracy on the test data", _UNIT),
    "accuracy.auc": MetricInfo("higher", "ROC AUC on the test data", _UNIT),
    "accuracy.log_loss": MetricInfo("lower", "log-loss on the test data", _NONNEG),
    "accuracy.rmse": MetricInfo("lower", "root mean squared error on the test data", _NONNEG),
    "accuracy.r2": MetricInfo("higher", "coefficient of determination on the test data"),
    "accuracy.mae": MetricInfo("lower", "mean absolute error on the test data (regression)", _NONNEG),
    "accuracy.shift_rmse": MetricInfo(
        "lower", "root mean squared error on a shifted SCM's data (regression; no target data)", _NONNEG
    ),
    "accuracy.shift_rmse_adapted": MetricInfo(
        "lower",
        "RMSE on a shift after adapting on its unlabeled sample (regression; NaN: cannot adapt)",
        _NONNEG,
    ),
    "accuracy.fair_world_rmse": MetricInfo(
        "lower", "RMSE against fair-world targets (regression; path counterfactuals)", _NONNEG
    ),
    "accuracy.shift": MetricInfo(
        "higher", "accuracy on data sampled from a shifted SCM (no target data)", _UNIT
    ),
    "accuracy.shift_log_loss": MetricInfo(
        "lower", "log-loss on a shifted SCM's data (no target data)", _NONNEG
    ),
    "accuracy.shift_calibration": MetricInfo(
        "zero",
        "mean predicted probability - observed rate on a shifted SCM's data (no target data)",
        _SIGNED_UNIT,
    ),
    "accuracy.shift_adapted": MetricInfo(
        "higher", "accuracy on a shift after adapting on its unlabeled sample (NaN: cannot adapt)", _UNIT
    ),
    "accuracy.shift_log_loss_adapted": MetricInfo(
        "lower", "log-loss on a shift after adapting on its unlabeled sample (NaN: cannot adapt)", _NONNEG
    ),
    "accuracy.shift_calibration_adapted": MetricInfo(
        "zero", "mean predicted - observed rate on a shift after adapting (NaN: cannot adapt)", _SIGNED_UNIT
    ),
    "accuracy.interventional": MetricInfo(
        "higher", "mean accuracy over the spec's shifts (no target data)", _UNIT
    ),
    "accuracy.interventional_adapted": MetricInfo(
        "higher", "mean adapted accuracy over the spec's shifts (NaN: cannot adapt)", _UNIT
    ),
    "accuracy.interventional_worst": MetricInfo("higher", "worst accuracy over the spec's shifts", _UNIT),
    "accuracy.interventional_rmse": MetricInfo(
        "lower", "mean RMSE over the spec's shifts (regression; no target data)", _NONNEG
    ),
    "accuracy.interventional_rmse_adapted": MetricInfo(
        "lower", "mean adapted RMSE over the spec's shifts (regression; NaN: cannot adapt)", _NONNEG
    ),
    "accuracy.interventional_rmse_worst": MetricInfo(
        "lower", "largest RMSE over the spec's shifts (regression)", _NONNEG
    ),
    "accuracy.fair_world": MetricInfo(
        "higher", "accuracy against fair-world labels (unfair paths blocked)", _UNIT
    ),
    "fairness.demographic_parity_difference": MetricInfo(
        "zero", "max - min selection rate over protected groups (fairlearn's definition)", _UNIT
    ),
    "fairness.equalized_odds_difference": MetricInfo(
        "zero", "max of the TPR and FPR group differences (fairlearn's definition)", _UNIT
    ),
    "fairness.mean_difference": MetricInfo(
        "zero", "max - min mean prediction over protected groups, in outcome units (regression)"
    ),
    "fairness.standardized_mean_difference": MetricInfo(
        "zero", "mean difference divided by the pooled within-group sd of the predictions (regression)"
    ),
    "fairness.counterfactual_effect": MetricInfo(
        "zero",
        "signed mean over units of the output change when A is set from baseline to value on every path: "
        "a population average on the output, not Kusner's individual criterion (see _abs / _p95)",
    ),
    "fairness.counterfactual_effect_abs": MetricInfo(
        "zero",
        "mean over units of each unit's posterior mean |output change| when A is set on every path",
        _NONNEG,
    ),
    "fairness.counterfactual_effect_p95": MetricInfo(
        "zero",
        "95th percentile over units of the posterior mean |output change| when A is set on every path",
        _NONNEG,
    ),
    "fairness.unfair_path_effect_abs": MetricInfo(
        "zero",
        "mean over units of each unit's posterior mean |output change| along the unfair paths",
        _NONNEG,
    ),
    "fairness.unfair_path_effect_p95": MetricInfo(
        "zero",
        "95th percentile over units of the posterior mean |output change| along the unfair paths",
        _NONNEG,
    ),
    "fairness.fair_path_effect_abs": MetricInfo(
        "informative",
        "mean over units of each unit's posterior mean |output change| along the fair paths",
        _NONNEG,
    ),
    "fairness.fair_path_effect_p95": MetricInfo(
        "informative",
        "95th percentile over units of the posterior mean |output change| along the fair paths",
        _NONNEG,
    ),
    "fairness.unfair_path_effect": MetricInfo("zero", "effect of A on the output along the unfair paths"),
    "fairness.fair_path_effect": MetricInfo(
        "informative",
        "effect of A on the output along the fair paths (legitimate; informative, not a defect)",
    ),
    "fairness.interaction_effect": MetricInfo(
        "zero", "total - unfair - fair: the non-additive part of A's effect on the output"
    ),
    "fairness.ctf_de": MetricInfo("zero", "counterfactual direct effect (Plečko-Bareinboim)"),
    "fairness.ctf_ie": MetricInfo("zero", "counterfactual indirect effect (Plečko-Bareinboim)"),
    "fairness.ctf_se": MetricInfo("zero", "counterfactual spurious effect (Plečko-Bareinboim)"),
    "robustness.environment_accuracy": MetricInfo("higher", "accuracy within one environment", _UNIT),
    "robustness.worst_environment_accuracy": MetricInfo("higher", "worst accuracy over environments", _UNIT),
    "robustness.environment_gap": MetricInfo("lower", "best - worst environment accuracy", _UNIT),
    "robustness.spurious_path_effect": MetricInfo(
        "zero", "mean |output change| when the spurious mechanisms shift (no model adapted)", _NONNEG
    ),
    "robustness.spurious_path_effect_adapted": MetricInfo(
        "zero",
        "mean |output change| when the spurious mechanisms shift, each model adapted (NaN: cannot)",
        _NONNEG,
    ),
    "robustness.spurious_path_effect_p95": MetricInfo(
        "zero", "95th percentile over units of |output change| when the spurious mechanisms shift", _NONNEG
    ),
    "robustness.contextual_path_effect": MetricInfo(
        "informative", "effect of the environment on the output along contextual paths (informative)"
    ),
    "privacy.epsilon": MetricInfo(
        "lower",
        "DP epsilon of the whole fitted pipeline (inf without DP, NaN when a part is not private)",
        _NONNEG,
    ),
    "privacy.epsilon_parts": MetricInfo(
        "lower",
        "epsilon of one part learned from the training rows (0: costs nothing, NaN: not private)",
        _NONNEG,
    ),
    "privacy.sensitive_epsilon": MetricInfo(
        "lower",
        "DP epsilon for the spec's privacy.sensitive variables (neighbours differ in one person's values)",
        _NONNEG,
    ),
    "privacy.mia_advantage": MetricInfo(
        "lower", "loss-threshold membership advantage (Yeom et al. 2018)", _SIGNED_UNIT
    ),
    "privacy.mia_auc": MetricInfo("lower", "shadow-model (RMIA / LiRA) membership attack AUC", _UNIT),
    "privacy.mia_tpr_at_1pct_fpr": MetricInfo(
        "lower", "shadow attack's true-positive rate at 1% false positives", _UNIT
    ),
    "privacy.mia_tpr_at_0.1pct_fpr": MetricInfo(
        "lower", "shadow attack's true-positive rate at 0.1% false positives", _UNIT
    ),
    "privacy.mia_power": MetricInfo(
        "informative",
        "the attack's power: the same attack's value against a memorising random forest on the same rows",
        _SIGNED_UNIT,
    ),
    "privacy.attribute_inference_advantage": MetricInfo(
        "lower", "advantage of inferring the protected attribute from the model's outputs", _SIGNED_UNIT
    ),
    "explainability.path_attribution": MetricInfo(
        "informative", "share of the output change between A levels flowing along one path (informative)"
    ),
    "explainability.recourse_validity": MetricInfo(
        "higher", "share of causal recourse actions that flip the decision", _UNIT
    ),
    "explainability.recourse_cost": MetricInfo(
        "lower", "mean cost of the cheapest valid causal recourse", _NONNEG
    ),
    "explainability.noncausal_recourse_validity": MetricInfo(
        "higher", "share of feature-independent counterfactuals that still flip once effects propagate", _UNIT
    ),
    "explainability.relevant_responsiveness": MetricInfo(
        "higher",
        "rank correlation of model change and true outcome change under actionable interventions",
        _SIGNED_UNIT,
    ),
    "explainability.irrelevant_invariance": MetricInfo(
        "lower", "mean |output change| under interventions on irrelevant variables", _NONNEG
    ),
    "text.flip_rate": MetricInfo(
        "lower", "share of intervened texts whose predicted class changes (e.g. under a gender swap)", _UNIT
    ),
    "text.output_change": MetricInfo(
        "zero",
        "mean signed change of P(positive) under the text intervention (gender: female minus male)",
        _SIGNED_UNIT,
    ),
    "text.output_change_abs": MetricInfo("lower", "mean |change of P(positive)| per intervened text", _UNIT),
    "text.output_change_p95": MetricInfo(
        "lower", "95th percentile of |change of P(positive)| over texts", _UNIT
    ),
    "text.relevant_output_change_abs": MetricInfo(
        "higher",
        "mean |change of P(positive)| under the relevant intervention (0 for a model blind to text)",
        _UNIT,
    ),
}


def metric_info(name: str) -> MetricInfo:
    """Registry entry of ``name`` (qualifiers such as ``[e]`` are ignored)."""
    base = name.split("[", 1)[0]
    if base not in METRICS:
        raise CausalTrustError(f"unknown metric {name!r}; known metrics: {', '.join(sorted(METRICS))}")
    return METRICS[base]


@dataclass(frozen=True)
class Metric:
    """One measured metric.

    ``passed`` is None without a threshold. Effects (``better`` ``"zero"`` or ``"informative"``) compare
    |value| to the threshold; others compare the value itself.
    """

    name: str
    value: float
    low: float | None = None
    high: float | None = None
    better: Better = "higher"
    threshold_min: float | None = None
    threshold_max: float | None = None
    passed: bool | None = None
    description: str = ""
    method: str = ""

    @property
    def interval(self) -> tuple[float, float] | None:
        return None if self.low is None or self.high is None else (self.low, self.high)

    def with_threshold(self, lo: float | None, hi: float | None) -> Metric:
        value = abs(self.value) if self.better in ("zero", "informative") else self.value
        ok = not math.isnan(value) and (lo is None or value >= lo) and (hi is None or value <= hi)
        return Metric(**{**asdict(self), "threshold_min": lo, "threshold_max": hi, "passed": ok})


NOTEBOOK_ROWS = 15
# The metrics a notebook shows first (after those the spec's thresholds judge), in this order.
NOTEBOOK_HEADLINE = (
    "accuracy.observational",
    "accuracy.interventional",
    "accuracy.interventional_adapted",
    "accuracy.fair_world",
    "accuracy.rmse",
    "fairness.unfair_path_effect",
    "fairness.unfair_path_effect_abs",
    "fairness.demographic_parity_difference",
    "fairness.equalized_odds_difference",
    "robustness.spurious_path_effect",
    "robustness.spurious_path_effect_adapted",
    "robustness.worst_environment_accuracy",
    "privacy.epsilon",
    "privacy.mia_advantage",
    "explainability.recourse_validity",
    "text.flip_rate",
    "text.output_change_abs",
    "text.relevant_output_change_abs",
)


@dataclass(frozen=True)
class TrustReport:
    """A read-only audit result: metrics, notes (assumptions and scope) and provenance.

    Examples
    --------
    >>> from causaltrust.audit import Metric, TrustReport
    >>> rep = TrustReport((Metric("accuracy.observational", 0.81, 0.80, 0.82),))
    >>> rep.metric("accuracy.observational").value
    0.81
    >>> TrustReport.from_json(rep.to_json()) == rep
    True
    """

    metrics: tuple[Metric, ...]
    notes: tuple[str, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [m.name for m in self.metrics]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise CausalTrustError(f"a TrustReport lists metrics twice: {dup}")
        object.__setattr__(self, "meta", dict(self.meta))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TrustReport):
            return NotImplemented
        return (
            self.to_frame().equals(other.to_frame())
            and self.notes == other.notes
            and json.dumps(self.meta, sort_keys=True, default=str)
            == json.dumps(other.meta, sort_keys=True, default=str)
        )

    __hash__ = None  # type: ignore[assignment]

    def __iter__(self) -> Iterator[Metric]:
        return iter(self.metrics)

    def __len__(self) -> int:
        return len(self.metrics)

    def __contains__(self, name: object) -> bool:
        return any(m.name == name for m in self.metrics)

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.metrics]

    def metric(self, name: str) -> Metric:
        """The metric called ``name`` (KeyError listing close names when absent)."""
        for m in self.metrics:
            if m.name == name:
                return m
        import difflib

        close = difflib.get_close_matches(name, self.names, n=5, cutoff=0.5)
        hint = f"; did you mean {close}?" if close else f"; the report has {len(self.metrics)} metrics"
        raise KeyError(f"no metric {name!r} in this report{hint}")

    def select(self, prefix: str) -> list[Metric]:
        """Metrics whose name starts with ``prefix`` (e.g. ``"fairness."``)."""
        return [m for m in self.metrics if m.name.startswith(prefix)]

    @property
    def passed(self) -> bool:
        """True when no metric with a threshold failed."""
        return all(m.passed is not False for m in self.metrics)

    def failures(self) -> list[Metric]:
        """Metrics whose threshold failed."""
        return [m for m in self.metrics if m.passed is False]

    def to_frame(self) -> pd.DataFrame:
        """A tidy table: one row per metric."""
        cols = [
            "name",
            "value",
            "low",
            "high",
            "better",
            "threshold_min",
            "threshold_max",
            "passed",
            "description",
            "method",
        ]
        return pd.DataFrame([asdict(m) for m in self.metrics], columns=cols)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "causaltrust-report",
            "version": 1,
            "metrics": [_json_safe(asdict(m)) for m in self.metrics],
            "notes": list(self.notes),
            "meta": _json_safe(dict(self.meta)),
        }

    def to_json(self, indent: int | None = 2) -> str:
        """JSON text; non-finite numbers are written as strings ("inf", "nan") so any parser reads it."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> TrustReport:
        """Read a report written by :meth:`to_json`."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CausalTrustError(f"not a TrustReport JSON document: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != "causaltrust-report":
            raise CausalTrustError("not a TrustReport JSON document (missing format 'causaltrust-report')")
        metrics = tuple(Metric(**_from_json_safe(m)) for m in data["metrics"])
        return cls(metrics, tuple(data.get("notes", ())), _from_json_safe(data.get("meta", {})))

    def _title(self) -> str:
        return f"{self.meta.get('spec', 'spec')} / {self.meta.get('model', 'model')}"

    def _verdict(self) -> str:
        failed = len(self.failures())
        judged = sum(m.passed is not None for m in self.metrics)
        if not judged:
            return "no thresholds set"
        if failed:
            return f"{failed} of {judged} thresholds failed"
        return f"all {judged} thresholds passed" if judged > 1 else "its threshold passed"

    def __repr__(self) -> str:
        return (
            f"<TrustReport {self._title()}: {len(self.metrics)} metrics, {self._verdict()}, "
            f"{len(self.notes)} notes>"
        )

    def _headline(self, limit: int = NOTEBOOK_ROWS) -> list[Metric]:
        """What a notebook shows first: judged metrics, then the headline names, then the rest in order."""
        rank = {name: i for i, name in enumerate(NOTEBOOK_HEADLINE)}
        order = sorted(
            range(len(self.metrics)),
            key=lambda i: (
                self.metrics[i].passed is None,
                rank.get(self.metrics[i].name, len(rank)),
                i,
            ),
        )
        return [self.metrics[i] for i in order[:limit]]

    def _repr_html_(self) -> str:
        """A notebook summary: at most 15 headline metrics with pass/fail, and how to see the rest."""
        import html

        shown = self._headline()
        rows = [
            (
                m.name,
                fmt_num(m.value),
                fmt_interval(m.low, m.high),
                m.better,
                _threshold_text(m),
                "" if m.passed is None else ("pass" if m.passed else "FAIL"),
            )
            for m in shown
        ]
        table = html_table(("metric", "value", "95% interval", "better", "threshold", "verdict"), rows)
        rest = len(self.metrics) - len(shown)
        more = (
            f"<p>{len(shown)} of {len(self.metrics)} metrics shown. All of them: "
            "<code>rep.to_frame()</code>; "
            'the full page: <code>ct.report.write_html(rep, "report.html")</code>.</p>'
            if rest
            else ""
        )
        heading = (
            f"Trust report — {html.escape(self._title())}: {len(self.metrics)} metrics, "
            f"{html.escape(self._verdict())}, {len(self.notes)} notes"
        )
        return f"<p><b>{heading}</b></p>{table}{more}"

    def __rich__(self) -> Any:
        from rich.markup import escape
        from rich.table import Table

        title = f"Trust report: {self.meta.get('spec', '')} / {self.meta.get('model', '')}"
        table = Table(title=escape(title), show_lines=False)
        for col in ("metric", "value", "95% interval", "better", "threshold", "verdict"):
            # Names and intervals are read whole; wrapping them mid-token makes the table useless.
            table.add_column(
                col, justify="right" if col == "value" else "left", no_wrap=col in ("metric", "95% interval")
            )
        for m in self.metrics:
            interval = fmt_interval(m.low, m.high)
            thr = _threshold_text(m)
            verdict = "" if m.passed is None else ("[green]pass[/]" if m.passed else "[bold red]FAIL[/]")
            table.add_row(escape(m.name), fmt_num(m.value), escape(interval), m.better, escape(thr), verdict)
        return table


def _threshold_text(m: Metric) -> str:
    if m.threshold_min is None and m.threshold_max is None:
        return ""
    lhs = "|x|" if m.better in ("zero", "informative") else "x"
    parts = []
    if m.threshold_min is not None:
        parts.append(f"{lhs} >= {fmt_num(m.threshold_min)}")
    if m.threshold_max is not None:
        parts.append(f"{lhs} <= {fmt_num(m.threshold_max)}")
    return ", ".join(parts)


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if isinstance(obj, Mapping):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # NumPy scalars
        return _json_safe(obj.item())
    return obj


_SPECIAL = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}
_FLOAT_FIELDS = {"value", "low", "high", "threshold_min", "threshold_max"}


def _from_json_safe(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {
            k: (_SPECIAL.get(v, v) if k in _FLOAT_FIELDS and isinstance(v, str) else _from_json_safe(v))
            for k, v in obj.items()
        }
    if isinstance(obj, list):
        return [_from_json_safe(v) for v in obj]
    return obj
