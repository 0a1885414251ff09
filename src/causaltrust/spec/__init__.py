"""Trust specs: variables, equations and the roles of causal paths (YAML or dict)."""

from causaltrust.spec._equations import CompiledEquation, VarInfo, compile_equation
from causaltrust.spec._load import dump_spec, load_spec
from causaltrust.spec._schema import (
    ExplainabilitySpec,
    FairnessSpec,
    PrivacySpec,
    RecourseSpec,
    RobustnessSpec,
    ShiftSpec,
    Threshold,
    TrustSpec,
    VariableSpec,
)

__all__ = [
    "CompiledEquation",
    "ExplainabilitySpec",
    "FairnessSpec",
    "PrivacySpec",
    "RecourseSpec",
    "RobustnessSpec",
    "ShiftSpec",
    "Threshold",
    "TrustSpec",
    "VarInfo",
    "VariableSpec",
    "compile_equation",
    "dump_spec",
    "load_spec",
]
