"""Hostile data for learners (one validator with ct.audit) and corrupted ledgers (one clean error)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import causaltrust as ct
from causaltrust import bench
from causaltrust.cli import app
from causaltrust.exceptions import BenchError, DataError
from causaltrust.learners import ERMClassifier, IRMClassifier, SelectiveInvarianceClassifier


@pytest.fixture(scope="module")
def world() -> tuple[ct.TrustSpec, ct.SCM, pd.DataFrame]:
    spec, scm = ct.scenarios.load("readmission")
    return spec, scm, scm.sample(600, random_state=0)


def test_environment_as_strings_is_refused_by_learners_and_audit(world) -> None:
    spec, scm, df = world
    model = ERMClassifier(spec=spec).fit(df[spec.features], df["Y"])
    as_text = df.assign(E=df["E"].astype(str))
    with pytest.raises(DataError, match=r"column 'E' has values \['0', '1', '2'\]|column 'E' has values"):
        model.predict_proba(as_text[spec.features])
    with pytest.raises(DataError, match="column 'E'"):
        ERMClassifier(spec=spec).fit(as_text[spec.features], df["Y"])
    with pytest.raises(DataError, match="column 'E'"):
        ct.audit(model, spec=spec, scm=scm, data=as_text, objectives=["accuracy"], n_bootstrap=2)


def test_undeclared_category_refused_in_fit(world) -> None:
    spec, _, df = world
    bad = df.assign(E=np.where(np.arange(len(df)) == 3, 7, df["E"]))
    with pytest.raises(DataError, match=r"column 'E' has values \[7\] that are not among its declared"):
        ERMClassifier(spec=spec).fit(bad[spec.features], df["Y"])


def test_duplicate_column_names(world) -> None:
    spec, _, df = world
    X = df[spec.features]
    dup = pd.concat([X, X[["X"]]], axis=1)
    with pytest.raises(DataError, match=r"duplicate column names \['X'\]"):
        ERMClassifier(spec=spec).fit(dup, df["Y"])
    model = ERMClassifier(spec=spec).fit(X, df["Y"])
    with pytest.raises(DataError, match=r"duplicate column names \['X'\]"):
        model.predict_proba(dup)


@pytest.mark.parametrize("cls", [SelectiveInvarianceClassifier, IRMClassifier])
def test_single_class_target(world, cls: type) -> None:
    spec, _, df = world
    with pytest.raises(DataError, match=r"y holds a single class \(\[0\]\)"):
        cls(spec=spec).fit(df[spec.features], np.zeros(len(df), dtype=int))


def test_huge_values_refused(world) -> None:
    spec, _, df = world
    X = df[spec.features].assign(X=df["X"] * 1e306)
    with pytest.raises(DataError, match=r"column 'X' holds values as large as .*e\+30\d; above 1e\+100"):
        IRMClassifier(spec=spec).fit(X, df["Y"])


# -- corrupted ledgers ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("ledger") / "r.duckdb"
    sizes = {"n_train": 400, "n_test": 400, "n_bootstrap": 2, "n_shadow": 0, "recourse_units": 2}
    bench.run("readmission", methods=["erm"], seeds=[0], store=store, n_jobs=1, progress=False, **sizes)
    return store


def _copy(src: Path, dst: Path) -> Path:
    dst.write_bytes(src.read_bytes())
    return dst


def _report(store: Path, tmp: Path) -> tuple[int, str]:
    res = CliRunner().invoke(app, ["report", str(store), "-o", str(tmp / "r.html")])
    return res.exit_code, res.stderr


def test_truncated_ledger(ledger: Path, tmp_path: Path) -> None:
    data = ledger.read_bytes()
    bad = tmp_path / "half.duckdb"
    bad.write_bytes(data[: len(data) // 2])
    code, err = _report(bad, tmp_path)
    assert code == 2, err
    assert err.startswith("error: ")
    assert "half.duckdb" in err
    assert len(err.strip().splitlines()) == 1


def test_ledger_without_cells_table(ledger: Path, tmp_path: Path) -> None:
    bad = _copy(ledger, tmp_path / "nocells.duckdb")
    with duckdb.connect(str(bad)) as con:
        con.execute("DROP TABLE cells")
    with pytest.raises(BenchError, match=r"lacks the table\(s\) \['cells'\]"):
        bench.Ledger.open(bad)
    code, err = _report(bad, tmp_path)
    assert code == 2
    assert "lacks the table(s) ['cells']" in err


def test_ledger_with_invalid_json(ledger: Path, tmp_path: Path) -> None:
    bad = _copy(ledger, tmp_path / "json.duckdb")
    with duckdb.connect(str(bad)) as con:
        con.execute("UPDATE cells SET params_json = '{not json'")
    code, err = _report(bad, tmp_path)
    assert code == 2, err
    assert "invalid JSON" in err
    assert len(err.strip().splitlines()) == 1
