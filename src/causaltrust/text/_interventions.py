"""Text interventions: gender swaps, first-name substitution, entity placeholders, word-swap dictionaries.

Every intervention maps one text to its counterfactual and reports the edited spans, so an audit can pair a
text with the same text under the intervention. Words are matched whole; case is kept (``He → She``,
``HE → SHE``); everything that is not an edited word is copied through byte for byte.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from causaltrust.exceptions import DataError
from causaltrust.text._data import load_first_names
from causaltrust.text._lexicon import GENDER_PAIRS, NEUTRAL, ONE_WAY, resolve_her, resolve_his
from causaltrust.text._models import _as_texts

__all__ = [
    "INTERVENTIONS",
    "Edit",
    "Intervened",
    "apply_intervention",
    "counterfactual_pairs",
    "gender_swap_accuracy",
    "name_pairs",
    "neutralize_gender",
    "register_word_swap",
    "replace_entities",
    "substitute_names",
    "swap_gender",
    "swap_words",
]

_PRONOUNS = frozenset({"he", "she", "him", "her", "his", "hers", "himself", "herself"})

# "ma'am" is one word; letters include the Latin-1 accented ones (fiancée).
_WORD = re.compile(r"[Mm]a['’]am|MA['’]AM|[A-Za-zÀ-ÖØ-öø-ÿ]+")


@dataclass(frozen=True)
class Edit:
    """One replaced word: ``text[start:end] == before`` in the original text."""

    start: int
    end: int
    before: str
    after: str


@dataclass(frozen=True)
class Intervened:
    """A text under an intervention: the counterfactual, its edits, and the direction of a gender swap.

    ``direction`` is +1 when the text's pronouns and first names are mostly male (the counterfactual is the
    female version), -1 when mostly female, 0 on a tie, when unchanged, or for other interventions. Other
    gendered nouns do not count: in "He thanked his wife" the person is male.
    """

    text: str
    counterfactual: str
    edits: tuple[Edit, ...]
    direction: int

    @property
    def changed(self) -> bool:
        return self.counterfactual != self.text


def _match_case(src: str, tgt: str) -> str:
    if len(src) > 1 and src.isupper():
        return tgt.upper()
    if src[:1].isupper():
        return tgt[:1].upper() + tgt[1:]
    return tgt


def _rebuild(text: str, edits: Sequence[Edit]) -> str:
    out, pos = [], 0
    for e in edits:
        out.append(text[pos : e.start])
        out.append(e.after)
        pos = e.end
    out.append(text[pos:])
    return "".join(out)


@functools.lru_cache(maxsize=1)
def _gender_table() -> dict[str, tuple[str, str]]:
    """lower-case word → (replacement, gender of the word)."""
    table: dict[str, tuple[str, str]] = {}
    for m, f in GENDER_PAIRS:
        table[m] = (f, "male")
        table[f] = (m, "female")
    table.update(ONE_WAY)
    return table


@functools.lru_cache(maxsize=1)
def _names() -> pd.DataFrame:
    """The shipped first names with a rank inside their (gender, ethnicity) list, each name once.

    BBQ lists "Amy" as both White and Asian: the second entry is dropped together with the name of the other
    gender at the same rank, so every kept name has exactly one partner.
    """
    df = load_first_names().copy()
    df["rank"] = df.groupby(["gender", "ethnicity"]).cumcount()
    dup = df[df["name"].duplicated(keep="first")]
    drop = set(zip(dup["ethnicity"], dup["rank"], strict=True))
    keep = [(e, r) not in drop for e, r in zip(df["ethnicity"], df["rank"], strict=True)]
    df = df[keep].copy()
    df["rank"] = df.groupby(["gender", "ethnicity"]).cumcount()
    return df.reset_index(drop=True)


def name_pairs() -> pd.DataFrame:
    """The first-name pairs that the gender swap uses: columns ``male``, ``female``, ``ethnicity``, ``rank``.

    Examples
    --------
    >>> import causaltrust as ct
    >>> len(ct.text.name_pairs())
    49
    """
    df = _names()
    m = df[df["gender"] == "M"][["ethnicity", "rank", "name"]].rename(columns={"name": "male"})
    f = df[df["gender"] == "F"][["ethnicity", "rank", "name"]].rename(columns={"name": "female"})
    return m.merge(f, on=["ethnicity", "rank"])[["male", "female", "ethnicity", "rank"]]


@functools.lru_cache(maxsize=1)
def _name_gender_swap() -> dict[str, tuple[str, str]]:
    """Name → (the name of the other gender at the same rank in the same ethnicity, gender of the name)."""
    out: dict[str, tuple[str, str]] = {}
    for m, f in zip(name_pairs()["male"], name_pairs()["female"], strict=True):
        out[str(m)] = (str(f), "male")
        out[str(f)] = (str(m), "female")
    return out


def _words(text: str) -> list[re.Match[str]]:
    return list(_WORD.finditer(text))


def _context(text: str, words: list[re.Match[str]], i: int) -> tuple[str | None, bool, str | None]:
    """The next word after ``words[i]``, whether punctuation separates them (a clause boundary), and the
    previous word (None across punctuation)."""
    end = words[i].end()
    prev = None
    if i > 0 and not text[words[i - 1].end() : words[i].start()].strip():
        prev = words[i - 1].group()
    if i + 1 >= len(words):
        return None, bool(text[end:].strip()), prev
    between = text[end : words[i + 1].start()]
    return words[i + 1].group(), bool(between.strip()), prev


def _gender_edits(text: str, names: bool) -> tuple[list[Edit], int]:
    table = _gender_table()
    name_swap = _name_gender_swap() if names else {}
    words = _words(text)
    edits: list[Edit] = []
    votes = 0  # male minus female pronouns and first names
    for i, m in enumerate(words):
        w = m.group()
        low = w.lower().replace("’", "'")
        if low == "her":
            new, gender = resolve_her(*_context(text, words, i)), "female"
        elif low == "his":
            new, gender = resolve_his(*_context(text, words, i)), "male"
        elif low in table:
            new, gender = table[low]
        elif w in name_swap:
            new, gender = name_swap[w]
            edits.append(Edit(m.start(), m.end(), w, new))
            votes += 1 if gender == "male" else -1
            continue
        else:
            continue
        edits.append(Edit(m.start(), m.end(), w, _match_case(w, new)))
        if low in _PRONOUNS:
            votes += 1 if gender == "male" else -1
    return edits, int(np.sign(votes))


def swap_gender(text: str, *, names: bool = True) -> str:
    """``text`` with gendered words swapped, grammar and case kept.

    Pronouns (he/she, him/her, his/her/hers, himself/herself), titles (Mr/Ms, sir/madam; Mrs and ma'am map
    one way), kinship and role nouns from a declared lexicon (``causaltrust.text._lexicon``), and with
    ``names=True`` the shipped first names (each to the name of the other gender at the same rank in the same
    ethnicity list). "her" becomes "his" or "him" by the rule of
    :func:`~causaltrust.text._lexicon.resolve_her` (accuracy on Winogender and WinoBias:
    :func:`gender_swap_accuracy`, numbers in ``benchmarks/RESULTS.md``).

    Examples
    --------
    >>> import causaltrust as ct
    >>> ct.text.swap_gender("He told his sister.")
    'She told her brother.'
    >>> ct.text.swap_gender("She asked her boss to thank her.")
    'He asked his boss to thank him.'
    """
    if not isinstance(text, str):
        raise DataError(f"swap_gender: text must be a string, got {type(text).__name__}")
    edits, _ = _gender_edits(text, names)
    return _rebuild(text, edits)


def neutralize_gender(text: str) -> str:
    """``text`` with gendered words replaced by neutral ones (he/she → they, wife → spouse, ...) and first
    names by ``PERSON`` placeholders (see :func:`replace_entities`). Verb agreement is not fixed ("they is").

    Examples
    --------
    >>> import causaltrust as ct
    >>> ct.text.neutralize_gender("She thanked her husband.")
    'They thanked their spouse.'
    """
    words = _words(text)
    edits = []
    table = _gender_table()
    for i, m in enumerate(words):
        w = m.group()
        low = w.lower()
        if low in ("her", "his"):
            obj = (resolve_her if low == "her" else resolve_his)(*_context(text, words, i)) in ("him", "hers")
            new = ("them" if low == "her" else "theirs") if obj else "their"
            edits.append(Edit(m.start(), m.end(), w, _match_case(w, new)))
        elif low in NEUTRAL:
            edits.append(Edit(m.start(), m.end(), w, _match_case(w, NEUTRAL[low])))
        elif low in table:  # a gendered word without a neutral form: the male one stands for both
            male = low if table[low][1] == "male" else table[low][0]
            edits.append(Edit(m.start(), m.end(), w, _match_case(w, male)))
    return replace_entities(_rebuild(text, edits))


def substitute_names(text: str, *, ethnicity: str | None = None, gender: str | None = None) -> str:
    """``text`` with each shipped first name replaced by the name at the same rank of another list.

    Names come from BBQ's lists (10 per gender × ethnicity, :func:`load_first_names`; 9 for Asian names,
    see :func:`name_pairs`). ``ethnicity`` (e.g.
    ``"White"``) and/or ``gender`` (``"F"`` or ``"M"``) pick the target list; what is not given stays the
    name's own.

    Examples
    --------
    >>> import causaltrust as ct
    >>> ct.text.substitute_names("Jamal met Ebony.", ethnicity="White")
    'Matthew met Kathleen.'
    """
    return _rebuild(text, _name_edits(text, ethnicity, gender))


def _name_edits(text: str, ethnicity: str | None, gender: str | None) -> list[Edit]:
    df = _names()
    groups = sorted(df["ethnicity"].unique())
    if ethnicity is not None and ethnicity not in groups:
        raise DataError(f"unknown ethnicity {ethnicity!r}; the name lists have {', '.join(groups)}")
    if gender not in (None, "F", "M"):
        raise DataError(f"gender must be 'F', 'M' or None, got {gender!r}")
    lists: dict[tuple[str, str], list[str]] = {}
    info: dict[str, tuple[str, str, int]] = {}
    for g, e, r, n in df[["gender", "ethnicity", "rank", "name"]].values:
        lists.setdefault((str(g), str(e)), []).append(str(n))
        info[str(n)] = (str(g), str(e), int(r))
    edits = []
    for m in _words(text):
        w = m.group()
        if w not in info:
            continue
        g0, e0, rank = info[w]
        target = lists[(gender or g0, ethnicity or e0)]
        tgt = target[rank % len(target)]  # lists differ in length by one at most
        if tgt != w:
            edits.append(Edit(m.start(), m.end(), w, str(tgt)))
    return edits


_TITLES = frozenset({"mr", "mrs", "ms", "dr", "prof", "mx", "sir", "madam"})
_SENTENCE_END = re.compile(r"(^|[.!?:;]\s*|[\"'“(]\s*)$")


def _entity_edits(text: str) -> list[Edit]:
    words = _words(text)
    first = set(_names()["name"])
    persons: dict[str, str] = {}
    others: dict[str, str] = {}
    edits: list[Edit] = []
    i = 0
    while i < len(words):
        w = words[i].group()
        cap = w[:1].isupper() and w != "I"
        starts_sentence = bool(_SENTENCE_END.search(text[: words[i].start()]))
        j = i
        kind = None
        if w.lower() in _TITLES and i + 1 < len(words) and words[i + 1].group()[:1].isupper():
            kind, j = "PERSON", i + 1  # "Dr. Smith": the title goes with the name
            key = words[i + 1].group()
        elif w in first:
            kind, key = "PERSON", w
        elif cap and not starts_sentence and w.lower() not in _gender_table():
            kind, key = "ENTITY", w
        if kind is None:
            i += 1
            continue
        # A capitalised word right after (one space) continues the name: "Maria Lopez", "New York City".
        while j + 1 < len(words) and words[j + 1].group()[:1].isupper():
            gap = text[words[j].end() : words[j + 1].start()]
            if gap != " " or words[j + 1].group() == "I":
                break
            j += 1
            if kind == "ENTITY":
                key = text[words[i].start() : words[j].end()]
        book = persons if kind == "PERSON" else others
        if key not in book:
            book[key] = f"{kind}_{len(book) + 1}"
        edits.append(
            Edit(words[i].start(), words[j].end(), text[words[i].start() : words[j].end()], book[key])
        )
        i = j + 1
    return edits


def replace_entities(text: str) -> str:
    """``text`` with named entities replaced by consistent placeholders (``PERSON_1``, ``ENTITY_1``, ...).

    People: a shipped first name (with a capitalised surname after it) or a title and a name ("Dr. Lee"),
    keyed by the first name (or the name after the title), so "Maria Lopez ... Maria" is one person. Other
    entities: runs of capitalised words that do not start a sentence ("New York"), keyed by the run. The same
    key gets the same placeholder within a text; numbering restarts for each text. This is a lexical
    detector, not an NER model: a capitalised entity at the start of a sentence is missed unless it is a
    known first name.

    Examples
    --------
    >>> import causaltrust as ct
    >>> ct.text.replace_entities("Jamal Brown met Susan in Paris. Jamal left.")
    'PERSON_1 met PERSON_2 in ENTITY_1. PERSON_1 left.'
    """
    return _rebuild(text, _entity_edits(text))


def _swap_edits(text: str, mapping: Mapping[str, str]) -> list[Edit]:
    lower = {k.lower(): v for k, v in mapping.items()}
    edits = []
    for m in _words(text):
        w = m.group()
        if w.lower() in lower:
            edits.append(Edit(m.start(), m.end(), w, _match_case(w, lower[w.lower()])))
    return edits


def swap_words(text: str, mapping: Mapping[str, str]) -> str:
    """``text`` with each whole word in ``mapping`` (case-insensitive keys) replaced, case kept.

    Examples
    --------
    >>> import causaltrust as ct
    >>> ct.text.swap_words("Expert in Python.", {"expert": "novice"})
    'Novice in Python.'
    """
    return _rebuild(text, _swap_edits(text, mapping))


InterventionLike = str | Mapping[str, str] | Callable[[str], str]


def _named(name: str) -> Callable[[str], tuple[list[Edit], int]]:
    if name == "gender":
        return lambda t: _gender_edits(t, True)
    if name == "gender_words":
        return lambda t: _gender_edits(t, False)
    if name == "entity":
        return lambda t: (_entity_edits(t), 0)
    if name.startswith("names:"):
        target = name.split(":", 1)[1]
        eth, _, gen = target.partition("/")
        return lambda t: (_name_edits(t, eth or None, gen or None), 0)
    if name in _EXTRA:
        mapping = _EXTRA[name]
        return lambda t: (_swap_edits(t, mapping), 0)
    known = ", ".join([*INTERVENTIONS, *sorted(_EXTRA)])
    raise DataError(
        f"unknown intervention {name!r}; use one of {known}, 'names:<ethnicity>[/<F|M>]', a dict of word "
        "swaps, or a function text -> text"
    )


INTERVENTIONS = ("gender", "gender_words", "entity")

# Word-swap interventions that other modules register by name (e.g. the biography benchmark's "skill").
_EXTRA: dict[str, Mapping[str, str]] = {}


def register_word_swap(name: str, mapping: Mapping[str, str]) -> None:
    """Make ``mapping`` available as ``intervention=name`` (used by the built-in benchmark)."""
    _EXTRA[name] = dict(mapping)


def apply_intervention(intervention: InterventionLike, texts: Iterable[str]) -> list[Intervened]:
    """Each text under ``intervention`` (see :func:`counterfactual_pairs`)."""
    items = _as_texts(texts, "texts")
    if isinstance(intervention, str):
        fn = _named(intervention)
        out = []
        for t in items:
            edits, direction = fn(t)
            out.append(Intervened(t, _rebuild(t, edits), tuple(edits), direction))
        return out
    if isinstance(intervention, Mapping):
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in intervention.items()):
            raise DataError("a word-swap intervention must map strings to strings, e.g. {'expert': 'novice'}")
        return [Intervened(t, _rebuild(t, e := _swap_edits(t, intervention)), tuple(e), 0) for t in items]
    if callable(intervention):
        out = []
        for t in items:
            cf = intervention(t)
            if not isinstance(cf, str):
                raise DataError(f"the intervention function returned {type(cf).__name__}, expected a string")
            out.append(Intervened(t, cf, (Edit(0, len(t), t, cf),) if cf != t else (), 0))
        return out
    raise DataError(
        f"intervention must be a name, a dict of word swaps or a function, got {type(intervention).__name__}"
    )


def counterfactual_pairs(texts: Iterable[str], intervention: InterventionLike = "gender") -> pd.DataFrame:
    """A DataFrame of texts, their counterfactuals and the intervened spans.

    Parameters
    ----------
    texts : list of str
    intervention : str, dict or callable
        ``"gender"`` (words and first names), ``"gender_words"`` (words only), ``"entity"`` (placeholders),
        ``"names:<ethnicity>"`` or ``"names:<ethnicity>/<F|M>"`` (first-name substitution), a registered
        word-swap name (``"skill"`` of the biography benchmark), a dict of word swaps, or a function
        ``text -> text``.

    Returns
    -------
    DataFrame
        Columns ``text``, ``counterfactual``, ``changed``, ``spans`` (list of ``(start, end, before, after)``
        in the original text) and ``direction`` (+1 male → female, -1 female → male, 0 otherwise).

    Examples
    --------
    >>> import causaltrust as ct
    >>> df = ct.text.counterfactual_pairs(["He is a nurse.", "The sky is blue."])
    >>> df[["counterfactual", "changed", "direction"]].values.tolist()
    [['She is a nurse.', True, 1], ['The sky is blue.', False, 0]]
    """
    rows = apply_intervention(intervention, texts)
    return pd.DataFrame(
        {
            "text": [r.text for r in rows],
            "counterfactual": [r.counterfactual for r in rows],
            "changed": [r.changed for r in rows],
            "spans": [[(e.start, e.end, e.before, e.after) for e in r.edits] for r in rows],
            "direction": [r.direction for r in rows],
        }
    )


def gender_swap_accuracy() -> pd.DataFrame:
    """Each reference gender swap of Winogender and WinoBias, and whether :func:`swap_gender` reproduces it.

    Winogender: every female sentence against the male sentence of the same template and participant (and
    back). WinoBias: each pro-stereotyped test sentence against the anti-stereotyped one with the same type
    and id (and back), where the two differ only in pronouns (1,564 of 1,584 directions). Columns:
    ``source``, ``sentence``, ``expected``, ``swapped``, ``correct`` (the whole sentence matches),
    ``n_her`` (how many "her" the sentence has: the case the rule decides) and ``her_correct`` (each "her"
    became the expected word; NaN without one). Whole-sentence misses also count the references' own slips
    (WinoBias keeps "mom" in "his mom", and has "she is a very generous man").

    Examples
    --------
    >>> import causaltrust as ct
    >>> acc = ct.text.gender_swap_accuracy()
    >>> acc.groupby("source")["correct"].mean().round(3).to_dict()  # doctest: +SKIP
    """
    from causaltrust.text._data import load_winobias, load_winogender

    rows: list[tuple[str, str, str]] = []
    wg = load_winogender()
    key = ["occupation", "participant", "answer"]
    both = wg[wg.gender == "male"].merge(wg[wg.gender == "female"], on=key, suffixes=("_m", "_f"))
    for m, f in zip(both["sentence_m"], both["sentence_f"], strict=True):
        rows += [("winogender", m, f), ("winogender", f, m)]
    wb = load_winobias()
    pairs = wb[wb.stereotype == "pro"].merge(wb[wb.stereotype == "anti"], on=["type", "id"])
    for a, b in zip(pairs["sentence_x"], pairs["sentence_y"], strict=True):
        xs, ys = a.split(), b.split()
        if len(xs) == len(ys) and all(
            u == v or re.sub(r"\W", "", u.lower()) in _PRONOUNS for u, v in zip(xs, ys, strict=True)
        ):
            rows += [("winobias", a, b), ("winobias", b, a)]
    df = pd.DataFrame(rows, columns=["source", "sentence", "expected"])
    df["swapped"] = [swap_gender(s) for s in df["sentence"]]
    df["correct"] = df["swapped"] == df["expected"]
    n_her, her_ok = [], []
    for s, e, w in zip(df["sentence"], df["expected"], df["swapped"], strict=True):
        # Same word positions in all three (only words change); compare the words that were "her".
        sw, ew, ww = (_WORD.findall(x) for x in (s, e, w))
        idx = [i for i, t in enumerate(sw) if t.lower() == "her"]
        n_her.append(len(idx))
        aligned = len(sw) == len(ew) == len(ww)
        her_ok.append(float(all(ww[i] == ew[i] for i in idx)) if idx and aligned else float("nan"))
    df["n_her"] = n_her
    df["her_correct"] = her_ok
    return df
