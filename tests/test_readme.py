"""The README's tour is code a user will paste: it must run as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_tour_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert blocks, "the README has no python block"
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)  # our own README, not user input
    assert (tmp_path / "report.html").is_file()
    rep = namespace["rep"]
    assert rep.metric("fairness.unfair_path_effect").value > 0.05  # type: ignore[attr-defined]
