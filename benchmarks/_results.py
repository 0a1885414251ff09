"""Writing one section of benchmarks/RESULTS.md while keeping every other section as it is."""

from __future__ import annotations

import re
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
#: A line in a section after which hand-written notes follow; rewriting the section keeps them.
KEEP = "<!-- notes below are hand-written: write_section keeps them -->"


def write_section(text: str, path: Path = RESULTS) -> None:
    """Replace the section whose heading is ``text``'s first line (``## ...``), or append it.

    A section runs from its heading to the next ``## `` heading; the file gets its title when missing.
    When the old section holds the :data:`KEEP` line, it and the notes after it stay, after the new text.
    """
    heading = text.splitlines()[0].rstrip()
    if not heading.startswith("## "):
        raise ValueError(f"a section starts with a '## ' heading, got {heading!r}")
    old = path.read_text() if path.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"^{re.escape(heading)}\s*$.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    found = pattern.search(old)
    if found:
        section = found.group(0)
        notes = section[section.index(KEEP) :].rstrip("\n") + "\n\n" if KEEP in section else ""
        body = text.rstrip("\n") + "\n\n" + notes
        new = old[: found.start()] + body + old[found.end() :]
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new.rstrip("\n") + "\n")
