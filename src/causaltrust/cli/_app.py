"""The ``causaltrust`` command: validate, simulate, effects, audit, demo.

Thin by design: each command parses its arguments, calls the library and prints with rich. Exit codes
carry the verdict: 0 ok, 2 bad input (one line on stderr, no traceback), 1 reserved for failed audit
thresholds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console

import causaltrust as ct
from causaltrust.cli import _io, _render

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILED", "EXIT_OK", "app", "main"]

EXIT_OK = 0
EXIT_FAILED = 1  # an audit threshold failed
EXIT_BAD_INPUT = 2

app = typer.Typer(
    name="causaltrust",
    help="Fair, robust, private and explainable AI by reasoning with a causal model.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

SpecArg = Annotated[
    str,
    typer.Argument(help="A spec YAML file, a built-in scenario (e.g. readmission) or dataset (e.g. compas)."),
]
SeedOpt = Annotated[
    int, typer.Option("--seed", "-s", help="Random seed; the same seed gives the same output.")
]


def _one_line(message: str) -> str:
    # Equation errors span several lines (the text, a caret, the allowed grammar); stderr gets one.
    parts = [s.strip() for s in message.splitlines()]
    return " ".join(p for p in parts if p and set(p) != {"^"})


@contextlib.contextmanager
def _user_errors() -> Iterator[None]:
    """Turn errors about the user's input into exit code 2 with a one-line reason on stderr."""
    try:
        yield
    except (ct.CausalTrustError, OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        msg = str(exc) if isinstance(exc, ct.CausalTrustError) else f"{type(exc).__name__}: {exc}"
        Console(stderr=True, soft_wrap=True).print(f"error: {_one_line(msg)}", markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _wide(console: Console) -> Console:
    """Tables printed to a pipe or a log keep their columns (rich would squeeze them to 80)."""
    return console if console.is_terminal else Console(width=max(console.width, 140))


def _check_n(n: int, option: str) -> None:
    if n < 2:
        raise ct.DataError(f"{option} must be at least 2, got {n}")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"causaltrust {ct.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Fair, robust, private and explainable AI by reasoning with a causal model."""


@app.command()
def validate(spec: SpecArg) -> None:
    """Check a trust spec and summarise its variables, path roles and shifts.

    Examples
    --------
    $ causaltrust validate examples/readmission.yaml
    """
    console = Console()
    with _user_errors():
        ts = _io.resolve_spec(spec)
        variables, paths, shifts = _render.variable_table(ts), _render.path_table(ts), _render.shift_table(ts)
    console.print(variables)
    console.print(paths)
    console.print(shifts)
    n_lat = len(ts.latent)
    console.print(
        f"[bold green]valid[/]: {ts.name!r}, target {ts.target}, {len(ts.variables)} variables "
        f"({n_lat} latent), {len(ts.shifts)} shift(s)"
    )


@app.command()
def simulate(
    spec: SpecArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file: .parquet or .csv.")],
    n: Annotated[int, typer.Option("-n", "--n", help="Number of units to draw.")] = 10_000,
    do: Annotated[
        list[str] | None, typer.Option("--do", help="Hard intervention VARIABLE=VALUE (repeatable).")
    ] = None,
    shift: Annotated[str | None, typer.Option("--shift", help="Apply the spec's named shift first.")] = None,
    seed: SeedOpt = 0,
    observed_only: Annotated[
        bool, typer.Option("--observed-only", help="Drop latent ('observed: false') columns.")
    ] = False,
) -> None:
    """Draw units from the spec's SCM and write them to a Parquet or CSV file (atomically).

    Examples
    --------
    $ causaltrust simulate readmission -n 1000 -o sample.parquet --do A=1 --seed 0
    """
    console = Console()
    with _user_errors():
        _check_n(n, "-n")
        _io.check_frame_path(out)
        ts = _io.resolve_spec(spec)
        interventions = _io.parse_do(do or [], ts)
        scm = ct.SCM.from_spec(ts)
        if shift is not None:
            scm = scm.shift(shift)
        df = scm.sample(n, do=interventions or None, random_state=seed)
        if observed_only:
            df = df[[c for c in df.columns if c not in set(ts.latent)]]
        _io.write_frame(df, out)
    console.print(f"Wrote {len(df):,} rows × {df.shape[1]} columns to {out.resolve()}")
    console.print(_render.frame_table(df, title="First rows"))


@app.command()
def effects(
    spec: SpecArg,
    n: Annotated[int, typer.Option("-n", "--n", help="Monte-Carlo units.")] = 100_000,
    seed: SeedOpt = 0,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the effects as JSON here.")
    ] = None,
) -> None:
    """Decompose the protected attribute's and the environment's effects on the target by path role.

    Protected attribute: total, unfair, fair and interaction. Environment (per level against the first
    category): total, spurious, contextual and interaction. 95% Monte-Carlo intervals.

    Examples
    --------
    $ causaltrust effects readmission -n 100000 --json effects.json
    """
    console = Console()
    with _user_errors():
        _check_n(n, "-n")
        ts = _io.resolve_spec(spec)
        dec = ct.decompose_effects(ct.SCM.from_spec(ts), n=n, random_state=seed)
        if json_out is not None:
            _io.write_json(_io.effects_payload(ts, dec, seed=seed), json_out)
    _wide(console).print(
        _render.decomposition_table(dec, title=f"Effects on {dec.target} ({ts.name}, n={n:,})")
    )
    if json_out is not None:
        console.print(f"JSON: {json_out.resolve()}")


DEMO_METRICS = [
    ("accuracy.observational", "obs acc"),
    ("accuracy.interventional", "interv acc"),
    ("accuracy.fair_world", "fair-world acc"),
    ("fairness.unfair_path_effect", "unfair path"),
    ("robustness.spurious_path_effect", "spurious path"),
    ("fairness.demographic_parity_difference", "DP diff"),
    ("privacy.mia_advantage", "MIA adv"),
    ("privacy.epsilon", "eps"),
]


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the ledger and the report.")] = Path(
        "reports/demo"
    ),
    seeds: Annotated[int, typer.Option("--seeds", help="Seeds per method.")] = 3,
    n_train: Annotated[int, typer.Option("--n-train", help="Training rows per cell.")] = 20_000,
    n_test: Annotated[int, typer.Option("--n-test", help="Test rows per cell.")] = 20_000,
    n_shadow: Annotated[int, typer.Option("--shadows", help="Shadow models per cell.")] = 8,
    n_bootstrap: Annotated[int, typer.Option("--bootstrap", help="Bootstrap resamples.")] = 200,
    recourse_units: Annotated[int, typer.Option("--recourse", help="Rejected units given recourse.")] = 200,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", help="Worker processes (default: cores).")
    ] = None,
    methods: Annotated[
        list[str] | None, typer.Option("--method", "-m", help="Only these methods (repeatable).")
    ] = None,
) -> None:
    """The main job: every learner on the readmission scenario, audited, compared, reported.

    Runs each registered method for ``--seeds`` seeds (train, then audit against the true SCM), records
    every metric in ``OUT/results.duckdb`` (a killed run resumes where it stopped), writes
    ``OUT/report.html`` and prints the headline table and the report's path.

    Examples
    --------
    $ causaltrust demo --out reports/demo
    """
    console = Console()
    with _user_errors():
        for value, option in ((n_train, "--n-train"), (n_test, "--n-test")):
            _check_n(value, option)
        if seeds < 1:
            raise ct.DataError(f"--seeds must be at least 1, got {seeds}")
        from causaltrust import bench
        from causaltrust import report as ct_report

        chosen = methods or sorted(n for n, m in bench.METHODS.items() if m.data == "tabular")
        out.mkdir(parents=True, exist_ok=True)
        store = out / "results.duckdb"
        spec, scm = ct.scenarios.load("readmission")
        dec = ct.decompose_effects(scm, n=100_000, random_state=0)
        _wide(console).print(
            _render.decomposition_table(dec, title="Effects on Y in the true SCM (n=100,000)")
        )
        _io.write_json(_io.effects_payload(spec, dec, seed=0), out / "effects.json")
        console.print(
            f"[bold]readmission[/]: {len(chosen)} methods x {seeds} seeds, {n_train:,} train / "
            f"{n_test:,} test rows per cell; ledger {store}"
        )
        ledger = bench.run(
            "readmission",
            methods=chosen,
            seeds=list(range(seeds)),
            store=store,
            n_train=n_train,
            n_test=n_test,
            n_bootstrap=n_bootstrap,
            n_shadow=n_shadow,
            recourse_units=recourse_units,
            n_jobs=jobs,
            progress=console.is_terminal,
        )
        report = ct_report.write_html(ledger, out / "report.html")
    _wide(console).print(_render.headline_table(ledger, DEMO_METRICS, title="Mean over seeds"))
    _render.print_story(console, ledger)
    stats = ledger.last_sweep
    if stats is not None:
        console.print(
            f"cells: {stats.n_ran} ran, {stats.n_skipped} already done, {stats.n_failed} failed; "
            f"{stats.wall_seconds:.0f} s"
        )
    typer.echo(f"Ledger: {store.resolve()}")
    typer.echo(f"Report: {report.resolve()}")


@app.command("bench")
def bench_cmd(
    spec: SpecArg,
    methods: Annotated[list[str], typer.Option("--methods", "-m", help="Methods to run (repeatable).")],
    seeds: Annotated[int, typer.Option("--seeds", help="Number of seeds (0..N-1).")] = 3,
    store: Annotated[Path, typer.Option("--store", help="DuckDB ledger (created if missing).")] = Path(
        "results.duckdb"
    ),
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Real data (.parquet/.csv, or a dataset name) instead of simulating."),
    ] = None,
    grid: Annotated[str | None, typer.Option("--grid", help="JSON grid, e.g. '{\"C\": [0.1, 1]}'.")] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler address, e.g. tcp://127.0.0.1:8786.")
    ] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help="Local worker processes.")] = None,
    n_train: Annotated[int, typer.Option("--n-train")] = 20_000,
    n_test: Annotated[int, typer.Option("--n-test")] = 20_000,
    scm_mechanisms: Annotated[
        str,
        typer.Option("--scm-mechanisms", help="Real data: SCM.fit mechanisms, 'auto' or 'linear' (faster)."),
    ] = "auto",
) -> None:
    """Run a sweep (methods x grid x seeds), recording every audited metric in a ledger.

    Examples
    --------
    $ causaltrust bench readmission -m erm -m selective --seeds 3 --store results.duckdb --jobs 2
    $ causaltrust bench compas -m erm -m selective_fitted --seeds 3 --scm-mechanisms linear
    """
    console = Console()
    with _user_errors():
        import json

        from causaltrust import bench

        ts = _io.resolve_spec(spec)
        by_name = not Path(spec).is_file() and spec in (*ct.scenarios.available(), *ct.datasets.available())
        target = spec if by_name else ts  # a dataset name also brings its rows
        frame = _io.read_frame(data, "--data") if data is not None else None
        try:
            parsed = json.loads(grid) if grid else None
        except json.JSONDecodeError as exc:
            raise ct.DataError(f"--grid is not valid JSON: {exc}") from None
        ledger = bench.run(
            target,
            data=frame,
            methods=methods,
            seeds=list(range(seeds)),
            grid=parsed,
            store=store,
            scheduler=scheduler,
            n_jobs=jobs,
            n_train=n_train,
            n_test=n_test,
            progress=console.is_terminal,
            scm_mechanisms=scm_mechanisms,
        )
    _wide(console).print(_render.headline_table(ledger, DEMO_METRICS, title=f"{store}"))
    _render.print_story(console, ledger)
    typer.echo(f"Ledger: {store.resolve()}")


@app.command("report")
def report_cmd(
    store: Annotated[Path, typer.Argument(help="A ledger written by `causaltrust bench` or `demo`.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")] = Path("report.html"),
) -> None:
    """Render a ledger as one self-contained HTML report."""
    with _user_errors():
        from causaltrust import bench
        from causaltrust import report as ct_report

        if not store.is_file():
            raise ct.DataError(f"ledger {str(store)!r} does not exist")
        path = ct_report.write_html(bench.Ledger.open(store), output)
    typer.echo(f"Report: {path.resolve()}")


@app.command()
def audit(
    spec: SpecArg,
    model: Annotated[Path, typer.Option("--model", "-m", help="A fitted model saved with joblib.")],
    data: Annotated[Path, typer.Option("--data", "-d", help="Test units (.parquet or .csv).")],
    train: Annotated[
        Path | None, typer.Option("--train", help="The model's training rows (membership inference).")
    ] = None,
    scm_path: Annotated[
        Path | None, typer.Option("--scm", help="An SCM saved with SCM.save (default: the spec's equations).")
    ] = None,
    fit_scm: Annotated[
        bool,
        typer.Option("--fit-scm", help="Fit the SCM from the data instead of using the spec's equations."),
    ] = False,
    objectives: Annotated[
        list[str] | None,
        typer.Option("--objective", "-o", help="Audit only these objectives (repeatable)."),
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the report as JSON here.")] = None,
    html_out: Annotated[Path | None, typer.Option("--html", help="Write the report as HTML here.")] = None,
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="Bootstrap resamples per interval.")] = 200,
    seed: SeedOpt = 0,
) -> None:
    """Audit a saved model for accuracy, fairness, robustness, privacy and explainability.

    Prints the trust report; exits 1 when a threshold of the spec fails, 2 on bad input. Model and SCM
    files are unpickled: only pass files you trust.

    Examples
    --------
    $ causaltrust audit readmission --model model.joblib --data test.parquet --train train.parquet
    """
    console = Console()
    with _user_errors():
        import joblib

        ts = _io.resolve_spec(spec)
        if not model.is_file():
            raise ct.DataError(f"--model: {str(model)!r} does not exist")
        estimator = joblib.load(model)
        test = _io.read_frame(data, "--data")
        train_df = _io.read_frame(train, "--train") if train is not None else None
        scm = None
        if scm_path is not None:
            scm = ct.SCM.load(scm_path)
        elif not fit_scm and all(ts.equation(v) is not None for v in ts.variables):
            scm = ct.SCM.from_spec(ts)
        # No SCM given and none simulable: fit the reference on the held-out test rows, not the training rows.
        report = ct.audit(
            estimator, spec=ts, scm=scm, data=test, train_data=train_df, objectives=objectives,
            random_state=seed, n_bootstrap=bootstrap, scm_data=test if scm is None else None,
        )  # fmt: skip
        if json_out is not None:
            _io.write_text(report.to_json(), json_out)
        if html_out is not None:
            from causaltrust import report as ct_report

            ct_report.write_html(report, html_out)
    _wide(console).print(report)
    for note in report.notes:
        console.print(f"note: {note}", markup=False, highlight=False)
    for label, path in (("JSON", json_out), ("HTML", html_out)):
        if path is not None:
            typer.echo(f"{label}: {path.resolve()}")
    if not report.passed:
        failed = ", ".join(m.name for m in report.failures())
        Console(stderr=True).print(f"FAILED thresholds: {failed}", markup=False, highlight=False)
        raise typer.Exit(EXIT_FAILED)


def main() -> None:
    """Entry point of the ``causaltrust`` console script."""
    app()
