"""A reviewer's defects of the command line (session 5): each is bad input named by its flag, exit 2.

One test per defect; every test asserts the exit code and the one line on stderr.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

import causaltrust as ct
from causaltrust import bench
from causaltrust.cli import app
from causaltrust.learners import ERMClassifier
from causaltrust.scm import FIT_MECHANISMS

runner = CliRunner()
SMALL = ["--n-train", "300", "--n-test", "300", "--shadows", "0", "--bootstrap", "5", "--recourse", "5"]


def invoke(*args: str | Path) -> tuple[int, str, str]:
    res = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})
    return res.exit_code, res.stdout, res.stderr


def bad_input(result: tuple[int, str, str], line: str) -> None:
    """Exit 2 and exactly ``error: <line>`` on stderr, nothing else there."""
    code, out, err = result
    assert code == 2, (code, out, err)
    assert err.strip().splitlines() == [f"error: {line}"], err


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("review")
    spec, scm = ct.scenarios.load("readmission")
    rows = scm.sample(400, random_state=0)
    rows.to_parquet(root / "test.parquet")
    X, y = rows[spec.features], rows[spec.target]
    ERMClassifier(spec=spec).fit(X, y).save(root / "model.ctm")
    sio.dump(LogisticRegression().fit(X, y), root / "model.skops")
    scm.save(root / "scm.npz")
    scm.save(root / "scm.ctm")  # an SCM file under a model file's name
    (root / "folder").mkdir()
    return root


# 1 -------------------------------------------------------------------------------------------------------
def test_negative_seed_is_bad_input_in_lm_audit_and_text_audit(files: Path) -> None:
    line = "--seed: expected a non-negative integer, got -1"
    bad_input(invoke("lm-audit", "--seed", "-1", "--max-prompts", "1"), line)
    bad_input(
        invoke("text-audit", "--model", files / "model.skops", "--corpus", "biographies", "-s", "-1"), line
    )


# 2 -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["decompose", "compas", "--outcome", "two_year_recid", "--bootstrap", "5"],
         "--bootstrap must be at least 10, got 5"),
        (["lm-audit", "--max-prompts", "-1"], "--max-prompts must be at least 1, got -1"),
        (["lm-audit", "--max-prompts", "0"], "--max-prompts must be at least 1, got 0"),
        (["lm-audit", "--bootstrap", "0"], "--bootstrap must be at least 1, got 0"),
        (["bench", "readmission", "-m", "erm", "-j", "0"], "--jobs must be at least 1, got 0"),
        (["bench", "readmission", "-m", "erm", "--seeds", "0,-1"],
         "--seeds '0,-1': seeds are non-negative integers, got -1"),
        (["demo", "-m", "erm", "--jobs", "0"], "--jobs must be at least 1, got 0"),
    ],
)  # fmt: skip
def test_a_value_below_its_minimum_names_the_flag(tmp_path: Path, args: list[str], line: str) -> None:
    if args[0] == "demo":
        args = [*args, "-o", str(tmp_path / "demo")]
    bad_input(invoke(*args), line)
    assert not (tmp_path / "demo").exists()  # refused before anything is written


def test_sensitivity_bootstrap_names_the_flag(files: Path) -> None:
    base = ["sensitivity", "readmission", "--model", files / "model.skops", "--data", files / "test.parquet"]
    bad_input(invoke(*base, "--bootstrap", "0"), "--bootstrap must be at least 1, got 0")


@pytest.mark.parametrize(
    ("command", "flag", "minimum"),
    [("decompose", "--bootstrap", "at least 10"), ("sensitivity", "--bootstrap", "at least 1"),
     ("lm-audit", "--max-prompts", "at least 1"), ("bench", "--jobs", "at least 1"),
     ("demo", "--jobs", "at least 1"), ("bench", "--seeds", "non-negative")],
)  # fmt: skip
def test_minimums_are_in_the_help(command: str, flag: str, minimum: str) -> None:
    code, out, _ = invoke(command, "--help")
    assert code == 0
    # The option's help runs from its flag to the next option; the minimum is in it.
    block = re.search(rf"^  (?:-\w, )?{flag}\b.*?(?=\n  -|\Z)", out, re.S | re.M)
    assert block is not None, out
    assert minimum in " ".join(block.group(0).split()), block.group(0)


# 3 -------------------------------------------------------------------------------------------------------
def test_demo_exits_like_bench_when_every_cell_fails(tmp_path: Path) -> None:
    # bgl needs a continuous target; readmission's is binary: every cell fails on bad input.
    first = "error: every cell failed (1); first error: BenchError: method 'bgl'"
    for command, where in (("bench", ["-o", tmp_path / "b.duckdb"]), ("demo", ["-o", tmp_path / "d"])):
        args = [command, *(["readmission"] if command == "bench" else []), "-m", "bgl", "--seeds", "1"]
        code, out, err = invoke(*args, *SMALL, "-j", "1", *where)
        assert code == 2, (command, out, err)
        assert err.strip().splitlines()[-1].startswith(first), err


def _fails(spec: object, scm: object, params: object, seed: int) -> object:
    raise RuntimeError(f"seed {seed} always fails")


def test_demo_exits_3_when_every_cell_fails_otherwise(tmp_path: Path) -> None:
    bench.register(bench.MethodSpec("review_fails", "test method", "none", _fails, {}))
    try:
        code, out, err = invoke(
            "demo", "-m", "review_fails", "--seeds", "1", *SMALL, "-j", "1", "-o", tmp_path
        )
    finally:
        del bench.METHODS["review_fails"]
    assert code == 3, (out, err)
    assert err.strip().splitlines()[-1].endswith("first error: RuntimeError: seed 0 always fails"), err


# 4 -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["bench", "demo"])
def test_method_help_lists_what_runs_and_says_the_default(command: str) -> None:
    code, out, _ = invoke(command, "--help")
    assert code == 0
    section = out.split("Methods (-m):")[1].split("Without -m:")[0]
    listed = set(re.findall(r"^    (\w+): ", section, re.M))
    tabular = {n for n, m in bench.METHODS.items() if m.data == "tabular"}
    assert listed == tabular  # text_* are refused by bench and demo, so not offered
    assert any(m.data == "text" for m in bench.METHODS.values())  # there is something to leave out
    flat = " ".join(out.split())
    assert "every registered method" not in flat
    assert f"on a continuous target {', '.join(bench.REGRESSION_METHODS)}" in flat
    assert "ct.bench.run_text" in flat


# 5 -------------------------------------------------------------------------------------------------------
def test_sensitivity_mechanisms_come_from_the_library_list(files: Path) -> None:
    _, out, _ = invoke("sensitivity", "--help")
    assert f"mechanisms: {', '.join(FIT_MECHANISMS)}." in " ".join(out.split())
    assert "gbm" in FIT_MECHANISMS
    base = ["sensitivity", "readmission", "--model", files / "model.skops", "--data", files / "test.parquet"]
    bad_input(invoke(*base, "--mechanisms", "tree"), "--mechanisms must be auto, linear or gbm, got 'tree'")
    # gbm passes the check: the run stops at the next bad input (a missing model), not at --mechanisms.
    code, _, err = invoke("sensitivity", "readmission", "--model", files / "none.skops", "--data",
                          files / "test.parquet", "--mechanisms", "gbm")  # fmt: skip
    assert code == 2
    assert "none.skops' does not exist" in err


# 6 -------------------------------------------------------------------------------------------------------
def test_audit_refuses_scm_and_fit_scm_together(files: Path) -> None:
    bad_input(
        invoke("audit", "readmission", "--model", files / "model.skops", "--data", files / "test.parquet",
               "--scm", files / "scm.npz", "--fit-scm"),
        "--scm and --fit-scm: give one; --scm reads a saved SCM, --fit-scm fits one from the --data rows",
    )  # fmt: skip


# 7 -------------------------------------------------------------------------------------------------------
def test_audit_names_a_directory_and_a_file_of_the_other_kind(files: Path) -> None:
    base = ["audit", "readmission", "--data", files / "test.parquet"]
    folder = str(files / "folder")
    bad_input(
        invoke(*base, "--model", folder),
        f"model file {folder!r} is a directory, not a file; give the file itself",
    )
    bad_input(
        invoke(*base, "--model", files / "model.skops", "--scm", folder),
        f"SCM file {folder!r} is a directory, not a file; give the file itself",
    )
    scm_file = "an SCM file (written by SCM.save; ct.SCM.load and the CLI's --scm read it)"
    for name in ("scm.ctm", "scm.npz"):
        path = str(files / name)
        bad_input(
            invoke(*base, "--model", path), f"{path!r} is not a causaltrust model file: it is {scm_file}"
        )
    model = str(files / "model.ctm")
    bad_input(
        invoke(*base, "--model", files / "model.skops", "--scm", model),
        f"{model!r} is not a causaltrust SCM file: it is a model file (written by estimator.save; "
        "ct.load_model and the CLI's --model read it)",
    )


# 8 -------------------------------------------------------------------------------------------------------
def test_report_decompose_sensitivity_lm_audit_refuse_unknown_extensions(files: Path, tmp_path: Path) -> None:
    txt = str(tmp_path / "r.txt")
    bad_input(
        invoke("report", tmp_path / "none.duckdb", "-o", txt),
        f"--out {txt!r}: unknown format '.txt'; use .html",
    )
    bad_input(
        invoke("decompose", "compas", "--outcome", "two_year_recid", "-o", txt),
        f"--out {txt!r}: unknown format '.txt'; use .html",
    )
    base = ["sensitivity", "readmission", "--model", files / "model.skops", "--data", files / "test.parquet"]
    bad_input(invoke(*base, "--html", txt), f"--html {txt!r}: unknown format '.txt'; use .html")
    bad_input(invoke(*base, "-o", txt), f"--out {txt!r}: unknown format '.txt'; use .parquet or .csv")
    bad_input(invoke("lm-audit", "-o", txt), f"--out {txt!r}: unknown format '.txt'; use .html or .json")
    assert not Path(txt).exists()


# 9 -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["decompose", "discover", "sensitivity", "lm-audit", "text-audit"])
def test_help_reads_as_plain_paragraphs(command: str) -> None:
    code, out, _ = invoke(command, "--help")
    assert code == 0
    for rst in ("-----", "``", "$ causaltrust"):  # numpydoc sections that click runs together
        assert rst not in out
    assert re.search(rf"^  Example: causaltrust {command} ", out, re.M), out


# 10 ------------------------------------------------------------------------------------------------------
def test_unknown_name_in_an_equation_lists_the_declared_variables(tmp_path: Path) -> None:
    alone = tmp_path / "alone.yaml"
    alone.write_text(
        "name: alone\ntarget: Y\nvariables:\n  Y: {type: binary, role: target, equation: 'bernoulli(foo)'}\n"
    )
    code, _, err = invoke("validate", alone)
    assert code == 2
    assert "No other variable is declared: declare 'foo' under variables, or use an allowed function" in err
    assert "()" not in err
    two = tmp_path / "two.yaml"
    two.write_text(
        "name: two\ntarget: Y\nvariables:\n  A: {type: binary, equation: 'bernoulli(0.5)'}\n"
        "  B: {type: binary, equation: 'bernoulli(0.5)'}\n"
        "  Y: {type: binary, role: target, equation: 'bernoulli(foo)'}\n"
    )
    code, _, err = invoke("validate", two)
    assert code == 2
    assert "unknown name 'foo'" in err
    assert "Use a declared variable (A, B) or an allowed function" in err
