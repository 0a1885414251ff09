"""``causaltrust decompose``: a table, an HTML file, derived 0/1 outcomes, exit code 2 on bad input."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import causaltrust as ct
from causaltrust.cli import app
from specs import TINY_SFM

SPEC = TINY_SFM


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, pd.DataFrame]:
    d = tmp_path_factory.mktemp("dec")
    spec = d / "tiny.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    df = ct.SCM.from_spec(SPEC).sample(2_000, random_state=0)
    data = d / "tiny.csv"
    df.to_csv(data, index=False)
    return spec, data, df


def test_decompose_prints_the_table_and_writes_html(
    files: tuple[Path, Path, pd.DataFrame], tmp_path: Path
) -> None:
    spec, data, df = files
    out = tmp_path / "dec.html"
    res = CliRunner().invoke(
        app,
        ["decompose", str(spec), "--data", str(data), "--outcome", "Y", "--learner", "linear",
         "--bootstrap", "20", "-o", str(out)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    observed = df.Y[df.X == 1].mean() - df.Y[df.X == 0].mean()
    assert f"{observed:+.4f}" in res.output
    assert "ctf-DE (direct)" in res.output
    assert out.read_text().startswith("<!DOCTYPE html>")


def test_a_threshold_expression_becomes_a_binary_outcome(files: tuple[Path, Path, pd.DataFrame]) -> None:
    spec, data, df = files
    res = CliRunner().invoke(
        app,
        ["decompose", str(spec), "--data", str(data), "--outcome", "W>1", "--learner", "linear",
         "--bootstrap", "20"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    s = (df.W > 1).astype(int)
    observed = s[df.X == 1].mean() - s[df.X == 0].mean()
    assert f"{observed:+.4f}" in res.output
    assert "W>1 by X" in res.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--outcome", "nope"], "'nope' is not a column"),
        (["--outcome", "Y", "--value", "3"], "has no rows"),
        (["--outcome", "X"], "is the protected attribute"),
        (["--outcome", "Y", "--method", "magic"], "method must be one of"),
        (["--outcome", "Q>1"], "'Q' is not a column"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    files: tuple[Path, Path, pd.DataFrame], args: list[str], message: str
) -> None:
    spec, data, _ = files
    res = CliRunner().invoke(app, ["decompose", str(spec), "--data", str(data), *args])
    assert res.exit_code == 2
    assert message in res.output
    assert len(res.output.strip().splitlines()) == 1
