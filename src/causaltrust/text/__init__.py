"""Foundation-model track: text interventions, mediation analysis inside transformers, deconfounded rewards."""

from causaltrust.text._mediation import MediationResult, mediation
from causaltrust.text._mediation_models import SMOLLM2_NOTE, load_smollm2, smollm2_path

__all__ = [
    "SMOLLM2_NOTE",
    "MediationResult",
    "load_smollm2",
    "mediation",
    "smollm2_path",
]
