"""Hostile and careless input at the command line: every case one line on stderr and exit 2 (or 3).

Files are generated here, never checked in.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from typer.testing import CliRunner

import causaltrust as ct
from causaltrust.cli import app

runner = CliRunner()


def invoke(*args: str | Path) -> tuple[int, str]:
    res = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})
    return res.exit_code, res.stderr


def one_line(code: int, err: str, expected: int, fragment: str) -> None:
    assert code == expected, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("hostile")
    (d / "empty.csv").write_bytes(b"")
    (d / "empty.parquet").write_bytes(b"")
    (d / "garbage.parquet").write_bytes(b"PAR1 this is not parquet")
    (d / "ragged.csv").write_text("A,E,X\n1,0,0.5\n1,0\n0,1,2.0,9,9\n")
    (d / "dups.csv").write_text("A,E,X,X,Z,F\n1,0,0.5,0.7,1,0.2\n")
    (d / "latin1.csv").write_bytes("A,E,X\n1,0,caf\xe9\n".encode("latin-1"))
    (d / "garbage.skops").write_bytes(b"not a zip at all")
    (d / "model.csv").write_text("a,b\n1,2\n")
    (d / "model.pkl").write_bytes(pickle.dumps({"any": "thing"}))
    (d / "notes.duckdb").write_text("hello")
    (d / "spec_latin1.yaml").write_bytes(
        "target: Y\nvariables:\n  Y: {type: continuous, description: caf\xe9}\n".encode("latin-1")
    )
    ct.SCM.from_spec("readmission").sample(50, random_state=0).to_parquet(d / "test.parquet")
    return d


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("empty.csv", "is empty (0 bytes)"),
        ("empty.parquet", "is empty (0 bytes)"),
        ("garbage.parquet", "could not be read as parquet"),
        ("ragged.csv", "could not be read as csv"),
        ("dups.csv", "has duplicate column names ['X']"),
        ("latin1.csv", "is not UTF-8 text"),
    ],
)
def test_bad_data_files(files: Path, name: str, fragment: str) -> None:
    code, err = invoke(
        "bench", "readmission", "-m", "erm", "--seeds", "1", "--data", files / name, "-o", files / "r.duckdb"
    )
    one_line(code, err, 2, f"--data: '{files / name}' {fragment}")
    assert not (files / "r.duckdb").exists()


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("garbage.skops", "is not a skops file"),
        ("model.csv", "unknown format '.csv'"),
        ("model.pkl", "is a pickle, which runs code when loaded"),
        ("missing.skops", "does not exist"),
    ],
)
def test_bad_model_files(files: Path, name: str, fragment: str) -> None:
    code, err = invoke("audit", "readmission", "--model", files / name, "--data", files / "test.parquet")
    one_line(code, err, 2, fragment)


def test_report_on_a_non_ledger_file_is_one_line(files: Path) -> None:
    code, err = invoke("report", files / "notes.duckdb", "-o", files / "r.html")
    one_line(code, err, 2, "exists but is not a causaltrust ledger")
    assert (files / "notes.duckdb").read_text() == "hello"


def test_non_utf8_spec_and_markup_in_names(files: Path) -> None:
    code, err = invoke("validate", files / "spec_latin1.yaml")
    one_line(code, err, 2, "is not UTF-8 text")
    code, err = invoke("validate", "[/bogus]")
    one_line(code, err, 2, "spec file '[/bogus]' does not exist")
    with pytest.raises(ct.SpecError, match="is not UTF-8 text"):
        ct.load_spec(files / "spec_latin1.yaml")


def test_simulate_refuses_a_size_that_cannot_fit(files: Path) -> None:
    code, err = invoke("simulate", "readmission", "-n", "3000000000", "-o", files / "big.parquet")
    one_line(code, err, 2, "-n 3,000,000,000: about")
    assert "GiB for 7 variables" in err
    assert not (files / "big.parquet").exists()


@pytest.mark.parametrize("value", ["-5", "0"])
def test_audit_bootstrap_must_be_positive(files: Path, value: str) -> None:
    model, data = files / "garbage.skops", files / "test.parquet"
    code, err = invoke("audit", "readmission", "--model", model, "--data", data, "--bootstrap", value)
    one_line(code, err, 2, f"--bootstrap must be at least 1, got {value}")


def test_internal_error_is_exit_3_and_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*a: object, **k: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(ct, "decompose_effects", boom)
    code, err = invoke("effects", "readmission", "-n", "100")
    one_line(code, err, 3, "internal error: ZeroDivisionError: a bug (run again with --debug")
    code, err = invoke("effects", "readmission", "-n", "100", "--debug")
    assert code == 3
    assert "Traceback" in err
    assert err.strip().splitlines()[-1] == "internal error: ZeroDivisionError: a bug"


def test_missing_spec_path_in_the_library() -> None:
    with pytest.raises(ct.SpecError, match=r"spec file 'spec\.txt' does not exist"):
        ct.load_spec("spec.txt")
    assert ct.load_spec("readmission").name == "readmission"
    assert ct.SCM.from_spec("readmission").spec.name == "readmission"
