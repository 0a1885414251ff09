"""The command line on shipped datasets: a dataset name where a spec (or --data) is taken."""

from __future__ import annotations

from pathlib import Path

import joblib
from typer.testing import CliRunner

import causaltrust as ct
from causaltrust.bench._methods import build_erm
from causaltrust.cli import app

runner = CliRunner()


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "250"})
    return result.exit_code, result.stdout, result.stderr


def test_validate_a_dataset_spec() -> None:
    code, out, err = invoke("validate", "compas")
    assert code == 0, err
    for var in ("race", "priors_count", "two_year_recid"):
        assert var in out


def test_unknown_name_lists_scenarios_and_datasets() -> None:
    code, _, err = invoke("validate", "compass")
    assert code == 2
    assert "(did you mean 'compas'?)" in err
    assert "datasets: adult, adult_nabi, berkeley, compas, german, law_school, ricci" in err


def test_audit_fits_the_reference_on_the_held_out_rows(tmp_path: Path) -> None:
    spec = ct.datasets.spec("compas")
    df = ct.datasets.load("compas").sample(n=900, random_state=0)
    train, test = df.iloc[:600], df.iloc[600:]
    model = build_erm(spec, None, {"C": 1.0}, 0).fit(train[spec.features], train[spec.target])
    joblib.dump(model, tmp_path / "m.joblib")  # a pipeline of ours: a pickle, hence --allow-pickle
    test.to_parquet(tmp_path / "test.parquet")
    code, out, err = invoke(
        "audit", "compas", "--model", tmp_path / "m.joblib", "--allow-pickle",
        "--data", tmp_path / "test.parquet", "--train", tmp_path / "test.parquet",
        "--objective", "accuracy", "--objective", "fairness", "--bootstrap", "5",
        "--json", tmp_path / "r.json",
    )  # fmt: skip
    assert code == 0, err
    assert "fairness.unfair_path_effect" in out
    rep = ct.TrustReport.from_json((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert rep.meta["scm_fitted_on"] == "scm_data"  # the test rows, not the --train rows


def test_bench_on_a_dataset_then_report(tmp_path: Path) -> None:
    store = tmp_path / "r.duckdb"
    code, out, err = invoke(
        "bench", "german", "-m", "erm", "--seeds", "1", "--n-train", "300", "--n-test", "300",
        "--jobs", "1", "--scm-mechanisms", "linear", "--store", store,
    )  # fmt: skip
    assert code == 0, err
    # The default on a dataset: a boosted reference SCM for methods that learn linear ones, and the DR check.
    assert "Audit: reference SCM mechanisms='gbm' fitted on held-out rows (cross-class" in " ".join(
        out.split()
    )
    assert "[DR check]" in out
    led = ct.bench.Ledger.open(store)
    assert led.cells()["status"].tolist() == ["ok"]
    assert led.cells()["scenario"].tolist() == ["german"]
    code, _, err = invoke("report", store, "-o", tmp_path / "r.html")
    assert code == 0, err
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "held-out test rows), not a true SCM" in page
    assert "Audits: reference SCM and DR check side by side" in page
    assert "direct ctf-DE [DR check]" in page


def test_bench_audit_class_and_dr_check_can_be_overridden(tmp_path: Path) -> None:
    store = tmp_path / "r.duckdb"
    code, out, err = invoke(
        "bench", "german", "-m", "unaware", "--seeds", "1", "--n-train", "200", "--n-test", "200",
        "--jobs", "1", "--scm-mechanisms", "linear", "--audit-mechanisms", "linear", "--no-dr-check",
        "--shadows", "0", "--bootstrap", "5", "--recourse", "5", "--store", store,
    )  # fmt: skip
    assert code == 0, err
    assert "(same class: methods learn 'linear')" in " ".join(out.split())
    led = ct.bench.Ledger.open(store)
    assert not any(c.startswith("dr.") for c in led.to_frame().columns)
    assert any(n.startswith("Same-class audit:") for n in led.notes()["note"])
