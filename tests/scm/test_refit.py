"""SCM.refit: the named mechanisms learned again from new rows, every other one kept."""

from __future__ import annotations

import numpy as np
import pytest

import causaltrust as ct
from causaltrust.exceptions import DataError, IdentificationError


def test_refit_learns_the_shifted_mechanism_and_keeps_the_rest() -> None:
    _, true = ct.scenarios.load("readmission")
    shifted = true.intervene(equations={"Z": "bernoulli(sigmoid(0.5 - 1.5*A))"})
    rows = shifted.sample(5_000, random_state=0)
    new = true.refit(["Z"], rows, mechanisms="linear")
    p = np.asarray(new.mechanisms["Z"].mean({"A": np.array([0.0, 1.0])}, 2, "Z"), dtype=float)
    # Closed form sigmoid(0.5) = 0.6225, sigmoid(-1) = 0.2689; A ~ Bernoulli(0.4) gives each level about
    # 2,000 rows or more, so the binomial sd is <= 0.011 and 0.045 is over 4 sd.
    np.testing.assert_allclose(p, [1 / (1 + np.exp(-0.5)), 1 / (1 + np.exp(1.0))], atol=0.045)
    assert new.provenance["nodes"]["Z"]["status"] == "learned"
    assert all(new.mechanisms[v] is true.mechanisms[v] for v in true.mechanisms if v != "Z")
    assert true.mechanisms["Z"] is not new.mechanisms["Z"]  # the original is untouched


def test_refit_refuses_what_it_cannot_learn() -> None:
    _, true = ct.scenarios.load("readmission")
    rows = true.sample(500, random_state=0)
    with pytest.raises(IdentificationError, match="latent"):
        true.refit(["X"], rows)  # X's parent L is latent
    with pytest.raises(DataError, match=r"needs the column\(s\) \['A'\]"):
        true.refit(["Z"], rows.drop(columns="A"))
