"""The benchmark report: one self-contained page, checked as data and in a real (Debian) Chromium at 1366 px.

The browser checks run on a ledger shaped like the demo's: a real small sweep (four methods, two seeds)
whose cells are copied under the name of every other registered tabular method, values moved by a seeded
jitter, so the page has the demo's 19 methods without a 5-minute sweep. Those copies only exercise the
layout (widths, legends, colours, markers); no claim is read from them. ``CAUSALTRUST_DEMO_LEDGER=path``
checks a real demo ledger instead (``make run`` writes ``reports/demo/results.duckdb``), and
``CAUSALTRUST_SCREENSHOTS=docs/img`` refreshes the README's screenshots from it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from report_browser import VISIBLE, WIDTH, needs_chromium, open_page

import causaltrust as ct
from causaltrust.bench import config_frame

MAX_BYTES = 2_000_000
ALWAYS = (
    "summary",
    "tradeoffs",
    "graph",
    "headline",
    "pareto",
    "ranks",
    "dominance",
    "environments",
    "notes",
)
REAL = ["erm", "recenter", "selective", "dp_lr"]  # recenter: a baseline that adapts; dp_lr: a finite ε


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    store = tmp_path_factory.mktemp("ledger") / "results.duckdb"
    return ct.bench.run(
        "readmission",
        methods=REAL,
        seeds=[0, 1],
        store=store,
        n_train=1500,
        n_test=1500,
        n_bootstrap=10,
        n_shadow=4,
        recourse_units=10,
        n_jobs=1,
        progress=False,
    )


def _demo_shaped(ledger, path: Path):
    """The real cells plus a copy of one per other registered tabular method (layout only, see module doc)."""
    env = os.environ.get("CAUSALTRUST_DEMO_LEDGER")
    if env:
        return ct.bench.Ledger.open(env)
    shutil.copy(ledger.path, path)
    led = ct.bench.Ledger.open(path)
    data = led.data()
    cells, metrics, notes = data.cells, data.metrics, data.notes
    others = sorted(n for n, m in ct.bench.METHODS.items() if m.data == "tabular" and n not in REAL)
    rng = np.random.default_rng(0)
    for k, method in enumerate(others):
        source = REAL[k % len(REAL)]
        for _, cell in cells[cells["method"] == source].iterrows():
            cid = hashlib.sha256(f"{method}:{cell['cell_id']}".encode()).hexdigest()
            rows = metrics[metrics["cell_id"] == cell["cell_id"]]
            shift = rng.normal(0, 0.02)
            led.write(
                {
                    **{c: cell[c] for c in cells.columns},
                    "cell_id": cid,
                    "method": method,
                    "params_json": "{}",
                    "metrics": [
                        {
                            "name": r["name"],
                            "value": r["value"] + shift if np.isfinite(r["value"]) else r["value"],
                            "low": r["low"],
                            "high": r["high"],
                            "better": r["better"],
                            "passed": None if pd.isna(r["passed"]) else bool(r["passed"]),
                        }
                        for _, r in rows.iterrows()
                    ],
                    "notes": list(notes.loc[notes["cell_id"] == cell["cell_id"], "note"]),
                }
            )
    return led


def test_page_is_self_contained_with_every_section(ledger, tmp_path):
    path = ct.report.write_html(ledger, tmp_path / "report.html")
    page = path.read_text(encoding="utf-8")
    for section in ALWAYS:
        assert f'id="{section}"' in page, section
    assert "<script src=" not in page
    assert "<link " not in page
    assert page.count("plotly.js (basic - minified)") == 1  # plotly.js once, minified
    assert page.count("Plotly.newPlot") >= 4  # trade-offs, per-seed Pareto plots, bars
    assert "unfair" in page  # graph legend with path roles
    assert "selective" in page
    # Both robustness regimes: recenter adapts, so the adapted comparison has a baseline.
    assert "<b>Robustness with unlabeled target data</b>" in page
    assert 'id="tradeoff-1"' in page
    # dp_lr ran at one ε only: no curve from a single point, so the section is left out, as is "no failures".
    assert 'id="privacy"' not in page
    assert 'id="failures"' not in page
    # The thresholds table shows the threshold's value; ε is not judged (the spec does not list it).
    assert "fairness.unfair_path_effect |value| ≤ 0.02</th>" in page
    assert "privacy.epsilon is reported, not judged" in page
    cdn = ct.report.write_html(ledger, tmp_path / "cdn.html", plotlyjs="cdn").read_text(encoding="utf-8")
    assert cdn.count("<script src=") == 1
    assert len(cdn) < 400_000 < len(page)
    with pytest.raises(ct.CausalTrustError, match="plotlyjs"):
        ct.report.write_html(ledger, tmp_path / "x.html", plotlyjs="both")


def test_vendored_plotly_matches_the_installed_plotly():
    import plotly

    from causaltrust.report import _ledger

    js = (Path(_ledger.__file__).parent / "static" / "plotly-basic.min.js").read_text(encoding="utf-8")
    assert f"plotly.js (basic - minified) v{plotly.offline.get_plotlyjs_version()}" in js[:200]


def test_config_labels_show_only_varying_parameters():
    cells = pd.DataFrame(
        {
            "cell_id": ["a", "b", "c"],
            "scenario": ["s", "s", "s"],
            "spec_hash": ["h", "h", "h"],
            "method": ["erm", "erm", "selective"],
            "params_json": ['{"C": 0.1}', '{"C": 1.0}', '{"C": 1.0, "fairness": true}'],
            "settings_json": ["{}", "{}", "{}"],
        }
    )
    assert config_frame(cells)["config"].tolist() == ["erm (C=0.1)", "erm (C=1.0)", "selective"]


# Tables wider than the box that holds them, as [text of the first header, table width, box width].
_WIDE_TABLES = """() => Array.from(document.querySelectorAll('table')).filter(
  t => t.getBoundingClientRect().width > t.parentElement.clientWidth + 1).map(
  t => [t.querySelector('th') ? t.querySelector('th').textContent : '', t.getBoundingClientRect().width,
        t.parentElement.clientWidth])"""


@needs_chromium
def test_report_in_a_real_browser_at_1366_px(ledger, tmp_path, request):
    led = _demo_shaped(ledger, tmp_path / "demo_shaped.duckdb")
    path = ct.report.write_html(led, tmp_path / "report.html")
    assert path.stat().st_size <= MAX_BYTES
    agg = ct.bench.summarize(led)
    configs = set(agg["config"])
    with open_page(path, ".js-plotly-plot") as visit:
        page = visit.page
        for section in ALWAYS:
            assert page.locator(f"#{section}").count() == 1, section
        # No table wider than its container, and the page itself never scrolls sideways.
        assert page.evaluate(_WIDE_TABLES) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
        # Legends: the page's own lists every configuration and never scrolls; plotly legends are
        # off on configuration plots and, where on (few bar groups), have no scrollbar.
        for legend in page.locator(".mlegend").all():
            names = legend.locator(".item").all_inner_texts()
            assert {n.split("(causal)")[0].strip() for n in names} >= configs
            assert legend.evaluate("e => e.scrollHeight <= e.clientHeight + 1")
        assert (
            page.locator("g.legend rect.scrollbar[height]").evaluate_all(
                "rs => rs.filter(r => parseFloat(r.getAttribute('height')) > 0).length"
            )
            == 0
        )
        # Every configuration with finite values is drawn, inside the axes, in every configuration plot.
        plots = {pid: (traces, outside, legend) for pid, traces, outside, legend in page.evaluate(VISIBLE)}
        for pid in [k for k in plots if k.startswith(("tradeoff-", "pareto-"))]:
            traces, outside, legend = plots[pid]
            assert outside == 0, pid
            assert not legend, pid
            drawn = {t.removesuffix(" (causal)") for t in traces}
            assert drawn == _finite_configs(agg, led, pid), pid
            # Causal configurations are drawn last, on top of the baselines.
            causal = [t.endswith(" (causal)") or t in ct.bench.causal_methods() for t in traces]
            assert causal == sorted(causal), pid
        assert page.locator("svg[aria-label='causal graph'] path.edge").count() >= 10
        shot = _screenshots(tmp_path) / "demo_report.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 50_000
    assert visit.errors == []
    assert visit.network == []  # no network request
    request.node.user_properties.append(("screenshot", str(shot)))


def _finite_configs(agg, led, pid: str) -> set[str]:
    """The configurations a plot must show: those with finite values on both of its axes."""
    from causaltrust.report._ledger import PAIRS, TRADEOFFS

    kind, k = pid.split("-")
    if kind == "tradeoff":
        xm, ym, _ = TRADEOFFS[int(k)]
        rows = agg
    else:
        xm, ym = PAIRS[int(k)]
        wide = led.to_frame()
        labels = config_frame(led.cells("ok").reset_index(drop=True))[["cell_id", "config"]]
        rows = wide.merge(labels, on="cell_id")
    ok = np.isfinite(rows[xm].astype(float)) & np.isfinite(rows[ym].astype(float))
    return set(rows.loc[ok, "config"])


def _screenshots(tmp_path: Path) -> Path:
    """Where screenshots go: ``CAUSALTRUST_SCREENSHOTS`` (``docs/img`` refreshes the README's), else tmp."""
    out = Path(os.environ.get("CAUSALTRUST_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


@needs_chromium
def test_audit_report_in_a_real_browser(tmp_path):
    pytest.importorskip("playwright.sync_api")
    from sklearn.linear_model import LogisticRegression

    spec, scm = ct.scenarios.load("readmission")
    train, test = scm.sample(1500, random_state=0), scm.sample(800, random_state=1)
    model = LogisticRegression().fit(train[spec.features], train[spec.target])
    rep = ct.audit(
        model,
        spec=spec,
        scm=scm,
        data=test,
        train_data=train,
        objectives=["accuracy", "fairness", "robustness"],
        n_bootstrap=20,
        random_state=0,
    )
    path = ct.report.write_html(rep, tmp_path / "audit.html")
    with open_page(path) as visit:
        page = visit.page
        # Per-group rates for an auditor: one row per protected group, rates as numbers.
        rows = page.locator("#group-rates + p + table tr")
        assert rows.count() == 3  # header + A = 0, A = 1
        assert page.locator("text=fairness.fair_path_effect").count() >= 1
        assert page.evaluate(_WIDE_TABLES) == []
        shot = _screenshots(tmp_path) / "audit_report.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 20_000
