"""Causal mediation analysis inside transformers by activation patching (Vig et al., 2020).

For each pair (factual text u, counterfactual text u') and a scalar quantity y read from the model (for a
causal
LM the ratio P(numerator word) / P(denominator word) of the next token; for an encoder with a linear
classifier
the odds P(class 1) / P(class 0)), with every effect a relative change of y as in Vig et al.:

* total effect      TE    = y(u') / y(u) - 1
* indirect effect   NIE_z = y(u, z <- z(u')) / y(u) - 1   (factual input, component z set to its
counterfactual value)
* direct effect     NDE_z = y(u', z <- z(u)) / y(u) - 1   (counterfactual input, z held at its factual value)

A component z is a layer's residual stream (output of block l), a layer's MLP output, or one attention head's
output (its slice of the attention output projection's input), at the chosen token positions. Patched runs are
batched, and each starts at the patched layer from the cached residual stream of the clean run
(``reuse=True``):
blocks below the patch see exactly the clean input, so recomputing them is waste.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from causaltrust.exceptions import DataError
from causaltrust.text._mediation_models import hooks, make_adapter, model_notes, torch_or_raise

__all__ = ["MediationResult", "mediation"]

_KINDS = ("layer", "mlp", "head")


@dataclass(frozen=True)
class MediationResult:
    """Per-pair quantities of a mediation run, and the effects derived from them.

    Effects are relative changes of the quantity y (Vig et al., 2020): ``exp(log y_patched - log y(u)) - 1``.
    Per-pair values are kept, so any summary (means, medians, groups of pairs) can be recomputed.

    Attributes
    ----------
    components : pandas.DataFrame
        One row per component: ``kind`` ("layer", "mlp" or "head"), ``layer``, ``head`` (<NA> unless a head).
    log_y_factual, log_y_counterfactual : numpy.ndarray
        log y on the factual and counterfactual inputs, one value per pair.
    log_y_indirect : numpy.ndarray
        ``(n_pairs, n_components)``: log y on the factual input with the component set to its counterfactual
        value.
    log_y_direct : numpy.ndarray
        ``(n_pairs, n_components)``: log y on the counterfactual input with the component held at its factual
        value.
    """

    components: pd.DataFrame
    log_y_factual: np.ndarray
    log_y_counterfactual: np.ndarray
    log_y_indirect: np.ndarray
    log_y_direct: np.ndarray
    pairs: tuple[tuple[str, str], ...]
    quantity: str
    positions: str
    n_layers: int
    n_heads: int
    model_name: str
    notes: tuple[str, ...] = ()
    n_forward: int = 0
    token_layers: int = 0
    seconds: float = 0.0
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def total_per_pair(self) -> np.ndarray:
        """TE of every pair."""
        return np.expm1(self.log_y_counterfactual - self.log_y_factual)

    @property
    def indirect_per_pair(self) -> np.ndarray:
        """NIE, ``(n_pairs, n_components)``."""
        return np.expm1(self.log_y_indirect - self.log_y_factual[:, None])

    @property
    def direct_per_pair(self) -> np.ndarray:
        """NDE, ``(n_pairs, n_components)``."""
        return np.expm1(self.log_y_direct - self.log_y_factual[:, None])

    @property
    def log_total_per_pair(self) -> np.ndarray:
        """TE of every pair on the log scale: ``log y(u') - log y(u)`` (0 = no effect)."""
        return np.asarray(self.log_y_counterfactual - self.log_y_factual)

    @property
    def log_indirect_per_pair(self) -> np.ndarray:
        """NIE on the log scale, ``(n_pairs, n_components)``: ``log y(u, z <- z(u')) - log y(u)``."""
        return np.asarray(self.log_y_indirect - self.log_y_factual[:, None])

    @property
    def log_direct_per_pair(self) -> np.ndarray:
        """NDE on the log scale, ``(n_pairs, n_components)``."""
        return np.asarray(self.log_y_direct - self.log_y_factual[:, None])

    @property
    def log_total(self) -> tuple[float, float, float]:
        """Mean log-ratio TE over pairs with a Student-t 95% interval (``exp`` of it is the geometric mean
        ratio), less dominated by a few prompts than :attr:`total`."""
        mean, low, high = _mean_ci(self.log_total_per_pair[:, None])
        return float(mean[0]), float(low[0]), float(high[0])

    @property
    def total(self) -> tuple[float, float, float]:
        """Mean TE over pairs with a Student-t 95% interval: ``(mean, low, high)``."""
        mean, low, high = _mean_ci(self.total_per_pair[:, None])
        return float(mean[0]), float(low[0]), float(high[0])

    def to_frame(self) -> pd.DataFrame:
        """Components with mean indirect and direct effects (95% intervals over pairs), the same on the log
        scale (``indirect_log``, ``direct_log`` and their intervals: mean log-ratio effects, which a few
        prompts with huge ratios cannot dominate), the indirect share of the total effect, and ``rank`` (1 =
        largest absolute mean indirect effect within its kind)."""
        df = self.components.copy()
        for name, values in (
            ("indirect", self.indirect_per_pair),
            ("direct", self.direct_per_pair),
            ("indirect_log", self.log_indirect_per_pair),
            ("direct_log", self.log_direct_per_pair),
        ):
            mean, low, high = _mean_ci(values)
            df[name], df[f"{name}_low"], df[f"{name}_high"] = mean, low, high
        te = self.total[0]
        df["indirect_share"] = df["indirect"] / te if te != 0 else np.nan
        # rank by the indirect effect; by the direct one when only direct effects were computed
        key = df["indirect"] if df["indirect"].notna().any() else df["direct"]
        df["rank"] = key.abs().groupby(df["kind"]).rank(ascending=False, method="first", na_option="bottom")
        df["rank"] = df["rank"].astype(int)
        return df

    def ranked(self, kind: str = "head", k: int | None = None) -> pd.DataFrame:
        """Components of one kind by absolute mean indirect effect (largest first), the top ``k`` if given."""
        _check_kind(kind, self.components)
        df = self.to_frame()
        df = df[df["kind"] == kind].sort_values("rank")
        return df if k is None else df.head(k)

    def heatmap(self, kind: str = "head", effect: str = "indirect", scale: str = "ratio") -> np.ndarray:
        """Mean effect as a ``(n_layers, n_heads)`` array for heads, ``(n_layers,)`` for layers and MLPs.

        ``scale="ratio"`` gives the mean relative change of y (Vig et al.), ``"log"`` the mean log-ratio.
        """
        _check_kind(kind, self.components)
        if effect not in ("indirect", "direct"):
            raise DataError(f"effect must be 'indirect' or 'direct', got {effect!r}")
        if scale not in ("ratio", "log"):
            raise DataError(f"scale must be 'ratio' or 'log', got {scale!r}")
        if scale == "log":
            effect = f"{effect}_log"
        df = self.to_frame()
        df = df[df["kind"] == kind]
        if kind != "head":
            out = np.full(self.n_layers, np.nan)
            out[df["layer"].to_numpy(int)] = df[effect].to_numpy(float)
            return out
        grid = np.full((self.n_layers, self.n_heads), np.nan)
        grid[df["layer"].to_numpy(int), df["head"].to_numpy(int)] = df[effect].to_numpy(float)
        return grid

    def concentration(self, kind: str = "head", k: int = 10) -> float:
        """Share of the summed absolute mean indirect effects of ``kind`` carried by its top ``k``."""
        values = np.abs(self.heatmap(kind).ravel())
        values = values[np.isfinite(values)]
        total = values.sum()
        return float(np.sort(values)[::-1][:k].sum() / total) if total > 0 else float("nan")

    def headline(self) -> str:
        """One sentence: total effect and the components that carry most of it."""
        te, low, high = self.total
        lte = self.log_total[0]
        parts = [
            f"total effect {te:+.3f} (95% CI {low:+.3f} to {high:+.3f}) over {len(self.pairs)} pairs, "
            f"mean log-ratio {lte:+.3f} (geometric-mean ratio {math.exp(lte):.3g})"
        ]
        kinds = list(dict.fromkeys(self.components["kind"]))
        if "head" in kinds:
            top = self.ranked("head", 3)
            heads = ", ".join(f"L{r.layer}.H{r.head} ({r.indirect:+.3f})" for r in top.itertuples())
            share = self.concentration("head", 10)
            parts.append(
                f"top heads by indirect effect {heads}; the top 10 of {self.n_layers * self.n_heads} heads "
                f"carry {share:.0%} of the summed absolute head effects"
            )
        for kind in ("layer", "mlp"):
            if kind in kinds:
                top = self.ranked(kind, 3)
                layers = ", ".join(f"{r.layer} ({r.indirect:+.3f})" for r in top.itertuples())
                parts.append(f"top {kind}s {layers}")
        return "; ".join(parts)


def _check_kind(kind: str, components: pd.DataFrame) -> None:
    present = list(dict.fromkeys(components["kind"]))
    if kind not in present:
        raise DataError(f"kind must be one of the components computed {present}, got {kind!r}")


def _mean_ci(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from scipy import stats

    n = values.shape[0]
    mean = values.mean(axis=0)
    if n < 2:
        nan = np.full_like(mean, np.nan)
        return mean, nan, nan
    half = stats.t.ppf(0.975, n - 1) * values.std(axis=0, ddof=1) / math.sqrt(n)
    return mean, mean - half, mean + half


def _tokenize(tokenizer: Any, text: str, name: str) -> list[int]:
    ids = list(tokenizer(text)["input_ids"])
    if not ids:
        raise DataError(f"{name} {text!r} tokenizes to no tokens; give a non-empty text")
    return [int(i) for i in ids]


def _target_id(tokenizer: Any, word: str) -> int:
    ids = tokenizer(" " + word.strip(), add_special_tokens=False)["input_ids"]
    if len(ids) != 1:
        raise DataError(
            f"target word {word!r} is {len(ids)} tokens for this tokenizer; the quantity compares next-token "
            "probabilities, so give single-token words (e.g. pronouns)"
        )
    return int(ids[0])


def _resolve_positions(
    positions: str | int, f: list[int], c: list[int], i: int
) -> tuple[list[int], list[int]]:
    """Token positions patched in the factual and in the counterfactual sequence of pair ``i``."""
    aligned = len(f) == len(c)
    need = (
        f"pair {i} has {len(f)} factual and {len(c)} counterfactual tokens; positions={positions!r} needs "
        "token-aligned pairs (equal tokenized length): use positions='last' or a negative index, "
        "or align the pair"
    )
    if positions == "last":
        return [len(f) - 1], [len(c) - 1]
    if positions in ("all", "changed"):
        if not aligned:
            raise DataError(need)
        idx = list(range(len(f))) if positions == "all" else [t for t in range(len(f)) if f[t] != c[t]]
        if not idx:
            raise DataError(
                f"pair {i}: the factual and counterfactual texts tokenize identically; nothing to patch"
            )
        return idx, idx
    if isinstance(positions, int) and not isinstance(positions, bool):
        if positions < 0:
            if -positions > min(len(f), len(c)):
                raise DataError(
                    f"positions={positions} is before the start of pair {i} ({min(len(f), len(c))} tokens)"
                )
            return [len(f) + positions], [len(c) + positions]
        if not aligned:
            raise DataError(need)
        if positions >= len(f):
            raise DataError(f"positions={positions} is past the end of pair {i} ({len(f)} tokens)")
        return [positions], [positions]
    raise DataError(f"positions must be 'all', 'changed', 'last' or an int token index, got {positions!r}")


class _Clean:
    """Activations of one clean forward pass: residual streams, head outputs, MLP outputs and log y."""

    __slots__ = ("heads", "log_y", "mlp", "resid")

    def __init__(self, resid: Any, heads: Any, mlp: Any, log_y: float) -> None:
        self.resid, self.heads, self.mlp, self.log_y = resid, heads, mlp, log_y


def _clean_runs(
    adapter: Any, seqs: list[list[int]], args: list[Any], batch_size: int, device: Any
) -> list[_Clean]:
    """Forward every sequence once (batched by length), recording every site."""
    torch = torch_or_raise()
    out: list[_Clean | None] = [None] * len(seqs)
    by_len: dict[int, list[int]] = {}
    for j, s in enumerate(seqs):
        by_len.setdefault(len(s), []).append(j)
    for idx_all in by_len.values():
        for start in range(0, len(idx_all), batch_size):
            idx = idx_all[start : start + batch_size]
            heads: list[Any] = [None] * adapter.n_layers
            mlps: list[Any] = [None] * adapter.n_layers
            regs: list[tuple[Any, str, Any]] = []
            for i in range(adapter.n_layers):
                regs.append((adapter.head_site(i), "pre", _recorder(heads, i, pre=True)))
                regs.append((adapter.mlp_site(i), "post", _recorder(mlps, i, pre=False)))
            ids = torch.tensor([seqs[j] for j in idx], device=device)
            with hooks(regs):
                h = adapter.embed(ids)
                resid = [h]
                ctx = adapter.context(h)
                for i in range(adapter.n_layers):
                    h = adapter.run_layer(i, h, ctx)
                    resid.append(h)
                log_y = adapter.readout(h, _stack_args(args, idx, device))
            stacked = torch.stack(resid, dim=1)  # (batch, n_layers + 1, tokens, hidden)
            head_t = torch.stack(heads, dim=1)
            mlp_t = torch.stack(mlps, dim=1)
            for b, j in enumerate(idx):
                out[j] = _Clean(stacked[b], head_t[b], mlp_t[b], float(log_y[b]))
    return [c for c in out if c is not None]


def _recorder(store: list[Any], i: int, *, pre: bool) -> Any:
    def hook(module: Any, inputs: Any, output: Any = None) -> None:
        store[i] = (inputs[0] if pre else output).detach()

    if pre:
        return lambda module, inputs: hook(module, inputs)
    return hook


def _stack_args(args: list[Any], idx: list[int], device: Any) -> Any:
    if args[0] is None:
        return None
    torch = torch_or_raise()
    return torch.tensor([args[j] for j in idx], device=device)


def _replacer(mask: Any, repl: Any, *, pre: bool) -> Any:
    torch = torch_or_raise()
    if pre:

        def pre_hook(module: Any, inputs: Any) -> Any:
            return (torch.where(mask, repl, inputs[0]), *inputs[1:])

        return pre_hook

    def post_hook(module: Any, inputs: Any, output: Any) -> Any:
        if isinstance(output, tuple):
            return (torch.where(mask, repl, output[0]), *output[1:])
        return torch.where(mask, repl, output)

    return post_hook


def mediation(
    model: Any,
    pairs: Sequence[tuple[str, str]],
    *,
    tokenizer: Any,
    targets: tuple[str, str] | Sequence[tuple[str, str]] | None = None,
    classifier: Any = None,
    normalize: bool = True,
    components: Sequence[str] = ("layer", "head"),
    layers: Sequence[int] | None = None,
    effects: Sequence[str] = ("indirect", "direct"),
    positions: str | int = "all",
    batch_size: int = 64,
    reuse: bool = True,
    notes: Sequence[str] = (),
) -> MediationResult:
    """Activation patching between factual and counterfactual texts: total, indirect and direct effects.

    Parameters
    ----------
    model : transformers model
        A Llama-family causal LM (``LlamaForCausalLM``, e.g. from :func:`load_smollm2`) or a BERT-family
        encoder
        (``BertModel``, e.g. MiniLM from :func:`load_minilm`). Hooks are registered only inside this call.
    pairs : sequence of (str, str)
        ``(factual, counterfactual)`` texts, e.g. ``("The nurse said that", "The man said that")``.
    tokenizer : transformers tokenizer
        The model's tokenizer.
    targets : (str, str) or sequence of them
        Causal LM only: ``(numerator, denominator)`` next-token words; y = P(numerator) / P(denominator) after
        the text (Vig et al.: anti-stereotypical over stereotypical pronoun). One tuple for all pairs or one
        per pair.
    classifier : fitted binary linear classifier
        Encoder only: ``coef_`` and ``intercept_`` on the mean-pooled embeddings (L2-normalised when
        ``normalize``); y = P(class 1) / P(class 0).
    components : sequence of {"layer", "mlp", "head"}
        "layer": the residual stream after each block; "mlp": each block's MLP output; "head": each attention
        head's output.
    layers : sequence of int, optional
        Only these layers' components (default: every layer).
    effects : sequence of {"indirect", "direct"}
        Which patched runs to make; the other effect is left as NaN (half the cost when only one is needed).
    positions : "all", "changed", "last" or int
        Token positions where components are patched: every position and "changed" (the positions whose tokens
        differ) need token-aligned pairs; "last" and negative indices count from the end.
    batch_size : int
        Patched runs per forward pass.
    reuse : bool
        Start each patched run at the patched layer from the clean run's cached residual stream (default).
        ``False`` recomputes the blocks below the patch; the effects are the same.
    notes : sequence of str
        Extra notes carried into the result (notes of the model's loader are added automatically).

    Returns
    -------
    MediationResult

    Examples
    --------
    >>> import causaltrust as ct
    >>> tok, lm = ct.text.load_smollm2()  # doctest: +SKIP
    >>> res = ct.text.mediation(lm, [("The nurse said that", "The man said that")], tokenizer=tok,
    ...                         targets=("he", "she"), components=["head"])  # doctest: +SKIP
    >>> res.ranked("head", 3)  # doctest: +SKIP
    """
    torch = torch_or_raise()
    t0 = time.perf_counter()
    comp_kinds = list(dict.fromkeys(components))
    if not comp_kinds or any(k not in _KINDS for k in comp_kinds):
        raise DataError(f"components must be a non-empty subset of {list(_KINDS)}, got {list(components)!r}")
    effect_set = list(dict.fromkeys(effects))
    if not effect_set or any(e not in ("indirect", "direct") for e in effect_set):
        raise DataError(
            f"effects must be a non-empty subset of ['indirect', 'direct'], got {list(effects)!r}"
        )
    if not isinstance(batch_size, int) or batch_size < 1:
        raise DataError(f"batch_size must be a positive int, got {batch_size!r}")
    pairs = [tuple(p) for p in pairs]  # type: ignore[misc]
    if not pairs or any(len(p) != 2 or not all(isinstance(t, str) for t in p) for p in pairs):
        raise DataError("pairs must be a non-empty sequence of (factual, counterfactual) string pairs")
    adapter = make_adapter(model, classifier, normalize)
    n = len(pairs)
    if adapter.kind == "causal_lm":
        if targets is None:
            raise DataError("a causal LM needs targets=(numerator, denominator) words, e.g. ('he', 'she')")
        per = (
            [targets] * n
            if isinstance(targets, tuple) and len(targets) == 2 and isinstance(targets[0], str)
            else list(targets)
        )
        if len(per) != n:
            raise DataError(
                f"targets has {len(per)} entries for {n} pairs; "
                "give one (numerator, denominator) or one per pair"
            )
        args: list[Any] = [(_target_id(tokenizer, a), _target_id(tokenizer, b)) for a, b in per]
        quantity = "P(numerator) / P(denominator) of the next token"
    else:
        if targets is not None:
            raise DataError("targets= is for causal LMs; an encoder is read through classifier=")
        args = [None] * n
        quantity = "odds P(class 1) / P(class 0) of the linear classifier on the pooled embedding"

    fact = [_tokenize(tokenizer, f, "factual text") for f, _ in pairs]
    cf = [_tokenize(tokenizer, c, "counterfactual text") for _, c in pairs]
    pos = [_resolve_positions(positions, f, c, i) for i, (f, c) in enumerate(zip(fact, cf, strict=True))]

    layer_list = list(range(adapter.n_layers)) if layers is None else sorted(set(layers))
    if not layer_list or any(not isinstance(v, int) or not 0 <= v < adapter.n_layers for v in layer_list):
        raise DataError(f"layers must be indices in 0..{adapter.n_layers - 1}, got {layers!r}")
    rows: list[tuple[str, int, int | None]] = []
    for kind in comp_kinds:
        for layer in layer_list:
            if kind == "head":
                rows.extend((kind, layer, h) for h in range(adapter.n_heads))
            else:
                rows.append((kind, layer, None))
    comp = pd.DataFrame(rows, columns=["kind", "layer", "head"])
    comp["head"] = comp["head"].astype("Int64")

    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    counters = {"forward": 0, "token_layers": 0}
    try:
        with torch.inference_mode():
            clean = _clean_runs(adapter, fact + cf, args + args, batch_size, device)
            counters["forward"] += 2 * n
            counters["token_layers"] += sum(len(s) for s in fact + cf) * adapter.n_layers
            ly_f = np.array([c.log_y for c in clean[:n]])
            ly_cf = np.array([c.log_y for c in clean[n:]])
            ly_ind = np.full((n, len(rows)), np.nan)
            ly_dir = np.full((n, len(rows)), np.nan)
            # an item: (pair, direction, component column); base/source runs come from the direction
            items = []
            for col in range(len(rows)):
                for i in range(n):
                    if "indirect" in effect_set:
                        items.append((i, 0, col))  # indirect: factual base, counterfactual source
                    if "direct" in effect_set:
                        items.append((i, 1, col))  # direct: counterfactual base, factual source
            _patched_runs(
                adapter,
                items,
                rows,
                clean,
                fact,
                cf,
                pos,
                args,
                ly_ind,
                ly_dir,
                batch_size,
                reuse,
                device,
                counters,
            )
    finally:
        model.train(was_training)
    all_notes = tuple(dict.fromkeys((*model_notes(model), *notes)))
    return MediationResult(
        components=comp,
        log_y_factual=ly_f,
        log_y_counterfactual=ly_cf,
        log_y_indirect=ly_ind,
        log_y_direct=ly_dir,
        pairs=tuple(pairs),
        quantity=quantity,
        positions=str(positions),
        n_layers=adapter.n_layers,
        n_heads=adapter.n_heads,
        model_name=type(model).__name__
        + (f" ({model.config.name_or_path})" if getattr(model.config, "name_or_path", "") else ""),
        notes=all_notes,
        n_forward=counters["forward"],
        token_layers=counters["token_layers"],
        seconds=time.perf_counter() - t0,
        stats={"reuse": reuse, "batch_size": batch_size, "effects": tuple(effect_set)},
    )


def _patched_runs(
    adapter: Any,
    items: list[tuple[int, int, int]],
    rows: list[tuple[str, int, int | None]],
    clean: list[_Clean],
    fact: list[list[int]],
    cf: list[list[int]],
    pos: list[tuple[list[int], list[int]]],
    args: list[Any],
    ly_ind: np.ndarray,
    ly_dir: np.ndarray,
    batch_size: int,
    reuse: bool,
    device: Any,
    counters: dict[str, int],
) -> None:
    """Run every patched item, batched by (kind, layer, base length); log y into ``ly_ind`` / ``ly_dir``."""
    torch = torch_or_raise()
    n = len(fact)
    groups: dict[tuple[str, int, int], list[tuple[int, int, int]]] = {}
    for item in items:
        i, direction, col = item
        kind, layer, _ = rows[col]
        base_len = len(fact[i]) if direction == 0 else len(cf[i])
        groups.setdefault((kind, layer, base_len), []).append(item)
    for (kind, layer, tokens), group in groups.items():
        start = (layer + 1 if kind == "layer" else layer) if reuse else 0
        for b0 in range(0, len(group), batch_size):
            batch = group[b0 : b0 + batch_size]
            bases, sources, pb, ps = [], [], [], []
            for i, direction, _ in batch:
                f_run, c_run = clean[i], clean[n + i]
                bases.append(f_run if direction == 0 else c_run)
                sources.append(c_run if direction == 0 else f_run)
                pb.append(pos[i][0] if direction == 0 else pos[i][1])
                ps.append(pos[i][1] if direction == 0 else pos[i][0])
            h = torch.stack([r.resid[start] for r in bases])
            width = adapter.hidden if kind != "head" else adapter.n_heads * adapter.head_dim
            mask = torch.zeros((len(batch), tokens, width), dtype=torch.bool, device=device)
            repl = torch.zeros((len(batch), tokens, width), dtype=h.dtype, device=device)
            for b, (_, _, col) in enumerate(batch):
                head = rows[col][2]
                cols = (
                    slice(None)
                    if head is None
                    else slice(head * adapter.head_dim, (head + 1) * adapter.head_dim)
                )
                src = sources[b]
                if kind == "layer":
                    value = src.resid[layer + 1]
                elif kind == "mlp":
                    value = src.mlp[layer]
                else:
                    value = src.heads[layer]
                mask[b, pb[b], cols] = True
                repl[b, pb[b], cols] = value[ps[b], cols]
            regs: list[tuple[Any, str, Any]] = []
            if kind == "layer" and reuse:
                h = torch.where(mask, repl, h)
            elif kind == "layer":
                regs.append((adapter.layers[layer], "post", _replacer(mask, repl, pre=False)))
            elif kind == "mlp":
                regs.append((adapter.mlp_site(layer), "post", _replacer(mask, repl, pre=False)))
            else:
                regs.append((adapter.head_site(layer), "pre", _replacer(mask, repl, pre=True)))
            with hooks(regs):
                out = adapter.run(h, start)
                log_y = adapter.readout(out, _stack_args(args, [i for i, _, _ in batch], device))
            for b, (i, direction, col) in enumerate(batch):
                (ly_ind if direction == 0 else ly_dir)[i, col] = float(log_y[b])
            counters["forward"] += len(batch)
            counters["token_layers"] += len(batch) * tokens * (adapter.n_layers - start)
