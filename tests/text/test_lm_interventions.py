"""LM interventions: exactly reversible, head ablation against hooks written here, LEACE leaves a probe at
chance on held-out contrasts, and the selective erasure leaves explicitly gendered tokens alone."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

import causaltrust as ct  # noqa: E402
from causaltrust.exceptions import DataError  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TEXTS = ["the nurse said that", "the cook told the guard that", "a man went to the shop and"]
REFERENCE = ["the person said that", "the person told the guard that", "it rained all day in the valley"]


def _logits(model, tokenizer, text):
    with torch.no_grad():
        return model(torch.tensor([tokenizer(text)["input_ids"]])).logits[0].clone()


def _state_bytes(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.fixture(scope="module")
def eraser(tiny_lm, lm_tokenizer):
    p = ct.text.lm_prompts(("winogender",), split="dev")
    texts = [*p["female_ref"], *p["male_ref"]]
    words = ["woman"] * len(p) + ["man"] * len(p)
    acts, _ = ct.text.residual_activations(
        tiny_lm, lm_tokenizer, texts, [1], positions="word", from_words=words
    )
    return ct.text.LeaceEraser().fit(acts[1], np.repeat([1, 0], [len(acts[1]) // 2, len(acts[1]) // 2]))


def _interventions(tiny_lm, lm_tokenizer, eraser):
    mean = ct.text.HeadAblation(tiny_lm, [(1, 2), (2, 0)]).fit(lm_tokenizer, REFERENCE)
    resample = ct.text.HeadAblation(tiny_lm, [(2, 3)], method="resample", random_state=3).fit(
        lm_tokenizer, REFERENCE
    )
    full = ct.text.ResidualErasure(tiny_lm, {1: eraser})
    keep = ct.text.gendered_token_ids(lm_tokenizer)
    selective = ct.text.ResidualErasure(tiny_lm, {0: eraser, 1: eraser}, alpha=0.7, keep_tokens=keep)
    return {"mean": mean, "resample": resample, "full": full, "selective": selective}


def test_every_intervention_is_exactly_reversible(tiny_lm, lm_tokenizer, eraser):
    before_state = _state_bytes(tiny_lm)
    before = [_logits(tiny_lm, lm_tokenizer, t) for t in TEXTS]
    for name, intervention in _interventions(tiny_lm, lm_tokenizer, eraser).items():
        with intervention:
            inside = [_logits(tiny_lm, lm_tokenizer, t) for t in TEXTS]
        assert any(not torch.equal(a, b) for a, b in zip(before, inside, strict=True)), name
        after = [_logits(tiny_lm, lm_tokenizer, t) for t in TEXTS]
        assert all(torch.equal(a, b) for a, b in zip(before, after, strict=True)), name
        state = tiny_lm.state_dict()
        assert all(torch.equal(before_state[k], state[k]) for k in before_state), name
        assert not any(m._forward_hooks or m._forward_pre_hooks for m in tiny_lm.modules()), name


def test_hooks_are_removed_when_the_block_raises(tiny_lm, lm_tokenizer, eraser):
    abl = ct.text.HeadAblation(tiny_lm, [(0, 1)]).fit(lm_tokenizer, REFERENCE)
    with pytest.raises(RuntimeError, match="boom"), abl:
        raise RuntimeError("boom")
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in tiny_lm.modules())


def test_mean_ablation_matches_independent_hooked_forward(tiny_lm, lm_tokenizer):
    layer, head = 1, 2
    d = tiny_lm.config.hidden_size // tiny_lm.config.num_attention_heads
    o_proj = tiny_lm.model.layers[layer].self_attn.o_proj
    # the mean of the head's output over every position of the reference texts, recorded here
    seen = []
    h = o_proj.register_forward_pre_hook(
        lambda m, a: seen.append(a[0][0, :, head * d : (head + 1) * d].clone())
    )
    for text in REFERENCE:
        _logits(tiny_lm, lm_tokenizer, text)
    h.remove()
    mean = torch.cat(seen).mean(dim=0)

    def patch(m, a):
        x = a[0].clone()
        x[..., head * d : (head + 1) * d] = mean
        return (x,)

    h = o_proj.register_forward_pre_hook(patch)
    try:
        expected = [_logits(tiny_lm, lm_tokenizer, t) for t in TEXTS]
    finally:
        h.remove()
    with ct.text.HeadAblation(tiny_lm, [(layer, head)]).fit(lm_tokenizer, REFERENCE, batch_size=2):
        got = [_logits(tiny_lm, lm_tokenizer, t) for t in TEXTS]
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


def test_resample_ablation_repeats_and_draws_reference_values(tiny_lm, lm_tokenizer):
    abl = ct.text.HeadAblation(tiny_lm, [(2, 1)], method="resample", random_state=5).fit(
        lm_tokenizer, REFERENCE
    )
    with abl:
        first = _logits(tiny_lm, lm_tokenizer, TEXTS[0])
    with abl:
        second = _logits(tiny_lm, lm_tokenizer, TEXTS[0])
    assert torch.equal(first, second)  # re-seeded on every entry
    d = tiny_lm.config.hidden_size // tiny_lm.config.num_attention_heads
    got = []
    o_proj = tiny_lm.model.layers[2].self_attn.o_proj
    with abl:
        h = o_proj.register_forward_hook(lambda m, a, o: got.append(a[0][0, :, d : 2 * d].clone()))
        _logits(tiny_lm, lm_tokenizer, TEXTS[1])
        h.remove()
    pool = abl.pool_[2][:, d : 2 * d]
    for row in got[0]:  # every patched position holds one of the reference positions' values
        assert torch.isclose(pool, row).all(dim=1).any()


def test_leace_leaves_a_probe_at_chance_on_heldout_contrasts(tiny_lm, lm_tokenizer, eraser):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    p = ct.text.lm_prompts(("winogender",), split="heldout")
    texts = [*p["female_ref"], *p["male_ref"]]
    words = ["woman"] * len(p) + ["man"] * len(p)
    # the referent word's own position, as the eraser was fitted (on the development contrasts)
    acts, owner = ct.text.residual_activations(
        tiny_lm, lm_tokenizer, texts, [1], positions="word", from_words=words
    )
    x, z = acts[1], (owner < len(p)).astype(int)
    probe = LogisticRegression(max_iter=2000)
    before = cross_val_score(probe, x, z, cv=5).mean()
    after = cross_val_score(probe, eraser.apply(x), z, cv=5).mean()
    n = len(z)  # 136 held-out contrasts: the accuracy of a chance probe has sd 0.5 / sqrt(136) = 0.043
    assert before > 0.95
    assert abs(after - 0.5) < 3 * 0.5 / np.sqrt(n) + 0.02


def test_leace_removes_cross_covariance_exactly():
    rng = np.random.default_rng(0)
    z = rng.integers(0, 3, 400)
    x = rng.normal(size=(400, 6)) + np.eye(6)[z] * 2 + rng.normal(size=(400, 1))
    er = ct.text.LeaceEraser().fit(x, z)
    onehot = np.eye(3)[z]
    cov = (er.apply(x) - er.apply(x).mean(0)).T @ (onehot - onehot.mean(0)) / len(z)
    assert np.abs(cov).max() < 1e-10
    assert er.rank_ == 2
    # the least change: a random other map that also zeroes the covariance moves x at least as much
    moved = ((er.apply(x) - x) ** 2).sum(1).mean()
    assert moved < ((x - x.mean(0)) ** 2).sum(1).mean()


def test_selective_erasure_skips_gendered_tokens(tiny_lm, lm_tokenizer, eraser):
    text = "the woman told the nurse that"
    block = tiny_lm.model.layers[1]
    ids = lm_tokenizer(text)["input_ids"]
    keep = ct.text.gendered_token_ids(lm_tokenizer)
    woman = lm_tokenizer("woman", add_special_tokens=False)["input_ids"][0]
    assert woman in keep
    seen = []

    def rec(m, a, o):
        seen.append((o[0] if isinstance(o, tuple) else o)[0].clone())

    # one erased layer, so the block's input is the same with and without it
    with ct.text.ResidualErasure(tiny_lm, {1: eraser}, keep_tokens=keep):
        h = block.register_forward_hook(rec)  # registered after the erasure's hook: sees its output
        _logits(tiny_lm, lm_tokenizer, text)
        h.remove()
    h = block.register_forward_hook(rec)
    _logits(tiny_lm, lm_tokenizer, text)
    h.remove()
    with ct.text.ResidualErasure(tiny_lm, {1: eraser}, keep_tokens=keep, keep_first=1):
        h = block.register_forward_hook(rec)
        _logits(tiny_lm, lm_tokenizer, text)
        h.remove()
    erased, clean, sink = seen[0].numpy(), seen[1].numpy(), seen[2].numpy()
    expected = eraser.apply(clean)
    at = ids.index(woman)
    for t in range(len(ids)):
        want = clean[t] if t == at else expected[t]
        np.testing.assert_allclose(erased[t], want, atol=1e-10)
        np.testing.assert_allclose(sink[t], clean[t] if t in (0, at) else expected[t], atol=1e-10)


def test_bad_input_is_one_clean_error(tiny_lm, lm_tokenizer, eraser):
    with pytest.raises(DataError, match="outside"):
        ct.text.HeadAblation(tiny_lm, [(9, 0)]).fit(lm_tokenizer, REFERENCE)
    with pytest.raises(DataError, match="not fitted"), ct.text.HeadAblation(tiny_lm, [(0, 0)]):
        pass
    with pytest.raises(DataError, match="alpha"), ct.text.ResidualErasure(tiny_lm, {1: eraser}, alpha=2):
        pass
    with pytest.raises(DataError, match="two concept classes"):
        ct.text.LeaceEraser().fit(np.ones((4, 2)), np.zeros(4))
