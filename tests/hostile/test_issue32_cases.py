"""The hostile cases of issue 32 that ended silently, in a crash or in exit 3: each one clean now."""

from __future__ import annotations

import warnings
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

import causaltrust as ct
from causaltrust import bench
from causaltrust.cli import app
from causaltrust.exceptions import DataError, SpecError

BASE = "target: Y\nvariables:\n  X: {type: continuous, equation: 'normal(0, 1)'}\n"
SMALL = ["--n-train", "200", "--n-test", "200", "--bootstrap", "2", "--shadows", "0", "--recourse", "2"]


def invoke(*args: object) -> tuple[int, str]:
    res = CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})
    return res.exit_code, res.stderr


def one_line_exit_2(code: int, err: str, fragment: str) -> None:
    assert code == 2, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: "), err
    assert "Traceback" not in err
    assert fragment in last, last


# -- specs accepted silently --------------------------------------------------------------------------
def test_constant_category_probabilities_must_sum_to_one() -> None:
    with pytest.raises(SpecError, match=r"the probabilities sum to 1\.8, not 1"):
        ct.load_spec(
            BASE + "  C: {type: categorical, categories: [a, b], equation: 'categorical([0.9, 0.9])'}\n"
            "  Y: {type: continuous, equation: 'X + normal(0, 1)'}\n"
        )


def test_noise_scale_negative_in_some_rows_is_refused_when_sampling() -> None:
    scm = ct.SCM.from_spec(ct.load_spec(BASE + "  Y: {type: continuous, equation: 'normal(0, X)'}\n"))
    # X ~ N(0, 1): about half the 200 units have a negative sd (the test only needs one).
    with pytest.raises(DataError, match=r"normal\(...\): its scale is negative for \d+ of 200 units"):
        scm.sample(200, random_state=0)
    ok = ct.SCM.from_spec(ct.load_spec(BASE + "  Y: {type: continuous, equation: 'normal(0, abs(X))'}\n"))
    assert np.isfinite(ok.sample(200, random_state=0)["Y"]).all()


def test_infinite_privacy_epsilon_is_refused() -> None:
    with pytest.raises(SpecError, match=r"privacy.epsilon .*finite number"):
        ct.load_spec(
            BASE + "  Y: {type: continuous, equation: 'X + normal(0, 1)'}\nprivacy: {epsilon: .inf}\n"
        )


DEAD_END = (
    "target: Y\nfeatures: [Z]\nvariables:\n"
    "  A: {type: categorical, categories: [0, 1], equation: 'categorical([0.5, 0.5])'}\n"
    "  Z: {type: continuous, equation: 'normal(0, 1)'}\n"
    "  W: {type: continuous, equation: 'A + normal(0, 1)'}\n"
    "  Y: {type: continuous, equation: 'Z + normal(0, 1)'}\n"
    "fairness: {protected: A, baseline: 0, unfair_paths: [[A, W]]}\n"
)


def test_unfair_path_entry_that_selects_no_path_warns() -> None:
    with pytest.warns(UserWarning, match=r"unfair_paths\[0\] \['A', 'W'\]: 'W' has no directed path to the"):
        ct.load_spec(DEAD_END)
    # An entry that ends at a model input (a proxy) selects paths to the prediction: no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ct.load_spec(DEAD_END.replace("features: [Z]", "features: [Z, W]"))


# -- data: crashes and silent-wrong audits ------------------------------------------------------------
@pytest.fixture(scope="module")
def world() -> tuple[ct.TrustSpec, ct.SCM, pd.DataFrame, LogisticRegression]:
    spec, scm = ct.scenarios.load("readmission")
    df = scm.sample(300, random_state=0)
    return spec, scm, df, LogisticRegression().fit(df[spec.features], df[spec.target])


@pytest.mark.parametrize("scale", ["1e308", "x1e200"])
def test_scm_fit_and_self_fitting_audit_refuse_huge_values(world, scale: str) -> None:
    spec, _, df, model = world
    big = df.assign(X=1e308) if scale == "1e308" else df.assign(X=df["X"] * 1e200)
    with pytest.raises(DataError, match=r"column 'X' holds values as large as .*above 1e\+100"):
        ct.SCM.fit(spec, big, random_state=0)
    with pytest.raises(DataError, match=r"column 'X' holds values as large as"):
        ct.audit(model, spec=spec, data=big, objectives=["accuracy"], n_bootstrap=2)


def test_audit_on_all_huge_data_is_refused_not_reported_as_zero(world, tmp_path: Path) -> None:
    spec, scm, df, model = world
    huge = df.assign(**{c: 1e308 for c in spec.features if df[c].dtype.kind == "f"})
    with pytest.raises(DataError, match="holds values as large as 1e\\+308"):
        ct.audit(model, spec=spec, scm=scm, data=huge, objectives=["fairness"], n_bootstrap=2)
    import skops.io as sio

    sio.dump(model, tmp_path / "m.skops")
    huge.to_parquet(tmp_path / "huge.parquet")
    code, err = invoke(
        "audit", "readmission", "--model", tmp_path / "m.skops", "--data", tmp_path / "huge.parquet"
    )
    one_line_exit_2(code, err, "holds values as large as 1e+308")


def test_multiindex_columns_are_refused(world) -> None:
    spec, scm, df, model = world
    multi = df.copy()
    multi.columns = pd.MultiIndex.from_tuples([(c, "") for c in df.columns])
    with pytest.raises(DataError, match="the columns are a 2-level MultiIndex"):
        ct.audit(model, spec=spec, scm=scm, data=multi, objectives=["fairness"], n_bootstrap=2)
    with pytest.raises(DataError, match="the columns are a 2-level MultiIndex"):
        ct.SCM.fit(spec, multi, random_state=0)


def test_audit_on_two_rows_says_so(world) -> None:
    spec, scm, df, model = world
    report = ct.audit(model, spec=spec, scm=scm, data=df.iloc[:2], objectives=["accuracy"], n_bootstrap=2)
    assert any(
        n.startswith("Only 2 test units: every metric describes these units alone") for n in report.notes
    )
    full = ct.audit(model, spec=spec, scm=scm, data=df, objectives=["accuracy"], n_bootstrap=2)
    assert not any(n.startswith("Only ") for n in full.notes)


# -- CLI: bad input that ended in exit 3 --------------------------------------------------------------
def test_bench_grid_value_a_method_refuses_exits_2(tmp_path: Path) -> None:
    grid = '{"C": [-1]}'
    code, err = invoke(
        "bench",
        "readmission",
        "-m",
        "erm",
        "--seeds",
        "1",
        "--grid",
        grid,
        "-o",
        tmp_path / "g.duckdb",
        *SMALL,
    )
    one_line_exit_2(code, err, "every cell failed (1); first error: InvalidParameterError")


def test_bench_on_one_class_data_exits_2(world, tmp_path: Path) -> None:
    spec, _, df, _ = world
    df.assign(**{spec.target: 0}).to_parquet(tmp_path / "one.parquet")
    code, err = invoke(
        "bench", "readmission", "-m", "erm", "--seeds", "1", "--data", tmp_path / "one.parquet",
        "-o", tmp_path / "o.duckdb", *SMALL,
    )  # fmt: skip
    one_line_exit_2(code, err, "the target 'Y' takes one value ('0') in all 300 rows")
    assert not (tmp_path / "o.duckdb").exists()


def test_bench_on_a_spec_with_only_a_target_exits_2(tmp_path: Path) -> None:
    spec = tmp_path / "only.yaml"
    spec.write_text("target: Y\nvariables:\n  Y: {type: continuous, equation: 'normal(0, 1)'}\n")
    code, err = invoke("bench", spec, "-m", "erm", "--seeds", "1", "-o", tmp_path / "y.duckdb", *SMALL)
    one_line_exit_2(code, err, "has no model inputs")


def test_negative_seed_exits_2(world, tmp_path: Path) -> None:
    spec, _, df, model = world
    import skops.io as sio

    sio.dump(model, tmp_path / "m.skops")
    df.to_parquet(tmp_path / "t.parquet")
    model_file, data_file = tmp_path / "m.skops", tmp_path / "t.parquet"
    code, err = invoke("audit", "readmission", "--model", model_file, "--data", data_file, "--seed", "-1")
    one_line_exit_2(code, err, "--seed: expected a non-negative integer, got -1")
    with pytest.raises(DataError, match="random_state: expected a non-negative integer or None, got -1"):
        ct.audit(model, spec=spec, data=df, random_state=-1, objectives=["accuracy"], n_bootstrap=2)


# -- ledgers that bench could not read but report could -------------------------------------------------
@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    store = tmp_path_factory.mktemp("ledger") / "r.duckdb"
    sizes = {"n_train": 200, "n_test": 200, "n_bootstrap": 2, "n_shadow": 0, "recourse_units": 2}
    bench.run("readmission", methods=["erm"], seeds=[0], store=store, n_jobs=1, progress=False, **sizes)
    return store.read_bytes()


def _damaged(data: bytes, how: str, path: Path) -> Path:
    if how == "half":
        path.write_bytes(data[: len(data) // 2])
    elif how == "random8k":
        mid = len(data) // 2
        path.write_bytes(data[:mid] + np.random.default_rng(0).bytes(8192) + data[mid + 8192 :])
    else:
        path.write_bytes(data)
        with duckdb.connect(str(path)) as con:
            con.execute("UPDATE cells SET params_json = '{not json'")
    return path


@pytest.mark.parametrize(
    ("how", "fragment"),
    [("half", "is damaged and cannot be read"), ("random8k", "is damaged and cannot be read"),
     ("json", "holds invalid JSON in a row")],
)  # fmt: skip
def test_damaged_ledger_exits_2_in_bench_as_in_report(
    ledger: bytes, tmp_path: Path, how: str, fragment: str
) -> None:
    for cmd in ("bench", "report"):
        store = _damaged(ledger, how, tmp_path / f"{cmd}.duckdb")
        if cmd == "bench":
            code, err = invoke("bench", "readmission", "-m", "erm", "--seeds", "2", "-o", store, *SMALL)
        else:
            code, err = invoke("report", store, "-o", tmp_path / "r.html")
        one_line_exit_2(code, err, fragment)
