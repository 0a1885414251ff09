"""Reusing SCM fits inside one scope: the same spec, data and settings give the same fitted SCM once.

``SCM.fit`` is deterministic for a given seed, so a sweep whose cells fit the same SCMs (methods that learn
their SCM from the same training rows, and the shadow models of the privacy audit, which refit each method
on the same shadow rows with the same seeds) can compute each fit once. Outside a :func:`reuse_fits` scope
nothing is kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from causaltrust.scm._model import SCM
    from causaltrust.spec import TrustSpec

__all__ = ["fit_key", "memo", "reuse_fits"]

_MEMO: ContextVar[dict[str, SCM] | None] = ContextVar("causaltrust_scm_fits", default=None)


@contextmanager
def reuse_fits() -> Iterator[None]:
    """Within this scope, ``SCM.fit`` returns the SCM it already fitted for the same inputs.

    The inputs are the spec (its hash), the values of the observed columns (row order included, index
    ignored), ``mechanisms`` (a string; fits with estimator mappings are not reused), ``random_state`` (a
    seeded fit only), ``cv`` and ``assume``. The SCM is shared, not copied: treat it as read-only (every
    causaltrust learner does; ``adapt`` works on a copy). Scopes nest; the fits are dropped on exit.

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, true = ct.scenarios.load("readmission")
    >>> rows = true.sample(2_000, random_state=0)[spec.observed]
    >>> with ct.scm.reuse_fits():
    ...     a = ct.SCM.fit(spec, rows, mechanisms="linear", random_state=0)
    ...     b = ct.SCM.fit(spec, rows[list(reversed(rows.columns))], mechanisms="linear", random_state=0)
    >>> a is b
    True
    """
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def memo() -> dict[str, SCM] | None:
    """The fits of the innermost :func:`reuse_fits` scope (None outside one)."""
    return _MEMO.get()


def fit_key(
    spec: TrustSpec,
    data: pd.DataFrame,
    mechanisms: str | Mapping[str, Any],
    random_state: int | None,
    cv: int,
    assume: Sequence[str],
) -> str | None:
    """A digest of everything ``SCM.fit`` reads, or None when the fit is not reusable."""
    if not isinstance(mechanisms, str) or random_state is None or not isinstance(data, pd.DataFrame):
        return None
    cols = [c for c in spec.observed if c in data.columns]  # fit_scm ignores the other columns
    h = hashlib.sha256()
    for part in (spec.hash, mechanisms, str(int(random_state)), str(cv), repr(sorted(assume)), repr(cols)):
        h.update(part.encode())
        h.update(b"\0")
    h.update(repr([str(data[c].dtype) for c in cols]).encode())
    h.update(pd.util.hash_pandas_object(data[cols], index=False).to_numpy().tobytes())
    return h.hexdigest()
