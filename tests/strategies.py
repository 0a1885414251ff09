"""Hypothesis strategies for random DAGs and random structural causal models, as trust-spec dicts.

Every generated SCM comes with the numbers it was built from (parents, coefficients, noise scales), so
tests can compute ground truth independently of the engine (closed forms for linear SCMs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

__all__ = [
    "SETTINGS",
    "GeneratedSCM",
    "LinearSCM",
    "dags",
    "linear_scms",
    "mixed_scms",
]

# Small examples, few of them, derandomized: the statistical assertions use fixed tolerances, and a
# derandomized run is reproducible bit for bit (STYLE.md: fixed seeds, never retries).
SETTINGS = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

MAX_NODES = 6


def _name(i: int) -> str:
    return f"V{i}"


@st.composite
def dags(draw: st.DrawFn, min_nodes: int = 1, max_nodes: int = MAX_NODES) -> dict[str, tuple[str, ...]]:
    """``{node: parents}`` in a topological declaration order (every parent comes earlier)."""
    n = draw(st.integers(min_nodes, max_nodes))
    out: dict[str, tuple[str, ...]] = {}
    for i in range(n):
        earlier = [_name(j) for j in range(i)]
        pas = draw(st.lists(st.sampled_from(earlier), unique=True, max_size=3)) if earlier else []
        out[_name(i)] = tuple(sorted(pas, key=lambda s: int(s[1:])))
    return out


def _num(x: float) -> str:
    """A float literal the equation language parses (negative numbers parenthesised)."""
    text = repr(float(x))
    return f"({text})" if x < 0 else text


_coef = st.floats(-2.0, 2.0, allow_nan=False).map(lambda x: round(x, 3))
_nonzero_coef = _coef.filter(lambda x: abs(x) >= 0.1)
_scale = st.floats(0.2, 1.5).map(lambda x: round(x, 3))


@dataclass(frozen=True)
class LinearSCM:
    """A linear-Gaussian SCM: ``V = intercept + sum coef[p] * p + normal(0, scale)``."""

    spec: dict[str, Any]
    parents: dict[str, tuple[str, ...]]
    coefs: dict[str, dict[str, float]]
    intercepts: dict[str, float]
    scales: dict[str, float]


@st.composite
def linear_scms(
    draw: st.DrawFn,
    min_nodes: int = 2,
    max_nodes: int = MAX_NODES,
    dag: st.SearchStrategy[dict[str, tuple[str, ...]]] | None = None,
) -> LinearSCM:
    """A random linear-Gaussian SCM over a random DAG; the target is the last node.

    ``dag`` draws the graph instead of ``dags(min_nodes, max_nodes)`` (a test that needs some structure,
    such as two paths between two nodes, builds it there rather than filtering random graphs).
    """
    parents = draw(dag if dag is not None else dags(min_nodes=min_nodes, max_nodes=max_nodes))
    coefs: dict[str, dict[str, float]] = {}
    intercepts: dict[str, float] = {}
    scales: dict[str, float] = {}
    variables: dict[str, Any] = {}
    for v, pas in parents.items():
        intercepts[v] = draw(_coef)
        scales[v] = draw(_scale)
        coefs[v] = {p: draw(_nonzero_coef) for p in pas}
        terms = [_num(intercepts[v])] + [f"{_num(c)}*{p}" for p, c in coefs[v].items()]
        terms.append(f"normal(0, {scales[v]!r})")
        variables[v] = {"type": "continuous", "equation": " + ".join(terms)}
    spec = {"name": "random_linear", "target": list(parents)[-1], "variables": variables}
    return LinearSCM(spec, parents, coefs, intercepts, scales)


@dataclass(frozen=True)
class GeneratedSCM:
    """A random SCM with mixed variable types and nonlinear terms."""

    spec: dict[str, Any]
    parents: dict[str, tuple[str, ...]]
    types: dict[str, str]
    categories: dict[str, tuple[Any, ...]] = field(default_factory=dict)


def _term(draw: st.DrawFn, parent: str, ptype: str, cats: tuple[Any, ...], nonlinear: bool) -> str:
    """One summand of a linear predictor that uses ``parent``."""
    c = _num(draw(_nonzero_coef))
    if ptype == "categorical":
        level = draw(st.sampled_from(cats))
        return f"{c}*({parent} == {level!r})"
    if not nonlinear:
        return f"{c}*{parent}"
    shape = draw(st.sampled_from(["lin", "tanh", "sigmoid", "exp"]))
    if shape == "lin":
        return f"{c}*{parent}"
    if shape == "exp":
        return f"{c}*exp(-abs({parent}))"  # bounded, so nothing overflows
    return f"{c}*{shape}({parent})"


@st.composite
def mixed_scms(
    draw: st.DrawFn,
    min_nodes: int = 2,
    max_nodes: int = MAX_NODES,
    nonlinear: bool = True,
    target_types: tuple[str, ...] = ("continuous", "binary"),
) -> GeneratedSCM:
    """A random SCM: continuous (possibly nonlinear) nodes, ``bernoulli(sigmoid(...))`` binary nodes and
    ``categorical(logits=[...])`` categorical nodes (numeric or string categories). The last node is the
    target and has one of ``target_types``."""
    parents = draw(dags(min_nodes=min_nodes, max_nodes=max_nodes))
    names = list(parents)
    types: dict[str, str] = {}
    cats: dict[str, tuple[Any, ...]] = {}
    variables: dict[str, Any] = {}
    for v, pas in parents.items():
        allowed = list(target_types) if v == names[-1] else ["continuous", "binary", "categorical"]
        vtype = draw(st.sampled_from(allowed))
        types[v] = vtype
        spec_v: dict[str, Any] = {"type": vtype}
        if vtype == "categorical":
            k = draw(st.integers(2, 4))
            strings = draw(st.booleans())
            cats[v] = tuple(f"c{j}" for j in range(k)) if strings else tuple(range(0, 10 * k, 10))[:k]
            spec_v["categories"] = list(cats[v])

        def predictor(v: str = v, pas: tuple[str, ...] = pas) -> str:
            terms = [_num(draw(_coef))] + [_term(draw, p, types[p], cats.get(p, ()), nonlinear) for p in pas]
            return " + ".join(terms)

        if vtype == "continuous":
            spec_v["equation"] = f"{predictor()} + normal(0, {draw(_scale)!r})"
        elif vtype == "binary":
            spec_v["equation"] = f"bernoulli(sigmoid({predictor()}))"
        else:
            logits = [predictor() for _ in cats[v]]
            spec_v["equation"] = f"categorical(logits=[{', '.join(logits)}])"
        variables[v] = spec_v
    spec = {"name": "random_mixed", "target": names[-1], "variables": variables}
    return GeneratedSCM(spec, parents, types, cats)
