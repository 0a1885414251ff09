"""adapt() on an SCM learned from structure: new offsets when the population shifts through pa(L) too."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import causaltrust as ct
from causaltrust.learners import SelectiveInvarianceClassifier

N_TRAIN, N_NEW = 20_000, 8_000
NEW_SITE = {"X": "L - 1.0*(E == 1) + 1.2*(E == 2)", "A": "bernoulli(0.75)", "F": "-0.5 + normal(0, 1)"}


@pytest.fixture(scope="module")
def setup():
    spec, true = ct.scenarios.load("readmission")
    train = true.sample(N_TRAIN, random_state=0).drop(columns="L")
    fitted = ct.SCM.fit(spec.structure(), train, mechanisms="linear", random_state=0)
    clf = SelectiveInvarianceClassifier(spec=spec, scm=fitted, random_state=0)
    clf.fit(train[spec.features], train["Y"])
    new = true.intervene(equations=NEW_SITE).sample(N_NEW, random_state=1)
    return spec, train, clf, new


def test_adapt_recovers_offsets_under_a_population_shift(setup):
    spec, train, clf, new = setup
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new rows stay inside the training support: no warning
        adapted = clf.adapt(new[spec.features])
    offsets = adapted.scm_.mechanisms["X"].offsets
    # δ_new(e) = mean over new rows at e of X - Ê[L | A, F]: SE = sd(L | A, F) / sqrt(n_e) <= 1 / sqrt(0.25 *
    # N_NEW) = 0.022, plus the error of the kept mechanism at the new population's mean of (A, F): slope SEs
    # 1 / sqrt(N_TRAIN * 0.24) = 0.014 and 1 / sqrt(N_TRAIN) = 0.007 times the shifts 0.35 and 1.0 -> 0.012.
    # Every level is re-estimated, the first category's included (its true offset stays 0).
    tol = 4 * np.sqrt(0.022**2 + 0.012**2)
    np.testing.assert_allclose(offsets, [0.0, -1.0, 1.2], atol=tol)
    # The test has teeth: ignoring that the population moved (mean of X at e minus the training mean of L)
    # is off by E[ΔL] = 1.0 * 0.35 + 0.4 * 1.0 = 0.75 at every level.
    old = clf.scm_.mechanisms["X"].offsets["E"]
    train_l = train["X"].to_numpy() - old[train["E"].to_numpy(dtype=np.int64)]
    naive = new.groupby("E")["X"].mean().to_numpy() - train_l.mean()
    assert np.min(np.abs(naive - [0.0, -1.0, 1.2])) > 0.5 > tol


def test_adapt_warns_outside_the_training_support(setup):
    spec, _, clf, new = setup
    far = new[spec.features].assign(F=new["F"] + 8.0)
    with pytest.warns(UserWarning, match=r"leave the training support of the parents of 'L'.*'F' outside"):
        clf.adapt(far)
