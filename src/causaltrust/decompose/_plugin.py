"""Plug-in scores: each x0 unit's counterfactual outcomes under a given or fitted SCM."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from causaltrust.decompose._structure import Structure
from causaltrust.graph import CausalGraph
from causaltrust.scm import SCM

__all__ = ["outcome_mean", "plugin_scores"]

Array = np.ndarray
N_DRAWS = 32  # abduction draws per unit when a discrete variable sits between A and the outcome


def outcome_mean(
    st: Structure, scm: SCM, data: pd.DataFrame, random_state: int | None
) -> tuple[Callable[[pd.DataFrame], Array], str]:
    """``g(frame) = E[outcome | its parents]`` and a note saying where the mechanism came from.

    A spec node uses the SCM's mechanism. An outside outcome gets its mechanism learned by ``SCM.fit`` on
    a two-layer spec (its parents as roots), so it is chosen and cross-validated like any fitted node.
    """
    if not st.outside:
        return (lambda frame: scm.expectation(frame, st.outcome)), ""
    variables: dict[str, Any] = {}
    for p in st.outcome_parents:
        var = st.spec.variables[p]
        variables[p] = {"type": var.type, "parents": []}
        if var.categories:
            variables[p]["categories"] = list(var.categories)
    variables[st.outcome] = {
        "type": "binary" if st.binary_outcome else "continuous",
        "parents": list(st.outcome_parents),
    }
    mini = {"name": f"{st.outcome} mechanism", "target": st.outcome, "variables": variables}
    cols = [*st.outcome_parents, st.outcome]
    frame = data[cols].copy()
    if st.binary_outcome:
        frame[st.outcome] = frame[st.outcome].astype(np.float64)
    from causaltrust.decompose._saturated import plugin_mechanisms
    from causaltrust.spec import load_spec

    fitted = SCM.fit(mini, frame, mechanisms=plugin_mechanisms(load_spec(mini)), random_state=random_state)
    model = fitted.provenance.get("mechanisms", {}).get(st.outcome, "learned")
    note = (
        f"the mechanism of {st.outcome!r} (outside the spec) was learned from the data ({model}) with "
        f"parents {list(st.outcome_parents)}"
    )
    return (lambda f: fitted.expectation(f, st.outcome)), note


def plugin_scores(
    st: Structure,
    scm: SCM,
    g: Callable[[pd.DataFrame], Array],
    data: pd.DataFrame,
    x1_rows: Array,
    x0_value: Any,
    x1_value: Any,
    random_state: int | None,
) -> tuple[Array, Array]:
    """``(s_de, s_se)``: for x0 units, ``Y + g(x1 direct) - g(factual)`` and ``Y + g(do(x1)) - g(factual)``.

    Anchoring each counterfactual on the unit's observed outcome keeps E[Y | x0] the observed mean (so TV is
    the observed disparity) while DE and IE are pure model contrasts; x1 units carry 0.
    """
    a = st.protected
    y = data[st.outcome].to_numpy(dtype=np.float64)
    x0_rows = ~x1_rows
    frame0 = data.loc[x0_rows]
    n0 = len(frame0)
    # Latent parents are recovered once from the factual data, so changing A below cannot disturb them.
    base = scm.counterfactual(frame0, include_latent=True) if scm.latent else frame0
    fact = g(base)
    direct = base.copy()
    direct[a] = x1_value
    d_de = g(direct) - fact
    graph = CausalGraph(parents=scm.parents, target=scm.spec.target)
    between = (graph.descendants(a) & _ancestors(st, scm)) - {st.outcome}
    discrete = any(scm.meta[v].vtype != "continuous" for v in between)
    k = N_DRAWS if discrete else 1
    cf = scm.counterfactual(
        frame0, do={a: x1_value}, random_state=random_state, n_draws=k, include_latent=True
    )
    total = g(cf).reshape(n0, k).mean(axis=1)
    d_se = total - fact
    s_de = np.zeros(len(y))
    s_se = np.zeros(len(y))
    s_de[x0_rows] = y[x0_rows] + d_de
    s_se[x0_rows] = y[x0_rows] + d_se
    return s_de, s_se


def _ancestors(st: Structure, scm: SCM) -> set[str]:
    parents = dict(scm.parents)
    if st.outside:
        parents[st.outcome] = st.outcome_parents
    return CausalGraph(parents=parents, target=st.outcome).ancestors(st.outcome)
