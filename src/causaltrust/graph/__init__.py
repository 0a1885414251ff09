"""Causal graphs with roles for their paths (unfair / fair, spurious / contextual) and nodes."""

from causaltrust.graph._graph import PREDICTION, CausalGraph, PathRole

__all__ = ["PREDICTION", "CausalGraph", "PathRole"]
