"""Causal LoRA fine-tuning and selective head choice on a tiny random Llama.

The losses at step 0 are checked against the audit's own unpadded scorers (at step 0 LoRA's B is zero, so the
adapted model is the original); the merged update is checked to touch only the adapted matrices, with rank at
most the LoRA rank; the causal objective is checked to remove a stereotype planted here while keeping the
referent's effect; head shares are checked against a patch written here.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")

import causaltrust as ct  # noqa: E402
from causaltrust.exceptions import DataError  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def prompts():
    return ct.text.lm_prompts(("winogender",), split="dev").head(4).reset_index(drop=True)


def _state(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_step_zero_losses_match_the_unpadded_scorers(tiny_lm, lm_tokenizer, prompts):
    pairs = list(zip(prompts["male"], prompts["female"], strict=True))
    n = len(prompts)
    ft = ct.text.causal_finetune(
        tiny_lm, lm_tokenizer, prompts, objective="causal", steps=1, batch_size=n, split=None
    )
    y = ct.text.next_token_log_odds(
        tiny_lm, lm_tokenizer, [*prompts["prompt"], *prompts["neutral"]], pairs * 2
    )
    first = ft.history.iloc[0]
    # float64 model: the padded batch and the unpadded scorer agree to rounding
    assert first["invariance"] == pytest.approx(np.mean((y[:n] - y[n:]) ** 2), rel=1e-9, abs=1e-15)
    assert abs(first["agreement"]) < 1e-20  # adapted == original
    assert abs(first["preserve"]) < 1e-12
    cda = ct.text.causal_finetune(tiny_lm, lm_tokenizer, prompts, objective="cda", steps=1, batch_size=n)
    # CDA's texts: each prompt's tokens, then a pronoun; mean cross-entropy over every predicted token
    nll, count = 0.0, 0
    for cols in (("prompt", "female"), ("prompt", "male"), ("female_ref", "female"), ("male_ref", "male")):
        for text, word in zip(prompts[cols[0]], prompts[cols[1]], strict=True):
            ids = (
                lm_tokenizer(text)["input_ids"]
                + lm_tokenizer(" " + word, add_special_tokens=False)["input_ids"]
            )
            with torch.no_grad():
                logp = torch.log_softmax(tiny_lm(torch.tensor([ids])).logits[0, :-1], -1)
            nll -= float(logp[torch.arange(len(ids) - 1), torch.tensor(ids[1:])].sum())
            count += len(ids) - 1
    assert cda.history.iloc[0]["lm"] == pytest.approx(nll / count, rel=1e-9)


def test_merged_update_is_low_rank_on_the_adapted_matrices_only(tiny_lm, lm_tokenizer, prompts):
    before = _state(tiny_lm)
    rank = 2
    ft = ct.text.causal_finetune(
        tiny_lm, lm_tokenizer, prompts, steps=3, batch_size=2, rank=rank, layers=[1, 2], lr=1e-2
    )
    after = tiny_lm.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # the input model is untouched
    new = ft.model.state_dict()
    assert type(ft.model) is type(tiny_lm)
    assert set(new) == set(before)
    changed = {k for k in before if not torch.equal(before[k], new[k])}
    assert changed == {f"model.layers.{i}.self_attn.{m}.weight" for i in (1, 2) for m in ("q_proj", "v_proj")}
    for k in changed:
        assert np.linalg.matrix_rank((new[k] - before[k]).numpy(), tol=1e-10) <= rank
    # LoRA's parameter count in closed form: rank * (in + out) per adapted matrix
    h = tiny_lm.config.hidden_size
    kv = tiny_lm.config.num_key_value_heads * h // tiny_lm.config.num_attention_heads
    assert ft.provenance["trainable_params"] == 2 * rank * ((h + h) + (h + kv))
    assert any("causal_finetune" in note for note in ct.text.lm_audit(
        ft.model, lm_tokenizer, prompts, split=None, corpus=["a short text here"], n_bootstrap=2
    ).notes)  # fmt: skip


def test_same_seed_same_weights(tiny_lm, lm_tokenizer, prompts):
    kw = {"steps": 2, "batch_size": 2, "layers": [2], "lr": 1e-2}
    a = ct.text.causal_finetune(tiny_lm, lm_tokenizer, prompts, random_state=1, **kw).model.state_dict()
    b = ct.text.causal_finetune(tiny_lm, lm_tokenizer, prompts, random_state=1, **kw).model.state_dict()
    c = ct.text.causal_finetune(tiny_lm, lm_tokenizer, prompts, random_state=2, **kw).model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a)


def test_callback_sees_each_step_and_changes_nothing(tiny_lm, lm_tokenizer, prompts):
    from peft import get_peft_model_state_dict

    kw = {"steps": 3, "batch_size": 2, "layers": [1, 2], "lr": 1e-2, "random_state": 3}
    texts, pairs = list(prompts["prompt"]), list(zip(prompts["male"], prompts["female"], strict=True))
    seen: dict[int, np.ndarray] = {}
    adapters: dict[int, dict[str, torch.Tensor]] = {}

    def record(step, adapted):
        assert not adapted.training
        assert not torch.is_grad_enabled()
        seen[step] = ct.text.next_token_log_odds(adapted, lm_tokenizer, texts, pairs)
        adapters[step] = {k: v.clone() for k, v in get_peft_model_state_dict(adapted).items()}

    with_cb = ct.text.causal_finetune(tiny_lm, lm_tokenizer, prompts, callback=record, **kw)
    assert sorted(seen) == [1, 2, 3]
    # the callback leaves training alone: the same weights as a run without it
    plain = ct.text.causal_finetune(tiny_lm, lm_tokenizer, prompts, **kw).model.state_dict()
    assert all(torch.equal(v, plain[k]) for k, v in with_cb.model.state_dict().items())
    # what it saw after step 2 is the model a 2-step run returns (independent run, merged weights)
    two = ct.text.causal_finetune(tiny_lm, lm_tokenizer, prompts, **{**kw, "steps": 2}).model
    np.testing.assert_allclose(
        seen[2], ct.text.next_token_log_odds(two, lm_tokenizer, texts, pairs), atol=1e-9
    )
    np.testing.assert_allclose(
        seen[3], ct.text.next_token_log_odds(with_cb.model, lm_tokenizer, texts, pairs), atol=1e-9
    )
    assert not np.allclose(seen[1], seen[3])  # the steps did move the model
    assert any(not torch.equal(adapters[1][k], adapters[3][k]) for k in adapters[1])
    with pytest.raises(DataError, match="callback"):
        ct.text.causal_finetune(tiny_lm, lm_tokenizer, prompts, callback="save")


def test_causal_objective_removes_a_planted_stereotype_and_keeps_the_referent(tiny_lm, lm_tokenizer, prompts):
    # plant a stereotype and referent agreement: full fine-tuning of the next pronoun only, "person" 50/50
    biased = copy.deepcopy(tiny_lm).float()
    stereo = np.where(prompts["stereotype"] == "female", prompts["female"], prompts["male"])
    plant = [
        (t, w)
        for a, b in (("prompt", None), ("female_ref", "female"), ("male_ref", "male"), ("neutral", "male"),
                     ("neutral", "female"))
        for t, w in zip(prompts[a], stereo if b is None else prompts[b], strict=True)
    ]  # fmt: skip
    one = lambda w: lm_tokenizer(" " + w, add_special_tokens=False)["input_ids"]  # noqa: E731
    seqs = [lm_tokenizer(t)["input_ids"] + one(w) for t, w in plant]
    width = max(map(len, seqs))
    x = torch.tensor([s + [0] * (width - len(s)) for s in seqs])  # right padding: never read
    labels = torch.full_like(x, -100)
    for i, s in enumerate(seqs):
        labels[i, len(s) - 1] = s[-1]
    opt = torch.optim.Adam(biased.parameters(), lr=1e-2)
    for _ in range(40):
        loss = biased(x, labels=labels).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    biased.eval()
    pairs = list(zip(prompts["male"], prompts["female"], strict=True))
    n = len(prompts)
    sign = np.where(prompts["stereotype"] == "female", 1.0, -1.0)

    def paths(model):
        y = ct.text.next_token_log_odds(
            model, lm_tokenizer,
            [*prompts["prompt"], *prompts["neutral"], *prompts["female_ref"], *prompts["male_ref"]],
            pairs * 4,
        )  # fmt: skip
        return sign * (y[:n] - y[n : 2 * n]), y[2 * n : 3 * n] - y[3 * n :]

    s0, r0 = paths(biased)
    assert s0.mean() > 0.5  # the plant took
    assert r0.mean() > 0.5
    ft = ct.text.causal_finetune(biased, lm_tokenizer, prompts, steps=12, batch_size=4, rank=4, lr=2e-2)
    s1, r1 = paths(ft.model)
    # deterministic (fixed seeds, one thread); measured: the stereotype falls to ~12% of its planted size
    # while the referent's log-odds move by ~15% of theirs
    assert np.abs(s1).mean() < 0.25 * np.abs(s0).mean()  # the stereotype on the training prompts is gone
    assert np.abs(r1 - r0).mean() < 0.3 * r0.mean()  # the referent's effect is kept


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"objective": "erase"}, "objective"),
        ({"steps": 0}, "steps"),
        ({"rank": 1.5}, "rank"),
        ({"lr": -1.0}, "lr"),
        ({"layers": [7]}, "layers"),
        ({"target_modules": ["no_such_proj"]}, "target_modules"),
        ({"split": "train"}, "split"),
    ],
)
def test_bad_input_is_a_data_error(tiny_lm, lm_tokenizer, prompts, kwargs, message):
    with pytest.raises(DataError, match=message):
        ct.text.causal_finetune(tiny_lm, lm_tokenizer, prompts, **kwargs)


def test_missing_columns_and_empty_split(tiny_lm, lm_tokenizer, prompts):
    with pytest.raises(DataError, match="lacks the columns"):
        ct.text.causal_finetune(tiny_lm, lm_tokenizer, prompts.drop(columns="neutral"))
    with pytest.raises(DataError, match="no training prompts"):
        ct.text.causal_finetune(tiny_lm, lm_tokenizer, prompts, split="heldout")


def test_saved_folder_reloads_to_the_same_logits(tiny_lm, lm_tokenizer, prompts, tmp_path):
    from transformers import AutoModelForCausalLM

    ft = ct.text.causal_finetune(tiny_lm, lm_tokenizer, prompts, steps=1, batch_size=2, lr=1e-2)
    folder = ft.save(tmp_path / "ft", lm_tokenizer)
    back = AutoModelForCausalLM.from_pretrained(
        folder, local_files_only=True, use_safetensors=True, dtype=torch.float64
    )
    saved, mine = back.state_dict(), ft.model.state_dict()
    assert set(saved) == set(mine)
    assert all(torch.equal(saved[k], mine[k]) for k in mine)
    assert (folder / "causaltrust_finetune.json").is_file()


def test_select_heads_shares_match_a_patch_written_here(tiny_lm, lm_tokenizer):
    p = ct.text.lm_prompts(("winogender",), split="dev")
    n = lambda t: len(lm_tokenizer(t)["input_ids"])  # noqa: E731
    p = p[[n(a) == n(b) == n(c) == n(d) for a, b, c, d in
           zip(p["prompt"], p["neutral"], p["female_ref"], p["male_ref"], strict=True)]]  # fmt: skip
    p = p.head(2).reset_index(drop=True)
    ranked = ct.text.select_heads(tiny_lm, lm_tokenizer, p, n_prompts=2)
    assert ranked["score"].is_monotonic_decreasing
    assert list(ranked["rank"]) == list(range(1, len(ranked) + 1))
    assert np.allclose(ranked["score"], ranked["stereotype_share"] - ranked["referent_share"])
    layer, head = int(ranked.iloc[0]["layer"]), int(ranked.iloc[0]["head"])
    d = tiny_lm.config.hidden_size // tiny_lm.config.num_attention_heads
    o_proj = tiny_lm.model.layers[layer].self_attn.o_proj

    def log_y(text, num, den, patch=None):
        seen = {}

        def hook(module, args):
            seen["x"] = args[0][..., head * d : (head + 1) * d].clone()
            if patch is None:
                return None
            x = args[0].clone()
            x[..., head * d : (head + 1) * d] = patch
            return (x,)

        h = o_proj.register_forward_pre_hook(hook)
        try:
            with torch.no_grad():
                logp = torch.log_softmax(
                    tiny_lm(torch.tensor([lm_tokenizer(text)["input_ids"]])).logits[0, -1], -1
                )
        finally:
            h.remove()
        i = lambda w: lm_tokenizer(" " + w, add_special_tokens=False)["input_ids"][0]  # noqa: E731
        return float(logp[i(num)] - logp[i(den)]), seen["x"]

    def indirect(fact, cf, num, den):
        base, _ = log_y(fact, num, den)
        _, source = log_y(cf, num, den)
        patched, _ = log_y(fact, num, den, source)
        total = log_y(cf, num, den)[0] - base
        return patched - base, total

    anti = lambda r: (r.male, r.female) if r.stereotype == "female" else (r.female, r.male)  # noqa: E731
    s = [indirect(r.prompt, r.neutral, *anti(r)) for r in p.itertuples()]
    a = [indirect(p.female_ref[0], p.neutral[0], p.male[0], p.female[0]),
         indirect(p.male_ref[0], p.neutral[0], p.female[0], p.male[0])]  # fmt: skip
    share = lambda v: np.mean([x[0] for x in v]) / np.mean([x[1] for x in v])  # noqa: E731
    top = ranked.iloc[0]
    assert top["stereotype_share"] == pytest.approx(share(s), rel=1e-8, abs=1e-12)
    assert top["referent_share"] == pytest.approx(share(a), rel=1e-8, abs=1e-12)


def test_select_heads_bad_input(tiny_lm, lm_tokenizer):
    p = ct.text.lm_prompts(("winogender",), split="dev").head(3)
    with pytest.raises(DataError, match="n_prompts"):
        ct.text.select_heads(tiny_lm, lm_tokenizer, p, n_prompts=0)
    with pytest.raises(DataError, match="lacks the columns"):
        ct.text.select_heads(tiny_lm, lm_tokenizer, p.drop(columns="stereotype"))
