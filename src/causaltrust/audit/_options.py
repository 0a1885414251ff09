"""Knobs of an audit."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AuditOptions"]


@dataclass(frozen=True)
class AuditOptions:
    """Knobs of an audit (defaults follow DESIGN.md)."""

    n_bootstrap: int = 200
    n_draws: int = 1
    shift_n: int | None = None  # rows sampled per shift (default: as many as the test data)
    n_shadow: int = 8
    shadow_rows: int | None = None  # rows per shadow training set (default: the training size)
    recourse_units: int = 200
    confidence: float = 0.95
