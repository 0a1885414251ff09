"""Comparing a discovered graph with a ground-truth DAG: SHD, adjacency and orientation precision/recall."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from causaltrust.discovery._result import DiscoveredEdge, DiscoveryResult

__all__ = ["compare_graphs"]


def _marks(edges: Iterable[DiscoveredEdge]) -> dict[frozenset[str], dict[str, str]]:
    return {frozenset((e.u, e.v)): {e.u: e.mark_u, e.v: e.mark_v} for e in edges}


def compare_graphs(
    estimate: DiscoveryResult | Sequence[DiscoveredEdge], truth: Sequence[tuple[str, str]]
) -> dict[str, float]:
    """Structural Hamming distance and precision/recall of an estimated graph against a true DAG.

    SHD counts the node pairs whose endpoint marks differ (a missing, extra, reversed, undirected or
    circle-marked edge each count 1), the definition of causal-learn's ``SHD`` class, so the numbers compare
    with it. Adjacency precision/recall ignore orientation; orientation precision is the share of the
    estimate's directed edges that point the true way, orientation recall the share of true edges recovered
    with the right direction.

    Parameters
    ----------
    estimate : DiscoveryResult or sequence of DiscoveredEdge
    truth : sequence of (cause, effect)

    Returns
    -------
    dict
        ``shd, n_edges, n_true, adj_precision, adj_recall, orient_precision, orient_recall``.

    Examples
    --------
    >>> from causaltrust.discovery import DiscoveredEdge, compare_graphs
    >>> est = [DiscoveredEdge("a", "b", "tail", "arrow"), DiscoveredEdge("b", "c", "tail", "tail")]
    >>> compare_graphs(est, [("a", "b"), ("b", "c")])["shd"]
    1.0
    """
    edges = list(estimate.edges if isinstance(estimate, DiscoveryResult) else estimate)
    est = _marks(edges)
    true = _marks(DiscoveredEdge(u, v, "tail", "arrow") for u, v in truth)
    shd = sum(1 for pair in est.keys() | true.keys() if est.get(pair) != true.get(pair))
    common = est.keys() & true.keys()
    directed = [e for e in edges if e.directed]
    right = sum(1 for e in directed if (e.u, e.v) in set(truth))
    return {
        "shd": float(shd),
        "n_edges": float(len(est)),
        "n_true": float(len(true)),
        "adj_precision": len(common) / len(est) if est else float("nan"),
        "adj_recall": len(common) / len(true) if true else float("nan"),
        "orient_precision": right / len(directed) if directed else float("nan"),
        "orient_recall": right / len(true) if true else float("nan"),
    }
