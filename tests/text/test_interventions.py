"""Text interventions: involutions, untouched tokens, case, placeholders, and the "her" rule's accuracy."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import causaltrust as ct
from causaltrust.text._lexicon import GENDER_PAIRS, ONE_WAY

# Lexicon words with a unique partner ("her" and "his" are decided by context; "him" maps to "her").
UNAMBIGUOUS = [w for pair in GENDER_PAIRS for w in pair if w not in ("him", "her")]
NAMES = [*ct.text.name_pairs()["male"], *ct.text.name_pairs()["female"]]
GENDERED = {w for pair in GENDER_PAIRS for w in pair} | set(ONE_WAY) | {"his", "hers", "her"}
FILLER = ["the", "cat", "sat", "quickly", "engineer", "Paris", "data", "blue", "42", "x"]
SEPARATORS = [" ", ", ", ". ", "; ", " (", ") ", "\n", " - "]


def _raw_pairs() -> set[frozenset[str]]:
    pairs = set()
    for name in ("generalized_swaps.txt", "extra_gendered_words.txt"):
        with open(ct.text.data_path("genderswaps", name), encoding="utf-8") as f:
            for line in f:
                a, b = (x.strip().rstrip(".") for x in line.split("\t"))
                pairs.add(frozenset((a, b)))
    return pairs


# Pairs the lexicon adds or respells on purpose (documented in causaltrust/text/_lexicon.py).
ADDED = {
    ("mr", "ms"), ("sir", "madam"), ("boyfriend", "girlfriend"), ("boyfriends", "girlfriends"),
    ("fiancé", "fiancée"), ("fiancés", "fiancées"), ("grandpa", "grandma"), ("god", "goddess"),
    ("gods", "goddesses"), ("heroes", "heroines"), ("barons", "baronesses"), ("guy", "gal"),
    ("guys", "gals"), ("policemen", "policewomen"), ("priest", "priestess"), ("priests", "priestesses"),
    ("salesman", "saleswoman"), ("salesmen", "saleswomen"), ("congressman", "congresswoman"),
    ("congressmen", "congresswomen"), ("sportsman", "sportswoman"), ("sportsmen", "sportswomen"),
    ("craftsman", "craftswoman"), ("craftsmen", "craftswomen"), ("foreman", "forewoman"),
    ("foremen", "forewomen"), ("schoolboy", "schoolgirl"), ("schoolboys", "schoolgirls"),
}  # fmt: skip


def test_lexicon_pairs_come_from_the_shipped_lists_or_are_declared_additions():
    raw = _raw_pairs()
    undeclared = [p for p in GENDER_PAIRS if frozenset(p) not in raw and p not in ADDED]
    assert undeclared == []
    words = [w for pair in GENDER_PAIRS for w in pair]
    assert len(words) == len(set(words))  # one-to-one: no word has two partners


@pytest.mark.parametrize("word", UNAMBIGUOUS + NAMES)
def test_swap_is_an_involution_on_each_unambiguous_word_in_every_case(word):
    forms = [word, word.capitalize(), word.upper()] if word.islower() else [word]
    for w in forms:
        once = ct.text.swap_gender(w)
        assert once != w
        assert ct.text.swap_gender(once) == w


def test_swap_pairs_and_case_examples():
    assert ct.text.swap_gender("He told his sister.") == "She told her brother."
    assert ct.text.swap_gender("HE IS HER HUSBAND") == "SHE IS HIS WIFE"
    assert ct.text.swap_gender("She asked her boss to thank her.") == "He asked his boss to thank him."
    assert ct.text.swap_gender("The book is hers, not his.") == "The book is his, not hers."
    assert ct.text.swap_gender("Mr. Lee's wife") == "Ms. Lee's husband"
    assert ct.text.swap_gender("Jamal", names=False) == "Jamal"


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(UNAMBIGUOUS + NAMES + FILLER), st.sampled_from(SEPARATORS)),
        min_size=1,
        max_size=25,
    ),
    st.sampled_from(["lower", "title", "upper"]),
)
def test_random_texts_swap_back_and_leave_other_tokens_alone(parts, case):
    def cased(w: str) -> str:
        if w in NAMES:
            return w
        return {"lower": w, "title": w.capitalize(), "upper": w.upper()}[case]

    text = "".join(cased(w) + sep for w, sep in parts)
    swapped = ct.text.swap_gender(text)
    assert ct.text.swap_gender(swapped) == text
    # Outside the lexicon nothing moves: split both on word boundaries and compare the rest token by token.
    a, b = re.split(r"([A-Za-zÀ-ÿ0-9]+)", text), re.split(r"([A-Za-zÀ-ÿ0-9]+)", swapped)
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        if x.lower() not in GENDERED and x not in NAMES:
            assert x == y


def test_her_rule_accuracy_on_winogender_and_winobias():
    acc = ct.text.gender_swap_accuracy()
    by = acc.groupby("source")
    assert by.size().to_dict() == {"winobias": 1564, "winogender": 480}
    her = by["her_correct"].mean()
    # Fixed data, deterministic rule: regression floors at the measured values (1.000 and 0.963).
    assert her["winogender"] == 1.0
    assert her["winobias"] >= 0.96
    assert by["correct"].mean()["winogender"] == 1.0


def test_entity_placeholders_are_consistent_within_a_text():
    text = "Jamal Brown met Susan in New York. Susan thanked Jamal, and Dr. Lee joined them in New York."
    out = ct.text.replace_entities(text)
    assert out == (
        "PERSON_1 met PERSON_2 in ENTITY_1. PERSON_2 thanked PERSON_1, and PERSON_3 joined them in ENTITY_1."
    )
    # Independent check on random orders of known names: same name → same placeholder, different → different.
    names = ["Jamal", "Susan", "Ebony", "Jamal", "Ebony", "Susan", "Jamal"]
    got = re.findall(r"PERSON_\d+", ct.text.replace_entities(" and ".join(names) + "."))
    mapping: dict[str, str] = {}
    for name, ph in zip(names, got, strict=True):
        assert mapping.setdefault(name, ph) == ph
    assert len(set(mapping.values())) == len(set(names))


def test_counterfactual_pairs_spans_rebuild_the_counterfactual():
    texts = ["He thanked his wife.", "Nothing here.", "Ebony met her mother."]
    df = ct.text.counterfactual_pairs(texts)
    assert df["changed"].tolist() == [True, False, True]
    assert df["direction"].tolist() == [1, 0, -1]
    for row in df.itertuples():
        rebuilt, pos = "", 0
        for start, end, before, after in row.spans:
            assert row.text[start:end] == before
            rebuilt += row.text[pos:start] + after
            pos = end
        assert rebuilt + row.text[pos:] == row.counterfactual


def test_names_words_and_functions_as_interventions():
    assert ct.text.substitute_names("Jamal met Ebony.", ethnicity="White") == "Matthew met Kathleen."
    names = ct.text.load_first_names()
    white_f = set(names[(names.gender == "F") & (names.ethnicity == "White")]["name"])
    df = ct.text.counterfactual_pairs(["Jamal met Ebony."], intervention="names:White/F")
    assert set(re.findall(r"[A-Z][a-z]+", df.loc[0, "counterfactual"])) <= white_f
    assert ct.text.swap_words("An Expert.", {"expert": "novice"}) == "An Novice."
    df = ct.text.counterfactual_pairs(["a b"], intervention=lambda t: t.upper())
    assert df.loc[0, "counterfactual"] == "A B"


def test_bad_interventions_raise_data_error():
    with pytest.raises(ct.DataError, match="unknown intervention"):
        ct.text.counterfactual_pairs(["x"], intervention="race")
    with pytest.raises(ct.DataError, match="list of strings"):
        ct.text.counterfactual_pairs("He left.")
    with pytest.raises(ct.DataError, match="ethnicity"):
        ct.text.substitute_names("Jamal", ethnicity="Martian")
