"""Seed derivation: one independent random stream per (seed, purpose), the same bytes for the same pair."""

from __future__ import annotations

import zlib

import numpy as np

from causaltrust.exceptions import DataError

__all__ = ["derive_seed", "purpose_rng", "purpose_sequence"]


def purpose_sequence(seed: int, purpose: str) -> np.random.SeedSequence:
    """The SeedSequence of ``purpose`` under ``seed``: streams of different purposes are independent."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise DataError(f"random_state: expected a non-negative integer, got {seed!r}")
    return np.random.SeedSequence([int(seed), zlib.crc32(purpose.encode())])


def purpose_rng(seed: int, purpose: str) -> np.random.Generator:
    """A generator for one purpose (abduction, one metric's bootstrap, ...) under ``seed``."""
    return np.random.default_rng(purpose_sequence(seed, purpose))


def derive_seed(seed: int, purpose: str) -> int:
    """An independent 32-bit integer seed for one purpose of ``seed``."""
    return int(purpose_sequence(seed, purpose).generate_state(1)[0])
