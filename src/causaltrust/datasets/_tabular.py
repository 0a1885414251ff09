"""Loaders of the tabular fairness datasets shipped with the package (Adult, COMPAS, German credit).

Each reads a small Parquet extract under ``datasets/data/`` (built by ``causaltrust.datasets._build`` from
the raw files; source, licence and every preprocessing step are in ``datasets/data/PROVENANCE.md``). No
network access, ever.
"""

from __future__ import annotations

from importlib import resources
from typing import Literal

import pandas as pd

from causaltrust.exceptions import DataError

__all__ = ["data_path", "load_adult", "load_compas", "load_german"]


def data_path(filename: str) -> str:
    """Filesystem path of a file shipped in ``causaltrust/datasets/data/``."""
    path = resources.files(__package__).joinpath("data", filename)
    if not path.is_file():
        raise DataError(
            f"dataset file {filename!r} is missing from the installed package ({path}); reinstall "
            "causaltrust (the data files are package data)"
        )
    return str(path)


def _read(name: str) -> pd.DataFrame:
    return pd.read_parquet(data_path(f"{name}.parquet"), engine="pyarrow")


def load_adult(*, missing: Literal["drop", "keep"] = "drop") -> pd.DataFrame:
    """The UCI Adult census income data: ``adult.data`` and ``adult.test`` in one frame.

    Parameters
    ----------
    missing : {"drop", "keep"}, default "drop"
        The raw files write a missing ``workclass``, ``occupation`` or ``native_country`` as ``?``.
        ``"drop"`` removes those rows (45,222 rows remain: 30,162 train + 15,060 test); ``"keep"`` returns
        all 48,842 with the missing entries as NaN.

    Returns
    -------
    DataFrame
        Columns ``age, workclass, fnlwgt, education, education_num, marital_status, occupation,
        relationship, race, sex, capital_gain, capital_loss, hours_per_week, native_country`` (numbers as
        int64, the rest strings), ``income`` (int64, 1 = more than 50K a year; the test file's trailing
        ``.`` on labels removed) and ``split`` (``"train"`` for adult.data, ``"test"`` for adult.test).

    Examples
    --------
    >>> import causaltrust as ct
    >>> df = ct.datasets.load_adult()
    >>> df.shape, int(df["income"].sum())
    ((45222, 16), 11208)
    """
    if missing not in ("drop", "keep"):
        raise DataError(f"load_adult: missing must be 'drop' or 'keep', got {missing!r}")
    df = _read("adult")
    if missing == "drop":
        df = df.dropna().reset_index(drop=True)
    return df


def load_compas(*, propublica_filter: bool = True) -> pd.DataFrame:
    """ProPublica's COMPAS two-year recidivism data (Broward County, Florida, 2013-2014).

    Parameters
    ----------
    propublica_filter : bool, default True
        Apply ProPublica's screening filter (their ``Compas Analysis`` notebook): keep rows with
        ``days_b_screening_arrest`` within ±30 days, ``is_recid != -1``, ``c_charge_degree != "O"`` and a
        score (``score_text`` not ``"N/A"``): 6,172 rows. ``False`` returns all 7,214.

    Returns
    -------
    DataFrame
        ProPublica's column names (``sex, age, age_cat, race, juv_fel_count, juv_misd_count,
        juv_other_count, priors_count, c_charge_degree, decile_score, score_text, is_recid,
        two_year_recid``, ...); 43 columns: counts and flags int64, the day counts that can be missing
        nullable ``Int64``, dates ``datetime64``, the rest strings. Names, dates of birth, case numbers,
        the two duplicated columns and the empty ``violent_recid`` are not shipped.

    Examples
    --------
    >>> import causaltrust as ct
    >>> df = ct.datasets.load_compas()
    >>> df.shape, round(float(df["two_year_recid"].mean()), 3)
    ((6172, 43), 0.455)
    """
    if not isinstance(propublica_filter, bool):
        raise DataError(f"load_compas: propublica_filter must be True or False, got {propublica_filter!r}")
    df = _read("compas")
    if propublica_filter:
        days = df["days_b_screening_arrest"]
        keep = (
            days.between(-30, 30).fillna(False).astype(bool)
            & (df["is_recid"] != -1)
            & (df["c_charge_degree"] != "O")
            & df["score_text"].notna()
            & (df["score_text"] != "N/A")
        )
        df = df[keep].reset_index(drop=True)
    return df


def load_german() -> pd.DataFrame:
    """The Statlog German credit data (UCI; Hofmann 1994), codes mapped to readable categories.

    Returns
    -------
    DataFrame
        1,000 rows, 22 columns: ``checking_account, credit_history, purpose, savings, employment_since,
        sex, personal_status, other_debtors, property, other_installment_plans, housing, job`` (strings, the
        UCI documentation's wording), ``duration, credit_amount, installment_rate, residence_since, age,
        existing_credits, people_liable`` (int64), ``telephone, foreign_worker`` (int64 0/1) and ``credit``
        (int64, 1 = good risk, 0 = bad). The raw personal-status code is split into ``sex`` and
        ``personal_status``.

    Examples
    --------
    >>> import causaltrust as ct
    >>> df = ct.datasets.load_german()
    >>> df.shape, int(df["credit"].sum()), int((df["sex"] == "female").sum())
    ((1000, 22), 700, 310)
    """
    return _read("german")
