"""Audits of a sweep on real data that do not grade a method with its own model class (issue 32).

On real data there is no true SCM: the audit's reference SCM is fitted on held-out rows, and a method
that learned an SCM of the same class (a linear one, say) is then graded by a model that shares its
misspecification. By default a sweep on data therefore audits with the *other* class (:data:`OTHER_CLASS`)
and adds a check that uses no SCM at all: the cross-fitted doubly robust decomposition
(:func:`causaltrust.decompose_disparity`) of each model's predictions on the test rows, recorded as the
``dr.*`` metrics beside the SCM audit's ``fairness.*`` ones.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from causaltrust.spec import TrustSpec

__all__ = ["DR_METRICS", "OTHER_CLASS", "audit_label", "default_audit_mechanisms", "dr_check"]

# The reference class a sweep on data audits with when the user names none: the class the methods'
# SCMs do not use. "auto" picks linear or boosted per node by CV; its partner is the boosted class (the
# flexible one), which is cross-class only at the nodes where "auto" chose a linear model (a note says so).
OTHER_CLASS = {"linear": "gbm", "gbm": "linear", "auto": "gbm"}

# The model-free check's metrics and their direction (as the ledger records them).
DR_METRICS = {"dr.tv": "informative", "dr.ctf_de": "zero", "dr.ctf_ie": "informative",
              "dr.ctf_se": "informative", "dr.clipped": "lower"}  # fmt: skip


def default_audit_mechanisms(scm_mechanisms: str) -> str:
    """The audit's reference class on data when none is given: the other class than ``scm_mechanisms``.

    Examples
    --------
    >>> default_audit_mechanisms("linear"), default_audit_mechanisms("gbm")
    ('gbm', 'linear')
    """
    return OTHER_CLASS[scm_mechanisms]


def audit_label(settings_json: str | None) -> str:
    """Which audit a cell's counterfactual (``fairness.*``) metrics come from, in words.

    Examples
    --------
    >>> audit_label('{"scm_mechanisms": "linear", "audit_mechanisms": "gbm", "dr_check": false}')
    "reference SCM mechanisms='gbm' fitted on held-out rows (cross-class: methods learn 'linear')"
    >>> audit_label('{"n_train": 1000}')
    'true SCM (simulated)'
    """
    settings = json.loads(settings_json) if settings_json else {}
    if "scm_mechanisms" not in settings:
        return "true SCM (simulated)"
    learned = settings["scm_mechanisms"]
    audit = settings.get("audit_mechanisms", learned)
    relation = "cross-class" if audit != learned else "same class"
    text = (
        f"reference SCM mechanisms={audit!r} fitted on held-out rows ({relation}: methods learn {learned!r})"
    )
    return text + ("; dr.*: model-free DR" if settings.get("dr_check") else "")


def _inputs(model: Any, spec: TrustSpec) -> list[str]:
    """The columns a fitted model reads: its design's features when it says, else every spec feature."""
    design = getattr(model, "design_", None)
    features = getattr(design, "features", None)
    if isinstance(features, list | tuple) and features and set(features) <= set(spec.features):
        return [str(f) for f in features]
    inputs = getattr(model, "inputs_", None)
    if isinstance(inputs, list | tuple) and inputs and set(inputs) <= set(spec.features):
        return [str(f) for f in inputs]
    return list(spec.features)


def _prediction(model: Any, spec: TrustSpec, X: pd.DataFrame) -> np.ndarray | None:
    if spec.variables[spec.target].type == "continuous":
        return np.asarray(model.predict(X), dtype=float)
    proba = np.asarray(model.predict_proba(X), dtype=float)
    if proba.ndim != 2 or proba.shape[1] != 2:
        return None
    return proba[:, 1]


def dr_check(
    model: Any, spec: TrustSpec, test: pd.DataFrame, *, random_state: int, n_boot: int
) -> tuple[list[dict[str, Any]], list[str]]:
    """The cross-fitted DR decomposition of a fitted model's predictions on ``test``, as ledger metrics.

    The outcome is the model's probability of the positive class (its prediction for a continuous
    target); its parents are the columns the model reads, so a model that does not read the protected
    attribute gets ctf-DE = 0 exactly, with the reason in a note.

    Returns
    -------
    metrics : list of dict
        ``name, value, low, high, better, passed`` (``passed`` is None: the check has no threshold):
        ``dr.tv``, ``dr.ctf_de``, ``dr.ctf_ie``, ``dr.ctf_se`` and ``dr.clipped`` (the share of units
        with a clipped propensity), qualified by ``[level]`` for a protected attribute with several
        levels.
    notes : list of str
        What the check is, its exact zeros (with the reason) and its warnings.
    """
    from causaltrust.decompose import decompose_disparity

    if spec.fairness is None or spec.fairness.protected is None:
        return [], []
    pred = _prediction(model, spec, test[spec.features])
    if pred is None:
        return [], ["DR check skipped: the target has more than two classes (no single probability)."]
    name = "prediction"
    while name in spec.variables or name in test.columns:
        name = f"_{name}"
    rows = test.assign(**{name: pred})
    inputs = _inputs(model, spec)
    dec = decompose_disparity(
        spec, data=rows, outcome=name, outcome_parents=inputs, method="dr", random_state=random_state,
        n_boot=max(int(n_boot), 10),
    )  # fmt: skip
    several = len(dec.levels) > 1
    metrics: list[dict[str, Any]] = []
    notes = [
        f"DR check (dr.*): the cross-fitted doubly robust decomposition of the model's predictions on the "
        f"{len(test)} test rows (Plečko-Bareinboim x-specific terms, x0 = {dec.baseline!r}); no SCM is "
        f"used, only the graph's confounder/mediator sets. {dec.interval}"
    ]
    for lv in dec.levels:
        q = f"[{lv.value}]" if several else ""
        for term, est in (("tv", lv.tv), ("ctf_de", lv.de), ("ctf_ie", lv.ie), ("ctf_se", lv.se)):
            better = DR_METRICS[f"dr.{term}"]
            metrics.append({"name": f"dr.{term}{q}", "value": float(est.value), "low": float(est.low),
                            "high": float(est.high), "better": better, "passed": None})  # fmt: skip
        metrics.append({"name": f"dr.clipped{q}", "value": float(lv.clipped), "low": None, "high": None,
                        "better": "lower", "passed": None})  # fmt: skip
    notes.extend(f"DR check: {n}" for n in dec.notes)
    return metrics, notes
