"""The benchmark report: one self-contained page, checked as data and in a real (Debian) Chromium."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import causaltrust as ct
from causaltrust.report._ledger import config_labels

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SECTIONS = (
    "graph",
    "headline",
    "pareto",
    "parallel",
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
        methods=["erm", "selective", "dp_lr"],
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
    assert page.count("Plotly.newPlot") >= 4  # pairwise Pareto plots, parallel coordinates, bars
    assert "unfair" in page  # graph legend with path roles
    assert "selective" in page
    assert 'id="privacy-0"' in page  # dp_lr has a finite ε, so the ε curves are drawn


def test_config_labels_show_only_varying_parameters():
    import pandas as pd

    wide = pd.DataFrame(
        {
            "method": ["erm", "erm", "selective"],
            "params_json": ['{"C": 0.1}', '{"C": 1.0}', '{"C": 1.0, "fairness": true}'],
        }
    )
    assert config_labels(wide) == ["erm (C=0.1)", "erm (C=1.0)", "selective"]


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
            assert plots >= 6  # 4 Pareto pairs, parallel coordinates, environment bars (+ ε curves)
            assert page.locator("svg[aria-label='causal graph'] line").count() >= 10
            assert page.locator("#pareto-0 .scatterlayer .point").count() >= 6  # 3 methods x 2 seeds
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 50_000
        finally:
            browser.close()
    assert errors == []
    request.node.user_properties.append(("screenshot", str(shot)))
