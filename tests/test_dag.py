"""The shared DAG algorithms, checked against brute-force reachability and path enumeration."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from causaltrust import _dag
from causaltrust.exceptions import GraphError
from strategies import SETTINGS, dags


def _reach(parents: dict[str, tuple[str, ...]]) -> tuple[list[str], np.ndarray]:
    """Transitive closure by Warshall's algorithm: R[i, j] iff a directed path i -> ... -> j exists."""
    nodes = list(parents)
    idx = {v: i for i, v in enumerate(nodes)}
    r = np.zeros((len(nodes), len(nodes)), dtype=bool)
    for c, pas in parents.items():
        for p in pas:
            r[idx[p], idx[c]] = True
    for k in range(len(nodes)):
        r |= r[:, [k]] & r[[k], :]
    return nodes, r


def _brute_paths(parents: dict[str, tuple[str, ...]], source: str, target: str) -> set[tuple[str, ...]]:
    """Every sequence of distinct nodes source..target whose consecutive pairs are edges."""
    edges = {(p, c) for c, pas in parents.items() for p in pas}
    middle = [v for v in parents if v not in (source, target)]
    out = set()
    if source == target:
        return {(source,)}
    for k in range(len(middle) + 1):
        for mid in itertools.permutations(middle, k):
            path = (source, *mid, target)
            if all(e in edges for e in itertools.pairwise(path)):
                out.add(path)
    return out


@SETTINGS
@given(dags(), st.randoms(use_true_random=False))
def test_topological_order_puts_parents_first_for_any_declaration_order(parents, rnd: random.Random):
    items = list(parents.items())
    rnd.shuffle(items)
    shuffled = dict(items)
    order = _dag.topological_order(shuffled)
    assert sorted(order) == sorted(parents)
    pos = {v: i for i, v in enumerate(order)}
    for c, pas in parents.items():
        for p in pas:
            assert pos[p] < pos[c]


def test_topological_order_breaks_ties_by_declaration_order():
    assert _dag.topological_order({"B": (), "A": (), "C": ("A",)}) == ["B", "A", "C"]
    # Among the nodes ready at each step, the one declared first goes first.
    assert _dag.topological_order({"C": ("A",), "A": (), "B": ()}) == ["A", "C", "B"]


@SETTINGS
@given(dags())
def test_descendants_and_ancestors_match_transitive_closure(parents):
    nodes, r = _reach(parents)
    for i, v in enumerate(nodes):
        assert _dag.descendants(parents, [v]) == {nodes[j] for j in np.flatnonzero(r[i])}
        assert _dag.ancestors(parents, [v]) == {nodes[j] for j in np.flatnonzero(r[:, i])}


@SETTINGS
@given(dags(min_nodes=2))
def test_all_paths_match_brute_force_enumeration(parents):
    nodes = list(parents)
    for s, t in itertools.permutations(nodes, 2):
        got = _dag.all_paths(parents, s, t)
        assert len(got) == len(set(got))
        assert set(got) == _brute_paths(parents, s, t)


def test_all_paths_with_prefix_keeps_only_paths_that_begin_with_it():
    parents = {"A": (), "X": ("A",), "Z": ("X",), "Y": ("A", "X", "Z")}
    assert set(_dag.all_paths(parents, "A", "Y")) == {("A", "Y"), ("A", "X", "Y"), ("A", "X", "Z", "Y")}
    assert set(_dag.all_paths(parents, "A", "Y", prefix=("A", "X"))) == {
        ("A", "X", "Y"),
        ("A", "X", "Z", "Y"),
    }
    assert _dag.all_paths(parents, "A", "Y", prefix=("X", "Z")) == []
    # A prefix that reaches the target itself is a full path.
    assert _dag.all_paths(parents, "A", "Y", prefix=("A", "X", "Z", "Y")) == [("A", "X", "Z", "Y")]


def test_all_paths_raises_past_the_limit():
    # A chain of diamonds: 2**6 = 64 paths from S to T.
    parents: dict[str, tuple[str, ...]] = {"N0": ()}
    for i in range(6):
        parents[f"U{i}"] = (f"N{i}",)
        parents[f"D{i}"] = (f"N{i}",)
        parents[f"N{i + 1}"] = (f"U{i}", f"D{i}")
    assert len(_dag.all_paths(parents, "N0", "N6")) == 64
    with pytest.raises(_dag.PathLimitError, match="more than 10 directed paths from N0 to N6"):
        _dag.all_paths(parents, "N0", "N6", limit=10)
    assert issubclass(_dag.PathLimitError, GraphError)


def test_cycle_error_shows_the_cycle():
    parents = {"R": (), "A": ("R", "C"), "B": ("A",), "C": ("B",), "D": ("C",)}
    with pytest.raises(GraphError, match="cycle") as info:
        _dag.topological_order(parents)
    msg = str(info.value)
    # The cycle is printed as a closed walk along edges, e.g. "A -> B -> C -> A".
    walk = msg.split("cycle: ")[1].split(".")[0].split(" -> ")
    assert walk[0] == walk[-1]
    assert set(walk) == {"A", "B", "C"}
    for a, b in itertools.pairwise(walk):
        assert a in parents[b]


def test_self_loop_is_a_cycle():
    with pytest.raises(GraphError, match="A -> A"):
        _dag.topological_order({"A": ("A",)})


def test_children_map_inverts_parents_in_declaration_order():
    parents = {"A": (), "B": ("A",), "C": ("A", "B")}
    assert _dag.children_map(parents) == {"A": ["B", "C"], "B": ["C"], "C": []}
