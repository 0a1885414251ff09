"""Pareto fronts, hypervolume, ranks and dominance over the metrics of a sweep.

Every objective is turned into one to *minimise* using the metric registry's ``better`` direction:
``higher`` → −value, ``lower`` → value, ``zero`` → |value|. Hypervolume is moocore's exact computation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from causaltrust.exceptions import BenchError, CausalTrustError, did_you_mean

__all__ = ["directions", "dominance_summary", "hypervolume", "pareto_front", "ranks", "to_minimisation"]

Direction = Literal["higher", "lower", "zero"]
_DIRECTIONS = ("higher", "lower", "zero")


def _moocore() -> Any:
    try:
        import moocore
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("Pareto analysis needs moocore: pip install 'causaltrust[bench]'") from None
    return moocore


def directions(objectives: Sequence[str], overrides: Mapping[str, str] | None = None) -> list[Direction]:
    """The better direction of each objective: ``overrides``, else the metric registry's ``better``.

    Examples
    --------
    >>> from causaltrust.bench import directions
    >>> directions(["accuracy.observational", "fairness.unfair_path_effect", "privacy.mia_auc"])
    ['higher', 'zero', 'lower']
    """
    from causaltrust.audit import metric_info

    if isinstance(objectives, str):
        objectives = [objectives]
    if not objectives:
        raise BenchError("objectives: give at least one metric name")
    overrides = dict(overrides or {})
    out: list[Direction] = []
    for obj in objectives:
        d = overrides.get(obj)
        if d is None:
            try:
                d = metric_info(obj).better
            except CausalTrustError:
                raise BenchError(
                    f"objective {obj!r} is not a known metric; give its direction: "
                    f"directions={{{obj!r}: 'higher' | 'lower' | 'zero'}}"
                ) from None
        if d == "informative" and obj not in overrides:
            raise BenchError(
                f"objective {obj!r} is informative (no better or worse, e.g. a legitimate effect); "
                f"give it a direction if you mean to rank on it: directions={{{obj!r}: 'higher' | 'lower'}}"
            )
        if d not in _DIRECTIONS:
            raise BenchError(f"direction of {obj!r}: expected one of {_DIRECTIONS}, got {d!r}")
        out.append(cast(Direction, d))
    return out


_directions = directions  # parameters below are called `directions` too


def to_minimisation(points: Any, dirs: Sequence[str]) -> np.ndarray:
    """``points`` (n × d) as objectives to minimise: higher → −x, lower → x, zero → |x|.

    Examples
    --------
    >>> from causaltrust.bench import to_minimisation
    >>> to_minimisation([[0.8, -0.1, 0.3]], ["higher", "zero", "lower"]).tolist()
    [[-0.8, 0.1, 0.3]]
    """
    x = np.array(points, dtype=float, ndmin=2)
    if x.shape[1] != len(dirs):
        raise BenchError(f"points have {x.shape[1]} objectives but {len(dirs)} directions were given")
    for j, d in enumerate(dirs):
        if d == "higher":
            x[:, j] = -x[:, j]
        elif d == "zero":
            x[:, j] = np.abs(x[:, j])
        elif d != "lower":
            raise BenchError(f"direction {j}: expected one of {_DIRECTIONS}, got {d!r}")
    return x


def _objective_matrix(
    frame: pd.DataFrame, objectives: Sequence[str], overrides: Mapping[str, str] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Minimisation matrix of the rows with every objective finite, and the mask of those rows."""
    if not isinstance(frame, pd.DataFrame):
        raise BenchError(f"expected a DataFrame (e.g. ledger.to_frame()), got {type(frame).__name__}")
    objectives = [objectives] if isinstance(objectives, str) else list(objectives)
    missing = [o for o in objectives if o not in frame.columns]
    if missing:
        metrics = [str(c) for c in frame.columns if "." in str(c)]
        if not metrics:
            raise BenchError(
                f"objective column(s) {missing} not in the frame: it holds no metric at all, so no cell "
                "finished (ledger.cells('failed') shows why; a script that starts worker processes needs "
                'its sweep under `if __name__ == "__main__":`)'
            )
        hints = "".join(did_you_mean(o, metrics) for o in missing)
        raise BenchError(
            f"objective column(s) {missing} not in the frame{hints} ({len(metrics)} metric columns, e.g. "
            f"{', '.join(metrics[:5])})"
        )
    dirs = directions(objectives, overrides)
    raw = frame[objectives].to_numpy(dtype=float)
    ok = np.isfinite(raw).all(axis=1)
    return to_minimisation(raw[ok], dirs) if ok.any() else np.empty((0, len(dirs))), ok


def pareto_front(
    frame: pd.DataFrame, objectives: Sequence[str], *, directions: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """The rows of ``frame`` no other row dominates on ``objectives`` (rows with NaN/inf are left out).

    Row ``q`` dominates ``p`` when it is at least as good on every objective and better on one; rows with
    equal values do not dominate each other, so ties stay on the front together.

    Parameters
    ----------
    frame : DataFrame
        One row per cell (or per configuration averaged over seeds), one column per objective, such as
        :meth:`Ledger.to_frame`.
    objectives : list of str
        Metric columns. Directions come from the metric registry (``better``), or ``directions``.

    Examples
    --------
    >>> import pandas as pd
    >>> from causaltrust.bench import pareto_front
    >>> df = pd.DataFrame({"accuracy.observational": [0.8, 0.7, 0.6],
    ...                    "fairness.unfair_path_effect": [0.10, -0.01, 0.05]})
    >>> pareto_front(df, ["accuracy.observational", "fairness.unfair_path_effect"]).index.tolist()
    [0, 1]
    """
    x, ok = _objective_matrix(frame, objectives, directions)
    keep = np.zeros(len(frame), dtype=bool)
    if len(x):
        keep[np.flatnonzero(ok)] = _moocore().is_nondominated(x, keep_weakly=True)
    return frame[keep]


def hypervolume(
    points: Any, reference: Sequence[float], *, directions: Sequence[str] | Mapping[str, str] | None = None
) -> float:
    """Hypervolume dominated by ``points`` up to ``reference`` (both in the objectives' own units).

    Parameters
    ----------
    points : DataFrame or array-like (n × d)
        A DataFrame's columns are the objectives (directions from the metric registry unless given);
        an array's columns are to be minimised unless ``directions`` says otherwise.
    reference : sequence of float
        The worst point counted, one value per objective, in the same units as ``points``. Points not
        strictly better than it on every objective add nothing.
    directions : sequence or dict of {"higher", "lower", "zero"}, optional

    Examples
    --------
    >>> from causaltrust.bench import hypervolume
    >>> hypervolume([[1, 2], [2, 1]], reference=[3, 3])
    3.0
    >>> round(hypervolume([[0.9, 0.1]], reference=[0.5, 0.5], directions=["higher", "zero"]), 6)
    0.16
    """
    if isinstance(points, pd.DataFrame):
        cols = [str(c) for c in points.columns]
        over = directions if isinstance(directions, Mapping) else None
        dirs: list[str] = list(directions) if isinstance(directions, Sequence) else []
        dirs = dirs or list(_directions(cols, over))
        raw = points.to_numpy(dtype=float)
    else:
        raw = np.array(points, dtype=float, ndmin=2)
        if raw.size == 0:
            raw = raw.reshape(0, len(reference))
        if isinstance(directions, Mapping):
            raise BenchError("directions: give a list (one per column) for an array of points")
        dirs = list(directions) if directions is not None else ["lower"] * raw.shape[1]
    ref = np.asarray(reference, dtype=float).ravel()
    if ref.shape[0] != raw.shape[1] or not np.isfinite(ref).all():
        raise BenchError(f"reference: expected {raw.shape[1]} finite values, got {list(reference)!r}")
    raw = raw[np.isfinite(raw).all(axis=1)]
    if len(raw) == 0:
        return 0.0
    x = to_minimisation(raw, dirs)
    r = to_minimisation(ref[None, :], dirs)[0]
    # Points not strictly inside the reference box contribute nothing; drop them explicitly.
    x = x[(x < r).all(axis=1)]
    if len(x) == 0:
        return 0.0
    return float(_moocore().hypervolume(x, ref=r))


def ranks(
    frame: pd.DataFrame, objectives: Sequence[str], *, directions: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Rank of each row per objective (1 = best, ties share the best rank), mean rank and Pareto layer.

    Returns a DataFrame on ``frame``'s index with columns ``rank[objective]`` for each objective,
    ``mean_rank`` and ``pareto_rank`` (1 = on the front, 2 = on the front once those are removed, ...).
    Rows with NaN objectives get NaN ranks.

    Examples
    --------
    >>> import pandas as pd
    >>> from causaltrust.bench import ranks
    >>> df = pd.DataFrame({"accuracy.observational": [0.8, 0.7], "privacy.mia_auc": [0.6, 0.5]})
    >>> ranks(df, ["accuracy.observational", "privacy.mia_auc"])["pareto_rank"].tolist()
    [1.0, 1.0]
    """
    x, ok = _objective_matrix(frame, objectives, directions)
    out = pd.DataFrame(index=frame.index)
    for j, obj in enumerate(objectives):
        col = np.full(len(frame), np.nan)
        col[ok] = pd.Series(x[:, j]).rank(method="min").to_numpy()
        out[f"rank[{obj}]"] = col
    out["mean_rank"] = out.mean(axis=1, skipna=False)
    layer = np.full(len(frame), np.nan)
    if len(x):
        layer[ok] = _moocore().pareto_rank(x) + 1
    out["pareto_rank"] = layer
    return out


def _dominated_by(points: np.ndarray, by: np.ndarray) -> np.ndarray:
    """For each row of ``points`` (minimisation), whether some row of ``by`` dominates it."""
    if len(points) == 0 or len(by) == 0:
        return np.zeros(len(points), dtype=bool)
    le = np.all(by[None, :, :] <= points[:, None, :], axis=2)
    lt = np.any(by[None, :, :] < points[:, None, :], axis=2)
    return np.asarray(np.any(le & lt, axis=1), dtype=bool)


def dominance_summary(
    frame: pd.DataFrame,
    objectives: Sequence[str],
    *,
    causal_methods: Sequence[str] = ("selective", "selective_fitted"),
    method_column: str = "method",
    reference: Sequence[float] | None = None,
    directions: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Which baseline fronts the causal methods' front dominates, and by how much.

    The causal front is the Pareto front of every row whose method is in ``causal_methods``; each other
    method is a baseline with its own front. One row per baseline:

    * ``dominates``: every point of the baseline front is dominated by a point of the causal front;
    * ``share_front_dominated`` / ``share_points_dominated``: share of the baseline's front points / of all
      its points dominated by the causal front;
    * ``hv_causal``, ``hv_baseline``, ``hv_difference`` (causal − baseline): hypervolumes against one
      common reference; ``hv_causal_only`` = HV(both) − HV(baseline), the volume only the causal front
      covers, and ``hv_baseline_only`` = HV(both) − HV(causal), 0 when the causal front covers it all.

    ``reference`` is in the objectives' units; by default the worst value of each objective over all rows,
    pushed 10% of its range further (the reference used is in ``result.attrs["reference"]``).

    Examples
    --------
    >>> import pandas as pd
    >>> from causaltrust.bench import dominance_summary
    >>> df = pd.DataFrame({"method": ["selective", "erm"], "accuracy.observational": [0.8, 0.7],
    ...                    "fairness.unfair_path_effect": [0.0, 0.2]})
    >>> s = dominance_summary(df, ["accuracy.observational", "fairness.unfair_path_effect"],
    ...                       reference=[0.5, 0.5])
    >>> s[["baseline", "dominates", "share_points_dominated"]].to_dict("records")
    [{'baseline': 'erm', 'dominates': True, 'share_points_dominated': 1.0}]
    >>> round(float(s["hv_difference"].iloc[0]), 4)
    0.09
    """
    if method_column not in frame.columns:
        raise BenchError(f"dominance_summary: the frame has no {method_column!r} column")
    objectives = [objectives] if isinstance(objectives, str) else list(objectives)
    dirs = _directions(objectives, directions)
    x, ok = _objective_matrix(frame, objectives, directions)
    methods = frame[method_column].to_numpy()[ok]
    causal = np.isin(methods, list(causal_methods))
    if not causal.any():
        raise BenchError(
            f"dominance_summary: no rows of the causal methods {list(causal_methods)} with finite "
            f"{objectives}; methods present: {sorted(set(frame[method_column]))}"
        )
    moo = _moocore()
    if reference is None:
        hi, lo = x.max(axis=0), x.min(axis=0)
        span = hi - lo
        ref_min = hi + np.where(span > 0, 0.1 * span, 0.1 * np.maximum(np.abs(hi), 1.0))
    else:
        ref_arr = np.asarray(reference, dtype=float).ravel()
        if ref_arr.shape[0] != len(objectives) or not np.isfinite(ref_arr).all():
            raise BenchError(f"reference: expected {len(objectives)} finite values, got {list(reference)!r}")
        ref_min = to_minimisation(ref_arr[None, :], dirs)[0]

    def hv(pts: np.ndarray) -> float:
        pts = pts[(pts < ref_min).all(axis=1)]
        return float(moo.hypervolume(pts, ref=ref_min)) if len(pts) else 0.0

    cx = x[causal]
    cfront = cx[moo.is_nondominated(cx, keep_weakly=True)]
    hv_c = hv(cfront)
    rows = []
    for name in sorted({str(m) for m in methods[~causal]}):
        bx = x[methods == name]
        bfront = bx[moo.is_nondominated(bx, keep_weakly=True)]
        front_dom = _dominated_by(bfront, cfront)
        hv_b = hv(bfront)
        hv_u = hv(np.vstack([cfront, bfront]))
        rows.append(
            {
                "baseline": name,
                "n_points": len(bx),
                "n_front": len(bfront),
                "dominates": bool(front_dom.all()),
                "share_front_dominated": float(front_dom.mean()),
                "share_points_dominated": float(_dominated_by(bx, cfront).mean()),
                "hv_causal": hv_c,
                "hv_baseline": hv_b,
                "hv_difference": hv_c - hv_b,
                "hv_causal_only": hv_u - hv_b,
                "hv_baseline_only": hv_u - hv_c,
            }
        )
    out = pd.DataFrame(
        rows,
        columns=[
            "baseline",
            "n_points",
            "n_front",
            "dominates",
            "share_front_dominated",
            "share_points_dominated",
            "hv_causal",
            "hv_baseline",
            "hv_difference",
            "hv_causal_only",
            "hv_baseline_only",
        ],
    )
    # The reference in the objectives' own units (|x| for zero-direction objectives).
    ref_units = [-v if d == "higher" else v for v, d in zip(ref_min, dirs, strict=True)]
    out.attrs["reference"] = ref_units
    out.attrs["objectives"] = objectives
    return out
