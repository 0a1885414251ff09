"""A text benchmark the library generates: short biographies whose label depends on skill words.

Each biography has three skill slots; each slot holds a strong word (``expert``, ``excellent``, ...) or its
weak partner (``novice``, ``mediocre``, ...) with probability 1/2. With ``s`` strong words the label is
drawn with P(qualified | s) = (0.1, 0.3, 0.7, 0.9)[s]: the label is caused by the skill words (Bayes
accuracy 0.75), so swapping strong and weak words (the ``"skill"`` intervention) is a *relevant* change.
Gender (name, pronouns, partner) is drawn *after* the label: in training P(male | qualified) = ``bias`` and
P(male | not qualified) = 1 − ``bias`` (a spurious correlation), at test it is independent of the label. A
model that reads gender gains training accuracy and loses it at test, and its output moves when the gender
of a biography is swapped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from causaltrust.exceptions import DataError
from causaltrust.text._data import load_first_names
from causaltrust.text._interventions import register_word_swap

__all__ = ["P_QUALIFIED", "SKILL_SWAP", "load_biographies", "make_biographies"]

_STRONG = (
    "expert",
    "excellent",
    "accomplished",
    "outstanding",
    "exceptional",
    "skilled",
    "brilliant",
    "proficient",
)
_WEAK = (
    "novice",
    "mediocre",
    "inexperienced",
    "unremarkable",
    "ordinary",
    "unskilled",
    "clumsy",
    "struggling",
)
SKILL_SWAP: dict[str, str] = {
    **dict(zip(_STRONG, _WEAK, strict=True)),
    **dict(zip(_WEAK, _STRONG, strict=True)),
}
P_QUALIFIED = (0.1, 0.3, 0.7, 0.9)

register_word_swap("skill", SKILL_SWAP)

_OCCUPATIONS = (
    "engineer", "analyst", "accountant", "developer", "designer", "researcher", "consultant", "architect",
    "pharmacist", "chemist", "statistician", "auditor",
)  # fmt: skip
_TASKS = ("data analysis", "project planning", "writing reports", "client meetings", "debugging", "budgeting")
_TOOLS = ("Python", "spreadsheets", "statistics", "databases", "modelling software", "cloud tools")
_CITIES = ("Denver", "Boston", "Austin", "Seattle", "Chicago", "Atlanta")
_TEMPLATES = (
    "{name} is {art} {occ} with {years} years of experience. {He} is {s0} at {task} and {s1} with {tool}. "
    "Colleagues describe {him} as {s2}. {He} lives in {city} with {his} {partner}.",
    "{name} works as {art} {occ}. {His} manager says {he} is {s0} at {task}; {he} is {s1} with {tool} and "
    "{s2} overall. {He} has {years} years of experience and a {kid} in school.",
    "Meet {name}, {art} {occ} from {city}. {He} is {s0} at {task}, {s1} with {tool}, and {his} last review "
    "rated {him} as {s2}. {His} {partner} works in the same field.",
)


def make_biographies(n: int = 1000, *, bias: float = 0.8, random_state: int = 0) -> pd.DataFrame:
    """``n`` generated biographies with a label caused by their skill words.

    Parameters
    ----------
    n : int
        Number of biographies.
    bias : float
        P(male | qualified) = P(female | not qualified) = ``bias``; 0.5 makes gender independent of the
        label (the test distribution).
    random_state : int
        Seed; the same seed gives the same texts.

    Returns
    -------
    DataFrame
        ``text``, ``label`` (1 qualified), ``gender`` ("M"/"F"), ``ethnicity``, ``name``, ``n_strong``
        (strong skill words, 0-3), ``p_qualified`` (the true P(label = 1 | text)) and ``template``.

    Examples
    --------
    >>> import causaltrust as ct
    >>> bios = ct.text.make_biographies(4, random_state=0)
    >>> bios.columns.tolist()[:3]
    ['text', 'label', 'gender']
    """
    if not isinstance(n, int | np.integer) or n < 1:
        raise DataError(f"make_biographies: n must be a positive integer, got {n!r}")
    if not 0.0 <= bias <= 1.0:
        raise DataError(f"make_biographies: bias must be in [0, 1], got {bias!r}")
    rng = np.random.default_rng(random_state)
    names = load_first_names()
    ethnicities = sorted(names["ethnicity"].unique())
    strong = rng.random((n, 3)) < 0.5
    n_strong = strong.sum(axis=1)
    p = np.asarray(P_QUALIFIED)[n_strong]
    label = (rng.random(n) < p).astype(np.int64)
    male = rng.random(n) < np.where(label == 1, bias, 1.0 - bias)
    eth_idx = rng.integers(0, len(ethnicities), n)
    name_rank = rng.integers(0, 10, n)
    word_idx = rng.integers(0, len(_STRONG), (n, 3))
    occ = rng.integers(0, len(_OCCUPATIONS), n)
    task = rng.integers(0, len(_TASKS), n)
    tool = rng.integers(0, len(_TOOLS), n)
    city = rng.integers(0, len(_CITIES), n)
    years = rng.integers(2, 25, n)
    tpl = rng.integers(0, len(_TEMPLATES), n)
    by_group = {k: list(g["name"]) for k, g in names.groupby(["gender", "ethnicity"])}
    texts, name_col, eth_col = [], [], []
    for i in range(n):
        g = "M" if male[i] else "F"
        eth = ethnicities[eth_idx[i]]
        name = by_group[(g, eth)][name_rank[i]]
        words = [(_STRONG if strong[i, k] else _WEAK)[word_idx[i, k]] for k in range(3)]
        occupation = _OCCUPATIONS[occ[i]]
        he, him, his = ("he", "him", "his") if male[i] else ("she", "her", "her")
        text = _TEMPLATES[tpl[i]].format(
            name=name, art="an" if occupation[0] in "aeiou" else "a", occ=occupation, years=years[i],
            s0=words[0], s1=words[1], s2=words[2], task=_TASKS[task[i]], tool=_TOOLS[tool[i]],
            city=_CITIES[city[i]], He=he.capitalize(), he=he, him=him, His=his.capitalize(), his=his,
            partner="wife" if male[i] else "husband", kid="son" if rng.random() < 0.5 else "daughter",
        )  # fmt: skip
        texts.append(text)
        name_col.append(name)
        eth_col.append(eth)
    return pd.DataFrame(
        {
            "text": texts,
            "label": label,
            "gender": np.where(male, "M", "F"),
            "ethnicity": eth_col,
            "name": name_col,
            "n_strong": n_strong,
            "p_qualified": p,
            "template": tpl,
        }
    )


def load_biographies(
    n_train: int = 2000, n_test: int = 1000, *, bias: float = 0.8, random_state: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The built-in text benchmark: a biased training set and a test set where gender is independent.

    The two sets come from independent streams derived from ``random_state``.

    Examples
    --------
    >>> import causaltrust as ct
    >>> train, test = ct.text.load_biographies(200, 100, random_state=0)
    >>> len(train), len(test)
    (200, 100)
    """
    seeds = np.random.SeedSequence(random_state).spawn(2)
    train = make_biographies(n_train, bias=bias, random_state=int(seeds[0].generate_state(1)[0]))
    test = make_biographies(n_test, bias=0.5, random_state=int(seeds[1].generate_state(1)[0]))
    return train, test
