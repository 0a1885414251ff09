"""Crafted SCM files (``--scm``): each refused with one DataError naming the file, never an internal error."""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

import causaltrust as ct
from causaltrust.cli import app
from causaltrust.exceptions import DataError


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scm") / "good.npz"
    ct.SCM.from_spec("readmission").save(path)
    return path


def _rewrite(src: Path, dst: Path, edit: Any, extra: dict[str, bytes] | None = None) -> Path:
    """Copy an SCM file, passing its JSON document through ``edit`` and adding raw ``extra`` members."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "scm.json.npy":
                arr = np.load(io.BytesIO(data))
                doc = edit(json.loads(arr.tobytes().decode()))
                buf = io.BytesIO()
                np.save(buf, np.frombuffer(json.dumps(doc).encode(), dtype=np.uint8))
                data = buf.getvalue()
            zout.writestr(item.filename, data)
        for name, raw in (extra or {}).items():
            zout.writestr(name, raw)
    return dst


def _add_state(doc: dict[str, Any], key: str, node: Any) -> dict[str, Any]:
    doc["state"]["v"].append([key, node])
    return doc


def _nested(depth: int) -> Any:
    node: Any = 0
    for _ in range(depth):
        node = {"$": "tuple", "v": [node]}
    return node


CASES = {
    "datetime scalar": (
        lambda d: _add_state(d, "when", {"$": "scalar", "dtype": "<M8[ns]", "v": 0}),
        None,
        "scalar dtype '<M8[ns]' is not a boolean or number",
    ),
    "400-deep nesting": (lambda d: _add_state(d, "deep", _nested(400)), None, "nested more than 200 levels"),
    "raw pickle member": (
        lambda d: _add_state(d, "evil", {"$": "array", "key": "evil"}),
        {"evil": pickle.dumps({"runs": "code"})},
        "'evil', not an array",  # refused by load_scm's archive check (the decoder would refuse it too)
    ),
    "equation injection": (
        lambda d: _add_state(
            d, "eq", {"$": "equation", "variable": "Z", "text": "Y + __import__('os')", "infos": []}
        ),
        None,
        "the stored equation of 'Z' refers to",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_crafted_scm_files_are_refused_cleanly(saved: Path, tmp_path: Path, case: str) -> None:
    edit, extra, fragment = CASES[case]
    bad = _rewrite(saved, tmp_path / "bad.npz", edit, extra)
    with pytest.raises(DataError, match=r"is not a (valid )?causaltrust SCM file") as info:
        ct.SCM.load(bad)
    assert fragment in str(info.value)


def test_crafted_scm_file_at_the_cli_exits_2(saved: Path, tmp_path: Path) -> None:
    edit, extra, fragment = CASES["datetime scalar"]
    bad = _rewrite(saved, tmp_path / "bad.npz", edit, extra)
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    spec, scm = ct.scenarios.load("readmission")
    df = scm.sample(200, random_state=0)
    sio.dump(LogisticRegression().fit(df[spec.features], df[spec.target]), tmp_path / "m.skops")
    df.to_parquet(tmp_path / "test.parquet")
    args = ["audit", "readmission", "--model", tmp_path / "m.skops", "--data", tmp_path / "test.parquet"]
    res = CliRunner().invoke(app, [str(a) for a in [*args, "--scm", bad]])
    assert res.exit_code == 2, res.output
    assert fragment in res.output


def test_100k_deep_json_document_is_refused_cleanly(tmp_path: Path) -> None:
    doc = "[" * 100_000 + "]" * 100_000
    buf = io.BytesIO()
    np.save(buf, np.frombuffer(doc.encode(), dtype=np.uint8))
    with zipfile.ZipFile(tmp_path / "deep.npz", "w") as zf:
        zf.writestr("scm.json.npy", buf.getvalue())
    with pytest.raises(DataError, match="is not a causaltrust SCM file"):
        ct.SCM.load(tmp_path / "deep.npz")
