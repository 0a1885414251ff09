"""Re-estimating spurious mechanisms from unlabeled data of a new environment (sparse mechanism shift).

A spurious environment path changes what is *measured* (X = L + artifact(E)), not the outcome. When only
that mechanism shifts, everything else in the SCM stays valid, and the new artifact is identified from
unlabeled rows: the latent's own mechanism is invariant, so E[L | its parents] is known, and for each
environment level ``artifact_new(e) = mean(X - c * E[L | parents of L] - rest)`` over the new rows at e.
For a spurious node whose parents are all observed, the mechanism is simply refitted on the new rows.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from causaltrust.exceptions import DataError, IdentificationError
from causaltrust.learners._base import columns_with_unseen
from causaltrust.scm import SCM
from causaltrust.scm._mechanisms import Mechanism, Noise
from causaltrust.spec import TrustSpec

__all__ = ["OffsetMechanism", "adapt_spurious"]

Array = np.ndarray


class OffsetMechanism(Mechanism):
    """``base(parents with E at its reference) + offset[E]``: a measurement with a per-level artifact."""

    def __init__(self, base: Mechanism, env: str, ref_code: int, offsets: Array) -> None:
        self.base = base
        self.env = env
        self.ref_code = ref_code
        self.offsets = offsets
        self.parents = base.parents
        self.vtype = base.vtype
        self.description = f"{base.description}; re-estimated {env} artifacts {np.round(offsets, 3).tolist()}"

    def affine_in(self) -> frozenset[str]:
        return self.base.affine_in() - {self.env}

    def _value(self, env: Any, n: int) -> Array:
        at_ref = {**env, self.env: np.full(n, self.ref_code, dtype=np.int64)}
        base = np.broadcast_to(self.base.mean(at_ref, n, "adapted"), (n,))
        codes = np.asarray(env[self.env], dtype=np.int64)
        return base + self.offsets[np.clip(codes, 0, len(self.offsets) - 1)]

    def draw_noise(self, n: int, rng: np.random.Generator) -> Noise:
        return Noise(None)

    def abduct(self, value: Array, env: Any, rng: np.random.Generator, variable: str) -> Noise:
        return Noise(None, value=value, parents={p: env[p] for p in self.parents})

    def evaluate(self, env: Any, noise: Noise, n: int) -> Array:
        return self._keep_factual(env, noise, self._value(env, n))

    def mean(self, env: Any, n: int, variable: str) -> Array:
        return self._value(env, n)


def _spurious_nodes(spec: TrustSpec) -> list[str]:
    return list(dict.fromkeys(e[1] for e in spec.spurious_paths()))


def adapt_spurious(scm: SCM, spec: TrustSpec, X: pd.DataFrame) -> SCM:
    """An SCM whose spurious mechanisms are re-estimated from the unlabeled rows ``X``."""
    if spec.robustness is None or not spec.spurious_paths():
        raise DataError("adapt() needs spurious environment paths in the spec ('robustness.spurious_paths')")
    env = spec.robustness.environment
    meta = scm.meta[env]
    if meta.vtype != "categorical":
        raise DataError(f"adapt() re-estimates per environment level; {env!r} must be categorical")
    # New environment levels (a new hospital) are appended so that their codes exist.
    seen = pd.unique(X[env].to_numpy(dtype=object)).tolist()
    new_levels = [c for c in seen if c not in meta.categories]
    model = scm.intervene(categories={env: [*meta.categories, *new_levels]}) if new_levels else scm
    names = [f for f in spec.features if f in model.meta]
    cols = columns_with_unseen(X, model.meta, names, "adapt")
    n = len(X)
    mechs = dict(model.mechanisms)
    k = len(model.meta[env].categories)
    for node in _spurious_nodes(spec):
        if node not in cols:
            raise DataError(f"adapt(): the spurious node {node!r} must be among the features")
        mech = model.mechanisms[node]
        latent = [p for p in mech.parents if not model.meta[p].observed]
        if not latent:
            mechs[node] = _refit_observed(model, spec, node, X)
            continue
        if len(latent) != 1 or latent[0] not in mech.affine_in():
            raise IdentificationError(
                f"adapt(): {node!r} has latent parents {latent}; re-estimating it needs a noise-free "
                "measurement additive in one latent (X = L + artifact(E))"
            )
        lat = latent[0]
        lat_parents = model.parents[lat]
        if any(p not in cols for p in lat_parents):
            raise DataError(f"adapt(): the parents of {lat!r} {list(lat_parents)} must be among the features")
        _warn_support(model, lat, cols)
        env_cols = dict(cols)
        env_cols[lat] = np.asarray(model.mechanisms[lat].mean(env_cols, n, lat), dtype=np.float64)
        ref_code = 0
        at_ref = {**env_cols, env: np.full(n, ref_code, dtype=np.int64)}
        expected_at_ref = np.broadcast_to(mech.mean(at_ref, n, node), (n,))
        resid = cols[node] - expected_at_ref
        codes = cols[env]
        offsets = np.zeros(k)
        counts = np.bincount(codes, minlength=k)
        sums = np.bincount(codes, weights=resid, minlength=k)
        # Levels absent from the new data keep their old artifact (what the old mechanism implies).
        old = np.array([
            float(np.mean(np.broadcast_to(
                mech.mean({**env_cols, env: np.full(n, c, dtype=np.int64)}, n, node), (n,)
            ) - expected_at_ref))
            for c in range(k)
        ])  # fmt: skip
        offsets = np.where(counts > 0, sums / np.maximum(counts, 1), old)
        mechs[node] = OffsetMechanism(mech, env, ref_code, offsets)
    prov = {
        **model.provenance,
        "adapted": {"rows": n, "nodes": _spurious_nodes(spec), "new_levels": new_levels},
    }
    return SCM(model.spec, mechs, categories={v: m.categories for v, m in model.meta.items() if m.categories},
               provenance=prov)  # fmt: skip


def _warn_support(model: SCM, lat: str, cols: dict[str, Array]) -> None:
    """Warn when the new rows' parents of ``lat`` leave the training support recorded by ``SCM.fit``.

    ``adapt`` trusts L's kept mechanism E[L | pa(L)]; outside the rows it was fitted on, that is
    extrapolation, and the re-estimated offsets absorb its error.
    """
    support = model.provenance.get("support", {}).get(lat)
    if not support:
        return
    outside = []
    for p, sup in support.items():
        col = cols[p]
        if model.meta[p].vtype == "continuous":
            share = float(np.mean((col < sup[0]) | (col > sup[1])))
            if share > _OUTSIDE:
                outside.append(
                    f"{share:.1%} of {p!r} outside the training range [{sup[0]:.3g}, {sup[1]:.3g}]"
                )
        else:
            new = sorted(set(np.unique(col).tolist()) - set(sup))
            if new:
                labels = [model.meta[p].categories[c] if model.meta[p].categories else c for c in new]
                outside.append(f"{p!r} takes values {labels} never seen in training")
    if outside:
        warnings.warn(
            f"adapt(): the new rows leave the training support of the parents of {lat!r} ("
            + "; ".join(outside)
            + f"); the kept mechanism of {lat!r} extrapolates there, and the re-estimated offsets absorb its "
            "error",
            UserWarning,
            stacklevel=4,
        )


# Share of new rows outside the training range of a continuous parent above which ``adapt`` warns: a few
# rows past the training extremes are expected from any sample of the same population.
_OUTSIDE = 0.01


def _refit_observed(model: SCM, spec: TrustSpec, node: str, X: pd.DataFrame) -> Mechanism:
    """Refit one mechanism whose parents are all observed, on the new environment's rows."""
    return model.refit([node], X, random_state=0, cv=3).mechanisms[node]
