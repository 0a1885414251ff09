"""Reading the Standard Fairness Model off a spec: the outcome's covariates, split into Z and W."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from causaltrust.exceptions import DataError, SpecError
from causaltrust.graph import CausalGraph
from causaltrust.spec import TrustSpec

__all__ = ["Structure", "contrasts", "structure"]


@dataclass(frozen=True)
class Structure:
    """What the estimators need from the graph."""

    spec: TrustSpec
    protected: str
    baseline: Any
    outcome: str
    outside: bool  # the outcome is a column outside the spec
    outcome_parents: tuple[str, ...]  # for an outside outcome
    confounders: tuple[str, ...]  # Z: covariates that are not descendants of the protected attribute
    mediators: tuple[str, ...]  # W: covariates that are
    binary_outcome: bool
    notes: tuple[str, ...]

    @property
    def covariates(self) -> tuple[str, ...]:
        return self.confounders + self.mediators


def structure(
    spec: TrustSpec, data: pd.DataFrame, outcome: str, outcome_parents: Sequence[str] | None
) -> Structure:
    """Validate the request and read Z, W off the graph (with an outside outcome added as a node)."""
    if spec.fairness is None:
        raise SpecError(
            "the spec has no 'fairness' section, so there is no protected attribute to decompose by; "
            "add fairness: {protected: <variable>, baseline: <x0>}"
        )
    a = spec.fairness.protected
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if not isinstance(outcome, str) or not outcome:
        raise DataError(f"outcome must be a column name, got {outcome!r}")
    if outcome == a:
        raise DataError(
            f"outcome {outcome!r} is the protected attribute; decompose a different column (an outcome, "
            "a decision or a score) by it"
        )
    if outcome not in data.columns:
        raise DataError(
            f"outcome {outcome!r} is not a column of the data "
            f"(columns: {', '.join(map(str, data.columns))}); "
            "for a derived outcome such as decile_score > 4 add it first: "
            "df['high_risk'] = (df['decile_score'] > 4).astype(int)"
        )
    parents = dict(spec.graph_parents)
    observed = set(spec.observed)
    outside = outcome not in spec.variables
    if outside:
        if outcome_parents is None:
            pas = tuple(v for v in spec.observed if v != spec.target)
        else:
            if isinstance(outcome_parents, str):
                raise SpecError(f"outcome_parents must be a list of variable names, got {outcome_parents!r}")
            pas = tuple(outcome_parents)
            bad = [p for p in pas if p not in observed]
            if bad:
                raise SpecError(
                    f"outcome_parents {bad} are not observed variables of the spec "
                    f"(observed: {', '.join(spec.observed)})"
                )
        parents[outcome] = pas
    else:
        if outcome_parents is not None:
            raise SpecError(
                f"outcome {outcome!r} is a spec variable, whose parents come from the spec; "
                "outcome_parents= is only for a column outside the spec"
            )
        if outcome not in observed:
            raise DataError(f"outcome {outcome!r} is latent (observed: false) in the spec; it has no data")
        pas = ()
    graph = CausalGraph(parents=parents, target=outcome)
    anc = graph.ancestors(outcome)
    below = graph.descendants(outcome) | {outcome}
    latent_anc = [v for v in spec.latent if v in anc]
    # A latent ancestor is represented by its observed children (measurements, proxies) that are not
    # downstream of the outcome: conditioning on them stands in for conditioning on it.
    proxies = {c for lat in latent_anc for c in graph.children(lat) if c in observed and c not in below}
    cov = [v for v in spec.variables if v in observed and v != a and (v in anc or v in proxies)]
    desc_a = graph.descendants(a)
    z = tuple(v for v in cov if v not in desc_a)
    w = tuple(v for v in cov if v in desc_a)
    notes = []
    for lat in latent_anc:
        if lat in desc_a and not any(c in proxies for c in graph.children(lat)):
            notes.append(
                f"latent {lat!r} lies between {a!r} and {outcome!r} and has no observed child: the doubly "
                "robust estimate counts its part of the disparity as direct"
            )
    if a not in anc:
        notes.append(f"{a!r} is not an ancestor of {outcome!r} in the graph: the model implies DE = IE = 0")
    need = [a, outcome, *cov]
    missing = [c for c in need if c not in data.columns]
    if missing:
        raise DataError(f"data lacks columns {missing} needed to decompose {outcome!r}; add them")
    nan = [c for c in need if data[c].isna().any()]
    if nan:
        raise DataError(f"columns {nan} have missing values; drop or impute those rows first")
    y = data[outcome]
    if not (pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y)):
        raise DataError(
            f"outcome {outcome!r} must be numeric or 0/1 (got dtype {y.dtype}); encode it, e.g. "
            f"(df[{outcome!r}] == 'yes').astype(int)"
        )
    vals = np.unique(y.to_numpy(dtype=np.float64))
    binary = bool(np.isin(vals, [0.0, 1.0]).all())
    return Structure(spec, a, spec.fairness.baseline, outcome, outside, pas, z, w, binary, tuple(notes))


def _same(a: Any, b: Any) -> bool:
    if a == b:
        return True
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a) == str(b)


def contrasts(
    st: Structure, data: pd.DataFrame, value: Any
) -> tuple[Any, np.ndarray, list[tuple[Any, np.ndarray]]]:
    """``(x0, at_x0, [(x1, at_x1), ...])``: the baseline, its rows and the rows of each compared level."""
    col = data[st.protected]
    var = st.spec.variables[st.protected]
    declared: list[Any] = (
        list(var.categories) if var.categories else [0, 1] if var.type == "binary" else list(pd.unique(col))
    )
    # Levels the spec does not declare (other races in a two-level spec) are left out of every contrast.
    present = [lv for lv in pd.unique(col) if any(_same(lv, d) for d in declared)]
    base = next((lv for lv in present if _same(lv, st.baseline)), None)
    if base is None:
        raise DataError(
            f"no rows of the data have {st.protected} = {st.baseline!r} (fairness.baseline); levels present: "
            f"{sorted(map(str, present))}"
        )
    at_x0 = (col == base).to_numpy()
    if value is not None:
        hit = next((lv for lv in present if _same(lv, value)), None)
        if hit is None or _same(hit, base):
            why = "is the baseline" if hit is not None else "has no rows in the data"
            raise DataError(
                f"value {value!r} of {st.protected!r} {why}; compare the baseline {st.baseline!r} "
                "with one of "
                f"{sorted(str(lv) for lv in present if not _same(lv, base))}"
            )
        levels = [hit]
    else:
        order = {str(d): i for i, d in enumerate(declared)}
        levels = sorted(
            (lv for lv in present if not _same(lv, base)), key=lambda v: order.get(str(v), len(order))
        )
        if not levels:
            raise DataError(
                f"every row has {st.protected} = {st.baseline!r}: there is no disparity to decompose"
            )
    out = []
    for lv in levels:
        at = (col == lv).to_numpy()
        if at.sum() < 2 or at_x0.sum() < 2:
            raise DataError(
                f"{st.protected} = {lv!r} has {int(at.sum())} row(s) and the baseline {int(at_x0.sum())}; "
                "each group needs at least 2"
            )
        out.append((lv, at))
    return base, at_x0, out
