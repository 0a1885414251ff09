"""The causal graph of a trust spec, with a role for every path, edge and node.

Path roles come from the spec: a path from the protected attribute is ``unfair`` when an unfair entry is
a prefix of it, else ``fair``; a path from the environment is ``spurious`` when a spurious entry is a
prefix of it, else ``contextual``. :meth:`CausalGraph.with_prediction` adds the prediction node Ŷ (parents:
the features) so the same roles apply to the paths a model can use; entries that end at the target also
match the same path ending at Ŷ.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from causaltrust import _dag
from causaltrust.exceptions import GraphError
from causaltrust.spec import TrustSpec

__all__ = ["PREDICTION", "CausalGraph", "PathRole"]

PREDICTION = "Ŷ"
Path = tuple[str, ...]
PathRole = str  # "unfair" | "fair" | "spurious" | "contextual"


@dataclass(frozen=True)
class CausalGraph:
    """A DAG with role annotations.

    Examples
    --------
    >>> import causaltrust as ct
    >>> g = ct.graph.CausalGraph.from_spec(ct.scenarios.load("readmission")[0])
    >>> g.path_roles()[("A", "Z", "Y")]
    'unfair'
    >>> g.with_prediction().path_roles()[("E", "X", "Ŷ")]
    'spurious'
    """

    parents: Mapping[str, tuple[str, ...]]
    target: str
    protected: str | None = None
    environment: str | None = None
    unfair_entries: tuple[Path, ...] = ()
    spurious_entries: tuple[Path, ...] = ()
    node_roles: Mapping[str, frozenset[str]] = field(default_factory=dict)
    prediction: str | None = None

    @classmethod
    def from_spec(cls, spec: TrustSpec) -> CausalGraph:
        """The graph of ``spec`` with its roles."""
        roles: dict[str, set[str]] = {v: set() for v in spec.variables}
        roles[spec.target].add("target")
        if spec.protected:
            roles[spec.protected].add("protected")
        if spec.environment:
            roles[spec.environment].add("environment")
        for v in spec.latent:
            roles[v].add("latent")
        for v in spec.features:
            roles[v].add("feature")
        if spec.privacy:
            for v in spec.privacy.sensitive:
                roles[v].add("sensitive")
        if spec.recourse:
            for v in spec.recourse.actionable:
                roles[v].add("actionable")
            for v in spec.recourse.immutable:
                roles[v].add("immutable")
        if spec.explainability:
            for v in spec.explainability.irrelevant:
                roles[v].add("irrelevant")
        return cls(
            parents=spec.graph_parents,
            target=spec.target,
            protected=spec.protected,
            environment=spec.environment,
            unfair_entries=tuple(spec.unfair_paths()),
            spurious_entries=tuple(spec.spurious_paths()),
            node_roles={v: frozenset(r) for v, r in roles.items()},
        )

    # -- structure ------------------------------------------------------------------------------------
    @property
    def nodes(self) -> list[str]:
        return list(self.parents)

    @property
    def edges(self) -> list[tuple[str, str]]:
        return [(p, c) for c, pas in self.parents.items() for p in pas]

    def children(self, node: str) -> list[str]:
        return _dag.children_map(self.parents).get(node, [])

    def descendants(self, nodes: str | Iterable[str]) -> set[str]:
        return _dag.descendants(self.parents, [nodes] if isinstance(nodes, str) else nodes)

    def ancestors(self, nodes: str | Iterable[str]) -> set[str]:
        return _dag.ancestors(self.parents, [nodes] if isinstance(nodes, str) else nodes)

    def topological_order(self) -> list[str]:
        return _dag.topological_order(self.parents)

    def paths(self, source: str, target: str | None = None, *, limit: int = 10_000) -> list[Path]:
        """Every directed path from ``source`` to ``target`` (default: Ŷ if present, else the target)."""
        if source not in self.parents:
            raise GraphError(f"{source!r} is not a node of the graph")
        return _dag.all_paths(self.parents, source, target or self.sink, limit=limit)

    @property
    def sink(self) -> str:
        """Ŷ when the graph has the prediction node, else the target."""
        return self.prediction or self.target

    def with_prediction(self, features: Sequence[str] | None = None, name: str = PREDICTION) -> CausalGraph:
        """A copy with the prediction node ``name`` whose parents are ``features`` (default: the spec's)."""
        feats = (
            tuple(features)
            if features is not None
            else tuple(v for v, r in self.node_roles.items() if "feature" in r)
        )
        for f in feats:
            if f not in self.parents:
                raise GraphError(f"feature {f!r} is not a node of the graph")
        parents = {**self.parents, name: feats}
        roles = {**self.node_roles, name: frozenset({"prediction"})}
        return CausalGraph(
            parents=parents,
            target=self.target,
            protected=self.protected,
            environment=self.environment,
            unfair_entries=self.unfair_entries,
            spurious_entries=self.spurious_entries,
            node_roles=roles,
            prediction=name,
        )

    # -- roles ----------------------------------------------------------------------------------------
    def _covered(self, path: Path, entries: Sequence[Path]) -> bool:
        for e in entries:
            if path[: len(e)] == e:
                return True
            # An entry ending at the target also matches the same path ending at Ŷ.
            if self.prediction and e[-1] == self.target and path == (*e[:-1], self.prediction):
                return True
        return False

    def path_role(self, path: Sequence[str]) -> PathRole | None:
        """Role of a directed path: unfair/fair from the protected attribute, spurious/contextual from E."""
        p = tuple(path)
        if self.protected and p[0] == self.protected:
            return "unfair" if self._covered(p, self.unfair_entries) else "fair"
        if self.environment and p[0] == self.environment:
            return "spurious" if self._covered(p, self.spurious_entries) else "contextual"
        return None

    def path_roles(self, target: str | None = None) -> dict[Path, PathRole]:
        """Every path from the protected attribute and the environment to ``target``, with its role."""
        out: dict[Path, PathRole] = {}
        for source in (self.protected, self.environment):
            if source:
                for p in self.paths(source, target):
                    role = self.path_role(p)
                    if role is not None:
                        out[p] = role
        return out

    def edge_roles(self, target: str | None = None) -> dict[tuple[str, str], frozenset[PathRole]]:
        """For each edge, the roles of the paths (to ``target``) that use it."""
        roles: dict[tuple[str, str], set[PathRole]] = {e: set() for e in self.edges}
        for p, role in self.path_roles(target).items():
            for edge in itertools.pairwise(p):
                roles[edge].add(role)
        return {e: frozenset(r) for e, r in roles.items()}

    def to_networkx(self) -> object:
        """A ``networkx.DiGraph`` with ``roles`` on nodes and edges (networkx must be installed)."""
        try:
            import networkx as nx
        except ImportError as exc:  # pragma: no cover - networkx ships with most stacks
            raise ImportError("to_networkx needs networkx: pip install networkx") from exc
        g = nx.DiGraph()
        for v in self.parents:
            g.add_node(v, roles=sorted(self.node_roles.get(v, ())))
        for e, r in self.edge_roles().items():
            g.add_edge(*e, roles=sorted(r))
        return g
