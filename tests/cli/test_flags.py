"""One meaning per flag and exit codes exactly as DESIGN.md "Exit codes" (issue 19)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import causaltrust as ct
from causaltrust import bench
from causaltrust.cli import app
from causaltrust.cli._app import parse_seeds

runner = CliRunner()
SIZES = [
    "--n-train",
    "400",
    "--n-test",
    "400",
    "--jobs",
    "1",
    "--shadows",
    "0",
    "--bootstrap",
    "5",
    "--recourse",
    "5",
]


def invoke(*args: str | Path) -> tuple[int, str, str]:
    res = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})
    return res.exit_code, res.stdout, res.stderr


@pytest.mark.parametrize("command", ["validate", "simulate", "effects", "audit", "bench", "report", "demo"])
def test_help_has_no_bool_metavars_and_no_rst(command: str) -> None:
    code, out, _ = invoke(command, "--help")
    assert code == 0
    assert "<bool>" not in out
    assert "``" not in out
    assert not re.search(r"^\s*-{4,}\s*$", out, re.M)  # numpydoc underlines
    assert "--debug" in out


@pytest.mark.parametrize("command", ["simulate", "effects", "audit", "bench", "report", "demo"])
def test_dash_o_is_out_everywhere(command: str) -> None:
    _, out, _ = invoke(command, "--help")
    assert re.search(r"-o, --out\b", out), out


def test_dash_m_is_method_and_model_has_no_short_flag() -> None:
    for command in ("bench", "demo"):
        assert re.search(r"-m, --method\b", invoke(command, "--help")[1])
    out = invoke("audit", "--help")[1]
    assert "--model" in out
    assert not re.search(r"-\w, --model\b", out)


def test_bench_help_lists_every_tabular_method() -> None:
    out = invoke("bench", "--help")[1]
    for name, method in bench.METHODS.items():  # text methods need a corpus: bench refuses them
        assert (f"{name}:" in out) == (method.data == "tabular"), name


@pytest.mark.parametrize(
    ("text", "seeds"), [("3", [0, 1, 2]), ("0,4,7", [0, 4, 7]), ("5,", [5]), ("2 9", [2, 9])]
)
def test_seeds_count_or_list(text: str, seeds: list[int]) -> None:
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize("text", ["0", "x", ""])
def test_seeds_bad(text: str) -> None:
    with pytest.raises(ct.DataError, match="--seeds"):
        parse_seeds(text)


def _fails(spec: object, scm: object, params: object, seed: int) -> object:
    raise RuntimeError(f"seed {seed} always fails")


def test_bench_exit_codes_progress_and_resume(tmp_path: Path) -> None:
    store = tmp_path / "r.duckdb"
    bench.register(bench.MethodSpec("cli_fails", "test method", "none", _fails, {}))
    try:
        code, out, err = invoke(
            "bench", "readmission", "-m", "cli_fails", "--seeds", "0,3", "-o", store, *SIZES
        )
        assert code == 3, err
        assert "cells: 2 ran, 0 already done, 2 failed" in out
        assert (
            err.strip().splitlines()[-1]
            == "error: every cell failed (2); first error: RuntimeError: seed 0 always fails"
        )
        assert "sweep 1/2 done" in err  # plain progress lines when not a terminal
        assert invoke("report", store, "-o", tmp_path / "all.html")[0] == 0
        assert "<b>Every cell failed (2):</b>" in (tmp_path / "all.html").read_text()
        # A partial failure exits 0 and is counted; the resume says what is already done.
        code, out, err = invoke(
            "bench", "readmission", "-m", "cli_fails", "-m", "erm", "--seeds", "1", "-o", store, *SIZES
        )
        assert code == 0, err
        assert "cells: 2 ran, 0 already done, 1 failed" in out
        code, out, err = invoke("bench", "readmission", "-m", "erm", "--seeds", "1", "-o", store, *SIZES)
        assert code == 0
        assert "1 cell(s) already done in the ledger, 0 to run" in err
        assert "cells: 0 ran, 1 already done, 0 failed" in out
        code, out, _ = invoke("report", store, "-o", tmp_path / "r.html")
        assert code == 0
        assert "note: 2 of 3 cells failed; the report covers the other 1" in out
        assert "<b>Partial results:</b> 2 of 3 cells failed" in (tmp_path / "r.html").read_text()
    finally:
        del bench.METHODS["cli_fails"]


def test_effects_dash_o_writes_json(tmp_path: Path) -> None:
    code, _, err = invoke("effects", "readmission", "-n", "2000", "-o", tmp_path / "e.json")
    assert code == 0, err
    assert (tmp_path / "e.json").read_text().startswith("{")
