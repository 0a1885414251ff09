"""sample() and counterfactual() equal benchmarks/engine_floor.py's hand-written NumPy floor bit for bit on
every built-in scenario (issue 30): the engine's shortcuts change no output."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import causaltrust as ct

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import engine_floor

N = 20_000  # every category, binary value and branch of the equations occurs many times


@pytest.mark.parametrize("name", sorted(engine_floor.SCENARIOS))
def test_sample_and_counterfactual_equal_the_numpy_floor(name: str) -> None:
    floor_sample, floor_cf, protected, baseline, latent = engine_floor.SCENARIOS[name]
    _spec, scm = ct.scenarios.load(name)
    engine_floor._check_equal(name, "sample", scm.sample(N, random_state=5), floor_sample(N, 5))
    observed = scm.sample(N, random_state=6).drop(columns=[latent] if latent else [])
    got = scm.counterfactual(observed, do={protected: baseline}, random_state=7)
    engine_floor._check_equal(name, "counterfactual", got, floor_cf(observed, 7))
