"""Shared plumbing of spec-aware estimators: validation, encoding, per-row randomness."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from causaltrust.exceptions import DataError
from causaltrust.scm._data import VariableMeta, frame_to_columns
from causaltrust.spec import TrustSpec, load_spec

__all__ = ["Design", "RowStream", "check_binary_target", "check_frame", "resolve_spec", "row_keys"]

Array = np.ndarray
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def resolve_spec(spec: Any, owner: str) -> TrustSpec:
    """The estimator's spec, validated; a clear error when it was not given."""
    if spec is None:
        raise DataError(
            f"{owner} needs a trust spec: pass spec=ct.load_spec(...) (or a dict / YAML path) to the "
            "constructor"
        )
    return load_spec(spec)


# Beyond this magnitude squares and exponentials overflow in every learner (1e308 trained to NaN).
MAX_ABS_VALUE = 1e100


def _meta(spec: TrustSpec, features: Sequence[str], fit: bool) -> dict[str, VariableMeta]:
    out = {}
    for f in features:
        var = spec.variables[f]
        cats = tuple(var.categories or ())
        if not fit:  # predicting in a shifted world: the shifts' new categories (a new hospital) are valid
            for shift in spec.shifts:
                extra = spec.shift_categories(shift).get(f, ())
                cats = cats + tuple(c for c in extra if c not in cats)
        out[f] = VariableMeta(f, var.type, cats, var.observed)
    return out


def check_frame(
    X: Any, features: Sequence[str], owner: str, *, spec: TrustSpec | None = None, fit: bool = True
) -> pd.DataFrame:
    """``X`` as a DataFrame holding every feature (extra columns are ignored).

    With ``spec``, every feature is checked by the validator ``ct.audit`` uses (``frame_to_columns``):
    types, NaN and inf, 0/1 binaries, declared categories (an environment given as the strings "0", "1"
    when the spec declares integers is refused, not silently re-coded), duplicate column names; and
    numbers must stay below 1e100 in magnitude. ``fit=False`` also accepts the categories the spec's
    shifts add.
    """
    if hasattr(X, "tocsr") or type(X).__module__.startswith("scipy.sparse"):
        raise DataError(
            f"{owner}: sparse input is not supported; pass a pandas DataFrame with the spec's features "
            f"{list(features)}"
        )
    if not isinstance(X, pd.DataFrame):
        raise DataError(
            f"{owner} reads per-row information from named columns: pass a pandas DataFrame with the spec's "
            f"features {list(features)}, not {type(X).__name__}"
        )
    missing = [f for f in features if f not in X.columns]
    if missing:
        raise DataError(f"{owner}: X lacks the spec's feature column(s) {missing}")
    if len(X) == 0:
        raise DataError(f"{owner}: X has no rows")
    if X.columns.duplicated().any():
        dups = sorted({str(c) for c in X.columns[X.columns.duplicated()]})
        raise DataError(f"{owner}: X has duplicate column names {dups}; every column needs its own name")
    if not features:
        raise DataError(f"{owner}: the spec has no features (every variable but the target is latent)")
    if spec is not None:
        cols = frame_to_columns(X, _meta(spec, features, fit), features, context=owner)
        for f, values in cols.items():
            if values.dtype.kind == "f" and len(values) and np.abs(values).max() > MAX_ABS_VALUE:
                raise DataError(
                    f"{owner}: column {f!r} holds values as large as {np.abs(values).max():.3g}; above "
                    f"{MAX_ABS_VALUE:.0e} the learners overflow. Rescale it (e.g. to standard units)"
                )
    return X


def check_binary_target(y: Any, n_rows: int, owner: str) -> np.ndarray:
    """``y`` as 0/1 integers with one value per row and both classes present."""
    y_arr = np.asarray(y)
    if y_arr.ndim != 1 or len(y_arr) != n_rows:
        raise DataError(
            f"{owner}.fit: y must be 1-D with one value per row of X ({n_rows}), got {y_arr.shape}"
        )
    if pd.isna(pd.Series(y_arr)).any():
        raise DataError(f"{owner}.fit: y has missing values")
    labels = pd.unique(pd.Series(y_arr)).tolist()
    if not set(labels) <= {0, 1}:
        raise DataError(f"{owner} predicts a binary target coded 0/1; y holds {sorted(map(str, labels))[:5]}")
    if len(labels) < 2:
        raise DataError(
            f"{owner}.fit: y holds a single class ({labels}); the training rows need both 0 and 1"
        )
    return y_arr.astype(np.int64)


def _mix(z: Array) -> Array:
    # SplitMix64 finaliser: a bijective mix of 64-bit keys into well-spread bits.
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def row_keys(X: pd.DataFrame, columns: Sequence[str], seed: int) -> Array:
    """A 64-bit key per row from its values (and the seed): the same row always gets the same key."""
    h = pd.util.hash_pandas_object(X[list(columns)], index=False).to_numpy(dtype=np.uint64)
    with np.errstate(over="ignore"):
        return _mix(h ^ (np.uint64(seed & 0xFFFFFFFFFFFFFFFF) * _GOLDEN))


class RowStream:
    """Counter-based uniforms keyed by row: a drop-in for the ``random``/``gumbel`` calls of abduction.

    Each call advances a counter shared by all rows, so the k-th draw of a row depends only on the row's
    key, not on which other rows are in the batch (predictions are batch-invariant).
    """

    def __init__(self, keys: Array) -> None:
        self.keys = keys
        self.counter = 0

    def _uniform(self, shape: tuple[int, ...]) -> Array:
        n = len(self.keys)
        if shape[0] != n:
            raise ValueError(f"RowStream draws one value per row ({n}), asked for shape {shape}")
        k = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        ctr = np.uint64(self.counter)
        self.counter += k
        with np.errstate(over="ignore"):
            cols = [_mix(self.keys + (ctr + np.uint64(j) + np.uint64(1)) * _GOLDEN) for j in range(k)]
        bits = np.stack(cols, axis=1) if k > 1 else cols[0]
        u = (bits >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)
        return u.reshape(shape)

    def random(self, size: int | tuple[int, ...]) -> Array:
        return self._uniform((size,) if isinstance(size, int) else tuple(size))

    def gumbel(self, size: int | tuple[int, ...]) -> Array:
        u = self._uniform((size,) if isinstance(size, int) else tuple(size))
        return -np.log(-np.log(np.clip(u, 1e-300, 1.0 - 1e-16)))


class Design:
    """Features → a float matrix: numbers as they are, categorical one-hot over the declared categories.

    A category not seen in training (a new hospital) is encoded as the training frequencies of the known
    ones: the model's pooled contextual effect, never a crash.
    """

    def __init__(self, meta: Mapping[str, VariableMeta], features: Sequence[str]) -> None:
        self.features = list(features)
        self.meta = {f: meta[f] for f in features}
        self.freq: dict[str, Array] = {}

    def fit(self, cols: Mapping[str, Array]) -> Design:
        for f in self.features:
            m = self.meta[f]
            if m.vtype == "categorical":
                k = len(m.categories)
                counts = np.bincount(cols[f][cols[f] >= 0], minlength=k)[:k].astype(np.float64)
                self.freq[f] = counts / max(counts.sum(), 1.0)
        return self

    @property
    def names(self) -> list[str]:
        out = []
        for f in self.features:
            m = self.meta[f]
            out.extend([f"{f}={c}" for c in m.categories] if m.vtype == "categorical" else [f])
        return out

    def transform(self, cols: Mapping[str, Array]) -> Array:
        blocks = []
        for f in self.features:
            m = self.meta[f]
            v = cols[f]
            if m.vtype == "categorical":
                k = len(m.categories)
                codes = v.astype(np.int64)
                known = (codes >= 0) & (codes < k)
                onehot = np.zeros((len(codes), k))
                onehot[np.flatnonzero(known), codes[known]] = 1.0
                if not known.all():
                    onehot[~known] = self.freq[f]
                blocks.append(onehot)
            else:
                blocks.append(np.asarray(v, dtype=np.float64)[:, None])
        return np.hstack(blocks)


def columns_with_unseen(
    X: pd.DataFrame, meta: Mapping[str, VariableMeta], names: Sequence[str], owner: str
) -> dict[str, Array]:
    """Internal columns of ``names``; unseen categories become code -1 instead of an error."""
    out: dict[str, Array] = {}
    for name in names:
        m = meta[name]
        s = X[name]
        if m.vtype == "categorical":
            if pd.api.types.is_integer_dtype(s.dtype) and m.categories == tuple(range(len(m.categories))):
                # Categories 0..K-1 stored as integers: values are codes (unknown ones become -1).
                ints = s.to_numpy(dtype=np.int64)
                out[name] = np.where((ints >= 0) & (ints < len(m.categories)), ints, -1)
                continue
            lookup = {c: i for i, c in enumerate(m.categories)}
            raw = s.to_numpy(dtype=object)
            out[name] = np.fromiter((lookup.get(v, -1) for v in raw), dtype=np.int64, count=len(raw))
            if pd.isna(s).any():
                raise DataError(f"{owner}: column {name!r} has missing values")
            continue
        if not (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)):
            raise DataError(f"{owner}: column {name!r} must be numeric, got {s.dtype}")
        v = s.to_numpy(dtype=np.float64, na_value=np.nan)
        if not np.all(np.isfinite(v)):
            raise DataError(f"{owner}: column {name!r} has NaN or infinite values")
        if m.vtype == "binary" and not np.all((v == 0) | (v == 1)):
            raise DataError(f"{owner}: binary column {name!r} must hold 0/1")
        out[name] = v
    return out
