"""The report's robustness frontiers: accuracy per shift vs the spurious-path effect, one curve per method.

The figures are checked as data on a hand-made summary (values chosen so that the frontiers are known), and
the page in a real (Debian) Chromium at 1366 px on a real small sweep (selective_bounded over γ, anchor over
its γ, ERM): every method drawn inside the axes, one HTML legend that names every method without scrolling,
no plotly legend, no network request.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from report_browser import VISIBLE, WIDTH, needs_chromium, open_page

import causaltrust as ct
from causaltrust.report._frontier import EFFECT, frontier_figures, method_frontier


def test_method_frontier_matches_the_pareto_front_of_the_bench():
    """Against moocore's non-dominated filter (``ct.bench.pareto_front``), an independent implementation."""
    rng = np.random.default_rng(0)
    for _ in range(20):
        n = int(rng.integers(1, 12))
        x = rng.choice([0.0, 0.05, 0.1, 0.2], n)  # ties on purpose
        y = rng.choice([0.6, 0.65, 0.7], n)
        frame = pd.DataFrame({"x": x, "y": y})
        want = ct.bench.pareto_front(frame, ["x", "y"], directions={"x": "lower", "y": "higher"}).index
        got = method_frontier(x, y)
        assert sorted(got.tolist()) == sorted(want.tolist())
        assert np.all(np.diff(x[got]) >= 0)  # drawn left to right


def _summary() -> pd.DataFrame:
    rows = [
        # method, config, effect, acc shift a, acc interventional
        ("erm", "erm", 0.18, 0.68, 0.70),
        ("anchor", "anchor (gamma=1.0)", 0.15, 0.73, 0.76),
        ("anchor", "anchor (gamma=100.0)", 0.04, 0.67, 0.72),
        ("selective_bounded", "selective_bounded (shift_strength=0.0)", -0.17, 0.66, 0.69),  # |·| drawn
        ("selective_bounded", "selective_bounded (shift_strength=1.0)", 0.10, 0.70, 0.71),
        ("selective_bounded", "selective_bounded (shift_strength=5.0)", 0.01, 0.61, 0.62),
    ]
    agg = pd.DataFrame(
        rows, columns=["method", "config", EFFECT, "accuracy.shift[a]", "accuracy.interventional"]
    )
    return agg.assign(spec="readmission", n_seeds=3)


def test_one_curve_per_method_per_shift():
    import plotly.graph_objects as go

    figs = frontier_figures(go, _summary())
    assert [ym for ym, _ in figs] == ["accuracy.shift[a]", "accuracy.interventional"]
    fig = dict(figs)["accuracy.shift[a]"]
    assert not fig.layout.showlegend
    markers = [t for t in fig.data if t.mode == "markers"]
    # Baselines first, the causal method last (drawn on top).
    assert [t.name for t in markers] == ["anchor", "erm", "selective_bounded"]
    sel = markers[-1]
    assert sorted(sel.x) == [0.01, 0.10, 0.17]  # the signed -0.17 drawn as |value|
    lines = {t.name: t for t in fig.data if t.mode == "lines"}
    # γ = 0 (0.17, 0.66) is beaten by γ = 1 (0.10, 0.70) on both axes: off the frontier.
    assert list(lines["selective_bounded frontier"].x) == [0.01, 0.10]
    assert list(lines["anchor frontier"].x) == [0.04, 0.15]
    assert "erm frontier" not in lines  # one configuration: a point, no line


def test_no_section_without_a_sweep():
    import plotly.graph_objects as go

    agg = _summary().drop_duplicates("method")
    assert frontier_figures(go, agg) == []
    assert frontier_figures(go, _summary().drop(columns=EFFECT)) == []


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    store = tmp_path_factory.mktemp("frontier") / "results.duckdb"
    return ct.bench.run(
        "readmission",
        methods=["erm", "selective_bounded", "anchor"],
        grid={"selective_bounded": {"shift_strength": [0.0, 3.0]}, "anchor": {"gamma": [1.0, 100.0]}},
        seeds=[0],
        store=store,
        n_train=800,
        n_test=800,
        n_bootstrap=5,
        n_shadow=0,
        recourse_units=5,
        n_jobs=1,
        progress=False,
    )


@needs_chromium
def test_frontiers_in_a_real_browser(sweep, tmp_path):
    path = ct.report.write_html(sweep, tmp_path / "report.html")
    agg = ct.bench.summarize(sweep)
    n_plots = len([c for c in agg.columns if c.startswith("accuracy.shift[") and "::" not in c]) + 1
    methods = {"erm", "selective_bounded", "anchor"}
    with open_page(path, "#frontier-0-0.js-plotly-plot") as visit:
        page = visit.page
        section = page.locator("#frontiers + *").first  # the section's intro follows its heading
        assert section.count() == 1
        plots = {pid: rest for pid, *rest in page.evaluate(VISIBLE) if pid.startswith("frontier-")}
        assert len(plots) == n_plots
        for pid, (traces, outside, legend) in plots.items():
            assert set(traces) == methods, pid  # every method drawn ...
            assert outside == 0, pid  # ... inside the axes
            assert not legend, pid  # no plotly legend (it would scroll)
        legend = page.locator("h2#frontiers ~ .mlegend").first
        names = {n.split("(causal)")[0].strip() for n in legend.locator(".item").all_inner_texts()}
        assert names == methods
        assert legend.evaluate("e => e.scrollHeight <= e.clientHeight + 1")
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    assert visit.errors == []
    assert visit.network == []  # no network request
