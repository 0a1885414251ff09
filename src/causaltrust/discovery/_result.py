"""The result of causal discovery: edges with marks, bootstrap stability, and a spec skeleton."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import yaml

from causaltrust._dag import topological_order
from causaltrust.discovery._background import Background
from causaltrust.exceptions import GraphError, SpecError

__all__ = ["DiscoveredEdge", "DiscoveryResult"]

_LEFT = {"tail": "-", "arrow": "<", "circle": "o"}
_RIGHT = {"tail": "-", "arrow": ">", "circle": "o"}


@dataclass(frozen=True)
class DiscoveredEdge:
    """One edge between ``u`` and ``v`` with the endpoint mark at each end.

    Marks are ``"tail"``, ``"arrow"`` or ``"circle"`` (PAG: undetermined). ``u --> v`` is tail at u, arrow
    at v; ``u --- v`` an undirected CPDAG edge; ``u <-> v`` arrows at both ends; ``u o-> v`` and ``u o-o v``
    PAG edges.
    """

    u: str
    v: str
    mark_u: str
    mark_v: str

    @property
    def directed(self) -> bool:
        """True for ``u --> v``."""
        return self.mark_u == "tail" and self.mark_v == "arrow"

    @property
    def kind(self) -> str:
        """The three-character mark, e.g. ``"-->"``, ``"---"``, ``"<->"``, ``"o->"``, ``"o-o"``."""
        return f"{_LEFT[self.mark_u]}-{_RIGHT[self.mark_v]}"

    def __str__(self) -> str:
        return f"{self.u} {self.kind} {self.v}"


@dataclass(frozen=True)
class DiscoveryResult:
    """What :func:`causaltrust.discover` found.

    Attributes
    ----------
    method, test : str
        The algorithm and the conditional-independence test or score used.
    nodes : tuple of str
        The variables, in the data's column order.
    edges : tuple of DiscoveredEdge
        The output graph (a CPDAG for pc/ges/cdnod, a PAG for fci, a DAG for lingam), after background
        knowledge was enforced.
    graph_type : {"cpdag", "pag", "dag"}
    background : Background
        Exactly the knowledge that was given.
    notes : tuple of str
        What was enforced on the output and why, and any approximation made (e.g. the test).
    stability : pandas.DataFrame or None
        One row per pair adjacent in at least one bootstrap resample: the share of resamples with the pair
        adjacent, ``u --> v``, ``v --> u``, undirected, or another mark; the column order was shuffled in
        every resample (PC's output depends on it). None without bootstrap.
    variable_types : dict
        ``binary``, ``categorical`` or ``continuous`` per variable, as inferred from the data.
    categories : dict
        The observed levels of each discrete variable (written as ``categories:`` in the skeleton).

    Examples
    --------
    >>> import numpy as np, pandas as pd, causaltrust as ct
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=2_000); b = a + rng.normal(size=2_000); c = b + rng.normal(size=2_000)
    >>> res = ct.discover(pd.DataFrame({"a": a, "b": b, "c": c}), background={"tiers": [["a"], ["b"], ["c"]]})
    >>> sorted(res.directed_edges())
    [('a', 'b'), ('b', 'c')]
    """

    method: str
    test: str
    alpha: float
    n: int
    nodes: tuple[str, ...]
    edges: tuple[DiscoveredEdge, ...]
    graph_type: str
    background: Background
    notes: tuple[str, ...] = ()
    stability: pd.DataFrame | None = field(default=None, repr=False)
    n_bootstrap: int = 0
    variable_types: Mapping[str, str] = field(default_factory=dict, repr=False)
    categories: Mapping[str, Sequence[Any]] = field(default_factory=dict, repr=False)

    def directed_edges(self) -> list[tuple[str, str]]:
        """Edges ``u --> v`` as ``(u, v)``."""
        return [(e.u, e.v) for e in self.edges if e.directed]

    def unoriented_edges(self) -> list[DiscoveredEdge]:
        """Every edge that is not a definite ``u --> v`` (undirected, bidirected or with a circle mark)."""
        return [e for e in self.edges if not e.directed]

    def edge_stability(self, edge: DiscoveredEdge) -> float | None:
        """Share of bootstrap resamples in which exactly this edge (same marks) appeared; None without one."""
        if self.stability is None:
            return None
        rows = self.stability
        for u, v, flip in ((edge.u, edge.v, False), (edge.v, edge.u, True)):
            hit = rows[(rows["u"] == u) & (rows["v"] == v)]
            if len(hit):
                kind = _flip(edge.kind) if flip else edge.kind
                col = {"-->": "forward", "<--": "backward", "---": "undirected"}.get(kind)
                if col is None:
                    return float(hit["other"].iloc[0])
                return float(hit[col].iloc[0])
        return 0.0

    def to_frame(self) -> pd.DataFrame:
        """One row per output edge: u, v, mark, directed, stability (NaN without bootstrap)."""
        rows = []
        for e in self.edges:
            s = self.edge_stability(e)
            rows.append(
                {
                    "u": e.u,
                    "v": e.v,
                    "mark": e.kind,
                    "directed": e.directed,
                    "stability": float("nan") if s is None else s,
                }
            )
        return pd.DataFrame(rows, columns=["u", "v", "mark", "directed", "stability"])

    def to_spec(
        self,
        *,
        target: str,
        protected: str | None = None,
        environment: str | None = None,
        name: str = "discovered",
    ) -> str:
        """A YAML spec skeleton: oriented edges become ``parents:``; the rest must be oriented by hand.

        Every edge that is not a definite ``u --> v`` is written as a comment next to both variables and
        listed under ``unoriented_edges:``, so :func:`causaltrust.load_spec` refuses the file
        (naming the edges) until the user orients each one and deletes that key. Path roles are left
        empty: every path from the protected attribute counts as fair and every environment path as
        contextual until the user says otherwise (written as a comment).

        Examples
        --------
        >>> import numpy as np, pandas as pd, causaltrust as ct
        >>> rng = np.random.default_rng(0)
        >>> a = rng.normal(size=2_000); y = a + rng.normal(size=2_000)
        >>> res = ct.discover(pd.DataFrame({"a": a, "y": y}), background={"tiers": [["a"], ["y"]]})
        >>> ct.load_spec(res.to_spec(target="y")).variables["y"].parents
        ('a',)
        """
        for role, var in (("target", target), ("protected", protected), ("environment", environment)):
            if var is not None and var not in self.nodes:
                raise SpecError(
                    f"to_spec: {role} {var!r} is not a discovered variable; expected one of {self.nodes}"
                )
        parents: dict[str, list[str]] = {v: [] for v in self.nodes}
        for u, v in self.directed_edges():
            parents[v].append(u)
        try:
            topological_order(parents)
        except GraphError as exc:
            raise GraphError(
                f"to_spec: the oriented edges form a cycle ({exc}); drop one before writing"
            ) from None
        pending = self.unoriented_edges()
        comments: dict[str, list[str]] = {v: [] for v in self.nodes}
        for e in pending:
            s = self.edge_stability(e)
            stab = "" if s is None else f", bootstrap stability {s:.2f}"
            for a, b in ((e.u, e.v), (e.v, e.u)):
                comments[a].append(f"# UNORIENTED {e}{stab}: add {b!r} to parents here, or {a!r} to {b}'s")
        header = [
            f"# Skeleton written by causaltrust discover: method {self.method}, test {self.test}, "
            f"alpha {self.alpha}, n = {self.n}.",
            f"# Background knowledge given: {self.background.describe()}.",
            "# Every edge below was found in data; none is an established causal fact. Check each one.",
        ]
        header += [f"# Note: {n}" for n in self.notes]
        lines = [*header, f"name: {name}", f"target: {target}", "variables:"]
        for v in self.nodes:
            vtype = self.variable_types.get(v, "continuous")
            lines.append(f"  {_yaml_key(v)}:")
            lines.append(f"    type: {vtype}")
            if vtype == "categorical":
                lines.append(f"    categories: {_flow(self.categories.get(v, []))}")
            lines.append(f"    parents: {_flow(parents[v])}")
            lines += [f"    {c}" for c in comments[v]]
        if protected is not None:
            lines += [
                "fairness:",
                f"  protected: {_yaml_key(protected)}",
                "  # which paths from the protected attribute are unfair is a normative choice: list them",
                "  unfair_paths: []",
            ]
        if environment is not None:
            lines += [
                "robustness:",
                f"  environment: {_yaml_key(environment)}",
                "  # environment paths that change only a measurement (not the outcome) are spurious",
                "  spurious_paths: []",
            ]
        if pending:
            lines.append("# Orient every edge below (see the UNORIENTED comments), then delete this key:")
            lines.append("unoriented_edges:")
            lines += [f"  - {_yaml_scalar(str(e))}" for e in pending]
        return "\n".join(lines) + "\n"


def _flip(kind: str) -> str:
    table = {"-": "-", ">": "<", "<": ">", "o": "o"}
    return table[kind[2]] + "-" + table[kind[0]]


def _yaml_scalar(s: str) -> str:
    return yaml.safe_dump(s, default_style=None).strip().removesuffix("...").strip()


def _yaml_key(s: str) -> str:
    return _yaml_scalar(s)


def _flow(items: Sequence[Any]) -> str:
    return "[" + ", ".join(_yaml_scalar(s) if isinstance(s, str) else str(s) for s in items) + "]"
