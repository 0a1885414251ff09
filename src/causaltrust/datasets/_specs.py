"""Literature causal graphs for the shipped datasets, as structure-only trust specs, and their rows.

``spec(name)`` returns the graph (types, parents, roles, categories; no equations), to be fitted with
:meth:`causaltrust.SCM.fit`; ``load(name)`` returns the rows that spec describes. The YAML files under
``datasets/data/`` hold each graph with its sources and assumptions in comments and in its description.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from causaltrust.datasets._classic import load_berkeley, load_law_school, load_ricci
from causaltrust.datasets._tabular import data_path, load_adult, load_compas, load_german
from causaltrust.exceptions import DataError, SpecError
from causaltrust.spec import TrustSpec, load_spec

__all__ = ["available", "load", "spec", "spec_path"]


def _compas_frame() -> pd.DataFrame:
    # Nabi & Shpitser (2018) and most causal analyses compare African-American with Caucasian defendants.
    df = load_compas(propublica_filter=True)
    return df[df["race"].isin(["Caucasian", "African-American"])].reset_index(drop=True)


# name -> the rows its spec describes (the spec's YAML is datasets/data/<name>.yaml).
_FRAMES: dict[str, Callable[[], pd.DataFrame]] = {
    "adult": load_adult,
    "adult_nabi": load_adult,
    "berkeley": load_berkeley,
    "compas": _compas_frame,
    "german": load_german,
    "law_school": load_law_school,
    "ricci": load_ricci,
}


def available() -> list[str]:
    """Names accepted by :func:`spec` and :func:`load`.

    Examples
    --------
    >>> import causaltrust as ct
    >>> ct.datasets.available()
    ['adult', 'adult_nabi', 'berkeley', 'compas', 'german', 'law_school', 'ricci']
    """
    return sorted(_FRAMES)


def _check(name: object, what: str) -> str:
    if not isinstance(name, str) or name not in _FRAMES:
        raise (SpecError if what == "spec" else DataError)(
            f"unknown dataset {name!r}; available: {', '.join(available())}"
        )
    return name


def spec_path(name: str) -> str:
    """Path of the YAML spec of dataset ``name`` (copy it to edit the graph or the unfair paths)."""
    return data_path(f"{_check(name, 'spec')}.yaml")


def spec(name: str) -> TrustSpec:
    """The shipped literature graph of a dataset, as a structure-only :class:`~causaltrust.TrustSpec`.

    Parameters
    ----------
    name : {"adult", "adult_nabi", "berkeley", "compas", "german", "law_school", "ricci"}
        ``"compas"`` and ``"adult"``: Plečko & Bareinboim's standard fairness model (protected X,
        confounders Z, mediators W, outcome Y; the bidirected X↔Z written as Z → X). ``"adult_nabi"``:
        Adult after Nabi & Shpitser (2018). ``"german"``: a documented expert graph. ``"law_school"``:
        Kusner et al.'s (2017) level-3 graph (race, sex → UGPA, LSAT, ZFYA; continuous target ZFYA).
        ``"berkeley"``: gender → dept → admitted, gender → admitted. ``"ricci"``: race, position → oral,
        written → passed. Which paths are unfair
        is a normative choice, stated in each spec's description and ``fairness.unfair_paths``.

    Returns
    -------
    TrustSpec
        Types, parents, roles and categories only; fit it with :meth:`causaltrust.SCM.fit` on
        :func:`load` ``(name)``.

    Raises
    ------
    SpecError
        ``name`` is not a shipped dataset (the message lists them).

    Examples
    --------
    >>> import causaltrust as ct
    >>> s = ct.datasets.spec("compas")
    >>> s.target, s.protected, s.unfair_paths()
    ('two_year_recid', 'race', [('race', 'two_year_recid')])
    """
    return load_spec(spec_path(name))


def load(name: str) -> pd.DataFrame:
    """The rows that :func:`spec` ``(name)`` describes (every spec variable is a column; others may follow).

    ``"compas"``: ProPublica's filter, African-American and Caucasian defendants (5,278 rows);
    ``"adult"`` / ``"adult_nabi"``: rows without a missing value (45,222); ``"german"``: all 1,000;
    ``"law_school"``: Kusner's 21,790; ``"berkeley"``: 4,526 applicants; ``"ricci"``: 118 candidates.

    Examples
    --------
    >>> import causaltrust as ct
    >>> len(ct.datasets.load("compas"))
    5278
    """
    return _FRAMES[_check(name, "data")]()
