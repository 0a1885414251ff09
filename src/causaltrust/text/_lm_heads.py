"""Heads to ablate, chosen for the stereotype path they carry *minus* the referent path they carry.

Ranking heads by their indirect effect on the stereotype alone picks heads that carry gender in general
(ablating them breaks "the woman ... she" as well). :func:`select_heads` measures each head's share of both
paths by activation patching on development prompts:

* stereotype share: the head's mean log-ratio indirect effect of occupation → "person" on
  y = P(anti-stereotypical) / P(stereotypical pronoun), over the mean total effect;
* referent share: the same for "woman"/"man" → "person" on y = P(other) / P(matching pronoun);

and ranks by ``score = stereotype share − referent share``. The counterfactual in both is the neutral
"person" prompt, which is also what mean ablation over neutral reference texts replaces a head's output with.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from causaltrust.exceptions import DataError
from causaltrust.text._lm_prompts import lm_prompts

__all__ = ["select_heads"]


def _aligned(tokenizer: Any, rows: list[Any], col: str, k: int) -> list[Any]:
    def n(text: str) -> int:
        return len(tokenizer(text)["input_ids"])

    return [r for r in rows if n(getattr(r, col)) == n(r.neutral)][:k]


def select_heads(
    model: Any,
    tokenizer: Any,
    prompts: pd.DataFrame | None = None,
    *,
    split: str | None = "dev",
    n_prompts: int = 16,
    batch_size: int = 64,
) -> pd.DataFrame:
    """Rank attention heads by the stereotype path's indirect effect minus the referent path's.

    Parameters
    ----------
    model, tokenizer : a Llama-family causal LM and its tokenizer
    prompts : pandas.DataFrame, optional
        Rows of :func:`lm_prompts` (default: every source).
    split : {"dev", "heldout"} or None
        Choose on this half only (default the development occupations, so a held-out audit judges the choice).
    n_prompts : int
        Token-aligned prompts per path (the first ones in ``prompts``' order).
    batch_size : int
        Patched runs per forward pass.

    Returns
    -------
    pandas.DataFrame
        One row per head, best first: ``layer``, ``head``, ``stereotype_indirect`` and ``referent_indirect``
        (mean log-ratio indirect effects), ``stereotype_share``, ``referent_share``, ``score`` and ``rank``
        (1 = best). ``attrs`` holds the total effects and the numbers of pairs.

    Examples
    --------
    >>> import causaltrust as ct
    >>> tok, lm = ct.text.load_smollm2()  # doctest: +SKIP
    >>> ranked = ct.text.select_heads(lm, tok, n_prompts=16)  # doctest: +SKIP
    >>> heads = [(int(r.layer), int(r.head)) for r in ranked.head(5).itertuples()]  # doctest: +SKIP
    >>> reference = list(ct.text.lm_prompts(split="dev")["neutral"])  # doctest: +SKIP
    >>> abl = ct.text.HeadAblation(lm, heads).fit(tok, reference)  # doctest: +SKIP
    """
    from causaltrust.text._mediation import mediation

    if not isinstance(n_prompts, int) or isinstance(n_prompts, bool) or n_prompts < 1:
        raise DataError(f"n_prompts must be a positive int, got {n_prompts!r}")
    if split not in (None, "dev", "heldout"):
        raise DataError(f"split must be 'dev', 'heldout' or None, got {split!r}")
    df = lm_prompts() if prompts is None else prompts
    need = {"prompt", "neutral", "male_ref", "female_ref", "male", "female", "stereotype"}
    missing = sorted(need - set(df.columns))
    if missing:
        raise DataError(f"prompts lacks the columns {missing}; build it with ct.text.lm_prompts()")
    if split is not None and "split" in df.columns:
        df = df[df["split"] == split]
    rows: list[Any] = list(df.itertuples())
    stereo = _aligned(tokenizer, rows, "prompt", n_prompts)
    # half the referent pairs say "woman", half "man", so neither pronoun's head dominates the choice
    fem = _aligned(tokenizer, rows, "female_ref", -(-n_prompts // 2))
    mal = _aligned(tokenizer, rows, "male_ref", n_prompts // 2)
    if not stereo or not (fem or mal):
        raise DataError(
            "select_heads needs prompts whose occupation / referent and 'person' versions have the same "
            "number of tokens (activation patching at every position); none are left"
        )
    kw: dict[str, Any] = {
        "tokenizer": tokenizer, "components": ["head"], "effects": ("indirect",), "batch_size": batch_size,
    }  # fmt: skip
    s = mediation(
        model,
        [(r.prompt, r.neutral) for r in stereo],
        targets=[(r.male, r.female) if r.stereotype == "female" else (r.female, r.male) for r in stereo],
        **kw,
    )
    a = mediation(
        model,
        [(r.female_ref, r.neutral) for r in fem] + [(r.male_ref, r.neutral) for r in mal],
        targets=[(r.male, r.female) for r in fem] + [(r.female, r.male) for r in mal],
        **kw,
    )
    s_ie = s.log_indirect_per_pair.mean(axis=0)
    a_ie = a.log_indirect_per_pair.mean(axis=0)
    s_te = float(s.log_total_per_pair.mean())
    a_te = float(a.log_total_per_pair.mean())
    if s_te == 0 or a_te == 0:
        raise DataError("a path's mean total effect is exactly 0 on these prompts; shares are undefined")
    out = s.components[["layer", "head"]].astype(int).copy()
    out["stereotype_indirect"] = s_ie
    out["referent_indirect"] = a_ie
    out["stereotype_share"] = s_ie / s_te
    out["referent_share"] = a_ie / a_te
    out["score"] = out["stereotype_share"] - out["referent_share"]
    out = out.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    out.attrs = {
        "stereotype_total": s_te,
        "referent_total": a_te,
        "n_stereotype_pairs": len(stereo),
        "n_referent_pairs": len(fem) + len(mal),
        "seconds": s.seconds + a.seconds,
    }
    return out
