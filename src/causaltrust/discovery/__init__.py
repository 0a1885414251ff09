"""Causal discovery with background knowledge (wrapping causal-learn), edge stability and spec skeletons.

>>> import numpy as np, pandas as pd, causaltrust as ct
>>> rng = np.random.default_rng(0)
>>> a = rng.normal(size=2_000); y = a + rng.normal(size=2_000)
>>> ct.discover(pd.DataFrame({"a": a, "y": y}), background={"tiers": [["a"], ["y"]]}).directed_edges()
[('a', 'y')]
"""

from causaltrust.discovery._background import Background
from causaltrust.discovery._discover import DISCOVERY_METHODS, discover
from causaltrust.discovery._metrics import compare_graphs
from causaltrust.discovery._result import DiscoveredEdge, DiscoveryResult

__all__ = [
    "DISCOVERY_METHODS",
    "Background",
    "DiscoveredEdge",
    "DiscoveryResult",
    "compare_graphs",
    "discover",
]
