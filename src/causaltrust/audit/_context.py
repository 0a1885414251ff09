"""What every audit metric family works from: the model, the units, the SCM, seeded randomness."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from causaltrust._random import purpose_rng, purpose_sequence
from causaltrust.audit._bootstrap import (
    SHARED_CELLS,
    ResampleBlocks,
    bootstrap_interval,
    mean_bootstrap,
    percentile_interval,
    quantile_bootstrap,
    resample_counts,
    sorted_quantiles,
)
from causaltrust.audit._model import ModelAdapter
from causaltrust.audit._options import AuditOptions
from causaltrust.audit._report import Metric, metric_info
from causaltrust.audit._worlds import UnitWorlds
from causaltrust.exceptions import SpecError
from causaltrust.scm import SCM
from causaltrust.spec import TrustSpec

__all__ = ["AuditContext", "ratio_rows"]

Array = np.ndarray


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
    _counts: Array | None = field(default=None, repr=False)  # shared resample counts of the test units
    _blocks: ResampleBlocks | None = field(default=None, repr=False)  # the same, above SHARED_CELLS cells
    # While :meth:`batched` runs a family: the block statistics whose intervals wait for its one pass.
    _pending: dict[str, tuple[Callable[[Array], Array], Array | None, bool]] | None = field(
        default=None, repr=False
    )
    _aliases: dict[str, str] = field(default_factory=dict, repr=False)  # metric -> pending metric it copies

    def rng(self, name: str) -> np.random.Generator:
        """A generator for one metric, independent of which other metrics run (same seed, same bytes)."""
        return purpose_rng(self.random_state, name)

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

    def _shared(self, n: int) -> bool:
        """Whether metrics over ``n`` units share the audit's resamples (the test units' size)."""
        return n == len(self.data) and n >= 2 and self.options.n_bootstrap >= 1

    def resamples(self, n: int) -> Array | None:
        """Bootstrap resample counts of ``n`` units, shared by the metrics over every test unit.

        Drawn once from the audit's seed when ``n`` is the number of test units (and the shifted samples of
        that size): the same resamples whichever metrics run, and the intervals of metrics on the same units
        come from the same (paired) resamples. None for other sizes (subgroups), and for matrices above
        ``SHARED_CELLS`` cells: those are shared in blocks (:meth:`resample_blocks`).
        """
        n_boot = self.options.n_bootstrap
        if not self._shared(n) or n * n_boot > SHARED_CELLS:
            return None
        if self._counts is None:
            self._counts = resample_counts(n, n_boot, purpose_rng(self.random_state, "bootstrap"))
        return self._counts

    def resample_blocks(self, n: int) -> ResampleBlocks | None:
        """The shared resamples of ``n`` test units in blocks, when they are too large to keep whole."""
        n_boot = self.options.n_bootstrap
        if not self._shared(n) or n * n_boot <= SHARED_CELLS:
            return None
        if self._blocks is None:
            self._blocks = ResampleBlocks(n, n_boot, purpose_sequence(self.random_state, "bootstrap-blocks"))
        return self._blocks

    def batched(self, family: Callable[[AuditContext], list[Metric]]) -> list[Metric]:
        """``family(self)``, with the intervals of its metrics over shared resample blocks computed in one
        pass over the blocks at the end (:meth:`ResampleBlocks.apply_many`) instead of one pass per metric.

        The intervals are the same, bit for bit: each metric reads the same blocks in the same order. Only
        large audits (resamples above ``SHARED_CELLS`` cells) have blocks; below, nothing waits.
        """
        self._pending, self._aliases = {}, {}
        try:
            metrics = family(self)
            pending, aliases = self._pending, self._aliases
        finally:
            self._pending, self._aliases = None, {}
        if not pending:
            return metrics
        assert self._blocks is not None  # only block statistics wait
        results = self._blocks.apply_many([(stat, columns) for stat, columns, _ in pending.values()])
        intervals: dict[str, tuple[float, float]] = {}
        for (name, (_, _, drop_nan)), vals in zip(pending.items(), results, strict=True):
            if drop_nan:
                vals = vals[np.isfinite(vals)]
            intervals[name] = percentile_interval(vals, self.options.confidence)
        for name, source in aliases.items():
            if source in intervals:
                intervals[name] = intervals[source]
        return [
            replace(m, low=intervals[m.name][0], high=intervals[m.name][1]) if m.name in intervals else m
            for m in metrics
        ]

    def _wait(
        self, name: str, stat_rows: Callable[[Array], Array], columns: Array | None, *, drop_nan: bool
    ) -> bool:
        """Queue a block statistic for :meth:`batched`'s pass; False when nothing is batching (or the
        name is already queued): the caller computes its interval now."""
        if self._pending is None or name in self._pending:
            return False
        self._pending[name] = (stat_rows, columns, drop_nan)
        return True

    def largest_over_levels(self, name: str, levels: list[Metric]) -> Metric:
        """The metric of the level with the largest |value|, under ``name`` (its interval too)."""
        top = max(levels, key=lambda m: abs(m.value))
        if self._pending is not None and top.name in self._pending:
            self._aliases[name] = top.name
        return self.metric(name, top.value, top.interval, method=f"largest |value| over levels ({top.name})")

    def mean_metric(self, name: str, per_unit: Array, *, method: str = "") -> Metric:
        """A metric that is a mean over units, with a bootstrap interval over units."""
        per_unit = np.asarray(per_unit, dtype=np.float64)
        o = self.options
        blocks = self.resample_blocks(len(per_unit))
        interval: tuple[float, float] | None
        if blocks is not None:
            n = len(per_unit)
            if self._wait(name, lambda blk: blk @ per_unit / n, None, drop_nan=False):
                interval = None
            else:
                interval = blocks.mean_interval(per_unit, o.confidence)
        else:
            counts = self.resamples(len(per_unit))
            interval = mean_bootstrap(per_unit, self.rng(name), o.n_bootstrap, o.confidence, counts)
        return self.metric(
            name, float(per_unit.mean()), interval, method=method or "mean over units; bootstrap"
        )

    def group_mean_metric(self, name: str, values: Array, mask: Array, *, method: str = "") -> Metric:
        """The mean of ``values`` over the test units in ``mask`` (a subgroup), with a bootstrap interval.

        While the test units' resamples fit whole (below ``SHARED_CELLS`` cells) the subgroup is resampled
        on its own (:meth:`mean_metric` of ``values[mask]``). Above, each shared resample of all test units
        gives the mean over its units that fall in ``mask`` (two matrix products per block: Σ c·v·m / Σ c·m),
        as the group metrics (demographic parity, equalized odds) already did: index resamples of a subgroup
        of a million units gather from arrays larger than the cache, and grew faster than linearly.
        """
        values = np.asarray(values, dtype=np.float64)
        mask = np.asarray(mask, dtype=bool)
        if self.resample_blocks(len(values)) is None:
            return self.mean_metric(name, values[mask], method=method)
        num, den = np.where(mask, values, 0.0), mask.astype(np.float64)
        return self.weighted_metric(
            name,
            lambda i: float(values[i][mask[i]].mean()),
            partial(ratio_rows, num, den),
            len(values),
            method=method or "mean over units; bootstrap",
        )

    def p95_metric(self, name: str, per_unit: Array, *, method: str = "") -> Metric:
        """The 95th percentile over units of ``per_unit``, with a bootstrap interval over units."""
        values = np.asarray(per_unit, dtype=np.float64)
        blocks = self.resample_blocks(len(values))
        counts = self.resamples(len(values))
        interval: tuple[float, float] | None
        if blocks is not None:
            if np.isnan(values).any():
                interval = (float("nan"), float("nan"))
            else:
                order = np.argsort(values, kind="stable")
                ranked = values[order]
                if self._wait(name, partial(sorted_quantiles, ranked, 0.95), order, drop_nan=False):
                    interval = None
                else:
                    interval = blocks.quantile_interval(values, 0.95, self.options.confidence)
        elif counts is not None:
            interval = quantile_bootstrap(values, 0.95, counts, self.options.confidence)
        else:
            return self.stat_metric(
                name, lambda i: float(np.quantile(values[i], 0.95)), len(values), method=method
            )
        value = float(np.quantile(values, 0.95))
        return self.metric(name, value, interval, method=method or "bootstrap over units")

    def stat_metric(self, name: str, stat: Callable[[Array], float], n: int, *, method: str = "") -> Metric:
        """A metric computed by ``stat(indices)`` on all units, with a bootstrap interval over units."""
        o = self.options
        value = stat(np.arange(n))
        interval = bootstrap_interval(stat, n, self.rng(name), o.n_bootstrap, o.confidence)
        return self.metric(name, value, interval, method=method or "bootstrap over units")

    def weighted_metric(
        self,
        name: str,
        stat: Callable[[Array], float],
        stat_rows: Callable[[Array], Array],
        n: int,
        *,
        method: str = "",
        columns: Array | None = None,
    ) -> Metric:
        """:meth:`stat_metric`, with ``stat_rows(counts)`` (the statistic of each row of resample counts, the
        units in ``columns`` order when given) used when the test units' resamples are shared in blocks (large
        audits): no index gather per resample."""
        blocks = self.resample_blocks(n)
        if blocks is None:
            return self.stat_metric(name, stat, n, method=method)
        interval: tuple[float, float] | None = None
        if not self._wait(name, stat_rows, columns, drop_nan=True):
            interval = blocks.stat_interval(stat_rows, self.options.confidence, columns)
        return self.metric(name, stat(np.arange(n)), interval, method=method or "bootstrap over units")

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


def ratio_rows(num: Array, den: Array, counts: Array) -> Array:
    """``counts @ num / counts @ den`` per resample row (NaN where ``den`` has no weight in the row)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        out: Array = (counts @ num) / (counts @ den)
    return out


def _f(x: float | None) -> float | None:
    return None if x is None else float(x)
