"""Seeds are pooled per configuration only; intervals are Student-t and clipped; the story says who wins."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest

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
    assert text.count("This ledger has no causal method, so there is nothing to compare.") == 3
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
    out = pd.DataFrame(rows)
    out["name"] = out["config"]
    out["spec"] = "s"
    out["params_json"] = "{}"
    out["n_seeds"] = 3
    out.attrs["settings"] = []
    assert metric in out.columns
    return out


def test_headline_says_when_a_baseline_wins_and_calls_overlaps_ties():
    m = "accuracy.interventional"
    agg = _frame(
        [
            {"config": "selective", "method": "selective", m: 0.70, f"{m}::lo": 0.69, f"{m}::hi": 0.71},
            {"config": "erm", "method": "erm", m: 0.80, f"{m}::lo": 0.79, f"{m}::hi": 0.81},
            {
                "config": "selective_fitted",
                "method": "selective_fitted",
                m: 0.79,
                f"{m}::lo": 0.77,
                f"{m}::hi": 0.80,
            },
        ],
        m,
    )
    [(_, sentence)] = headline_sentences(agg)
    assert "best baseline <b>erm</b> 0.800 [0.790, 0.810]" in sentence
    assert '<b>selective</b> 0.700 [0.690, 0.710]: <span class="lose">worse: erm wins' in sentence
    assert '<b>selective_fitted</b> 0.790 [0.770, 0.800]: <span class="even">a tie' in sentence


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
    assert repr(rep) == "<TrustReport s / m: 2 metrics, 0 thresholds passed, 0 notes>"


def test_notebook_displays_are_short_and_use_the_formatter(mixed):
    led, _, _ = mixed
    page = led._repr_html_()
    agg = summarize(led)
    assert page.count("<tr>") == 1 + len(agg)  # header + one row per configuration
    row = agg.iloc[0]
    assert fmt_num(row["accuracy.observational"], 3) in page
    assert repr(led).startswith("Ledger(")


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
