"""``causaltrust sensitivity``: re-run an audit of a fixed model under graph edits; exit 1 on a flip."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

import causaltrust as ct
from causaltrust.cli import _io
from causaltrust.cli._app import (
    EXIT_FAILED,
    MODEL_FILES,
    AllowPickleOpt,
    SeedOpt,
    SpecArg,
    _user_errors,
    _wide,
    app,
)
from causaltrust.scm import load_model

__all__ = ["parse_edit", "sensitivity_cmd"]


def parse_edit(text: str) -> dict[str, Any]:
    """``drop U->V``, ``add U->V``, ``role N1,N2,... ROLE`` or ``unmeasure M`` as an edit dict.

    Examples
    --------
    >>> parse_edit("drop A->Z")
    {'op': 'drop_edge', 'edge': ['A', 'Z']}
    >>> parse_edit("role A,Z fair")
    {'op': 'set_role', 'path': ['A', 'Z'], 'role': 'fair'}
    """
    parts = text.split()
    if len(parts) == 2 and parts[0] in ("drop", "add") and parts[1].count("->") == 1:
        u, v = parts[1].split("->")
        return {"op": f"{parts[0]}_edge", "edge": [u, v]}
    if len(parts) == 3 and parts[0] == "role":
        return {"op": "set_role", "path": parts[1].split(","), "role": parts[2]}
    if len(parts) == 2 and parts[0] == "unmeasure":
        return {"op": "unmeasure", "variable": parts[1]}
    raise ct.SpecError(
        f"--edit: cannot read {text!r}; expected 'drop U->V', 'add U->V', 'role A,Z fair' or 'unmeasure M'"
    )


@app.command("sensitivity")
def sensitivity_cmd(
    spec: SpecArg,
    model: Annotated[
        Path,
        typer.Option(
            "--model",
            help=f"The fitted model, kept fixed: {MODEL_FILES}.",
        ),
    ],
    data: Annotated[Path, typer.Option("--data", "-d", help="Test units (.parquet or .csv).")],
    edit: Annotated[
        list[str] | None,
        typer.Option("--edit", "-e", help="'drop U->V', 'add U->V', 'role A,Z fair' or 'unmeasure M'."),
    ] = None,
    scm_data: Annotated[
        Path | None, typer.Option("--scm-data", help="Rows to fit the SCMs on (default: --data).")
    ] = None,
    objectives: Annotated[
        list[str] | None, typer.Option("--objective", help="Audit objectives (repeatable).")
    ] = None,
    mechanisms: Annotated[str, typer.Option("--mechanisms", help="SCM.fit: auto or linear.")] = "auto",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the frame (.csv, .parquet).")] = None,
    html_out: Annotated[Path | None, typer.Option("--html", help="Write an HTML section here.")] = None,
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="Bootstrap resamples per interval.")] = 50,
    seed: SeedOpt = 0,
    allow_pickle: AllowPickleOpt = False,
) -> None:
    """Refit the SCM under each graph edit and re-run the audit of a fixed model.

    Without --edit, every single-edge drop and add around the protected attribute and the environment.
    Exits 1 when a thresholded conclusion flips under an edit, 2 on bad input. The model is read like
    `audit` reads it: .ctm and .skops files hold data only; pickles need --allow-pickle.

    Examples
    --------
    $ causaltrust sensitivity readmission --model model.skops --data test.parquet -e "drop A->Z"
    """
    console = Console()
    with _user_errors():
        ts = _io.resolve_spec(spec)
        edits = [parse_edit(e) for e in edit] if edit else None
        estimator = load_model(model, allow_pickle=allow_pickle)
        test = _io.read_frame(data, "--data")
        fit_rows = _io.read_frame(scm_data, "--scm-data") if scm_data is not None else None
        frame = ct.sensitivity(
            estimator, spec=ts, data=test, edits=edits, scm_data=fit_rows, objectives=objectives,
            mechanisms=mechanisms, random_state=seed, n_bootstrap=bootstrap,
        )  # fmt: skip
        if out is not None:
            _io.write_frame(frame, out)
        if html_out is not None:
            from causaltrust import report as ct_report

            ct_report.write_sensitivity_html(frame, html_out)
    table = Table(title=f"Sensitivity of {ts.name!r} to graph edits (model fixed, SCM refitted per edit)")
    for col in ("edit", "metric", "base", "edited", "change", "flip / reason"):
        table.add_column(col)
    headline = {"fairness.unfair_path_effect", "robustness.spurious_path_effect"}
    for r in frame.itertuples(index=False):
        if r.metric == "":
            table.add_row(str(r.edit), "", "", "", "", f"not identified: {r.reason}")
        elif r.metric in headline or bool(r.flipped):
            table.add_row(
                str(r.edit), str(r.metric), f"{r.base:+.4f}", f"{r.edited:+.4f}", f"{r.change:+.4f}",
                "FLIPPED" if bool(r.flipped) else "",
            )  # fmt: skip
    _wide(console).print(table)
    for label, path in (("Frame", out), ("HTML", html_out)):
        if path is not None:
            typer.echo(f"{label}: {path.resolve()}")
    flips = frame[frame["flipped"].astype(bool)]
    if len(flips):
        listed = ", ".join(f"{e}: {m}" for e, m in zip(flips["edit"], flips["metric"], strict=True))
        err = Console(stderr=True)
        err.print(f"FLIPPED thresholded conclusions: {listed}", markup=False, highlight=False)
        raise typer.Exit(EXIT_FAILED)
