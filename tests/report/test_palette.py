"""The report's method colours stay apart for colour-blind readers, and every method gets its own marker."""

from __future__ import annotations

import itertools

import numpy as np

import causaltrust as ct
from causaltrust.report._style import PALETTE, SYMBOLS, legend_html, marker_svg

# Machado, Oliveira & Fernandes (2009), severity 1.0, on linear RGB.
CVD = {
    "normal": np.eye(3),
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
    ),
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
    ),
    "tritanopia": np.array(
        [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]]
    ),
}
SRGB_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
D65 = np.array([0.95047, 1.0, 1.08883])


def _linear(hex_colour: str) -> np.ndarray:
    c = np.array([int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(linear_rgb: np.ndarray) -> np.ndarray:
    t = SRGB_TO_XYZ @ np.clip(linear_rgb, 0, 1) / D65
    f = np.where(t > 216 / 24389, np.cbrt(t), (24389 / 27 * t + 16) / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_palette_colours_stay_apart_in_every_simulated_vision():
    # ΔE (CIE76) of 10+ is a clearly visible difference; every pair keeps at least 14 in all four visions.
    for vision, m in CVD.items():
        labs = [_lab(m @ _linear(c)) for c in PALETTE]
        closest = min(float(np.linalg.norm(a - b)) for a, b in itertools.combinations(labs, 2))
        assert closest >= 14.0, vision
    # Readable on white: no colour lighter than L* = 78, none near black (causal markers are ringed in black).
    lightness = [_lab(_linear(c))[0] for c in PALETTE]
    assert max(lightness) <= 78
    assert min(lightness) >= 20


def test_twenty_methods_get_distinct_colour_and_shape_pairs():
    import pandas as pd

    from causaltrust.report._ledger import _styles

    names = [f"m{i:02d}" for i in range(20)]
    styles = _styles(pd.DataFrame({"config": names, "method": names}))
    assert len({(s["color"], s["symbol"]) for s in styles.values()}) == 20
    # The registered methods: all apart, and the causal ones ringed (their markers are drawn on top).
    registered = sorted(ct.bench.METHODS)
    styles = _styles(pd.DataFrame({"config": registered, "method": registered}))
    assert len({(s["color"], s["symbol"]) for s in styles.values()}) == len(registered)
    assert {n for n, s in styles.items() if s["causal"]} == set(ct.bench.causal_methods())


def test_the_legend_draws_every_marker_shape_and_names_causal_methods_first():
    styles = {
        f"m{i}": {"color": PALETTE[i % len(PALETTE)], "symbol": s, "causal": i == 3}
        for i, s in enumerate([*SYMBOLS, "circle-open", "square-dot", "diamond-open-dot"])
    }
    page = legend_html(styles)
    items = page.split('role="listitem">')[1:]
    assert len(items) == len(styles) + 1  # + the Pareto front line
    assert "m3" in items[0]
    assert "(causal)" in items[0]
    assert "Pareto front" in items[-1]
    for st in styles.values():
        svg = marker_svg(st)
        assert svg.count("<svg") == 1
        assert ("<polygon" in svg) or ("<circle" in svg) or ("<path" in svg)
    assert 'fill="#fff"' in marker_svg({"color": "#0072B2", "symbol": "circle-open", "causal": False})
