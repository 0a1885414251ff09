"""Causal discovery benchmark (issue 13): SHD and edge precision/recall with and without background knowledge.

Runs ``ct.discover`` on the Sachs pooled data (both consensus graphs), on samples of the bnlearn networks,
and CD-NOD on pooled samples of the scenarios' shifts; the reference is causal-learn 0.1.4.8 called directly
on the same arrays, and the wrapper's overhead is timed against it in the same run. Writes its section of
benchmarks/RESULTS.md.

    PYTHONPATH=src .venv/bin/python benchmarks/discovery.py
"""

from __future__ import annotations

import contextlib
import io
import os
import platform
import sys
import time
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(__file__))
import causaltrust as ct
from _results import write_section
from causaltrust.discovery import compare_graphs

# Textbook signalling order (Sachs et al. 2005, Fig. 2; not read from either consensus file): receptor-proximal
# lipids/PLCγ and the kinases PKA, PKC first; then the MAPK cascade Raf -> Mek -> Erk; the downstream kinases last.
SACHS_TIERS = [
    ["plcg", "PIP2", "PIP3", "PKA", "PKC"],
    ["praf"],
    ["pmek"],
    ["p44/42", "pakts473", "P38", "pjnk"],
]


def layers(nodes: list[str], edges: list[tuple[str, str]]) -> list[list[str]]:
    """Longest-path layering of a DAG: the 'oracle tiers' knowledge (read from the true graph)."""
    depth = {v: 0 for v in nodes}
    for _ in nodes:
        for u, v in edges:
            depth[v] = max(depth[v], depth[u] + 1)
    return [[v for v in nodes if depth[v] == d] for d in range(max(depth.values()) + 1)]


def cl_direct(X: np.ndarray, method: str, test: str, alpha: float) -> Any:
    """causal-learn called directly (no wrapper), with the arguments ct.discover uses."""
    from causallearn.search.ConstraintBased.PC import pc
    from causallearn.search.FCMBased.lingam import DirectLiNGAM
    from causallearn.search.ScoreBased.GES import ges

    if method == "pc":
        return pc(X, alpha, test, True, 0, 2, show_progress=False).G
    if method == "ges":
        return ges(X, score_func="local_score_BDeu" if test == "bdeu" else "local_score_BIC")["G"]
    model = DirectLiNGAM(random_state=0)
    model.fit(X)
    return model.adjacency_matrix_


def cl_shd(G: Any, truth: list[tuple[str, str]], names: list[str]) -> tuple[int, int]:
    """(number of edges, SHD) with causal-learn's own SHD class; G a GeneralGraph or a LiNGAM matrix."""
    from causallearn.graph.Dag import Dag
    from causallearn.graph.GeneralGraph import GeneralGraph
    from causallearn.graph.GraphNode import GraphNode
    from causallearn.graph.SHD import SHD

    nodes = [GraphNode(f"X{i + 1}") for i in range(len(names))]
    true = Dag(nodes)
    for u, v in truth:
        true.add_directed_edge(nodes[names.index(u)], nodes[names.index(v)])
    if isinstance(G, np.ndarray):
        est = GeneralGraph(nodes)
        for i, j in zip(*np.nonzero(G), strict=True):
            est.add_directed_edge(nodes[j], nodes[i])
        G = est
    return len(G.get_graph_edges()), SHD(true, G).get_shd()


def row(label: str, knowledge: str, res: ct.DiscoveryResult, truth: list[tuple[str, str]]) -> str:
    m = compare_graphs(res, truth)
    return (
        f"| {label} | {knowledge} | {int(m['n_edges'])} | {len(res.unoriented_edges())} | {int(m['shd'])} | "
        f"{m['adj_precision']:.2f} | {m['adj_recall']:.2f} | {m['orient_precision']:.2f} | "
        f"{m['orient_recall']:.2f} |"
    )


HEAD = (
    "| method | knowledge | edges | unoriented | SHD | adj. precision | adj. recall | orient. precision | "
    "orient. recall |\n|---|---|---|---|---|---|---|---|---|"
)


def best_of_pair(k: int, fa: Any, fb: Any) -> tuple[float, float]:
    """Best of ``k`` for two functions run alternately, so a load spike on the shared machine hits both."""
    ta, tb = [], []
    for _ in range(k):
        for fn, times in ((fa, ta), (fb, tb)):
            t0 = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                fn()
            times.append(time.perf_counter() - t0)
    return min(ta), min(tb)


def sachs_section(out: list[str]) -> None:
    df = ct.datasets.load_sachs()
    names = list(df.columns)
    X = df.to_numpy()
    truths = {
        "cdt (18 edges)": ct.datasets.sachs_graph("cdt"),
        "pgmpy (17 edges)": ct.datasets.sachs_graph("pgmpy"),
    }
    out.append("### Sachs pooled data (7,466 × 11, continuous, no transform)\n")
    out.append(
        "Reference: causal-learn 0.1.4.8 called directly, no background knowledge, SHD by its own `SHD` class.\n"
    )
    out.append("| algorithm (causal-learn direct) | edges | SHD vs cdt | SHD vs pgmpy | issue's reference |")
    out.append("|---|---|---|---|---|")
    ref = {"pc": "25 edges, SHD 22 / 20", "ges": "34 edges, SHD 31", "lingam": "36 edges, SHD 28"}
    for method in ("pc", "ges", "lingam"):
        G = cl_direct(X, method, "fisherz" if method == "pc" else "bic", 0.05)
        n_e, s_cdt = cl_shd(G, truths["cdt (18 edges)"], names)
        _, s_pg = cl_shd(G, truths["pgmpy (17 edges)"], names)
        out.append(f"| {method} | {n_e} | {s_cdt} | {s_pg} | {ref[method]} |")
    out.append("")
    knowledge = {
        "none": None,
        "pathway tiers": {"tiers": SACHS_TIERS},
    }
    shd: dict[tuple[str, str, str], tuple[int, int]] = {}
    for tname, truth in truths.items():
        out.append(f"Against the {tname} consensus graph (ct.discover, alpha 0.05):\n")
        out.append(HEAD)
        oracle = {"tiers": layers(names, truth)}
        for method in ("pc", "fci", "ges", "lingam"):
            for kname, bk in {**knowledge, "oracle tiers": oracle}.items():
                res = ct.discover(df, method=method, background=bk, alpha=0.05, random_state=0)
                out.append(row(method, kname, res, truth))
                shd[tname, method, kname] = (int(compare_graphs(res, truth)["shd"]), len(res.edges))
        out.append("")
    out.append(
        "What the pathway tiers buy on Sachs (SHD none → pathway tiers → oracle tiers; edges in brackets):\n"
    )
    for tname in truths:
        parts = []
        for method in ("pc", "fci", "ges", "lingam"):
            (a, ea), (b, eb), (c, ec) = (
                shd[tname, method, k] for k in ("none", "pathway tiers", "oracle tiers")
            )
            verdict = "better" if b < a else ("no change" if b == a else "WORSE")
            parts.append(f"{method} {a} ({ea}) → {b} ({eb}) → {c} ({ec}): {verdict}")
        out.append(f"- vs {tname}: " + "; ".join(parts))
    out.append(
        "- Tiers orient edges; they add or remove adjacencies only where the algorithm uses them in its search "
        "(LiNGAM's causal order, FCI's orientation rules): PC's skeleton errors on the pooled, intervened-on "
        "Sachs rows stay, so its SHD barely moves, and LiNGAM under tiers outputs more edges.\n"
    )
    out.append(
        "Knowledge given: *pathway tiers* = "
        + " < ".join("{" + ", ".join(t) + "}" for t in SACHS_TIERS)
        + " (the textbook order of Sachs et al.'s Fig. 2; within a tier nothing is constrained). *oracle tiers* = "
        "the longest-path layering of the consensus graph being scored against (an upper bound on what tiers can "
        "buy: it is read from the truth). No forbidden or required edges. Orientation precision counts FCI's "
        "definite `-->` edges only.\n"
    )
    # Bootstrap stability of PC on Sachs.
    res = ct.discover(df, method="pc", background={"tiers": SACHS_TIERS}, n_bootstrap=20, random_state=0)
    assert res.stability is not None
    st = res.to_frame().sort_values("stability", ascending=False)
    cdt = set(truths["cdt (18 edges)"]) | {(v, u) for u, v in truths["cdt (18 edges)"]}
    out.append(
        "PC with pathway tiers, 20 bootstrap resamples (rows with replacement, column order shuffled each time): "
        "share of resamples reproducing each output edge with the same marks.\n"
    )
    out.append("| edge | stability | adjacent in cdt consensus |\n|---|---|---|")
    for r in st.itertuples():
        out.append(f"| {r.u} {r.mark} {r.v} | {r.stability:.2f} | {'yes' if (r.u, r.v) in cdt else 'no'} |")
    out.append("")


def bnlearn_section(out: list[str], n: int) -> None:
    out.append(
        f"### bnlearn networks (discrete, n = {n:,} ancestral samples, seed 0; PC with G², alpha 0.01)\n"
    )
    out.append(
        "| network | nodes | true edges | knowledge | edges | unoriented | SHD | adj. precision | adj. recall | "
        "orient. precision | orient. recall | seconds |\n|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    for name in ("asia", "sachs", "child", "insurance", "alarm"):
        net = ct.datasets.load_bnlearn(name)
        df = net.sample(n, random_state=0)
        truth = net.edges()
        for kname, bk in (("none", None), ("oracle tiers", {"tiers": layers(list(net.variables), truth)})):
            t0 = time.perf_counter()
            res = ct.discover(df, method="pc", background=bk, alpha=0.01)
            sec = time.perf_counter() - t0
            m = compare_graphs(res, truth)
            out.append(
                f"| {name} | {len(net.variables)} | {len(truth)} | {kname} | {int(m['n_edges'])} | "
                f"{len(res.unoriented_edges())} | {int(m['shd'])} | {m['adj_precision']:.2f} | "
                f"{m['adj_recall']:.2f} | {m['orient_precision']:.2f} | {m['orient_recall']:.2f} | {sec:.1f} |"
            )
    out.append(
        "\n*oracle tiers*: the true DAG's longest-path layering (read from the truth; an upper bound on what a "
        "temporal order buys). Deterministic nodes (asia's `either`) violate faithfulness; PC is not expected to "
        "recover them.\n"
    )


def overhead_section(out: list[str]) -> None:
    out.append(
        "### Wrapper overhead (no bootstrap): ct.discover vs causal-learn called directly, same arrays\n"
    )
    out.append("| case | causal-learn (s) | ct.discover (s) | ratio |\n|---|---|---|---|")
    sachs = ct.datasets.load_sachs()
    alarm = ct.datasets.load_bnlearn("alarm").sample(5_000, random_state=0)
    alarm_codes = ct.datasets.load_bnlearn("alarm").sample(5_000, random_state=0, codes=True).to_numpy(float)
    cases = [
        ("PC, Sachs, Fisher-z", sachs, sachs.to_numpy(), "pc", "fisherz", 0.05),
        ("GES, Sachs, BIC", sachs, sachs.to_numpy(), "ges", "bic", 0.05),
        ("PC, alarm n=5,000, G²", alarm, alarm_codes, "pc", "gsq", 0.01),
    ]
    for label, df, X, method, test, alpha in cases:
        t_cl, t_ct = best_of_pair(
            5,
            lambda X=X, m=method, t=test, a=alpha: cl_direct(X, m, t, a),
            lambda df=df, m=method, a=alpha: ct.discover(df, method=m, alpha=a),
        )
        out.append(f"| {label} | {t_cl:.3f} | {t_ct:.3f} | {t_ct / t_cl:.2f}x |")
    out.append("")


def cdnod_section(out: list[str], n: int) -> None:
    out.append(
        f"### CD-NOD on pooled samples of the scenarios' shifts ({n:,} rows per domain, observed columns, "
        "Fisher-z, alpha 0.01)\n"
    )
    out.append(
        "The context node C is the domain index (0 = the scenario's SCM, 1 = the shifted SCM). Truth: the "
        "observed variables whose mechanism the shift replaces (equations, do, or new categories). Found: C's "
        "neighbours in CD-NOD's output.\n"
    )
    out.append(
        "| scenario | shift | changed mechanisms (truth) | C's neighbours (CD-NOD) | precision | recall |"
    )
    out.append("|---|---|---|---|---|---|")
    for name in ("hiring", "lending", "readmission"):
        spec, scm = ct.scenarios.load(name)
        observed = [v for v in spec.variables if spec.variables[v].observed]
        for sname, shift in spec.shifts.items():
            base = scm.sample(n, random_state=0)[observed].assign(C=0)
            shifted = scm.shift(sname).sample(n, random_state=1)[observed].assign(C=1)
            pooled = pd.concat([base, shifted], ignore_index=True)
            for v in observed:  # categorical strings -> codes on the pooled levels
                if not pd.api.types.is_numeric_dtype(pooled[v]):
                    pooled[v] = pd.Categorical(pooled[v]).codes
            changed = {*(shift.equations or {}), *(shift.do or {}), *(shift.categories or {})} & set(observed)
            res = ct.discover(pooled, method="cdnod", environment="C", alpha=0.01)
            found = {e.v if e.u == "C" else e.u for e in res.edges if "C" in (e.u, e.v)}
            tp = len(found & changed)
            prec = tp / len(found) if found else float("nan")
            rec = tp / len(changed) if changed else float("nan")
            out.append(
                f"| {name} | {sname} | {', '.join(sorted(changed))} | {', '.join(sorted(found)) or '—'} | "
                f"{prec:.2f} | {rec:.2f} |"
            )
    out.append(
        "\nC should be adjacent exactly to the changed mechanisms. Where a shift fixes a variable (`online_only`: "
        "do(branch = online); `new_hospital`: E = 3 in every shifted row), that variable determines C, so C is no "
        "longer separable from the variable's children by conditioning on it (a faithfulness violation): CD-NOD "
        "then links C to descendants that did not change (lending) or cannot attribute the other changed "
        "mechanisms (readmission: X and Y are screened off by E). Mechanism-only shifts are recovered exactly.\n"
    )


def main() -> None:
    started = datetime.now(timezone.utc)
    load = os.getloadavg()[0]
    out = [
        "## Causal discovery with background knowledge (issue 13)\n",
        f"- Date: {started:%Y-%m-%d %H:%M} UTC; machine shared with other jobs (nproc {os.cpu_count()}, load "
        f"average {load:.2f} at the start); Python {platform.python_version()}; causal-learn 0.1.4.8",
        "- Command: `PYTHONPATH=src .venv/bin/python benchmarks/discovery.py`",
        "- SHD: node pairs whose endpoint marks differ from the true DAG (causal-learn's definition; an undirected "
        "or circle-marked edge over a true edge counts 1). Adjacency precision/recall ignore direction; "
        "orientation precision = correctly directed / directed edges output; orientation recall = correctly "
        "directed / true edges.\n",
    ]
    sachs_section(out)
    bnlearn_section(out, 5_000)
    cdnod_section(out, 2_000)
    overhead_section(out)
    text = "\n".join(out)
    print(text)
    write_section(text)


if __name__ == "__main__":
    main()
