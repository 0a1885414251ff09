"""Seeds aggregated per configuration: one row per (spec, method, parameters, settings), Student-t intervals.

A cell's identity is its scenario, spec hash, method, parameters, settings and seed. Everything but the seed
names a configuration; :func:`summarize` pools only seeds, so cells that differ in ``n_train`` or come from
two specs with the same scenario name are never averaged together. Settings that differ between configurations
become columns.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from causaltrust.audit import metric_info
from causaltrust.exceptions import CausalTrustError

__all__ = ["CONFIG_KEYS", "config_frame", "cost_of_win", "meets_thresholds", "seed_interval", "summarize"]

CONFIG_KEYS = ["scenario", "spec_hash", "method", "params_json", "settings_json"]


def seed_interval(
    values: Sequence[float], bounds: tuple[float, float] | None = None
) -> tuple[float, float, float]:
    """Mean and Student-t 95% interval over seeds, clipped to ``bounds`` (the metric's possible range).

    With one seed the interval is NaN (no spread to estimate). Infinite values (ε of a non-private model) are
    a value, not an estimate: the mean is ±∞ when every seed agrees in sign and the interval is NaN.

    Examples
    --------
    >>> from causaltrust.bench import seed_interval
    >>> m, lo, hi = seed_interval([0.98, 1.0, 1.0], bounds=(0.0, 1.0))
    >>> round(m, 4), round(lo, 4), hi
    (0.9933, 0.9646, 1.0)
    """
    from scipy import stats

    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    nan = float("nan")
    if len(v) == 0:
        return nan, nan, nan
    if not np.isfinite(v).all():
        mean = float(v.mean()) if (v > 0).all() or (v < 0).all() else nan
        return mean, nan, nan
    mean = float(v.mean())
    if len(v) < 2:
        return mean, nan, nan
    half = float(stats.t.ppf(0.975, len(v) - 1)) * float(v.std(ddof=1)) / math.sqrt(len(v))
    lo, hi = mean - half, mean + half
    if bounds is not None:
        lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
    return mean, lo, hi


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, Mapping):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _varying(dicts: Sequence[Mapping[str, Any]]) -> list[str]:
    keys = sorted({k for d in dicts for k in d})
    return [k for k in keys if len({json.dumps(d.get(k), sort_keys=True, default=str) for d in dicts}) > 1]


def config_frame(cells: pd.DataFrame) -> pd.DataFrame:
    """Per cell: its configuration key (``config_id``), a readable ``config`` label and the varying settings.

    The label (``config``) is the method, then its parameters that differ between that method's
    configurations, then the
    spec (only when the ledger holds several specs; a scenario name shared by two specs gets a short hash) and
    the settings that differ anywhere in the ledger. Those settings are also returned as columns; ``name`` is
    the label without spec and settings.

    Examples
    --------
    >>> import pandas as pd
    >>> from causaltrust.bench import config_frame
    >>> cells = pd.DataFrame({"scenario": ["s", "s"], "spec_hash": ["h", "h"], "method": ["erm", "erm"],
    ...     "params_json": ['{"C": 1}', '{"C": 1}'], "seed": [0, 0],
    ...     "settings_json": ['{"n_train": 1000}', '{"n_train": 2000}']})
    >>> config_frame(cells)["config"].tolist()
    ['erm · n_train=1000', 'erm · n_train=2000']
    """
    missing = [c for c in CONFIG_KEYS if c not in cells.columns]
    if missing:
        raise CausalTrustError(f"config_frame needs the ledger's cell columns; missing {missing}")
    out = cells.copy()
    params = [json.loads(p) if p else {} for p in out["params_json"]]
    settings = [_flatten(json.loads(s) if s else {}) for s in out["settings_json"]]
    by_method: dict[str, list[dict[str, Any]]] = {}
    for m, p in zip(out["method"], params, strict=True):
        by_method.setdefault(str(m), []).append(p)
    varying_params = {m: _varying(ps) for m, ps in by_method.items()}
    varying_settings = _varying(settings)
    specs = out[["scenario", "spec_hash"]].drop_duplicates()
    shared_names = set(specs["scenario"][specs["scenario"].duplicated()])
    several_specs = len(specs) > 1
    labels, names = [], []
    for m, p, s, scen, h in zip(
        out["method"], params, settings, out["scenario"], out["spec_hash"], strict=True
    ):
        label = str(m)
        keys = varying_params[str(m)]
        if keys:
            label += " (" + ", ".join(f"{k}={p.get(k)}" for k in keys) + ")"
        names.append(label)
        if several_specs:
            label += f" · {scen}" + (f"#{str(h)[:6]}" if scen in shared_names else "")
        label += "".join(f" · {k}={s.get(k)}" for k in varying_settings)
        labels.append(label)
    out["config"] = labels
    out["name"] = names
    out["spec"] = [
        f"{scen}#{str(h)[:6]}" if scen in shared_names else str(scen)
        for scen, h in zip(out["scenario"], out["spec_hash"], strict=True)
    ]
    for k in varying_settings:
        out[k] = [s.get(k) for s in settings]
    out["config_id"] = out[CONFIG_KEYS].astype(str).agg("\x1f".join, axis=1)
    out.attrs["settings"] = varying_settings
    return out


def _bounds(name: str) -> tuple[float, float] | None:
    try:
        return metric_info(name).bounds
    except CausalTrustError:
        return None


def _seed_stats(tidy: pd.DataFrame) -> pd.DataFrame:
    """:func:`seed_interval` for every (configuration, metric) at once, and the share of seeds passing.

    Indexed by ``(config_id, name)``; columns ``mean, lo, hi, n_judged, passed``. Same rules as
    :func:`seed_interval` (one seed or an infinite value: no interval; ±∞ only when every seed agrees).
    """
    from scipy import stats

    v = tidy["value"].astype(float)
    frame = pd.DataFrame(
        {
            "config_id": tidy["config_id"].to_numpy(),
            "name": tidy["name"].to_numpy(),
            "v": v.to_numpy(),
            "fin": np.isfinite(v.to_numpy()) | v.isna().to_numpy(),
            "pos": (v > 0).to_numpy() | v.isna().to_numpy(),
            "neg": (v < 0).to_numpy() | v.isna().to_numpy(),
            "judged": tidy["passed"].notna().to_numpy(),
            "pass": tidy["passed"].fillna(False).astype(bool).to_numpy(),
        }
    )
    g = frame.groupby(["config_id", "name"], sort=False)
    out = pd.DataFrame(
        {
            "n": g["v"].count(),
            "mean": g["v"].mean(),
            "sd": g["v"].std(ddof=1),
            "fin": g["fin"].all(),
            "pos": g["pos"].all(),
            "neg": g["neg"].all(),
            "n_judged": g["judged"].sum(),
            "n_pass": g["pass"].sum(),
        }
    )
    with np.errstate(invalid="ignore"):
        nonfinite = ~out["fin"].astype(bool)
        mean = out["mean"].where(~nonfinite | out["pos"].astype(bool) | out["neg"].astype(bool))
        n = out["n"].to_numpy(dtype=float)
        tq = stats.t.ppf(0.975, np.maximum(n - 1, 1))
        half = tq * out["sd"].to_numpy(dtype=float) / np.sqrt(np.maximum(n, 1))
        half = np.where((n >= 2) & ~nonfinite.to_numpy(), half, np.nan)
        lo, hi = mean.to_numpy() - half, mean.to_numpy() + half
    bounds = [_bounds(str(name)) for name in out.index.get_level_values("name")]
    lo = np.array(
        [max(x, b[0]) if b is not None and not np.isnan(x) else x for x, b in zip(lo, bounds, strict=True)]
    )
    hi = np.array(
        [min(x, b[1]) if b is not None and not np.isnan(x) else x for x, b in zip(hi, bounds, strict=True)]
    )
    passed = out["n_pass"] / out["n_judged"].where(out["n_judged"] > 0)
    return pd.DataFrame(
        {"mean": mean, "lo": lo, "hi": hi, "n_judged": out["n_judged"], "passed": passed}, index=out.index
    )


def summarize(ledger: Any) -> pd.DataFrame:
    """One row per configuration of a ledger's finished cells: mean and Student-t 95% interval over seeds.

    Columns: ``config`` (a unique label), ``name`` (method and varying parameters: the label without the
    spec and settings, for tables that show those as columns), ``config_id``, ``scenario``, ``spec_hash``,
    ``spec``, ``method``,
    ``params_json``, ``settings_json``, the settings that differ between configurations (their names are in
    ``frame.attrs["settings"]``), ``n_seeds``, ``seed_values`` (metric → {seed: value}: what the story pairs
    by seed, :func:`causaltrust.report.story_verdicts`), and for every metric ``name``, ``name::lo``,
    ``name::hi`` (the interval clipped to the metric's range) and ``name::passed`` (share of seeds passing its
    threshold, when the spec sets one).

    Examples
    --------
    >>> import tempfile, os
    >>> from causaltrust.bench import Ledger, summarize
    >>> led = Ledger.open(os.path.join(tempfile.mkdtemp(), "r.duckdb"), create=True)
    >>> len(summarize(led))
    0
    """
    data = ledger.data()
    cells = data.cells[data.cells["status"] == "ok"] if len(data.cells) else data.cells
    if cells.empty:
        return pd.DataFrame(
            columns=["config", "name", "config_id", *CONFIG_KEYS, "spec", "n_seeds", "seed_values"]
        )
    cells = config_frame(cells.reset_index(drop=True))
    settings = list(cells.attrs.get("settings", []))
    tidy = data.metrics.merge(cells[["cell_id", "config_id", "seed"]], on="cell_id")
    rows: dict[str, dict[str, Any]] = {}
    for _, c in cells.drop_duplicates("config_id").iterrows():
        ident = {k: c[k] for k in ["config", "name", "config_id", *CONFIG_KEYS, "spec", *settings]}
        ident["n_seeds"] = int((cells["config_id"] == c["config_id"]).sum())
        ident["seed_values"] = {}
        rows[str(c["config_id"])] = ident
    for cid, name, seed, value in tidy[["config_id", "name", "seed", "value"]].itertuples(index=False):
        rows[str(cid)]["seed_values"].setdefault(str(name), {})[int(seed)] = float(value)
    stats = _seed_stats(tidy)
    for (cid, name), stat in zip(stats.index, stats.to_dict("records"), strict=True):
        row = rows[str(cid)]
        row[str(name)] = stat["mean"]
        row[f"{name}::lo"] = stat["lo"]
        row[f"{name}::hi"] = stat["hi"]
        if stat["n_judged"] > 0:
            row[f"{name}::passed"] = stat["passed"]
    out = pd.DataFrame(list(rows.values())).sort_values("config", kind="stable").reset_index(drop=True)
    out.attrs["settings"] = settings
    return out


def meets_thresholds(agg: pd.DataFrame) -> pd.Series:
    """Per configuration of a :func:`summarize` frame: does it meet every threshold of the spec on every seed?

    ``True`` when every judged threshold passes on every seed, ``False`` when one fails on any seed or its
    metric is missing for this configuration while others have it (not measured is not met), and ``None``
    when the ledger judged no threshold (the spec sets none). Thresholds are those the audit judged
    (``name::passed`` columns); ``privacy.epsilon`` is among them only when the spec lists it under
    ``thresholds:``.

    Examples
    --------
    >>> import pandas as pd
    >>> from causaltrust.bench import meets_thresholds
    >>> agg = pd.DataFrame({"config": ["a", "b"], "m": [0.01, 0.1], "m::passed": [1.0, 0.5]})
    >>> meets_thresholds(agg).tolist()
    [True, False]
    """
    cols = [c for c in agg.columns if c.endswith("::passed") and agg[c].notna().any()]
    if not cols:
        return pd.Series([None] * len(agg), index=agg.index, dtype=object)
    share = agg[cols].astype(float)
    return pd.Series(
        [bool((row.notna() & (row >= 1.0 - 1e-9)).all()) for _, row in share.iterrows()],
        index=agg.index,
        dtype=object,
    )


def _better_score(value: float, better: str) -> float:
    return {"higher": -value, "lower": value, "zero": abs(value)}.get(better, float("nan"))


def cost_of_win(
    winner: Mapping[Any, Any], reference: Mapping[Any, Any], metrics: Sequence[str]
) -> list[dict[str, Any]]:
    """What a configuration gives up against a reference, metric by metric (the "cost of a win").

    For every metric both rows have a finite value for: ``metric``, ``reference`` (its value there),
    ``winner``, ``change`` (winner − reference) and ``worse`` (the winner is worse in the metric's
    direction; "closer to 0 is better" compares absolute values). Informative metrics are skipped.

    Examples
    --------
    >>> from causaltrust.bench import cost_of_win
    >>> cost = cost_of_win({"accuracy.observational": 0.74}, {"accuracy.observational": 0.766},
    ...                    ["accuracy.observational"])
    >>> cost[0]["worse"], round(cost[0]["change"], 3)
    (True, -0.026)
    """
    out = []
    for m in metrics:
        try:
            better = metric_info(m).better
        except CausalTrustError:
            continue
        if better == "informative":
            continue
        a, b = winner.get(m), reference.get(m)
        if a is None or b is None or not (np.isfinite(float(a)) and np.isfinite(float(b))):
            continue
        a, b = float(a), float(b)
        out.append(
            {
                "metric": m,
                "reference": b,
                "winner": a,
                "change": a - b,
                "worse": _better_score(a, better) > _better_score(b, better),
            }
        )
    return out
