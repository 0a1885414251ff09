"""The disparity-decomposition report section: bars drawn to scale, intervals, notes, one file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import causaltrust as ct
from specs import TINY_SFM

SPEC = TINY_SFM


@pytest.fixture(scope="module")
def dec() -> ct.DisparityDecomposition:
    scm = ct.SCM.from_spec(SPEC)
    df = scm.sample(3_000, random_state=0)
    return ct.decompose_disparity(scm, data=df, outcome="Y", method="plugin", n_boot=30)


def test_write_html_renders_bars_to_scale(dec: ct.DisparityDecomposition, tmp_path: Path) -> None:
    path = ct.report.write_html(dec, tmp_path / "sub" / "dec.html")
    text = path.read_text()
    assert text.startswith("<!DOCTYPE html>")
    assert "<script" not in text  # self-contained, no JavaScript needed
    widths = [float(w) for w in re.findall(r'<rect x="[^"]+" y="[^"]+" width="([^"]+)"', text)]
    # The bars are TV, DE, -IE, -SE on one linear axis: widths are proportional to |value|.
    values = [abs(dec.tv.value), abs(dec.de.value), abs(dec.ie.value), abs(dec.se.value)]
    assert len(widths) == 4
    scale = widths[0] / values[0]
    for w, v in zip(widths[1:], values[1:], strict=True):
        assert w == pytest.approx(max(scale * v, 1.0), abs=0.15)  # SVG rounds to 0.1 px
    for est in (dec.tv, dec.de, dec.ie, dec.se):
        assert f"{est.value:+.4f}" in text
        assert f"[{est.low:+.4f}, {est.high:+.4f}]" in text
    assert "conditional on the SCM" in text  # the plug-in says what its intervals hold fixed


def test_section_embeds_with_its_own_style(dec: ct.DisparityDecomposition) -> None:
    section = ct.report.decomposition_section(dec)
    assert section.startswith('<section class="ctdec"><style>')
    assert section.endswith("</section>")
    assert "Mediators W: W" in section
    assert "Confounders Z: Z" in section


def test_write_html_rejects_other_objects(tmp_path: Path) -> None:
    with pytest.raises(ct.CausalTrustError, match="DisparityDecomposition"):
        ct.report.write_html(object(), tmp_path / "x.html")
