"""Rank statistics under bootstrap weights: AUC and Spearman without a sort per resample."""

from __future__ import annotations

import numpy as np

__all__ = ["Ranker", "weighted_auc", "weighted_auc_rows", "weighted_spearman"]

Array = np.ndarray


class Ranker:
    """Tie-averaged ranks of a fixed vector under unit weights, in O(n) per call after one sort.

    A bootstrap resample is a vector of counts per unit; every copy of a unit ties with the others, so the
    resample's average ranks follow from cumulative counts over the sorted values. This turns rank
    statistics (AUC, Spearman) from a sort per resample into a ``bincount`` per resample.
    """

    def __init__(self, x: Array) -> None:
        x = np.asarray(x, dtype=np.float64)
        order = np.argsort(x, kind="stable")
        xs = x[order]
        starts = np.empty(len(x), dtype=bool)
        starts[:1] = True
        starts[1:] = xs[1:] != xs[:-1]
        gid_sorted = np.cumsum(starts) - 1
        self.gid = np.empty(len(x), dtype=np.int64)
        self.gid[order] = gid_sorted
        self.k = int(gid_sorted[-1]) + 1 if len(x) else 0
        self.order = order
        self.group_starts = np.flatnonzero(starts)  # where each tie group begins in sorted order

    def ranks(self, w: Array) -> Array:
        """1-based average ranks of every unit when unit i appears ``w[i]`` times."""
        gc = np.bincount(self.gid, weights=w, minlength=self.k)
        before = np.cumsum(gc) - gc
        return (before + (gc + 1.0) / 2.0)[self.gid]


def weighted_auc(ranker: Ranker, positive: Array, w: Array) -> float:
    """ROC AUC (Mann-Whitney with ties) of the scores behind ``ranker`` under unit weights ``w``."""
    r = ranker.ranks(w)
    wp = float(w[positive].sum())
    wn = float(w[~positive].sum())
    if wp == 0 or wn == 0:
        return float("nan")
    return float(((w * r)[positive].sum() - wp * (wp + 1.0) / 2.0) / (wp * wn))


def weighted_auc_rows(ranker: Ranker, positive: Array, weights: Array, *, ordered: bool = False) -> Array:
    """:func:`weighted_auc` for each row of ``weights`` (a block of resample counts), in sorted order.

    The units are put in score order (``ordered``: the columns already are, ``ranker.order``), so every tie
    group's weight is a contiguous sum for all rows at once instead of a scatter per resample; without ties
    the groups are the units themselves.
    """
    ws = weights if ordered else weights[:, ranker.order]
    pos = positive[ranker.order]
    if len(ranker.group_starts) == ws.shape[1]:
        gc, gp = ws, ws * pos
    else:
        gc = np.add.reduceat(ws, ranker.group_starts, axis=1)
        gp = np.add.reduceat(ws * pos, ranker.group_starts, axis=1)
    ranks = np.cumsum(gc, axis=1) - gc + (gc + 1.0) / 2.0
    wp = gp.sum(axis=1)
    wn = gc.sum(axis=1) - wp
    with np.errstate(invalid="ignore", divide="ignore"):
        out: Array = ((ranks * gp).sum(axis=1) - wp * (wp + 1.0) / 2.0) / (wp * wn)
    out[(wp == 0) | (wn == 0)] = np.nan
    return out


def weighted_spearman(rx: Ranker, ry: Ranker, w: Array) -> float:
    """Spearman correlation under unit weights (0 when either side has no spread)."""
    a, b = rx.ranks(w), ry.ranks(w)
    total = w.sum()
    if total <= 0:
        return 0.0
    a = a - (w * a).sum() / total
    b = b - (w * b).sum() / total
    denom = float(np.sqrt((w * a * a).sum() * (w * b * b).sum()))
    return float((w * a * b).sum() / denom) if denom > 0 else 0.0
