"""The one exception family of causaltrust.

Every error says what was wrong, where (variable, line, column, rows) and how to fix it. All inherit from
:class:`CausalTrustError`; those about user input also inherit from :class:`ValueError` so generic handlers
keep working.
"""

from __future__ import annotations

__all__ = [
    "BenchError",
    "CausalTrustError",
    "DataError",
    "GraphError",
    "IdentificationError",
    "SpecError",
]


class CausalTrustError(Exception):
    """Base class of every causaltrust error."""


class SpecError(CausalTrustError, ValueError):
    """A trust spec (YAML, dict or equation) is malformed or inconsistent."""


class GraphError(SpecError):
    """The causal graph is not a DAG, or an edge or path named in the spec does not exist."""


class DataError(CausalTrustError, ValueError):
    """A DataFrame does not match the spec: missing column, NaN, wrong type, undeclared category."""


class BenchError(CausalTrustError, ValueError):
    """A sweep was asked for something it cannot run: unknown method or parameter, bad store or executor."""


class IdentificationError(CausalTrustError):
    """A counterfactual quantity cannot be computed from the data and the model without guessing."""
