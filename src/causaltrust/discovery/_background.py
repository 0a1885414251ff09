"""Background knowledge for causal discovery: tiers, forbidden and required edges.

Tiers are a temporal order: a variable in a later tier is never a cause of one in an earlier tier (no edge
from later to earlier). Variables in no tier are unconstrained. Forbidden and required edges are directed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from causaltrust.exceptions import SpecError
from causaltrust.spec import TrustSpec

__all__ = ["Background"]


def _edge_list(raw: Any, key: str) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    out = []
    for item in raw:
        if isinstance(item, str) or len(item) != 2:
            raise SpecError(f"background: each entry of {key!r} must be a pair [cause, effect], got {item!r}")
        out.append((str(item[0]), str(item[1])))
    return tuple(out)


@dataclass(frozen=True)
class Background:
    """Background knowledge for :func:`causaltrust.discover`.

    Parameters
    ----------
    tiers : tuple of tuple of str
        Earlier tiers first; no edge may point from a later tier into an earlier one.
    forbidden : tuple of (cause, effect)
        Directed edges that must not appear.
    required : tuple of (cause, effect)
        Directed edges that must appear.

    Examples
    --------
    >>> from causaltrust.discovery import Background
    >>> bk = Background.from_any({"tiers": [["A"], ["X"], ["Y"]], "forbidden": [["X", "Z"]]})
    >>> bk.is_forbidden("Y", "A"), bk.is_forbidden("A", "Y"), bk.is_forbidden("X", "Z")
    (True, False, True)
    """

    tiers: tuple[tuple[str, ...], ...] = ()
    forbidden: tuple[tuple[str, str], ...] = ()
    required: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_any(cls, background: Background | TrustSpec | Mapping[str, Any] | None) -> Background:
        """Build from a dict (``tiers``, ``forbidden``, ``required``), a TrustSpec, or None (no knowledge).

        A spec gives three tiers: the protected attribute and the environment first, the target last, every
        other observed variable in between. It adds no forbidden or required edges (its graph is what
        discovery is meant to check, so it is not handed over).
        """
        if background is None:
            return cls()
        if isinstance(background, Background):
            return background
        if isinstance(background, TrustSpec):
            first = tuple(v for v in (background.protected, background.environment) if v is not None)
            observed = [n for n, v in background.variables.items() if v.observed]
            middle = tuple(v for v in observed if v not in first and v != background.target)
            return cls(tiers=tuple(t for t in (first, middle, (background.target,)) if t))
        if not isinstance(background, Mapping):
            raise SpecError(
                "background must be a dict with 'tiers', 'forbidden', 'required', a TrustSpec or None; "
                f"got {type(background).__name__}"
            )
        unknown = set(background) - {"tiers", "forbidden", "required"}
        if unknown:
            raise SpecError(
                f"background: unknown keys {sorted(unknown)}; expected 'tiers', 'forbidden', 'required'"
            )
        raw_tiers = background.get("tiers") or []
        tiers = []
        for tier in raw_tiers:
            if isinstance(tier, str):
                raise SpecError(f"background: each tier must be a list of variable names, got {tier!r}")
            tiers.append(tuple(str(v) for v in tier))
        bk = cls(
            tiers=tuple(tiers),
            forbidden=_edge_list(background.get("forbidden"), "forbidden"),
            required=_edge_list(background.get("required"), "required"),
        )
        bk.check()
        return bk

    @property
    def empty(self) -> bool:
        """True when no knowledge is given."""
        return not (self.tiers or self.forbidden or self.required)

    def tier_of(self, v: str) -> int | None:
        """The index of ``v``'s tier, or None when ``v`` is in no tier."""
        for i, tier in enumerate(self.tiers):
            if v in tier:
                return i
        return None

    def is_forbidden(self, u: str, v: str) -> bool:
        """Whether the directed edge ``u -> v`` is excluded (by a tier order or the forbidden list)."""
        if (u, v) in self.forbidden:
            return True
        tu, tv = self.tier_of(u), self.tier_of(v)
        return tu is not None and tv is not None and tu > tv

    def check(self, columns: Sequence[str] | None = None) -> None:
        """Raise SpecError for contradictions, and for names not among ``columns`` when given."""
        seen: dict[str, int] = {}
        for i, tier in enumerate(self.tiers):
            for v in tier:
                if v in seen and seen[v] != i:
                    raise SpecError(f"background: {v!r} is in tiers {seen[v]} and {i}; put it in one tier")
                seen[v] = i
        for u, v in self.required:
            if u == v:
                raise SpecError(f"background: required edge {u} -> {v} is a self-loop")
            if (u, v) in self.forbidden:
                raise SpecError(f"background: {u} -> {v} is both required and forbidden; remove one of them")
            tu, tv = self.tier_of(u), self.tier_of(v)
            if tu is not None and tv is not None and tu > tv:
                raise SpecError(
                    f"background: required edge {u} -> {v} contradicts the tiers ({u!r} is in tier {tu}, "
                    f"after {v!r} in tier {tv}, and later tiers may not cause earlier ones); move one of "
                    "them or drop the required edge"
                )
        if columns is not None:
            cols = set(columns)
            named = {v for t in self.tiers for v in t} | {
                v for e in self.forbidden + self.required for v in e
            }
            missing = sorted(named - cols)
            if missing:
                raise SpecError(
                    f"background names variables that are not data columns: {missing}; the columns are "
                    f"{list(columns)}"
                )

    def to_causallearn(self, names: Sequence[str], labels: Sequence[str]) -> Any:
        """causal-learn ``BackgroundKnowledge`` over nodes labelled ``labels`` (aligned with ``names``)."""
        from causallearn.graph.GraphNode import GraphNode
        from causallearn.utils.PCUtils.BackgroundKnowledge import BackgroundKnowledge

        node = {n: GraphNode(lab) for n, lab in zip(names, labels, strict=True)}
        bk = BackgroundKnowledge()
        for i, tier in enumerate(self.tiers):
            for v in tier:
                if v in node:
                    bk.add_node_to_tier(node[v], i)
        for u, v in self.forbidden:
            if u in node and v in node:
                bk.add_forbidden_by_node(node[u], node[v])
        for u, v in self.required:
            if u in node and v in node:
                bk.add_required_by_node(node[u], node[v])
        return bk

    def lingam_prior(self, names: Sequence[str]) -> np.ndarray | None:
        """DirectLiNGAM's prior matrix from the tiers: ``pk[i, j] = 0`` when ``names[j]`` may not reach
        ``names[i]`` (j in a later tier); -1 (unknown) elsewhere. Forbidden and required edges are not
        path constraints, so they are enforced on the output instead."""
        if not self.tiers:
            return None
        p = len(names)
        pk = -np.ones((p, p))
        tier = [self.tier_of(n) for n in names]
        for i in range(p):
            for j in range(p):
                ti, tj = tier[i], tier[j]
                if ti is not None and tj is not None and tj > ti:
                    pk[i, j] = 0.0
        return pk

    def describe(self) -> str:
        """One line saying exactly what was given."""
        if self.empty:
            return "none"
        parts = []
        if self.tiers:
            parts.append("tiers " + " < ".join("{" + ", ".join(t) + "}" for t in self.tiers))
        if self.forbidden:
            parts.append("forbidden " + ", ".join(f"{u}->{v}" for u, v in self.forbidden))
        if self.required:
            parts.append("required " + ", ".join(f"{u}->{v}" for u, v in self.required))
        return "; ".join(parts)

    def restricted(self, keep: Iterable[str]) -> Background:
        """The same knowledge over the variables in ``keep`` only."""
        k = set(keep)
        return Background(
            tiers=tuple(t for t in (tuple(v for v in tier if v in k) for tier in self.tiers) if t),
            forbidden=tuple(e for e in self.forbidden if set(e) <= k),
            required=tuple(e for e in self.required if set(e) <= k),
        )
