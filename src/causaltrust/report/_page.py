"""What every HTML page of the package shares: the style sheet, direction words, notes and tables of
records. The renderers (trust report, ledger, decomposition, mediation, LM front) import it; it imports
none of them, so the report package has no import circle."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from causaltrust._format import fmt_num

__all__ = ["CSS", "DIRECTION_TEXT", "cell_text", "dedupe_notes", "examples_html", "notes_html"]

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;
color:#1d2330;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:2px solid #e4e7ee;
padding-bottom:.3rem}.sub{color:#5b6475;margin-top:0}
.verdict{padding:.8rem 1rem;border-radius:8px;font-weight:600;margin:1rem 0}
.pass{background:#e7f6ec;color:#11612f}.fail{background:#fdeaea;color:#9b1c1c}.none{background:#eef1f6}
table{border-collapse:collapse;width:100%;font-size:.92rem}th,td{text-align:left;padding:.35rem .5rem;
border-bottom:1px solid #eceef3}th{background:#f6f7fa;font-weight:600}td.num{text-align:right;
white-space:nowrap;font-variant-numeric:tabular-nums}
.tag{display:inline-block;padding:0 .45rem;border-radius:10px;font-size:.8rem}
.tag.pass{background:#d6f0de}.tag.fail{background:#f8d4d4}.better{color:#6b7385;font-size:.8rem}
.notes li{margin:.3rem 0;color:#3b4252}.meta td{border:none;padding:.1rem .6rem .1rem 0}
svg.ci{vertical-align:middle}
table.rates{width:auto}table.rates th.num{text-align:right}
table.rates td,table.rates th{padding:.3rem .9rem}
.count{display:inline-block;background:#e4e7ee;border-radius:8px;padding:0 .4rem;font-size:.8rem;
margin-right:.3rem}
"""
DIRECTION_TEXT = {
    "higher": "higher is better",
    "lower": "lower is better",
    "zero": "closer to 0 is better",
    "informative": "informative: neither better nor worse",
}


def examples_html(records: Sequence[dict[str, Any]]) -> str:
    """A table of recourse examples (one row per record), or nothing."""
    if not records:
        return ""
    cols = list(dict.fromkeys(k for r in records for k in r))
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell_text(r.get(c)))}</td>" for c in cols) + "</tr>"
        for r in records
    )
    return f'<h2 id="recourse-examples">Recourse examples</h2><table><tr>{head}</tr>{body}</table>'


def cell_text(v: Any) -> str:
    """A table cell's text: floats formatted, dicts as ``k=v`` pairs, None empty."""
    if isinstance(v, float):
        return fmt_num(v)
    if isinstance(v, dict):
        return ", ".join(f"{k}={cell_text(x)}" for k, x in v.items())
    return "" if v is None else str(v)


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")


def _note_groups(notes: Sequence[str]) -> list[list[str]]:
    groups: dict[str, list[str]] = {}
    for n in notes:
        groups.setdefault(_NUMBER.sub("#", n), []).append(n)
    return list(groups.values())


def dedupe_notes(notes: Sequence[str]) -> list[tuple[str, int]]:
    """Notes with their count, near-identical ones (same text up to numbers) collapsed into the first.

    Examples
    --------
    >>> dedupe_notes(["3 of 10 units have no recourse", "4 of 10 units have no recourse", "other"])
    [('3 of 10 units have no recourse', 2), ('other', 1)]
    """
    return [(ns[0], len(ns)) for ns in _note_groups(notes)]


def notes_html(notes: Sequence[str]) -> str:
    """A list of de-duplicated notes, the most repeated first, with a count where notes were collapsed."""
    groups = sorted(_note_groups(list(notes)), key=lambda ns: -len(ns))
    if not groups:
        return "<p>None.</p>"
    items = []
    for ns in groups:
        count = (
            f'<span class="count" title="times this note was recorded">×{len(ns)}</span>'
            if len(ns) > 1
            else ""
        )
        variants = len(set(ns))
        vary = (
            f" <small>({variants} variants differing in numbers; the first is shown)</small>"
            if variants > 1
            else ""
        )
        items.append(f"<li>{count}{html.escape(ns[0])}{vary}</li>")
    return f'<ul class="notes">{"".join(items)}</ul>'
