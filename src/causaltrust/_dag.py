"""Small, dependency-free DAG algorithms shared by ``spec`` and ``graph``.

They live below both packages so the import graph keeps pointing one way (spec -> graph -> scm -> ...).
Graphs are plain ``{node: parents}`` mappings; node order is the caller's declaration order, and every
result is deterministic in it (draw order, and hence same-seed-same-bytes, depends on that).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from causaltrust.exceptions import GraphError

__all__ = [
    "PathLimitError",
    "all_paths",
    "ancestors",
    "ancestral_closure",
    "children_map",
    "descendants",
    "topological_order",
]

Parents = Mapping[str, Sequence[str]]


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
    ready = sorted((v for v, d in indegree.items() if d == 0), key=order_index.__getitem__)
    out: list[str] = []
    while ready:
        v = ready.pop(0)
        out.append(v)
        newly = []
        for c in dict.fromkeys(children.get(v, [])):
            indegree[c] -= 1
            if indegree[c] == 0:
                newly.append(c)
        ready = sorted(ready + newly, key=order_index.__getitem__)
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
