"""``causaltrust discover``: find a graph in a table and write a spec skeleton to edit and validate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

import causaltrust as ct
from causaltrust.cli import _io
from causaltrust.cli._app import SeedOpt, _user_errors, _wide, app

__all__ = ["discover_cmd"]


def _pairs(items: list[str] | None, option: str) -> list[tuple[str, str]]:
    out = []
    for item in items or []:
        parts = item.split("->")
        if len(parts) != 2 or not all(p.strip() for p in parts):
            raise ct.SpecError(f"{option}: expected CAUSE->EFFECT, got {item!r}")
        out.append((parts[0].strip(), parts[1].strip()))
    return out


@app.command("discover")
def discover_cmd(
    data: Annotated[Path, typer.Argument(help="The table (.parquet or .csv), one column per variable.")],
    target: Annotated[str, typer.Option("--target", help="The outcome column (last tier).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Write the YAML spec skeleton here.")],
    protected: Annotated[
        str | None, typer.Option("--protected", help="The protected attribute (first tier).")
    ] = None,
    environment: Annotated[
        str | None, typer.Option("--environment", help="The environment (first tier; CD-NOD's context).")
    ] = None,
    method: Annotated[str, typer.Option("--method", "-m", help="pc, fci, ges, cdnod or lingam.")] = "pc",
    alpha: Annotated[float, typer.Option("--alpha", help="Significance level of the CI tests.")] = 0.05,
    test: Annotated[str, typer.Option("--test", help="auto, fisherz, chisq, gsq or kci.")] = "auto",
    forbid: Annotated[
        list[str] | None, typer.Option("--forbid", help="A forbidden edge CAUSE->EFFECT (repeatable).")
    ] = None,
    require: Annotated[
        list[str] | None, typer.Option("--require", help="A required edge CAUSE->EFFECT (repeatable).")
    ] = None,
    html_out: Annotated[
        Path | None, typer.Option("--html", help="Write the graph and its edge stability as HTML here.")
    ] = None,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="Resamples for edge stability (column order shuffled).")
    ] = 0,
    seed: SeedOpt = 0,
) -> None:
    """Discover a causal graph with background knowledge and write a spec skeleton.

    Tiers: protected and environment first, the target last, every other column in between. Edges the data
    cannot orient are written commented out and listed under 'unoriented_edges:', so `causaltrust
    validate` fails until you orient them.

    Example: causaltrust discover data.parquet --protected A --target Y --environment E -o spec.yaml
    """
    console = Console()
    with _user_errors():
        frame = _io.read_frame(data, "DATA")
        cols = [str(c) for c in frame.columns]
        for role, var in (("--target", target), ("--protected", protected), ("--environment", environment)):
            if var is not None and var not in cols:
                raise ct.DataError(f"{role}: {var!r} is not a column of {str(data)!r}; columns: {cols}")
        first = [v for v in (protected, environment) if v is not None]
        middle = [c for c in cols if c not in first and c != target]
        tiers = [t for t in (first, middle, [target]) if t]
        background = {
            "tiers": tiers,
            "forbidden": _pairs(forbid, "--forbid"),
            "required": _pairs(require, "--require"),
        }
        try:
            result = ct.discover(
                frame, method=method, background=background, alpha=alpha, test=test,
                environment=environment, n_bootstrap=bootstrap, random_state=seed,
            )  # fmt: skip
        except ImportError as exc:
            raise ct.DataError(str(exc)) from None
        text = result.to_spec(target=target, protected=protected, environment=environment, name=data.stem)
        _io.write_text(text, out)
        if html_out is not None:
            from causaltrust import report as ct_report

            ct_report.write_sensitivity_html(None, html_out, discovery=result)
    table = Table(title=f"{method} on {data.name}: {len(result.edges)} edges (n = {result.n})")
    # Stability needs resamples: without --bootstrap the column would be empty, so it is left out.
    table.add_column("edge")
    if bootstrap > 0:
        table.add_column(f"stability ({bootstrap} resamples)")
    for edge in result.edges:
        stab = result.edge_stability(edge) if bootstrap > 0 else None
        table.add_row(str(edge), *([] if bootstrap <= 0 else ["–" if stab is None else f"{stab:.2f}"]))
    _wide(console).print(table)
    if bootstrap > 0:
        console.print(
            "stability: the share of resamples (rows drawn with replacement, column order shuffled) in which "
            "the edge was found with this orientation.",
            markup=False,
            highlight=False,
        )
    else:
        console.print(
            "Edge stability not computed: --bootstrap N re-runs the search on N resamples and reports how "
            "often each edge comes back.",
            markup=False,
            highlight=False,
        )
    for note in result.notes:
        console.print(f"note: {note}", markup=False, highlight=False)
    pending = result.unoriented_edges()
    if pending:
        console.print(
            f"{len(pending)} edge(s) are not oriented: edit {out} and orient them before "
            "`causaltrust validate` accepts it.",
            markup=False,
            highlight=False,
        )
    typer.echo(f"Spec skeleton: {out.resolve()}")
    if html_out is not None:
        typer.echo(f"HTML: {html_out.resolve()}")
