"""The shared MiniLM loader: offline, eager attention, and the same embeddings as sentence-transformers."""

from __future__ import annotations

import numpy as np

import causaltrust as ct


def test_minilm_matches_sentence_transformers_encode():
    from sentence_transformers import SentenceTransformer

    texts = ["He told his sister.", "She is a nurse at the hospital.", "The engineer fixed it", "ok"]
    ours = ct.text.MiniLMEncoder(batch_size=3).encode(texts)
    peer = SentenceTransformer(str(ct.text.minilm_path()), device="cpu").encode(texts)
    # float32 sums over 384 dims with different padding: agreement to ~1e-6, far below any real change.
    np.testing.assert_allclose(ours, peer, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-6)


def test_load_minilm_eager_and_cache_reuse():
    _, model = ct.text.load_minilm()
    assert model.config._attn_implementation == "eager"
    assert not model.training
    enc = ct.text.MiniLMEncoder()
    first = enc.encode(["a b c", "d e"])
    again = enc.encode(["d e", "a b c"])
    np.testing.assert_array_equal(again, first[::-1])  # served from the cache, same bytes
