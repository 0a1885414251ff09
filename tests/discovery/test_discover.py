"""ct.discover: recovery of a known DAG, background knowledge never violated, clear errors, skeletons."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import causaltrust as ct
from causaltrust.cli import app
from causaltrust.discovery import DiscoveredEdge, compare_graphs

TRUE_EDGES = [("A", "X1"), ("A", "X2"), ("X1", "X3"), ("X2", "X3"), ("X3", "Y"), ("A", "Y")]
TIERS = {"tiers": [["A"], ["X1", "X2", "X3"], ["Y"]]}


def _linear_gaussian(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    A = rng.normal(size=n)
    X1 = 0.8 * A + rng.normal(size=n)
    X2 = -0.7 * A + rng.normal(size=n)
    X3 = 0.6 * X1 + 0.6 * X2 + rng.normal(size=n)
    Y = 0.7 * X3 + 0.5 * A + rng.normal(size=n)
    return pd.DataFrame({"A": A, "X1": X1, "X2": X2, "X3": X3, "Y": Y})


def _shd(edges: list[DiscoveredEdge], truth: list[tuple[str, str]]) -> int:
    """Independent SHD: pairs whose (tail/arrow) marks differ from the true DAG's, counted on a matrix."""
    names = sorted({v for e in truth for v in e} | {v for e in edges for v in (e.u, e.v)})
    idx = {v: i for i, v in enumerate(names)}
    code = {"tail": -1, "arrow": 1, "circle": 2}
    est = np.zeros((len(names), len(names)), dtype=int)
    tru = np.zeros_like(est)
    for e in edges:
        est[idx[e.u], idx[e.v]], est[idx[e.v], idx[e.u]] = code[e.mark_u], code[e.mark_v]
    for u, v in truth:
        tru[idx[u], idx[v]], tru[idx[v], idx[u]] = -1, 1
    differ = (est != tru) | (est.T != tru.T)
    return int(np.triu(differ, 1).sum())


def test_pc_recovers_known_dag_with_background() -> None:
    df = _linear_gaussian(5_000, seed=0)
    res = ct.discover(df, method="pc", background=TIERS, alpha=0.01)
    # Stated bound: SHD <= 1 at n = 5,000. Every true edge has a partial correlation of at least ~0.3, so its
    # Fisher-z statistic is about 0.3*sqrt(5000) ~ 21 (missed with negligible probability); the 8 absent pairs
    # are each falsely kept with probability <= alpha = 0.01, so more than one error has probability < 0.5%.
    assert _shd(list(res.edges), TRUE_EDGES) <= 1
    assert compare_graphs(res, TRUE_EDGES)["shd"] == _shd(list(res.edges), TRUE_EDGES)


def test_tiers_orient_what_data_cannot() -> None:
    # A chain A -> B -> C has no v-structure: its Markov equivalence class leaves both edges unoriented, and
    # tiers A < B < C orient them.
    rng = np.random.default_rng(7)
    a = rng.normal(size=5_000)
    b = 0.8 * a + rng.normal(size=5_000)
    c = 0.8 * b + rng.normal(size=5_000)
    df = pd.DataFrame({"A": a, "B": b, "C": c})
    plain = ct.discover(df, method="pc", alpha=0.01)
    assert sorted(str(e) for e in plain.edges) == ["A --- B", "B --- C"]
    informed = ct.discover(df, method="pc", alpha=0.01, background={"tiers": [["A"], ["B"], ["C"]]})
    assert sorted(informed.directed_edges()) == [("A", "B"), ("B", "C")]


def _violations(edges: tuple[DiscoveredEdge, ...], bk: dict[str, list[list[str]]]) -> list[str]:
    """Checked independently of the library: tier order, forbidden and required edges."""
    tier = {v: i for i, t in enumerate(bk["tiers"]) for v in t}
    bad = []
    for e in edges:
        for a, b, ma, mb in ((e.u, e.v, e.mark_u, e.mark_v), (e.v, e.u, e.mark_v, e.mark_u)):
            a_may_cause_b = ma != "arrow" and mb == "arrow"
            forbidden = [a, b] in bk["forbidden"] or tier.get(a, -1) > tier.get(b, 10**6)
            if a_may_cause_b and forbidden:
                bad.append(str(e))
    directed = {(e.u, e.v) for e in edges if e.directed}
    bad += [f"missing {u}->{v}" for u, v in bk["required"] if (u, v) not in directed]
    return bad


@pytest.mark.parametrize("method", ["pc", "fci", "ges", "lingam", "cdnod"])
def test_background_never_violated(method: str) -> None:
    # Knowledge that contradicts the data: a true edge forbidden, an absent edge required, Y put first.
    rng = np.random.default_rng(1)
    df = _linear_gaussian(1_000, seed=1)
    df["A"] = df["A"] + rng.laplace(size=len(df))  # non-Gaussian, so LiNGAM has something to find
    df["E"] = rng.integers(0, 2, size=len(df)).astype(float)
    df["X1"] += 1.0 * df["E"]
    bk = {
        "tiers": [["Y", "E"], ["A"], ["X1", "X2", "X3"]],
        "forbidden": [["X1", "X3"], ["A", "X2"]],
        "required": [["X2", "X1"]],
    }
    res = ct.discover(df, method=method, background=bk, environment="E", alpha=0.01)
    assert _violations(res.edges, bk) == []
    if method == "ges":
        assert any("GES in causal-learn takes no background knowledge" in n for n in res.notes)


def test_discrete_network_uses_g_squared_and_refuses_gaussian_methods() -> None:
    net = ct.datasets.load_bnlearn("asia")
    df = net.sample(5_000, random_state=0)
    res = ct.discover(df, method="pc", alpha=0.01)
    assert res.test == "gsq"
    with pytest.raises(ct.DataError, match="Fisher-z assumes continuous"):
        ct.discover(df, test="fisherz")
    with pytest.raises(ct.DataError, match="LiNGAM needs continuous"):
        ct.discover(df, method="lingam")


def test_clear_errors() -> None:
    df = _linear_gaussian(200, seed=2)
    with pytest.raises(ct.SpecError, match="unknown method 'notears'"):
        ct.discover(df, method="notears")
    with pytest.raises(ct.DataError, match=r"'chisq' is for discrete data.*'A'"):
        ct.discover(df, test="chisq")
    with pytest.raises(ct.SpecError, match="required edge Y -> A contradicts the tiers"):
        ct.discover(df, background={"tiers": [["A"], ["Y"]], "required": [["Y", "A"]]})
    with pytest.raises(ct.SpecError, match="not data columns: \\['Q'\\]"):
        ct.discover(df, background={"forbidden": [["Q", "A"]]})
    with pytest.raises(ct.SpecError, match="CD-NOD needs the environment"):
        ct.discover(df, method="cdnod")


def test_bootstrap_stability_is_reproducible_and_bounded() -> None:
    df = _linear_gaussian(1_000, seed=3)
    a = ct.discover(df, background=TIERS, n_bootstrap=4, random_state=5)
    b = ct.discover(df, background=TIERS, n_bootstrap=4, random_state=5)
    assert a.stability is not None
    assert b.stability is not None
    pd.testing.assert_frame_equal(a.stability, b.stability)
    parts = a.stability[["forward", "backward", "undirected", "other"]].sum(axis=1)
    np.testing.assert_allclose(parts, a.stability["adjacent"])
    # a quarter-resolution share: 4 resamples
    assert set(np.round(a.stability["adjacent"] * 4, 9)) <= {1.0, 2.0, 3.0, 4.0}


def test_skeleton_refuses_validation_until_oriented() -> None:
    df = _linear_gaussian(2_000, seed=4)
    res = ct.discover(df, method="fci", alpha=0.01)  # a PAG: circle marks at A's edges (no tier knowledge)
    pending = [str(e) for e in res.unoriented_edges()]
    assert pending
    text = res.to_spec(target="Y", protected="A")
    with pytest.raises(ct.SpecError, match="unoriented_edges: .*" + re.escape(pending[0])):
        ct.load_spec(text)
    informed = ct.discover(df, method="pc", alpha=0.01, background=TIERS).to_spec(target="Y", protected="A")
    spec = ct.load_spec(informed)
    assert spec.protected == "A"
    assert set(spec.variables["X3"].parents) == {"X1", "X2"}


def test_compare_graphs_counts() -> None:
    est = [
        DiscoveredEdge("a", "b", "tail", "arrow"),  # right
        DiscoveredEdge("c", "b", "tail", "arrow"),  # reversed (truth b -> c)
        DiscoveredEdge("a", "d", "tail", "tail"),  # extra
    ]
    m = compare_graphs(est, [("a", "b"), ("b", "c"), ("c", "d")])  # c -> d missing
    assert m["shd"] == 3
    assert m["adj_precision"] == pytest.approx(2 / 3)
    assert m["adj_recall"] == pytest.approx(2 / 3)
    assert m["orient_precision"] == pytest.approx(1 / 2)


def test_cli_discover(tmp_path: pytest.TempPathFactory) -> None:
    df = _linear_gaussian(1_000, seed=6)
    data = tmp_path / "d.csv"  # type: ignore[operator]
    df.to_csv(data, index=False)
    out = tmp_path / "spec.yaml"  # type: ignore[operator]
    runner = CliRunner()
    page = tmp_path / "graph.html"  # type: ignore[operator]
    args = ["discover", str(data), "--protected", "A", "--target", "Y", "-o", str(out), "--bootstrap", "2"]
    ok = runner.invoke(app, [*args, "--html", str(page)])
    assert ok.exit_code == 0, ok.output
    assert "2 bootstrap resamples" in page.read_text()
    assert ct.load_spec(out).target == "Y"
    bad = runner.invoke(app, ["discover", str(data), "--target", "nope", "-o", str(out)])
    assert bad.exit_code == 2
    assert "'nope' is not a column" in bad.output


def test_spec_as_background_on_scenario_data() -> None:
    spec, scm = ct.scenarios.load("readmission")
    df = scm.sample(2_000, random_state=0)[["A", "E", "F", "Z", "X", "Y"]]  # L is latent: not in the table
    res = ct.discover(df, method="cdnod", background=spec, alpha=0.01)
    # Tiers from the spec: {A, E} first, Y last; CD-NOD takes E (the spec's environment) as its context node.
    assert res.background.tiers == (("A", "E"), ("F", "Z", "X"), ("Y",))
    assert all(e.v != "A" and e.u != "Y" for e in res.edges if e.directed)
    assert any("context node" in n for n in res.notes)
    html = ct.report.render_discovery(res)
    assert "Discovered graph (cdnod)" in html
