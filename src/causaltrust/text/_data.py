"""Bias text sets shipped with the package (small extracts; licences and sources in ``data/SOURCES.md``)."""

from __future__ import annotations

import io
import re
from importlib import resources
from typing import Literal

import pandas as pd

from causaltrust.exceptions import DataError

__all__ = [
    "data_path",
    "load_crows_pairs",
    "load_first_names",
    "load_winobias",
    "load_winogender",
]

_DATA = "causaltrust.text"


def data_path(*parts: str) -> str:
    """Filesystem path of a file under the shipped ``text/data`` folder (e.g. ``data_path("SOURCES.md")``)."""
    return str(resources.files(_DATA).joinpath("data", *parts))


def _read(*parts: str) -> str:
    return resources.files(_DATA).joinpath("data", *parts).read_text(encoding="utf-8")


_PRONOUN_SLOT = re.compile(r"\$(NOM|POSS|ACC)_PRONOUN")


def load_winogender() -> pd.DataFrame:
    """The 720 Winogender sentences (Rudinger et al. 2018, MIT), one row per sentence.

    Columns: ``sentid``, ``sentence``, ``occupation``, ``participant`` (the other person, or "someone"),
    ``answer`` (1 when the pronoun refers to the occupation, 0 when to the participant), ``gender``
    ("male", "female", "neutral"), ``template`` (the template with ``$OCCUPATION`` etc. slots, keyed by
    ``template_id``) and ``pronoun_type`` ("nom", "poss" or "acc": the grammatical case of the pronoun, which
    is what decides whether a swapped "her" becomes "his" or "him").

    Examples
    --------
    >>> import causaltrust as ct
    >>> wg = ct.text.load_winogender()
    >>> len(wg), sorted(wg.gender.unique())
    (720, ['female', 'male', 'neutral'])
    """
    sent = pd.read_csv(io.StringIO(_read("winogender", "all_sentences.tsv")), sep="\t")
    tpl = pd.read_csv(io.StringIO(_read("winogender", "templates.tsv")), sep="\t")
    tpl.columns = ["occupation", "template_participant", "answer", "template"]
    tpl["template_id"] = range(len(tpl))
    found = tpl["template"].str.extract(_PRONOUN_SLOT, expand=False)
    tpl["pronoun_type"] = found.str.lower()
    parts = sent["sentid"].str.removesuffix(".txt").str.split(".", expand=True)
    sent["occupation"] = parts[0]
    sent["participant"] = parts[1]
    sent["answer"] = parts[2].astype(int)
    sent["gender"] = parts[3]
    out = sent.merge(tpl, on=["occupation", "answer"], how="left", validate="many_to_one")
    if out["template"].isna().any():  # pragma: no cover - the shipped files are consistent
        raise DataError("winogender: a sentence has no template; the shipped data files are damaged")
    cols = ["sentid", "sentence", "occupation", "participant", "answer", "gender", "template_id", "template"]
    return out[[*cols, "pronoun_type"]].reset_index(drop=True)


_WB_LINE = re.compile(r"^(\d+) (.*)$")
_BRACKETS = re.compile(r"\[([^\]]*)\]")


def load_winobias(
    stereotype: Literal["pro", "anti"] | None = None, kind: Literal[1, 2] | None = None
) -> pd.DataFrame:
    """WinoBias test sentences (Zhao et al. 2018, MIT): 396 per stereotype × type, 1,584 in all.

    Columns: ``id`` (line number, 1-based, shared by the pro and anti sentence of a pair), ``stereotype``
    ("pro" or "anti"), ``type`` (1: resolvable only by world knowledge; 2: by syntax), ``sentence`` (brackets
    removed), ``mention`` (the bracketed occupation phrase), ``pronoun`` (the bracketed pronoun) and ``raw``.
    The pro and anti sentences with the same ``type`` and ``id`` differ only in the pronoun's gender, so they
    are reference gender swaps of each other.

    Parameters
    ----------
    stereotype : {"pro", "anti"}, optional
        Keep one half only.
    kind : {1, 2}, optional
        Keep one type only.

    Examples
    --------
    >>> import causaltrust as ct
    >>> wb = ct.text.load_winobias("pro", 1)
    >>> len(wb)
    396
    """
    if stereotype not in (None, "pro", "anti"):
        raise DataError(f"load_winobias: stereotype must be 'pro', 'anti' or None, got {stereotype!r}")
    if kind not in (None, 1, 2):
        raise DataError(f"load_winobias: kind must be 1, 2 or None, got {kind!r}")
    rows = []
    for st in ("pro", "anti"):
        for ty in (1, 2):
            if (stereotype is not None and st != stereotype) or (kind is not None and ty != kind):
                continue
            for line in _read("winobias", f"{st}_stereotyped_type{ty}.txt.test").splitlines():
                m = _WB_LINE.match(line.strip())
                if m is None:
                    continue
                raw = m.group(2)
                spans = _BRACKETS.findall(raw)
                sentence = _BRACKETS.sub(r"\1", raw)
                rows.append(
                    {
                        "id": int(m.group(1)),
                        "stereotype": st,
                        "type": ty,
                        "sentence": sentence,
                        "mention": spans[0] if spans else "",
                        "pronoun": spans[-1] if spans else "",
                        "raw": raw,
                    }
                )
    return pd.DataFrame(rows)


def load_crows_pairs(bias_type: str | None = None) -> pd.DataFrame:
    """CrowS-Pairs sentence pairs (Nangia et al. 2020, CC BY-SA 4.0), 1,508 pairs over nine bias types.

    Columns: ``sent_more`` (the more stereotypical sentence), ``sent_less``, ``stereo_antistereo`` and
    ``bias_type`` (e.g. "gender", "race-color").

    Parameters
    ----------
    bias_type : str, optional
        Keep one bias type (e.g. ``"gender"``: 262 pairs).

    Examples
    --------
    >>> import causaltrust as ct
    >>> len(ct.text.load_crows_pairs("gender"))
    262
    """
    df = pd.read_csv(io.StringIO(_read("crows_pairs", "crows_pairs.csv")))
    if bias_type is None:
        return df
    known = sorted(df["bias_type"].unique())
    if bias_type not in known:
        raise DataError(f"load_crows_pairs: unknown bias_type {bias_type!r}; known: {', '.join(known)}")
    return df[df["bias_type"] == bias_type].reset_index(drop=True)


def load_first_names() -> pd.DataFrame:
    """First names by gender and ethnicity (BBQ, Parrish et al. 2022, CC BY 4.0): 10 per group, 100 in all.

    Columns: ``name``, ``gender`` ("F" or "M"), ``ethnicity`` (Arab, Asian, Black, Latino, White) and
    ``source`` (where BBQ took the name from).

    Examples
    --------
    >>> import causaltrust as ct
    >>> ct.text.load_first_names().groupby(["gender", "ethnicity"]).size().unique().tolist()
    [10]
    """
    return pd.read_csv(io.StringIO(_read("names", "first_names.csv")))
