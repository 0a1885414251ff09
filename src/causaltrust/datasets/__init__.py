"""Real datasets, offline: tabular fairness data with literature causal graphs.

``load_adult``, ``load_compas`` and ``load_german`` return clean DataFrames from extracts shipped in the
package (source, licence, row counts and preprocessing in ``datasets/data/PROVENANCE.md``);
``spec(name)`` returns a dataset's causal graph as a structure-only spec and ``load(name)`` its rows.

>>> import causaltrust as ct
>>> spec, df = ct.datasets.spec("german"), ct.datasets.load("german")
>>> scm = ct.SCM.fit(spec, df, mechanisms="linear", random_state=0)
"""

from causaltrust.datasets._specs import available, load, spec, spec_path
from causaltrust.datasets._tabular import load_adult, load_compas, load_german

__all__ = [
    "available",
    "load",
    "load_adult",
    "load_compas",
    "load_german",
    "spec",
    "spec_path",
]
