"""Kusner et al.'s level 2 ("Fair K"): a model on the posterior of latent factors and non-descendants of A.

Level 2 postulates latent background variables K that are not descendants of the protected attribute A, with
observed indicators that may depend on K and on A. A predictor that uses only the posterior of K given each
unit's observed indicators and A (plus the observed non-descendants of A) is counterfactually fair: K's
posterior given the factual data is the same in every counterfactual world of that unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from causaltrust import _dag
from causaltrust.exceptions import IdentificationError, SpecError
from causaltrust.scm import SCM, FactorMechanism, latent_posterior

# factor_columns and require_factor serve the learners' level=2 inside this package; not re-exported.
__all__ = ["level2_design"]

Array = np.ndarray


def require_factor(spec: Any, name: str) -> None:
    """SpecError unless ``spec`` declares a latent factor (a latent variable with ``indicators:``).

    Raised before any SCM is fitted, by the learners' ``level=2``.
    """
    if not any(spec.indicators(v) for v in spec.latent):
        raise SpecError(
            f"{name}(level=2) predicts from the posterior of latent factors (Kusner's Fair K), which needs a "
            "latent variable with indicators in the spec (K: {observed: false, indicators: [...]}); this "
            "spec has none. Add one, or use level=3 (the abducted noise of the protected attributes' "
            "descendants)"
        )


def _protected_list(spec: Any, protected: str | Sequence[str] | None) -> list[str]:
    given = protected if protected is not None else spec.protected
    if given is None:
        raise SpecError(
            "level2_design: the spec has no fairness.protected; name the protected attribute: protected=..."
        )
    attrs = [given] if isinstance(given, str) else list(given)
    unknown = [a for a in attrs if a not in spec.variables]
    if unknown:
        raise SpecError(f"level2_design: protected {unknown} are not variables of the spec")
    return attrs


def factor_columns(
    scm: SCM, data: pd.DataFrame, *, protected: str | Sequence[str] | None = None
) -> tuple[Array, list[str]]:
    """Each latent factor's posterior mean per row of ``data`` (``(n, n_factors)``) and the factors' names.

    The first block of :func:`level2_design`, with its checks (no factor: SpecError; a factor that descends
    from a protected attribute: IdentificationError). The target column, if present, is dropped first.
    """
    spec = scm.spec
    attrs = _protected_list(spec, protected)
    factors = [v for v in scm.latent if isinstance(scm.mechanisms[v], FactorMechanism)]
    if not factors:
        raise SpecError(
            "level2_design: the SCM has no fitted latent factor; declare 'indicators:' on a latent "
            "('observed: false') variable and fit the SCM with ct.SCM.fit"
        )
    desc = _dag.descendants(scm.parents, attrs)
    bad = [k for k in factors if k in desc]
    if bad:
        raise IdentificationError(
            f"level2_design: the latent factors {bad} are descendants of the protected {attrs}; "
            "Kusner's level 2 needs latent background variables that A does not cause"
        )
    units = data.drop(columns=[spec.target]) if spec.target in data.columns else data
    out = np.empty((len(data), len(factors)))
    for j, k in enumerate(factors):
        out[:, j] = latent_posterior(scm, units, k)["mean"].to_numpy(dtype=np.float64)
    return out, factors


def level2_design(
    scm: SCM, data: pd.DataFrame, *, protected: str | Sequence[str] | None = None
) -> pd.DataFrame:
    """The level-2 design: each latent factor's posterior mean, then the features not descended from A.

    Parameters
    ----------
    scm : SCM
        Fitted by :meth:`SCM.fit` from a spec with at least one latent factor (``indicators:``) that is not
        a descendant of the protected attribute.
    data : DataFrame
        The units (the spec's features; the target column, if present, is ignored: the posterior rests on
        the indicators among the features, so training and prediction designs are the same function of the
        features).
    protected : str or list of str, optional
        The protected attribute(s) (default: the spec's ``fairness.protected``); Kusner et al. protect race
        and sex together on law school.

    Returns
    -------
    DataFrame
        One column per latent factor (its posterior mean, named after it) followed by the spec's features
        that are neither protected nor descendants of a protected attribute, as they are in ``data``
        (categorical ones keep their values: encode them for the model), indexed like ``data``.

    Raises
    ------
    SpecError
        No protected attribute, or no fitted latent factor.
    IdentificationError
        A latent factor is a descendant of the protected attribute (its posterior would carry A's effect).

    Examples
    --------
    >>> import causaltrust as ct
    >>> from causaltrust.learners import level2_design
    >>> spec = ct.load_spec({"target": "Y", "fairness": {"protected": "A"}, "variables": {
    ...     "A": {"type": "binary", "equation": "bernoulli(0.5)"},
    ...     "K": {"type": "continuous", "observed": False, "equation": "normal(0, 1)",
    ...           "indicators": ["X1", "X2", "X3"]},
    ...     "X1": {"type": "continuous", "equation": "K + A + normal(0, 0.5)"},
    ...     "X2": {"type": "continuous", "equation": "0.8*K - A + normal(0, 0.5)"},
    ...     "X3": {"type": "binary", "equation": "bernoulli(sigmoid(1.5*K))"},
    ...     "Y": {"type": "continuous", "equation": "X1 + normal(0, 1)"}}})
    >>> df = ct.SCM.from_spec(spec).sample(2_000, random_state=0)
    >>> scm = ct.SCM.fit(spec.structure(), df.drop(columns="K"), mechanisms="linear", random_state=0)
    >>> list(level2_design(scm, df.head(3)).columns)  # X3 is no descendant of A: kept beside K
    ['K', 'X3']
    """
    spec = scm.spec
    means, factors = factor_columns(scm, data, protected=protected)
    attrs = _protected_list(spec, protected)
    desc = _dag.descendants(scm.parents, attrs)
    cols: dict[str, Any] = {k: means[:, j] for j, k in enumerate(factors)}
    for f in spec.features:
        if f not in attrs and f not in desc:
            cols[f] = data[f].to_numpy()
    return pd.DataFrame(cols, index=data.index)
