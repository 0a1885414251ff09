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

__all__ = ["CONFIG_KEYS", "config_frame", "seed_interval", "summarize"]

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


def summarize(ledger: Any) -> pd.DataFrame:
    """One row per configuration of a ledger's finished cells: mean and Student-t 95% interval over seeds.

    Columns: ``config`` (a unique label), ``name`` (method and varying parameters: the label without the
    spec and settings, for tables that show those as columns), ``config_id``, ``scenario``, ``spec_hash``,
    ``spec``, ``method``,
    ``params_json``, ``settings_json``, the settings that differ between configurations (their names are in
    ``frame.attrs["settings"]``), ``n_seeds``, and for every metric ``name``, ``name::lo``, ``name::hi`` (the
    interval clipped to the metric's range) and ``name::passed`` (share of seeds passing its threshold, when
    the spec sets one).

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
        return pd.DataFrame(columns=["config", "name", "config_id", *CONFIG_KEYS, "spec", "n_seeds"])
    cells = config_frame(cells.reset_index(drop=True))
    settings = list(cells.attrs.get("settings", []))
    tidy = data.metrics.merge(cells[["cell_id", "config_id"]], on="cell_id")
    rows: dict[str, dict[str, Any]] = {}
    for _, c in cells.drop_duplicates("config_id").iterrows():
        ident = {k: c[k] for k in ["config", "name", "config_id", *CONFIG_KEYS, "spec", *settings]}
        ident["n_seeds"] = int((cells["config_id"] == c["config_id"]).sum())
        rows[str(c["config_id"])] = ident
    for (cid, name), g in tidy.groupby(["config_id", "name"], sort=False):
        try:
            bounds = metric_info(str(name)).bounds
        except CausalTrustError:
            bounds = None
        mean, lo, hi = seed_interval(g["value"].to_numpy(dtype=float), bounds)
        row = rows[str(cid)]
        row[str(name)] = mean
        row[f"{name}::lo"] = lo
        row[f"{name}::hi"] = hi
        judged = g["passed"].dropna()
        if len(judged):
            row[f"{name}::passed"] = float(judged.astype(bool).mean())
    out = pd.DataFrame(list(rows.values())).sort_values("config", kind="stable").reset_index(drop=True)
    out.attrs["settings"] = settings
    return out
