"""The shipped bias text sets load offline, complete, with their licences beside them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import causaltrust as ct


def test_every_data_folder_carries_a_licence():
    root = Path(ct.text.data_path())
    folders = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith("_")]
    assert {p.name for p in folders} == {
        "winogender",
        "winobias",
        "crows_pairs",
        "genderswaps",
        "names",
        "neutral",
    }
    for folder in folders:
        assert (folder / "LICENSE").is_file(), folder
    sources = (root / "SOURCES.md").read_text(encoding="utf-8")
    for licence in ("MIT", "CC BY-SA 4.0", "CC BY 4.0", "Apache-2.0"):
        assert licence in sources


def test_winogender_pronoun_case_matches_the_sentence():
    wg = ct.text.load_winogender()
    assert len(wg) == 720
    assert wg["template_id"].nunique() == 120
    # Independent check of the template join: the pronoun the sentence actually contains must be the
    # form of its declared case (nom he/she/they, poss his/her/their, acc him/her/them).
    forms = {
        ("nom", "male"): "he", ("nom", "female"): "she", ("nom", "neutral"): "they",
        ("poss", "male"): "his", ("poss", "female"): "her", ("poss", "neutral"): "their",
        ("acc", "male"): "him", ("acc", "female"): "her", ("acc", "neutral"): "them",
    }  # fmt: skip
    for row in wg.itertuples():
        words = re.findall(r"[a-z]+", row.sentence.lower())
        assert forms[(row.pronoun_type, row.gender)] in words, row.sentence


def test_winobias_pairs_and_brackets():
    wb = ct.text.load_winobias()
    assert len(wb) == 4 * 396
    assert not wb["sentence"].str.contains(r"[\[\]]").any()
    assert set(wb["pronoun"].str.lower()) <= {"he", "she", "him", "her", "his", "himself", "herself"}
    assert len(ct.text.load_winobias("anti", 2)) == 396


def test_crows_pairs_and_names():
    assert len(ct.text.load_crows_pairs()) == 1508
    assert len(ct.text.load_crows_pairs("gender")) == 262
    names = ct.text.load_first_names()
    assert names.groupby(["gender", "ethnicity"]).size().eq(10).all()
    assert len(names) == 100


def test_bad_arguments_raise_data_error():
    with pytest.raises(ct.DataError, match="bias_type"):
        ct.text.load_crows_pairs("colour")
    with pytest.raises(ct.DataError, match="stereotype"):
        ct.text.load_winobias("neutral")  # type: ignore[arg-type]
