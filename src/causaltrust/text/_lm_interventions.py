"""Interventions inside a causal LM, each a reversible context manager: hooks only, no weight is touched.

* :class:`HeadAblation`: mean or resample ablation of chosen attention heads' outputs (e.g. the top-k
  mediating heads of :func:`mediation`).
* :class:`LeaceEraser` + :class:`ResidualErasure`: LEACE concept erasure (Belrose et al., 2023, closed form)
  of the residual stream at chosen layers. With ``keep_tokens`` the erasure skips the positions of explicitly
  gendered words, so the gender a referent states ("the woman") survives while gender that an occupation
  merely suggests is erased: the selective, path-specific version.

On exit every hook is removed, so the model computes exactly what it computed before (tested bit for bit).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from causaltrust.exceptions import DataError
from causaltrust.text._lexicon import GENDER_PAIRS, ONE_WAY
from causaltrust.text._mediation_models import hooks, torch_or_raise

__all__ = [
    "HeadAblation",
    "LeaceEraser",
    "ResidualErasure",
    "gendered_token_ids",
    "residual_activations",
]


def _llama_parts(model: Any) -> tuple[Any, Any]:
    base = getattr(model, "model", None)
    if base is None or not hasattr(base, "layers") or not hasattr(base, "embed_tokens"):
        raise DataError(
            f"LM interventions need a Llama-family causal LM (model.model.layers, embed_tokens); "
            f"got {type(model).__name__}"
        )
    return base, base.layers


class _HookIntervention:
    """A context manager that registers forward hooks on enter and removes them all on exit."""

    _ctx: Any = None

    def _registrations(self) -> list[tuple[Any, str, Any]]:
        raise NotImplementedError

    def __enter__(self) -> _HookIntervention:
        if self._ctx is not None:
            raise DataError(f"{type(self).__name__} is already active; it cannot be entered twice at once")
        ctx = hooks(self._registrations())
        ctx.__enter__()
        self._ctx = ctx
        return self

    def __exit__(self, *exc: object) -> None:
        ctx, self._ctx = self._ctx, None
        if ctx is not None:
            ctx.__exit__(*exc)


def _tokenize_all(tokenizer: Any, texts: Sequence[str]) -> list[list[int]]:
    if isinstance(texts, str) or not len(texts):
        raise DataError("texts must be a non-empty list of strings")
    seqs = [[int(t) for t in tokenizer(x)["input_ids"]] for x in texts]
    if any(not s for s in seqs):
        raise DataError("a text tokenizes to no tokens; give non-empty texts")
    return seqs


def _forward_by_length(model: Any, seqs: list[list[int]], batch_size: int, fn: Any) -> None:
    """Run the model on ``seqs`` grouped by length (no padding); ``fn(indices)`` runs after each batch."""
    torch = torch_or_raise()
    device = next(model.parameters()).device
    groups: dict[int, list[int]] = {}
    for i, s in enumerate(seqs):
        groups.setdefault(len(s), []).append(i)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for idx_all in groups.values():
                for k in range(0, len(idx_all), batch_size):
                    idx = idx_all[k : k + batch_size]
                    model(torch.tensor([seqs[i] for i in idx], device=device))
                    fn(idx)
    finally:
        model.train(was_training)


class HeadAblation(_HookIntervention):
    """Mean or resample ablation of attention heads' outputs, as a reversible context manager.

    A head's output is its slice of the attention output projection's input (as in :func:`mediation`).
    ``method="mean"`` replaces it at every position by its mean over the reference texts' positions;
    ``"resample"`` by the output at a position drawn at random from the reference texts (a fresh draw per
    position, from a generator re-seeded on every ``with``, so runs repeat exactly).

    Parameters
    ----------
    model : transformers Llama-family causal LM
    heads : sequence of (layer, head)
    method : {"mean", "resample"}
    random_state : int
        Seed of the resample draws.

    Examples
    --------
    >>> import causaltrust as ct
    >>> tok, lm = ct.text.load_smollm2()  # doctest: +SKIP
    >>> abl = ct.text.HeadAblation(lm, [(26, 2)]).fit(tok, ["The person said that"])  # doctest: +SKIP
    >>> with abl:  # doctest: +SKIP
    ...     rep = ct.text.lm_audit(lm, tok)
    """

    def __init__(
        self, model: Any, heads: Sequence[tuple[int, int]], method: str = "mean", random_state: int = 0
    ) -> None:
        self.model = model
        self.heads = heads
        self.method = method
        self.random_state = random_state

    def _check(self) -> tuple[list[tuple[int, int]], int]:
        _, layers = _llama_parts(self.model)
        cfg = self.model.config
        n_heads = int(cfg.num_attention_heads)
        head_dim = int(getattr(cfg, "head_dim", None) or cfg.hidden_size // n_heads)
        heads = [(int(a), int(b)) for a, b in self.heads]
        if not heads:
            raise DataError("heads must list at least one (layer, head)")
        bad = [h for h in heads if not (0 <= h[0] < len(layers) and 0 <= h[1] < n_heads)]
        if bad:
            raise DataError(f"heads {bad} are outside {len(layers)} layers x {n_heads} heads")
        if self.method not in ("mean", "resample"):
            raise DataError(f"method must be 'mean' or 'resample', got {self.method!r}")
        return heads, head_dim

    def fit(self, tokenizer: Any, texts: Sequence[str], *, batch_size: int = 32) -> HeadAblation:
        """Record the heads' outputs at every position of ``texts`` (the reference distribution)."""
        torch = torch_or_raise()
        heads, head_dim = self._check()
        _, layers = _llama_parts(self.model)
        seqs = _tokenize_all(tokenizer, texts)
        wanted = sorted({layer for layer, _ in heads})
        store: dict[int, list[Any]] = {layer: [] for layer in wanted}
        last: dict[int, Any] = {}

        def rec(layer: int) -> Any:
            return lambda module, inputs: last.__setitem__(layer, inputs[0].detach())

        def keep(idx: list[int]) -> None:
            for layer in wanted:
                store[layer].append(last[layer].reshape(-1, last[layer].shape[-1]))

        regs = [(layers[layer].self_attn.o_proj, "pre", rec(layer)) for layer in wanted]
        with hooks(regs):
            _forward_by_length(self.model, seqs, batch_size, keep)
        pool = {layer: torch.cat(store[layer]) for layer in wanted}
        self.head_dim_ = head_dim
        self.heads_ = heads
        self.pool_ = pool
        self.means_ = {layer: p.mean(dim=0) for layer, p in pool.items()}
        return self

    def _registrations(self) -> list[tuple[Any, str, Any]]:
        torch = torch_or_raise()
        if not hasattr(self, "pool_"):
            raise DataError("HeadAblation is not fitted; call .fit(tokenizer, reference_texts) first")
        _, layers = _llama_parts(self.model)
        gen = torch.Generator(device="cpu").manual_seed(int(self.random_state))
        by_layer: dict[int, list[int]] = {}
        for layer, head in self.heads_:
            by_layer.setdefault(layer, []).append(head)
        regs = []
        for layer, hs in by_layer.items():
            cols = torch.cat([torch.arange(h * self.head_dim_, (h + 1) * self.head_dim_) for h in hs])
            regs.append((layers[layer].self_attn.o_proj, "pre", self._hook(layer, cols, gen)))
        return regs

    def _hook(self, layer: int, cols: Any, gen: Any) -> Any:
        torch = torch_or_raise()
        pool, mean, method = self.pool_[layer], self.means_[layer], self.method

        def pre_hook(module: Any, inputs: Any) -> Any:
            x = inputs[0].clone()
            if method == "mean":
                x[..., cols] = mean[cols].to(x.dtype)
            else:
                pick = torch.randint(0, pool.shape[0], x.shape[:-1], generator=gen).to(pool.device)
                x[..., cols] = pool[pick][..., cols].to(x.dtype)
            return (x, *inputs[1:])

        return pre_hook


class LeaceEraser:
    """LEACE: the least-squares concept eraser with a closed form (Belrose et al., NeurIPS 2023).

    Fitted on features ``X`` (n, d) and a concept ``z`` (n,) of class labels, it is the affine map
    ``r(x) = x − W⁺ P W (x − μ)`` with ``W = Σ_xx^{-1/2}`` (pseudo-inverse on the support of ``Σ_xx``) and
    ``P`` the orthogonal projection onto the column space of ``W Σ_xz``. After it no linear classifier
    separates the classes better than a constant (``Cov(r(X), z) = 0``), with the least mean squared change
    of ``X``.

    ``alpha`` in :meth:`apply` scales the correction (1 = full erasure).

    Examples
    --------
    >>> import numpy as np
    >>> from causaltrust.text import LeaceEraser
    >>> rng = np.random.default_rng(0)
    >>> z = rng.integers(0, 2, 500)
    >>> X = rng.normal(size=(500, 4)) + 3 * z[:, None]
    >>> er = LeaceEraser().fit(X, z)
    >>> bool(np.abs(np.cov(er.apply(X).T, z)[:4, 4]).max() < 1e-9)
    True
    """

    def __init__(self, tol: float = 1e-6) -> None:
        self.tol = tol

    def fit(self, X: Any, z: Any) -> LeaceEraser:
        """Fit on features ``X`` (n, d) and labels ``z`` (n,) with at least two classes."""
        X = np.asarray(X, dtype=np.float64)
        z = np.asarray(z)
        if X.ndim != 2 or z.ndim != 1 or len(z) != len(X):
            raise DataError(f"LeaceEraser.fit needs X (n, d) and z (n,), got {X.shape} and {z.shape}")
        classes = np.unique(z)
        if len(classes) < 2:
            raise DataError("LeaceEraser.fit needs at least two concept classes in z")
        Z = (z[:, None] == classes[None, 1:]).astype(np.float64)  # one-hot minus a reference class
        mu = X.mean(axis=0)
        Xc = X - mu
        sxx = Xc.T @ Xc / len(X)
        sxz = Xc.T @ (Z - Z.mean(axis=0)) / len(X)
        evals, evecs = np.linalg.eigh(sxx)
        keep = evals > self.tol * max(float(evals.max()), 1e-300)
        v, e = evecs[:, keep], evals[keep]
        w = (v / np.sqrt(e)) @ v.T  # Σ^{-1/2} on the support
        w_inv = (v * np.sqrt(e)) @ v.T  # Σ^{1/2}
        u, s, _ = np.linalg.svd(w @ sxz, full_matrices=False)
        u = u[:, s > self.tol * max(float(s.max()), 1e-300)]
        # r(x) = x - (x - μ) @ down @ up, with down = W U (d, r) and up = Uᵀ W⁺ (r, d)
        self.mean_ = mu
        self.down_ = w @ u
        self.up_ = u.T @ w_inv
        self.rank_ = int(u.shape[1])
        return self

    def apply(self, X: Any, alpha: float = 1.0) -> np.ndarray:
        """Erase the concept from ``X`` (n, d); ``alpha`` < 1 erases part of it."""
        if not hasattr(self, "mean_"):
            raise DataError("LeaceEraser is not fitted; call .fit(X, z) first")
        X = np.asarray(X, dtype=np.float64)
        return np.asarray(X - alpha * ((X - self.mean_) @ self.down_ @ self.up_))

    def torch_parts(self, device: Any, dtype: Any) -> tuple[Any, Any, Any]:
        """``(mean, down, up)`` as torch tensors for use inside hooks."""
        torch = torch_or_raise()
        return tuple(
            torch.as_tensor(a, device=device, dtype=dtype) for a in (self.mean_, self.down_, self.up_)
        )


def _word_start(tokenizer: Any, text: str, word: str | None) -> int:
    """Index of the first token that covers a character of ``word``'s first occurrence in ``text``."""
    if word is None:
        return 0
    at = text.find(word)
    if at < 0:
        raise DataError(f"word {word!r} is not in text {text!r}")
    try:
        offsets = tokenizer(text, return_offsets_mapping=True)["offset_mapping"]
    except (NotImplementedError, TypeError, ValueError) as exc:
        raise DataError("positions='from_word' needs a fast tokenizer (one that returns offsets)") from exc
    for i, (_, end) in enumerate(offsets):
        if end > at:
            return i
    raise DataError(f"no token of {text!r} covers {word!r}")


def residual_activations(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    layers: Sequence[int],
    *,
    positions: str = "last",
    from_words: Sequence[str | None] | None = None,
    batch_size: int = 32,
) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """The residual stream (output of block ``l``) of ``texts`` at the chosen positions, for fitting erasers.

    Parameters
    ----------
    positions : {"last", "word", "from_word"}
        "last": the last token of each text; "word": the first token of ``from_words[i]``; "from_word": every
        position from that token to the end (where text ``i`` can carry that word's information).
    from_words : sequence of str, optional
        One word per text, for ``positions="from_word"``.

    Returns
    -------
    (dict, numpy.ndarray)
        ``{layer: (n_rows, hidden)}`` activations and the text index of each row (rows in text order).
    """
    _, blocks = _llama_parts(model)
    seqs = _tokenize_all(tokenizer, texts)
    if positions not in ("last", "word", "from_word"):
        raise DataError(f"positions must be 'last', 'word' or 'from_word', got {positions!r}")
    if positions in ("word", "from_word"):
        if from_words is None or len(from_words) != len(seqs):
            raise DataError(f"positions={positions!r} needs from_words, one word per text")
        starts = [
            min(_word_start(tokenizer, t, w), len(s) - 1)
            for t, w, s in zip(texts, from_words, seqs, strict=True)
        ]
    else:
        starts = [len(s) - 1 for s in seqs]
    bad = [v for v in layers if not 0 <= int(v) < len(blocks)]
    if bad:
        raise DataError(f"layers {bad} are outside 0..{len(blocks) - 1}")
    wanted = sorted({int(v) for v in layers})
    last: dict[int, Any] = {}
    rows: dict[int, list[Any]] = {v: [] for v in wanted}
    owner: list[np.ndarray] = []

    def rec(layer: int) -> Any:
        def hook(module: Any, inputs: Any, output: Any) -> None:
            last[layer] = (output[0] if isinstance(output, tuple) else output).detach()

        return hook

    ends = [st + 1 if positions == "word" else len(s) for st, s in zip(starts, seqs, strict=True)]

    def take(idx: list[int]) -> None:
        for v in wanted:
            for b, i in enumerate(idx):
                rows[v].append(last[v][b, starts[i] : ends[i]].double().cpu().numpy())
        owner.extend(np.full(ends[i] - starts[i], i) for i in idx)

    with hooks([(blocks[v], "post", rec(v)) for v in wanted]):
        _forward_by_length(model, seqs, batch_size, take)
    who = np.concatenate(owner)
    order = np.argsort(who, kind="stable")  # batches went by length; rows come back in text order
    return {v: np.concatenate(rows[v])[order] for v in wanted}, who[order]


def gendered_token_ids(tokenizer: Any, words: Sequence[str] = ()) -> list[int]:
    """Token ids of explicitly gendered words: the gender lexicon (and ``words``), in the spellings
    "word", "Word", " word" and " Word" that are one token; words of several tokens are left out."""
    vocab = {w for pair in GENDER_PAIRS for w in pair} | set(ONE_WAY) | {"her", "his", "hers"} | set(words)
    out: set[int] = set()
    for w in sorted(vocab):
        for form in (w, w.capitalize(), " " + w, " " + w.capitalize()):
            ids = tokenizer(form, add_special_tokens=False)["input_ids"]
            if len(ids) == 1:
                out.add(int(ids[0]))
    return sorted(out)


class ResidualErasure(_HookIntervention):
    """Erase a concept from the residual stream at chosen layers, as a reversible context manager.

    Parameters
    ----------
    model : transformers Llama-family causal LM
    erasers : mapping of layer → fitted :class:`LeaceEraser`
        Applied to the output of each of these blocks, at every position unless ``keep_tokens`` says
        otherwise.
    alpha : float
        Strength: 1 erases fully, 0 does nothing.
    keep_tokens : sequence of int, optional
        Token ids whose positions are left untouched (e.g. :func:`gendered_token_ids`): the selective erasure
        keeps what explicitly gendered words say and erases the rest. Positions are recognised from the first
        block's input, which is exactly the token's embedding row in Llama-family models.
    keep_first : int
        Leave the first ``keep_first`` positions untouched. In a causal LM the first position sees only the
        first token and serves as an attention sink with outsized activations, so erasing there cannot remove
        what a later occupation suggests but can disturb every later position.

    Examples
    --------
    >>> import causaltrust as ct
    >>> keep = ct.text.gendered_token_ids(tok)  # doctest: +SKIP
    >>> er = ct.text.ResidualErasure(lm, {10: eraser}, keep_tokens=keep)  # doctest: +SKIP
    >>> with er:  # doctest: +SKIP
    ...     rep = ct.text.lm_audit(lm, tok)
    """

    def __init__(
        self,
        model: Any,
        erasers: dict[int, LeaceEraser],
        *,
        alpha: float = 1.0,
        keep_tokens: Sequence[int] | None = None,
        keep_first: int = 0,
    ) -> None:
        self.model = model
        self.erasers = erasers
        self.alpha = alpha
        self.keep_tokens = keep_tokens
        self.keep_first = keep_first

    def _registrations(self) -> list[tuple[Any, str, Any]]:
        torch = torch_or_raise()
        base, blocks = _llama_parts(self.model)
        if not self.erasers:
            raise DataError("erasers must map at least one layer to a fitted LeaceEraser")
        if not 0 <= float(self.alpha) <= 1:
            raise DataError(f"alpha must be in [0, 1], got {self.alpha!r}")
        if not isinstance(self.keep_first, int) or self.keep_first < 0:
            raise DataError(f"keep_first must be a non-negative int, got {self.keep_first!r}")
        bad = [v for v in self.erasers if not 0 <= int(v) < len(blocks)]
        if bad:
            raise DataError(f"eraser layers {bad} are outside 0..{len(blocks) - 1}")
        weight = base.embed_tokens.weight
        state: dict[str, Any] = {}
        regs: list[tuple[Any, str, Any]] = []
        if self.keep_tokens is not None:
            keep = weight[torch.as_tensor(list(self.keep_tokens), dtype=torch.long, device=weight.device)]
            keep = keep.detach()

            def first(module: Any, args: Any, kwargs: Any) -> None:
                h0 = args[0] if args else kwargs["hidden_states"]
                flat = h0.reshape(-1, h0.shape[-1])
                # a kept token's embedding row, exactly: distance 0 up to rounding of the lookup
                near = torch.cdist(flat.float(), keep.float()).min(dim=1).values
                scale = keep.float().norm(dim=1).min().clamp(min=1e-12)
                state["erase"] = (near > 1e-4 * scale).reshape((*h0.shape[:-1], 1))

            regs.append((blocks[0], "pre_kwargs", first))
        alpha = float(self.alpha)
        for layer, eraser in sorted(self.erasers.items()):
            regs.append((blocks[int(layer)], "post", self._hook(eraser, alpha, state)))
        return regs

    def _hook(self, eraser: LeaceEraser, alpha: float, state: dict[str, Any]) -> Any:
        parts: dict[Any, Any] = {}
        selective = self.keep_tokens is not None
        keep_first = int(self.keep_first)

        def post_hook(module: Any, inputs: Any, output: Any) -> Any:
            h = output[0] if isinstance(output, tuple) else output
            key = (h.device, h.dtype)
            if key not in parts:
                parts[key] = eraser.torch_parts(h.device, h.dtype)
            mean, down, up = parts[key]
            delta = alpha * (((h - mean) @ down) @ up)
            if selective:
                mask = state.get("erase")
                if mask is None or mask.shape[:-1] != h.shape[:-1]:
                    raise DataError(
                        "a selective ResidualErasure needs each forward pass to start at the first block "
                        "(it reads the tokens there); in ct.text.mediation pass reuse=False"
                    )
                delta = delta * mask.to(h.dtype)
            if keep_first:
                delta = delta.clone()
                delta[:, :keep_first] = 0
            new = h - delta
            return (new, *output[1:]) if isinstance(output, tuple) else new

        return post_hook
