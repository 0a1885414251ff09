"""The Sachs et al. (2005) protein-signalling data and its two consensus graphs.

Data: cdt 0.6.0's ``cyto_full_data.csv`` (7,466 rows x 11 proteins, pooled over all experimental conditions,
shipped unchanged as gzip CSV). Graphs: cdt's 18-edge consensus (``cyto_full_target.csv``) and the 17-edge
bnlearn/pgmpy network (``sachs.bif.gz``), with the latter's node names mapped to the data's column names. They
share 15 adjacencies. Sources and licences: ``data/LICENSES.md``.

>>> import causaltrust as ct
>>> ct.datasets.load_sachs().shape
(7466, 11)
>>> len(ct.datasets.sachs_graph("cdt")), len(ct.datasets.sachs_graph("pgmpy"))
(18, 17)
"""

from __future__ import annotations

import io
from importlib import resources

import pandas as pd

from causaltrust.datasets._bnlearn import load_bnlearn
from causaltrust.exceptions import DataError

__all__ = ["SACHS_PGMPY_NAMES", "load_sachs", "sachs_graph"]

# pgmpy/bnlearn node name -> cdt column name (the names Sachs et al. used for the measured proteins).
SACHS_PGMPY_NAMES: dict[str, str] = {
    "Raf": "praf",
    "Mek": "pmek",
    "Plcg": "plcg",
    "PIP2": "PIP2",
    "PIP3": "PIP3",
    "Erk": "p44/42",
    "Akt": "pakts473",
    "PKA": "PKA",
    "PKC": "PKC",
    "P38": "P38",
    "Jnk": "pjnk",
}


def _read(name: str) -> pd.DataFrame:
    path = resources.files("causaltrust.datasets").joinpath("data", name)
    return pd.read_csv(io.BytesIO(path.read_bytes()), compression="gzip")


def load_sachs() -> pd.DataFrame:
    """The pooled Sachs flow-cytometry data: 7,466 rows x 11 float64 protein columns, offline.

    No preprocessing (no log transform, no filtering); the rows pool every experimental condition, so
    interventions are mixed in without a label.

    Returns
    -------
    pandas.DataFrame
        Columns ``praf, pmek, plcg, PIP2, PIP3, p44/42, pakts473, PKA, PKC, P38, pjnk``.

    Examples
    --------
    >>> import causaltrust as ct
    >>> list(ct.datasets.load_sachs().columns[:3])
    ['praf', 'pmek', 'plcg']
    """
    df = _read("sachs_cdt_data.csv.gz").astype("float64")
    if df.shape != (7466, 11):
        raise DataError(f"the shipped Sachs file has shape {df.shape}, expected (7466, 11): reinstall")
    return df


def sachs_graph(source: str = "cdt") -> list[tuple[str, str]]:
    """A consensus graph of the Sachs network as directed edges over :func:`load_sachs`'s column names.

    Parameters
    ----------
    source : {"cdt", "pgmpy"}
        ``"cdt"``: the 18 edges cdt ships; ``"pgmpy"``: the 17 edges of bnlearn's ``sachs`` network.

    Returns
    -------
    list of (cause, effect)

    Examples
    --------
    >>> import causaltrust as ct
    >>> ("PKA", "praf") in ct.datasets.sachs_graph("cdt")
    True
    """
    if source == "cdt":
        target = _read("sachs_cdt_target.csv.gz")
        return [(str(c), str(e)) for c, e in zip(target["Cause"], target["Effect"], strict=True)]
    if source == "pgmpy":
        return [(SACHS_PGMPY_NAMES[u], SACHS_PGMPY_NAMES[v]) for u, v in load_bnlearn("sachs").edges()]
    raise DataError(f"unknown Sachs graph source {source!r}; expected 'cdt' or 'pgmpy'")
