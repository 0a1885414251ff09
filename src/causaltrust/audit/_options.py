"""Knobs of an audit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from causaltrust.exceptions import DataError

__all__ = ["AuditOptions"]


@dataclass(frozen=True)
class AuditOptions:
    """Knobs of an audit (defaults follow DESIGN.md).

    ``n_draws`` is the number of abduction draws per test unit of the counterfactual worlds; ``unit_draws``
    the posterior draws per unit of the per-unit metrics (``*_abs``, ``*_p95``) when their noise cannot be
    integrated exactly: default ``max(64, n_draws)``. Fewer draws make a boosted SCM's audit much faster
    (its mechanisms are evaluated once per draw) at the price of noisier per-unit values.
    """

    n_bootstrap: int = 200
    n_draws: int = 1
    shift_n: int | None = None  # rows sampled per shift (default: as many as the test data)
    n_shadow: int = 8
    shadow_rows: int | None = None  # rows per shadow training set (default: the training size)
    recourse_units: int = 200
    confidence: float = 0.95
    unit_draws: int | None = None  # posterior draws per unit of per-unit metrics (default max(64, n_draws))

    def __post_init__(self) -> None:
        at_least = {"n_bootstrap": 1, "n_draws": 1, "n_shadow": 0, "recourse_units": 0}
        optional = {"shift_n": 1, "shadow_rows": 1, "unit_draws": 1}
        for name, low in [*at_least.items(), *optional.items()]:
            value = getattr(self, name)
            if value is None and name in optional:
                continue
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
                raise DataError(f"{name}: expected an integer >= {low}, got {value!r}")
        if not isinstance(self.confidence, float | int) or not 0.0 < float(self.confidence) < 1.0:
            raise DataError(
                f"confidence: expected a number strictly between 0 and 1, got {self.confidence!r}"
            )

    @classmethod
    def resolve(cls, options: AuditOptions | None = None, **given: Any) -> AuditOptions:
        """The one route of settings into an audit: ``options`` as given, or one built from the keywords
        that were set (None means not set). Both at once is refused, so no setting is silently ignored.

        Examples
        --------
        >>> AuditOptions.resolve(n_bootstrap=20).n_bootstrap
        20
        >>> AuditOptions.resolve(AuditOptions(n_draws=4)).n_draws
        4
        """
        set_ = {k: v for k, v in given.items() if v is not None}
        if options is None:
            return cls(**set_)
        if not isinstance(options, AuditOptions):
            raise DataError(f"options: expected an AuditOptions, got {type(options).__name__}")
        if set_:
            raise DataError(
                f"audit settings {sorted(set_)} were given both as keywords and through options=; "
                "put them all in AuditOptions(...)"
            )
        return options

    @property
    def draws_per_unit(self) -> int:
        """Posterior draws per unit of the per-unit metrics (``unit_draws``, else ``max(64, n_draws)``)."""
        from causaltrust.audit._worlds import MIN_DRAWS

        return int(self.unit_draws) if self.unit_draws is not None else max(MIN_DRAWS, int(self.n_draws))
