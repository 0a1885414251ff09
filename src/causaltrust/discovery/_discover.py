"""``ct.discover``: causal discovery with background knowledge, wrapping causal-learn.

causal-learn is imported inside the functions that need it (extra ``discovery``). Its algorithms run on
anonymous node labels ``X1..Xp``; background knowledge is handed to those that take it (PC, FCI, CD-NOD as
causal-learn ``BackgroundKnowledge``; DirectLiNGAM the tiers as its prior matrix) and enforced on every
output, so the returned graph never violates it, and each change made on the output is named in ``notes``.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from causaltrust._dag import topological_order
from causaltrust.discovery._background import Background
from causaltrust.discovery._result import DiscoveredEdge, DiscoveryResult
from causaltrust.exceptions import DataError, GraphError, SpecError
from causaltrust.spec import TrustSpec

__all__ = ["DISCOVERY_METHODS", "discover"]

DISCOVERY_METHODS: tuple[str, ...] = ("cdnod", "fci", "ges", "lingam", "pc")
_TESTS = ("chisq", "fisherz", "gsq", "kci")
_DISCRETE_TESTS = ("chisq", "gsq")
_MARK = {-1: "tail", 1: "arrow", 2: "circle"}
# A numeric column with at most this many distinct integer values is treated as discrete (codes).
_MAX_DISCRETE_LEVELS = 10


def _import_causallearn() -> None:
    try:
        import causallearn  # noqa: F401
    except ImportError:
        raise ImportError(
            "causal discovery needs causal-learn: pip install 'causaltrust[discovery]'"
        ) from None


def _encode(data: pd.DataFrame) -> tuple[np.ndarray, dict[str, str], list[str], dict[str, list[Any]]]:
    """Float matrix (discrete columns as integer codes), inferred types, discrete columns, their levels."""
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"discover: data must be a pandas DataFrame, got {type(data).__name__}")
    if data.shape[1] < 2 or len(data) < 10:
        raise DataError(f"discover: need at least 2 columns and 10 rows, got shape {data.shape}")
    bad = [str(c) for c in data.columns if data[c].isna().any()]
    if bad:
        raise DataError(f"discover: columns {bad} contain missing values; drop or impute those rows first")
    cols: list[np.ndarray] = []
    types: dict[str, str] = {}
    discrete: list[str] = []
    levels_of: dict[str, list[Any]] = {}
    for c in data.columns:
        s = data[c]
        name = str(c)
        if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object or pd.api.types.is_string_dtype(s):
            cat = pd.Categorical(s)
            codes = cat.codes.astype(float)
            values: list[Any] = [str(v) for v in cat.categories]
            levels = len(values)
            is_discrete = True
        elif pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            codes = s.to_numpy(dtype=float)
            uniq = np.unique(codes)
            levels = uniq.size
            is_discrete = bool(levels <= _MAX_DISCRETE_LEVELS and np.all(uniq == np.round(uniq)))
            if is_discrete:
                codes = np.searchsorted(uniq, codes).astype(float)
                values = [int(v) for v in uniq]
        else:
            raise DataError(f"discover: column {name!r} has dtype {s.dtype}; expected numbers or categories")
        cols.append(codes)
        if is_discrete:
            discrete.append(name)
            types[name] = "binary" if levels <= 2 and values in ([0, 1], [0], [1]) else "categorical"
            levels_of[name] = values
        else:
            types[name] = "continuous"
    return np.column_stack(cols), types, discrete, levels_of


def _choose_test(
    test: str, method: str, names: Sequence[str], discrete: Sequence[str]
) -> tuple[str, list[str]]:
    notes: list[str] = []
    continuous = [n for n in names if n not in discrete]
    if method == "lingam":
        if not continuous:
            raise DataError(
                "discover: LiNGAM needs continuous non-Gaussian data, but every column is discrete; use "
                "method='pc' (chi-square / G² tests) or 'ges' (BDeu score)"
            )
        if discrete:
            notes.append(f"LiNGAM treats the discrete columns {list(discrete)} as numbers (an approximation)")
        return "lingam", notes
    if method == "ges":
        if test not in ("auto", "bic", "bdeu"):
            raise SpecError(f"discover: GES takes test='auto', 'bic' or 'bdeu' (its score), got {test!r}")
        if test == "auto":
            test = "bdeu" if not continuous else "bic"
        if test == "bdeu" and continuous:
            raise DataError(
                f"discover: the BDeu score needs discrete data, but {continuous} are continuous; "
                "use test='bic'"
            )
        if test == "bic" and discrete:
            notes.append(f"the Gaussian BIC score treats the discrete columns {list(discrete)} as numbers")
        return test, notes
    if test == "auto":
        if not continuous:
            return "gsq", notes
        if discrete:
            notes.append(
                f"Fisher-z treats the discrete columns {list(discrete)} as numeric codes (a linear-Gaussian "
                "approximation); test='kci' avoids it at a higher cost"
            )
        return "fisherz", notes
    if test not in _TESTS:
        raise SpecError(f"discover: unknown test {test!r}; expected 'auto' or one of {list(_TESTS)}")
    if test in _DISCRETE_TESTS and continuous:
        raise DataError(
            f"discover: test {test!r} is for discrete data, but columns {continuous} are continuous; use "
            "test='fisherz' (or 'auto'), or discretise those columns first"
        )
    if test == "fisherz" and not continuous:
        raise DataError(
            "discover: Fisher-z assumes continuous linear-Gaussian data, but every column is discrete; use "
            "test='gsq' or 'chisq' (or 'auto')"
        )
    return test, notes


def _edges_from_matrix(graph: np.ndarray, names: Sequence[str]) -> list[DiscoveredEdge]:
    """causal-learn's endpoint matrix (``graph[i, j]`` = mark at i of edge i-j) to edges over ``names``."""
    out = []
    p = len(names)
    for i in range(p):
        for j in range(i + 1, p):
            mi, mj = int(graph[i, j]), int(graph[j, i])
            if mi == 0 and mj == 0:
                continue
            if mi == 1 and mj == -1:  # j --> i: store as directed from j
                out.append(DiscoveredEdge(names[j], names[i], "tail", "arrow"))
            else:
                out.append(DiscoveredEdge(names[i], names[j], _MARK[mi], _MARK[mj]))
    return out


def _run_once(
    X: np.ndarray,
    names: list[str],
    method: str,
    test: str,
    alpha: float,
    bk: Background,
    seed: int,
) -> list[DiscoveredEdge]:
    """One causal-learn run on columns ``names`` (for CD-NOD the context node is the last)."""
    labels = [f"X{i + 1}" for i in range(len(names))]
    use_bk = None if bk.empty else bk.to_causallearn(names, labels)
    if method == "pc":
        from causallearn.search.ConstraintBased.PC import pc

        cg = pc(X, alpha, test, True, 0, 2, background_knowledge=use_bk, show_progress=False)
        return _edges_from_matrix(cg.G.graph, names)
    if method == "cdnod":
        from causallearn.search.ConstraintBased.CDNOD import cdnod

        # causal-learn's CD-NOD ignores show_progress (progress bars go to stderr) and background knowledge
        # in its skeleton phase (enforced on the output below, like everywhere).
        with contextlib.redirect_stderr(io.StringIO()):
            cg = cdnod(X[:, :-1], X[:, -1:], alpha, test, background_knowledge=use_bk, show_progress=False)
        return _edges_from_matrix(cg.G.graph, names)
    if method == "fci":
        from causallearn.search.ConstraintBased.FCI import fci

        # causal-learn's FCI prints its background-knowledge steps; keep them out of the user's stdout.
        with contextlib.redirect_stdout(io.StringIO()):
            g, _ = fci(X, test, alpha, background_knowledge=use_bk, show_progress=False, verbose=False)
        return _edges_from_matrix(g.graph, names)
    if method == "ges":
        from causallearn.search.ScoreBased.GES import ges

        score = "local_score_BDeu" if test == "bdeu" else "local_score_BIC"
        record = ges(X, score_func=score)
        return _edges_from_matrix(record["G"].graph, names)
    from causallearn.search.FCMBased.lingam import DirectLiNGAM

    model = DirectLiNGAM(random_state=seed, prior_knowledge=bk.lingam_prior(names))
    model.fit(X)
    B = model.adjacency_matrix_
    return [
        DiscoveredEdge(names[j], names[i], "tail", "arrow")
        for i in range(len(names))
        for j in range(len(names))
        if B[i, j] != 0
    ]


def _enforce(
    edges: list[DiscoveredEdge], bk: Background, pag: bool
) -> tuple[list[DiscoveredEdge], list[str]]:
    """Make ``edges`` respect ``bk``; return the edges and one line per change."""
    changes: list[str] = []
    out: list[DiscoveredEdge] = []
    required = set(bk.required)
    for e in edges:
        f_uv, f_vu = bk.is_forbidden(e.u, e.v), bk.is_forbidden(e.v, e.u)
        if (e.u, e.v) in required or (e.v, e.u) in required:
            a, b = (e.u, e.v) if (e.u, e.v) in required else (e.v, e.u)
            new = DiscoveredEdge(a, b, "tail", "arrow")
            if new != e:
                changes.append(f"{e} set to {new} (required)")
            out.append(new)
            continue
        if f_uv and f_vu:
            changes.append(f"{e} removed (forbidden both ways)")
            continue
        if f_uv or f_vu:
            # With a -> b forbidden, a may not cause b: the mark at a must be an arrowhead. A CPDAG or DAG
            # edge is then b --> a; a PAG keeps its mark at b (a circle stays undetermined).
            a, b, ma, mb = (e.u, e.v, e.mark_u, e.mark_v) if f_uv else (e.v, e.u, e.mark_v, e.mark_u)
            if ma != "arrow":
                new = _make(a, b, "arrow", mb if pag else "tail")
                changes.append(f"{e} set to {new} ({a} -> {b} forbidden)")
                out.append(new)
                continue
        out.append(e)
    present = {frozenset((e.u, e.v)) for e in out}
    for a, b in bk.required:
        if frozenset((a, b)) not in present:
            out.append(DiscoveredEdge(a, b, "tail", "arrow"))
            changes.append(f"{a} --> {b} added (required, not found in data)")
    return out, changes


def _make(a: str, b: str, ma: str, mb: str) -> DiscoveredEdge:
    """An edge with marks ``ma`` at a and ``mb`` at b, directed edges stored cause first."""
    if ma == "arrow" and mb == "tail":
        return DiscoveredEdge(b, a, "tail", "arrow")
    return DiscoveredEdge(a, b, ma, mb)


def _violations(edges: Sequence[DiscoveredEdge], bk: Background) -> list[str]:
    bad = []
    for e in edges:
        if e.mark_u != "arrow" and e.mark_v == "arrow" and bk.is_forbidden(e.u, e.v):
            bad.append(str(e))
        if e.mark_v != "arrow" and e.mark_u == "arrow" and bk.is_forbidden(e.v, e.u):
            bad.append(str(e))
        if (
            e.mark_u != "arrow"
            and e.mark_v != "arrow"
            and bk.is_forbidden(e.u, e.v)
            and bk.is_forbidden(e.v, e.u)
        ):
            bad.append(str(e))
    have = {(e.u, e.v) for e in edges if e.directed}
    bad += [f"missing {a} --> {b}" for a, b in bk.required if (a, b) not in have]
    return bad


def _pair_kind(e: DiscoveredEdge, first: str) -> str:
    """The edge's kind seen from ``first``: forward, backward, undirected or other."""
    if e.directed:
        return "forward" if e.u == first else "backward"
    if e.kind == "---":
        return "undirected"
    return "other"


def discover(
    data: pd.DataFrame,
    method: str = "pc",
    *,
    background: Background | TrustSpec | Mapping[str, Any] | None = None,
    alpha: float = 0.05,
    test: str = "auto",
    environment: str | None = None,
    n_bootstrap: int = 0,
    random_state: int | None = 0,
) -> DiscoveryResult:
    """Find a causal graph from data, with background knowledge, by a causal-learn algorithm.

    Parameters
    ----------
    data : pandas.DataFrame
        One column per variable, no missing values. Categorical, string and bool columns, and numeric ones
        with at most 10 distinct integer values, are discrete (integer codes); the rest continuous.
    method : {"pc", "fci", "ges", "cdnod", "lingam"}
        PC and GES give a CPDAG, FCI a PAG (latent confounders allowed), CD-NOD a CPDAG with the
        environment as the context node (changing mechanisms), DirectLiNGAM a DAG.
    background : dict, TrustSpec, Background or None
        ``{"tiers": [[...], ...], "forbidden": [[u, v], ...], "required": [[u, v], ...]}``. A spec gives the
        tiers protected + environment, the other observed variables, target. Passed to the algorithm where
        causal-learn takes it (PC, FCI, CD-NOD; LiNGAM the tiers) and always enforced on the output (GES takes
        none); the output never violates it, and ``notes`` names every change made to the output.
    alpha : float
        Significance level of the conditional-independence tests.
    test : str
        ``"auto"``: Fisher-z with any continuous column (discrete ones as codes, noted), G² when every column
        is discrete. Or ``"fisherz"``, ``"chisq"``, ``"gsq"``, ``"kci"``; for GES ``"bic"`` / ``"bdeu"``.
    environment : str or None
        The context column for CD-NOD (default: the spec's environment when ``background`` is a spec).
    n_bootstrap : int
        Resamples (rows with replacement, column order shuffled each time) for edge stability; 0 skips it.
    random_state : int or None
        Seed of the resampling and of LiNGAM.

    Returns
    -------
    DiscoveryResult

    Raises
    ------
    SpecError
        An unknown method or test, or contradictory background knowledge (e.g. a tier order against a
        required edge).
    DataError
        Bad data, or a test that does not fit it (a discrete test on continuous columns, Fisher-z or LiNGAM on
        all-discrete data).

    Examples
    --------
    >>> import numpy as np, pandas as pd, causaltrust as ct
    >>> rng = np.random.default_rng(1)
    >>> a = rng.normal(size=3_000); c = rng.normal(size=3_000); b = a + c + rng.normal(size=3_000)
    >>> res = ct.discover(pd.DataFrame({"a": a, "b": b, "c": c}), method="pc")
    >>> sorted(res.directed_edges())   # a collider is identified from data alone
    [('a', 'b'), ('c', 'b')]
    """
    if method not in DISCOVERY_METHODS:
        raise SpecError(f"discover: unknown method {method!r}; expected one of {list(DISCOVERY_METHODS)}")
    if not 0.0 < alpha < 1.0:
        raise SpecError(f"discover: alpha must be in (0, 1), got {alpha}")
    if n_bootstrap < 0:
        raise SpecError(f"discover: n_bootstrap must be >= 0, got {n_bootstrap}")
    _import_causallearn()
    if isinstance(background, TrustSpec) and environment is None:
        environment = background.environment
    bk = Background.from_any(background)
    X, types, discrete, levels = _encode(data)
    names = [str(c) for c in data.columns]
    if isinstance(background, TrustSpec):  # a spec may declare variables the table does not hold
        bk = bk.restricted(names)
    if len(set(names)) != len(names):
        raise DataError("discover: duplicate column names; rename them first")
    bk.check(names)
    test, notes = _choose_test(test, method, names, discrete)
    if method == "cdnod":
        if environment is None or environment not in names:
            raise SpecError(
                "discover: CD-NOD needs the environment column as its context node: pass environment='E' "
                f"(one of {names}) or a spec with robustness.environment"
            )
        order = [n for n in names if n != environment] + [environment]
        X = X[:, [names.index(n) for n in order]]
        names = order
        notes.append(
            f"CD-NOD: {environment!r} is the context node C (the domain index of changing mechanisms)"
        )
    pag = method == "fci"
    edges = _run_once(X, names, method, test, alpha, bk, _seed(random_state, 0))
    edges, changes = _enforce(edges, bk, pag)
    if changes:
        where = (
            "GES in causal-learn takes no background knowledge, so it was enforced on its output"
            if method == "ges" and not bk.empty
            else "background knowledge enforced on the output"
        )
        notes.append(f"{where}: " + "; ".join(changes))
    elif method == "ges" and not bk.empty:
        notes.append("GES takes no background knowledge: enforced on its output (no change was needed)")
    bad = _violations(edges, bk)
    if bad:  # _enforce guarantees this; a failure here is a bug, not bad input
        raise GraphError(f"discover: internal error, background knowledge violated by {bad}")
    directed = {v: [u for u, w in ((e.u, e.v) for e in edges if e.directed) if w == v] for v in names}
    try:
        topological_order(directed)
    except GraphError as exc:
        notes.append(f"the oriented edges contain a cycle after enforcing background knowledge: {exc}")
    stability = None
    if n_bootstrap:
        stability = _bootstrap(X, names, method, test, alpha, bk, pag, n_bootstrap, random_state)
    name_order = {n: i for i, n in enumerate(str(c) for c in data.columns)}
    edges.sort(key=lambda e: (name_order[e.u], name_order[e.v]))
    return DiscoveryResult(
        method=method,
        test=test,
        alpha=alpha,
        n=len(data),
        nodes=tuple(str(c) for c in data.columns),
        edges=tuple(edges),
        graph_type="pag" if pag else ("dag" if method == "lingam" else "cpdag"),
        background=bk,
        notes=tuple(notes),
        stability=stability,
        n_bootstrap=n_bootstrap,
        variable_types=types,
        categories=levels,
    )


def _seed(random_state: int | None, k: int) -> int:
    return int(np.random.SeedSequence([0 if random_state is None else random_state, k]).generate_state(1)[0])


def _bootstrap(
    X: np.ndarray,
    names: list[str],
    method: str,
    test: str,
    alpha: float,
    bk: Background,
    pag: bool,
    n_bootstrap: int,
    random_state: int | None,
) -> pd.DataFrame:
    rng = np.random.default_rng(np.random.SeedSequence([0 if random_state is None else random_state, 1]))
    n, p = X.shape
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for b in range(n_bootstrap):
        rows = rng.integers(0, n, n)
        # CD-NOD keeps the context node last; everything else is shuffled (PC's output depends on order).
        k = p - 1 if method == "cdnod" else p
        perm = np.concatenate([rng.permutation(k), np.arange(k, p)])
        sub_names = [names[i] for i in perm]
        edges = _run_once(X[rows][:, perm], sub_names, method, test, alpha, bk, _seed(random_state, b + 2))
        edges, _ = _enforce(edges, bk, pag)
        for e in edges:
            first, second = sorted((e.u, e.v), key=names.index)
            c = counts.setdefault((first, second), {"forward": 0, "backward": 0, "undirected": 0, "other": 0})
            c[_pair_kind(e, first)] += 1
    rows_out = []
    for (u, v), c in counts.items():
        rows_out.append(
            {
                "u": u,
                "v": v,
                "adjacent": sum(c.values()) / n_bootstrap,
                **{k: c[k] / n_bootstrap for k in ("forward", "backward", "undirected", "other")},
            }
        )
    cols = ["u", "v", "adjacent", "forward", "backward", "undirected", "other"]
    frame = pd.DataFrame(rows_out, columns=cols)
    return frame.sort_values(["adjacent", "u", "v"], ascending=[False, True, True], ignore_index=True)
