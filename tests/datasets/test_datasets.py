"""Shipped datasets: offline loaders (documented shapes, dtypes, counts); specs that validate and fit."""

from __future__ import annotations

import io
import socket

import numpy as np
import pandas as pd
import pytest

import causaltrust as ct
from causaltrust import datasets


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any socket use fails: the loaders must work offline."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a dataset loader tried to open a network connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _is_str(s: pd.Series) -> bool:
    return bool(pd.api.types.is_string_dtype(s.dtype)) and not pd.api.types.is_numeric_dtype(s.dtype)


# -- loaders --------------------------------------------------------------------------------------------
@pytest.mark.usefixtures("no_network")
def test_adult_shapes_counts_and_dtypes() -> None:
    full = datasets.load_adult(missing="keep")
    # UCI: 32,561 training + 16,281 test rows; 45,222 without a missing value (the usual benchmark size).
    assert full.shape == (48_842, 16)
    assert full["split"].value_counts().to_dict() == {"train": 32_561, "test": 16_281}
    assert full[["workclass", "occupation", "native_country"]].isna().sum().tolist() == [2_799, 2_809, 857]
    df = datasets.load_adult()
    assert df.shape == (45_222, 16)
    assert not df.isna().any().any()
    assert len(df) == int(full.notna().all(axis=1).sum())
    # The test file's labels end with "." in the raw data; after cleaning income is 0/1 in both splits.
    assert df["income"].dtype == np.int64
    assert set(df["income"].unique()) == {0, 1}
    assert int(df["income"].sum()) == 11_208
    assert df.groupby("split")["income"].mean().between(0.2, 0.3).all()
    for c in ("age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"):
        assert df[c].dtype == np.int64, c
    for c in ("workclass", "education", "marital_status", "occupation", "relationship", "race", "sex"):
        assert _is_str(df[c]), c
    assert not df["sex"].str.startswith(" ").any()  # the raw file's leading spaces are stripped
    with pytest.raises(ct.DataError, match="missing must be"):
        datasets.load_adult(missing="impute")  # type: ignore[arg-type]


@pytest.mark.usefixtures("no_network")
def test_compas_propublica_filter() -> None:
    raw = datasets.load_compas(propublica_filter=False)
    assert raw.shape == (7_214, 43)
    df = datasets.load_compas()
    assert df.shape == (6_172, 43)  # ProPublica's published count
    # The filter recomputed here, independently of the loader, on the unfiltered rows.
    d = raw["days_b_screening_arrest"].astype("float64")
    keep = (d >= -30) & (d <= 30) & (raw["is_recid"] != -1) & (raw["c_charge_degree"] != "O")
    keep &= raw["score_text"].notna()
    assert int(keep.sum()) == 6_172
    assert df["id"].tolist() == raw.loc[keep, "id"].tolist()
    for c in ("race", "sex", "age", "juv_fel_count", "juv_misd_count", "juv_other_count", "priors_count",
              "c_charge_degree", "decile_score", "two_year_recid"):  # fmt: skip
        assert c in df.columns, c
    for c in ("age", "juv_fel_count", "priors_count", "decile_score", "two_year_recid", "is_recid"):
        assert df[c].dtype == np.int64, c
    assert _is_str(df["race"])
    assert _is_str(df["c_charge_degree"])
    assert pd.api.types.is_datetime64_any_dtype(df["c_jail_in"])
    assert not {"name", "first", "last", "dob"} & set(df.columns)  # identifiers are not shipped
    assert df["race"].value_counts()[["African-American", "Caucasian"]].tolist() == [3_175, 2_103]
    with pytest.raises(ct.DataError, match="propublica_filter"):
        datasets.load_compas(propublica_filter="yes")  # type: ignore[arg-type]


@pytest.mark.usefixtures("no_network")
def test_german_codes_are_readable() -> None:
    df = datasets.load_german()
    assert df.shape == (1_000, 22)
    assert not df.isna().any().any()
    assert int(df["credit"].sum()) == 700  # UCI: 700 good, 300 bad
    assert df["sex"].value_counts().to_dict() == {"male": 690, "female": 310}
    # No raw code ("A11", "A201", ...) is left anywhere.
    text = df.select_dtypes(exclude="number")
    assert not text.apply(lambda s: s.str.fullmatch(r"A\d{2,3}")).any().any()
    assert set(df["housing"].unique()) == {"own", "rent", "for free"}
    for c in ("duration", "credit_amount", "age", "telephone", "foreign_worker", "credit"):
        assert df[c].dtype == np.int64, c


# -- specs ---------------------------------------------------------------------------------------------
def test_available_and_unknown_names() -> None:
    assert datasets.available() == [
        "adult", "adult_nabi", "berkeley", "compas", "german", "law_school", "ricci"
    ]  # fmt: skip
    with pytest.raises(ct.SpecError, match=r"unknown dataset 'compass'; available: adult, adult_nabi"):
        datasets.spec("compass")
    with pytest.raises(ct.DataError, match="available: adult"):
        datasets.load("nope")


@pytest.mark.parametrize("name", ["adult", "adult_nabi", "compas", "german"])
def test_every_spec_validates_and_fits(name: str) -> None:
    spec = datasets.spec(name)
    df = datasets.load(name)
    assert spec.name == name
    assert all(spec.equation(v) is None for v in spec.variables)  # structure only: nothing is assumed
    assert spec.protected is not None
    assert spec.unfair_paths()
    assert spec.description  # the assumptions are stated
    # A small fit keeps the test fast; a stratified 600 rows still contains both protected groups.
    sub = df.groupby(spec.protected, group_keys=False).sample(n=300, random_state=0)
    scm = ct.SCM.fit(spec, sub, mechanisms="linear", random_state=0)
    assert set(scm.provenance["mechanisms"]) == set(spec.variables)
    assert "equation" not in scm.provenance["mechanisms"].values()
    sample = scm.sample(200, random_state=0)
    assert list(sample.columns) == list(spec.variables)
    assert set(sample[spec.target].unique()) <= {0, 1}


def test_loaded_rows_match_their_spec() -> None:
    assert len(datasets.load("compas")) == 5_278  # Nabi & Shpitser's African-American + Caucasian rows
    assert len(datasets.load("adult")) == len(datasets.load("adult_nabi")) == 45_222
    for name in datasets.available():
        spec = datasets.spec(name)
        df = datasets.load(name)
        for v in spec.observed:
            var = spec.variables[v]
            if var.type == "categorical":
                assert set(df[v].unique()) <= set(var.categories or ()), (name, v)
            elif var.type == "binary":
                assert set(df[v].unique()) <= {0, 1}, (name, v)


def test_sfm_specs_write_z_to_x() -> None:
    compas = datasets.spec("compas")
    assert compas.parents("race") == ("sex", "age")
    assert "Z -> X" in compas.description
    adult = datasets.spec("adult")
    assert set(adult.parents("sex")) == {"age", "race", "native_country"}
    nabi = datasets.spec("adult_nabi")
    assert nabi.parents("sex") == ()
    assert ("sex", "marital_status") in nabi.unfair_paths()


# -- data validation -----------------------------------------------------------------------------------
def test_csv_with_mixed_types_in_one_column_is_a_clear_error() -> None:
    spec = datasets.spec("compas")
    df = datasets.load("compas").head(200)
    text = df.to_csv(index=False)
    lines = text.splitlines()
    header = lines[0].split(",")
    col = header.index("priors_count")
    row = lines[5].split(",")
    row[col] = "unknown"
    lines[5] = ",".join(row)
    broken = pd.read_csv(io.StringIO("\n".join(lines)))
    expected = r"'priors_count' is continuous but mixes numbers and text: \['unknown'\]"
    with pytest.raises(ct.DataError, match=expected):
        ct.SCM.fit(spec, broken, mechanisms="linear")
