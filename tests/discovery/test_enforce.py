"""Background knowledge enforced on any output graph: a property test over random graphs and knowledge."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from causaltrust.discovery import Background, DiscoveredEdge
from causaltrust.discovery._discover import _enforce

NODES = ["a", "b", "c", "d", "e"]
MARKS = ["tail", "arrow", "circle"]


@st.composite
def case(draw: st.DrawFn) -> tuple[list[DiscoveredEdge], Background, bool]:
    pag = draw(st.booleans())
    marks = MARKS if pag else MARKS[:2]
    edges = []
    for u, v in itertools.combinations(NODES, 2):
        if draw(st.booleans()):
            edges.append(DiscoveredEdge(u, v, draw(st.sampled_from(marks)), draw(st.sampled_from(marks))))
    tier_of = {v: draw(st.integers(0, 2)) for v in NODES if draw(st.booleans())}
    tiers = tuple(tuple(v for v in NODES if tier_of.get(v) == t) for t in range(3))
    pairs = [(u, v) for u in NODES for v in NODES if u != v]
    forbidden = tuple(draw(st.lists(st.sampled_from(pairs), max_size=4, unique=True)))

    def allowed(p: tuple[str, str]) -> bool:  # required edges consistent with the tiers and forbidden list
        tu, tv = tier_of.get(p[0]), tier_of.get(p[1])
        return p not in forbidden and not (tu is not None and tv is not None and tu > tv)

    ok = [p for p in pairs if allowed(p)]
    required = tuple(draw(st.lists(st.sampled_from(ok), max_size=2, unique=True))) if ok else ()
    required = tuple(p for p in required if (p[1], p[0]) not in required)
    return edges, Background(tiers=tiers, forbidden=forbidden, required=required), pag


@settings(max_examples=200, deadline=None)
@given(case())
def test_enforced_output_never_violates(c: tuple[list[DiscoveredEdge], Background, bool]) -> None:
    edges, bk, pag = c
    out, _ = _enforce(edges, bk, pag)
    tier = {v: i for i, t in enumerate(bk.tiers) for v in t}

    def forbidden(u: str, v: str) -> bool:  # written here from the definition, not with the library
        return (u, v) in bk.forbidden or (u in tier and v in tier and tier[u] > tier[v])

    for e in out:
        for x, y, mx, my in ((e.u, e.v, e.mark_u, e.mark_v), (e.v, e.u, e.mark_v, e.mark_u)):
            assert not (forbidden(x, y) and mx != "arrow" and my == "arrow"), e  # x may not cause y
            assert not (not pag and forbidden(x, y) and mx == my == "tail"), e  # nor stay a candidate cause
        assert not (forbidden(e.u, e.v) and forbidden(e.v, e.u)), e
        if not pag:
            assert "circle" not in (e.mark_u, e.mark_v)
    directed = {(e.u, e.v) for e in out if e.mark_u == "tail" and e.mark_v == "arrow"}
    assert set(bk.required) <= directed
    assert len({frozenset((e.u, e.v)) for e in out}) == len(out)  # one edge per pair
