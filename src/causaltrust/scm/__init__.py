"""Structural causal models: simulate, intervene, fit to data, counterfactuals and path-specific effects."""

from causaltrust.scm._effects import Effect, EffectDecomposition, decompose_effects, path_effect, path_effects
from causaltrust.scm._mechanisms import Mechanism, Noise
from causaltrust.scm._model import SCM
from causaltrust.scm._persist import load_model

__all__ = [
    "SCM",
    "Effect",
    "EffectDecomposition",
    "Mechanism",
    "Noise",
    "decompose_effects",
    "load_model",
    "path_effect",
    "path_effects",
]
