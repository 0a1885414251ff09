"""Seeds are pooled per configuration only; intervals are Student-t and clipped; the story says who wins."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
from story_frames import aggregate_frame

import causaltrust as ct
from causaltrust._format import fmt_interval, fmt_num
from causaltrust.audit import Metric, metric_info
from causaltrust.bench import seed_interval, summarize
from causaltrust.report._ledger import _best_marks, headline_sentences, render_ledger

# t_{0.975} quantiles with 1 and 2 degrees of freedom (tables; not computed by the code under test).
T975 = {1: 12.706204736174707, 2: 4.302652729749464}
SMALL = {
    "n_test": 300,
    "n_bootstrap": 5,
    "n_shadow": 2,
    "recourse_units": 5,
    "n_jobs": 1,
    "progress": False,
    "audit_kwargs": {"objectives": ["accuracy", "fairness"]},
}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """One ledger: erm at n_train 300 and 400 (same seeds), and a second spec under the same name."""
    store = tmp_path_factory.mktemp("mixed") / "results.duckdb"
    ct.bench.run("readmission", methods=["erm"], seeds=[0, 1], store=store, n_train=300, **SMALL)
    ct.bench.run("readmission", methods=["erm"], seeds=[0, 1], store=store, n_train=400, **SMALL)
    spec, _ = ct.scenarios.load("readmission")
    raw = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    raw["variables"]["Y"]["equation"] = raw["variables"]["Y"]["equation"].replace("-1 + 1.2*L", "0.5 + 1.2*L")
    other = ct.load_spec(raw)
    assert other.name == spec.name
    assert other.hash != spec.hash
    return ct.bench.run(other, methods=["erm"], seeds=[0, 1], store=store, n_train=300, **SMALL), spec, other


def test_summary_keeps_settings_and_specs_apart(mixed):
    led, spec, other = mixed
    agg = summarize(led)
    assert len(agg) == 3
    assert set(agg["n_seeds"]) == {2}
    assert agg.attrs["settings"] == ["n_train"]
    # Independent computation: per (spec hash, n_train), the mean and t-interval of the two seeds' values.
    cells = led.data().cells
    wide = led.to_frame().merge(cells[["cell_id", "spec_hash", "settings_json"]], on="cell_id")
    wide["n_train"] = [json.loads(s)["n_train"] for s in wide["settings_json"]]
    for (h, n), g in wide.groupby(["spec_hash", "n_train"]):
        v = g["accuracy.observational"].to_numpy()
        half = T975[1] * v.std(ddof=1) / math.sqrt(2)
        row = agg[(agg["spec_hash"] == h) & (agg["n_train"] == n)]
        assert len(row) == 1
        assert row["accuracy.observational"].item() == pytest.approx(v.mean(), abs=1e-12)
        assert row["accuracy.observational::lo"].item() == pytest.approx(max(0.0, v.mean() - half), abs=1e-12)
        assert row["accuracy.observational::hi"].item() == pytest.approx(min(1.0, v.mean() + half), abs=1e-12)
    # Same name, two specs: the short hash tells them apart.
    labels = set(agg["spec"])
    assert labels == {f"readmission#{spec.hash[:6]}", f"readmission#{other.hash[:6]}"}


def test_report_and_cli_show_the_configurations_apart(mixed):
    from rich.console import Console

    from causaltrust.cli._render import headline_table, print_story

    led, spec, _ = mixed
    page = render_ledger(led)
    agg = summarize(led)
    # The headline table has a spec and an n_train column and one row per configuration.
    table = page.split('id="headline"', 1)[1].split("</table>", 1)[0]
    assert '<th rowspan="2">spec</th>' in table
    assert '<th rowspan="2">n_train</th>' in table
    assert table.count("<tr") == 2 + len(agg)
    for value in agg["accuracy.observational"]:
        assert fmt_num(value, 3) in table
    console = Console(width=200, record=True)
    console.print(headline_table(led, [("accuracy.observational", "obs acc")], title="t"))
    table_text = console.export_text(clear=False)
    print_story(console, led)
    text = console.export_text()
    # Three contexts (two n_train settings of one spec, one other spec), erm only: nothing to compare.
    assert text.count("Only one configuration (erm) here, so there is nothing to compare.") == 3
    assert "n_train" in text
    assert "spec" in text
    assert table_text.count(f"readmission#{spec.hash[:6]}") == 2  # two n_train settings of the first spec
    assert "300" in text
    assert "400" in text


def test_seed_interval_is_student_t_and_clipped():
    v = np.array([0.97, 0.99, 1.0])
    mean, lo, hi = seed_interval(v, bounds=(0.0, 1.0))
    half = T975[2] * v.std(ddof=1) / math.sqrt(3)
    assert mean == pytest.approx(v.mean())
    assert lo == pytest.approx(v.mean() - half)
    assert v.mean() + half > 1.0
    assert hi == 1.0
    assert all(math.isnan(x) for x in seed_interval([0.5])[1:])  # one seed: no interval
    assert seed_interval([math.inf, math.inf])[0] == math.inf  # ε of non-private models: a value


def _frame(rows, metric):
    out = aggregate_frame(rows)
    assert metric in out.columns
    return out


def _row(config, method, passed=None, **metrics):
    """A summary row: each metric given as (mean, lo, hi); ``passed`` the unfair-path threshold's share."""
    out = {"config": config, "method": method}
    for name, (v, lo, hi) in metrics.items():
        m = name.replace("__", ".")
        out[m], out[f"{m}::lo"], out[f"{m}::hi"] = v, lo, hi
    if passed is not None:
        out["fairness.unfair_path_effect::passed"] = passed
    return out


OBS, INT, UNF = "accuracy__observational", "accuracy__interventional", "fairness__unfair_path_effect"


def _costly():
    """erm: most accurate, fails the threshold; selective and unaware meet it (the issue's numbers)."""
    rows = [
        _row(
            "erm",
            "erm",
            0.0,
            **{OBS: (0.766, 0.765, 0.767), INT: (0.760, 0.759, 0.761), UNF: (0.138, 0.13, 0.14)},
        ),
        _row(
            "eg_dp",
            "eg_dp",
            0.0,
            **{OBS: (0.70, 0.69, 0.71), INT: (0.70, 0.69, 0.71), UNF: (-0.28, -0.29, -0.27)},
        ),
        _row(
            "selective",
            "selective",
            1.0,
            **{OBS: (0.740, 0.739, 0.741), INT: (0.742, 0.741, 0.743), UNF: (0.0, -0.001, 0.001)},
        ),
        _row(
            "unaware",
            "unaware",
            1.0,
            **{OBS: (0.745, 0.744, 0.746), INT: (0.750, 0.749, 0.751), UNF: (0.010, 0.008, 0.012)},
        ),
    ]
    return _frame(rows, "accuracy.interventional")


def test_story_names_who_meets_the_thresholds_first_then_ranks_only_those():
    agg = _costly()
    thresholds = {"s": {"fairness.unfair_path_effect": {"min": None, "max": 0.02}}}
    sentences = [s for _, s in headline_sentences(agg, thresholds, {"s": 1.0})]
    first = sentences[0]
    assert first.startswith(
        "<b>Thresholds</b> — the spec requires fairness.unfair_path_effect |value| ≤ 0.02."
    )
    assert (
        "2 of 4 configurations meet every threshold on every seed: <b>selective</b>, <b>unaware</b>." in first
    )
    # ε is judged only when listed under thresholds (DESIGN "Exit codes"): the story says it is not.
    assert "privacy.epsilon is reported, not judged: the spec's privacy budget ε = 1 is not listed" in first
    accuracy, fairness = sentences[1], sentences[2]
    # Best among the eligible on accuracy: unaware (0.750), not erm (0.760, fails the threshold).
    assert "best <b>unaware</b> 0.750 [0.749, 0.751]" in accuracy
    # Its cost against the most accurate overall: 76.6 − 74.5 = 2.1 and 76.0 − 75.0 = 1.0 points.
    assert (
        "meeting every threshold costs 2.1 points of observational accuracy, 1.0 of interventional"
        in accuracy
    )
    # Fairness: selective (|0.000|) beats unaware (|0.010|); eg_dp's −0.28 is not eligible and never "good".
    assert "best <b>selective</b> 0.000 [-0.001, 0.001]" in fairness
    # The sentence: 0.138 → 0.000 for 76.6 − 74.0 = 2.6 and 76.0 − 74.2 = 1.8 points.
    assert "0.138 → 0.000 for 2.6 points of observational accuracy, 1.8 of interventional" in fairness
    assert "Best causal <b>selective</b>" in fairness
    assert "best baseline <b>unaware</b>" in fairness
    assert '<span class="win">causal better</span>' in fairness


def test_closer_to_zero_ranks_the_absolute_value_and_infinity_ranks_last():
    from causaltrust.report._ledger import _tie_ranks

    agg = _costly().drop(columns=[c for c in _costly().columns if c.endswith("::passed")])
    sentences = [s for _, s in headline_sentences(agg)]
    assert sentences[0].startswith("<b>Thresholds</b> — the spec sets none")
    fairness = next(s for s in sentences if s.startswith("<b>Fairness</b>"))
    assert "ranked by |value|" in fairness
    assert "best <b>selective</b> 0.000" in fairness  # not eg_dp's −0.28
    # |effects| 0.138, 0.28, 0.000, 0.010 with disjoint intervals: ranks 3, 4, 1, 2.
    assert _tie_ranks(agg, "fairness.unfair_path_effect") == [3.0, 4.0, 1.0, 2.0]
    eps = agg.assign(**{"privacy.epsilon": [math.inf, math.inf, 1.0, math.inf]})
    assert _tie_ranks(eps, "privacy.epsilon") == [4.0, 4.0, 1.0, 4.0]  # ∞ last, never ranked good


def test_overlapping_intervals_share_a_rank_and_one_seed_is_said_once():
    from causaltrust.report._ledger import _tie_ranks

    m = "accuracy.interventional"
    rows = [
        _row("a", "erm", **{"accuracy__interventional": (0.80, 0.79, 0.81)}),
        _row("b", "selective", **{"accuracy__interventional": (0.79, 0.77, 0.80)}),  # overlaps a
        _row("c", "irm", **{"accuracy__interventional": (0.70, 0.69, 0.71)}),
    ]
    agg = _frame(rows, m)
    assert _tie_ranks(agg, m) == [1.0, 1.0, 3.0]
    [_, accuracy] = [s for _, s in headline_sentences(agg)]
    assert "best <b>a</b> 0.800 [0.790, 0.810], tied with <b>b</b> (intervals overlap)" in accuracy
    assert '<span class="even">a tie (intervals overlap)</span>' in accuracy
    one = agg.drop(columns=[f"{m}::lo", f"{m}::hi"]).assign(n_seeds=1)
    sentences = [s for _, s in headline_sentences(one)]
    assert not any("intervals overlap" in s for s in sentences)
    assert sentences[-1] == "One seed: point estimates only, no intervals, so nothing is called a tie."


def test_meeting_the_thresholds_needs_every_seed_and_every_measured_threshold():
    from causaltrust.bench import meets_thresholds

    agg = pd.DataFrame(
        {
            "config": ["a", "b", "c"],
            "x::passed": [1.0, 0.5, 1.0],
            "y::passed": [1.0, 1.0, np.nan],  # c was not measured on y: not met
        }
    )
    assert meets_thresholds(agg).tolist() == [True, False, False]
    assert meets_thresholds(agg.drop(columns=["x::passed", "y::passed"])).tolist() == [None, None, None]


def test_informative_metrics_crown_nobody_and_ties_are_marked():
    assert metric_info("fairness.fair_path_effect").better == "informative"
    assert metric_info("robustness.contextual_path_effect").better == "informative"
    assert metric_info("explainability.path_attribution[A->Y]").better == "informative"
    f = "fairness.fair_path_effect"
    u = "fairness.unfair_path_effect"
    agg = _frame(
        [
            {"config": "a", "method": "erm", f: 0.3, u: 0.10, f"{u}::lo": 0.08, f"{u}::hi": 0.12},
            {"config": "b", "method": "erm", f: 0.1, u: -0.02, f"{u}::lo": -0.03, f"{u}::hi": -0.01},
            {"config": "c", "method": "erm", f: 0.2, u: 0.025, f"{u}::lo": 0.015, f"{u}::hi": 0.04},
        ],
        f,
    )
    assert _best_marks(agg, f) == {}
    # |effect|: b is best (0.02); c's |interval| [0.015, 0.04] overlaps b's [0.01, 0.03]: a tie.
    assert _best_marks(agg, u) == {1: "best", 2: "tie"}
    with pytest.raises(ct.bench.BenchError, match="informative"):
        ct.bench.directions([f])


def test_one_formatter_for_every_surface():
    rep = ct.TrustReport(
        (
            Metric("privacy.epsilon", math.inf, better="lower"),
            Metric("accuracy.observational", 0.81234, 0.8, 0.82),
        ),
        meta={"spec": "s", "model": "m"},
    )
    html_text = rep._repr_html_()
    page = ct.report.render_report(rep)
    for text in (html_text, page):
        assert "∞" in text
        assert "0.8123" in text
        assert fmt_interval(0.8, 0.82) in text
    assert "inf<" not in html_text
    assert repr(rep) == "<TrustReport s / m: 2 metrics, no thresholds set, 0 notes>"


def test_notebook_report_shows_at_most_15_rows_thresholds_first_and_how_to_see_the_rest():
    metrics = [Metric(f"accuracy.shift[s{i}]", 0.5 + i / 100, better="higher") for i in range(60)]
    metrics += [
        Metric("accuracy.observational", 0.8, better="higher"),
        Metric("fairness.unfair_path_effect", 0.1, better="zero", threshold_max=0.02, passed=False),
        Metric("privacy.epsilon", math.inf, better="lower"),
    ]
    rep = ct.TrustReport(tuple(metrics), meta={"spec": "s", "model": "m"})
    page = rep._repr_html_()
    assert page.count("<tr>") == 1 + 15
    assert "TrustReport" not in page  # a heading a person reads, not the literal repr
    assert "Trust report — s / m: 63 metrics, 1 of 1 thresholds failed, 0 notes" in page
    assert "15 of 63 metrics shown. All of them: <code>rep.to_frame()</code>" in page
    rows = page.split("<tr>")[2:]
    assert rows[0].startswith("<td>fairness.unfair_path_effect</td>")  # judged first
    assert rows[1].startswith("<td>accuracy.observational</td>")  # then the headline metrics
    assert rows[2].startswith("<td>privacy.epsilon</td>")
    assert repr(rep) == "<TrustReport s / m: 63 metrics, 1 of 1 thresholds failed, 0 notes>"
    short = ct.TrustReport(tuple(metrics[-3:]), meta={"spec": "s", "model": "m"})
    assert "shown" not in short._repr_html_()


def test_notebook_displays_are_short_and_use_the_formatter(mixed):
    led, _, _ = mixed
    page = led._repr_html_()
    agg = summarize(led)
    assert page.count("<tr>") == 1 + len(agg)  # header + one row per configuration
    row = agg.iloc[0]
    assert fmt_num(row["accuracy.observational"], 3) in page
    cells = led.data().cells
    n_methods, n_seeds = cells["method"].nunique(), cells["seed"].nunique()
    assert repr(led) == (
        f"Ledger({str(led.path)!r}): {len(cells)} cells: {len(cells)} ok; "
        f"{n_methods} methods, {n_seeds} seeds"
    )
    assert repr(ct.bench.Ledger(led.path.with_name("none.duckdb"))).endswith(": no file yet")


def test_effect_decomposition_displays_briefly():
    _, scm = ct.scenarios.load("readmission")
    dec = ct.scm.decompose_effects(scm, n=2_000, random_state=0)
    text = repr(dec)
    first = dec.effects[0]
    assert text.startswith(
        f"<EffectDecomposition on Y (n=2000): {first.name}={fmt_num(first.estimate, signed=True)}"
    )
    assert len(text) < 200
    page = dec._repr_html_()
    assert page.count("<tr>") == 1 + len(dec.effects)
    assert fmt_interval(first.low, first.high, signed=True) in page


def test_every_registered_method_gets_its_own_colour_and_shape():
    from causaltrust.report._ledger import _styles

    names = sorted(ct.bench.METHODS)
    assert len(names) >= 15
    agg = pd.DataFrame({"config": names, "method": names})
    styles = _styles(agg)
    pairs = {(s["color"], s["symbol"]) for s in styles.values()}
    assert len(pairs) == len(names)
    # Neighbours in the sorted list differ in both colour and shape.
    for a, b in itertools.pairwise(names):
        assert styles[a]["color"] != styles[b]["color"]
        assert styles[a]["symbol"] != styles[b]["symbol"]
    assert {n for n, s in styles.items() if s["causal"]} == set(ct.bench.causal_methods())


def test_notes_collapse_with_a_count_and_say_when_numbers_vary():
    from causaltrust.report._html import notes_html

    same = ["Couplings are assumptions."] * 3
    varying = [f"recourse: {k} of 643 rejected units searched" for k in (10, 12)]
    page = notes_html(same + varying + ["once"])
    items = page.split("<li>")[1:]
    assert len(items) == 3
    assert items[0].startswith('<span class="count" title="times this note was recorded">×3</span>Couplings')
    assert "variants" not in items[0]
    assert "×2" in items[1]
    assert "2 variants differing in numbers" in items[1]
    assert items[2].startswith("once")


def test_privacy_sentence_states_what_epsilon_covers():
    # Issue 33: the privacy line says what its best configuration's ε is a guarantee for.
    mia, eps, sens = "privacy__mia_advantage", "privacy__epsilon", "privacy__sensitive_epsilon"
    rows = [
        _row("dp", "dp_lr", **{OBS: (0.75, 0.74, 0.76), mia: (0.0, -0.01, 0.01), eps: (1.0, 1.0, 1.0)}),
        _row("erm", "erm", **{OBS: (0.77, 0.76, 0.78), mia: (0.1, 0.09, 0.11), eps: (math.inf,) * 3}),
        _row(
            "rr",
            "rr",
            **{OBS: (0.77, 0.76, 0.78), mia: (0.2, 0.19, 0.21), eps: (math.inf,) * 3, sens: (0.5,) * 3},
        ),
    ]
    sentences = [s for _, s in headline_sentences(_frame(rows, "privacy.mia_advantage"))]
    privacy = next(s for s in sentences if s.startswith("<b>Privacy</b>"))
    assert "best <b>dp</b>" in privacy
    assert "Its privacy.epsilon: 1.000, the accountant's ε for adding or removing one training row" in privacy
    worst = [r for r in rows if r["config"] != "dp"]
    privacy = next(s for _, s in headline_sentences(_frame(worst, "privacy.mia_advantage")) if "Privacy" in s)
    assert "Its privacy.epsilon: ∞: no DP accountant" in privacy
