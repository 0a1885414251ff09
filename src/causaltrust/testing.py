"""Trust checks for your own test suite (pytest or any runner that treats AssertionError as failure).

>>> import causaltrust as ct
>>> from causaltrust.testing import assert_invariant
>>> spec, scm = ct.scenarios.load("readmission")
>>> test = scm.sample(2000, random_state=2)
>>> blind = lambda df: 0.0 * df["F"].to_numpy() + 0.5   # a constant score: blind to A by design
>>> report = assert_invariant(blind, spec, scm, objective="fairness", data=test, tol=0.01)  # holds
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pandas as pd

from causaltrust.audit import TrustReport, audit
from causaltrust.scm import SCM
from causaltrust.spec import TrustSpec, load_spec

__all__ = ["INVARIANCE_METRICS", "assert_invariant", "assert_thresholds"]

# The metric each invariance objective is tested on: an effect that must be (close to) zero.
# Counterfactual fairness (Kusner et al.) is a statement about individuals, so it is judged on the per-unit
# form: the 95th percentile over units of each unit's posterior mean |change| (a signed mean can cancel).
INVARIANCE_METRICS: dict[str, str] = {
    "fairness": "fairness.unfair_path_effect",
    "counterfactual_fairness": "fairness.counterfactual_effect_p95",
    "robustness": "robustness.spurious_path_effect",
    "robustness_adapted": "robustness.spurious_path_effect_adapted",
    "explainability": "explainability.irrelevant_invariance",
}
_AUDIT_OBJECTIVE = {
    "fairness": "fairness",
    "counterfactual_fairness": "fairness",
    "robustness": "robustness",
    "robustness_adapted": "robustness",
    "explainability": "explainability",
}


def assert_invariant(
    model: Any,
    spec: TrustSpec | Mapping[str, Any] | str | os.PathLike[str],
    scm: SCM | None = None,
    *,
    objective: str = "fairness",
    data: pd.DataFrame | None = None,
    tol: float = 0.02,
    n: int = 5_000,
    random_state: int = 0,
    use_interval: bool = True,
) -> TrustReport:
    """Fail (AssertionError) unless the model is invariant for ``objective`` within ``tol``.

    ``fairness``: |unfair-path effect| on the prediction (a mean over units); ``counterfactual_fairness``:
    per unit, the posterior mean |change| of the prediction when the protected attribute is set on every
    path, and its 95th percentile over units must be within ``tol`` (an individual criterion: a model whose
    effect changes sign across units fails even when the mean change is 0); ``robustness``: spurious-path
    effect with no target data; ``robustness_adapted``: the same after the model adapts on an unlabeled
    sample of each shift (fails for a model that cannot adapt); ``explainability``: output change under the
    spec's irrelevant variables. With ``use_interval`` the whole 95% interval must lie within ``±tol`` (a
    claim, not a point estimate). Test units are ``data``, or ``n`` units sampled from ``scm``.
    Returns the report so further checks can read it.
    """
    if objective not in INVARIANCE_METRICS:
        raise ValueError(f"objective must be one of {sorted(INVARIANCE_METRICS)}, got {objective!r}")
    spec = load_spec(spec)
    if data is None:
        if scm is None:
            raise ValueError("give test data, or an SCM to sample it from")
        data = scm.sample(n, random_state=random_state)
    report = audit(
        model, spec=spec, scm=scm, data=data, objectives=[_AUDIT_OBJECTIVE[objective]],
        random_state=random_state, n_bootstrap=200,
    )  # fmt: skip
    name = INVARIANCE_METRICS[objective]
    if name not in report:
        raise AssertionError(f"{name} was not measured: {' '.join(report.notes) or 'see the spec'}")
    m = report.metric(name)
    if m.value != m.value:  # NaN: e.g. robustness_adapted for a model that cannot use unlabeled rows
        raise AssertionError(f"{name} is not applicable to this model: {m.method}")
    worst = max(abs(m.value), *(abs(x) for x in (m.interval or ()))) if use_interval else abs(m.value)
    if not worst <= tol:
        interval = f" (95% interval [{m.low:.4f}, {m.high:.4f}])" if m.interval else ""
        raise AssertionError(
            f"{objective} invariance violated: {name} = {m.value:.4f}{interval}, tolerance ±{tol}"
        )
    return report


def assert_thresholds(report: TrustReport) -> None:
    """Fail unless every metric with a spec threshold passed."""
    failures = report.failures()
    if failures:
        lines = [f"{m.name} = {m.value:.4f} (min {m.threshold_min}, max {m.threshold_max})" for m in failures]
        raise AssertionError("trust thresholds failed:\n  " + "\n  ".join(lines))
