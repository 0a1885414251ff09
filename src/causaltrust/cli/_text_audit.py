"""``causaltrust text-audit``: how a text classifier's output moves under a text intervention."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

import causaltrust as ct
from causaltrust.cli import _io
from causaltrust.cli._app import EXIT_FAILED, MODEL_FILES, AllowPickleOpt, _user_errors, _wide, app
from causaltrust.scm import load_model

__all__ = ["text_audit", "write_and_print"]

_TEXT_SUFFIXES = (".txt", ".csv", ".parquet")


def _read_corpus(corpus: str, column: str, group_column: str | None, seed: int) -> tuple[list[str], Any]:
    """Texts (and group labels) from a file, or the built-in biography test set."""
    if corpus == "biographies" and not Path(corpus).exists():
        _, test = ct.text.load_biographies(2000, 1000, random_state=seed)
        groups = test[group_column].tolist() if group_column else None
        if group_column and group_column not in test.columns:
            raise ct.DataError(f"--group-column {group_column!r} is not a column of the biographies")
        return test["text"].tolist(), groups
    path = Path(corpus)
    if not path.is_file():
        raise ct.DataError(
            f"--corpus: {corpus!r} does not exist (a .txt, .csv or .parquet file, or 'biographies')"
        )
    if path.suffix.lower() == ".txt":
        if group_column:
            raise ct.DataError(
                "--group-column needs a .csv or .parquet corpus; a .txt corpus is one text per line"
            )
        return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()], None
    if path.suffix.lower() not in _TEXT_SUFFIXES:
        raise ct.DataError(f"--corpus: {corpus!r} must end in .txt, .csv or .parquet")
    df = _io.read_frame(path, "--corpus")
    for name, col in (("--text-column", column), ("--group-column", group_column)):
        if col is not None and col not in df.columns:
            raise ct.DataError(
                f"{name} {col!r} is not a column of {corpus!r} (columns: {', '.join(map(str, df.columns))})"
            )
    texts = df[column].astype(str).tolist()
    return texts, (df[group_column].tolist() if group_column else None)


def _thresholds(items: list[str]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            bound = float(value)
        except ValueError:
            bound = float("nan")
        if not sep or not name.strip() or bound != bound:
            raise ct.DataError(
                f"--threshold {item!r}: expected METRIC=MAX, e.g. --threshold text.flip_rate=0.05"
            )
        out[name.strip()] = {"max": bound}
    return out


@app.command("text-audit")
def text_audit(
    model: Annotated[
        Path,
        typer.Option(
            "--model",
            help=f"A fitted text classifier: {MODEL_FILES}.",
        ),
    ],
    corpus: Annotated[
        str, typer.Option("--corpus", help="Texts: .txt (one per line), .csv/.parquet, or 'biographies'.")
    ],
    intervention: Annotated[
        str, typer.Option("--intervention", help="gender, gender_words, entity, names:<ethnicity>, skill.")
    ] = "gender",
    relevant: Annotated[
        str | None,
        typer.Option("--relevant", help="An intervention the model SHOULD respond to (e.g. skill)."),
    ] = None,
    text_column: Annotated[str, typer.Option("--text-column", help="Column of texts in a table.")] = "text",
    group_column: Annotated[
        str | None, typer.Option("--group-column", help="Column of group labels (per-group metrics).")
    ] = None,
    threshold: Annotated[
        list[str] | None, typer.Option("--threshold", help="METRIC=MAX, repeatable; exit 1 when one fails.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the report (.html or .json).")
    ] = None,
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="Bootstrap resamples per interval.")] = 200,
    seed: Annotated[int, typer.Option("--seed", "-s", help="Random seed.")] = 0,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
    allow_pickle: AllowPickleOpt = False,
) -> None:
    """Audit a text classifier: flip rate and output change under a text intervention.

    Models are read like `audit` reads them. The safe choices: .ctm model files, written by
    `clf.save("clf.ctm")` for causaltrust's text classifiers (data only, rebuilt without unpickling), and
    .skops files, read with an explicit list of trusted types (never the types the file asks for).
    Pickles run code when they load, so .joblib/.pkl files need --allow-pickle. Exits 1 when a
    --threshold fails, 2 on bad input.

    Examples
    --------
    $ causaltrust text-audit --model clf.ctm --corpus biographies --intervention gender --relevant skill
    $ causaltrust text-audit --model clf.skops --corpus biographies --intervention gender --relevant skill
    """
    console = Console()
    with _user_errors():
        if out is not None and out.suffix.lower() not in (".html", ".json"):
            raise ct.DataError(f"--out {str(out)!r}: use a .html or .json file")
        if bootstrap < 0:
            raise ct.DataError(f"--bootstrap must be >= 0, got {bootstrap}")
        thresholds = _thresholds(threshold or [])
        texts, groups = _read_corpus(corpus, text_column, group_column, seed)
        estimator = load_model(model, allow_pickle=allow_pickle)
        try:
            report = ct.text.audit(
                estimator, texts, intervention=intervention, relevant=relevant, groups=groups,
                random_state=seed, n_bootstrap=bootstrap, thresholds=thresholds,
            )  # fmt: skip
        except ct.CausalTrustError:
            raise
        except Exception as exc:  # the model's own failure: one line unless --debug
            if debug:
                raise
            Console(stderr=True).print(f"error: {type(exc).__name__}: {exc}", markup=False, highlight=False)
            raise typer.Exit(3) from None
        report = ct.TrustReport(report.metrics, report.notes, {**report.meta, "corpus": corpus})
    write_and_print(console, report, out)


def write_and_print(console: Console, report: ct.TrustReport, out: Path | None) -> None:
    """Write a text report (.json or .html), print it with its notes; exit 1 on a failed threshold.

    Shared by ``text-audit`` and ``lm-audit``.
    """
    if out is not None:
        if out.suffix.lower() == ".json":
            _io.write_text(report.to_json(), out)
        else:
            ct.report.write_html(report, out)
    _wide(console).print(report)
    for note in report.notes:
        console.print(f"note: {note}", markup=False, highlight=False)
    if out is not None:
        typer.echo(f"Report: {out.resolve()}")
    if not report.passed:
        failed = ", ".join(m.name for m in report.failures())
        Console(stderr=True).print(f"FAILED thresholds: {failed}", markup=False, highlight=False)
        raise typer.Exit(EXIT_FAILED)
