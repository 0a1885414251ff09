"""The report's causal graph: no edge through a node, no two arrowheads on one point, roles coloured."""

from __future__ import annotations

import re

import numpy as np
import pytest

import causaltrust as ct
from causaltrust.report._graph import EDGE_COLOURS, graph_svg

NODE = re.compile(
    r'<ellipse cx="([\d.]+)" cy="([\d.]+)" rx="([\d.]+)" ry="([\d.]+)".*?<text[^>]*>([^<]+)</text>'
)
EDGE = re.compile(r'<path d="([^"]+)" fill="none" stroke="([^"]+)".*?<title>([^<]+)</title>')


def _bezier_points(d: str) -> np.ndarray:
    """Points along an SVG path of one M and cubic C segments (20 samples per segment)."""
    nums = [float(x) for x in re.findall(r"-?[\d.]+", d)]
    start, rest = nums[:2], nums[2:]
    out = [start]
    p0 = np.array(start)
    for k in range(0, len(rest), 6):
        c1, c2, p3 = np.array(rest[k : k + 2]), np.array(rest[k + 2 : k + 4]), np.array(rest[k + 4 : k + 6])
        for t in np.linspace(0, 1, 21)[1:]:
            out.append((1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * c1 + 3 * (1 - t) * t**2 * c2 + t**3 * p3)
        p0 = p3
    return np.array(out)


@pytest.mark.parametrize("name", ["readmission", "lending", "hiring"])
def test_edges_avoid_nodes_and_arrowheads_do_not_pile_up(name):
    spec, _ = ct.scenarios.load(name)
    svg = graph_svg(spec)
    nodes = {m[4]: tuple(map(float, m[:4])) for m in NODE.findall(svg)}
    edges = EDGE.findall(svg)
    g = ct.graph.CausalGraph.from_spec(spec).with_prediction(spec.features)
    assert len(edges) == sum(len(p) for p in g.parents.values())
    ends: dict[str, list[np.ndarray]] = {}
    for d, _, title in edges:
        a, b = title.split(":", 1)[0].split(" → ")
        pts = _bezier_points(d)
        for v, (cx, cy, rx, ry) in nodes.items():
            if v in (a, b):
                continue
            inside = ((pts[:, 0] - cx) / rx) ** 2 + ((pts[:, 1] - cy) / ry) ** 2 < 1
            assert not inside.any(), f"edge {a}→{b} crosses node {v}"
        ends.setdefault(b, []).append(pts[-1])
    for b, pts in ends.items():
        p = np.array(pts)
        dist = np.hypot(*(p[:, None, :] - p[None, :, :]).transpose(2, 0, 1))
        np.fill_diagonal(dist, np.inf)
        assert dist.min() > 4.0, f"two arrowheads into {b} land on the same point"


def test_spec_entries_are_coloured_by_role():
    spec, _ = ct.scenarios.load("readmission")
    colour = {t.split(":", 1)[0]: c for _, c, t in EDGE.findall(graph_svg(spec))}
    assert colour["A → Y"] == EDGE_COLOURS["unfair"]  # the spec's own unfair entry [A, Y]
    assert colour["Z → Y"] == EDGE_COLOURS["unfair"]  # on the unfair path A → Z → Y
    assert colour["E → Y"] == EDGE_COLOURS["contextual"]
    assert colour["E → X"] == EDGE_COLOURS["spurious"]
    assert colour["L → Y"] == EDGE_COLOURS["fair"]
    assert "protected attribute" in graph_svg(spec)  # node colours in the legend
