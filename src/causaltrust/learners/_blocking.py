"""Per-path blocking: every unfair path entry of a spec blocked on its own, for every unit (issue 32).

A selective learner predicts Ŷ = f(ψ(x)) from the features x as they flow into Ŷ. Along one unfair entry
(``[A, Y]``, ``[A, M]``, ...) the protected attribute A moves only along that entry's paths, and the features
that move are exactly the last nodes before Ŷ of those paths (the set N). Holding A at its baseline along
all unfair paths together (``fairness="map"``) makes the *sum* of the entries' effects 0, but the mapping
reads A to undo the mediator's share: along the direct path alone the prediction then moves (it cancels
instead of blocking). ``fairness="block"`` builds ψ so that no entry moves it:

* A is not an input when the direct path is unfair (reading A at all is the direct path);
* a feature outside N is kept as it is: its copy into Ŷ never moves along an unfair path;
* a continuous feature V in N is replaced by ``h_V(reference parents, Ũ_V)``, its own noise Ũ_V abducted
  from the unit with A read as the baseline, and evaluated with A at the baseline, the dropped features at
  a reference value and the replaced parents at their replaced values. Along an unfair entry V moves with
  the parents it reads, so Ũ_V is the unit's own noise and ψ_V does not move; along a fair path into V
  (A → V, or through a kept parent) Ũ_V or that parent moves, so the fair effect stays. This needs every
  parent's copy into V to be the copy that flows into Ŷ under every entry, which :func:`block_plan` checks
  on the paths;
* every other feature of N is dropped: a discrete one (its noise is known only up to an interval, so no
  function of it is invariant unit by unit) and a head such as marital status in ``A → marital status``
  (its change along the entry cannot be told from its noise without reading A).

The dropped features may still be *read* (to residualise their children); they are not inputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from causaltrust.graph import CausalGraph
from causaltrust.scm import SCM

__all__ = ["block_features", "block_plan", "block_references"]

Array = np.ndarray
Path = tuple[str, ...]


def _unfair_sets(graph: CausalGraph, protected: str) -> list[list[Path]]:
    """The full unfair paths into Ŷ of each unfair entry on its own, and of all of them together."""
    unfair = [p for p in graph.paths(protected) if graph.path_role(p) == "unfair"]
    sets = [
        [p for p in unfair if replace(graph, unfair_entries=(e,)).path_role(p) == "unfair"]
        for e in graph.unfair_entries
    ]
    return [*sets, unfair]


def _into_sink(paths: Sequence[Path], node: str) -> frozenset[Path]:
    """Which copy of ``node`` flows into Ŷ: the active prefixes of paths whose last edge is node → Ŷ."""
    return frozenset(p[:-1] for p in paths if p[-2] == node)


def _into_child(paths: Sequence[Path], node: str, child: str) -> frozenset[Path]:
    """Which copy of ``node`` the Ŷ-bound copy of ``child`` reads (paths ending node → child → Ŷ)."""
    return frozenset(p[:-2] for p in paths if len(p) >= 3 and p[-3] == node and p[-2] == child)


def block_plan(
    graph: CausalGraph,
    scm: SCM,
    features: Sequence[str],
    *,
    keep_as_is: set[str] | frozenset[str] = frozenset(),
) -> dict[str, list[str]]:
    """Which features per-path blocking drops and which it replaces (``{"dropped", "replaced"}``).

    ``graph`` has the prediction node; ``keep_as_is`` lists nodes another mapping changes (e.g. the
    spurious paths' nodes under robustness "map"): one of them in N is dropped rather than replaced.
    """
    a = graph.protected
    assert a is not None
    sets = _unfair_sets(graph, a)
    moved = {p[-2] for p in sets[-1]}  # N: features whose copy into Ŷ moves along some unfair path
    readable = set(features) | {a}
    dropped: list[str] = []
    replaced: list[str] = []
    for v in scm.order:
        if v not in moved or v not in features:
            continue
        parents = scm.parents[v]
        ok = (
            v != a
            and v not in keep_as_is
            and scm.meta[v].vtype == "continuous"
            and all(p in readable for p in parents)
            and all(
                not _into_child(s, p, v) if p == a else _into_child(s, p, v) == _into_sink(s, p)
                for s in sets
                for p in parents
            )
        )
        (replaced if ok else dropped).append(v)
    return {"dropped": dropped, "replaced": replaced}


def block_references(
    scm: SCM, cols: Mapping[str, Array], dropped: Sequence[str], protected: str
) -> dict[str, float]:
    """The value a dropped feature is held at when its children are replaced (internal representation):
    the training rows' most frequent level (discrete) or mean (continuous)."""
    out: dict[str, float] = {}
    for v in dropped:
        if v == protected:
            continue
        x = np.asarray(cols[v])
        if scm.meta[v].vtype == "continuous":
            out[v] = float(x.mean())
        else:
            codes = x[x >= 0].astype(np.int64)
            out[v] = float(np.bincount(codes).argmax()) if len(codes) else 0.0
    return out


def block_features(
    scm: SCM,
    factual: Mapping[str, Array],
    base: Mapping[str, Array],
    plan: Mapping[str, Sequence[str]],
    references: Mapping[str, float],
    protected: str,
    baseline: Array,
    random_state: Any,
) -> dict[str, Array]:
    """``base`` with each replaced feature at its value under the blocked world (see the module's doc).

    ``factual``: the unit's features as observed (noise is abducted from them, with A read as
    ``baseline``); ``base``: the features after any other mapping (kept parents are read from it).
    """
    replaced = list(plan["replaced"])
    out = dict(base)
    if not replaced:
        return out
    n = len(baseline)
    observed = {**factual, protected: baseline}
    noise = scm.abduct(observed, replaced, random_state=random_state).noise
    env: dict[str, Array] = {**base, protected: baseline}
    for v in plan["dropped"]:
        if v != protected:
            env[v] = np.full(n, references[v], dtype=np.asarray(factual[v]).dtype)
    for v in replaced:  # in topological order: a replaced parent is read at its replaced value
        env[v] = out[v] = scm.mechanisms[v].evaluate(env, noise[v], n)
    return out
