"""``causaltrust demo --scenario``: any built-in scenario; a continuous target runs the regressor twins."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from causaltrust.cli import app

runner = CliRunner()


def test_unknown_scenario_is_bad_input(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--scenario", "nope", "--out", str(tmp_path / "d")])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: unknown scenario 'nope'")
    assert "credit_limit" in lines[0]
    assert not (tmp_path / "d").exists()


def test_continuous_scenario_runs_the_regression_methods(tmp_path: Path) -> None:
    # One small cell: the demo picks the regressor twin of erm and prints the regression columns.
    out = tmp_path / "d"
    args = [
        "demo",
        "--scenario",
        "credit_limit",
        "--seeds",
        "1",
        "--shadows",
        "0",
        "--n-train",
        "400",
        "--n-test",
        "200",
        "--bootstrap",
        "10",
        "--recourse",
        "10",
        "-m",
        "erm",
        "--out",
        str(out),
    ]
    result = runner.invoke(app, args, env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "credit_limit" in result.stdout
    assert "RMSE" in result.stdout
    assert "obs acc" not in result.stdout
    assert (out / "report.html").is_file()
