"""``ct.audit``: every trust objective as an interventional test of one model."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from causaltrust._version import __version__
from causaltrust.audit._context import AuditContext
from causaltrust.audit._model import ModelAdapter
from causaltrust.audit._options import AuditOptions
from causaltrust.audit._report import Metric, TrustReport, metric_info
from causaltrust.audit._worlds import UnitWorlds
from causaltrust.exceptions import DataError, SpecError, did_you_mean
from causaltrust.scm import SCM
from causaltrust.scm._data import frame_to_columns
from causaltrust.spec import TrustSpec, load_spec

__all__ = ["OBJECTIVES", "audit", "build_context"]

OBJECTIVES = ("accuracy", "fairness", "robustness", "privacy", "explainability")


FEW_UNITS = 100  # below this many test units the report says its numbers describe those units only


def build_context(
    model: Any,
    *,
    spec: TrustSpec | Mapping[str, Any] | str | os.PathLike[str],
    scm: SCM | None = None,
    data: pd.DataFrame,
    train_data: pd.DataFrame | None = None,
    scm_data: pd.DataFrame | None = None,
    random_state: int | None = 0,
    options: AuditOptions | None = None,
) -> AuditContext:
    """Validate the inputs of an audit and prepare what every metric family shares."""
    spec = load_spec(spec)
    options = options or AuditOptions()
    if random_state is not None and (
        isinstance(random_state, bool) or not isinstance(random_state, int | np.integer) or random_state < 0
    ):
        raise DataError(f"random_state: expected a non-negative integer or None, got {random_state!r}")
    seed = 0 if random_state is None else int(random_state)
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data: expected a pandas DataFrame of test units, got {type(data).__name__}")
    if len(data) < 2:
        raise DataError(f"data: an audit needs at least 2 test units, got {len(data)}")
    needed = [*spec.features, spec.target]
    missing = [c for c in needed if c not in data.columns]
    if missing:
        hints = "".join(did_you_mean(c, [str(x) for x in data.columns]) for c in missing)
        raise DataError(
            f"data: missing column(s) {missing}{hints}; an audit needs the spec's features {spec.features} "
            f"and the target {spec.target!r}"
        )
    notes: list[str] = []
    if len(data) < FEW_UNITS:
        notes.append(
            f"Only {len(data)} test units: every metric describes these units alone, and bootstrap intervals "
            f"over so few rows are unreliable (a group or class may be missing); audit at least {FEW_UNITS} "
            "units before drawing conclusions."
        )
    fitted_on = "given"
    if scm is None:
        source = scm_data if scm_data is not None else (train_data if train_data is not None else data)
        which = "scm_data" if scm_data is not None else ("train_data" if train_data is not None else "data")
        scm = SCM.fit(spec, source, random_state=seed)
        fitted_on = which
        notes.append(
            f"No SCM was given: the audit fitted one from {which} with SCM.fit (mechanisms learned from "
            "data; counterfactual metrics inherit its errors)."
        )
    if scm.provenance.get("source") == "fit":
        notes.append("SCM mechanisms: " + " · ".join(scm.provenance_notes()))
    elif not isinstance(scm, SCM):
        raise DataError(f"scm: expected a causaltrust SCM, got {type(scm).__name__}")
    if scm.spec.hash != spec.hash and set(scm.variables) != set(spec.variables):
        raise SpecError("the SCM was built for a different spec (its variables differ from the spec's)")
    # Validate every observed column once, with errors naming column and rows.
    frame_to_columns(
        data, scm.meta, [v for v in scm.observed if v in data.columns or v in needed], context="audit data"
    )
    if train_data is not None:
        if not isinstance(train_data, pd.DataFrame):
            raise DataError(f"train_data: expected a pandas DataFrame, got {type(train_data).__name__}")
        frame_to_columns(train_data, scm.meta, needed, context="audit train_data")
    task = "binary" if scm.meta[spec.target].vtype == "binary" else "regression"
    if scm.meta[spec.target].vtype == "categorical":
        raise SpecError("audits of a categorical target are not supported; use a binary or continuous target")
    adapter = ModelAdapter(model, spec.features, task)  # type: ignore[arg-type]
    worlds = UnitWorlds(scm, data, spec.features, options.n_draws, seed, options.draws_per_unit)
    ctx = AuditContext(
        model=adapter,
        spec=spec,
        scm=scm,
        data=data,
        train_data=train_data,
        random_state=seed,
        options=options,
        worlds=worlds,
        notes=notes,
        scm_fitted_on=fitted_on,
    )
    return ctx


def _family(objective: str) -> Callable[[AuditContext], list[Metric]]:
    # Imported on demand: an audit of one objective does not load the others (privacy pulls sklearn clones).
    if objective == "accuracy":
        from causaltrust.audit._accuracy import accuracy_metrics

        return accuracy_metrics
    if objective == "fairness":
        from causaltrust.audit._fairness import fairness_metrics

        return fairness_metrics
    if objective == "robustness":
        from causaltrust.audit._robustness import robustness_metrics

        return robustness_metrics
    if objective == "privacy":
        from causaltrust.audit.privacy import privacy_metrics

        return privacy_metrics
    from causaltrust.audit.explain import explain_metrics

    return explain_metrics


def audit(
    model: Any,
    *,
    spec: TrustSpec | Mapping[str, Any] | str | os.PathLike[str],
    scm: SCM | None = None,
    data: pd.DataFrame,
    train_data: pd.DataFrame | None = None,
    scm_data: pd.DataFrame | None = None,
    objectives: Sequence[str] | None = None,
    random_state: int | None = 0,
    options: AuditOptions | None = None,
    n_bootstrap: int | None = None,
    n_draws: int | None = None,
    n_shadow: int | None = None,
    recourse_units: int | None = None,
    shift_n: int | None = None,
    shadow_rows: int | None = None,
    unit_draws: int | None = None,
) -> TrustReport:
    """Audit ``model`` for accuracy, fairness, robustness, privacy and explainability.

    Each objective is an invariance test under the spec's interventions, on the test units themselves
    (counterfactuals through ``scm``) or on data sampled from the spec's shifts.

    Parameters
    ----------
    model : estimator or callable
        Anything with ``predict_proba`` or ``predict`` over a DataFrame of ``spec.features``, or a function
        ``f(DataFrame) -> array``.
    spec : TrustSpec, dict or path
        The trust spec (paths, shifts, thresholds).
    scm : SCM, optional
        The causal model. When omitted, one is fitted with :meth:`SCM.fit` (from ``scm_data``, else
        ``train_data``, else ``data``) and the report says so.
    data : DataFrame
        Test units: the spec's features and target.
    train_data : DataFrame, optional
        The model's training rows (membership-inference metrics need them).
    objectives : list of str, optional
        Subset of ``accuracy, fairness, robustness, privacy, explainability`` (default: every objective
        the spec supports).
    random_state : int
        Seed of every random choice (abduction draws, bootstrap, shadow models).
    options : AuditOptions, optional
        Every setting below in one object (``ct.audit.AuditOptions(n_bootstrap=20, ...)``): the route the
        CLI and ``ct.bench.run`` use. The keywords below are a shorthand for it; giving both is refused.
    n_bootstrap, n_draws, n_shadow, recourse_units, shift_n, shadow_rows : int, optional
        Bootstrap resamples (default 200), counterfactual draws per unit (1), shadow models (8), rejected
        units given recourse (200), rows sampled per shift (as many as ``data``), members (and as many
        non-members) pooled for the shadow attack (the training size).
    unit_draws : int, optional
        Posterior draws per unit of the per-unit metrics (``*_abs``, ``*_p95``) when their noise is not
        integrated exactly; default ``max(64, n_draws)``. The cost of an audit against a boosted SCM grows
        with it (German, ERM: 241 s at 64 draws vs 4 s against a linear SCM), so fewer draws trade
        per-unit precision for time; the report's meta records the number used.

    Returns
    -------
    TrustReport

    Examples
    --------
    >>> import causaltrust as ct
    >>> from sklearn.linear_model import LogisticRegression
    >>> spec, scm = ct.scenarios.load("readmission")
    >>> train, test = scm.sample(2000, random_state=1), scm.sample(1000, random_state=2)
    >>> model = LogisticRegression().fit(train[spec.features], train[spec.target])
    >>> rep = ct.audit(model, spec=spec, scm=scm, data=test, train_data=train,
    ...                objectives=["accuracy", "fairness"], n_bootstrap=20)
    >>> round(rep.metric("accuracy.observational").value, 2) > 0.6
    True
    """
    options = AuditOptions.resolve(
        options,
        n_bootstrap=n_bootstrap,
        n_draws=n_draws,
        n_shadow=n_shadow,
        recourse_units=recourse_units,
        shift_n=shift_n,
        shadow_rows=shadow_rows,
        unit_draws=unit_draws,
    )
    spec = load_spec(spec)
    chosen = _objectives(spec, objectives)
    ctx = build_context(
        model,
        spec=spec,
        scm=scm,
        data=data,
        train_data=train_data,
        scm_data=scm_data,
        random_state=random_state,
        options=options,
    )
    for name in spec.thresholds:
        metric_info(name)  # unknown metric names in thresholds fail loudly
    metrics: list[Metric] = []
    seconds: dict[str, float] = {}
    for objective in chosen:
        t0 = time.perf_counter()
        metrics.extend(ctx.batched(_family(objective)))
        seconds[objective] = round(time.perf_counter() - t0, 3)
    meta = {
        "spec": spec.name,
        "spec_hash": spec.hash,
        "model": ctx.model.name,
        "n_test": len(data),
        "n_train": None if train_data is None else len(train_data),
        "scm": ctx.scm.provenance.get("source", "given"),
        "scm_fitted_on": ctx.scm_fitted_on,
        "objectives": list(chosen),
        "random_state": ctx.random_state,
        "n_bootstrap": options.n_bootstrap,
        "n_draws": options.n_draws,
        "unit_draws": options.draws_per_unit,
        "seconds": seconds,  # wall time of each objective's metrics (profiles of long sweeps read it)
    }
    meta.update(ctx.extras)
    meta["causaltrust_version"] = __version__
    return TrustReport(tuple(metrics), tuple(ctx.notes), meta)


def _objectives(spec: TrustSpec, objectives: Sequence[str] | None) -> list[str]:
    if objectives is None:
        chosen = ["accuracy", "privacy", "explainability"]
        if spec.fairness is not None:
            chosen.insert(1, "fairness")
        if spec.robustness is not None:
            chosen.insert(2 if spec.fairness is not None else 1, "robustness")
        return chosen
    if isinstance(objectives, str):
        objectives = [objectives]
    bad = [o for o in objectives if o not in OBJECTIVES]
    if bad:
        hints = "".join(did_you_mean(o, OBJECTIVES) for o in bad)
        raise SpecError(f"unknown objective(s) {bad}{hints}; choose from {list(OBJECTIVES)}")
    return [o for o in OBJECTIVES if o in objectives]
