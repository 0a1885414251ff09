"""Path-specific worlds with per-path semantics.

An active path set switches the source to ``value`` only along those paths; every other path sees
``baseline``. A node on several paths can therefore take several values at once. We index each copy of a
node ``V`` by its *signature*: the set of source→V paths that carry ``value`` into this copy. The copy of
``V`` that flows along the edge ``V → W`` inside the copy of ``W`` with signature ``S`` has signature
``{p : p + (W,) ∈ S}``. Copies with equal signatures are equal, so they are computed once (memoised).

Since each non-empty signature of ``V`` owns a disjoint set of active full paths, a node has at most
``k + 1`` distinct copies for ``k`` active paths: a path counterfactual costs at most ``k + 1`` plain ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from causaltrust import _dag
from causaltrust.scm._mechanisms import Mechanism, Noise

__all__ = ["MultiPathWorld", "PathWorld", "reporting_signatures"]

Array = np.ndarray
Path = tuple[str, ...]
Signature = frozenset[Path]


class PathWorld:
    """Evaluates node copies of one path-specific world over a batch of units.

    Parameters
    ----------
    parents : mapping
        ``{node: parents}`` of the model (a virtual sink may be added by the caller).
    mechanisms : mapping
        Mechanism of every node that can change (descendants of ``source``).
    noises : mapping
        Noise of every such node (abducted for counterfactuals, prior for simulation).
    factual : mapping
        Column of every node that does not descend from ``source`` (and the baseline world when
        ``baseline_world`` is None).
    source, value, baseline
        The switched node; its value along active paths and along the others (internal representation).
        ``baseline=None`` means the unit's factual value of the source.
    n : int
        Number of units.
    output : callable, optional
        ``output(node, mechanism, env, noise)`` replaces ``mechanism.evaluate`` for the top call (used to
        return probabilities for a binary target).
    """

    def __init__(
        self,
        parents: Mapping[str, Sequence[str]],
        mechanisms: Mapping[str, Mechanism],
        noises: Mapping[str, Noise],
        factual: Mapping[str, Array],
        source: str,
        value: float | Array,
        baseline: float | Array | None,
        n: int,
    ) -> None:
        self.parents = parents
        self.mechanisms = mechanisms
        self.noises = noises
        self.factual = factual
        self.source = source
        self.n = n
        self.desc = _dag.descendants(parents, [source])
        self.value = _full(value, n, factual.get(source))
        self.baseline = factual[source] if baseline is None else _full(baseline, n, factual.get(source))
        self.factual_baseline = baseline is None
        self.memo: dict[tuple[str, Signature], Array] = {}
        self.evaluations = 0

    def node(self, v: str, sig: Signature, output: Callable[..., Array] | None = None) -> Array:
        """The copy of ``v`` whose incoming active source paths are ``sig``."""
        if v == self.source:
            return self.value if sig else self.baseline
        if v not in self.desc:
            return self.factual[v]
        if not sig and self.factual_baseline and output is None:
            return self.factual[v]
        key = (v, sig)
        if output is None and key in self.memo:
            return self.memo[key]
        env: dict[str, Array] = {}
        for w in self.parents[v]:
            if w == self.source or w in self.desc:
                env[w] = self.node(w, frozenset(p[:-1] for p in sig if p[-2] == w))
            else:
                env[w] = self.factual[w]
        mech = self.mechanisms[v]
        if output is not None:
            return output(v, mech, env, self.noises[v])
        self.evaluations += 1
        out = mech.evaluate(env, self.noises[v], self.n)
        self.memo[key] = out
        return out


class MultiPathWorld:
    """Several sources switched at once, each along its own active paths (per-path semantics).

    A node copy is indexed by one signature per source. This composes selective interventions, e.g. the
    protected attribute held at its baseline along the unfair paths *and* the environment at a reference
    level along the spurious paths, while every other path keeps the unit's factual values.

    Parameters are as for :class:`PathWorld`, with ``switches = {source: (value, baseline)}`` (baseline
    None: the unit's factual value).
    """

    def __init__(
        self,
        parents: Mapping[str, Sequence[str]],
        mechanisms: Mapping[str, Mechanism],
        noises: Mapping[str, Noise],
        factual: Mapping[str, Array],
        switches: Mapping[str, tuple[float | Array, float | Array | None]],
        n: int,
    ) -> None:
        self.parents = parents
        self.mechanisms = mechanisms
        self.noises = noises
        self.factual = factual
        self.sources = list(switches)
        self.n = n
        self.values = [_full(v, n, factual.get(s)) for s, (v, _) in switches.items()]
        self.baselines = [
            factual[s] if b is None else _full(b, n, factual.get(s)) for s, (_, b) in switches.items()
        ]
        self.factual_baseline = all(b is None for _, b in switches.values())
        self.desc = [_dag.descendants(parents, [s]) for s in self.sources]
        self.any_desc = set().union(*self.desc)
        self.memo: dict[tuple[str, tuple[Signature, ...]], Array] = {}

    def node(self, v: str, sigs: tuple[Signature, ...]) -> Array:
        """The copy of ``v`` whose incoming active paths from source ``i`` are ``sigs[i]``."""
        if v in self.sources:
            i = self.sources.index(v)
            return self.values[i] if sigs[i] else self.baselines[i]
        if v not in self.any_desc:
            return self.factual[v]
        if self.factual_baseline and not any(sigs):
            return self.factual[v]
        key = (v, sigs)
        if key in self.memo:
            return self.memo[key]
        env: dict[str, Array] = {}
        for w in self.parents[v]:
            if w in self.sources or w in self.any_desc:
                env[w] = self.node(w, tuple(frozenset(p[:-1] for p in sig if p[-2] == w) for sig in sigs))
            else:
                env[w] = self.factual[w]
        out = self.mechanisms[v].evaluate(env, self.noises[v], self.n)
        self.memo[key] = out
        return out

    def into(self, child: str, active: Sequence[Sequence[Path]]) -> dict[str, Array]:
        """Parents of ``child`` as they flow into it when source ``i`` is active along ``active[i]``."""
        out = {}
        for w in self.parents[child]:
            out[w] = self.node(w, tuple(frozenset(p[:-1] for p in act if p[-2] == w) for act in active))
        return out


def _full(x: float | Array, n: int, like: Array | None) -> Array:
    if isinstance(x, np.ndarray):
        return x
    dtype = like.dtype if like is not None else np.float64
    return np.full(n, x, dtype=dtype)


def reporting_signatures(
    parents: Mapping[str, Sequence[str]],
    source: str,
    target: str,
    active_full: Sequence[Path],
    entries: Sequence[Path],
    nodes: Sequence[str],
) -> dict[str, Signature]:
    """Which copy of each node a path counterfactual reports.

    A node with an edge into ``target`` is reported as the copy that flows along that edge. Any other node
    is reported with A switched along every source→node path that begins with an entry as written, or that
    is a prefix of an active full path (so a prefix entry such as ``[A, X]`` switches X even when X does
    not reach the target).
    """
    children = _dag.children_map(parents)
    desc = _dag.descendants(parents, [source])
    out: dict[str, Signature] = {}
    for v in nodes:
        if v == source or v not in desc:
            continue
        if target in children.get(v, []):
            out[v] = frozenset(p[:-1] for p in active_full if len(p) >= 2 and p[-2] == v)
            continue
        sig: set[Path] = set()
        for p in active_full:
            if v in p:
                sig.add(p[: p.index(v) + 1])
        for q in _dag.all_paths(parents, source, v):
            if any(q[: len(e)] == e for e in entries):
                sig.add(q)
        out[v] = frozenset(sig)
    return out
