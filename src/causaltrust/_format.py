"""One way to write numbers, intervals and small tables, shared by audit, bench, report and the CLI.

This module sits below every package (it imports nothing from causaltrust), so a ``TrustReport``, a ledger,
a decomposition, the HTML report and the command line all print a number the same way: ``∞`` for infinity,
``–`` for a missing value, and a fixed number of decimals chosen by the caller's context.

Examples
--------
>>> from causaltrust._format import fmt_num, fmt_interval
>>> fmt_num(0.123456), fmt_num(float("inf")), fmt_num(float("nan")), fmt_num(None)
('0.1235', '∞', '–', '–')
>>> fmt_num(0.5, signed=True, digits=2), fmt_interval(0.1, 0.25, digits=2), fmt_num(-0.00001, 3)
('+0.50', '[0.10, 0.25]', '0.000')
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["MISSING", "fmt_interval", "fmt_num", "fmt_value_interval", "html_table", "short_repr"]

MISSING = "–"
DIGITS = 4


def fmt_num(x: Any, digits: int = DIGITS, *, signed: bool = False) -> str:
    """A number as text: fixed decimals, ``∞``/``-∞`` for infinities, ``–`` for None or NaN.

    Integers (Python or NumPy) print without decimals; anything that is not a number prints as ``str``.
    """
    if x is None:
        return MISSING
    if isinstance(x, bool):
        return str(x)
    if hasattr(x, "item") and callable(x.item):  # NumPy scalars
        x = x.item()
    if isinstance(x, int):
        return f"{x:+d}" if signed else str(x)
    if not isinstance(x, float):
        return str(x)
    if math.isnan(x):
        return MISSING
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if round(x, digits) == 0:
        x = 0.0  # no "-0.000"
    return f"{x:+.{digits}f}" if signed else f"{x:.{digits}f}"


def fmt_interval(low: Any, high: Any, digits: int = DIGITS, *, signed: bool = False) -> str:
    """``[low, high]``; empty text when either end is missing."""
    if low is None or high is None:
        return ""
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        return ""
    return f"[{fmt_num(low, digits, signed=signed)}, {fmt_num(high, digits, signed=signed)}]"


def fmt_value_interval(value: Any, low: Any = None, high: Any = None, digits: int = 3) -> str:
    """``value [low, high]`` (the interval only when both ends are known)."""
    ci = fmt_interval(low, high, digits)
    return fmt_num(value, digits) + (f" {ci}" if ci else "")


def html_table(header: Sequence[str], rows: Iterable[Sequence[Any]], *, digits: int = DIGITS) -> str:
    """A plain HTML table (numbers right-aligned and formatted with :func:`fmt_num`); for ``_repr_html_``."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for v in row:
            if isinstance(v, int | float) and not isinstance(v, bool):
                cells.append(f'<td style="text-align:right">{fmt_num(v, digits)}</td>')
            else:
                cells.append(f"<td>{html.escape('' if v is None else str(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def short_repr(kind: str, fields: Sequence[tuple[str, Any]]) -> str:
    """``Kind(a=1, b='x')`` with numbers through :func:`fmt_num`: a one-line repr for notebooks."""
    parts = []
    for k, v in fields:
        text = fmt_num(v) if isinstance(v, float) else repr(v)
        parts.append(f"{k}={text}")
    return f"{kind}({', '.join(parts)})"
