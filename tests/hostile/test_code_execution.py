"""No command runs code from an input file: pickles need --allow-pickle everywhere, skops files are read with
the library's own list of trusted types (never the file's), and archives are size-checked before they unpack.

Every hostile file here would leave a marker file behind if any of its code ran.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

import causaltrust as ct
from causaltrust.cli import app
from causaltrust.scm import MAX_ARCHIVE_BYTES, load_model

runner = CliRunner()


class Payload:
    """Unpickling this calls ``os.system``: it writes the marker file named in the command."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


class Crafted(LogisticRegression):
    """A class a skops file can ask for: its ``__setstate__`` is the file's code."""

    marker = ""

    def __setstate__(self, state: dict[str, object]) -> None:
        Path(str(state.get("marker_path", "x"))).touch()
        super().__setstate__(state)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("code")
    marker = d / "pwned"
    for name in ("evil.joblib", "evil.pkl"):
        (d / name).write_bytes(pickle.dumps(Payload(marker)))
    crafted = Crafted().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])
    crafted.marker_path = str(marker)
    sio.dump(crafted, d / "crafted.skops")
    scm = ct.SCM.from_spec("readmission")
    test = scm.sample(60, random_state=0)
    test.to_parquet(d / "test.parquet")
    test[["Y"]].assign(text="She is a nurse.").to_csv(d / "corpus.csv", index=False)
    return {"dir": d, "marker": marker}


def _commands(d: Path, model: Path) -> list[list[str]]:
    data = str(d / "test.parquet")
    return [
        ["audit", "readmission", "--model", str(model), "--data", data],
        ["sensitivity", "readmission", "--model", str(model), "--data", data, "-e", "drop A->Z"],
        ["text-audit", "--model", str(model), "--corpus", str(d / "corpus.csv"), "--bootstrap", "0"],
    ]


@pytest.mark.parametrize("name", ["evil.joblib", "evil.pkl", "crafted.skops"])
@pytest.mark.parametrize("command", ["audit", "sensitivity", "text-audit"])
def test_every_model_command_refuses_code(hostile: dict[str, Path], name: str, command: str) -> None:
    d, marker = hostile["dir"], hostile["marker"]
    args = next(a for a in _commands(d, d / name) if a[0] == command)
    res = runner.invoke(app, args, env={"COLUMNS": "250"})
    assert res.exit_code == 2, res.output
    assert not marker.exists(), "code from the model file ran"
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1, err
    if name.endswith(".skops"):
        assert "holds types that are not trusted" in err
        assert "Crafted" in err
    else:
        assert "is a pickle, which runs code when loaded" in err
        assert "--allow-pickle" in err


def test_the_library_loader_refuses_the_same_files(hostile: dict[str, Path]) -> None:
    d, marker = hostile["dir"], hostile["marker"]
    with pytest.raises(ct.DataError, match="is a pickle, which runs code when loaded"):
        load_model(d / "evil.joblib")
    with pytest.raises(ct.DataError, match=r"not trusted: .*Crafted"):
        load_model(d / "crafted.skops")
    assert not marker.exists()


def test_allow_pickle_is_the_one_way_to_run_a_pickle(hostile: dict[str, Path], tmp_path: Path) -> None:
    # The flag means what it says: with it, the pickle is executed (here, harmlessly, into tmp_path).
    marker = tmp_path / "ran"
    (tmp_path / "ok.joblib").write_bytes(pickle.dumps(Payload(marker)))
    load_model(tmp_path / "ok.joblib", allow_pickle=True)
    assert marker.exists()


def _npz_with(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, blob in members.items():
            zf.writestr(name, blob)


def test_a_zip_bomb_scm_is_refused_from_its_headers(tmp_path: Path) -> None:
    # 600 MiB of zeros deflate to about 600 KB: the declared size is over the limit, so nothing unpacks.
    size = MAX_ARCHIVE_BYTES + 88 * 2**20
    header = np.lib.format.header_data_from_array_1_0(np.zeros(1, dtype=np.uint8))
    header["shape"] = (size,)
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf, zf.open("a.npy", "w") as fh:
        np.lib.format.write_array_header_1_0(fh, header)
        chunk = bytes(2**24)
        for _ in range(size // len(chunk)):
            fh.write(chunk)
    assert path.stat().st_size < 2**20
    with pytest.raises(ct.DataError, match=r"would unpack to 6[0-9,]+ bytes, over the limit"):
        ct.SCM.load(path)
    args = ["audit", "readmission", "--model", "m.skops", "--data", "d.csv", "--scm", str(path)]
    res = runner.invoke(app, args)
    assert res.exit_code == 2


def test_an_npy_header_larger_than_its_member_is_refused(tmp_path: Path) -> None:
    header = np.lib.format.header_data_from_array_1_0(np.zeros(1))
    header["shape"] = (10**12,)  # 8 TB declared in a few bytes
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    _npz_with(tmp_path / "liar.npz", {"scm.json.npy": buf.getvalue() + bytes(8)})
    with pytest.raises(ct.DataError, match=r"declares 8,000,000,000,000 bytes in a \d+-byte entry"):
        ct.SCM.load(tmp_path / "liar.npz")


def test_a_pickled_archive_member_is_refused(tmp_path: Path) -> None:
    buf = __import__("io").BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    _npz_with(tmp_path / "obj.npz", {"scm.json.npy": buf.getvalue()})
    with pytest.raises(ct.DataError, match="holds Python objects: refused"):
        ct.SCM.load(tmp_path / "obj.npz")


def test_a_saved_scm_still_round_trips(tmp_path: Path) -> None:
    scm = ct.SCM.from_spec("readmission")
    scm.save(tmp_path / "scm.npz")
    again = ct.SCM.load(tmp_path / "scm.npz")
    pd.testing.assert_frame_equal(scm.sample(200, random_state=1), again.sample(200, random_state=1))


def test_a_deeply_nested_model_file_is_refused_cleanly(tmp_path: Path) -> None:
    # .ctm model files share the SCM files' checked reader: nesting that overflows json is one DataError.
    import io

    buf = io.BytesIO()
    np.save(buf, np.frombuffer(("[" * 100_000 + "]" * 100_000).encode(), dtype=np.uint8))
    _npz_with(tmp_path / "deep.ctm", {"model.json.npy": buf.getvalue()})
    with pytest.raises(ct.DataError, match="is not a causaltrust model file"):
        load_model(tmp_path / "deep.ctm")
