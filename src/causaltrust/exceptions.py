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
    "did_you_mean",
]

from collections.abc import Iterable


def did_you_mean(name: object, choices: Iterable[str]) -> str:
    """``" (did you mean 'readmission'?)"`` for a misspelt name (difflib), or ``""`` when nothing is close.

    Error messages append it after saying what was wrong.

    Examples
    --------
    >>> did_you_mean("readmision", ["hiring", "lending", "readmission"])
    " (did you mean 'readmission'?)"
    >>> did_you_mean("zzz", ["hiring"])
    ''
    """
    import difflib

    if not isinstance(name, str):
        return ""
    options = list(choices)
    close = difflib.get_close_matches(name, options, n=3, cutoff=0.6)
    if not close:
        lower = {o.lower(): o for o in options}
        close = [lower[c] for c in difflib.get_close_matches(name.lower(), list(lower), n=3, cutoff=0.6)]
    if not close:
        return ""
    return " (did you mean " + " or ".join(repr(c) for c in close) + "?)"


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
