"""Structural causal models: simulate, intervene, fit to data, counterfactuals and path-specific effects."""

from causaltrust.scm._data import check_data
from causaltrust.scm._dp_fit import DPLinearFit, composed_epsilon
from causaltrust.scm._effects import Effect, EffectDecomposition, decompose_effects, path_effect, path_effects
from causaltrust.scm._factor import (
    FactorMechanism,
    factor_latents,
    latent_posterior,
    nuts_reference,
)
from causaltrust.scm._fair_world import fair_world_labels
from causaltrust.scm._fit import FIT_MECHANISMS
from causaltrust.scm._mechanisms import BernoulliMechanism, Mechanism, Noise, PoissonMechanism
from causaltrust.scm._model import SCM, Abduction
from causaltrust.scm._model_file import load_model, save_model
from causaltrust.scm._paths import MultiPathWorld
from causaltrust.scm._persist import MAX_ARCHIVE_BYTES
from causaltrust.scm._reuse import reuse_fits

__all__ = [
    "FIT_MECHANISMS",
    "MAX_ARCHIVE_BYTES",
    "SCM",
    "Abduction",
    "BernoulliMechanism",
    "DPLinearFit",
    "Effect",
    "EffectDecomposition",
    "FactorMechanism",
    "Mechanism",
    "MultiPathWorld",
    "Noise",
    "PoissonMechanism",
    "check_data",
    "composed_epsilon",
    "decompose_effects",
    "factor_latents",
    "fair_world_labels",
    "latent_posterior",
    "load_model",
    "nuts_reference",
    "path_effect",
    "path_effects",
    "reuse_fits",
    "save_model",
]
