"""Causal fine-tuning of a causal LM with LoRA: the stereotype path made invariant, the referent path kept.

Two objectives share one LoRA budget (same rank, target modules, steps, batch and learning rate), so they
compare like with like:

* ``"causal"`` (the paper's selective objective, as a training loss): a counterfactual-consistency penalty
  ``(y(occupation) − y(person))²`` on y = log P(female pronoun) / P(male pronoun) of the next token (the
  stereotype path, to be invariant), plus ``(y(referent) − y₀(referent))²`` keeping the explicit referent's
  effect at the original model's value (the referent path, to be kept), plus the KL divergence from the
  original model's next-token distribution at every other position (language modelling kept).
* ``"cda"`` (counterfactual data augmentation, the standard baseline): next-token cross-entropy on the same
  prompts completed with **both** pronouns ("The nurse said that she" and "… he") and on the explicit-referent
  prompts completed with their matching pronoun ("The woman said that she", "The man said that he"). The
  pronoun is appended as a token after the prompt's tokens, at the position the audit reads.

Training uses only the development rows of :func:`lm_prompts` (occupations disjoint from the held-out ones),
so :func:`lm_audit` on the held-out split judges prompts whose occupations training never saw.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from causaltrust.exceptions import DataError
from causaltrust.text._lm_prompts import lm_prompts
from causaltrust.text._mediation_models import _PROVENANCE, model_notes, torch_or_raise

__all__ = ["LMFinetune", "causal_finetune"]

_OBJECTIVES = ("causal", "cda")
_NEED = ("prompt", "neutral", "male_ref", "female_ref", "male", "female")


@dataclass(frozen=True)
class LMFinetune:
    """The result of :func:`causal_finetune`: a new model with the LoRA update merged, and how it was made.

    Attributes
    ----------
    model : transformers causal LM
        A new object of the input model's class (the input model is left untouched); hooks-based
        interventions and :func:`lm_audit` apply to it as to any other model.
    provenance : dict
        Objective, LoRA settings, loss weights, steps, the training prompts' occupations and templates, the
        number of trainable parameters, seconds, library versions.
    history : pandas.DataFrame
        One row per step: ``loss`` and its parts (``invariance``, ``agreement``, ``preserve`` for "causal";
        ``lm`` for "cda"), measured on the step's batch before the update.
    """

    model: Any
    provenance: dict[str, Any]
    history: pd.DataFrame = field(repr=False)

    def save(self, path: str | Path, tokenizer: Any) -> Path:
        """Write the model (safetensors) and ``tokenizer`` to a folder that ``causaltrust lm-audit --model``
        reads, with ``causaltrust_finetune.json`` holding the provenance."""
        import json

        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(out, safe_serialization=True)
        tokenizer.save_pretrained(out)
        (out / "causaltrust_finetune.json").write_text(json.dumps(self.provenance, indent=1, default=str))
        return out


def _pad(seqs: list[list[int]], pad: int, device: Any) -> tuple[Any, Any, Any]:
    """Right-padded ids, the index of each sequence's last token, and a mask of real tokens.

    In a causal LM no real token attends to a later position, so right padding changes nothing that is read.
    """
    torch = torch_or_raise()
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad, dtype=torch.long, device=device)
    mask = torch.zeros((len(seqs), width), dtype=torch.bool, device=device)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.as_tensor(s, dtype=torch.long)
        mask[i, : len(s)] = True
    last = torch.as_tensor([len(s) - 1 for s in seqs], device=device)
    return ids, last, mask


def _single_token(tokenizer: Any, word: str) -> int:
    ids = tokenizer(" " + word, add_special_tokens=False)["input_ids"]
    if len(ids) != 1:
        raise DataError(f"pronoun {word!r} is {len(ids)} tokens for this tokenizer; fine-tuning needs one")
    return int(ids[0])


def _check(
    prompts: pd.DataFrame | None, split: str | None, objective: str, steps: int, batch_size: int, rank: int
) -> pd.DataFrame:
    if objective not in _OBJECTIVES:
        raise DataError(f"objective must be one of {list(_OBJECTIVES)}, got {objective!r}")
    for name, v in (("steps", steps), ("batch_size", batch_size), ("rank", rank)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise DataError(f"{name} must be a positive int, got {v!r}")
    if split not in (None, "dev", "heldout"):
        raise DataError(f"split must be 'dev', 'heldout' or None, got {split!r}")
    df = lm_prompts() if prompts is None else prompts
    missing = sorted(set(_NEED) - set(df.columns))
    if missing:
        raise DataError(f"prompts lacks the columns {missing}; build it with ct.text.lm_prompts()")
    if split is not None and "split" in df.columns:
        df = df[df["split"] == split]
    df = df.drop_duplicates(["prompt", "male", "female"]).reset_index(drop=True)
    if df.empty:
        raise DataError(f"no training prompts left for split={split!r}")
    return df


def causal_finetune(
    model: Any,
    tokenizer: Any,
    prompts: pd.DataFrame | None = None,
    *,
    objective: str = "causal",
    split: str | None = "dev",
    steps: int = 30,
    batch_size: int = 8,
    rank: int = 4,
    lora_alpha: int | None = None,
    target_modules: Sequence[str] = ("q_proj", "v_proj"),
    layers: Sequence[int] | None = None,
    lr: float = 1e-3,
    invariance_weight: float = 1.0,
    agreement_weight: float = 1.0,
    preserve_weight: float = 1.0,
    random_state: int = 0,
    callback: Callable[[int, Any], None] | None = None,
) -> LMFinetune:
    """Fine-tune a causal LM with LoRA: the occupation stops moving the pronoun, "the woman" still does.

    Parameters
    ----------
    model, tokenizer : a transformers causal LM (Llama family) and its tokenizer
        The model is copied; the copy gets LoRA adapters, is trained, and the adapters are merged into it.
    prompts : pandas.DataFrame, optional
        Rows of :func:`lm_prompts` (default: every source).
    objective : {"causal", "cda"}
        The selective counterfactual-consistency objective, or counterfactual data augmentation (the module
        docstring gives both losses).
    split : {"dev", "heldout"} or None
        Train on this half only (default the development occupations); None uses every row.
    steps, batch_size : int
        Optimizer steps, and prompts per step (each prompt contributes four texts).
    rank, lora_alpha : int
        LoRA rank and scale (default ``lora_alpha = 2 * rank``).
    target_modules : sequence of str
        Linear layers that get adapters (default the attention query and value projections).
    layers : sequence of int, optional
        Only these blocks get adapters (default: all).
    lr : float
        AdamW learning rate.
    invariance_weight, agreement_weight, preserve_weight : float
        Weights of the three terms of the "causal" objective (ignored by "cda").
    random_state : int
        Seeds the adapters' initialisation and the batch order: same seed, same weights.
    callback : callable, optional
        ``callback(steps_done, adapted)`` after every step, for checkpoints chosen on development prompts
        (e.g. an :func:`lm_audit` of the adapted model). ``adapted`` is the peft model with its adapters
        active, in eval mode and with gradients off while the callback runs; read it, or save its adapters
        with ``peft.get_peft_model_state_dict``, but do not change its weights. Training resumes unchanged
        afterwards (LoRA has no dropout here, so the step order and the weights do not depend on it).

    Returns
    -------
    LMFinetune

    Examples
    --------
    >>> import causaltrust as ct
    >>> tok, lm = ct.text.load_smollm2()  # doctest: +SKIP
    >>> ft = ct.text.causal_finetune(lm, tok, objective="causal", steps=30)  # doctest: +SKIP
    >>> rep = ct.text.lm_audit(ft.model, tok, split="heldout")  # doctest: +SKIP
    """
    torch = torch_or_raise()
    try:
        import peft
        from peft import LoraConfig, get_peft_model
    except ImportError as exc:
        raise ImportError("LoRA fine-tuning needs peft; run: pip install 'causaltrust[text]'") from exc
    t0 = time.perf_counter()
    df = _check(prompts, split, objective, steps, batch_size, rank)
    for name, w in (("invariance_weight", invariance_weight), ("agreement_weight", agreement_weight),
                    ("preserve_weight", preserve_weight), ("lr", lr)):  # fmt: skip
        if not np.isfinite(w) or w < 0:
            raise DataError(f"{name} must be a finite number >= 0, got {w!r}")
    if callback is not None and not callable(callback):
        raise DataError(f"callback must be callable(steps_done, adapted) or None, got {callback!r}")
    base = getattr(model, "model", None)
    if base is None or not hasattr(base, "layers"):
        raise DataError(f"causal_finetune needs a Llama-family causal LM, got {type(model).__name__}")
    n_layers = len(base.layers)
    layer_list = list(range(n_layers)) if layers is None else sorted({int(v) for v in layers})
    if not layer_list or any(not 0 <= v < n_layers for v in layer_list):
        raise DataError(f"layers must be a non-empty subset of 0..{n_layers - 1}, got {layers!r}")
    device = next(model.parameters()).device

    def tokenize(texts: Any) -> list[list[int]]:
        return [[int(t) for t in tokenizer(x)["input_ids"]] for x in texts]

    male = [_single_token(tokenizer, w) for w in df["male"]]
    female = [_single_token(tokenizer, w) for w in df["female"]]
    if objective == "causal":
        groups = {c: tokenize(df[c]) for c in ("prompt", "neutral", "female_ref", "male_ref")}
    else:
        # the pronoun is appended as a token id, so it sits exactly where lm_audit reads the next token
        def plus(col: str, ids: list[int]) -> list[list[int]]:
            return [[*s, i] for s, i in zip(tokenize(df[col]), ids, strict=True)]

        groups = {
            "prompt_female": plus("prompt", female),
            "prompt_male": plus("prompt", male),
            "female_ref": plus("female_ref", female),
            "male_ref": plus("male_ref", male),
        }
    short = 1 if objective == "causal" else 2
    if any(len(s) < short for g in groups.values() for s in g):
        raise DataError("a training text tokenizes to too few tokens; give non-empty prompts")
    pad = int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0)
    alpha = 2 * rank if lora_alpha is None else lora_alpha
    if not isinstance(alpha, int) or isinstance(alpha, bool) or alpha < 1:
        raise DataError(f"lora_alpha must be a positive int or None, got {lora_alpha!r}")

    rng = np.random.default_rng(random_state)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(random_state)
        work = copy.deepcopy(model)
        for p in work.parameters():
            p.requires_grad_(False)
        config = LoraConfig(
            r=rank, lora_alpha=alpha, target_modules=list(target_modules), layers_to_transform=layer_list,
            lora_dropout=0.0, bias="none",
        )  # fmt: skip
        try:
            net = get_peft_model(work, config)
        except ValueError as exc:
            raise DataError(f"target_modules {list(target_modules)!r}: {exc}") from None
    trainable = [p for p in net.parameters() if p.requires_grad]
    n_trainable = int(sum(p.numel() for p in trainable))
    opt = torch.optim.AdamW(trainable, lr=lr, weight_decay=0.0)
    male_t = torch.as_tensor(male, device=device)
    female_t = torch.as_tensor(female, device=device)
    history: list[dict[str, float]] = []
    order = np.concatenate([rng.permutation(len(df)) for _ in range(-(-steps * batch_size // len(df)))])
    net.train()
    for step in range(steps):
        idx = order[step * batch_size : (step + 1) * batch_size].tolist()
        if objective == "causal":
            parts = _causal_loss(net, groups, idx, male_t, female_t, pad, device)
            loss = (
                invariance_weight * parts["invariance"]
                + agreement_weight * parts["agreement"]
                + preserve_weight * parts["preserve"]
            )
        else:
            parts = {"lm": _cda_loss(net, groups, idx, pad, device)}
            loss = parts["lm"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        history.append(
            {"step": step, "loss": float(loss.detach()), **{k: float(v.detach()) for k, v in parts.items()}}
        )
        if callback is not None:
            net.eval()
            with torch.no_grad():
                callback(step + 1, net)
            net.train()
    net.eval()
    merged = net.merge_and_unload()
    for p in merged.parameters():
        p.requires_grad_(False)
    merged.eval()
    seconds = time.perf_counter() - t0
    n_occ = df["occupation"].nunique() if "occupation" in df.columns else "?"
    note = (
        f"fine-tuned by ct.text.causal_finetune (objective {objective!r}, LoRA rank {rank} on "
        f"{list(target_modules)} of {len(layer_list)} blocks, {steps} steps of {batch_size} prompts) on "
        f"{len(df)} prompts of {n_occ} occupations"
    )
    setattr(merged, _PROVENANCE, (*model_notes(model), note))
    provenance: dict[str, Any] = {
        "objective": objective,
        "split": split,
        "steps": steps,
        "batch_size": batch_size,
        "rank": rank,
        "lora_alpha": alpha,
        "target_modules": list(target_modules),
        "layers": layer_list,
        "lr": lr,
        "weights": (
            {"invariance": invariance_weight, "agreement": agreement_weight, "preserve": preserve_weight}
            if objective == "causal"
            else {"lm": 1.0}
        ),
        "trainable_params": n_trainable,
        "n_train_prompts": len(df),
        "train_occupations": sorted(df["occupation"].unique()) if "occupation" in df.columns else [],
        "train_templates": sorted(df["template"].unique()) if "template" in df.columns else [],
        "random_state": random_state,
        "seconds": seconds,
        "peft": peft.__version__,
        "torch": torch.__version__,
        "notes": [note],
    }
    return LMFinetune(merged, provenance, pd.DataFrame(history))


def _log_odds(logits: Any, last: Any, male: Any, female: Any) -> Any:
    torch = torch_or_raise()
    rows = torch.arange(logits.shape[0], device=logits.device)
    logp = torch.log_softmax(logits[rows, last], dim=-1)
    return logp[rows, female] - logp[rows, male]


def _causal_loss(
    net: Any,
    groups: dict[str, list[list[int]]],
    idx: list[int],
    male: Any,
    female: Any,
    pad: int,
    device: Any,
) -> dict[str, Any]:
    """The three terms of the "causal" objective on the prompts ``idx`` (the adapted and the frozen model)."""
    torch = torch_or_raise()
    names = ("prompt", "neutral", "female_ref", "male_ref")
    seqs = [groups[g][i] for g in names for i in idx]
    ids, last, mask = _pad(seqs, pad, device)
    with torch.no_grad(), net.disable_adapter():
        ref_logp = torch.log_softmax(net(ids).logits, dim=-1)
    logits = net(ids).logits
    b = len(idx)
    m4, f4 = male[idx].repeat(4), female[idx].repeat(4)
    y = _log_odds(logits, last, m4, f4)
    y0 = _log_odds(ref_logp, last, m4, f4)
    invariance = ((y[:b] - y[b : 2 * b]) ** 2).mean()
    agreement = ((y[2 * b :] - y0[2 * b :]) ** 2).mean()
    # KL(original || adapted) at every real position but the occupation prompts' last one, where the
    # invariance term rules (there the original distribution carries the stereotype)
    keep = mask.clone()
    keep[torch.arange(b, device=device), last[:b]] = False
    logp = torch.log_softmax(logits, dim=-1)
    kl = (ref_logp.exp() * (ref_logp - logp)).sum(-1)
    preserve = kl[keep].mean()
    return {"invariance": invariance, "agreement": agreement, "preserve": preserve}


def _cda_loss(net: Any, groups: dict[str, list[list[int]]], idx: list[int], pad: int, device: Any) -> Any:
    """Mean next-token cross-entropy over every predicted token of the augmented texts ``idx``."""
    torch = torch_or_raise()
    seqs = [groups[g][i] for g in ("prompt_female", "prompt_male", "female_ref", "male_ref") for i in idx]
    ids, _, mask = _pad(seqs, pad, device)
    logits = net(ids).logits[:, :-1]
    nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), ids[:, 1:], reduction="none")
    real = mask[:, 1:]
    return nll[real].mean()
