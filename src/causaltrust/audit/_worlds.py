"""The test units' counterfactual worlds, as the model sees them (abducted once, shared by every metric)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from causaltrust import _dag
from causaltrust._random import purpose_rng
from causaltrust.graph import PREDICTION
from causaltrust.scm import SCM, BernoulliMechanism, MultiPathWorld, Noise
from causaltrust.scm._data import columns_to_frame, frame_to_columns, value_to_internal

__all__ = ["MAX_COMBINATIONS", "MIN_DRAWS", "UnitWorlds"]

Array = np.ndarray
Path = tuple[str, ...]
Score = Callable[[pd.DataFrame], Array]
MAX_COMBINATIONS = 1024  # exact enumeration of discrete noise up to this many cell combinations per unit
MIN_DRAWS = 64  # posterior draws per unit otherwise
# Rows (units x draws) evaluated at once by the per-unit forms' draws: bounds memory (the model and the path
# worlds hold several float arrays per row; 3,000 Adult units x 64 draws took 10 GB in one block).
CHUNK_ROWS = 65_536


class UnitWorlds:
    """Counterfactual versions of the test units' features, as the model sees them.

    The prediction node Ŷ is added with the spec's features as parents. Exogenous noise of every node
    that can change is abducted once per unit (``n_draws`` times for discrete nodes); every world below
    reuses it, so contrasts between worlds are per unit.
    """

    def __init__(
        self,
        scm: SCM,
        data: pd.DataFrame,
        features: Sequence[str],
        n_draws: int,
        seed: int,
        unit_draws: int | None = None,
    ) -> None:
        self.scm = scm
        # posterior draws per unit of the per-unit metrics when their noise is not integrated exactly
        self.unit_draws = int(unit_draws) if unit_draws is not None else max(MIN_DRAWS, n_draws)
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
        # Its own stream: test data sampled with the audit's seed must not share draws with abduction.
        self.rng = purpose_rng(seed, "audit-abduction")
        # Latent factors not in the data are posterior draws per row: the per-unit forms redraw them.
        self.drawn = [
            v for v in scm.latent if v not in cols and hasattr(scm.mechanisms[v], "posterior_draws")
        ]
        self.cols = scm.recover_latents(
            cols, needed, random_state=purpose_rng(seed, "audit-latent-posterior")
        )
        self.seed = seed
        self._noises: dict[str, Noise] = {}
        self.index = data.index

    def noises(self, nodes: Sequence[str]) -> dict[str, Noise]:
        """Abducted noise of ``nodes`` (computed once, in topological order)."""
        todo = [v for v in nodes if v not in self._noises]
        if todo:
            self._noises.update(self.scm.abduct(self.cols, todo, random_state=self.rng).noise)
        return {v: self._noises[v] for v in nodes}

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

    # -- per-unit forms -------------------------------------------------------------------------------
    def unit_abs_effects(
        self,
        source: str,
        value: Any,
        baseline: Any,
        actives: Mapping[str, Sequence[Path]],
        score: Score,
        *,
        draws: int | None = None,
    ) -> tuple[dict[str, Array], str]:
        """Per unit: the posterior mean of ``|f(source switched along active) - f(switched along none)|``.

        |Δ| is taken per abduction draw and then averaged (a unit whose output moves by ±c across draws
        scores c, not 0). Continuous noise is abducted exactly. The binary descendants' uniform noise is
        enumerated exactly: within a unit's posterior interval, the thresholds ``p`` of every copy of the
        node split it into cells on which all copies agree, so one midpoint per cell, weighted by the cell's
        width, integrates it out. That holds when every discrete descendant is binary and the product of
        cell counts is at most ``MAX_COMBINATIONS``; otherwise (or with ``draws`` given) the mean is over
        ``unit_draws`` (default ``max(MIN_DRAWS, n_draws)``; ``draws`` when given) posterior draws.
        Returns the arrays and the method string.
        """
        scm = self.scm
        meta = scm.meta[source]
        nodes = [v for v in scm.order if v in _dag.descendants(scm.parents, [source]) & self.needed]
        discrete = [v for v in nodes if scm.meta[v].vtype != "continuous"]
        units = np.arange(self.n_units) * self.n_draws
        unit_cols = {k: v[units] for k, v in self.cols.items() if k not in self.drawn}
        rng = purpose_rng(self.seed, f"audit-unit-abs:{source}")
        names = list(actives)
        sets = [list(actives[k]) for k in names]

        def world(cols: dict[str, Array], noise: Mapping[str, Any], n: int) -> MultiPathWorld:
            v = value_to_internal(value, meta, n, f"audit value of {source}")
            b = (
                None
                if baseline is None
                else value_to_internal(baseline, meta, n, f"audit baseline of {source}")
            )
            return MultiPathWorld(self.parents, scm.mechanisms, noise, cols, {source: (v, b)}, n)

        def effects(w: MultiPathWorld) -> list[Array]:
            f0 = score(self._frame(w.into(PREDICTION, [[]])))
            return [np.abs(score(self._frame(w.into(PREDICTION, [act]))) - f0) for act in sets]

        copies: dict[str, list[tuple[Any, ...]]] = {}
        other = [v for v in discrete if not isinstance(scm.mechanisms[v], BernoulliMechanism)]
        why = f"; {source}'s descendants {other} have non-uniform (e.g. Gumbel) noise" if other else ""
        exact = draws is None and not other and not self.drawn
        if self.drawn:
            why = f"; the latent factors {self.drawn} are integrated over by posterior draws"
        if exact and discrete:
            # The copies of each node the worlds evaluate do not depend on noise values: find them once.
            probe = scm.abduct({k: c[:1] for k, c in unit_cols.items()}, nodes, random_state=rng)
            w0 = world(probe.columns, probe.noise, 1)
            for act in [[], *sets]:
                w0.into(PREDICTION, [act])
            for v in discrete:
                copies[v] = [sigs for (node, sigs) in w0.memo if node == v]
            combos = int(np.prod([len(copies[v]) + 1 for v in discrete]))
            exact = combos <= MAX_COMBINATIONS
            why = f"; {combos} noise cell combinations exceed {MAX_COMBINATIONS}"
        if not exact:
            k = draws if draws is not None else self.unit_draws
            out: dict[str, Array] = {name: np.empty(self.n_units) for name in names}
            step = max(1, CHUNK_ROWS // k)  # units per block; one block (one abduction) when they all fit
            for start in range(0, self.n_units, step):
                block = slice(start, min(start + step, self.n_units))
                repeated = {name: np.repeat(c[block], k) for name, c in unit_cols.items()}
                ab = scm.abduct(repeated, nodes, random_state=rng, n_draws=k)
                diffs = effects(world(ab.columns, ab.noise, ab.n))
                for name, d in zip(names, diffs, strict=True):
                    out[name][block] = d.reshape(-1, k).mean(axis=1)
            why = "" if draws is not None else why
            return out, f"posterior mean of |Δ| per unit over {k} abduction draws{why}"
        n_cells = int(np.prod([len(copies[v]) + 1 for v in discrete]))  # cells per unit, exactly
        out = {name: np.empty(self.n_units) for name in names}
        # Units in blocks of at most CHUNK_ROWS cells: memory stays bounded at any number of units, and each
        # unit's cells are computed row by row as in one block (continuous noise is abducted exactly and the
        # binary nodes' noise is replaced by the cell midpoints, so the abduction draws do not enter).
        step = max(1, CHUNK_ROWS // n_cells)
        for start in range(0, self.n_units, step):
            stop = min(start + step, self.n_units)
            parts = self._exact_block(
                np.arange(start, stop), unit_cols, nodes, discrete, copies, rng, world, effects
            )
            for name, d in zip(names, parts, strict=True):
                out[name][start:stop] = d
        return out, (
            f"posterior mean of |Δ| per unit, exact: {n_cells} noise cell combination(s) of {source}'s "
            "binary descendants enumerated"
        )

    def _exact_block(
        self,
        units: Array,
        unit_cols: Mapping[str, Array],
        nodes: Sequence[str],
        discrete: Sequence[str],
        copies: Mapping[str, Sequence[tuple[Any, ...]]],
        rng: np.random.Generator,
        world: Callable[[dict[str, Array], Mapping[str, Any], int], MultiPathWorld],
        effects: Callable[[MultiPathWorld], list[Array]],
    ) -> list[Array]:
        """The exact per-unit mean |Δ| of ``units`` (positions), one array per active set."""
        scm = self.scm
        rows = units
        weight = np.ones(len(units))
        mids: dict[str, Array] = {}
        for v in discrete:
            cols = {k: c[rows] for k, c in unit_cols.items()}
            ab = scm.abduct(cols, nodes, random_state=rng)
            noise = {**ab.noise, **{d: dataclasses.replace(ab.noise[d], eps=m) for d, m in mids.items()}}
            w = world(ab.columns, noise, len(rows))
            mech = scm.mechanisms[v]
            prob = partial(_probability, len(rows))
            ps = [w.node(v, sigs, output=prob) for sigs in copies[v]]
            p_f = mech.mean({p: ab.columns[p] for p in scm.parents[v]}, len(rows), v)
            observed = ab.columns[v] == 1.0
            lo, hi = np.where(observed, 0.0, p_f), np.where(observed, p_f, 1.0)
            bounds = np.sort(np.column_stack([lo, *(np.clip(p, lo, hi) for p in ps), hi]), axis=1)
            width = np.diff(bounds, axis=1)
            span = (hi - lo)[:, None]
            # An observed value the model gives probability 0 has no posterior interval: one cell, at lo.
            frac = np.where(span > 0, width / np.where(span > 0, span, 1.0), 0.0)
            frac[:, 0] = np.where(span[:, 0] > 0, frac[:, 0], 1.0)
            mid = (bounds[:, :-1] + bounds[:, 1:]) / 2.0
            cells = mid.shape[1]
            rows = np.repeat(rows, cells)
            weight = np.repeat(weight, cells) * frac.ravel()
            mids = {d: np.repeat(m, cells) for d, m in mids.items()}
            mids[v] = mid.ravel()
        cols = {k: c[rows] for k, c in unit_cols.items()}
        ab = scm.abduct(cols, nodes, random_state=rng)
        noise = {**ab.noise, **{d: dataclasses.replace(ab.noise[d], eps=m) for d, m in mids.items()}}
        diffs = effects(world(ab.columns, noise, len(rows)))
        first = int(units[0]) if len(units) else 0
        return [np.bincount(rows - first, weights=weight * d, minlength=len(units)) for d in diffs]


def _probability(n: int, node: str, mech: Any, env: Mapping[str, Array], noise: Any) -> Array:
    """The probability of a binary node's copy (an ``output`` for :meth:`MultiPathWorld.node`)."""
    return np.asarray(mech.mean(env, n, node), dtype=np.float64)
