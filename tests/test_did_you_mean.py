"""Wrong names get a "did you mean"; a file that is not a ledger gets one line naming it and what it is."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

import causaltrust as ct
from causaltrust.cli import app
from causaltrust.exceptions import did_you_mean


def test_close_names_are_suggested_and_far_ones_are_not():
    assert (
        did_you_mean("readmision", ["hiring", "lending", "readmission"]) == " (did you mean 'readmission'?)"
    )
    assert did_you_mean("GroupDRO", ["groupdro", "irm"]) == " (did you mean 'groupdro'?)"  # case
    assert did_you_mean("zzz", ["hiring", "lending"]) == ""
    assert did_you_mean(3, ["hiring"]) == ""


def test_scenario_method_objective_and_column_names():
    with pytest.raises(ct.SpecError, match=r"unknown scenario 'readmision' \(did you mean 'readmission'\?\)"):
        ct.scenarios.load("readmision")
    with pytest.raises(ct.SpecError, match=r"did you mean 'lending'\?"):
        ct.load_spec("lendng")
    with pytest.raises(ct.BenchError, match=r"unknown method 'selectiv' \(did you mean 'selective'"):
        ct.bench.get_method("selectiv")
    spec, scm = ct.scenarios.load("readmission")
    test = scm.sample(50, random_state=0)

    class Const:
        def predict_proba(self, x):
            import numpy as np

            return np.full((len(x), 2), 0.5)

        def predict(self, x):
            import numpy as np

            return np.zeros(len(x), dtype=int)

    with pytest.raises(
        ct.SpecError, match=r"unknown objective\(s\) \['fairnes'\] \(did you mean 'fairness'\?\)"
    ):
        ct.audit(Const(), spec=spec, scm=scm, data=test, objectives=["fairnes"])
    renamed = test.rename(columns={"X": "x"})
    with pytest.raises(ct.DataError, match=r"missing column\(s\) \['X'\] \(did you mean 'x'\?\)"):
        ct.audit(Const(), spec=spec, scm=scm, data=renamed)


def test_cli_names_the_close_scenario():
    res = CliRunner().invoke(app, ["validate", "readmision"])
    assert res.exit_code == 2
    assert "did you mean 'readmission'?" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("rows.csv", b"a,b\n1,2\n", "a text file"),
        ("rows.parquet", None, "a Parquet file"),
        ("shot.png", b"\x89PNG\r\n\x1a\n" + bytes(64), "a binary file of another format"),
    ],
)
def test_report_on_a_file_that_is_not_a_ledger_says_so_in_one_line(tmp_path, name, content, kind):
    path = tmp_path / name
    if content is None:
        pd.DataFrame({"a": [1, 2]}).to_parquet(path)
    else:
        path.write_bytes(content)
    res = CliRunner().invoke(app, ["report", str(path), "-o", str(tmp_path / "r.html")])
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1
    assert (
        f"{str(path)!r} exists but is not a causaltrust ledger: it is {kind}, not a DuckDB database"
        in lines[0]
    )
    assert "Catalog Error" not in lines[0]
    assert not (tmp_path / "r.html").exists()
