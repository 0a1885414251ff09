"""Offline loaders for Sachs and the bnlearn networks; the sampler against the networks' own tables."""

from __future__ import annotations

import numpy as np
import pytest

import causaltrust as ct
from causaltrust.datasets import parse_bif

# Edge and node counts published on the bnlearn repository pages.
BNLEARN_SIZES = {
    "asia": (8, 8),
    "child": (20, 25),
    "insurance": (27, 52),
    "alarm": (37, 46),
    "sachs": (11, 17),
}


@pytest.mark.parametrize("name", sorted(BNLEARN_SIZES))
def test_bnlearn_sizes(name: str) -> None:
    net = ct.datasets.load_bnlearn(name)
    assert (len(net.variables), len(net.edges())) == BNLEARN_SIZES[name]
    pos = {v: i for i, v in enumerate(net.variables)}
    assert all(pos[u] < pos[v] for u, v in net.edges())  # topological order


def test_asia_sampler_matches_closed_form_marginals() -> None:
    net = ct.datasets.load_bnlearn("asia")
    n = 200_000
    df = net.sample(n, random_state=0, codes=True)
    # Codes follow the file's state order: 0 = "yes". Closed forms from the asia tables:
    # P(lung=yes) = .5*.1 + .5*.01; P(bronc=yes) = .5*.6 + .5*.3; P(tub=yes) = .01*.05 + .99*.01.
    expected = {"smoke": 0.5, "lung": 0.055, "bronc": 0.45, "tub": 0.0104}
    for v, p in expected.items():
        # 5 binomial standard errors: a false alarm has probability < 1e-6 per check.
        tol = 5 * np.sqrt(p * (1 - p) / n)
        assert abs((df[v] == 0).mean() - p) < tol, v
    # 'either' is a deterministic OR of lung and tub.
    assert ((df["either"] == 0) == ((df["lung"] == 0) | (df["tub"] == 0))).all()


def test_sampler_reproducible_and_categorical() -> None:
    net = ct.datasets.load_bnlearn("child")
    a = net.sample(500, random_state=3)
    b = net.sample(500, random_state=3)
    assert a.equals(b)
    assert list(a["Age"].cat.categories) == list(net.states["Age"])


def test_parse_bif_errors() -> None:
    with pytest.raises(ct.DataError, match="does not sum to 1"):
        parse_bif("variable a { type discrete [ 2 ] { x, y }; } probability ( a ) { table 0.3, 0.3; }")
    with pytest.raises(ct.DataError, match="no probability table"):
        parse_bif("variable a { type discrete [ 2 ] { x, y }; }")
    with pytest.raises(ct.DataError, match="unknown bnlearn network"):
        ct.datasets.load_bnlearn("nope")


def test_sachs_data_and_graphs() -> None:
    df = ct.datasets.load_sachs()
    assert df.shape == (7466, 11)
    assert (df.dtypes == "float64").all()
    assert df.iloc[0, :3].tolist() == [26.4, 13.2, 8.82]  # first row of cdt's cyto_full_data.csv
    cdt, pg = ct.datasets.sachs_graph("cdt"), ct.datasets.sachs_graph("pgmpy")
    assert (len(cdt), len(pg)) == (18, 17)
    assert set(np.ravel(cdt)) <= set(df.columns)
    assert set(np.ravel(pg)) <= set(df.columns)
    shared = {frozenset(e) for e in cdt} & {frozenset(e) for e in pg}
    assert len(shared) == 15  # stated in the issue, counted independently there
    with pytest.raises(ct.DataError, match="unknown Sachs graph source"):
        ct.datasets.sachs_graph("bnlearn")
