"""The causal graph as inline SVG, laid out in layers (Sugiyama style) in pure Python.

1. Layers: each node's longest distance from a root (edges always point to a later layer).
2. Long edges get a virtual node in every layer they cross, so they are routed through free slots instead of
   through other nodes.
3. Order within layers: barycentre sweeps (down, then up, repeated) to reduce crossings.
4. Coordinates: layers are columns; each edge enters its head at its own port on the node's border, spread
   by the angle of arrival, so arrowheads never pile up on one point.
"""

from __future__ import annotations

import html
import itertools
import math

from causaltrust import _dag
from causaltrust.graph import CausalGraph
from causaltrust.spec import TrustSpec

__all__ = ["EDGE_COLOURS", "NODE_STYLES", "graph_svg", "layered_layout"]

EDGE_COLOURS = {"unfair": "#d62728", "spurious": "#ff7f0e", "fair": "#2ca02c", "contextual": "#1f77b4"}
# (role, fill, label) in priority order: a node takes the first role it has.
NODE_STYLES = [
    ("protected", "#fde2e2", "protected attribute"),
    ("environment", "#fff1d6", "environment"),
    ("target", "#dfe9ff", "target / prediction"),
    ("prediction", "#dfe9ff", "target / prediction"),
    ("actionable", "#e3f5e1", "actionable"),
    ("feature", "#ffffff", "feature"),
]
_PRIORITY = ["unfair", "spurious", "fair", "contextual"]
_R = 22.0


def layered_layout(
    parents: dict[str, list[str]], *, width: float = 760.0, row: float = 80.0, margin: float = 50.0
) -> tuple[dict[str, tuple[float, float]], dict[tuple[str, str], list[tuple[float, float]]], float]:
    """Node positions, the bend points of every edge (virtual nodes) and the drawing's height.

    Examples
    --------
    >>> pos, bends, h = layered_layout({"A": [], "B": ["A"], "C": ["A", "B"]})
    >>> pos["A"][0] < pos["B"][0] < pos["C"][0], len(bends[("A", "C")])
    (True, 1)
    """
    order = _dag.topological_order(parents)
    layer: dict[str, int] = {}
    for v in order:
        layer[v] = 1 + max((layer[p] for p in parents[v]), default=-1)
    n_layers = max(layer.values(), default=0) + 1
    layers: list[list[str]] = [[] for _ in range(n_layers)]
    for v in order:
        layers[layer[v]].append(v)
    # Virtual nodes for edges spanning more than one layer.
    up: dict[str, list[str]] = {v: [] for v in order}  # neighbours in the previous layer
    down: dict[str, list[str]] = {v: [] for v in order}
    chains: dict[tuple[str, str], list[str]] = {}
    for b in order:
        for a in parents[b]:
            prev, chain = a, []
            for d in range(layer[a] + 1, layer[b]):
                virtual = f"\x00{a}\x00{b}\x00{d}"
                layers[d].append(virtual)
                up[virtual], down[virtual] = [], []
                down[prev].append(virtual)
                up[virtual].append(prev)
                chain.append(virtual)
                prev = virtual
            down[prev].append(b)
            up[b].append(prev)
            chains[(a, b)] = chain
    index = {v: i for lay in layers for i, v in enumerate(lay)}

    def sweep(neighbours: dict[str, list[str]], rng: range) -> None:
        for d in rng:

            def bary(v: str) -> float:
                ns = neighbours[v]
                return sum(index[n] for n in ns) / len(ns) if ns else index[v]

            layers[d].sort(key=lambda v: (bary(v), index[v]))
            for i, v in enumerate(layers[d]):
                index[v] = i

    for _ in range(4):
        sweep(up, range(1, n_layers))
        sweep(down, range(n_layers - 2, -1, -1))
    # Coordinates: start stacked, then pull every node towards the mean height of its neighbours while
    # keeping the order and a minimum gap (real nodes a full row apart, virtual ones half a row).
    y: dict[str, float] = {}
    for lay in layers:
        for i, v in enumerate(lay):
            y[v] = row * i

    def gap(a: str, b: str) -> float:
        # Virtual nodes are only bend points: they may sit close to each other, not to a node.
        virtual = a.startswith("\x00") + b.startswith("\x00")
        return (row, row / 2, row / 5)[virtual]

    for it in range(12):
        rng = range(n_layers) if it % 2 == 0 else range(n_layers - 1, -1, -1)
        for d in rng:
            lay = layers[d]
            want = []
            for v in lay:
                ns = up[v] + down[v]
                want.append(sum(y[n] for n in ns) / len(ns) if ns else y[v])
            offsets = [0.0]
            for i in range(1, len(lay)):
                offsets.append(offsets[-1] + gap(lay[i - 1], lay[i]))
            fitted = _isotonic([w - o for w, o in zip(want, offsets, strict=True)])
            for v, u, o in zip(lay, fitted, offsets, strict=True):
                y[v] = u + o
    top = min(y.values(), default=0.0)
    height = max(y.values(), default=0.0) - top + 2 * (_R + 20)
    pos: dict[str, tuple[float, float]] = {}
    for d, lay in enumerate(layers):
        x = margin + (width - 2 * margin) * d / max(n_layers - 1, 1)
        for v in lay:
            pos[v] = (x, y[v] - top + _R + 20)
    bends = {e: [pos[v] for v in chain] for e, chain in chains.items()}
    real = {v: p for v, p in pos.items() if not v.startswith("\x00")}
    return real, bends, height


def _isotonic(z: list[float]) -> list[float]:
    """The non-decreasing sequence closest to ``z`` in squared error (pool adjacent violators).

    With ``z = want - offsets`` it places a layer's nodes as near their wanted heights as the order and the
    minimum gaps allow, without the drift of pushing and re-centring.

    Examples
    --------
    >>> _isotonic([1.0, 3.0, 2.0, 4.0])
    [1.0, 2.5, 2.5, 4.0]
    """
    blocks: list[list[float]] = []  # [mean, count]
    for v in z:
        blocks.append([v, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, n2 = blocks.pop()
            m1, n1 = blocks.pop()
            blocks.append([(m1 * n1 + m2 * n2) / (n1 + n2), n1 + n2])
    out: list[float] = []
    for m, n in blocks:
        out.extend([m] * int(n))
    return out


def _longest_path(parents: dict[str, list[str]]) -> int:
    layer: dict[str, int] = {}
    for v in _dag.topological_order(parents):
        layer[v] = 1 + max((layer[p] for p in parents[v]), default=-1)
    return max(layer.values(), default=0)


def _edge_roles(spec: TrustSpec, g: CausalGraph) -> dict[tuple[str, str], set[str]]:
    """Roles of every edge: the graph's (paths into Ŷ) plus the spec's own entries and full target paths."""
    roles: dict[tuple[str, str], set[str]] = {e: set(r) for e, r in g.edge_roles().items()}

    def mark(path: tuple[str, ...], role: str) -> None:
        for e in itertools.pairwise(path):
            roles.setdefault(e, set()).add(role)

    for p in spec.unfair_paths():
        mark(p, "unfair")
    for p in spec.spurious_paths():
        mark(p, "spurious")
    for p in spec.contextual_paths():
        mark(p, "contextual")
    for p in spec.fair_paths():
        mark(p, "fair")
    if spec.protected is not None:
        unfair = [tuple(p) for p in spec.unfair_paths()]
        for p in _dag.all_paths(dict(g.parents), spec.protected, spec.target):
            if any(tuple(p[: len(u)]) == u for u in unfair):
                mark(tuple(p), "unfair")
    return roles


def graph_svg(spec: TrustSpec) -> str:
    """The spec's graph with the prediction node Ŷ, edges coloured by path role, nodes by variable role."""
    g = CausalGraph.from_spec(spec).with_prediction(spec.features)
    parents = {v: list(ps) for v, ps in g.parents.items()}
    widest = max(max(_R, 4.5 * len(v) + 10) for v in parents)
    depth = _longest_path(parents)
    w = max(760.0, (2 * widest + 70) * depth + 2 * (widest + 8))  # layers never overlap
    pos, bends, h = layered_layout(parents, width=w, margin=widest + 8)
    roles = _edge_roles(spec, g)
    rx = {v: max(_R, 4.5 * len(v) + 10) for v in pos}  # labels longer than a letter or two get an ellipse
    # Ports: each head spreads its incoming edges over its left side by angle of arrival.
    incoming: dict[str, list[tuple[float, str]]] = {}
    for b, ps in parents.items():
        for a in ps:
            src = (bends[(a, b)] or [pos[a]])[-1]
            angle = math.atan2(src[1] - pos[b][1], pos[b][0] - src[0])  # above: negative
            incoming.setdefault(b, []).append((angle, a))
    port: dict[tuple[str, str], tuple[float, float]] = {}
    for b, lst in incoming.items():
        lst.sort()
        k = len(lst)
        for i, (_, a) in enumerate(lst):
            theta = math.pi - (i - (k - 1) / 2) * min(0.5, 2.4 / max(k, 1))  # around the left side
            bx, by = pos[b]
            port[(a, b)] = (bx + (rx[b] + 2) * math.cos(theta), by + (_R + 2) * math.sin(theta))
    parts = [
        f'<svg viewBox="0 0 {w:.0f} {h:.0f}" width="100%" style="max-width:{w:.0f}px" role="img" '
        'aria-label="causal graph"><defs>'
    ]
    for name, colour in [*EDGE_COLOURS.items(), ("none", "#9aa3b2")]:
        parts.append(
            f'<marker id="arrow-{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" '
            f'markerHeight="6" orient="auto"><path d="M 0 0 L 10 5 L 0 10 z" fill="{colour}"/></marker>'
        )
    parts.append("</defs>")
    for b, ps in parents.items():
        for a in ps:
            r = roles.get((a, b), set())
            role = next((p for p in _PRIORITY if p in r), None)
            colour = EDGE_COLOURS.get(role or "", "#9aa3b2")
            pts = [pos[a], *bends[(a, b)]]
            end = port[(a, b)]
            first = pts[1] if len(pts) > 1 else end
            phi = math.atan2(first[1] - pts[0][1], first[0] - pts[0][0])
            start = (pts[0][0] + rx[a] * math.cos(phi), pts[0][1] + _R * math.sin(phi))
            path = [start, *pts[1:], end]
            d = f"M {path[0][0]:.1f} {path[0][1]:.1f}"
            for i in range(1, len(path)):
                (x0, y0), (x1, y1) = path[i - 1], path[i]
                cx = (x0 + x1) / 2
                d += f" C {cx:.1f} {y0:.1f}, {cx:.1f} {y1:.1f}, {x1:.1f} {y1:.1f}"
            label = ", ".join(sorted(r)) or "no role"
            parts.append(
                f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="{2.6 if role else 1.4}" '
                f'marker-end="url(#arrow-{role or "none"})" class="edge"><title>{html.escape(a)} → '
                f"{html.escape(b)}: {html.escape(label)}</title></path>"
            )
    for v, (x, y) in pos.items():
        nr = g.node_roles.get(v, frozenset())
        fill = next((f for r, f, _ in NODE_STYLES if r in nr), "#f3f4f7")
        dash = ' stroke-dasharray="4 3"' if "latent" in nr else ""
        desc = ", ".join(sorted(nr)) or "variable"
        parts.append(
            f'<g class="node"><ellipse cx="{x:.1f}" cy="{y:.1f}" rx="{rx[v]:.0f}" ry="{_R:.0f}" '
            f'fill="{fill}" '
            f'stroke="#333"{dash}/>'
            f'<text x="{x:.1f}" y="{y + 5:.1f}" text-anchor="middle" font-size="14" font-weight="600">'
            f"{html.escape(v)}</text><title>{html.escape(v + ': ' + desc)}</title></g>"
        )
    parts.append("</svg>")
    edges = "".join(
        f'<span><i style="background:{c}"></i>{r} path</span>'
        for r, c in [*EDGE_COLOURS.items(), ("no role", "#9aa3b2")]
    )
    seen: set[str] = set()
    nodes = ""
    for _, fill, label in NODE_STYLES:
        if label not in seen:
            seen.add(label)
            nodes += f'<span><b class="dot" style="background:{fill}"></b>{label}</span>'
    nodes += '<span><b class="dot" style="border-style:dashed"></b>latent (unobserved)</span>'
    return "".join(parts) + f'<p class="legend">{edges}</p><p class="legend">{nodes}</p>'
