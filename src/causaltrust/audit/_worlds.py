"""The test units' counterfactual worlds, as the model sees them (abducted once, shared by every metric)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from causaltrust import _dag
from causaltrust._random import purpose_rng
from causaltrust.graph import PREDICTION
from causaltrust.scm import SCM, MultiPathWorld, Noise
from causaltrust.scm._data import columns_to_frame, frame_to_columns, value_to_internal

__all__ = ["UnitWorlds"]

Array = np.ndarray
Path = tuple[str, ...]


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
        self.needed = needed = _dag.ancestral_closure(scm.parents, self.features)
        cols = frame_to_columns(
            data,
            scm.meta,
            [v for v in scm.observed if v in needed],
            context="audit data",
            optional=scm.latent,
        )
        if n_draws > 1:
            cols = {k: np.repeat(v, n_draws) for k, v in cols.items()}
        self.cols = scm.recover_latents(cols, needed)
        # Its own stream: test data sampled with the audit's seed must not share draws with abduction.
        self.rng = purpose_rng(seed, "audit-abduction")
        self._noises: dict[str, Noise] = {}
        self.index = data.index

    def noises(self, nodes: Sequence[str]) -> dict[str, Noise]:
        """Abducted noise of ``nodes`` (computed once, in topological order)."""
        todo = [v for v in nodes if v not in self._noises]
        if todo:
            self._noises.update(self.scm.abduct(self.cols, todo, random_state=self.rng).noise)
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

    def path_world(self, source: str, value: Any, baseline: Any) -> MultiPathWorld:
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
        return MultiPathWorld(self.parents, self.scm.mechanisms, noises, self.cols, {source: (v, b)}, self.n)

    def features_along(self, world: MultiPathWorld, active: Sequence[Path]) -> pd.DataFrame:
        """Features as they flow into Ŷ when the world's source is switched along ``active`` paths."""
        return self._frame(world.into(PREDICTION, [active]))

    def per_unit(self, values: Array) -> Array:
        """Average over draws: one value per test unit."""
        if self.n_draws == 1:
            return values
        return values.reshape(self.n_units, self.n_draws).mean(axis=1)
