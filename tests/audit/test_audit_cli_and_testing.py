"""The audit's user-facing edges: the CLI command, causaltrust.testing and the HTML report."""

from __future__ import annotations

import json

import joblib
import numpy as np
import pytest
import skops.io as skops_io
from scipy.special import expit
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
from typer.testing import CliRunner

import causaltrust as ct
from causaltrust.cli import app
from causaltrust.testing import assert_invariant, assert_thresholds


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    spec, scm = ct.scenarios.load("readmission")
    train = scm.sample(4000, random_state=1)
    test = scm.sample(3000, random_state=2)
    pre = make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["E"]), remainder="passthrough")
    model = make_pipeline(pre, LogisticRegression(max_iter=1000)).fit(train[spec.features], train["Y"])
    d = tmp_path_factory.mktemp("audit")
    joblib.dump(model, d / "model.joblib")
    skops_io.dump(model, d / "model.skops")
    train.to_parquet(d / "train.parquet")
    test.to_parquet(d / "test.parquet")
    return spec, scm, model, train, test, d


def _fair_model(df):
    """Uses only the legitimate information: the true lab recovered from the measured one."""
    e = df["E"].to_numpy()
    lab = df["X"].to_numpy() - 0.8 * (e == 1) + 0.5 * (e == 2)
    return expit(-1 + 1.2 * lab)


def test_cli_audit_exits_1_when_a_threshold_fails_and_writes_outputs(setup):
    _, _, _, _, _, d = setup
    res = CliRunner().invoke(
        app,
        ["audit", "readmission", "--model", str(d / "model.skops"), "--data", str(d / "test.parquet"),
         "--train", str(d / "train.parquet"), "--objective", "accuracy", "--objective", "fairness",
         "--json", str(d / "rep.json"), "--html", str(d / "rep.html"), "--bootstrap", "20"],
    )  # fmt: skip
    assert res.exit_code == 1, res.output
    assert "fairness.unfair_path_effect" in res.output
    rep = ct.TrustReport.from_json((d / "rep.json").read_text())
    assert rep.metric("fairness.unfair_path_effect").passed is False
    page = (d / "rep.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert 'id="fairness"' in page
    assert "http://" not in page
    assert "https://" not in page


def test_cli_audit_bad_input_exits_2(setup):
    _, _, _, _, _, d = setup
    runner = CliRunner()
    missing = runner.invoke(app, ["audit", "readmission", "--model", str(d / "nope.joblib"),
                                  "--data", str(d / "test.parquet")])  # fmt: skip
    assert missing.exit_code == 2
    assert "does not exist" in missing.output
    wrong = runner.invoke(app, ["audit", "readmission", "--model", str(d / "model.joblib"), "--allow-pickle",
                                "--data", str(d / "test.parquet"), "--objective", "speed"])  # fmt: skip
    assert wrong.exit_code == 2
    assert "unknown objective" in wrong.output
    pickled = runner.invoke(app, ["audit", "readmission", "--model", str(d / "model.joblib"),
                                  "--data", str(d / "test.parquet")])  # fmt: skip
    assert pickled.exit_code == 2
    assert "is a pickle, which runs code when loaded" in pickled.output


def test_assert_invariant_passes_for_a_fair_model_and_fails_for_erm(setup):
    spec, scm, model, _, test, _ = setup
    rep = assert_invariant(_fair_model, spec, scm, objective="fairness", data=test, tol=0.01)
    assert abs(rep.metric("fairness.unfair_path_effect").value) < 1e-12
    with pytest.raises(AssertionError, match="fairness invariance violated"):
        assert_invariant(model, spec, scm, objective="fairness", data=test, tol=0.02)
    with pytest.raises(AssertionError, match="robustness invariance violated"):
        assert_invariant(model, spec, scm, objective="robustness", data=test, tol=0.02)


def test_assert_thresholds(setup):
    spec, scm, model, _, test, _ = setup
    rep = ct.audit(model, spec=spec, scm=scm, data=test, objectives=["fairness"], n_bootstrap=10)
    with pytest.raises(AssertionError, match=r"fairness\.unfair_path_effect"):
        assert_thresholds(rep)
    fair = ct.audit(_fair_model, spec=spec, scm=scm, data=test, objectives=["fairness"], n_bootstrap=10)
    assert_thresholds(fair)


def test_report_json_is_plain_json_with_nonfinite_values(setup):
    from causaltrust.audit import Metric, TrustReport

    rep = TrustReport(
        (Metric("privacy.epsilon", float("inf"), better="lower"),), ("a note",), {"k": np.int64(3)}
    )
    text = rep.to_json()
    data = json.loads(text)  # strict JSON: no Infinity/NaN literals
    assert data["metrics"][0]["value"] == "inf"
    assert TrustReport.from_json(text).metric("privacy.epsilon").value == float("inf")
    with pytest.raises(ct.CausalTrustError, match="not a TrustReport"):
        TrustReport.from_json('{"format": "other"}')


def test_write_html_rejects_other_objects(tmp_path):
    with pytest.raises(ct.CausalTrustError, match="renders a TrustReport, a benchmark Ledger"):
        ct.report.write_html({"not": "a report"}, tmp_path / "x.html")
    assert not (tmp_path / "x.html").exists()
