"""Datasets shipped with causaltrust, offline: real tables with literature graphs, and bnlearn networks.

>>> import causaltrust as ct
>>> ct.datasets.load_sachs().shape
(7466, 11)
"""

from causaltrust.datasets._bnlearn import BNLEARN_NETWORKS, BayesianNetwork, load_bnlearn, parse_bif
from causaltrust.datasets._sachs import SACHS_PGMPY_NAMES, load_sachs, sachs_graph

__all__ = [
    "BNLEARN_NETWORKS",
    "SACHS_PGMPY_NAMES",
    "BayesianNetwork",
    "load_bnlearn",
    "load_sachs",
    "parse_bif",
    "sachs_graph",
]
