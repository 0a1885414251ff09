"""The text audit finds a planted gender dependence, none in a gender-blind model, and orients signs."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

import causaltrust as ct


@pytest.fixture(scope="module")
def bios():
    return ct.text.load_biographies(600, 300, bias=0.9, random_state=0)


class FemaleBonus:
    """P(positive) = 0.3 + 0.4 * [the text has a female pronoun]: the planted effect is exactly +0.4."""

    classes_ = np.array([0, 1])

    def predict_proba(self, texts):
        fem = np.array([any(w in t.lower().split() for w in ("she", "her")) for t in texts], dtype=float)
        p = 0.3 + 0.4 * fem
        return np.column_stack([1 - p, p])


def test_planted_gender_dependence_is_found_and_matches_a_direct_computation(bios):
    train, test = bios
    clf = make_pipeline(CountVectorizer(), LogisticRegression(max_iter=500))
    clf.fit(train.text.tolist(), train.label)
    texts = test.text.tolist()
    rep = ct.text.audit(clf, texts, relevant="skill", groups=test.ethnicity.tolist(), random_state=0)
    # Independent computation: swap every text, predict both, compare.
    p0 = clf.predict_proba(texts)[:, 1]
    p1 = clf.predict_proba([ct.text.swap_gender(t) for t in texts])[:, 1]
    flips = (p0 >= 0.5) != (p1 >= 0.5)
    assert rep.metric("text.flip_rate").value == pytest.approx(flips.mean(), abs=1e-12)
    assert rep.metric("text.output_change_abs").value == pytest.approx(np.abs(p1 - p0).mean(), abs=1e-12)
    assert rep.metric("text.output_change_p95").value == pytest.approx(np.quantile(np.abs(p1 - p0), 0.95))
    male = (test.gender == "M").to_numpy()
    oriented = np.where(male, p1 - p0, p0 - p1)  # p(female version) - p(male version)
    assert rep.metric("text.output_change").value == pytest.approx(oriented.mean(), abs=1e-12)
    # Training data tie "qualified" to men (bias 0.9): the female version scores lower, and many flip.
    assert rep.metric("text.output_change").value < -0.1
    assert rep.metric("text.flip_rate").value > 0.2
    low, high = rep.metric("text.flip_rate").interval
    assert low <= rep.metric("text.flip_rate").value <= high
    for eth in sorted(set(test.ethnicity)):
        sel = (test.ethnicity == eth).to_numpy()
        assert rep.metric(f"text.flip_rate[{eth}]").value == pytest.approx(flips[sel].mean(), abs=1e-12)
    assert rep.metric("text.relevant_output_change_abs").value > 0.1


def test_a_model_that_never_sees_gendered_tokens_is_invariant_but_still_responds(bios):
    train, test = bios
    skill_only = CountVectorizer(vocabulary=sorted(ct.text.SKILL_SWAP))
    clf = make_pipeline(skill_only, LogisticRegression(max_iter=500)).fit(train.text.tolist(), train.label)
    rep = ct.text.audit(clf, test.text.tolist(), relevant="skill")
    assert rep.metric("text.flip_rate").value == 0.0
    assert rep.metric("text.output_change_abs").value == 0.0
    assert rep.metric("text.relevant_output_change_abs").value > 0.2


def test_signed_change_is_oriented_female_minus_male_on_a_mixed_corpus():
    texts = ["He is a nurse.", "She is a pilot.", "He told his son.", "She met her aunt."]
    rep = ct.text.audit(FemaleBonus(), texts, n_bootstrap=50)
    assert rep.metric("text.output_change").value == pytest.approx(0.4)
    assert rep.metric("text.output_change_abs").value == pytest.approx(0.4)
    assert rep.metric("text.flip_rate").value == 1.0  # 0.3 and 0.7 sit on both sides of 0.5
    assert rep.meta["n_changed"] == 4


def test_thresholds_unchanged_texts_and_html(tmp_path):
    texts = ["He is a nurse.", "The sky is blue.", "She is a pilot."]
    rep = ct.text.audit(FemaleBonus(), texts, thresholds={"text.output_change_abs": {"max": 0.1}})
    assert rep.meta["n_changed"] == 2
    assert not rep.passed
    assert [m.name for m in rep.failures()] == ["text.output_change_abs"]
    html = ct.report.write_html(rep, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "text.flip_rate" in html
    assert "moved most" in html
    assert ct.TrustReport.from_json(rep.to_json()) == rep


def test_bad_input_raises_one_clean_error():
    with pytest.raises(ct.DataError, match="predict_proba"):
        ct.text.audit(object(), ["He left."])
    with pytest.raises(ct.DataError, match="changed none"):
        ct.text.audit(FemaleBonus(), ["The sky is blue."])
    with pytest.raises(ct.DataError, match="one per text"):
        ct.text.audit(FemaleBonus(), ["He left."], groups=["a", "b"])
    with pytest.raises(ct.CausalTrustError, match="unknown metric"):
        ct.text.audit(FemaleBonus(), ["He left."], thresholds={"text.flips": {"max": 0.1}})
