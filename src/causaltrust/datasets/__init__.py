"""Datasets shipped with causaltrust, offline: real tables with literature graphs, and bnlearn networks.

``load_adult``, ``load_compas`` and ``load_german`` return clean DataFrames from extracts shipped in the
package (source, licence, row counts and preprocessing in ``datasets/data/PROVENANCE.md``);
``load_law_school``, ``load_berkeley`` and ``load_ricci`` give the classic causal-fairness tables (Kusner et
al. 2017; Bickel et al. 1975; Ricci v. DeStefano). ``spec(name)`` returns a dataset's causal graph as a
structure-only spec and ``load(name)`` its rows.
``load_sachs`` and ``load_bnlearn`` give ground-truth graphs for discovery benchmarks.

>>> import causaltrust as ct
>>> spec, df = ct.datasets.spec("german"), ct.datasets.load("german")
>>> scm = ct.SCM.fit(spec, df, mechanisms="linear", random_state=0)
>>> ct.datasets.load_sachs().shape
(7466, 11)
"""

from causaltrust.datasets._bnlearn import BNLEARN_NETWORKS, BayesianNetwork, load_bnlearn, parse_bif
from causaltrust.datasets._classic import load_berkeley, load_law_school, load_ricci
from causaltrust.datasets._sachs import SACHS_PGMPY_NAMES, load_sachs, sachs_graph
from causaltrust.datasets._specs import available, load, spec, spec_path
from causaltrust.datasets._tabular import load_adult, load_compas, load_german

__all__ = [
    "BNLEARN_NETWORKS",
    "SACHS_PGMPY_NAMES",
    "BayesianNetwork",
    "available",
    "load",
    "load_adult",
    "load_berkeley",
    "load_bnlearn",
    "load_compas",
    "load_german",
    "load_law_school",
    "load_ricci",
    "load_sachs",
    "parse_bif",
    "sachs_graph",
    "spec",
    "spec_path",
]
