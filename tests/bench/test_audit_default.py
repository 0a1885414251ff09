"""Sweeps on real data audit with the other mechanism class by default and record the model-free DR check."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import causaltrust as ct
from causaltrust import bench
from causaltrust.bench import BenchError

SIZES = {"n_train": 200, "n_test": 200, "n_bootstrap": 10, "n_shadow": 0, "recourse_units": 5}


def _settings(task: bench.CellTask) -> dict[str, object]:
    out: dict[str, object] = json.loads(task.settings_json)
    return out


@pytest.mark.parametrize(("learned", "audited"), [("linear", "gbm"), ("gbm", "linear"), ("auto", "gbm")])
def test_a_dataset_is_audited_with_the_other_class_by_default(learned: str, audited: str) -> None:
    (task,) = bench.plan("german", methods=["unaware"], seeds=[0], scm_mechanisms=learned, **SIZES)
    assert task.audit_mechanisms == audited
    assert task.dr_check is True
    assert _settings(task) | {"audit": {}} == _settings(task) | {
        "scm_mechanisms": learned, "audit_mechanisms": audited, "dr_check": True, "audit": {}
    }  # fmt: skip
    assert bench.default_audit_mechanisms(learned) == audited


def test_the_user_overrides_the_audit_class_and_the_dr_check() -> None:
    kw = {"methods": ["unaware"], "seeds": [0], "scm_mechanisms": "linear", **SIZES}
    (default,) = bench.plan("german", **kw)
    (same,) = bench.plan("german", audit_mechanisms="linear", **kw)
    (no_dr,) = bench.plan("german", dr_check=False, **kw)
    assert same.audit_mechanisms == "linear"
    assert _settings(same)["audit_mechanisms"] == "linear"
    assert no_dr.dr_check is False
    assert _settings(no_dr)["dr_check"] is False
    # Each choice is part of the cell's identity: a ledger never mixes the audits' numbers in one cell.
    assert len({default.cell_id, same.cell_id, no_dr.cell_id}) == 3
    assert "same class" in bench.audit_label(same.settings_json)
    assert "cross-class" in bench.audit_label(default.settings_json)
    with pytest.raises(BenchError, match="dr_check: expected True or False"):
        bench.plan("german", dr_check="yes", **kw)  # type: ignore[arg-type]


def test_simulated_scenarios_keep_their_true_scm_audit() -> None:
    (task,) = bench.plan("readmission", methods=["erm"], seeds=[0], **SIZES)
    assert task.audit_mechanisms is None
    assert task.dr_check is False
    assert not {"scm_mechanisms", "audit_mechanisms", "dr_check"} & set(_settings(task))
    assert bench.audit_label(task.settings_json) == "true SCM (simulated)"


def test_a_sweep_on_a_dataset_records_the_cross_class_audit_and_the_dr_check(tmp_path: Path) -> None:
    # Accuracy only: the boosted reference SCM is still fitted (the audit needs it for the fair-world
    # labels), the per-unit counterfactual forms are not computed, which keeps this test fast.
    led = bench.run("german", methods=["unaware", "erm"], seeds=[0], store=tmp_path / "g.duckdb", n_jobs=1,
                    scm_mechanisms="linear", audit_kwargs={"objectives": ["accuracy"]}, progress=False,
                    **SIZES)  # fmt: skip
    cells = led.cells()
    assert cells["status"].tolist() == ["ok", "ok"], cells["error"].tolist()
    wide = led.to_frame().set_index("method")
    notes = led.notes().merge(cells[["cell_id", "method"]], on="cell_id")
    for method in ("unaware", "erm"):
        said = notes.loc[notes["method"] == method, "note"].tolist()
        assert any(n.startswith("Cross-class audit: the reference SCM's mechanisms ('gbm')") for n in said)
        assert any("mechanisms='gbm'" in n for n in said)
        assert any(n.startswith("DR check (dr.*)") for n in said)
        row = wide.loc[method]
        # TV = DE - IE - SE holds exactly for the point estimates of the DR decomposition.
        assert row["dr.tv"] == pytest.approx(
            row["dr.ctf_de"] - row["dr.ctf_ie"] - row["dr.ctf_se"], abs=1e-12
        )
        assert 0.0 <= row["dr.clipped"] <= 1.0
    # Unawareness does not read sex: its direct effect is 0 by the graph, reported as such with the reason.
    assert wide.loc["unaware", "dr.ctf_de"] == 0.0
    unaware = notes.loc[notes["method"] == "unaware", "note"]
    assert unaware.str.contains("ctf-DE is exactly 0 by the graph").any()
    # ERM reads sex: no exact zero is claimed, its ctf-DE is estimated.
    erm = notes.loc[notes["method"] == "erm", "note"]
    assert not erm.str.contains("exactly 0 by the graph").any()
    assert np.isfinite(wide.loc["erm", "dr.ctf_de"])
    assert wide.loc["erm", "dr.ctf_de"] != 0.0


def test_dr_check_total_variation_is_the_observed_gap_in_predictions() -> None:
    from causaltrust.bench._crosscheck import dr_check

    spec, df = ct.datasets.spec("german"), ct.datasets.load("german")
    train, test = df.iloc[:500], df.iloc[700:]
    model = (
        bench.METHODS["erm"].build(spec, None, {"C": 1.0}, 0).fit(train[spec.features], train[spec.target])
    )
    metrics, notes = dr_check(model, spec, test, random_state=0, n_boot=10)
    got = {m["name"]: m for m in metrics}
    # Independent: the gap in mean predicted probability between the two sexes of the test rows.
    p = model.predict_proba(test[spec.features])[:, 1]
    a = test[spec.fairness.protected]
    x0 = spec.fairness.baseline
    gap = p[(a != x0).to_numpy()].mean() - p[(a == x0).to_numpy()].mean()
    assert got["dr.tv"]["value"] == pytest.approx(gap, abs=1e-12)
    assert set(got) == {"dr.tv", "dr.ctf_de", "dr.ctf_ie", "dr.ctf_se", "dr.clipped"}
    assert all(m["passed"] is None for m in metrics)  # a check, not a threshold
    assert any("no SCM is used" in n for n in notes)
