"""Data-only model files: every registered method saves and loads back bit-identical, without pickles."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import causaltrust as ct
from causaltrust.bench import METHODS
from causaltrust.exceptions import DataError
from causaltrust.learners import DPMLPClassifier, SelectiveInvarianceClassifier

SPEC, SCM = ct.scenarios.load("readmission")
TABULAR = sorted(name for name, m in METHODS.items() if m.data == "tabular")
# The text methods embed texts with a MiniLM model, which the tabular round trip cannot load offline.
TEXT = sorted(name for name, m in METHODS.items() if m.data == "text")
CONTINUOUS_ONLY = ("bgl",)  # fairlearn's bounded group loss needs a continuous target


@pytest.fixture(scope="module")
def rows() -> tuple[pd.DataFrame, pd.DataFrame]:
    return SCM.sample(800, random_state=11), SCM.sample(300, random_state=12)


def _scores(model: Any, X: pd.DataFrame) -> np.ndarray:
    return np.asarray(model.predict_proba(X) if hasattr(model, "predict_proba") else model.predict(X))


@pytest.mark.parametrize("name", TABULAR)
def test_every_registered_method_round_trips_bit_identically(
    name: str, rows: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path
) -> None:
    method = METHODS[name]
    spec, (train, test) = SPEC, rows
    if name in CONTINUOUS_ONLY:  # a regression method: the law school rows (continuous ZFYA)
        spec, law = ct.datasets.spec("law_school"), ct.datasets.load("law_school")
        train, test = law.iloc[:800], law.iloc[800:1100]
    model = method.build(spec, SCM if method.needs_scm == "true" else None, dict(method.params), 0)
    model.fit(train[spec.features], train[spec.target])
    path = tmp_path / f"{name}.ctm"
    ct.scm.save_model(model, path)
    back = ct.load_model(path)  # no allow_pickle: the file is data
    assert type(back) is type(model)
    np.testing.assert_array_equal(_scores(back, test[spec.features]), _scores(model, test[spec.features]))
    np.testing.assert_array_equal(back.predict(test[spec.features]), model.predict(test[spec.features]))
    with zipfile.ZipFile(path) as zf:  # nothing but .npy arrays, none of them Python objects
        assert all(n.endswith(".npy") for n in zf.namelist())
    if getattr(model, "supports_adapt_", False):
        new = SCM.shift("new_device").sample(300, random_state=13)[SPEC.features]
        np.testing.assert_array_equal(_scores(back.adapt(new), new), _scores(model.adapt(new), new))


def test_registered_text_methods_are_listed() -> None:
    # Named here so that a new tabular method cannot slip out of the round trip by being mislabelled.
    assert set(TABULAR) | set(TEXT) == set(METHODS)
    assert all(n.startswith("text_") for n in TEXT)


def test_torch_weights_and_fitted_scm_survive(
    rows: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path
) -> None:
    train, test = rows
    X, y = train[SPEC.features], train[SPEC.target]
    clf = SelectiveInvarianceClassifier(spec=SPEC, random_state=0).fit(X, y)  # SCM learned from the rows
    clf.save(tmp_path / "selective.ctm")
    back = ct.load_model(tmp_path / "selective.ctm")
    assert back.scm_source_ == "training rows"
    assert back.scm_.provenance["nodes"]["Y"]["status"] == "learned"
    np.testing.assert_array_equal(
        back.predict_proba(test[SPEC.features]), clf.predict_proba(test[SPEC.features])
    )
    Z = np.random.default_rng(0).normal(size=(200, 3))
    mlp = DPMLPClassifier(hidden=(8,), epochs=2, target_epsilon=4.0, random_state=0).fit(Z, Z[:, 0] > 0)
    mlp.save(tmp_path / "mlp.ctm")
    again = ct.load_model(tmp_path / "mlp.ctm")
    assert again.privacy_epsilon_ == mlp.privacy_epsilon_
    for a, b in zip(again.coefs_, mlp.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(again.predict_proba(Z), mlp.predict_proba(Z))


def _rewrite(path: Path, edit: Any) -> None:
    """Edit the JSON document of a model file in place (a hostile or damaged file)."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    doc = json.loads(arrays["model.json"].tobytes().decode())
    edit(doc)
    arrays["model.json"] = np.frombuffer(json.dumps(doc).encode(), dtype=np.uint8)
    with open(path, "wb") as fh:  # a file handle: np.savez would append ".npz" to the name
        np.savez(fh, allow_pickle=False, **arrays)


def test_a_file_naming_other_code_is_refused(rows: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path) -> None:
    train, _ = rows
    path = tmp_path / "erm.ctm"
    ct.learners.ERMClassifier(spec=SPEC).fit(train[SPEC.features], train[SPEC.target]).save(path)

    def to_os(doc: dict[str, Any]) -> None:
        doc["model"]["class"] = "os:_wrap_close"

    _rewrite(path, to_os)
    with pytest.raises(DataError, match=r"class 'os:_wrap_close' is not one a causaltrust model is made of"):
        ct.load_model(path)

    def wrong_version(doc: dict[str, Any]) -> None:
        doc["version"] = 99

    _rewrite(path, wrong_version)
    with pytest.raises(DataError, match="model format version 99"):
        ct.load_model(path)
    with pytest.raises(DataError, match="cannot store a builtins"):
        ct.scm.save_model({"f": print}, tmp_path / "f.ctm")


def test_the_cli_audits_a_saved_selective_model_without_allow_pickle(
    rows: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from causaltrust.cli import app

    train, test = rows
    clf = SelectiveInvarianceClassifier(spec=SPEC, scm=SCM, n_draws=2, random_state=0)
    clf.fit(train[SPEC.features], train[SPEC.target]).save(tmp_path / "selective.ctm")
    test.to_parquet(tmp_path / "test.parquet")
    args = ["audit", "readmission", "--model", tmp_path / "selective.ctm",
            "--data", tmp_path / "test.parquet", "--objective", "fairness", "--bootstrap", "5",
            "--json", tmp_path / "r.json"]  # fmt: skip
    result = CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "250"})
    assert result.exit_code in (0, 1), result.stderr  # 1: a threshold failed; never 2 (bad input)
    rep = ct.TrustReport.from_json((tmp_path / "r.json").read_text(encoding="utf-8"))
    direct = ct.audit(
        clf, spec=SPEC, scm=SCM, data=test, objectives=["fairness"], n_bootstrap=5, random_state=0
    )
    name = "fairness.unfair_path_effect"
    assert rep.metric(name).value == direct.metric(name).value
