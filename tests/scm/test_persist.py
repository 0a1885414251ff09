"""SCM.save / SCM.load: a data-only format (JSON + arrays) that never unpickles."""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causaltrust as ct
from causaltrust.exceptions import DataError

SPEC = {
    "name": "persist",
    "target": "Y",
    "variables": {
        "A": {"type": "binary", "equation": "bernoulli(0.4)"},
        "E": {
            "type": "categorical",
            "categories": ["a", "b", "c"],
            "equation": "categorical([0.5, 0.3, 0.2])",
        },
        "X": {"type": "continuous", "equation": "A + 0.5*(E == 'b') + normal(0, 1)"},
        "W": {"type": "continuous", "equation": "exp(0.3*X) + uniform(-1, 1)"},
        "Y": {"type": "binary", "equation": "bernoulli(sigmoid(X - W + A))"},
    },
}


def _same(a: ct.SCM, b: ct.SCM, data: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        a.sample(4000, random_state=7), b.sample(4000, random_state=7), check_exact=True
    )
    cf_a = a.counterfactual(data, do={"A": 0}, random_state=3)
    cf_b = b.counterfactual(data, do={"A": 0}, random_state=3)
    pd.testing.assert_frame_equal(cf_a, cf_b, check_exact=True)


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return ct.SCM.from_spec(SPEC).sample(1500, random_state=0)


def test_equation_scm_round_trip_bit_for_bit(tmp_path: Path, data: pd.DataFrame) -> None:
    scm = ct.SCM.from_spec(SPEC)
    scm.save(tmp_path / "scm.npz")
    loaded = ct.SCM.load(tmp_path / "scm.npz")
    assert loaded.spec.hash == scm.spec.hash
    _same(scm, loaded, data.head(300))


@pytest.mark.parametrize("mechanisms", ["auto", "linear", "boosted"])
def test_fitted_scm_round_trip_bit_for_bit(tmp_path: Path, data: pd.DataFrame, mechanisms: object) -> None:
    # Boosting (a skops blob: HistGradientBoosting, calibrated classifier) on fewer rows: it is slow to fit.
    from sklearn.ensemble import HistGradientBoostingClassifier

    rows = data.head(300) if mechanisms == "boosted" else data.head(600)
    if mechanisms == "boosted":
        mechanisms = {"W": "gbm", "Y": HistGradientBoostingClassifier(max_iter=20, random_state=0)}
    scm = ct.SCM.fit(SPEC, rows, random_state=0, mechanisms=mechanisms)  # type: ignore[arg-type]
    scm.save(tmp_path / "fitted.npz")
    loaded = ct.SCM.load(tmp_path / "fitted.npz")
    assert {v: m.description for v, m in loaded.mechanisms.items()} == {
        v: m.description for v, m in scm.mechanisms.items()
    }
    _same(scm, loaded, data.head(300))


def test_file_holds_no_pickle(tmp_path: Path, data: pd.DataFrame) -> None:
    # Every member is a .npy array of a non-object dtype: np.load(allow_pickle=False) reads it all.
    scm = ct.SCM.fit(SPEC, data.head(400), random_state=0, mechanisms={"W": "gbm"})
    scm.save(tmp_path / "s.npz")
    with np.load(tmp_path / "s.npz", allow_pickle=False) as npz:
        kinds = {npz[k].dtype.kind for k in npz.files}
        doc = json.loads(npz["scm.json"].tobytes())
    assert "O" not in kinds
    assert doc["format"] == "causaltrust-scm"


class _Boom:
    def __reduce__(self) -> tuple[object, ...]:
        return (Path("/nonexistent-dir-causaltrust/should-not-exist").mkdir, ())


def test_malicious_pickle_refused(tmp_path: Path) -> None:
    bad = tmp_path / "scm.joblib"
    bad.write_bytes(pickle.dumps({"format": "causaltrust-scm", "scm": _Boom()}))
    with pytest.raises(DataError, match=r"pickle, which runs code when loaded: refused"):
        ct.SCM.load(bad)
    assert not Path("/nonexistent-dir-causaltrust").exists()


def _npz(doc: dict[str, object], path: Path) -> Path:
    buf = io.BytesIO()
    np.savez(buf, **{"scm.json": np.frombuffer(json.dumps(doc).encode(), dtype=np.uint8)})
    path.write_bytes(buf.getvalue())
    return path


def test_class_outside_allow_list_refused(tmp_path: Path) -> None:
    scm = ct.SCM.from_spec(SPEC)
    scm.save(tmp_path / "ok.npz")
    with np.load(tmp_path / "ok.npz", allow_pickle=False) as npz:
        doc = json.loads(npz["scm.json"].tobytes())
    doc["state"] = {"$": "object", "class": "os:system", "state": {"$": "dict", "v": []}}
    with pytest.raises(DataError, match=r"class 'os:system' is not one an SCM is made of; refused"):
        ct.SCM.load(_npz(doc, tmp_path / "evil.npz"))
    doc["state"] = {"$": "object", "class": "causaltrust.scm._mechanisms:np", "state": {"$": "dict", "v": []}}
    with pytest.raises(DataError, match=r"refused"):
        ct.SCM.load(_npz(doc, tmp_path / "evil2.npz"))


def test_untrusted_skops_type_refused(tmp_path: Path) -> None:
    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    blob = np.frombuffer(sio.dumps(FunctionTransformer(func=print)), dtype=np.uint8)
    ct.SCM.from_spec(SPEC).save(tmp_path / "ok.npz")
    with np.load(tmp_path / "ok.npz", allow_pickle=False) as npz:
        doc = json.loads(npz["scm.json"].tobytes())
    doc["state"] = {"$": "dict", "v": [["parents", {"$": "skops", "array": {"$": "array", "key": "a0"}}]]}
    buf = io.BytesIO()
    np.savez(buf, **{"scm.json": np.frombuffer(json.dumps(doc).encode(), dtype=np.uint8), "a0": blob})
    (tmp_path / "sk.npz").write_bytes(buf.getvalue())
    with pytest.raises(DataError, match=r"not trusted: builtins.print"):
        ct.SCM.load(tmp_path / "sk.npz")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"not a causaltrust SCM file \(something else\)"),
        (b"garbage", "something else"),
        (None, "not a causaltrust SCM file"),
    ],
)
def test_foreign_files_refused(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "x.npz"
    if content is None:
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("other.txt", "hello")
    else:
        path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        ct.SCM.load(path)
    with pytest.raises(DataError, match="does not exist"):
        ct.SCM.load(tmp_path / "missing.npz")
