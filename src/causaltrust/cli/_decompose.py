"""``causaltrust decompose``: split an observed disparity into direct, indirect and spurious parts."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

import causaltrust as ct
from causaltrust.cli import _io
from causaltrust.cli._app import SeedOpt, SpecArg, _check_min, _user_errors, _wide, app

__all__ = ["decompose", "derived_outcome"]

_DERIVED = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|==|!=|>|<)\s*([+-]?(?:\d+\.?\d*|\.\d+))\s*$")
_OPS: dict[str, Callable[[pd.Series, float], pd.Series]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq,
    "!=": operator.ne,
}  # fmt: skip


def derived_outcome(df: pd.DataFrame, outcome: str) -> tuple[pd.DataFrame, str]:
    """``COLUMN OP NUMBER`` (``decile_score>4``) becomes a 0/1 column of that name; names pass through."""
    if outcome in df.columns:
        return df, outcome
    m = _DERIVED.match(outcome)
    if m is None:
        return df, outcome  # the library names the missing column
    col, op, num = m.groups()
    if col not in df.columns:
        raise ct.DataError(f"--outcome {outcome!r}: {col!r} is not a column of the data")
    name = f"{col}{op}{num}"
    values = pd.to_numeric(df[col], errors="coerce")
    if values.isna().any():
        raise ct.DataError(f"--outcome {outcome!r}: {col!r} has non-numeric or missing values")
    return df.assign(**{name: _OPS[op](values, float(num)).astype(int)}), name


def _table(dec: ct.DisparityDecomposition) -> Table:
    table = Table(title=f"{dec.outcome} by {dec.protected} (x0 = {dec.baseline}; method {dec.method})")
    for col in ("x1", "term", "estimate", "95% interval", "n0", "n1"):
        table.add_column(col, justify="right" if col not in ("x1", "term") else "left")
    names = {
        "tv": "TV (observed)",
        "de": "ctf-DE (direct)",
        "ie": "ctf-IE (indirect)",
        "se": "ctf-SE (spurious)",
    }
    for row in dec.to_frame().itertuples():
        table.add_row(
            str(row.value),
            names[str(row.term)],
            f"{row.estimate:+.4f}",
            f"[{row.low:+.4f}, {row.high:+.4f}]",
            str(row.n0),
            str(row.n1),
        )
    return table


@app.command()
def decompose(
    spec: SpecArg,
    outcome: Annotated[
        str,
        typer.Option(
            "--outcome",
            "-y",
            help="Column to decompose: a spec variable, another column, or COLUMN OP NUMBER "
            "(e.g. 'decile_score>4', made a 0/1 column).",
        ),
    ],
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            "-d",
            help="Observed rows (.parquet or .csv); default for a shipped dataset (compas, adult, german): "
            "its own rows.",
        ),
    ] = None,
    value: Annotated[
        str | None, typer.Option("--value", help="x1 (default: every level but fairness.baseline).")
    ] = None,
    method: Annotated[str, typer.Option("--method", "-m", help="dr (cross-fitted) or plugin (SCM).")] = "dr",
    outcome_parents: Annotated[
        list[str] | None,
        typer.Option("--outcome-parent", help="Parent of an outcome outside the spec (repeatable)."),
    ] = None,
    folds: Annotated[int, typer.Option("--folds", help="Cross-fitting folds (dr).")] = 5,
    learner: Annotated[
        str, typer.Option("--learner", help="Nuisance models (dr): boosting or linear.")
    ] = "boosting",
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="Bootstrap resamples per interval (at least 10).")
    ] = 200,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write an HTML report here (.html).")
    ] = None,
    seed: SeedOpt = 0,
) -> None:
    """Decompose the observed disparity of an outcome into ctf-DE, ctf-IE and ctf-SE (TV = DE - IE - SE).

    A shipped dataset's name as SPEC brings its literature graph and, without --data, its rows (COMPAS,
    Adult and German credit ship with causaltrust; their sources: datasets/data/PROVENANCE.md).

    Example: causaltrust decompose compas --outcome 'decile_score>4' -o dec.html

    Example: causaltrust decompose compas.yaml --data my_compas.csv --outcome two_year_recid --method dr
    """
    console = Console()
    with _user_errors():
        # Checked here so the message names the flag (the library names its own parameter, n_boot).
        _check_min(bootstrap, "--bootstrap", 10)
        _io.check_suffix(out, "--out", (".html",))
        from causaltrust import datasets

        try:
            ts = _io.resolve_spec(spec)
        except ct.SpecError:
            if spec not in datasets.available():
                raise
            ts = datasets.spec(spec)
        if data is None:
            if spec not in datasets.available():
                raise ct.DataError(
                    f"--data is needed: {spec!r} is not a shipped dataset whose rows come with causaltrust "
                    f"({', '.join(datasets.available())})"
                )
            frame = datasets.load(spec)
        else:
            frame = _io.read_frame(data, "--data")
        df, name = derived_outcome(frame, outcome)
        x1 = None if value is None else _io.parse_value(value)
        dec = ct.decompose_disparity(
            ts, data=df, outcome=name, value=x1, method=method, folds=folds, random_state=seed,
            outcome_parents=outcome_parents, learner=learner, n_boot=bootstrap,
        )  # fmt: skip
        if out is not None:
            from causaltrust import report as ct_report

            ct_report.write_html(dec, out)
    _wide(console).print(_table(dec))
    console.print(f"intervals: {dec.interval}", markup=False, highlight=False)
    for note in dec.notes:
        console.print(f"note: {note}", markup=False, highlight=False)
    if out is not None:
        typer.echo(f"HTML: {out.resolve()}")
