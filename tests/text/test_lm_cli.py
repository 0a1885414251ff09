"""``causaltrust lm-audit`` on a tiny local model folder, and the front's report page."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from typer.testing import CliRunner

import causaltrust as ct
from causaltrust.cli import app

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def model_dir(tiny_lm, lm_tokenizer, tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny_lm")
    tiny_lm.save_pretrained(path)
    lm_tokenizer.save_pretrained(path)
    return path


def test_lm_audit_command_writes_json_and_exits_on_thresholds(model_dir, tmp_path):
    out = tmp_path / "lm.json"
    args = ["lm-audit", "--model", str(model_dir), "--sources", "winogender", "--max-prompts", "16",
            "--bootstrap", "50", "--split", "all", "-o", str(out)]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    rep = ct.TrustReport.from_json(out.read_text())
    agreement = rep.metric("text.referent_agreement").value
    assert rep.meta["n_prompts"] == 16
    # a random model agrees with the referent about half the time, so demanding 101% must fail (exit 1)
    res = CliRunner().invoke(app, [*args, "--threshold", "text.referent_agreement>=1.01"])
    assert res.exit_code == 1, res.output
    assert "text.referent_agreement" in res.output
    res = CliRunner().invoke(app, [*args, "--threshold", f"text.referent_agreement>={agreement - 0.01}"])
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text())["metrics"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--model", "no/such/folder"], "local transformers model folder"),
        (["--threshold", "text.stereotype_effect"], "METRIC<=MAX"),
        (["--split", "test"], "--split"),
        (["--sources", "crows"], "sources"),
    ],
)
def test_lm_audit_command_bad_input_exits_2(model_dir, extra, message):
    args = ["lm-audit", "--model", str(model_dir), "--sources", "winogender", "--max-prompts", "4", *extra]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2, res.output
    assert message in res.output


def test_front_page_renders_points_and_profiles(tiny_lm, lm_tokenizer, tmp_path):
    p = ct.text.lm_prompts(("winogender",), max_per_source=12)
    corpus = ["the river grows wider in the valley.", "water boils at a lower temperature."]
    base = ct.text.lm_audit(tiny_lm, lm_tokenizer, p, split=None, corpus=corpus, n_bootstrap=50,
                            mediation_prompts=2)  # fmt: skip
    with ct.text.HeadAblation(tiny_lm, [(2, 1)]).fit(lm_tokenizer, list(p["neutral"])):
        ablated = ct.text.lm_audit(tiny_lm, lm_tokenizer, p, split=None, corpus=corpus, n_bootstrap=50)
    path = ct.report.write_lm_front({"none": base, "ablate-mean 1": ablated}, tmp_path / "front.html")
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<circle") >= 2 + 2  # two points and two legend entries
    assert "ablate-mean 1" in page
    assert "mean log-ratio indirect effect per head" in page
    grid = base.meta["mediation"]["head_log_indirect"]
    assert len(grid) == tiny_lm.config.num_hidden_layers
    assert len(grid[0]) == tiny_lm.config.num_attention_heads
    with pytest.raises(ct.CausalTrustError, match="lm_audit report"):
        ct.report.render_lm_front({"x": ct.TrustReport(())})


def test_lm_audit_command_never_reads_pickled_weights(tiny_lm, lm_tokenizer, tmp_path):
    import torch

    tiny_lm.config.save_pretrained(tmp_path)
    torch.save(tiny_lm.state_dict(), tmp_path / "pytorch_model.bin")  # a pickle, as old checkpoints are
    lm_tokenizer.save_pretrained(tmp_path)
    res = CliRunner().invoke(app, ["lm-audit", "--model", str(tmp_path), "--max-prompts", "4"])
    assert res.exit_code == 2, res.output
    assert "safetensors" in res.output
