"""The benchmark report: one self-contained page, checked as data and in a real (Debian) Chromium."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import causaltrust as ct
from causaltrust.bench import config_frame

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SECTIONS = (
    "summary",
    "tradeoffs",
    "graph",
    "headline",
    "pareto",
    "ranks",
    "dominance",
    "privacy",
    "environments",
    "recourse",
    "failures",
    "notes",
)


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    store = tmp_path_factory.mktemp("ledger") / "results.duckdb"
    return ct.bench.run(
        "readmission",
        methods=["erm", "recenter", "selective", "dp_lr"],  # recenter: a baseline that adapts
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


def test_page_is_self_contained_with_every_section(ledger, tmp_path):
    path = ct.report.write_html(ledger, tmp_path / "report.html")
    page = path.read_text(encoding="utf-8")
    for section in SECTIONS:
        assert f'id="{section}"' in page
    assert "<script src=" not in page
    assert "<link " not in page
    assert page.count("Plotly.newPlot") >= 4  # trade-offs, per-seed Pareto plots, bars
    assert "unfair" in page  # graph legend with path roles
    assert "selective" in page
    # Both robustness regimes: recenter adapts, so the adapted comparison has a baseline.
    assert "<b>Robustness with unlabeled target data</b>" in page
    assert 'id="tradeoff-1"' in page
    # dp_lr ran at one ε only: no curve is drawn from a single point, and the page says why.
    assert 'id="privacy-0"' not in page
    assert "No ε curve to draw: only one ε each (dp_lr)" in page


def test_config_labels_show_only_varying_parameters():
    import pandas as pd

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


@pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian chromium not installed (make test installs it)"
)
def test_report_in_a_real_browser(ledger, tmp_path, request):
    playwright = pytest.importorskip("playwright.sync_api")
    path = ct.report.write_html(ledger, tmp_path / "report.html")
    errors: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--headless",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(path.as_uri())
            page.wait_for_selector(".js-plotly-plot", timeout=20_000)
            for section in SECTIONS:
                assert page.locator(f"#{section}").count() == 1, section
            plots = page.locator(".js-plotly-plot").count()
            assert plots >= 6  # 2 trade-offs, 3 per-seed Pareto pairs, environment bars
            assert page.locator("svg[aria-label='causal graph'] path.edge").count() >= 10
            assert page.locator("#pareto-0 .scatterlayer .point").count() >= 6  # 3 methods x 2 seeds
            # The headline table fits the page: it scrolls inside its box at worst, never widens the page.
            page_width = page.evaluate("document.documentElement.scrollWidth")
            assert page_width <= 1280
            shot = _screenshots(tmp_path) / "demo_report.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 50_000
        finally:
            browser.close()
    assert errors == []
    request.node.user_properties.append(("screenshot", str(shot)))


def _screenshots(tmp_path: Path) -> Path:
    """Where screenshots go: ``CAUSALTRUST_SCREENSHOTS`` (``docs/img`` refreshes the README's), else tmp."""
    out = Path(os.environ.get("CAUSALTRUST_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian chromium not installed (make test installs it)"
)
def test_audit_report_in_a_real_browser(tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
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
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--headless", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(path.as_uri())
            # Per-group rates for an auditor: one row per protected group, rates as numbers.
            rows = page.locator("#group-rates + p + table tr")
            assert rows.count() == 3  # header + A = 0, A = 1
            assert page.locator("text=fairness.fair_path_effect").count() >= 1
            shot = _screenshots(tmp_path) / "audit_report.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 20_000
        finally:
            browser.close()
