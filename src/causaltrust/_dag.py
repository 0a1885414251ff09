"""Small, dependency-free DAG algorithms shared by ``spec`` and ``graph``.

They live below both packages so the import graph keeps pointing one way (spec -> graph -> scm -> ...).
Graphs are plain ``{node: parents}`` mappings; node order is the caller's declaration order, and every
result is deterministic in it (draw order, and hence same-seed-same-bytes, depends on that).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence

from causaltrust.exceptions import GraphError

__all__ = [
    "MAX_PATH_DEPTH",
    "MAX_PATH_NODES",
    "PathLimitError",
    "all_paths",
    "ancestors",
    "ancestral_closure",
    "children_map",
    "descendants",
    "longest_path",
    "path_sizes",
    "topological_order",
]

Parents = Mapping[str, Sequence[str]]

# The most nodes, summed over the paths, that one enumeration of directed paths may produce. Listing paths
# costs their total length, which grows as the square of a chain's length even when the paths are few (a
# 20,000-node chain with an edge from its source to every node has 20,000 paths of 10,000 nodes on average).
MAX_PATH_NODES = 1_000_000
# The most edges on a directed path below a switched source that path-specific worlds follow (they recurse
# once per edge; Python's stack allows about 1,000 frames).
MAX_PATH_DEPTH = 400
_COUNT_CAP = 10**18  # path counts saturate here: exact values beyond any limit are never needed


class PathLimitError(GraphError):
    """More directed paths than the caller allows."""


def children_map(parents: Parents) -> dict[str, list[str]]:
    """Invert a parents mapping, keeping declaration order."""
    children: dict[str, list[str]] = {v: [] for v in parents}
    for v, pas in parents.items():
        for p in pas:
            children.setdefault(p, []).append(v)
    return children


def topological_order(parents: Parents) -> list[str]:
    """Kahn's algorithm with ties broken by declaration order; raises GraphError naming a cycle."""
    order_index = {v: i for i, v in enumerate(parents)}
    indegree = {v: len(set(pas)) for v, pas in parents.items()}
    children = children_map(parents)
    # A heap keyed by declaration index: the same order as re-sorting the ready list, in O(E log V).
    ready = [order_index[v] for v, d in indegree.items() if d == 0]
    heapq.heapify(ready)
    names = list(parents)
    out: list[str] = []
    while ready:
        v = names[heapq.heappop(ready)]
        out.append(v)
        for c in dict.fromkeys(children.get(v, [])):
            indegree[c] -= 1
            if indegree[c] == 0:
                heapq.heappush(ready, order_index[c])
    if len(out) < len(parents):
        cycle = _find_cycle(parents, set(parents) - set(out))
        raise GraphError(
            "the causal graph has a cycle: "
            + " -> ".join(cycle)
            + ". A structural causal model must be a DAG: remove one of these edges "
            "(an equation or a 'parents:' entry)."
        )
    return out


def _find_cycle(parents: Parents, remaining: set[str]) -> list[str]:
    # Walk parent links inside the unsorted remainder until a node repeats.
    start = next(v for v in parents if v in remaining)
    seen: dict[str, int] = {}
    path: list[str] = []
    v = start
    while v not in seen:
        seen[v] = len(path)
        path.append(v)
        v = next(p for p in parents[v] if p in remaining)
    cycle = [*path[seen[v] :], v]
    return list(reversed(cycle))


def descendants(parents: Parents, nodes: Iterable[str]) -> set[str]:
    """Strict descendants of ``nodes`` (the nodes themselves excluded unless reachable again)."""
    children = children_map(parents)
    out: set[str] = set()
    stack = [c for n in nodes for c in children.get(n, [])]
    while stack:
        v = stack.pop()
        if v not in out:
            out.add(v)
            stack.extend(children.get(v, []))
    return out


def ancestors(parents: Parents, nodes: Iterable[str]) -> set[str]:
    """Strict ancestors of ``nodes``."""
    out: set[str] = set()
    stack = [p for n in nodes for p in parents.get(n, [])]
    while stack:
        v = stack.pop()
        if v not in out:
            out.add(v)
            stack.extend(parents.get(v, []))
    return out


def ancestral_closure(parents: Parents, nodes: Iterable[str]) -> set[str]:
    """``nodes`` and all their ancestors (e.g. the features and everything they are computed from)."""
    nodes = list(nodes)
    return set(nodes) | ancestors(parents, nodes)


def all_paths(
    parents: Parents,
    source: str,
    target: str,
    *,
    prefix: Sequence[str] | None = None,
    limit: int = 10_000,
) -> list[tuple[str, ...]]:
    """Every directed path from ``source`` to ``target`` (optionally starting with ``prefix``).

    Paths come out in a deterministic order (depth first, children in declaration order). Raises
    :class:`PathLimitError` when there are more than ``limit``.
    """
    children = children_map(parents)
    start: tuple[str, ...] = tuple(prefix) if prefix else (source,)
    if start[0] != source:
        return []
    # Count first (linear in the graph), so that a query past the limits is refused before any listing.
    count, nodes = path_sizes(parents, start[-1], children=children).get(target, (0, 0))
    if count > limit:
        raise PathLimitError(
            f"more than {limit:,} directed paths from {source} to {target}; name paths by "
            "prefix (e.g. [A, Z]) instead of enumerating them all"
        )
    nodes += count * (len(start) - 1)
    if nodes > MAX_PATH_NODES:
        raise PathLimitError(
            f"the {count:,} directed paths from {source} to {target} have {nodes:,} nodes in all; the limit "
            f"is {MAX_PATH_NODES:,}: the graph is too large to list its paths (shorten the chains, or name "
            "paths by prefix instead of enumerating them all)"
        )
    reach = ancestors(parents, [target]) | {target}
    out: list[tuple[str, ...]] = []
    stack: list[tuple[str, ...]] = [start]
    while stack:
        path = stack.pop()
        last = path[-1]
        if last == target:
            out.append(path)
            if len(out) > limit:
                raise PathLimitError(
                    f"more than {limit:,} directed paths from {source} to {target}; name paths by "
                    "prefix (e.g. [A, Z]) instead of enumerating them all"
                )
            continue
        if last not in reach:
            continue
        for c in reversed(children.get(last, [])):
            if c in reach:
                stack.append((*path, c))
    return out


def path_sizes(
    parents: Parents, source: str, *, children: Mapping[str, Sequence[str]] | None = None
) -> dict[str, tuple[int, int]]:
    """For every node reachable from ``source``: the number of directed paths to it and their total nodes.

    Linear in the part of the graph below ``source`` (a dynamic program in topological order), so callers
    can refuse an enumeration that would be too large before doing it. Counts saturate at 10**18.

    Examples
    --------
    >>> path_sizes({"A": (), "B": ("A",), "C": ("A", "B")}, "A")["C"]
    (2, 5)
    """
    children = children_map(parents) if children is None else children
    inside = {source} | _reachable(children, source)
    indegree = {v: sum(p in inside for p in dict.fromkeys(parents.get(v, ()))) for v in inside}
    sizes: dict[str, tuple[int, int]] = {}
    ready = [source] if indegree[source] == 0 else []  # a source on a cycle has no well-defined paths
    while ready:
        v = ready.pop()
        if v == source:
            sizes[v] = (1, 1)
        else:
            n = total = 0
            for p in dict.fromkeys(parents.get(v, ())):
                if p in sizes:
                    pn, pt = sizes[p]
                    n += pn
                    total += pt + pn  # every path to p, extended by v
            sizes[v] = (min(n, _COUNT_CAP), min(total, _COUNT_CAP))
        for c in dict.fromkeys(children.get(v, ())):
            indegree[c] -= 1
            if indegree[c] == 0:
                ready.append(c)
    return sizes


def longest_path(parents: Parents, source: str) -> int:
    """The most edges on a directed path from ``source`` (0 for a node without children); linear time.

    Examples
    --------
    >>> longest_path({"A": (), "B": ("A",), "C": ("A", "B")}, "A")
    2
    """
    children = children_map(parents)
    inside = {source} | _reachable(children, source)
    indegree = {v: sum(p in inside for p in dict.fromkeys(parents.get(v, ()))) for v in inside}
    depth = {source: 0}
    ready = [source] if indegree[source] == 0 else []
    while ready:
        v = ready.pop()
        for c in dict.fromkeys(children.get(v, ())):
            depth[c] = max(depth.get(c, 0), depth[v] + 1)
            indegree[c] -= 1
            if indegree[c] == 0:
                ready.append(c)
    return max(depth.values())


def _reachable(children: Mapping[str, Sequence[str]], source: str) -> set[str]:
    out: set[str] = set()
    stack = list(children.get(source, []))
    while stack:
        v = stack.pop()
        if v not in out:
            out.add(v)
            stack.extend(children.get(v, []))
    return out
