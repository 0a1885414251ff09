"""The main job's two settings: quick (``causaltrust demo``, ``make run``) and full (``demo --full``)."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

__all__ = ["DEMO_FULL", "DEMO_QUICK", "demo_settings"]

# The full statistical settings: 3 seeds of 20,000 training and 20,000 test rows, 8 shadow models per cell,
# 200 bootstrap resamples, recourse for 200 rejected units (447 s on 2 quiet cores, 69 cells). ``shadow_rows``
# is the audit option: training rows per shadow model (None: as many as the audited model had).
DEMO_FULL: MappingProxyType[str, int | None] = MappingProxyType(
    {
        "seeds": 3,
        "n_train": 20_000,
        "n_test": 20_000,
        "n_shadow": 8,
        "shadow_rows": None,
        "n_bootstrap": 200,
        "recourse_units": 200,
    }
)
# The quick settings train on the full settings' rows (3 seeds of 20,000: the same data per seed, so the
# same models but for the DP learners' secret noise) and audit them lighter: 4,000 test rows, 50 resamples,
# 50 recourse units, no shadow models (the shadow attack is not part of the story, whose privacy line is the
# loss-threshold attack on every row; each cell's notes say it was skipped). Training on the full rows keeps
# the story: at 5,000 training rows the DP learner's noise and the attack advantage move with n, and most
# 5,000-row quick runs told another story than --full; with 20,000 training rows 10 of 11 runs told the same
# one (benchmarks/RESULTS.md, "The quick story at the demo's own settings (issue 30, session 4)"). The
# lighter audit pays for the larger training sets: 59.5-60.0 s on 2 quiet cores against 66-69 s with 5,000
# test rows, 100 resamples and 100 recourse units, run alternately.
DEMO_QUICK: MappingProxyType[str, int | None] = MappingProxyType(
    {
        "seeds": 3,
        "n_train": 20_000,
        "n_test": 4_000,
        "n_shadow": 0,
        "shadow_rows": None,
        "n_bootstrap": 50,
        "recourse_units": 50,
    }
)


def demo_settings(full: bool = False) -> dict[str, Any]:
    """The settings of ``causaltrust demo`` (quick) or ``causaltrust demo --full``, as a new dict.

    Examples
    --------
    >>> from causaltrust.bench import demo_settings
    >>> demo_settings(full=True)["n_train"], demo_settings()["seeds"]
    (20000, 3)
    """
    return dict(DEMO_FULL if full else DEMO_QUICK)
