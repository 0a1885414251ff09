"""Rich tables and a small self-contained HTML page for the command line's output."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from causaltrust._format import fmt_interval, fmt_num

if TYPE_CHECKING:  # imported lazily: every CLI call would pay for pandas and the SCM engine
    import pandas as pd

    from causaltrust.scm import EffectDecomposition
    from causaltrust.spec import TrustSpec

__all__ = [
    "decomposition_table",
    "frame_table",
    "path_roles",
    "path_table",
    "print_story",
    "shift_table",
    "spurious_note",
    "variable_roles",
    "variable_table",
]

Path = tuple[str, ...]


def _arrow(path: Sequence[str]) -> str:
    return " → ".join(path)


def variable_roles(spec: TrustSpec, name: str) -> list[str]:
    """Every role ``name`` plays in the spec, e.g. ``["protected", "feature", "sensitive"]``."""
    roles = []
    if name == spec.target:
        roles.append("target")
    if name == spec.protected:
        roles.append("protected")
    if name == spec.environment:
        roles.append("environment")
    if name in spec.features:
        roles.append("feature")
    if spec.recourse is not None:
        if name in spec.recourse.actionable:
            roles.append("actionable")
        if name in spec.recourse.immutable:
            roles.append("immutable")
    if spec.privacy is not None and name in spec.privacy.sensitive:
        roles.append("sensitive")
    if spec.explainability is not None and name in spec.explainability.irrelevant:
        roles.append("irrelevant")
    return roles


def variable_table(spec: TrustSpec) -> Table:
    """Variables with type (and categories), roles, observed flag and parents."""
    table = Table(title=escape(f"Variables of {spec.name!r}"), title_justify="left")
    for col in ("variable", "type", "role", "observed", "parents"):
        table.add_column(col)
    for name, var in spec.variables.items():
        vtype: str = var.type
        if var.categories:
            vtype += " [" + ", ".join(str(c) for c in var.categories) + "]"
        table.add_row(
            *map(
                escape,
                (
                    name,
                    vtype,
                    ", ".join(variable_roles(spec, name)),
                    "yes" if var.observed else "no (latent)",
                    ", ".join(spec.parents(name)) or "-",
                ),
            )
        )
    return table


def path_roles(spec: TrustSpec) -> list[tuple[str, str]]:
    """``(role, path)`` rows: unfair entries, fair full paths, spurious and contextual entries.

    Environment paths to the target covered by no entry count as contextual and are listed as full paths.
    """
    rows: list[tuple[str, str]] = []
    rows += [("unfair (entry)", _arrow(p)) for p in spec.unfair_paths()]
    rows += [("fair (full path)", _arrow(p)) for p in spec.fair_paths()]
    rows += [("spurious (entry)", _arrow(p)) for p in spec.spurious_paths()]
    rows += [("contextual (entry)", _arrow(p)) for p in spec.contextual_paths()]
    entries = set(spec.contextual_paths())
    rows += [("contextual (full path)", _arrow(p)) for p in spec.contextual_full_paths() if p not in entries]
    return rows


def path_table(spec: TrustSpec) -> Table:
    """The spec's path roles as a table."""
    table = Table(
        title="Path roles",
        title_justify="left",
        caption="An entry may be a prefix: it stands for every path to the target (or prediction) it begins.",
        caption_justify="left",
    )
    table.add_column("role")
    table.add_column("path")
    rows = path_roles(spec)
    for role, path in rows:
        table.add_row(escape(role), escape(path))
    if not rows:
        table.add_row("-", "no fairness or robustness section")
    return table


def shift_table(spec: TrustSpec) -> Table:
    """Named shifts: what each changes."""
    table = Table(title="Shifts", title_justify="left")
    for col in ("shift", "changes", "description"):
        table.add_column(col)
    for name, shift in spec.shifts.items():
        changes = [f"do {k}={v}" for k, v in shift.do.items()]
        changes += [f"{k} := {eq}" for k, eq in shift.equations.items()]
        changes += [f"{k} categories {list(c)}" for k, c in shift.categories.items()]
        table.add_row(escape(name), escape("\n".join(changes)), escape(shift.description))
    if not spec.shifts:
        table.add_row("-", "none", "")
    return table


def _fmt(x: float) -> str:
    return fmt_num(x, signed=True)


def decomposition_table(dec: EffectDecomposition, *, title: str) -> Table:
    """Effects with 95% Monte-Carlo intervals, one section per source level."""
    table = Table(title=escape(title), title_justify="left")
    # Names and numbers never wrap; the path list takes what width is left.
    width = max((len(e.name) for e in dec.effects), default=6)
    table.add_column("effect", no_wrap=True, min_width=width)
    table.add_column("estimate", justify="right", no_wrap=True, min_width=8)
    table.add_column("95% interval", justify="right", no_wrap=True, min_width=18)
    table.add_column("paths", overflow="fold")
    previous = None
    for e in dec.effects:
        group = e.name.rsplit(".", 1)[0]
        if previous is not None and group != previous:
            table.add_section()
        previous = group
        interval = f"[{_fmt(e.low)}, {_fmt(e.high)}]"
        table.add_row(*map(escape, (e.name, _fmt(e.estimate), interval, " ; ".join(map(_arrow, e.paths)))))
    note = spurious_note(dec)
    if note:
        table.caption = note
        table.caption_justify = "left"
    return table


def spurious_note(dec: EffectDecomposition) -> str:
    """Why spurious rows read 0 on the target, when they do (empty otherwise)."""
    if not any(e.name.endswith(".spurious") and not e.paths for e in dec.effects):
        return ""
    y = dec.target
    return (
        f"Spurious entries end at a measured feature that does not cause {y}, so their effect on {y} "
        "is 0 by design; they act on a model's prediction (audit)."
    )


def frame_table(df: pd.DataFrame, *, title: str, rows: int = 5) -> Table:
    """The first ``rows`` rows of ``df``."""
    import pandas as pd

    table = Table(title=escape(title), title_justify="left")
    for col in df.columns:
        table.add_column(
            escape(str(col)), justify="right" if pd.api.types.is_numeric_dtype(df[col]) else "left"
        )
    head = df.head(rows)
    cells = [
        [fmt_num(float(v), 3) for v in head[c]]
        if pd.api.types.is_float_dtype(head[c])
        else [str(v) for v in head[c]]
        for c in head.columns
    ]
    for row in zip(*cells, strict=True):
        table.add_row(*map(escape, row))
    return table


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 60rem;
       color: #1d1d1f; line-height: 1.4; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: 0.2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
p.sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1rem; font-size: 0.92rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.35rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f4f4f6; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.group td { border-top: 2px solid #999; }
.unfair { color: #b3261e; } .fair { color: #1b6e20; }
.spurious { color: #8a5a00; } .contextual { color: #1a4f9c; }
footer { color: #777; font-size: 0.85rem; margin-top: 2rem; }
"""


def headline_table(ledger: Any, metrics: Sequence[tuple[str, str]], *, title: str) -> Table:
    """Mean [Student-t 95% interval] over seeds per configuration (spec, method, parameters, settings).

    Settings that differ between configurations (e.g. ``n_train``) and the spec, when a ledger holds
    several, are columns of their own, so cells that differ in them are never pooled.
    """
    import pandas as pd

    from causaltrust.bench import summarize

    agg = ledger if isinstance(ledger, pd.DataFrame) else summarize(ledger)
    table = Table(title=escape(title))
    table.add_column("method", overflow="fold")
    table.add_column("seeds", justify="right")
    ident = (["spec"] if "spec" in agg.columns and agg["spec"].nunique() > 1 else []) + list(
        agg.attrs.get("settings", [])
    )
    for s in ident:
        table.add_column(escape(s))
    present = [(m, label) for m, label in metrics if m in agg.columns]
    for _, label in present:
        table.add_column(escape(label), justify="right")
    for _, r in agg.iterrows():
        cells = []
        for m, _ in present:
            lo, hi = r.get(m + "::lo"), r.get(m + "::hi")
            ci = fmt_interval(lo, hi, 3)
            cells.append(fmt_num(r.get(m), 3) + (f"\n{ci}" if ci else ""))
        table.add_row(
            escape(str(r["name"] if ident else r["config"])),
            str(r["n_seeds"]),
            *(escape(str(r.get(s))) for s in ident),
            *map(escape, cells),
        )
    return table


def print_story(console: Any, ledger: Any) -> None:
    """The ledger's headline sentences (causal methods against the best baseline), one per line."""
    from causaltrust.report import story_lines

    for line in story_lines(ledger):
        console.print(escape(line), soft_wrap=True)
