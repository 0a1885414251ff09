"""benchmarks/_results.write_section: a regenerated section keeps its hand-written notes."""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _write_section():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from _results import KEEP, write_section
    finally:
        sys.path.remove(str(BENCHMARKS))
    return KEEP, write_section


def test_rewriting_a_section_keeps_the_notes_after_the_marker(tmp_path):
    keep, write_section = _write_section()
    path = tmp_path / "RESULTS.md"
    before = (
        "# Benchmark results\n\n## A\n\nold table\n\n"
        f"{keep}\nA hand-written reading.\n\n## B\n\nother section\n"
    )
    path.write_text(before)
    write_section("## A\n\nnew table\n", path)
    assert path.read_text() == (
        "# Benchmark results\n\n## A\n\nnew table\n\n"
        f"{keep}\nA hand-written reading.\n\n## B\n\nother section\n"
    )


def test_without_the_marker_the_whole_section_is_replaced_and_a_new_one_appended(tmp_path):
    _, write_section = _write_section()
    path = tmp_path / "RESULTS.md"
    path.write_text("# Benchmark results\n\n## A\n\nold table\nold notes\n\n## B\n\nother\n")
    write_section("## A\n\nnew table\n", path)
    write_section("## C\n\nthird\n", path)
    assert path.read_text() == "# Benchmark results\n\n## A\n\nnew table\n\n## B\n\nother\n\n## C\n\nthird\n"
