"""``causaltrust sensitivity``: exit 1 on a flipped threshold, 2 on bad input; the HTML section."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
import yaml
from sklearn.linear_model import LinearRegression
from typer.testing import CliRunner

import causaltrust as ct
from causaltrust.cli import app
from causaltrust.cli._sensitivity import parse_edit

SPEC = {
    "name": "linear",
    "target": "Y",
    "features": ["A", "Z"],
    "variables": {
        "A": {"type": "binary", "parents": []},
        "Z": {"type": "continuous", "parents": ["A"]},
        "Y": {"type": "continuous", "parents": ["A", "Z"]},
    },
    "fairness": {"protected": "A", "unfair_paths": [["A", "Z"]]},
    "thresholds": {"fairness.unfair_path_effect": {"max": 0.5}},
}


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, Path]:
    rng = np.random.default_rng(0)
    n = 1_000
    A = rng.integers(0, 2, n).astype(float)
    Z = 1.0 * A + rng.normal(size=n)
    Y = 0.2 * A + 0.8 * Z + rng.normal(size=n)
    df = pd.DataFrame({"A": A, "Z": Z, "Y": Y})
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    data = tmp_path / "test.csv"
    df.to_csv(data, index=False)
    model = tmp_path / "model.skops"  # data only: no --allow-pickle needed
    sio.dump(LinearRegression().fit(df[["A", "Z"]], df["Y"]), model)
    return spec, data, model


def test_flip_exits_1_and_writes_outputs(files: tuple[Path, Path, Path], tmp_path: Path) -> None:
    spec, data, model = files
    out, page = tmp_path / "sens.csv", tmp_path / "sens.html"
    args = ["sensitivity", str(spec), "--model", str(model), "--data", str(data), "--mechanisms", "linear"]
    # Base unfair-path effect ~ 0.8 * 1.0 > 0.5 fails; with A->Z gone it is 0 and passes: a flip.
    res = CliRunner().invoke(app, [*args, "-e", "drop A->Z", "-o", str(out), "--html", str(page)])
    assert res.exit_code == 1, res.output
    assert "FLIPPED" in res.output
    frame = pd.read_csv(out)
    assert frame["flipped"].any()
    assert "Sensitivity to the causal graph" in page.read_text()
    ok = CliRunner().invoke(app, [*args, "-e", "role A,Z unfair"])
    assert ok.exit_code == 0, ok.output


def test_bad_edit_exits_2(files: tuple[Path, Path, Path]) -> None:
    spec, data, model = files
    res = CliRunner().invoke(
        app, ["sensitivity", str(spec), "--model", str(model), "--data", str(data), "-e", "flip A"]
    )
    assert res.exit_code == 2
    assert "--edit: cannot read 'flip A'" in res.output


def test_parse_edit_forms() -> None:
    assert parse_edit("add E->Y") == {"op": "add_edge", "edge": ["E", "Y"]}
    assert parse_edit("unmeasure X") == {"op": "unmeasure", "variable": "X"}


def test_render_sensitivity_puts_flips_first() -> None:
    frame = pd.DataFrame(
        [
            {"edit": "add A->X", "metric": "fairness.unfair_path_effect", "base": 0.1, "edited": 0.11,
             "change": 0.01, "flipped": False, "reason": ""},
            {"edit": "drop A->Z", "metric": "fairness.unfair_path_effect", "base": 0.1, "edited": 0.0,
             "change": -0.1, "flipped": True, "reason": ""},
            {"edit": "drop E->L", "metric": "", "base": np.nan, "edited": np.nan, "change": np.nan,
             "flipped": False, "reason": "L has no equation"},
        ]
    )  # fmt: skip
    html = ct.report.render_sensitivity(frame)
    assert html.index("drop A-&gt;Z") < html.index("add A-&gt;X")
    assert "not identified: L has no equation" in html
    with pytest.raises(ct.DataError, match="lacks columns"):
        ct.report.render_sensitivity(frame.drop(columns=["reason"]))
