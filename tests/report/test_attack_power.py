"""The report states the membership attacks' power next to their results (issue 33, item 4)."""

from __future__ import annotations

import math

import pytest
from sklearn.linear_model import LogisticRegression
from story_frames import aggregate_frame

import causaltrust as ct
from causaltrust._format import fmt_num
from causaltrust.report import render_report
from causaltrust.report._ledger import headline_sentences
from causaltrust.report._power import attack_power_sentence

POWER_ADV, POWER_TPR = "privacy.mia_power[mia_advantage]", "privacy.mia_power[mia_tpr_at_1pct_fpr]"


def test_sentence_names_the_power_and_the_result_and_is_empty_without_power() -> None:
    s = attack_power_sentence({"privacy.mia_advantage": 0.01, POWER_ADV: 0.3})
    assert "loss-threshold attack reaches advantage 0.300 against a memorising random forest" in s
    assert s.endswith("(this model: 0.010).")
    assert attack_power_sentence({"privacy.mia_advantage": 0.01}) == ""  # not measured: nothing claimed
    assert attack_power_sentence({"privacy.mia_advantage": 0.01, POWER_ADV: float("nan")}) == ""


@pytest.fixture(scope="module")
def report() -> ct.audit.TrustReport:
    spec, scm = ct.scenarios.load("readmission")
    train, test = scm.sample(300, random_state=1), scm.sample(300, random_state=2)
    model = LogisticRegression(C=0.1, max_iter=1000).fit(train[spec.features], train[spec.target])
    return ct.audit(
        model, spec=spec, scm=scm, data=test, train_data=train, objectives=["privacy"], n_bootstrap=5,
        n_shadow=4, random_state=0,
    )  # fmt: skip


def test_html_report_states_each_attacks_power_from_its_own_metrics(report: ct.audit.TrustReport) -> None:
    page = render_report(report)
    assert 'id="attack-power"' in page
    for name, power in (("privacy.mia_advantage", POWER_ADV), ("privacy.mia_tpr_at_1pct_fpr", POWER_TPR)):
        stated = f"{fmt_num(report.metric(power).value, 3)} against a memorising random forest"
        assert stated in page
        assert f"(this model: {fmt_num(report.metric(name).value, 3)})" in page


def test_ledger_privacy_sentence_states_the_power_of_its_best_configuration() -> None:
    rows = []
    for config, mia, power in (("dp", 0.0, 0.31), ("erm", 0.2, 0.29)):
        rows.append(
            {
                "config": config, "method": config, "accuracy.observational": 0.75,
                "privacy.mia_advantage": mia, "privacy.epsilon": 1.0, POWER_ADV: power,
            }
        )  # fmt: skip
    frame = aggregate_frame(rows)
    privacy = next(s for _, s in headline_sentences(frame) if s.startswith("<b>Privacy</b>"))
    # the best configuration (dp, advantage 0) with its own row's power, before what ε covers
    assert "reaches advantage 0.310 against a memorising random forest" in privacy
    assert privacy.index("memorising random forest") < privacy.index("Its privacy.epsilon")


def test_notes_state_each_attacks_power_for_every_surface(report: ct.audit.TrustReport) -> None:
    # The CLI audit and the notebook show the notes: each attack's value and its power are in one.
    for name, power in (("privacy.mia_advantage", POWER_ADV), ("privacy.mia_tpr_at_1pct_fpr", POWER_TPR)):
        head = f"{name} = {report.metric(name).value:.3g}; the same attack"
        note = next(n for n in report.notes if n.startswith(head))
        assert f"trained on the same rows: {report.metric(power).value:.3g} (the attack's power" in note


def test_the_power_is_shared_by_audits_of_other_models_on_the_same_rows() -> None:
    # The canary does not depend on the audited model: a second model's audit on the same rows, spec and
    # seed reuses it; with the cache emptied it is computed again and agrees to the bit.
    from sklearn.tree import DecisionTreeClassifier

    from causaltrust.audit.privacy import _membership

    spec, scm = ct.scenarios.load("readmission")
    train, test = scm.sample(300, random_state=3), scm.sample(300, random_state=4)

    def power(model: object) -> tuple[float, object]:
        model.fit(train[spec.features], train[spec.target])  # type: ignore[attr-defined]
        rep = ct.audit(
            model, spec=spec, scm=scm, data=test, train_data=train, objectives=["privacy"], n_bootstrap=5,
            n_shadow=0, random_state=0,
        )  # fmt: skip
        m = rep.metric(POWER_ADV)
        return m.value, m.interval

    _membership._POWER_CACHE.clear()
    first = power(LogisticRegression(max_iter=1000))
    assert len(_membership._POWER_CACHE) == 1
    assert power(DecisionTreeClassifier(random_state=0)) == first
    assert len(_membership._POWER_CACHE) == 1  # reused, not recomputed
    _membership._POWER_CACHE.clear()
    assert power(DecisionTreeClassifier(random_state=0)) == first
    other = ct.audit(
        LogisticRegression(max_iter=1000).fit(train[spec.features], train[spec.target]), spec=spec, scm=scm,
        data=test, train_data=train, objectives=["privacy"], n_bootstrap=5, n_shadow=0, random_state=1,
    )  # fmt: skip
    assert len(_membership._POWER_CACHE) == 2  # another seed is another canary
    assert math.isfinite(other.metric(POWER_ADV).value)
