"""Deconfounded reward models on the feedback simulator, against the simulator's known causal reward."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.utils._param_validation import InvalidParameterError

import causaltrust as ct
from causaltrust.exceptions import DataError

CONF = ["peak_hour", "audience"]


class BagOfWords:
    """A fast stand-in for MiniLM: every template slot is a set of words, so attributes are linear in it."""

    def __init__(self) -> None:
        vocab_texts = ct.text.FeedbackSimulator().candidates(2000, random_state=123).texts
        self.vec = CountVectorizer(binary=True).fit(vocab_texts)

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.vec.transform(texts).toarray().astype(float)


@pytest.fixture(scope="module")
def bow() -> BagOfWords:
    return BagOfWords()


def _rho(model, cand):
    return spearmanr(model.predict(cand.texts), cand.true_reward)[0]


def test_simulator_truth_and_confounding():
    sim = ct.text.FeedbackSimulator(confounding=1.0, noise=0.0)
    d = sim.sample(4000, random_state=0)
    # with no noise, outcome - true reward is exactly the confounders' term 1.5*peak + 0.8*audience
    np.testing.assert_allclose(
        d.outcome - d.true_reward,
        1.5 * d.confounders["peak_hour"] + 0.8 * d.confounders["audience"],
        atol=1e-12,
    )
    # selection: at peak hours long posts are more common; P(long | peak) = E[sigmoid(1.5 + 0.5 A)] vs
    # sigmoid(-1.5 + 0.5 A); the gap is > 0.5, far beyond 4 binomial SEs (~0.02 at n ≈ 2000 per group)
    peak = d.confounders["peak_hour"] == 1
    gap = d.attributes.loc[peak, "long"].mean() - d.attributes.loc[~peak, "long"].mean()
    assert gap > 0.5
    # texts carry their attributes: a question to readers appears iff the attribute is set
    has_q = np.array([("What do you think?" in t) or ("Who else has tried this?" in t) for t in d.texts])
    np.testing.assert_array_equal(has_q, d.attributes["question"].to_numpy() == 1)
    same = sim.sample(50, random_state=3)
    assert same.texts == sim.sample(50, random_state=3).texts


def _naive_and_dml(bow, confounding):
    """Candidates, and a naive and a deconfounded reward fitted on the same 1,500 observed posts."""
    sim = ct.text.FeedbackSimulator(confounding=confounding)
    d = sim.sample(1500, random_state=0)
    cand = sim.candidates(300, random_state=1)
    naive = ct.text.RewardModel(encoder=bow, random_state=0).fit(d.texts, d.outcome)
    dml = ct.text.RewardModel(CONF, encoder=bow, random_state=0).fit(
        d.texts, d.outcome, confounders=d.confounders
    )
    return cand, naive, dml


def test_deconfounded_ranks_closer_to_truth(bow):
    cand, naive, dml = _naive_and_dml(bow, confounding=2.0)
    # a Spearman correlation over m = 300 texts has standard error at most ~1/sqrt(m - 3) ≈ 0.058;
    # require the gain to exceed 4 such errors
    tol = 4 / math.sqrt(len(cand.texts) - 3)
    assert _rho(dml, cand) - _rho(naive, cand) > tol
    # the deconfounded weights recover the causal effect of a question (0.8) rather than the confounded one
    q = "What do you think?"
    base = "Big match tonight for the home team."
    effect = dml.predict([f"{base} {q}"])[0] - dml.predict([base])[0]
    # ridge on n = 1500 rows with noise sd 0.5: the coefficient SE is ~0.5/sqrt(1500 * 0.25) ≈ 0.03 per word;
    # the effect sums ~4 words, so allow 0.2
    assert effect == pytest.approx(0.8, abs=0.2)


def test_no_confounding_both_agree(bow):
    cand, naive, dml = _naive_and_dml(bow, confounding=0.0)
    # both estimate the same θ from the same rows; their correlations with the truth differ by estimation
    # noise,
    # bounded here by the Spearman standard error over m = 300 texts (~0.058)
    tol = 1 / math.sqrt(len(cand.texts) - 3)
    assert abs(_rho(dml, cand) - _rho(naive, cand)) < tol
    assert _rho(naive, cand) > 0.9


def test_estimator_contract(bow):
    rm = ct.text.RewardModel(CONF, encoder=bow, folds=3, random_state=1)
    assert clone(rm).get_params()["deconfound"] == CONF
    d = ct.text.FeedbackSimulator().sample(200, random_state=0)
    with pytest.raises(NotFittedError, match="not fitted"):
        rm.predict(d.texts)
    with pytest.raises(DataError, match="confounders"):
        clone(rm).fit(d.texts, d.outcome)
    with pytest.raises(DataError, match="lacks the columns"):
        clone(rm).fit(d.texts, d.outcome, confounders=pd.DataFrame({"peak_hour": d.confounders["peak_hour"]}))
    with pytest.raises(InvalidParameterError, match="'residualize' parameter of RewardModel") as err:
        ct.text.RewardModel(CONF, encoder=bow, residualize="x").fit(
            d.texts, d.outcome, confounders=d.confounders
        )
    assert "'both'" in str(err.value)  # the values allowed (a set, in no fixed order)
    assert "'outcome'" in str(err.value)
    with pytest.raises(DataError, match="one finite outcome"):
        clone(rm).fit(d.texts, d.outcome[:10], confounders=d.confounders)
    fitted = clone(rm).fit(d.texts, d.outcome, confounders=d.confounders)
    again = clone(rm).fit(d.texts, d.outcome, confounders=d.confounders)
    np.testing.assert_array_equal(fitted.predict(d.texts), again.predict(d.texts))  # same seed, same bytes
