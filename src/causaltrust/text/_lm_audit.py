"""The LM audit: the paper's two path roles inside a causal language model.

* **Stereotype path** (occupation → pronoun; should be invariant). ``text.stereotype_effect`` is the effect of
  the occupation-only intervention do(occupation := "person") on y = log P(female pronoun) / P(male pronoun)
  of the next token, signed toward the occupation's stereotype: ``s = ±(y(occupation) − y(person))`` with +
  for a female-stereotyped occupation. 0 means the occupation does not move the pronoun.
* **Referent path** (explicit gendered referent → pronoun; should be kept). ``text.referent_agreement`` is
  the share of prompts whose subject slot holds "woman" (resp. "man") where the model prefers the matching
  pronoun.
* ``text.perplexity`` on a shipped neutral corpus (no people, no gender): the cost to language modelling.

Intervals come from a bootstrap over templates (prompts of one template move together), or over corpus
passages for perplexity.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from causaltrust.audit import Metric, TrustReport
from causaltrust.exceptions import DataError
from causaltrust.text._lm_prompts import lm_prompts, neutral_corpus
from causaltrust.text._mediation_models import model_notes, torch_or_raise

__all__ = ["lm_audit", "lm_compare", "next_token_log_odds", "sequence_nll"]


def _model_device(model: Any, device: Any) -> Any:
    torch = torch_or_raise()
    have = next(model.parameters()).device
    if device is None:
        return have
    want = torch.device(device)
    if want.type != have.type or (want.index is not None and want.index != have.index):
        raise DataError(
            f"device={device!r} but the model's weights are on {have}; move the model first "
            f"(model.to({str(want)!r})) or load it there (e.g. ct.text.load_smollm2(device={str(want)!r}))"
        )
    return have


def _token_id(tokenizer: Any, word: str) -> int:
    ids = tokenizer(" " + word, add_special_tokens=False)["input_ids"]
    if len(ids) != 1:
        raise DataError(
            f"pronoun {word!r} is {len(ids)} tokens for this tokenizer; the audit compares next-token "
            "probabilities of single-token pronouns"
        )
    return int(ids[0])


def _by_length(seqs: list[list[int]], batch_size: int) -> list[list[int]]:
    """Indices of ``seqs`` grouped by length, in batches: no padding, so every run is exact."""
    groups: dict[int, list[int]] = {}
    for i, s in enumerate(seqs):
        groups.setdefault(len(s), []).append(i)
    return [idx[k : k + batch_size] for idx in groups.values() for k in range(0, len(idx), batch_size)]


def next_token_log_odds(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    pairs: Sequence[tuple[str, str]],
    *,
    batch_size: int = 32,
    device: Any = None,
) -> np.ndarray:
    """``log P(b) − log P(a)`` of the next token after each text, for ``pairs[i] = (a, b)``.

    Parameters
    ----------
    model, tokenizer : a transformers causal LM and its tokenizer
        Called as ``model(input_ids)``, so hooks registered on its modules (the interventions) apply.
    texts : sequence of str
    pairs : sequence of (str, str)
        Single-token words, e.g. ``("he", "she")``: the result is then log P(she) / P(he).
    batch_size : int
    device : str, optional
        Must be where the model is (default: the model's device).

    Examples
    --------
    >>> import causaltrust as ct
    >>> tok, lm = ct.text.load_smollm2()  # doctest: +SKIP
    >>> ct.text.next_token_log_odds(lm, tok, ["The nurse said that"], [("he", "she")])  # doctest: +SKIP
    array([2.1...])
    """
    torch = torch_or_raise()
    dev = _model_device(model, device)
    if len(texts) != len(pairs):
        raise DataError(f"{len(texts)} texts but {len(pairs)} word pairs; give one pair per text")
    seqs = [[int(t) for t in tokenizer(x)["input_ids"]] for x in texts]
    if any(not s for s in seqs):
        raise DataError("a text tokenizes to no tokens; give non-empty texts")
    cache: dict[str, int] = {}
    ids = np.array([[cache.setdefault(w, _token_id(tokenizer, w)) for w in p] for p in pairs], dtype=np.int64)
    out = np.empty(len(seqs))
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for idx in _by_length(seqs, batch_size):
                x = torch.tensor([seqs[i] for i in idx], device=dev)
                logits = model(x, logits_to_keep=1).logits[:, -1, :]
                logp = torch.log_softmax(logits.double(), dim=-1).cpu().numpy()
                rows = np.arange(len(idx))
                out[idx] = logp[rows, ids[idx, 1]] - logp[rows, ids[idx, 0]]
    finally:
        model.train(was_training)
    return out


def sequence_nll(
    model: Any, tokenizer: Any, texts: Sequence[str], *, batch_size: int = 16, device: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Summed next-token negative log-likelihood (nats) and the number of predicted tokens, per text.

    Perplexity over a corpus is ``exp(nll.sum() / tokens.sum())``.
    """
    torch = torch_or_raise()
    dev = _model_device(model, device)
    seqs = [[int(t) for t in tokenizer(x)["input_ids"]] for x in texts]
    if any(len(s) < 2 for s in seqs):
        raise DataError("every perplexity text needs at least two tokens")
    nll = np.empty(len(seqs))
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for idx in _by_length(seqs, batch_size):
                x = torch.tensor([seqs[i] for i in idx], device=dev)
                logp = torch.log_softmax(model(x).logits[:, :-1, :].double(), dim=-1)
                got = logp.gather(-1, x[:, 1:, None]).squeeze(-1)
                nll[idx] = -got.sum(dim=1).cpu().numpy()
    finally:
        model.train(was_training)
    return nll, np.array([len(s) - 1 for s in seqs], dtype=float)


def _cluster_boot(
    num: np.ndarray, den: np.ndarray, clusters: np.ndarray, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """Bootstrap draws of ``sum(num) / sum(den)`` resampling whole clusters; ``num`` may be 2-D (columns)."""
    codes, inv = np.unique(clusters, return_inverse=True)
    num2 = num.reshape(len(num), -1)
    s = np.zeros((len(codes), num2.shape[1]))
    np.add.at(s, inv, num2)
    c = np.bincount(inv, weights=den, minlength=len(codes))
    draw = rng.integers(0, len(codes), size=(n_boot, len(codes)))
    return np.asarray(s[draw].sum(axis=1) / c[draw].sum(axis=1)[:, None])


def _ci(draws: np.ndarray) -> tuple[float, float]:
    lo, hi = np.nanpercentile(draws, [2.5, 97.5])
    return float(lo), float(hi)


def lm_audit(
    model: Any,
    tokenizer: Any,
    prompts: pd.DataFrame | None = None,
    *,
    split: str | None = "heldout",
    corpus: Sequence[str] | None = None,
    n_bootstrap: int = 1000,
    batch_size: int = 32,
    device: Any = None,
    mediation_prompts: int = 0,
    thresholds: Mapping[str, Mapping[str, float]] | None = None,
    label: str = "",
    random_state: int = 0,
) -> TrustReport:
    """Audit a causal LM's pronoun predictions along the stereotype path and the referent path.

    Run it inside an intervention's ``with`` block (e.g. :class:`HeadAblation`, :class:`ResidualErasure`) to
    audit the intervened model.

    Parameters
    ----------
    model, tokenizer : a transformers causal LM (Llama family for the mediation profile) and its tokenizer
    prompts : pandas.DataFrame, optional
        Rows of :func:`lm_prompts` (default: every source, de-duplicated by text).
    split : {"heldout", "dev"} or None
        Audit only this half of ``prompts`` (templates whose occupations are held out from intervention
        choice by default); None uses every row.
    corpus : sequence of str, optional
        Perplexity texts (default: :func:`neutral_corpus`).
    n_bootstrap : int
        Template-level (and passage-level, for perplexity) bootstrap resamples.
    batch_size : int
        Sequences per forward pass.
    device : str, optional
        Where inputs go; must be the model's device (default).
    mediation_prompts : int
        When > 0, also run :func:`mediation` (every head, indirect effects) on the first ``n`` token-aligned
        prompts (occupation → "person") and keep the per-head mean log-ratio effects in ``meta["mediation"]``.
    thresholds : mapping, optional
        ``{metric: {"min": ..., "max": ...}}``.
    label : str
        A name for what was audited (e.g. the intervention), kept in ``meta``.
    random_state : int

    Returns
    -------
    TrustReport
        Metrics ``text.stereotype_effect`` (mean log-ratio), ``text.stereotype_effect_ratio`` (arithmetic mean
        of the odds ratio, minus 1), ``text.stereotype_effect_geometric`` (geometric mean, minus 1),
        ``text.referent_agreement``, ``text.referent_margin`` and ``text.perplexity``; ``meta["per_prompt"]``
        and ``meta["per_passage"]`` keep the per-unit values (for :func:`lm_compare`).

    Examples
    --------
    >>> import causaltrust as ct
    >>> tok, lm = ct.text.load_smollm2()  # doctest: +SKIP
    >>> rep = ct.text.lm_audit(lm, tok, split="heldout")  # doctest: +SKIP
    >>> rep.metric("text.stereotype_effect").value  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    if not isinstance(n_bootstrap, int) or n_bootstrap < 1:
        raise DataError(f"n_bootstrap must be a positive int, got {n_bootstrap!r}")
    if split not in (None, "dev", "heldout"):
        raise DataError(f"split must be 'dev', 'heldout' or None, got {split!r}")
    df = lm_prompts() if prompts is None else prompts
    need = {"template", "prompt", "neutral", "male_ref", "female_ref", "male", "female", "stereotype"}
    missing = sorted(need - set(df.columns))
    if missing:
        raise DataError(f"prompts lacks the columns {missing}; build it with ct.text.lm_prompts()")
    if split is not None and "split" in df.columns:
        df = df[df["split"] == split]
    df = df.reset_index(drop=True)
    if df.empty:
        raise DataError(f"no prompts left for split={split!r}")
    texts = list(corpus) if corpus is not None else neutral_corpus()
    if not texts:
        raise DataError("corpus is empty; give perplexity texts or leave corpus=None")
    pairs = list(zip(df["male"], df["female"], strict=True))
    n = len(df)
    y = next_token_log_odds(
        model,
        tokenizer,
        [*df["prompt"], *df["neutral"], *df["female_ref"], *df["male_ref"]],
        pairs * 4,
        batch_size=batch_size,
        device=device,
    )
    y_occ, y_neu, y_fem, y_mal = y[:n], y[n : 2 * n], y[2 * n : 3 * n], y[3 * n :]
    sign = np.where(df["stereotype"].to_numpy() == "female", 1.0, -1.0)
    s = sign * (y_occ - y_neu)
    agree = ((y_fem > 0).astype(float) + (y_mal < 0).astype(float)) / 2
    margin = (y_fem - y_mal) / 2
    nll, ntok = sequence_nll(model, tokenizer, texts, batch_size=batch_size, device=device)

    rng = np.random.default_rng(random_state)
    clusters = df["template"].to_numpy()
    ones = np.ones(n)
    boot = _cluster_boot(np.column_stack([s, np.exp(s), agree, margin]), ones, clusters, n_bootstrap, rng)
    ppl_boot = np.exp(_cluster_boot(nll, ntok, np.arange(len(texts)), n_bootstrap, rng)[:, 0])
    ppl = math.exp(nll.sum() / ntok.sum())
    values = {
        "text.stereotype_effect": (float(s.mean()), _ci(boot[:, 0])),
        "text.stereotype_effect_ratio": (float(np.exp(s).mean() - 1), _ci(boot[:, 1] - 1)),
        "text.stereotype_effect_geometric": (float(math.expm1(s.mean())), _ci(np.expm1(boot[:, 0]))),
        "text.referent_agreement": (float(agree.mean()), _ci(boot[:, 2])),
        "text.referent_margin": (float(margin.mean()), _ci(boot[:, 3])),
        "text.perplexity": (ppl, _ci(ppl_boot)),
    }
    info = {
        "text.stereotype_effect": (
            "zero",
            "mean over prompts of the occupation-only intervention's effect on log P(she)/P(he), signed "
            "toward the occupation's stereotype (0: the occupation does not move the pronoun)",
        ),
        "text.stereotype_effect_ratio": (
            "zero",
            "arithmetic mean over prompts of the odds ratio exp(effect), minus 1 (a few prompts dominate)",
        ),
        "text.stereotype_effect_geometric": ("zero", "geometric mean of the odds ratio, minus 1"),
        "text.referent_agreement": (
            "higher",
            "share of prompts with 'woman' / 'man' in the occupation's place where the matching pronoun is "
            "the more likely one (the fair path; should stay high)",
        ),
        "text.referent_margin": (
            "higher",
            "mean log-odds of the matching over the other pronoun after an explicit referent",
        ),
        "text.perplexity": ("lower", f"perplexity on the {len(texts)} passages of the neutral corpus"),
    }
    method = f"template-level bootstrap, {n_bootstrap} resamples, 95% percentile interval"
    metrics = []
    for name, (value, (lo, hi)) in values.items():
        better, desc = info[name]
        m = Metric(name, value, lo, hi, better, description=desc, method=method)  # type: ignore[arg-type]
        bound = (thresholds or {}).get(name)
        if bound is not None:
            m = m.with_threshold(bound.get("min"), bound.get("max"))
        metrics.append(m)
    meta: dict[str, Any] = {
        "label": label,
        "model": type(model).__name__,
        "split": split,
        "n_prompts": n,
        "n_raw_rows": int(df["n_copies"].sum()) if "n_copies" in df.columns else n,
        "n_templates": int(df["template"].nunique()),
        "n_passages": len(texts),
        "sources": sorted(df["source"].unique()) if "source" in df.columns else [],
        "per_prompt": {
            "template": [str(t) for t in clusters],
            "prompt": df["prompt"].tolist(),
            "stereotype_effect": s.tolist(),
            "referent_agreement": agree.tolist(),
            "referent_margin": margin.tolist(),
        },
        "per_passage": {"nll": nll.tolist(), "tokens": ntok.tolist()},
    }
    if mediation_prompts:
        meta["mediation"] = _mediation_profile(model, tokenizer, df, mediation_prompts, batch_size)
    meta["seconds"] = time.perf_counter() - t0
    notes = [
        *model_notes(model),
        f"{n} prompts de-duplicated by text from {meta['n_raw_rows']} sentence rows; intervals resample "
        f"{meta['n_templates']} templates",
    ]
    return TrustReport(tuple(metrics), tuple(notes), meta)


def _mediation_profile(
    model: Any, tokenizer: Any, df: pd.DataFrame, k: int, batch_size: int
) -> dict[str, Any]:
    """Per-head mean log-ratio indirect effects of occupation → "person", first ``k`` aligned prompts."""
    from causaltrust.text._mediation import mediation

    records: Any = df.itertuples()
    rows = [
        r for r in records if len(tokenizer(r.prompt)["input_ids"]) == len(tokenizer(r.neutral)["input_ids"])
    ][:k]
    if not rows:
        raise DataError(
            "no prompt is token-aligned with its neutral version; the mediation profile needs one"
        )
    # (anti, stereo) targets: y = P(anti) / P(stereo) rises when the occupation is neutralised
    targets = [(r.male, r.female) if r.stereotype == "female" else (r.female, r.male) for r in rows]
    res = mediation(
        model,
        [(r.prompt, r.neutral) for r in rows],
        tokenizer=tokenizer,
        targets=targets,
        components=["head"],
        effects=("indirect",),
        batch_size=batch_size,
        reuse=False,  # every patched run starts at the embeddings, so token-conditioned interventions apply
    )
    grid = res.heatmap("head", effect="indirect", scale="log")
    return {
        "n_pairs": len(rows),
        "total_log": float(res.log_total_per_pair.mean()),
        "head_log_indirect": np.round(grid, 6).tolist(),
    }


def lm_compare(
    base: TrustReport, other: TrustReport, *, n_bootstrap: int = 1000, random_state: int = 0
) -> dict[str, tuple[float, float, float]]:
    """Paired changes from ``base`` to ``other`` (two :func:`lm_audit` reports on the same prompts).

    Returns ``{name: (estimate, low, high)}`` with 95% intervals from one bootstrap that resamples the same
    templates (and passages) in both: ``stereotype_reduction`` (1 − effect_other / effect_base, on the mean
    log-ratio), ``agreement_change_points`` (percentage points), ``perplexity_change`` (relative).

    Examples
    --------
    >>> import causaltrust as ct
    >>> ct.text.lm_compare(before, after)["stereotype_reduction"]  # doctest: +SKIP
    """
    pa, pb = base.meta.get("per_prompt"), other.meta.get("per_prompt")
    if not pa or not pb or pa["prompt"] != pb["prompt"]:
        raise DataError("lm_compare needs two lm_audit reports on the same prompts (meta['per_prompt'])")
    if base.meta["per_passage"]["tokens"] != other.meta["per_passage"]["tokens"]:
        raise DataError("lm_compare needs two lm_audit reports on the same perplexity corpus")
    rng = np.random.default_rng(random_state)
    cols = np.column_stack(
        [
            pa["stereotype_effect"],
            pb["stereotype_effect"],
            pa["referent_agreement"],
            pb["referent_agreement"],
        ]
    )
    n = cols.shape[0]
    draws = _cluster_boot(cols, np.ones(n), np.array(pa["template"]), n_bootstrap, rng)
    full = cols.mean(axis=0)
    nll_a, nll_b = np.array(base.meta["per_passage"]["nll"]), np.array(other.meta["per_passage"]["nll"])
    tok = np.array(base.meta["per_passage"]["tokens"], dtype=float)
    pd_ = _cluster_boot(np.column_stack([nll_a, nll_b]), tok, np.arange(len(tok)), n_bootstrap, rng)
    ppl_change = np.exp(pd_[:, 1] - pd_[:, 0]) - 1
    red = 1 - draws[:, 1] / draws[:, 0]
    return {
        "stereotype_reduction": (float(1 - full[1] / full[0]), *_ci(red)),
        "agreement_change_points": (
            float(100 * (full[3] - full[2])),
            *_ci(100 * (draws[:, 3] - draws[:, 2])),
        ),
        "perplexity_change": (
            float(math.expm1((nll_b.sum() - nll_a.sum()) / tok.sum())),
            *_ci(ppl_change),
        ),
    }
