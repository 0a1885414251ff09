"""Opening a report in the Debian Chromium for the browser tests: 1366 px, offline, errors recorded."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WIDTH = 1366  # the most common laptop screen
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian chromium not installed (make test installs it)"
)
_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Every plotted configuration point inside its axes, per plot: [plot id, traces drawn, points outside,
# whether plotly's own legend is on].
VISIBLE = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => {
  const fl = gd._fullLayout, xr = fl.xaxis.range, yr = fl.yaxis.range;
  const lo = (r) => Math.min(r[0], r[1]), hi = (r) => Math.max(r[0], r[1]);
  const xlog = fl.xaxis.type === 'log';
  let outside = 0, traces = [];
  gd._fullData.filter(t => t.type === 'scatter' && t.mode.includes('markers')).forEach(t => {
    if (t.visible !== true) { outside += 1; return; }
    traces.push(t.name);
    t.x.forEach((x, i) => {
      const y = t.y[i], xv = xlog ? Math.log10(x) : x;
      if (x === null || y === null) return;
      if (xv < lo(xr) || xv > hi(xr) || y < lo(yr) || y > hi(yr)) outside += 1;
    });
  });
  return [gd.id, traces, outside, fl.showlegend];
})"""


@dataclass
class Visit:
    """What the page did while open: console errors, page errors and every URL it requested."""

    page: Any
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def network(self) -> list[str]:
        """Requests that left the local file (a self-contained report makes none)."""
        return [u for u in self.requests if not u.startswith("file:")]


@contextmanager
def open_page(path: Path, wait_for: str | None = None) -> Iterator[Visit]:
    """Open ``path`` at 1366 x 900, wait for ``wait_for`` (a selector) and the load event; yield the visit."""
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=_ARGS)
        try:
            visit = Visit(browser.new_page(viewport={"width": WIDTH, "height": 900}))
            page = visit.page
            page.on("console", lambda m: visit.errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: visit.errors.append(str(e)))
            page.on("request", lambda r: visit.requests.append(r.url))
            page.goto(path.as_uri())
            if wait_for is not None:
                page.wait_for_selector(wait_for, timeout=20_000)
            page.wait_for_load_state("load")
            yield visit
        finally:
            browser.close()
