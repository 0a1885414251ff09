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

__all__ = ["MultiPathWorld", "reporting_signatures"]

Array = np.ndarray
Path = tuple[str, ...]
Signature = frozenset[Path]


class MultiPathWorld:
    """Evaluates node copies of a path-specific world: sources switched, each along its own active paths.

    A node copy is indexed by one signature per source. With one source this is the world of a path
    counterfactual; with several it composes selective interventions, e.g. the protected attribute held at
    its baseline along the unfair paths *and* the environment at a reference level along the spurious paths,
    while every other path keeps the unit's factual values.

    Parameters
    ----------
    parents : mapping
        ``{node: parents}`` of the model (a virtual sink such as the prediction may be added by the caller).
    mechanisms : mapping
        Mechanism of every node that can change (descendants of a source).
    noises : mapping
        Noise of every such node (abducted for counterfactuals, prior for simulation).
    factual : mapping
        Column of every node that does not descend from a source (and the baseline world when every
        baseline is None).
    switches : mapping
        ``{source: (value, baseline)}`` in the internal representation: the value along active paths and
        along the others (baseline None: the unit's factual value of the source).
    n : int
        Number of units.
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
        for s in self.sources:
            depth = _dag.longest_path(parents, s)
            if depth > _dag.MAX_PATH_DEPTH:
                raise _dag.PathLimitError(
                    f"a directed path from {s} has {depth:,} edges; path-specific worlds follow paths of at "
                    f"most {_dag.MAX_PATH_DEPTH:,}: the graph is too deep for them (shorten its chains)"
                )
        self.desc = [_dag.descendants(parents, [s]) for s in self.sources]
        self.any_desc = set().union(*self.desc)
        self.memo: dict[tuple[str, tuple[Signature, ...]], Array] = {}
        self.evaluations = 0

    def node(self, v: str, sigs: tuple[Signature, ...], output: Callable[..., Array] | None = None) -> Array:
        """The copy of ``v`` whose incoming active paths from source ``i`` are ``sigs[i]``.

        ``output(node, mechanism, env, noise)`` replaces ``mechanism.evaluate`` for this top call only (e.g.
        to return the probability of a binary target); it is not memoised.
        """
        if v in self.sources:
            i = self.sources.index(v)
            return self.values[i] if sigs[i] else self.baselines[i]
        if v not in self.any_desc:
            return self.factual[v]
        if self.factual_baseline and not any(sigs) and output is None:
            return self.factual[v]
        key = (v, sigs)
        if output is None and key in self.memo:
            return self.memo[key]
        env: dict[str, Array] = {}
        for w in self.parents[v]:
            if w in self.sources or w in self.any_desc:
                env[w] = self.node(w, tuple(frozenset(p[:-1] for p in sig if p[-2] == w) for sig in sigs))
            else:
                env[w] = self.factual[w]
        mech = self.mechanisms[v]
        if output is not None:
            return output(v, mech, env, self.noises[v])
        self.evaluations += 1
        out = mech.evaluate(env, self.noises[v], self.n)
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
    # The signatures hold every path from the source to each node: refuse before building them when their
    # total size is past the limit (a long chain with an edge from the source to every node is cubic).
    sizes = _dag.path_sizes(parents, source, children=children)
    total = sum(t for v, (_, t) in sizes.items() if v != source)
    if total > _dag.MAX_PATH_NODES:
        raise _dag.PathLimitError(
            f"the directed paths from {source} to the nodes below it have {total:,} nodes in all; the limit "
            f"is {_dag.MAX_PATH_NODES:,}: the graph is too large for path-specific counterfactuals "
            "(shorten its chains or drop edges)"
        )
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
