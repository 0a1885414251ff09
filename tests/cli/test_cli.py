"""The command line: success paths, exit code 2 on bad input, files that read back."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import causaltrust as ct
from causaltrust.cli import app

runner = CliRunner()


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "250"})
    return result.exit_code, result.stdout, result.stderr


def assert_bad_input(code: int, out: str, err: str, fragment: str) -> None:
    assert code == 2, (code, out, err)
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert fragment in lines[0]


def test_version() -> None:
    code, out, _ = invoke("--version")
    assert code == 0
    assert out.strip() == f"causaltrust {ct.__version__}"


def test_console_script_entry_point() -> None:
    from importlib.metadata import entry_points

    (ep,) = [e for e in entry_points(group="console_scripts") if e.name == "causaltrust"]
    assert ep.value == "causaltrust.cli:main"
    assert callable(ep.load())


# -- validate ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["readmission", "lending", "hiring"])
def test_validate_builtin(name: str) -> None:
    code, out, err = invoke("validate", name)
    assert code == 0, err
    assert "valid" in out
    spec = ct.scenarios.load(name)[0]
    for var in spec.variables:
        assert var in out
    for shift in spec.shifts:
        assert shift in out


def test_validate_file_shows_roles() -> None:
    path = Path(ct.scenarios.path("readmission"))
    code, out, _ = invoke("validate", path)
    assert code == 0
    assert "unfair (entry)" in out
    assert "A → Z" in out
    assert "fair (full path)" in out
    assert "A → L → Y" in out
    assert "spurious (entry)" in out
    assert "E → X" in out
    assert "contextual (entry)" in out
    assert "no (latent)" in out
    assert "new_hospital" in out
    assert out.strip().splitlines()[-1].startswith("valid")


def test_validate_missing_file() -> None:
    assert_bad_input(*invoke("validate", "does/not/exist.yaml"), "does not exist")


def test_validate_malformed_yaml(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("target: Y\nvariables: [\n")
    assert_bad_input(*invoke("validate", bad), "not valid YAML")


def test_validate_bad_equation_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text('target: Y\nvariables:\n  Y: {type: continuous, equation: "2*Q + normal(0, 1)"}\n')
    assert_bad_input(*invoke("validate", bad), "'Q'")


def test_validate_unknown_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text('target: Y\ncolour: red\nvariables:\n  Y: {type: continuous, equation: "normal(0, 1)"}\n')
    assert_bad_input(*invoke("validate", bad), "colour")


# -- simulate ------------------------------------------------------------------------------------------
def test_simulate_parquet_reads_back(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "sample.parquet"
    code, stdout, err = invoke("simulate", "readmission", "-n", "300", "-o", out, "--seed", "3")
    assert code == 0, err
    assert str(out.resolve()) in stdout.replace("\n", "")
    df = pd.read_parquet(out)
    spec, scm = ct.scenarios.load("readmission")
    # Latent L is left out, as real data lacks it: the file goes straight to discover / fit / audit.
    assert list(df.columns) == [v for v in spec.variables if v != "L"]
    assert len(df) == 300
    truth = scm.sample(300, random_state=3)
    pd.testing.assert_frame_equal(df, truth.drop(columns=["L"]), check_dtype=False)
    assert [p.name for p in out.parent.iterdir()] == ["sample.parquet"]  # no temporary file left
    code, _, err = invoke("simulate", "readmission", "-n", "300", "-o", out, "--seed", "3", "--latent")
    assert code == 0, err
    pd.testing.assert_frame_equal(pd.read_parquet(out), truth, check_dtype=False)


def test_simulate_same_seed_same_bytes(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.parquet", tmp_path / "b.parquet", tmp_path / "c.parquet"
    for path, seed in ((a, "5"), (b, "5"), (c, "6")):
        code, _, err = invoke("simulate", "hiring", "-n", "200", "-o", path, "--seed", seed)
        assert code == 0, err
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_simulate_do_and_shift(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    code, _, err = invoke(
        "simulate",
        "lending",
        "-n",
        "400",
        "-o",
        out,
        "--do",
        "race=black",
        "--do",
        "income=3.5",
        "--shift",
        "new_vendor",
    )
    assert code == 0, err
    df = pd.read_csv(out)
    assert len(df) == 400
    assert "S" not in df.columns  # latent dropped
    assert set(df["race"]) == {"black"}
    assert (df["income"] == 3.5).all()
    _, scm = ct.scenarios.load("lending")
    expected = scm.shift("new_vendor").sample(400, do={"race": "black", "income": 3.5}, random_state=0)
    pd.testing.assert_series_equal(df["score"], expected["score"], check_dtype=False)


def test_simulate_do_numeric_category(tmp_path: Path) -> None:
    out = tmp_path / "s.parquet"
    code, _, err = invoke("simulate", "readmission", "-n", "50", "-o", out, "--do", "E=2", "--do", "A=1")
    assert code == 0, err
    df = pd.read_parquet(out)
    assert set(df["E"]) == {2}
    assert set(df["A"]) == {1}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--do", "Q=1"], "'Q' is not a variable"),
        (["--do", "A"], "VARIABLE=VALUE"),
        (["--do", "A=7"], "binary"),
        (["--do", "E=9"], "not a category"),
        (["--shift", "nope"], "unknown shift"),
        (["-n", "0"], "-n must be at least 2"),
        (["-n", "-5"], "-n must be at least 2"),
    ],
)
def test_simulate_bad_input(tmp_path: Path, args: list[str], fragment: str) -> None:
    out = tmp_path / "s.parquet"
    assert_bad_input(*invoke("simulate", "readmission", "-o", out, *args), fragment)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_simulate_non_integer_n(tmp_path: Path) -> None:
    code, _, err = invoke("simulate", "readmission", "-o", tmp_path / "s.parquet", "-n", "many")
    assert code == 2
    assert "Traceback" not in err
    assert "'-n'" in err, err
    assert "valid integer" in err, err


def test_simulate_bad_extension(tmp_path: Path) -> None:
    assert_bad_input(*invoke("simulate", "readmission", "-o", tmp_path / "s.xlsx"), "use .parquet or .csv")


def test_simulate_does_not_clobber_on_failure(tmp_path: Path) -> None:
    out = tmp_path / "s.parquet"
    out.write_bytes(b"old")
    code, _, _ = invoke("simulate", "readmission", "-o", out, "--do", "Q=1")
    assert code == 2
    assert out.read_bytes() == b"old"


# -- effects -------------------------------------------------------------------------------------------
def test_effects_table_and_json(tmp_path: Path) -> None:
    path = tmp_path / "e.json"
    code, out, err = invoke("effects", "readmission", "-n", "5000", "--seed", "1", "--json", path)
    assert code == 0, err
    for name in ("A.total", "A.unfair", "A.fair", "A.interaction", "E[2].spurious", "E[2].contextual"):
        assert name in out
    doc = json.loads(path.read_text())
    assert doc["spec"] == "readmission"
    assert doc["n"] == 5000
    assert doc["seed"] == 1
    _, scm = ct.scenarios.load("readmission")
    dec = ct.decompose_effects(scm, n=5000, random_state=1)
    assert [e["name"] for e in doc["effects"]] == [e.name for e in dec.effects]
    for got, want in zip(doc["effects"], dec.effects, strict=True):
        assert got["estimate"] == want.estimate
        assert got["low"] == want.low
        assert got["high"] == want.high
        assert got["paths"] == [list(p) for p in want.paths]


def test_effects_string_categories() -> None:
    code, out, err = invoke("effects", "lending", "-n", "2000")
    assert code == 0, err
    assert "race[black].unfair" in out
    assert "branch[online].contextual" in out


def test_effects_bad_n() -> None:
    assert_bad_input(*invoke("effects", "readmission", "-n", "1"), "-n must be at least 2")


def test_effects_unknown_scenario() -> None:
    assert_bad_input(*invoke("effects", "nosuchthing"), "not a built-in scenario")


def test_effects_spec_without_equations(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "target: Y\nvariables:\n  A: {type: binary, parents: []}\n  Y: {type: continuous, parents: [A]}\n"
        "fairness: {protected: A}\n"
    )
    assert_bad_input(*invoke("effects", spec), "no equation")


# -- demo ----------------------------------------------------------------------------------------------
def test_demo_writes_ledger_and_report(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    args = [
        "--seeds",
        "1",
        "--n-train",
        "800",
        "--n-test",
        "800",
        "--shadows",
        "4",
        "--bootstrap",
        "5",
        "--recourse",
        "5",
        "--jobs",
        "1",
        "-m",
        "erm",
        "-m",
        "selective",
    ]
    code, stdout, err = invoke("demo", "--out", out, *args)
    assert code == 0, err
    assert {"results.duckdb", "report.html", "effects.json"} <= {p.name for p in out.iterdir()}
    report = (out / "report.html").resolve()
    assert f"Report: {report}" in stdout.splitlines()
    assert "A.unfair" in stdout  # the decomposition of the true SCM
    assert "selective" in stdout  # the headline table
    assert "About 5 minutes" not in stdout  # the time hint is for the default settings only
    led = ct.bench.Ledger.open(out / "results.duckdb")
    assert sorted(led.cells()["method"]) == ["erm", "selective"]
    page = report.read_text()
    assert page.startswith("<!DOCTYPE html>")
    for section in ("graph", "headline", "pareto", "dominance"):
        assert f'id="{section}"' in page
    for external in ("<script src=", "<link "):
        assert external not in page  # self-contained: plotly is inlined
    # Re-running resumes: nothing left to do.
    code, stdout, _ = invoke("demo", "--out", out, *args)
    assert code == 0
    assert "0 ran, 2 already done" in stdout


def test_demo_bad_n(tmp_path: Path) -> None:
    assert_bad_input(
        *invoke("demo", "--out", tmp_path / "d", "--n-train", "1"), "--n-train must be at least 2"
    )
    assert not (tmp_path / "d").exists()


def test_no_args_shows_help() -> None:
    result = runner.invoke(app, [])
    assert "validate" in result.output
    assert "demo" in result.output


# -- bench and report ------------------------------------------------------------------------------------
def test_bench_then_report(tmp_path: Path) -> None:
    store = tmp_path / "r.duckdb"
    sizes = ["--n-train", "600", "--n-test", "600", "--jobs", "1"]
    code, out, err = invoke(
        "bench",
        "readmission",
        "-m",
        "erm",
        "-m",
        "unaware",
        "--seeds",
        "1",
        "--store",
        store,
        "--grid",
        '{"C": [0.5, 2.0]}',
        *sizes,
    )
    assert code == 0, err
    assert f"Ledger: {store.resolve()}" in out.splitlines()
    led = ct.bench.Ledger.open(store)
    assert len(led.cells()) == 4  # 2 methods x 2 values of C x 1 seed
    code, out, err = invoke("report", store, "-o", tmp_path / "r.html")
    assert code == 0, err
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_bench_and_report_bad_input(tmp_path: Path) -> None:
    store = tmp_path / "r.duckdb"
    assert_bad_input(*invoke("bench", "readmission", "-m", "ermm", "--store", store), "unknown method 'ermm'")
    assert not store.exists()
    assert_bad_input(
        *invoke("bench", "readmission", "-m", "erm", "--store", store, "--grid", "{C: 1"),
        "--grid is not valid JSON",
    )
    not_a_ledger = tmp_path / "notes.duckdb"
    not_a_ledger.write_text("hello")
    assert_bad_input(*invoke("report", not_a_ledger), "not a causaltrust ledger")
    assert not_a_ledger.read_text() == "hello"
    assert_bad_input(*invoke("report", tmp_path / "missing.duckdb"), "does not exist")


def test_demo_quick_by_default_full_on_request(tmp_path: Path) -> None:
    small = [
        "--seeds",
        "1",
        "--n-train",
        "300",
        "--n-test",
        "300",
        "--recourse",
        "5",
        "--jobs",
        "1",
        "-m",
        "erm",
    ]
    code, stdout, err = invoke("demo", "--out", tmp_path / "q", *small)
    assert code == 0, err
    assert stdout.splitlines()[0].startswith("causaltrust demo: quick settings")
    assert "causaltrust demo --full" in stdout
    settings = json.loads(ct.bench.Ledger.open(tmp_path / "q" / "results.duckdb").cells()["settings_json"][0])
    quick = ct.bench.demo_settings()
    # the options given win; the others are the quick settings
    assert (settings["n_train"], settings["recourse_units"]) == (300, 5)
    assert (settings["n_shadow"], settings["n_bootstrap"]) == (quick["n_shadow"], quick["n_bootstrap"])
    code, stdout, err = invoke("demo", "--out", tmp_path / "f", "--full", *small, "--shadows", "0")
    assert code == 0, err
    assert stdout.splitlines()[0].startswith("causaltrust demo: full settings")
    settings = json.loads(ct.bench.Ledger.open(tmp_path / "f" / "results.duckdb").cells()["settings_json"][0])
    assert settings["n_bootstrap"] == ct.bench.demo_settings(full=True)["n_bootstrap"]
    assert settings["n_shadow"] == 0
