"""`causaltrust text-audit`: report files, exit 1 on a failed threshold, exit 2 on bad input."""

from __future__ import annotations

import joblib
import pandas as pd
import pytest
import skops.io as sio
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from typer.testing import CliRunner

import causaltrust as ct
from causaltrust.cli import app

runner = CliRunner()


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "250"})
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("text")
    train, test = ct.text.load_biographies(400, 120, random_state=0)
    clf = make_pipeline(CountVectorizer(), LogisticRegression(max_iter=500)).fit(
        train.text.tolist(), train.label
    )
    sio.dump(clf, root / "clf.skops")  # data only: read without --allow-pickle
    joblib.dump(clf, root / "clf.joblib")  # a pickle: refused unless --allow-pickle
    test[["text", "ethnicity"]].to_csv(root / "test.csv", index=False)
    (root / "test.txt").write_text("\n".join(test.text), encoding="utf-8")
    return root, clf, test


def test_html_and_json_reports_and_threshold_exit_code(files):
    root, clf, test = files
    code, out, err = invoke(
        "text-audit", "--model", root / "clf.skops", "--corpus", root / "test.csv", "--relevant", "skill",
        "--group-column", "ethnicity", "-o", root / "r.json", "--bootstrap", "20",
    )  # fmt: skip
    assert code == 0, (out, err)
    rep = ct.TrustReport.from_json((root / "r.json").read_text(encoding="utf-8"))
    direct = ct.text.audit(
        clf, test.text.tolist(), relevant="skill", groups=test.ethnicity.tolist(), n_bootstrap=20
    )
    assert rep.metric("text.flip_rate").value == direct.metric("text.flip_rate").value
    assert "text.flip_rate[Asian]" in rep
    code, out, err = invoke(
        "text-audit", "--model", root / "clf.joblib", "--allow-pickle", "--corpus", root / "test.txt",
        "--threshold", "text.flip_rate=0.01", "-o", root / "r.html", "--bootstrap", "0",
    )  # fmt: skip
    assert code == 1, (out, err)
    assert "FAILED thresholds: text.flip_rate" in err
    assert "text.flip_rate" in (root / "r.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--corpus", "missing.csv"], "--corpus"),
        (["--corpus", "biographies", "--intervention", "race"], "unknown intervention"),
        (["--corpus", "biographies", "--threshold", "text.flip_rate"], "--threshold"),
        (["--corpus", "biographies", "-o", "r.pdf"], "--out"),
    ],
)
def test_bad_input_exits_2_with_one_line(files, args, fragment):
    root, _, _ = files
    code, out, err = invoke("text-audit", "--model", root / "clf.skops", *args)
    assert code == 2, (code, out, err)
    assert "Traceback" not in out + err
    assert len(err.strip().splitlines()) == 1
    assert fragment in err


def test_missing_model_and_bad_column(files):
    root, _, _ = files
    code, _, err = invoke("text-audit", "--model", root / "none.joblib", "--corpus", "biographies")
    assert code == 2
    assert "none.joblib' does not exist" in err
    pd.DataFrame({"body": ["He left."]}).to_csv(root / "odd.csv", index=False)
    code, _, err = invoke("text-audit", "--model", root / "clf.skops", "--corpus", root / "odd.csv")
    assert code == 2
    assert "--text-column" in err
