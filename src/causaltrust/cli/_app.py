"""The ``causaltrust`` command: validate, simulate, effects, audit, bench, report, demo.

Thin by design: each command parses its arguments, calls the library and prints with rich. Exit codes
(DESIGN.md "Exit codes"): 0 ok; 1 a trust threshold failed (audit-like commands only); 2 bad input (one
line on stderr naming the thing; also a sweep whose every cell failed on bad input); 3 an internal error
or every cell of a sweep failed otherwise (one line).
``--debug`` anywhere on the command line adds the traceback. Heavy modules are imported inside the
commands, so ``causaltrust --help`` and every command start without loading the whole library.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperCommand, TyperGroup

import causaltrust as ct
from causaltrust.cli import _io, _render

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILED", "EXIT_INTERNAL", "EXIT_OK", "app", "main"]

EXIT_OK = 0
EXIT_FAILED = 1  # a trust threshold failed or a conclusion flipped (audit, sensitivity, text-audit, lm-audit)
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3  # a bug, or every cell of a sweep failed other than on bad input

_STATE = {"debug": False}


def _is_user_error(exc: BaseException) -> bool:
    import yaml

    return isinstance(exc, ct.CausalTrustError | OSError | yaml.YAMLError | UnicodeDecodeError | MemoryError)


def _fail(exc: BaseException) -> int:
    """Print one line for ``exc`` (and the traceback under --debug); return the exit code."""
    user = _is_user_error(exc)
    msg = str(exc) if isinstance(exc, ct.CausalTrustError) else f"{type(exc).__name__}: {exc}"
    err = Console(stderr=True, soft_wrap=True)
    if _STATE["debug"]:
        err.print("".join(traceback.format_exception(exc)), markup=False, highlight=False, end="")
    if user:
        err.print(f"error: {_one_line(msg)}", markup=False, highlight=False)
        return EXIT_BAD_INPUT
    hint = "" if _STATE["debug"] else " (run again with --debug for the traceback)"
    err.print(f"internal error: {_one_line(msg)}{hint}", markup=False, highlight=False)
    return EXIT_INTERNAL


class _Group(TyperGroup):
    """Every command's errors end in one line and an exit code; ``--debug`` anywhere shows tracebacks."""

    def main(self, args: Sequence[str] | None = None, *a: Any, **kw: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        _STATE["debug"] = "--debug" in argv
        return super().main([x for x in argv if x != "--debug"], *a, **kw)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException, KeyboardInterrupt):
            raise
        except Exception as exc:
            raise typer.Exit(_fail(exc)) from None


app = typer.Typer(
    name="causaltrust",
    cls=_Group,
    help="Fair, robust, private and explainable AI by reasoning with a causal model.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

SpecArg = Annotated[
    str,
    typer.Argument(
        metavar="SPEC",
        help="A spec YAML file, a built-in scenario (e.g. readmission) or dataset (e.g. compas).",
    ),
]


def _seed(value: int) -> int:
    # A negative seed reached NumPy's SeedSequence and ended as an internal error (exit 3).
    if value < 0:
        raise ct.DataError(f"--seed: expected a non-negative integer, got {value}")
    return value


SeedOpt = Annotated[
    int,
    typer.Option("--seed", "-s", help="Random seed; the same seed gives the same output.", callback=_seed),
]
DebugOpt = Annotated[
    bool, typer.Option("--debug", help="Show the traceback of an error (accepted anywhere on the line).")
]
# Bytes one drawn unit costs per variable while sampling (a float64 column, noise, codes, the frame).
_BYTES_PER_VALUE = 32
# What every command that reads a --model file takes, in its help; pickles run code while they load.
MODEL_FILES = (
    "a .ctm file (a causaltrust learner's model.save(path)) or a .skops file (any scikit-learn model, "
    "skops.io.dump), both data only; a .joblib/.pkl pickle only with --allow-pickle"
)
# Every command that reads a --model file takes this flag.
AllowPickleOpt = Annotated[
    bool,
    typer.Option("--allow-pickle", help="Load a pickled --model (pickles run code: only files you trust)."),
]


def _one_line(message: str) -> str:
    # Equation errors span several lines (the text, a caret, the allowed grammar); stderr gets one.
    parts = [s.strip() for s in message.splitlines()]
    return " ".join(p for p in parts if p and set(p) != {"^"})


@contextlib.contextmanager
def _user_errors() -> Iterator[None]:
    """Turn errors about the user's input into exit code 2 with a one-line reason on stderr.

    Kept for commands that want to handle errors themselves; the app's group does the same for all.
    """
    try:
        yield
    except Exception as exc:
        raise typer.Exit(_fail(exc)) from None


def _wide(console: Console) -> Console:
    """Tables printed to a pipe or a log keep their columns (rich would squeeze them to 80)."""
    return console if console.is_terminal else Console(width=max(console.width, 140))


def _check_n(n: int, option: str) -> None:
    if n < 2:
        raise ct.DataError(f"{option} must be at least 2, got {n}")


def _check_min(value: int, option: str, low: int) -> None:
    if value < low:
        raise ct.DataError(f"{option} must be at least {low}, got {value}")


def _check_sample_size(n: int, n_vars: int) -> None:
    """Refuse a draw that cannot fit in memory, with the estimate, before allocating anything."""
    need = n * max(n_vars, 1) * _BYTES_PER_VALUE
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX: assume a generous 64 GiB
        total = 64 * 2**30
    if need > total // 2:
        raise ct.DataError(
            f"-n {n:,}: about {need / 2**30:,.1f} GiB for {n_vars} variables, more than half of this "
            f"machine's memory ({total / 2**30:,.1f} GiB); draw fewer units (several files if needed)"
        )


def parse_seeds(text: str) -> list[int]:
    """``"3"`` → seeds 0, 1, 2 (a count); ``"0,4,7"`` or ``"0 4 7"`` → those seeds (a list)."""
    parts = [p for p in text.replace(",", " ").split() if p]
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise ct.DataError(f"--seeds {text!r}: give a count (3) or a list of seeds (0,4,7)") from None
    if not values:
        raise ct.DataError("--seeds: give a count (3) or a list of seeds (0,4,7)")
    if len(values) == 1 and "," not in text:
        if values[0] < 1:
            raise ct.DataError(f"--seeds must be at least 1, got {values[0]}")
        return list(range(values[0]))
    negative = [v for v in values if v < 0]
    if negative:
        raise ct.DataError(f"--seeds {text!r}: seeds are non-negative integers, got {negative[0]}")
    return values


def _method_help() -> str:
    return (
        "Method to run (repeatable; default: the methods listed above that take the spec's target, as said "
        "under the list)."
    )


class _SweepCommand(TyperCommand):
    """``--help`` of bench and demo lists the tabular methods they run (imported only when help is asked).

    Text methods are registered too but need a text corpus: bench and demo refuse them, so they are not
    listed; ``ct.bench.run_text`` runs them.
    """

    def format_help(self, ctx: Any, formatter: Any) -> None:
        from causaltrust import bench

        tabular = sorted((m for m in bench.METHODS.values() if m.data == "tabular"), key=lambda m: m.name)
        lines = [f"  {m.name}: {m.description}" for m in tabular]
        # The default is _chosen_methods's rule, spelled out from the same lists.
        default = (
            f"\n\nWithout -m: on a binary target every method above but {', '.join(bench.REGRESSION_ONLY)} "
            f"(continuous targets only); on a continuous target {', '.join(bench.REGRESSION_METHODS)} (their "
            "regressor twins). The text methods (text_*) need a text corpus, so they are not run here: "
            "ct.bench.run_text runs them."
        )
        base = (self.help or "").split("\n\nMethods (-m):")[0]
        self.help = base + "\n\nMethods (-m):\n\n\b\n" + "\n".join(lines) + default
        if self.name == "demo":
            quick, full = bench.demo_settings(), bench.demo_settings(full=True)
            rows = [
                f"  {k}: {'all' if quick[k] is None else quick[k]} (quick), "
                f"{'all' if full[k] is None else full[k]} (--full)"
                for k in quick
            ]
            self.help += "\n\nSettings:\n\n\b\n" + "\n".join(rows)
        super().format_help(ctx, formatter)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"causaltrust {ct.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """Fair, robust, private and explainable AI by reasoning with a causal model.

    Exit codes: 0 ok; 1 a trust threshold failed (audit-like commands); 2 bad input (also a sweep whose
    every cell failed on it); 3 internal error or every cell of a sweep failed otherwise.
    """


@app.command()
def validate(spec: SpecArg, debug: DebugOpt = False) -> None:
    """Check a trust spec and summarise its variables, path roles and shifts.

    Example: causaltrust validate examples/readmission.yaml
    """
    console = Console()
    ts = _io.resolve_spec(spec)
    variables, paths, shifts = _render.variable_table(ts), _render.path_table(ts), _render.shift_table(ts)
    console.print(variables)
    console.print(paths)
    console.print(shifts)
    n_lat = len(ts.latent)
    console.print(
        f"[bold green]valid[/]: {escape(repr(ts.name))}, target {escape(ts.target)}, {len(ts.variables)} "
        f"variables ({n_lat} latent), {len(ts.shifts)} shift(s)"
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
    latent: Annotated[
        bool,
        typer.Option(
            "--latent",
            help="Also write latent ('observed: false') columns; by default only what data would hold.",
        ),
    ] = False,
    observed_only: Annotated[
        bool,
        typer.Option("--observed-only", hidden=True, help="The default now: latent columns are left out."),
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """Draw units from the spec's SCM and write them to a Parquet or CSV file (atomically).

    Latent variables ('observed: false') are left out, as real data would lack them, so the file can go
    straight to `discover`, `audit` or `SCM.fit`; --latent keeps them (for checking against the truth).

    Example: causaltrust simulate readmission -n 1000 -o sample.parquet --do A=1 --seed 0
    """
    console = Console()
    _check_n(n, "-n")
    _io.check_frame_path(out, "--out")
    ts = _io.resolve_spec(spec)
    _check_sample_size(n, len(ts.variables))
    interventions = _io.parse_do(do or [], ts)
    scm = ct.SCM.from_spec(ts)
    if shift is not None:
        scm = scm.shift(shift)
    df = scm.sample(n, do=interventions or None, random_state=seed)
    if observed_only and latent:
        raise ct.DataError("--latent and --observed-only contradict each other; give one")
    if not latent:
        df = df[[c for c in df.columns if c not in set(ts.latent)]]
    _io.write_frame(df, out)
    console.print(f"Wrote {len(df):,} rows × {df.shape[1]} columns to {escape(str(out.resolve()))}")
    console.print(_render.frame_table(df, title="First rows"))


@app.command()
def effects(
    spec: SpecArg,
    n: Annotated[int, typer.Option("-n", "--n", help="Monte-Carlo units.")] = 100_000,
    seed: SeedOpt = 0,
    json_out: Annotated[
        Path | None, typer.Option("--out", "-o", "--json", help="Also write the effects as JSON here.")
    ] = None,
    debug: DebugOpt = False,
) -> None:
    """Decompose the protected attribute's and the environment's effects on the target by path role.

    Protected attribute: total, unfair, fair and interaction. Environment (per level against the first
    category): total, spurious, contextual and interaction. 95% Monte-Carlo intervals.

    Example: causaltrust effects readmission -n 100000 -o effects.json
    """
    console = Console()
    _check_n(n, "-n")
    ts = _io.resolve_spec(spec)
    _check_sample_size(n, len(ts.variables))
    dec = ct.decompose_effects(ct.SCM.from_spec(ts), n=n, random_state=seed)
    if json_out is not None:
        _io.write_json(_io.effects_payload(ts, dec, seed=seed), json_out)
    _wide(console).print(
        _render.decomposition_table(
            dec, title=f"Effects on {escape(dec.target)} ({escape(ts.name)}, n={n:,})"
        )
    )
    if json_out is not None:
        typer.echo(f"JSON: {json_out.resolve()}")


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

# The demo's columns for a continuous target (issue 26): errors in outcome units, effects as |Δ| per unit.
DEMO_REGRESSION_METRICS = [
    ("accuracy.rmse", "RMSE"),
    ("accuracy.r2", "R2"),
    ("accuracy.fair_world_rmse", "fair-world RMSE"),
    ("fairness.unfair_path_effect_abs", "unfair |d|"),
    ("fairness.fair_path_effect_abs", "fair |d|"),
    ("fairness.mean_difference", "mean diff"),
    ("privacy.mia_advantage", "MIA adv"),
]

# Options bench and demo share (one meaning per flag).
SeedsOpt = Annotated[
    str,
    typer.Option(
        "--seeds",
        metavar="N|LIST",
        help="A count of at least 1 (3: seeds 0, 1, 2) or a list of non-negative seeds (0,4,7).",
    ),
]
MethodsOpt = Annotated[
    list[str] | None, typer.Option("--method", "-m", metavar="METHOD", help=_method_help())
]
NTrainOpt = Annotated[int, typer.Option("--n-train", help="Training rows per cell.")]
NTestOpt = Annotated[int, typer.Option("--n-test", help="Test rows per cell.")]
ShadowsOpt = Annotated[
    int, typer.Option("--shadows", help="Shadow models per cell (membership inference; 0 skips it).")
]
BootstrapOpt = Annotated[
    int, typer.Option("--bootstrap", help="Bootstrap resamples per interval (at least 1).")
]
RecourseOpt = Annotated[
    int, typer.Option("--recourse", help="Rejected units given recourse per cell (at least 1).")
]
JobsOpt = Annotated[
    int | None,
    typer.Option("--jobs", "-j", help="Local worker processes, at least 1 (default: the number of cores)."),
]


def _check_sweep_options(
    n_train: int, n_test: int, n_shadow: int, n_bootstrap: int, recourse: int, jobs: int | None
) -> None:
    _check_n(n_train, "--n-train")
    _check_n(n_test, "--n-test")
    if jobs is not None:
        _check_min(jobs, "--jobs", 1)
    _check_min(n_shadow, "--shadows", 0)
    _check_min(n_bootstrap, "--bootstrap", 1)
    _check_min(recourse, "--recourse", 1)


def _chosen_methods(methods: list[str] | None, continuous: bool) -> list[str]:
    """The user's methods, else every method that takes the target: text methods need a text corpus,
    regression-only ones a continuous target, and a continuous target takes the regression methods."""
    from causaltrust import bench

    if methods:
        return list(methods)
    if continuous:
        return list(bench.REGRESSION_METHODS)
    return sorted(
        n for n, m in bench.METHODS.items() if m.data == "tabular" and n not in bench.REGRESSION_ONLY
    )


def _sweep_summary(ledger: Any) -> tuple[str, bool]:
    """The summary line of a sweep and whether every cell that ran failed (exit 3)."""
    stats = ledger.last_sweep
    if stats is None:
        return "", False
    line = (
        f"cells: {stats.n_ran} ran, {stats.n_skipped} already done, {stats.n_failed} failed; "
        f"{stats.wall_seconds:.0f} s"
    )
    return line, stats.n_ran > 0 and stats.n_failed == stats.n_ran


def _report_failures(console: Console, ledger: Any) -> int:
    """Print the sweep's summary (and its first error when every cell failed); return the exit code.

    One rule for bench and demo: 0 when a cell ran, 2 when every cell failed on bad input
    (:func:`_input_errors_only`), 3 when every cell failed otherwise.
    """
    line, all_failed = _sweep_summary(ledger)
    if line:
        console.print(line, markup=False, highlight=False)
    if all_failed:
        cells = ledger.cells("failed")
        first = str(cells["error"].iloc[0]) if len(cells) else "unknown error"
        Console(stderr=True, soft_wrap=True).print(
            f"error: every cell failed ({len(cells)}); first error: {_one_line(first)}",
            markup=False,
            highlight=False,
        )
    if not all_failed:
        return EXIT_OK
    return EXIT_BAD_INPUT if _input_errors_only(ledger) else EXIT_INTERNAL


_FULL_HELP = (
    "The full statistical settings (about 7.5 minutes on 2 quiet cores). Without it, the quick settings "
    "(under a minute): the same 3 seeds of 20,000 training rows, audited on fewer test rows without the "
    "shadow-model attack, which tell the same story (threshold verdicts, best and tied per objective). "
    "Options given explicitly override either (both listed below)."
)


def _demo_help(key: str, text: str) -> str:
    return f"{text} [default: the quick setting, or the full one with --full]"


@app.command(cls=_SweepCommand)
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the ledger and the report.")] = Path(
        "reports/demo"
    ),
    full: Annotated[bool, typer.Option("--full", help=_FULL_HELP)] = False,
    seeds: Annotated[
        str | None, typer.Option("--seeds", metavar="N|LIST", help=_demo_help("seeds", "A count or a list."))
    ] = None,
    n_train: Annotated[
        int | None, typer.Option("--n-train", help=_demo_help("n_train", "Training rows."))
    ] = None,
    n_test: Annotated[int | None, typer.Option("--n-test", help=_demo_help("n_test", "Test rows."))] = None,
    n_shadow: Annotated[
        int | None, typer.Option("--shadows", help=_demo_help("n_shadow", "Shadow models per cell."))
    ] = None,
    n_bootstrap: Annotated[
        int | None, typer.Option("--bootstrap", help=_demo_help("n_bootstrap", "Bootstrap resamples."))
    ] = None,
    recourse_units: Annotated[
        int | None, typer.Option("--recourse", help=_demo_help("recourse_units", "Units given recourse."))
    ] = None,
    jobs: JobsOpt = None,
    methods: MethodsOpt = None,
    scenario: Annotated[
        str,
        typer.Option("--scenario", help="Built-in scenario to run (e.g. credit_limit: a continuous target)."),
    ] = "readmission",
    debug: DebugOpt = False,
) -> None:
    """The main job: every learner on a built-in scenario (default readmission), audited, compared, reported.

    Runs each registered method for each seed (train, then audit against the true SCM), records every
    metric in OUT/results.duckdb (a killed run resumes where it stopped), writes OUT/report.html and
    prints the headline table and the report's path. Exits 0 when cells ran, whatever the thresholds
    say (the report shows them); like bench, 2 when every cell failed on bad input (a method that
    refuses the scenario's target), 3 when every cell failed otherwise. The quick default settings
    train on the same rows as --full and audit on fewer, without the shadow attack; they tell --full's
    story (benchmarks/RESULTS.md).

    Example: causaltrust demo -o reports/demo

    Example: causaltrust demo --scenario credit_limit --seeds 1 --shadows 0 -o reports/credit
    """
    console = Console()
    kind = "full" if full else "quick"
    # The first line within a second of the start, before the sweep machinery is imported.
    console.print(
        f"causaltrust demo: {kind} settings; importing the learners ...", markup=False, highlight=False
    )
    from causaltrust.bench import demo_settings

    preset = demo_settings(full)
    seeds = str(preset["seeds"]) if seeds is None else seeds
    n_train = int(preset["n_train"]) if n_train is None else n_train
    n_test = int(preset["n_test"]) if n_test is None else n_test
    n_shadow = int(preset["n_shadow"]) if n_shadow is None else n_shadow
    n_bootstrap = int(preset["n_bootstrap"]) if n_bootstrap is None else n_bootstrap
    recourse_units = int(preset["recourse_units"]) if recourse_units is None else recourse_units
    _check_sweep_options(n_train, n_test, n_shadow, n_bootstrap, recourse_units, jobs)
    seed_list = parse_seeds(seeds)
    console.print(
        f"causaltrust demo, {kind} settings: {len(seed_list)} seed(s), {n_train:,} train / {n_test:,} test "
        f"rows per cell, {n_shadow} shadow models"
        + ("" if preset["shadow_rows"] is None else f" on {preset['shadow_rows']:,} rows each")
        + f", {n_bootstrap} bootstrap resamples, {recourse_units} recourse units"
        + ("" if full else " (`causaltrust demo --full` for the full settings)"),
        markup=False,
        highlight=False,
    )
    from causaltrust import bench
    from causaltrust import report as ct_report
    from causaltrust.audit import AuditOptions

    spec, scm = ct.scenarios.load(scenario)
    continuous = spec.variables[spec.target].type == "continuous"
    chosen = _chosen_methods(methods, continuous)
    bench.expand_grid(chosen, None)  # unknown methods fail before anything is written
    out.mkdir(parents=True, exist_ok=True)
    store = out / "results.duckdb"
    dec = ct.decompose_effects(scm, n=100_000, random_state=0)
    title = f"Effects on {spec.target} in the true SCM (n=100,000)"
    _wide(console).print(_render.decomposition_table(dec, title=title))
    _io.write_json(_io.effects_payload(spec, dec, seed=0), out / "effects.json")
    console.print(
        f"[bold]{escape(scenario)}[/]: {len(chosen)} methods x {len(seed_list)} seeds, {n_train:,} train / "
        f"{n_test:,} test rows per cell; ledger {escape(str(store))}"
    )
    chosen_settings = (len(seed_list), n_train, n_test, n_shadow, n_bootstrap, recourse_units)
    if (
        chosen_settings
        == tuple(
            preset[k] for k in ("seeds", "n_train", "n_test", "n_shadow", "n_bootstrap", "recourse_units")
        )
        and methods is None
        and scenario == "readmission"
    ):
        console.print(
            "About 7.5 minutes on 2 quiet cores, most of it the shadow-model attack."
            if full
            else "Under a minute on 2 quiet cores (`--full`: about 7.5 minutes).",
            markup=False,
            highlight=False,
        )
    ledger = bench.run(
        scenario,
        methods=chosen,
        seeds=seed_list,
        store=store,
        n_train=n_train,
        n_test=n_test,
        options=AuditOptions(
            n_bootstrap=n_bootstrap,
            n_shadow=n_shadow,
            recourse_units=recourse_units,
            shadow_rows=preset["shadow_rows"],
        ),
        n_jobs=jobs,
        progress=True,
    )
    report = ct_report.write_html(ledger, out / "report.html")
    columns = DEMO_REGRESSION_METRICS if continuous else DEMO_METRICS
    _wide(console).print(_render.headline_table(ledger, columns, title="Mean over seeds"))
    _render.print_story(console, ledger)
    code = _report_failures(console, ledger)
    typer.echo(f"Ledger: {store.resolve()}")
    typer.echo(f"Report: {report.resolve()}")
    if code:
        raise typer.Exit(code)


@app.command("bench", cls=_SweepCommand)
def bench_cmd(
    spec: SpecArg,
    methods: MethodsOpt = None,
    seeds: SeedsOpt = "3",
    store: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            "--store",
            help="DuckDB ledger (created if missing; default: SPEC-NAME.duckdb, one ledger per scenario).",
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data", "-d", help="Real data (.parquet/.csv, or a dataset name) instead of simulating."
        ),
    ] = None,
    grid: Annotated[
        str | None, typer.Option("--grid", help='Parameter grid as JSON, e.g. {"C": [0.1, 1]}.')
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler address, e.g. tcp://127.0.0.1:8786.")
    ] = None,
    jobs: JobsOpt = None,
    n_train: NTrainOpt = 20_000,
    n_test: NTestOpt = 20_000,
    n_shadow: ShadowsOpt = 8,
    n_bootstrap: BootstrapOpt = 200,
    recourse_units: RecourseOpt = 200,
    scm_mechanisms: Annotated[
        str,
        typer.Option(
            "--scm-mechanisms", help="Real data: SCM.fit mechanisms, 'auto', 'linear' (faster) or 'gbm'."
        ),
    ] = "auto",
    audit_mechanisms: Annotated[
        str | None,
        typer.Option(
            "--audit-mechanisms",
            help="Real data: the audit's reference SCM mechanisms ('auto', 'linear', 'gbm'); default: the "
            "other class than --scm-mechanisms (linear <-> gbm; auto -> gbm), so no method is graded by its "
            "own model class. Give --scm-mechanisms' value for a same-class audit.",
        ),
    ] = None,
    dr_check: Annotated[
        bool,
        typer.Option(
            "--dr-check/--no-dr-check",
            help="Real data: also record the model-free DR decomposition of each model's predictions (dr.*).",
        ),
    ] = True,
    debug: DebugOpt = False,
) -> None:
    """Run a sweep (methods x grid x seeds), recording every audited metric in a ledger.

    Without -o the ledger is named after the spec (readmission.duckdb), so sweeps of two scenarios never
    share a file. Sweeps sharing a ledger claim cells, so each cell is computed once. Exits 0 when cells ran
    (thresholds are reported, not enforced), 2 when every cell failed on bad input (a grid value a method
    refuses), 3 when every cell failed otherwise.

    Example: causaltrust bench readmission -m erm -m selective --seeds 3 -o results.duckdb --jobs 2

    Example: causaltrust bench compas -m erm -m selective_fitted --seeds 3 --scm-mechanisms linear
    """
    import json

    from causaltrust import bench
    from causaltrust.audit import AuditOptions

    console = Console()
    _check_sweep_options(n_train, n_test, n_shadow, n_bootstrap, recourse_units, jobs)
    seed_list = parse_seeds(seeds)
    ts = _io.resolve_spec(spec)
    if store is None:  # one ledger per scenario: a second scenario never lands in the first one's file
        import re

        store = Path(f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', ts.name).strip('._') or 'results'}.duckdb")
    by_name = not Path(spec).exists() and spec in (*ct.scenarios.available(), *ct.datasets.available())
    target: Any = spec if by_name else ts  # a dataset name also brings its rows
    frame = _io.read_frame(data, "--data") if data is not None else None
    try:
        parsed = json.loads(grid) if grid else None
    except json.JSONDecodeError as exc:
        raise ct.DataError(f"--grid is not valid JSON: {exc}") from None
    ledger = bench.run(
        target,
        data=frame,
        methods=_chosen_methods(methods, ts.variables[ts.target].type == "continuous"),
        seeds=seed_list,
        grid=parsed,
        store=store,
        scheduler=scheduler,
        n_jobs=jobs,
        n_train=n_train,
        n_test=n_test,
        options=AuditOptions(n_bootstrap=n_bootstrap, n_shadow=n_shadow, recourse_units=recourse_units),
        progress=True,
        scm_mechanisms=scm_mechanisms,
        audit_mechanisms=audit_mechanisms,
        dr_check=dr_check,
    )
    # Columns a ledger lacks are dropped: a classifier's sweep shows accuracy, a regressor's RMSE.
    columns = [*DEMO_METRICS, *(c for c in DEMO_REGRESSION_METRICS if c not in DEMO_METRICS)]
    columns.append(("dr.ctf_de", "direct ctf-DE [DR check]"))  # real data: the model-free check beside them
    _wide(console).print(_render.headline_table(ledger, columns, title=escape(str(store))))
    for label in sorted(set(ledger.cells()["settings_json"].map(bench.audit_label))):
        console.print(escape(f"Audit: {label}"), soft_wrap=True)  # which audit every effect above holds under
    _render.print_story(console, ledger)
    code = _report_failures(console, ledger)
    typer.echo(f"Ledger: {store.resolve()}")
    if code:
        raise typer.Exit(code)


# Errors of a cell that mean the sweep's input was bad (a grid value a method refuses, data it cannot
# use), not that causaltrust failed: when every cell failed with one of these, bench exits 2, not 3.
_INPUT_ERRORS = ("InvalidParameterError", "DataError", "SpecError", "GraphError", "BenchError")


def _input_errors_only(ledger: Any) -> bool:
    errors = ledger.cells("failed")["error"].astype(str)
    return len(errors) > 0 and bool(errors.str.startswith(tuple(f"{e}:" for e in _INPUT_ERRORS)).all())


@app.command("report")
def report_cmd(
    store: Annotated[Path, typer.Argument(help="A ledger written by `causaltrust bench` or `demo`.")],
    output: Annotated[
        Path, typer.Option("--out", "-o", "--output", help="HTML file to write (.html).")
    ] = Path("report.html"),
    debug: DebugOpt = False,
) -> None:
    """Render a ledger as one self-contained HTML report."""
    from causaltrust import bench
    from causaltrust import report as ct_report

    _io.check_suffix(output, "--out", (".html",))
    if not store.is_file():
        raise ct.DataError(f"ledger {str(store)!r} does not exist")
    ledger = bench.Ledger.open(store)
    try:
        path = ct_report.write_html(ledger, output)
        cells = ledger.cells()
    except ValueError as exc:  # json.JSONDecodeError is one: a row's JSON was damaged
        raise ct.BenchError(f"ledger {str(store)!r} holds invalid JSON in a row ({exc})") from None
    except Exception as exc:
        import duckdb

        if not isinstance(exc, duckdb.Error):
            raise
        first = str(exc).strip().splitlines()[0]
        raise ct.BenchError(f"ledger {str(store)!r} is damaged and cannot be read ({first})") from None
    n_failed = int((cells["status"] != "ok").sum())
    if len(cells) == 0:
        typer.echo("note: the ledger holds no cells; the report is empty")
    elif n_failed:
        ok = len(cells) - n_failed
        typer.echo(f"note: {n_failed} of {len(cells)} cells failed; the report covers the other {ok}")
    typer.echo(f"Report: {path.resolve()}")


@app.command()
def audit(
    spec: SpecArg,
    model: Annotated[
        Path,
        typer.Option(
            "--model",
            help=f"The fitted model: {MODEL_FILES}.",
        ),
    ],
    data: Annotated[Path, typer.Option("--data", "-d", help="Test units (.parquet or .csv).")],
    train: Annotated[
        Path | None, typer.Option("--train", help="The model's training rows (membership inference).")
    ] = None,
    scm_path: Annotated[
        Path | None,
        typer.Option(
            "--scm", help="An SCM saved with SCM.save (default: the spec's equations); not with --fit-scm."
        ),
    ] = None,
    fit_scm: Annotated[
        bool,
        typer.Option(
            "--fit-scm", help="Fit the SCM from the --data rows instead of using the spec's equations."
        ),
    ] = False,
    objectives: Annotated[
        list[str] | None,
        typer.Option("--objective", help="Audit only these objectives (repeatable)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the report here: .json or .html.")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the report as JSON here.")] = None,
    html_out: Annotated[Path | None, typer.Option("--html", help="Write the report as HTML here.")] = None,
    bootstrap: BootstrapOpt = 200,
    allow_pickle: AllowPickleOpt = False,
    seed: SeedOpt = 0,
    debug: DebugOpt = False,
) -> None:
    """Audit a saved model for accuracy, fairness, robustness, privacy and explainability.

    Prints the trust report; exits 1 when a threshold of the spec fails, 2 on bad input. Save a
    causaltrust learner with model.save("model.ctm") and any other scikit-learn model with skops
    (skops.io.dump(model, "model.skops")); both hold data only. A pickle runs code when it loads, so
    .joblib/.pkl files need --allow-pickle. --scm files are written by SCM.save and hold data only.

    Example: causaltrust audit readmission --model model.skops --data test.parquet --train train.parquet
    """
    console = Console()
    _check_min(bootstrap, "--bootstrap", 1)
    if scm_path is not None and fit_scm:
        raise ct.DataError(
            "--scm and --fit-scm: give one; --scm reads a saved SCM, --fit-scm fits one from the --data rows"
        )
    _io.check_suffix(out, "--out", (".json", ".html"))
    if out is not None:
        if out.suffix.lower() == ".json":
            json_out = json_out or out
        else:
            html_out = html_out or out
    ts = _io.resolve_spec(spec)
    from causaltrust.scm import load_model

    estimator = load_model(model, allow_pickle=allow_pickle)
    test = _io.read_frame(data, "--data")
    train_df = _io.read_frame(train, "--train") if train is not None else None
    scm = None
    if scm_path is not None:
        scm = ct.SCM.load(scm_path)
    elif not fit_scm and all(ts.equation(v) is not None for v in ts.variables):
        scm = ct.SCM.from_spec(ts)
    # No SCM given and none simulable: fit the reference on the held-out test rows, not the training rows.
    from causaltrust.audit import AuditOptions

    report = ct.audit(
        estimator, spec=ts, scm=scm, data=test, train_data=train_df, objectives=objectives,
        random_state=seed, options=AuditOptions(n_bootstrap=bootstrap),
        scm_data=test if scm is None else None,
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
