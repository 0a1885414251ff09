"""Bounded robustness: train for shifts of the spurious mechanisms of size up to γ noise scales (issue 25).

The selective learner's ``robustness="map"`` trusts the training artifact exactly (γ = 0) and
``robustness="drop"`` trusts nothing about the spurious inputs (γ = ∞). ``robustness="bounded"`` with
``shift_strength=γ`` sits between them. The shift family (docs/DESIGN.md, "Issue 25"): every environment's
offset on a spurious mechanism may move away from its *training* value by ``u_e``, in units of the noise
scale ``σ`` of the variable the mechanism shifts (a measurement ``X = L + δ(E)``: the latent L's noise sd;
any other spurious child: its own noise sd). In the mapped world (environment held at the reference along
the spurious paths) a unit of environment e measured under the moved mechanism reads ``x̃ + u_e``.

Training is counterfactual augmentation along the spurious paths only, through the SCM: the mapping has
already abducted the latent and recomputed the measured feature at the reference offsets; each unit is then
copied with the offset moved by ``+u`` and by ``-u`` (antithetic pair), ``u = γ σ z``, ``z`` standard
normal rescaled so that the mean of ``z²`` over the units is exactly 1. Labels and every other column are
left as they are (under the spec the label does not depend on the artifact). For squared loss and a model
linear in the spurious feature with environment intercepts this objective *is* the worst case over every
per-environment shift ``|u_e| <= γσ`` (only ``E[u²] = γ²σ²`` enters, and ``sup u² = γ²σ²``); for a convex
loss it is that worst case to second order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from causaltrust import _dag
from causaltrust.exceptions import SpecError
from causaltrust.scm import SCM
from causaltrust.spec import TrustSpec

__all__ = ["augment_spurious", "check_shift_strength", "shift_scales", "spurious_inputs"]

Array = np.ndarray


def check_shift_strength(value: Any, owner: str) -> float:
    """``shift_strength`` as a float; a :class:`ValueError` naming the fix unless it is finite and >= 0."""
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    if not ok or not math.isfinite(float(value)) or float(value) < 0:
        raise ValueError(
            f"{owner}: shift_strength must be a finite number >= 0 (the largest spurious shift to hold up "
            f"under, in noise standard deviations; 0 is robustness='map'), got {value!r}"
        )
    return float(value)


def spurious_inputs(spec: TrustSpec, parents: Mapping[str, Sequence[str]], owner: str) -> list[str]:
    """The model inputs whose mechanism carries a spurious edge (the ones a bounded shift moves).

    Each must be continuous, and no other input may depend on it (the shift then moves that column only).
    """
    heads = sorted({e[1] for e in spec.spurious_paths()})
    features = set(spec.features)
    out = []
    for v in heads:
        below = (_dag.descendants(parents, [v]) - {v}) & features
        if below:
            raise SpecError(
                f"{owner}(robustness='bounded'): the spurious node {v!r} feeds the input(s) {sorted(below)}; "
                "bounded robustness shifts a spurious mechanism's own column only. Use robustness='map' or "
                "'drop', or make those inputs children of the latent instead"
            )
        if v in features:
            if spec.variables[v].type != "continuous":
                raise SpecError(
                    f"{owner}(robustness='bounded'): the spurious node {v!r} is {spec.variables[v].type}; "
                    "an additive shift in noise units needs a continuous node. Use robustness='map' or 'drop'"
                )
            out.append(v)
    return out


def shift_scales(
    scm: SCM, spec: TrustSpec, full: Mapping[str, Array], nodes: Sequence[str]
) -> dict[str, float]:
    """σ per spurious input: the noise sd of the variable its mechanism shifts, from the units in ``full``.

    For a measurement ``X = L + δ(E)`` (``measures: L``) that is the latent L's noise sd,
    ``sd(L - E[L | parents of L])`` under the SCM; for any other spurious child its own noise sd. ``full``
    holds internal columns of the training units with the latents recovered.
    """
    out = {}
    for v in nodes:
        node = spec.variables[v].measures or v
        mech = scm.mechanisms[node]
        env = {p: full[p] for p in scm.parents[node]}
        value = np.asarray(full[node], dtype=np.float64)
        resid = value - mech.mean(env, len(value), node)
        out[v] = float(np.std(resid))
    return out


def augment_spurious(
    mapped: Mapping[str, Array],
    target: Array,
    scales: Mapping[str, float],
    gamma: float,
    *,
    units: int,
    draws: int,
    copies: int,
    seed: int,
) -> tuple[dict[str, Array], Array]:
    """Copies of the mapped units with each spurious column shifted by ``±γσz`` (labels untouched).

    Parameters
    ----------
    mapped : mapping
        Internal columns in the mapped world, ``units * draws`` rows, unit-major.
    target : array
        The training target for those rows.
    scales : mapping
        σ per spurious input (:func:`shift_scales`); the other columns are copied unchanged.
    gamma : float
        The shift strength γ.
    units, draws : int
        The row layout of ``mapped``.
    copies : int
        2: an antithetic pair ``+u, -u`` per unit; 1: one shifted copy (a differentially private estimator
        must see each person once).
    seed : int
        Seed of the shift draws.

    Returns
    -------
    (columns, target)
        ``units * copies * draws`` rows ordered (unit, copy, draw): each (unit, copy) keeps its ``draws``
        contiguous, so identical draws still collapse into one row.
    """
    if copies not in (1, 2):
        raise ValueError(f"copies must be 1 or 2, got {copies!r}")
    rng = np.random.default_rng([seed, 0xB0D])
    z = rng.standard_normal((units, len(scales)))
    # Exactly unit second moment: the squared-loss objective is then exactly the worst case at size γσ.
    z /= np.sqrt(np.mean(z**2, axis=0, keepdims=True))
    sign = np.array([1.0, -1.0])[:copies]
    shape = (units, copies, draws)
    out: dict[str, Array] = {}
    for f, v in mapped.items():
        out[f] = np.broadcast_to(np.asarray(v).reshape(units, 1, draws), shape).reshape(-1)
    for j, (f, sd) in enumerate(scales.items()):
        u = gamma * sd * z[:, j][:, None] * sign[None, :]
        out[f] = (np.asarray(mapped[f], dtype=np.float64).reshape(units, 1, draws) + u[:, :, None]).reshape(
            -1
        )
    y = np.broadcast_to(np.asarray(target).reshape(units, 1, draws), shape).reshape(-1)
    return out, y
