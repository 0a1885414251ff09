"""LM audit: prompts de-duplicated by text, metrics checked against the model's own forward passes, and the
mediation fixes (log-ratio effects, logit soft-capping, refusing Gemma)."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

import causaltrust as ct  # noqa: E402
from causaltrust.exceptions import DataError  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_winogender_prompts_are_deduplicated_by_text():
    # independent count: every male Winogender sentence cut before its first pronoun
    wg = ct.text.load_winogender()
    male = wg[wg["gender"] == "male"]
    cut = []
    for sent, occ, case in zip(male["sentence"], male["occupation"], male["pronoun_type"], strict=True):
        m = re.search(r"\b(he|his|him)\b", sent)
        prefix = sent[: m.start()].rstrip()
        if m.start() > 0 and re.search(rf"\b{occ}\b", prefix):
            cut.append((prefix, case))
    assert len(cut) > len(set(cut))  # the raw set really has duplicates (two templates share a prefix)
    p = ct.text.lm_prompts(("winogender",))
    assert len(p) == len(set(cut))
    assert not p.duplicated(["prompt", "case"]).any()
    assert p["n_copies"].sum() == len(cut)
    row = p[p["prompt"] == "The technician told the customer that"]
    assert row["n_copies"].tolist() == [2]  # "... that he could pay" and "... that he had completed"


def test_dedupe_prompts_keeps_first_and_counts():
    df = pd.DataFrame(
        {"prompt": ["a", "b", "a", "a"], "case": ["nom", "nom", "nom", "poss"], "template": [1, 2, 3, 4]}
    )
    out = ct.text.dedupe_prompts(df)
    # the same text under another case stays (another question) but joins the text's bootstrap cluster
    assert out[["prompt", "case", "template", "n_copies"]].values.tolist() == [
        ["a", "nom", 1, 2],
        ["b", "nom", 2, 1],
        ["a", "poss", 1, 1],
    ]


def test_split_is_by_occupation_and_variants_replace_only_the_occupation():
    p = ct.text.lm_prompts()
    # One split across the sources: an occupation is development or held-out in every source's templates
    # (a per-source split put e.g. "nurse" in WinoBias's development and Winogender's held-out prompts).
    by_occ = p.groupby("occupation")["split"].nunique()
    assert (by_occ == 1).all()
    shared = set(p.loc[p.source == "winogender", "occupation"]) & set(
        p.loc[p.source == "winobias", "occupation"]
    )
    assert len(shared) >= 8  # the test has teeth: the sources share occupations
    assert set(p["split"]) == {"dev", "heldout"}
    for r in p.head(40).itertuples():
        for col, word in (("neutral", "person"), ("male_ref", "man"), ("female_ref", "woman")):
            v = getattr(r, col)
            assert re.sub(rf"\b{word}\b", r.occupation, v, count=1).replace(
                " an ", " a "
            ) == r.prompt.replace(" an ", " a ")


def _log_odds(model, tokenizer, text, male, female):
    """log P(female) - log P(male) of the next token, from the model's own forward pass."""
    with torch.no_grad():
        logits = model(torch.tensor([tokenizer(text)["input_ids"]])).logits[0, -1].double()
    logp = torch.log_softmax(logits, -1)
    a = tokenizer(" " + male, add_special_tokens=False)["input_ids"][0]
    b = tokenizer(" " + female, add_special_tokens=False)["input_ids"][0]
    return float(logp[b] - logp[a])


@pytest.fixture(scope="module")
def small_prompts():
    p = ct.text.lm_prompts(("winogender",))
    return pd.concat([p[p["split"] == "dev"].head(6), p[p["split"] == "heldout"].head(6)], ignore_index=True)


CORPUS = ["water boils at a lower temperature on a mountain.", "the river grows wider in the valley."]


@pytest.fixture(scope="module")
def base_report(tiny_lm, lm_tokenizer, small_prompts):
    return ct.text.lm_audit(
        tiny_lm, lm_tokenizer, small_prompts, split="heldout", corpus=CORPUS, n_bootstrap=200, batch_size=4
    )


def test_audit_metrics_match_independent_forward_passes(tiny_lm, lm_tokenizer, small_prompts, base_report):
    held = small_prompts[small_prompts["split"] == "heldout"]
    s, agree, margin = [], [], []
    for r in held.itertuples():
        y = {c: _log_odds(tiny_lm, lm_tokenizer, getattr(r, c), r.male, r.female) for c in
             ("prompt", "neutral", "female_ref", "male_ref")}  # fmt: skip
        sign = 1.0 if r.stereotype == "female" else -1.0
        s.append(sign * (y["prompt"] - y["neutral"]))
        agree.append(((y["female_ref"] > 0) + (y["male_ref"] < 0)) / 2)
        margin.append((y["female_ref"] - y["male_ref"]) / 2)
    rep = base_report
    assert rep.meta["n_prompts"] == len(held)
    assert rep.metric("text.stereotype_effect").value == pytest.approx(np.mean(s), abs=1e-9)
    assert rep.metric("text.stereotype_effect_ratio").value == pytest.approx(np.mean(np.exp(s)) - 1, rel=1e-9)
    assert rep.metric("text.stereotype_effect_geometric").value == pytest.approx(
        math.expm1(np.mean(s)), rel=1e-9
    )
    assert rep.metric("text.referent_agreement").value == pytest.approx(np.mean(agree), abs=1e-12)
    assert rep.metric("text.referent_margin").value == pytest.approx(np.mean(margin), abs=1e-9)
    # perplexity from the model's own loss (mean next-token NLL per text, weighted by tokens)
    nll = tok = 0.0
    for text in CORPUS:
        ids = torch.tensor([lm_tokenizer(text)["input_ids"]])
        with torch.no_grad():
            loss = float(tiny_lm(ids, labels=ids).loss)
        nll += loss * (ids.shape[1] - 1)
        tok += ids.shape[1] - 1
    # transformers computes the loss in float32 (it casts the logits), hence 1e-6 rather than 1e-9
    assert rep.metric("text.perplexity").value == pytest.approx(math.exp(nll / tok), rel=1e-6)
    for m in rep.metrics:
        assert m.low <= m.value <= m.high or m.name == "text.stereotype_effect_ratio"


def test_compare_same_model_is_no_change(base_report):
    cmp = ct.text.lm_compare(base_report, base_report, n_bootstrap=100)
    assert cmp["stereotype_reduction"][0] == pytest.approx(0.0, abs=1e-12)
    assert cmp["agreement_change_points"] == pytest.approx((0.0, 0.0, 0.0), abs=1e-12)
    assert cmp["perplexity_change"] == pytest.approx((0.0, 0.0, 0.0), abs=1e-12)


def test_audit_rejects_bad_input(tiny_lm, lm_tokenizer, small_prompts):
    with pytest.raises(DataError, match="split"):
        ct.text.lm_audit(tiny_lm, lm_tokenizer, small_prompts, split="test")
    with pytest.raises(DataError, match="columns"):
        ct.text.lm_audit(tiny_lm, lm_tokenizer, small_prompts.drop(columns=["neutral"]))
    with pytest.raises(DataError, match="device"):
        ct.text.lm_audit(tiny_lm, lm_tokenizer, small_prompts, device="cuda")


def test_mediation_log_ratio_columns(tiny_lm, lm_tokenizer, tmp_path):
    pairs = [
        ("the nurse said that", "the man said that"),
        ("the cook told the guard that", "the woman told the guard that"),
    ]
    res = ct.text.mediation(
        tiny_lm, pairs, tokenizer=lm_tokenizer, targets=("he", "she"), components=["head"]
    )
    df = res.to_frame()
    expected = (res.log_y_indirect - res.log_y_factual[:, None]).mean(axis=0)
    np.testing.assert_allclose(df["indirect_log"].to_numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(res.heatmap("head", scale="log").ravel(), expected, atol=1e-12)
    assert res.log_total[0] == pytest.approx(np.mean(res.log_y_counterfactual - res.log_y_factual), abs=1e-12)
    assert "geometric-mean ratio" in res.headline()
    page = ct.report.write_html(res, tmp_path / "m.html").read_text()
    assert "NIE, mean log-ratio" in page


def test_mediation_applies_final_logit_softcapping(tiny_lm, lm_tokenizer):
    # Llama's own forward ignores the setting, so the capped log-ratio is computed here from its raw logits
    cap = 0.05  # small enough that tanh bends the random model's logits
    tiny_lm.config.final_logit_softcapping = cap
    try:
        res = ct.text.mediation(
            tiny_lm, [("the nurse said that", "the man said that")], tokenizer=lm_tokenizer,
            targets=("he", "she"), components=["layer"], layers=[0],
        )  # fmt: skip
    finally:
        del tiny_lm.config.final_logit_softcapping
    with torch.no_grad():
        logits = (
            tiny_lm(torch.tensor([lm_tokenizer("the nurse said that")["input_ids"]])).logits[0, -1].double()
        )
    logp = torch.log_softmax(torch.tanh(logits / cap) * cap, -1)
    a, b = (lm_tokenizer(" " + w, add_special_tokens=False)["input_ids"][0] for w in ("he", "she"))
    assert res.log_y_factual[0] == pytest.approx(float(logp[a] - logp[b]), abs=1e-10)
    uncapped = torch.log_softmax(logits, -1)
    assert abs(res.log_y_factual[0] - float(uncapped[a] - uncapped[b])) > 1e-4  # the cap mattered


def test_mediation_refuses_gemma(lm_tokenizer):
    from transformers import Gemma2Config, Gemma2ForCausalLM

    cfg = Gemma2Config(
        vocab_size=lm_tokenizer.vocab_size, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=1, head_dim=8,
    )  # fmt: skip
    model = Gemma2ForCausalLM(cfg).eval()
    with pytest.raises(DataError, match="gemma2"):
        ct.text.mediation(model, [("a b", "a c")], tokenizer=lm_tokenizer, targets=("he", "she"))
