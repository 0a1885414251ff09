"""Decompose a disparity already in the data into direct, indirect and spurious parts (Plečko–Bareinboim).

>>> import causaltrust as ct
>>> spec, scm = ct.scenarios.load("readmission")
>>> df = scm.sample(2_000, random_state=0).drop(columns="L")
>>> dec = ct.decompose_disparity(spec, data=df, outcome="Y", learner="linear")
>>> sorted(dec.to_frame().term)
['de', 'ie', 'se', 'tv']
"""

from causaltrust.decompose._api import decompose_disparity
from causaltrust.decompose._result import DisparityDecomposition, Estimate, LevelDecomposition

__all__ = ["DisparityDecomposition", "Estimate", "LevelDecomposition", "decompose_disparity"]
