"""A ledger aggregate as the story reads it, built from plain rows (shared by the report tests)."""

from __future__ import annotations

from typing import Any

import pandas as pd


def aggregate_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per configuration (``config`` and the metric columns given), with the columns every
    aggregate carries: name = config, one spec "s", no parameters, 3 seeds, no sweep settings."""
    out = pd.DataFrame(rows)
    out["name"] = out["config"]
    out["spec"] = "s"
    out["params_json"] = "{}"
    out["n_seeds"] = 3
    out.attrs["settings"] = []
    return out
