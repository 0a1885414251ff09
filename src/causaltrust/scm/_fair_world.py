"""Fair-world labels: each unit's target with A at its baseline along the unfair paths."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from causaltrust import _dag
from causaltrust.exceptions import DataError, SpecError
from causaltrust.scm._data import value_to_internal
from causaltrust.scm._model import SCM
from causaltrust.scm._paths import MultiPathWorld

__all__ = ["fair_world_labels"]

Array = np.ndarray


def fair_world_labels(
    scm: SCM,
    data: pd.DataFrame | Mapping[str, Array],
    *,
    n_draws: int = 1,
    random_state: int | np.random.Generator | None = None,
    expected: bool = False,
) -> Array:
    """The fair-world target of each unit: its path counterfactual with A at ``fairness.baseline`` along
    the spec's unfair paths (DESIGN.md "Fair world"), every other path keeping the unit's factual A.

    Parameters
    ----------
    scm : SCM
        The model (its spec names the protected attribute, baseline and unfair paths).
    data : DataFrame or mapping
        The units with the target and its observed causes (internal columns from :meth:`SCM.columns` are
        accepted, then already repeated ``n_draws`` times).
    n_draws : int
        Abduction draws per unit; the result has ``n_units * n_draws`` values, unit-major.
    random_state : int, Generator or None
        Seed (or generator) of the abduction.
    expected : bool
        For a binary target, return the probability that the fair-world label is 1 with the target's own
        noise integrated out exactly over its posterior (the Bernoulli coupling) instead of a draw of it.
        Noise of discrete variables between A and the target is still one posterior draw per row, so
        averaging over ``n_draws`` rows of a unit gives its posterior probability.

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, scm = ct.scenarios.load("readmission")
    >>> df = scm.sample(1000, random_state=0).drop(columns="L")
    >>> y_fw = ct.scm.fair_world_labels(scm, df, random_state=0)
    >>> y_fw.shape
    (1000,)
    """
    spec = scm.spec
    if spec.fairness is None:
        raise SpecError("fair-world labels need a 'fairness' section (protected attribute and unfair paths)")
    a, target = spec.fairness.protected, spec.target
    if target not in data:
        raise DataError(f"fair-world labels need the observed target {target!r} in the data")
    desc = _dag.descendants(scm.parents, [a])
    active = scm.full_paths(spec.unfair_paths(), a, target)
    if target not in desc or not active:  # nothing to block: the fair world is the factual one
        return np.asarray(scm.abduct(data, [], n_draws=n_draws).columns[target], dtype=np.float64)
    causes = _dag.ancestors(scm.parents, [target])
    missing = [v for v in scm.observed if v in causes and v not in data]
    if missing:
        raise DataError(f"fair-world labels need the target's observed causes {missing} among the features")
    binary = scm.meta[target].vtype == "binary"
    nodes = [v for v in scm.order if v in desc and v in causes]
    if not (expected and binary):
        nodes.append(target)
    ab = scm.abduct(data, nodes, random_state=random_state, n_draws=n_draws)
    y = np.asarray(ab.columns[target], dtype=np.float64)
    n = ab.n
    base = value_to_internal(spec.fairness.baseline, scm.meta[a], n, "fairness.baseline")
    world = MultiPathWorld(scm.parents, scm.mechanisms, ab.noise, ab.columns, {a: (base, None)}, n)
    env_cf = world.into(target, [active])
    mech = scm.mechanisms[target]
    if expected and binary:
        p_f = mech.mean({p: ab.columns[p] for p in scm.parents[target]}, n, target)
        p_cf = mech.mean(env_cf, n, target)
        # P(U < p_cf | Y) with U uniform on the interval consistent with Y (the coupling of DESIGN.md).
        with np.errstate(divide="ignore", invalid="ignore"):
            q1 = np.where(p_f > 0, np.minimum(p_cf, p_f) / p_f, p_cf)
            q0 = np.where(p_f < 1, np.maximum(p_cf - p_f, 0.0) / (1.0 - p_f), p_cf)
        return np.asarray(np.where(y == 1.0, q1, q0), dtype=np.float64)
    return np.asarray(mech.evaluate(env_cf, ab.noise[target], n), dtype=np.float64)
