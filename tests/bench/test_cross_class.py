"""Cross-class audits on real data: a learner that learned a linear SCM, graded by a boosted one (German)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from causaltrust import bench
from causaltrust.exceptions import BenchError

SIZES = {"n_train": 500, "n_test": 300, "n_bootstrap": 5, "n_shadow": 0, "recourse_units": 5}


@pytest.mark.slow
def test_boosted_scm_audits_a_selective_learner_trained_on_a_linear_scm_on_german(tmp_path: Path) -> None:
    kw = {"methods": ["selective_fitted"], "seeds": [0], "n_jobs": 1, "progress": False, **SIZES}
    # unit_draws: the per-unit forms against a boosted SCM evaluate its mechanisms once per draw.
    audit = {"objectives": ["accuracy", "fairness"], "unit_draws": 8}
    # On a dataset the boosted audit is the default for methods that learn a linear SCM (issue 32); the
    # same-class audit must be asked for.
    cross = bench.run(
        "german", store=tmp_path / "x.duckdb", scm_mechanisms="linear", audit_kwargs=audit, **kw
    )
    same = bench.run("german", store=tmp_path / "s.duckdb", scm_mechanisms="linear",
                     audit_mechanisms="linear", audit_kwargs=audit, **kw)  # fmt: skip
    cells = cross.cells()
    assert cells["status"].tolist() == ["ok"], cells["error"].tolist()
    notes = cross.notes()["note"].tolist()
    assert any("mechanisms='gbm'" in n for n in notes)  # the reference SCM is boosted
    assert any(n.startswith("Cross-class audit:") for n in notes)
    assert not any(n.startswith("Cross-class audit:") for n in same.notes()["note"])
    # Same learner, same rows (the method's SCM is linear in both): observational accuracy is identical,
    # counterfactual effects are graded by a different reference model.
    wide_x, wide_s = cross.to_frame().iloc[0], same.to_frame().iloc[0]
    assert wide_x["accuracy.observational"] == wide_s["accuracy.observational"]
    assert np.isfinite(wide_x["fairness.unfair_path_effect"])
    assert wide_x["fairness.unfair_path_effect"] != wide_s["fairness.unfair_path_effect"]
    assert cells["cell_id"].iloc[0] != same.cells()["cell_id"].iloc[0]  # part of the cell's identity
    assert any(n.startswith("Same-class audit:") for n in same.notes()["note"])
    # The model-free DR check depends on the model and the test rows only, not on the audit's class.
    dr = [c for c in wide_x.index if c.startswith("dr.")]
    assert set(dr) >= {"dr.tv", "dr.ctf_de", "dr.ctf_ie", "dr.ctf_se", "dr.clipped"}
    assert wide_x[dr].tolist() == wide_s[dr].tolist()


def test_audit_mechanisms_is_validated() -> None:
    with pytest.raises(BenchError, match="audit_mechanisms: expected None, 'auto', 'linear' or 'gbm'"):
        bench.plan("german", methods=["erm"], seeds=[0], audit_mechanisms="boosted")
