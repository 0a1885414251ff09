"""``ct.sensitivity``: which audit conclusions rest on which graph assumption.

The model stays fixed. The base SCM is fitted on ``data`` from the spec as written; per edit the spec is
edited, the SCM refitted on the same rows and the audit re-run on the same units with the same seed, so a
change is due to the edit alone.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from causaltrust.audit import AuditOptions, TrustReport, audit
from causaltrust.exceptions import CausalTrustError
from causaltrust.scm import SCM
from causaltrust.sensitivity._edits import apply_edit, default_edits, describe_edit
from causaltrust.spec import TrustSpec, load_spec

__all__ = ["SENSITIVITY_COLUMNS", "sensitivity"]

SENSITIVITY_COLUMNS = [
    "edit",
    "metric",
    "base",
    "edited",
    "change",
    "base_passed",
    "edited_passed",
    "flipped",
    "reason",
    "notes",
]


def _audit(
    model: Any,
    spec: TrustSpec,
    data: pd.DataFrame,
    fit_data: pd.DataFrame,
    objectives: Sequence[str],
    mechanisms: str,
    random_state: int | None,
    n_bootstrap: int,
) -> TrustReport:
    scm = SCM.fit(spec, fit_data, mechanisms=mechanisms, random_state=random_state)
    return audit(
        model, spec=spec, scm=scm, data=data, objectives=list(objectives), random_state=random_state,
        options=AuditOptions(n_bootstrap=n_bootstrap),
    )  # fmt: skip


def sensitivity(
    model: Any,
    *,
    spec: TrustSpec | Mapping[str, Any] | str | os.PathLike[str],
    data: pd.DataFrame,
    edits: Sequence[Mapping[str, Any]] | None = None,
    scm_data: pd.DataFrame | None = None,
    objectives: Sequence[str] | None = None,
    mechanisms: str = "auto",
    random_state: int | None = 0,
    n_bootstrap: int = 50,
) -> pd.DataFrame:
    """Re-run the audit of a fixed model under edits of the causal graph.

    Parameters
    ----------
    model : estimator or callable
        The audited model (not refitted).
    spec : TrustSpec, dict or path
    data : DataFrame
        The audit's test units; also the rows the SCM is fitted on unless ``scm_data`` is given.
    edits : list of dict, optional
        ``{"op": "drop_edge" | "add_edge", "edge": [u, v]}``, ``{"op": "set_role", "path": [...], "role":
        "unfair" | "fair" | "spurious" | "contextual"}``, ``{"op": "unmeasure", "variable": M}`` (drop M's
        ``measures:`` assumption). Default: every single-edge drop and add around the protected attribute
        and the environment (:func:`default_edits`).
    scm_data : DataFrame, optional
        Rows to fit the SCMs on (default ``data``).
    objectives : list of str, optional
        Audit objectives (default: fairness, and robustness when the spec has an environment).
    mechanisms : {"auto", "linear"}
        Passed to :meth:`SCM.fit` for the base and every edited SCM.
    random_state : int
        One seed for every fit and audit, so base and edited runs share their random streams.
    n_bootstrap : int
        Bootstrap resamples per metric interval in each audit.

    Returns
    -------
    pandas.DataFrame
        One row per edit and metric: ``edit, metric, base, edited, change`` (edited − base), whether the
        spec's threshold passed before and after and whether that ``flipped``, and ``notes`` on what else the
        edit changed. An edit the data cannot identify (its refit or audit fails) is one row with ``metric``
        empty and the ``reason``, not an error.

    Raises
    ------
    SpecError
        A malformed edit (unknown op or variable, dropping an edge that does not exist).

    Examples
    --------
    >>> import causaltrust as ct
    >>> from sklearn.linear_model import LogisticRegression
    >>> spec, scm = ct.scenarios.load("readmission")
    >>> df = scm.sample(1_000, random_state=0)
    >>> clf = LogisticRegression().fit(df[spec.features], df[spec.target])
    >>> sens = ct.sensitivity(clf, spec=spec, data=df, edits=[{"op": "drop_edge", "edge": ["A", "Z"]}],
    ...                       objectives=["fairness"], mechanisms="linear", n_bootstrap=10)
    >>> sens.loc[sens.metric == "fairness.unfair_path_effect", "edit"].tolist()
    ['drop A->Z']
    """
    ts = load_spec(spec)
    if objectives is None:
        sections = (("fairness", ts.fairness), ("robustness", ts.robustness))
        objectives = [o for o, on in sections if on is not None]
    fit_data = data if scm_data is None else scm_data
    chosen = default_edits(ts) if edits is None else [dict(e) for e in edits]
    prepared = [(e, *apply_edit(ts, e)) for e in chosen]  # malformed edits fail here, before any fit
    base = _audit(model, ts, data, fit_data, objectives, mechanisms, random_state, n_bootstrap)
    base_metrics = {m.name: m for m in base.metrics}
    rows: list[dict[str, Any]] = []
    for edit, edited_dict, notes in prepared:
        label = describe_edit(edit)
        note = "; ".join(notes)
        try:
            edited_spec = load_spec(edited_dict)
            rep = _audit(
                model, edited_spec, data, fit_data, objectives, mechanisms, random_state, n_bootstrap
            )
        except CausalTrustError as exc:
            rows.append(
                {"edit": label, "metric": "", "base": np.nan, "edited": np.nan, "change": np.nan,
                 "base_passed": None, "edited_passed": None, "flipped": False, "reason": str(exc),
                 "notes": note}
            )  # fmt: skip
            continue
        edited_metrics = {m.name: m for m in rep.metrics}
        for name, bm in base_metrics.items():
            em = edited_metrics.get(name)
            ev = np.nan if em is None else em.value
            e_pass = None if em is None else em.passed
            rows.append(
                {"edit": label, "metric": name, "base": bm.value, "edited": ev, "change": ev - bm.value,
                 "base_passed": bm.passed, "edited_passed": e_pass,
                 "flipped": bm.passed is not None and e_pass is not None and bm.passed != e_pass,
                 "reason": "" if em is not None else "metric not computed under the edited spec",
                 "notes": note}
            )  # fmt: skip
    frame = pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS)
    frame.attrs["spec"] = ts.name
    frame.attrs["objectives"] = list(objectives)
    return frame
