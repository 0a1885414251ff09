"""The membership attacks' power, stated next to their results (issue 33): what a small value can mean."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from causaltrust._format import fmt_num

__all__ = ["attack_power_sentence"]

# Each attack's result and the metric holding the same attack's value against a memorising forest.
_POWER = {
    "privacy.mia_advantage": ("privacy.mia_power[mia_advantage]", "the loss-threshold attack", "advantage"),
    "privacy.mia_tpr_at_1pct_fpr": (
        "privacy.mia_power[mia_tpr_at_1pct_fpr]",
        "the shadow attack",
        "TPR at 1% FPR",
    ),
}


def _number(values: Mapping[str, Any], name: str) -> float | None:
    v = values.get(name)
    try:
        x = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def attack_power_sentence(values: Mapping[Any, Any], metrics: tuple[str, ...] = tuple(_POWER)) -> str:
    """One sentence per attack in ``metrics``: its result and its power at the same settings ("" if unknown).

    Parameters
    ----------
    values : mapping
        Metric name → value (a report's metrics, or one row of a ledger's wide table).
    metrics : tuple of str
        The attacks' result metrics to state (``privacy.mia_advantage``, ``privacy.mia_tpr_at_1pct_fpr``;
        any other name is skipped).

    Returns
    -------
    str
        E.g. " At these settings the loss-threshold attack reaches advantage 0.316 against a memorising
        random forest trained on the same rows (this model: 0.010)." Empty when the power was not measured.

    Examples
    --------
    >>> s = attack_power_sentence({"privacy.mia_advantage": -0.01, "privacy.mia_power[mia_advantage]": 0.32})
    >>> "advantage 0.320 against a memorising random forest" in s and s.endswith("(this model: -0.010).")
    True
    """
    out = []
    for name in metrics:
        if name not in _POWER:
            continue
        power_name, attack, what = _POWER[name]
        power, result = _number(values, power_name), _number(values, name)
        if power is None or result is None:
            continue
        out.append(
            f" At these settings {attack} reaches {what} {fmt_num(power, 3)} against a memorising random "
            f"forest trained on the same rows (this model: {fmt_num(result, 3)})."
        )
    return "".join(out)
