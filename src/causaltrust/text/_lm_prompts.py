"""Prompts for the LM audit: Winogender and WinoBias sentences cut before the pronoun, de-duplicated by text.

Every prompt carries four versions of its subject slot: the occupation (the stereotype path's source), a
neutral "person" (the occupation-only intervention), and "man" / "woman" (an explicit referent: the fair
path). Prompts are split into development and held-out sets **by occupation**, so no held-out template shares
its occupation with a development one, and interventions chosen on development prompts are judged on
unseen occupations.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import numpy as np
import pandas as pd

from causaltrust.exceptions import DataError
from causaltrust.text._data import data_path, load_winobias, load_winogender

__all__ = ["PRONOUNS", "dedupe_prompts", "lm_prompts", "neutral_corpus"]

# (male, female) next-token pronoun by grammatical case
PRONOUNS: dict[str, tuple[str, str]] = {"nom": ("he", "she"), "poss": ("his", "her"), "acc": ("him", "her")}
_SUBJECTS = {"neutral": "person", "male": "man", "female": "woman"}
_PRONOUN_WORD = re.compile(r"\b(he|his|him|she|her)\b", re.IGNORECASE)
_CASE = {"he": "nom", "she": "nom", "his": "poss", "him": "acc"}


def _replace(prompt: str, occupation: str, word: str) -> str:
    """``prompt`` with its first ``occupation`` replaced by ``word`` ("a"/"an" before it follows the word)."""
    m = re.search(rf"\b(?:(an?|An?)\s+)?{re.escape(occupation)}\b", prompt)
    if m is None:
        raise DataError(f"occupation {occupation!r} is not in prompt {prompt!r}")
    article = m.group(1)
    new = word
    if article is not None:
        a = "an" if word[0].lower() in "aeiou" else "a"
        new = f"{a[0].upper() + a[1:] if article[0].isupper() else a} {word}"
    return prompt[: m.start()] + new + prompt[m.end() :]


@functools.cache
def _winogender_rows() -> tuple[dict[str, Any], ...]:
    wg = load_winogender()
    stats = pd.read_csv(data_path("winogender", "occupations-stats.tsv"), sep="\t")
    female = dict(zip(stats["occupation"], stats["bls_pct_female"] > 50, strict=True))
    rows = []
    male: Any = wg[wg["gender"] == "male"].sort_values(["template_id", "participant"], kind="stable")
    for r in male.itertuples():
        m = _PRONOUN_WORD.search(r.sentence)
        if m is None or m.start() == 0:
            continue
        prompt = r.sentence[: m.start()].rstrip()
        if not re.search(rf"\b{re.escape(r.occupation)}\b", prompt):
            continue  # the pronoun comes before the occupation: the occupation cannot act on it
        rows.append(
            {
                "source": "winogender",
                "template": f"wg{r.template_id}",
                "occupation": r.occupation,
                "stereotype": "female" if female[r.occupation] else "male",
                "case": r.pronoun_type,
                "prompt": prompt,
            }
        )
    return tuple(rows)


@functools.cache
def _winobias_rows() -> tuple[dict[str, Any], ...]:
    wb: Any = load_winobias()
    occ_female = set(_read_lines("female_occupations.txt"))
    occ_male = set(_read_lines("male_occupations.txt"))
    male_pron = {
        (r.type, r.id): r.pronoun.lower()
        for r in wb.itertuples()
        if r.pronoun.lower() in ("he", "his", "him")
    }
    rows = []
    for r in wb.sort_values(["type", "id", "stereotype"], kind="stable").itertuples():
        case = _CASE.get(male_pron.get((r.type, r.id), ""))
        if case is None:
            continue  # himself / herself: three sentences
        occupation = re.sub(r"^(the|a|an)\s+", "", r.mention.strip(), flags=re.IGNORECASE).lower()
        if occupation in occ_female:
            stereotype = "female"
        elif occupation in occ_male:
            stereotype = "male"
        else:
            continue
        cut = r.raw.rfind("[")
        prompt = re.sub(r"\[([^\]]*)\]", r"\1", r.raw[:cut]).rstrip()
        if not prompt or not re.search(rf"\b{re.escape(occupation)}\b", prompt):
            continue
        rows.append(
            {
                "source": "winobias",
                "template": f"wb{r.type}-{r.id}",
                "occupation": occupation,
                "stereotype": stereotype,
                "case": case,
                "prompt": prompt,
            }
        )
    return tuple(rows)


def _read_lines(name: str) -> list[str]:
    with open(data_path("winobias", name), encoding="utf-8") as fh:
        return [line.strip().lower() for line in fh if line.strip()]


def dedupe_prompts(df: pd.DataFrame) -> pd.DataFrame:
    """Keep the first row of each distinct ``(prompt, case)``; ``n_copies`` counts the rows it stands for.

    Many templates share the text before the pronoun (the two Winogender templates of an occupation differ
    only after it; WinoBias's pro and anti sentences are the same up to the pronoun). Scoring the same text
    twice would count one measurement as two independent ones. The case is part of the key because the same
    text followed by "he" or by "his" asks different questions; such rows share the first row's ``template``,
    so a template bootstrap resamples them together.

    Examples
    --------
    >>> import pandas as pd
    >>> from causaltrust.text._lm_prompts import dedupe_prompts
    >>> df = pd.DataFrame({"prompt": ["A", "A", "B"], "case": ["nom"] * 3})
    >>> dedupe_prompts(df)["n_copies"].tolist()
    [2, 1]
    """
    if not {"prompt", "case"} <= set(df.columns):
        raise DataError("dedupe_prompts needs the columns 'prompt' and 'case'")
    counts = df.groupby(["prompt", "case"], sort=False).size().rename("n_copies")
    out = df.drop_duplicates(["prompt", "case"], keep="first")
    out = out.merge(counts, left_on=["prompt", "case"], right_index=True).reset_index(drop=True)
    if "template" in out.columns:
        # one text under two cases is one forward pass read twice: keep both in one bootstrap cluster
        first = out.drop_duplicates("prompt").set_index("prompt")["template"]
        out["template"] = out["prompt"].map(first)
    return out


def lm_prompts(
    sources: tuple[str, ...] = ("winogender", "winobias"),
    *,
    split: str | None = None,
    heldout_fraction: float = 0.5,
    max_per_source: int | None = None,
    random_state: int = 0,
) -> pd.DataFrame:
    """LM-audit prompts: sentences cut before the pronoun, de-duplicated, with their path-role variants.

    Columns: ``source``, ``template`` (the bootstrap cluster), ``occupation``, ``stereotype`` ("female" when
    the occupation is female-stereotyped: BLS % female > 50 for Winogender, the WinoBias occupation lists),
    ``case`` ("nom", "poss", "acc"), ``male`` / ``female`` (the next-token pronouns), ``prompt`` (with the
    occupation), ``neutral`` (occupation → "person"), ``male_ref`` / ``female_ref`` (occupation → "man" /
    "woman"), ``n_copies`` (rows of the raw sets this prompt stands for) and ``split`` ("dev" or "heldout",
    drawn per occupation, once across the sources).

    Parameters
    ----------
    sources : tuple of {"winogender", "winobias"}
        Which sets to use.
    split : {"dev", "heldout"}, optional
        Return one half only.
    heldout_fraction : float
        Share of occupations held out, drawn once over the union of the sources' occupations (an
        occupation is held out in every source or in none).
    max_per_source : int, optional
        Keep at most this many prompts per source after de-duplication: whole templates, in a seeded order.
    random_state : int
        Seed of the occupation split and of the subsample.

    Examples
    --------
    >>> import causaltrust as ct
    >>> p = ct.text.lm_prompts(("winogender",))
    >>> p[["prompt", "case"]].duplicated().any(), sorted(p.split.unique())
    (np.False_, ['dev', 'heldout'])
    """
    known = {"winogender": _winogender_rows, "winobias": _winobias_rows}
    if not sources or any(s not in known for s in sources):
        raise DataError(f"sources must be a non-empty subset of {sorted(known)}, got {sources!r}")
    if split not in (None, "dev", "heldout"):
        raise DataError(f"split must be 'dev', 'heldout' or None, got {split!r}")
    if not 0 < heldout_fraction < 1:
        raise DataError(f"heldout_fraction must be in (0, 1), got {heldout_fraction!r}")
    if max_per_source is not None and max_per_source < 1:
        raise DataError(f"max_per_source must be a positive int or None, got {max_per_source!r}")
    rng = np.random.default_rng(random_state)
    frames = {
        source: dedupe_prompts(pd.DataFrame(list(known[source]()))) for source in dict.fromkeys(sources)
    }
    # One split over the occupations of every source: an occupation held out in one source's templates is
    # held out in the other's too, so nothing fitted or chosen on development prompts has seen it.
    occs = np.array(sorted(set().union(*(set(df["occupation"]) for df in frames.values()))))
    held = set(rng.permutation(occs)[: round(heldout_fraction * len(occs))])
    parts = []
    for df in frames.values():
        df["split"] = np.where(df["occupation"].isin(held), "heldout", "dev")
        if max_per_source is not None and len(df) > max_per_source:
            order = rng.permutation(df["template"].unique())
            rank = {t: i for i, t in enumerate(order)}
            df = df.iloc[np.argsort(df["template"].map(rank).to_numpy(), kind="stable")]
            df = df.head(max_per_source).sort_index()
        parts.append(df)
    out = pd.concat(parts, ignore_index=True)
    out["male"] = out["case"].map(lambda c: PRONOUNS[c][0])
    out["female"] = out["case"].map(lambda c: PRONOUNS[c][1])
    for col, key in (("neutral", "neutral"), ("male_ref", "male"), ("female_ref", "female")):
        out[col] = [
            _replace(p, o, _SUBJECTS[key]) for p, o in zip(out["prompt"], out["occupation"], strict=True)
        ]
    if split is not None:
        out = out[out["split"] == split].reset_index(drop=True)
    cols = [
        "source", "template", "occupation", "stereotype", "case", "male", "female", "prompt", "neutral",
        "male_ref", "female_ref", "n_copies", "split",
    ]  # fmt: skip
    return out[cols]


def neutral_corpus() -> list[str]:
    """The shipped neutral text for ``text.perplexity``: short paragraphs without people or gender.

    Written for causaltrust (Apache-2.0, like the package); see ``text/data/neutral/LICENSE``.

    Examples
    --------
    >>> import causaltrust as ct
    >>> len(ct.text.neutral_corpus()) >= 60
    True
    """
    with open(data_path("neutral", "neutral.txt"), encoding="utf-8") as fh:
        return [line.strip() for line in fh if line.strip() and not line.startswith("#")]
