"""What every audit metric family works from: the model, the units, the SCM, seeded randomness."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from causaltrust import _dag
from causaltrust.audit._model import ModelAdapter
from causaltrust.audit._report import Metric, metric_info
from causaltrust.exceptions import SpecError
from causaltrust.graph import PREDICTION
from causaltrust.scm import SCM
from causaltrust.scm._data import columns_to_frame, frame_to_columns, value_to_internal
from causaltrust.scm._mechanisms import Noise
from causaltrust.scm._paths import PathWorld
from causaltrust.spec import TrustSpec

__all__ = [
    "AuditContext",
    "AuditOptions",
    "Ranker",
    "UnitWorlds",
    "bootstrap_interval",
    "weighted_auc",
    "weighted_spearman",
]

Array = np.ndarray
Path = tuple[str, ...]


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


def bootstrap_interval(
    stat: Callable[[Array], float],
    n: int,
    rng: np.random.Generator,
    n_boot: int,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``stat(indices)`` over ``n`` units."""
    if n < 2 or n_boot < 1:
        return (float("nan"), float("nan"))
    vals = np.empty(n_boot)
    for b in range(n_boot):
        vals[b] = stat(rng.integers(0, n, n))
    vals = vals[np.isfinite(vals)]
    if len(vals) == 0:
        return (float("nan"), float("nan"))
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(vals, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def _mean_bootstrap(
    values: Array, rng: np.random.Generator, n_boot: int, confidence: float
) -> tuple[float, float]:
    # Means resample fast in blocks: (block, n) index matrices instead of a Python loop per resample.
    n = len(values)
    if n < 2 or n_boot < 1:
        return (float("nan"), float("nan"))
    means = []
    block = max(1, min(n_boot, 4_000_000 // max(n, 1)))
    done = 0
    while done < n_boot:
        k = min(block, n_boot - done)
        idx = rng.integers(0, n, (k, n), dtype=np.int32 if n < 2**31 else np.int64)
        means.append(values[idx].mean(axis=1))
        done += k
    vals = np.concatenate(means)
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(vals, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


class Ranker:
    """Tie-averaged ranks of a fixed vector under unit weights, in O(n) per call after one sort.

    A bootstrap resample is a vector of counts per unit; every copy of a unit ties with the others, so the
    resample's average ranks follow from cumulative counts over the sorted values. This turns rank
    statistics (AUC, Spearman) from a sort per resample into a ``bincount`` per resample.
    """

    def __init__(self, x: Array) -> None:
        x = np.asarray(x, dtype=np.float64)
        order = np.argsort(x, kind="stable")
        xs = x[order]
        starts = np.empty(len(x), dtype=bool)
        starts[:1] = True
        starts[1:] = xs[1:] != xs[:-1]
        gid_sorted = np.cumsum(starts) - 1
        self.gid = np.empty(len(x), dtype=np.int64)
        self.gid[order] = gid_sorted
        self.k = int(gid_sorted[-1]) + 1 if len(x) else 0

    def ranks(self, w: Array) -> Array:
        """1-based average ranks of every unit when unit i appears ``w[i]`` times."""
        gc = np.bincount(self.gid, weights=w, minlength=self.k)
        before = np.cumsum(gc) - gc
        return (before + (gc + 1.0) / 2.0)[self.gid]


def weighted_auc(ranker: Ranker, positive: Array, w: Array) -> float:
    """ROC AUC (Mann-Whitney with ties) of the scores behind ``ranker`` under unit weights ``w``."""
    r = ranker.ranks(w)
    wp = float(w[positive].sum())
    wn = float(w[~positive].sum())
    if wp == 0 or wn == 0:
        return float("nan")
    return float(((w * r)[positive].sum() - wp * (wp + 1.0) / 2.0) / (wp * wn))


def weighted_spearman(rx: Ranker, ry: Ranker, w: Array) -> float:
    """Spearman correlation under unit weights (0 when either side has no spread)."""
    a, b = rx.ranks(w), ry.ranks(w)
    total = w.sum()
    if total <= 0:
        return 0.0
    a = a - (w * a).sum() / total
    b = b - (w * b).sum() / total
    denom = float(np.sqrt((w * a * a).sum() * (w * b * b).sum()))
    return float((w * a * b).sum() / denom) if denom > 0 else 0.0


class UnitWorlds:
    """Counterfactual versions of the test units' features, as the model sees them.

    The prediction node Ŷ is added with the spec's features as parents. Exogenous noise of every node
    that can change is abducted once per unit (``n_draws`` times for discrete nodes); every world below
    reuses it, so contrasts between worlds are per unit.
    """

    def __init__(
        self, scm: SCM, data: pd.DataFrame, features: Sequence[str], n_draws: int, seed: int
    ) -> None:
        self.scm = scm
        self.spec = scm.spec
        self.features = list(features)
        self.n_units = len(data)
        self.n_draws = n_draws
        self.n = self.n_units * n_draws
        self.parents = {**scm.parents, PREDICTION: tuple(self.features)}
        needed = set(self.features)
        for f in self.features:
            needed |= _dag.ancestors(scm.parents, [f])
        self.needed = needed
        cols = frame_to_columns(
            data,
            scm.meta,
            [v for v in scm.observed if v in needed],
            context="audit data",
            optional=scm.latent,
        )
        if n_draws > 1:
            cols = {k: np.repeat(v, n_draws) for k, v in cols.items()}
        touched = {v for v in scm.order if v in needed}
        self.cols = scm._complete_latents(cols, touched, self.n)
        # Its own stream: test data sampled with the audit's seed must not share draws with abduction.
        self.rng = np.random.default_rng([seed, zlib.crc32(b"audit-abduction")])
        self._noises: dict[str, Noise] = {}
        self.index = data.index

    def noises(self, nodes: Sequence[str]) -> dict[str, Noise]:
        """Abducted noise of ``nodes`` (computed once, in topological order)."""
        for v in self.scm.order:
            if v in nodes and v not in self._noises:
                self._noises[v] = self.scm.mechanisms[v].abduct(self.cols[v], self.cols, self.rng, v)
        return {v: self._noises[v] for v in nodes}

    def factual_features(self) -> pd.DataFrame:
        return self._frame(self.cols)

    def _frame(self, cols: dict[str, Array]) -> pd.DataFrame:
        return columns_to_frame(cols, self.scm.meta, self.features, None)

    def yhat_entries(self, entries: Sequence[Sequence[str]]) -> list[Path]:
        """Spec entries mapped to the prediction: an entry ending at the target also names the same path
        ending at Ŷ."""
        out: list[Path] = []
        target = self.spec.target
        edges = {(p, c) for c, pas in self.parents.items() for p in pas}
        for e in entries:
            e = tuple(e)
            if e[-1] == target:
                alt = (*e[:-1], PREDICTION)
                if (alt[-2], PREDICTION) in edges:
                    out.append(alt)
                continue
            out.append(e)
        return out

    def full_paths(self, source: str, entries: Sequence[Sequence[str]] | None) -> list[Path]:
        """Full source → Ŷ paths covered by ``entries`` (all of them when None)."""
        if entries is None:
            return _dag.all_paths(self.parents, source, PREDICTION)
        out: dict[Path, None] = {}
        for e in self.yhat_entries(entries):
            for p in _dag.all_paths(self.parents, source, PREDICTION, prefix=e):
                out[p] = None
        return list(out)

    def complement(self, source: str, entries: Sequence[Sequence[str]]) -> list[Path]:
        covered = set(self.full_paths(source, entries))
        return [p for p in self.full_paths(source, None) if p not in covered]

    def path_world(self, source: str, value: Any, baseline: Any) -> PathWorld:
        """A world switching ``source`` between ``value`` and ``baseline`` (None: factual) path by path."""
        meta = self.scm.meta[source]
        v = value_to_internal(value, meta, self.n, f"audit value of {source}")
        b = (
            None
            if baseline is None
            else value_to_internal(baseline, meta, self.n, f"audit baseline of {source}")
        )
        desc = _dag.descendants(self.scm.parents, [source]) & self.needed
        noises = self.noises([x for x in self.scm.order if x in desc])
        return PathWorld(self.parents, self.scm.mechanisms, noises, self.cols, source, v, b, self.n)

    def features_along(self, world: PathWorld, active: Sequence[Path]) -> pd.DataFrame:
        """Features as they flow into Ŷ when the world's source is switched along ``active`` paths."""
        cols = dict(self.cols)
        for f in self.features:
            if f == world.source:
                sig = frozenset(p[:-1] for p in active if len(p) == 2)
                cols[f] = world.value if sig else world.baseline
            else:
                cols[f] = world.node(f, frozenset(p[:-1] for p in active if p[-2] == f))
        return self._frame(cols)

    def per_unit(self, values: Array) -> Array:
        """Average over draws: one value per test unit."""
        if self.n_draws == 1:
            return values
        return values.reshape(self.n_units, self.n_draws).mean(axis=1)


@dataclass
class AuditContext:
    """Shared inputs of the metric families."""

    model: ModelAdapter
    spec: TrustSpec
    scm: SCM
    data: pd.DataFrame
    train_data: pd.DataFrame | None
    random_state: int
    options: AuditOptions
    worlds: UnitWorlds
    notes: list[str] = field(default_factory=list)
    scm_fitted_on: str = "given"
    extras: dict[str, Any] = field(default_factory=dict)  # JSON-able extras for the report (examples...)

    def rng(self, name: str) -> np.random.Generator:
        """A generator for one metric, independent of which other metrics run (same seed, same bytes)."""
        return np.random.default_rng([self.random_state, zlib.crc32(name.encode())])

    def metric(
        self,
        name: str,
        value: float,
        interval: tuple[float, float] | None = None,
        *,
        method: str = "",
    ) -> Metric:
        """A Metric with the registry's direction and description and the spec's threshold applied."""
        info = metric_info(name)
        low, high = interval if interval is not None else (None, None)
        m = Metric(
            name=name,
            value=float(value),
            low=_f(low),
            high=_f(high),
            better=info.better,
            description=info.description,
            method=method,
        )
        thr = self.spec.thresholds.get(name)
        if thr is not None:
            m = m.with_threshold(thr.min, thr.max)
        return m

    def mean_metric(self, name: str, per_unit: Array, *, method: str = "") -> Metric:
        """A metric that is a mean over units, with a bootstrap interval over units."""
        per_unit = np.asarray(per_unit, dtype=np.float64)
        o = self.options
        interval = _mean_bootstrap(per_unit, self.rng(name), o.n_bootstrap, o.confidence)
        return self.metric(
            name, float(per_unit.mean()), interval, method=method or "mean over units; bootstrap"
        )

    def stat_metric(self, name: str, stat: Callable[[Array], float], n: int, *, method: str = "") -> Metric:
        """A metric computed by ``stat(indices)`` on all units, with a bootstrap interval over units."""
        o = self.options
        value = stat(np.arange(n))
        interval = bootstrap_interval(stat, n, self.rng(name), o.n_bootstrap, o.confidence)
        return self.metric(name, value, interval, method=method or "bootstrap over units")

    def require(self, section: str) -> None:
        if section == "fairness" and self.spec.fairness is None:
            raise SpecError(
                "fairness metrics need a protected attribute: add 'fairness: {protected: A, unfair_paths: "
                "[...]}' to the spec, or audit other objectives (objectives=[...])"
            )
        if section == "robustness" and self.spec.robustness is None:
            raise SpecError(
                "robustness metrics need an environment: add 'robustness: {environment: E, ...}' to the spec"
            )


def _f(x: float | None) -> float | None:
    return None if x is None else float(x)
