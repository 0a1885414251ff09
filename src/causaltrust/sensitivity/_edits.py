"""Graph edits of a trust spec: drop or add an edge, change a path's role, drop a measurement assumption.

Each edit returns a new spec dict plus notes on what else had to change (e.g. a path entry that ran along a
dropped edge). An edge edit turns the child's equation into ``parents:`` (its mechanism is then learned by
``SCM.fit``); a variable whose mechanism cannot be learned makes the refit fail, and the caller reports that
edit as unidentified.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from causaltrust._dag import descendants
from causaltrust.exceptions import SpecError
from causaltrust.spec import TrustSpec

__all__ = ["apply_edit", "default_edits", "describe_edit"]

_OPS = ("add_edge", "drop_edge", "set_role", "unmeasure")
_ROLES = ("contextual", "fair", "spurious", "unfair")


def describe_edit(edit: Mapping[str, Any]) -> str:
    """A short label: ``drop A->Z``, ``add E->Y``, ``role [A, Z] fair``, ``unmeasure X``."""
    op = edit.get("op")
    if op in ("drop_edge", "add_edge"):
        u, v = edit["edge"]
        return f"{op.split('_')[0]} {u}->{v}"
    if op == "set_role":
        return f"role [{', '.join(edit['path'])}] {edit['role']}"
    if op == "unmeasure":
        return f"unmeasure {edit['variable']}"
    return str(dict(edit))


def _check(edit: Mapping[str, Any], spec: TrustSpec) -> None:
    op = edit.get("op") if isinstance(edit, Mapping) else None
    if op not in _OPS:
        raise SpecError(f"sensitivity: edit {edit!r} needs 'op' in {list(_OPS)}")
    names = set(spec.variables)
    if op in ("drop_edge", "add_edge"):
        edge = edit.get("edge")
        if not isinstance(edge, Sequence) or isinstance(edge, str) or len(edge) != 2:
            raise SpecError(f"sensitivity: {op} needs 'edge': [cause, effect], got {edge!r}")
        u, v = edge
        unknown = [x for x in (u, v) if x not in names]
        if unknown:
            raise SpecError(f"sensitivity: {op} {u}->{v}: unknown variables {unknown}")
        present = u in spec.parents(v)
        if op == "drop_edge" and not present:
            raise SpecError(f"sensitivity: drop_edge {u}->{v}: the spec has no such edge (parents of {v}: "
                            f"{list(spec.parents(v))})")  # fmt: skip
        if op == "add_edge" and (present or u == v):
            raise SpecError(f"sensitivity: add_edge {u}->{v}: the edge already exists or is a self-loop")
    elif op == "set_role":
        path, role = edit.get("path"), edit.get("role")
        if role not in _ROLES:
            raise SpecError(f"sensitivity: set_role needs 'role' in {list(_ROLES)}, got {role!r}")
        if not isinstance(path, Sequence) or isinstance(path, str) or len(path) < 2:
            raise SpecError(f"sensitivity: set_role needs 'path': [node, node, ...], got {path!r}")
    else:
        var = edit.get("variable")
        if var not in names:
            raise SpecError(f"sensitivity: unmeasure needs 'variable' naming a spec variable, got {var!r}")


def _runs_along(entry: Sequence[str], u: str, v: str) -> bool:
    return any(a == u and b == v for a, b in itertools.pairwise(entry))


def _learn_parents(d: dict[str, Any], spec: TrustSpec, v: str, parents: list[str]) -> None:
    var = d["variables"][v]
    var.pop("equation", None)
    var["parents"] = parents


def apply_edit(spec: TrustSpec, edit: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The spec dict after ``edit`` and notes on anything else the edit changed.

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, _ = ct.scenarios.load("readmission")
    >>> d, notes = apply_edit(spec, {"op": "drop_edge", "edge": ["A", "Z"]})
    >>> d["variables"]["Z"]["parents"], d["fairness"]["unfair_paths"]
    ([], [['A', 'Y']])
    """
    _check(edit, spec)
    d = copy.deepcopy(spec.to_dict())
    notes: list[str] = []
    op = edit["op"]
    if op in ("drop_edge", "add_edge"):
        u, v = edit["edge"]
        old = list(spec.parents(v))
        new = [p for p in old if p != u] if op == "drop_edge" else [*old, u]
        _learn_parents(d, spec, v, new)
        if op == "drop_edge" and v in spec.indicators(u):
            _drop_indicator(d, u, v, notes)
        if spec.equation(v) is not None:
            notes.append(f"{v}'s spec equation replaced by parents {new} (its mechanism is learned)")
        if op == "drop_edge":
            for section, key in (("fairness", "unfair_paths"), ("robustness", "spurious_paths"),
                                 ("robustness", "contextual_paths")):  # fmt: skip
                entries = (d.get(section) or {}).get(key)
                if not entries:
                    continue
                kept = [e for e in entries if not _runs_along(e, u, v)]
                if len(kept) != len(entries):
                    notes.append(f"{section}.{key}: entries along {u}->{v} removed")
                    d[section][key] = kept
    elif op == "set_role":
        path, role = [str(x) for x in edit["path"]], edit["role"]
        if role in ("unfair", "fair"):
            if d.get("fairness") is None:
                raise SpecError("sensitivity: set_role unfair/fair needs a 'fairness:' section in the spec")
            entries = [list(e) for e in d["fairness"].get("unfair_paths", [])]
            if role == "unfair":
                if path not in entries:
                    entries.append(path)
            else:
                covering = [e for e in entries if path[: len(e)] == e]
                if covering:
                    notes.append(f"unfair entries {covering} removed: every path they covered is now fair")
                entries = [e for e in entries if e not in covering]
            d["fairness"]["unfair_paths"] = entries
        else:
            if d.get("robustness") is None:
                raise SpecError("sensitivity: set_role spurious/contextual needs a 'robustness:' section")
            rob = d["robustness"]
            add, other = ("spurious_paths", "contextual_paths") if role == "spurious" else (
                "contextual_paths", "spurious_paths")  # fmt: skip
            rob[other] = [e for e in rob.get(other, []) if list(e) != path]
            if path not in [list(e) for e in rob.get(add, [])]:
                rob[add] = [*rob.get(add, []), path]
    else:
        var = d["variables"][edit["variable"]]
        owner = [k for k in spec.latent if edit["variable"] in spec.indicators(k)]
        if owner:  # an indicator of a latent factor: it stays a child of the factor, no longer an indicator
            _drop_indicator(d, owner[0], edit["variable"], notes)
            return d, notes
        if "measures" not in var:
            raise SpecError(
                f"sensitivity: unmeasure {edit['variable']!r}: the variable has no 'measures:' (nor is it "
                "an indicator of a latent factor) to drop"
            )
        latent = var.pop("measures")
        notes.append(f"{edit['variable']} no longer assumed to measure {latent}")
    return d, notes


def _drop_indicator(d: dict[str, Any], latent: str, x: str, notes: list[str]) -> None:
    lat = d["variables"][latent]
    lat["indicators"] = [i for i in lat["indicators"] if i != x]
    if x in lat.get("loadings", {}):
        del lat["loadings"][x]
    if not lat["indicators"]:
        del lat["indicators"]
    notes.append(f"{x} is no longer an indicator of the latent factor {latent}")


def default_edits(spec: TrustSpec) -> list[dict[str, Any]]:
    """Every single-edge drop and add around the protected attribute and the environment.

    Drops: each edge into or out of them. Adds: each missing edge between them and another variable, in
    either direction, that keeps the graph acyclic.

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, _ = ct.scenarios.load("readmission")
    >>> [e["edge"] for e in default_edits(spec) if e["op"] == "drop_edge"][:2]
    [['A', 'Z'], ['A', 'L']]
    """
    parents = {v: list(spec.parents(v)) for v in spec.variables}
    centres = [v for v in (spec.protected, spec.environment) if v is not None]
    edits: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for c in centres:
        for v in spec.variables:
            for u, w in ((c, v), (v, c)):
                if (u, w) not in seen and u in parents[w]:
                    seen.add((u, w))
                    edits.append({"op": "drop_edge", "edge": [u, w]})
    for c in centres:
        for v in spec.variables:
            for u, w in ((c, v), (v, c)):
                if (u, w) in seen or u == w or u in parents[w] or w in parents[u]:
                    continue
                seen.add((u, w))
                if u in descendants(parents, [w]):  # u -> w would close a cycle
                    continue
                edits.append({"op": "add_edge", "edge": [u, w]})
    return edits
