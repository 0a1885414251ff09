"""Small specs shared by several test modules (imported as ``from specs import ...``)."""

from __future__ import annotations

from typing import Any

# A standard fairness model with one mediator: X protected, Z confounder, W mediator, Y binary target.
TINY_SFM: dict[str, Any] = {
    "name": "tiny",
    "target": "Y",
    "variables": {
        "Z": {"type": "continuous", "equation": "normal(0, 1)"},
        "X": {"type": "binary", "equation": "bernoulli(sigmoid(0.8*Z))"},
        "W": {"type": "continuous", "equation": "1.0*X + 0.5*Z + normal(0, 1)"},
        "Y": {"type": "binary", "equation": "bernoulli(sigmoid(-0.5 + 0.7*X + 0.5*Z + 0.8*W))"},
    },
    "fairness": {"protected": "X", "baseline": 0},
}
