"""What a new user hits on a first run of the README's command lines (issue 31)."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

import causaltrust as ct
from causaltrust.cli import app

TINY = ["--seeds", "1", "--n-train", "300", "--n-test", "300", "--shadows", "0", "--bootstrap", "2"]
TINY += ["--recourse", "2", "--jobs", "1"]


def test_bench_without_out_writes_a_ledger_named_after_the_scenario(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(app, ["bench", "readmission", "-m", "erm", *TINY])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "readmission.duckdb").is_file()
    assert not (tmp_path / "results.duckdb").exists()
    assert set(ct.bench.Ledger.open(tmp_path / "readmission.duckdb").cells()["scenario"]) == {"readmission"}


def test_simulated_rows_go_straight_to_discover_and_its_table_has_no_empty_column(tmp_path):
    sample = tmp_path / "sample.csv"
    runner = CliRunner()
    res = runner.invoke(app, ["simulate", "readmission", "-n", "800", "-o", str(sample), "--seed", "0"])
    assert res.exit_code == 0, res.output
    assert "L" not in pd.read_csv(sample).columns  # the latent is not data
    spec = tmp_path / "spec.yaml"
    args = [
        "discover",
        str(sample),
        "--protected",
        "A",
        "--target",
        "Y",
        "--environment",
        "E",
        "-o",
        str(spec),
    ]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "stability" not in res.output.split("Edge stability not computed")[0]
    assert "Edge stability not computed: --bootstrap N" in res.output
    assert "L:" not in spec.read_text()
    res = runner.invoke(app, [*args, "--bootstrap", "2"])
    assert res.exit_code == 0, res.output
    assert "stability (2 resamples)" in res.output
    assert "–" not in res.output.split("stability (2 resamples)")[1].split("stability:")[0]


def test_decompose_takes_a_shipped_datasets_own_rows(tmp_path):
    out = tmp_path / "dec.html"
    args = ["--outcome", "decile_score>4", "--learner", "linear", "--folds", "2", "--bootstrap", "20"]
    res = CliRunner().invoke(app, ["decompose", "compas", *args, "-o", str(out)])
    assert res.exit_code == 0, res.output
    df = ct.datasets.load("compas")
    # The observed disparity (TV) is computed on the shipped rows: check it against pandas directly.
    spec = ct.datasets.spec("compas")
    a, x0 = spec.protected, spec.fairness.baseline
    y = (df["decile_score"] > 4).astype(int)
    levels = [v for v in pd.unique(df[a]) if v != x0]
    for x1 in levels:
        tv = y[df[a] == x1].mean() - y[df[a] == x0].mean()
        assert f"{tv:+.4f}" in res.output
    assert out.is_file()
    bad = CliRunner().invoke(app, ["decompose", "readmission", "--outcome", "Y"])
    assert bad.exit_code == 2
    assert "--data is needed: 'readmission' is not a shipped dataset" in bad.output
