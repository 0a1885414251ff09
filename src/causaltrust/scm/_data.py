"""DataFrame <-> column store, with validation that names the column, the rows and the fix."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from causaltrust.exceptions import DataError, did_you_mean

__all__ = [
    "MAX_ABS_VALUE",
    "VariableMeta",
    "check_data",
    "codes_to_values",
    "columns_to_frame",
    "frame_to_columns",
    "value_to_internal",
]

Array = np.ndarray
# The largest magnitude a number in the data may have (the learners' limit too): squares and sums of
# squares of larger values overflow float64, so every fit, scaler and audit on them would return NaN.
MAX_ABS_VALUE = 1e100
VarType = Literal["continuous", "binary", "categorical"]


class VariableMeta:
    """Type and categories of one variable as the engine stores it.

    A spec's ``count`` is stored as a continuous number (``vtype``) whose values are checked to be
    non-negative integers (``count``).
    """

    __slots__ = ("categories", "count", "name", "observed", "vtype")

    def __init__(
        self,
        name: str,
        vtype: VarType | Literal["count"],
        categories: tuple[Any, ...] = (),
        observed: bool = True,
    ) -> None:
        self.name = name
        self.count = vtype == "count"
        self.vtype: VarType = "continuous" if vtype == "count" else vtype
        self.categories = categories
        self.observed = observed

    @property
    def numeric_categories(self) -> bool:
        return not any(isinstance(c, str) for c in self.categories)


def _rows(df_index: pd.Index, mask: Array, limit: int = 5) -> str:
    where = np.flatnonzero(mask)
    labels = [repr(x) for x in df_index[where[:limit]]]
    more = f" and {len(where) - limit} more" if len(where) > limit else ""
    return f"{len(where)} row(s): {', '.join(labels)}{more}"


def frame_to_columns(
    df: Any,
    meta: Mapping[str, VariableMeta],
    columns: Iterable[str],
    *,
    context: str = "data",
    optional: Iterable[str] = (),
) -> dict[str, Array]:
    """Validate ``df`` and return internal columns for ``columns`` (plus ``optional`` ones if present)."""
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"{context}: expected a pandas DataFrame, got {type(df).__name__}")
    if isinstance(df.columns, pd.MultiIndex):
        # df["X"] on MultiIndex columns returns a sub-frame (or the first level's match): silently wrong.
        raise DataError(
            f"{context}: the columns are a {df.columns.nlevels}-level MultiIndex (e.g. "
            f"{list(df.columns[:2])}); give one level of variable names, e.g. df.columns = "
            "df.columns.get_level_values(0)"
        )
    columns = list(columns)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        hints = "".join(did_you_mean(c, [str(x) for x in df.columns]) for c in missing)
        raise DataError(
            f"{context}: missing column(s) {missing}{hints}; the spec declares them as observed. Add them to "
            f"the data, or mark them 'observed: false' in the spec (columns present: {list(df.columns)[:20]})"
        )
    out: dict[str, Array] = {}
    wanted = columns + [c for c in optional if c in df.columns and c not in columns]
    for name in wanted:
        out[name] = _column(df, name, meta[name], context)
    return out


def check_data(spec: Any, data: Any, *, context: str = "data") -> None:
    """Raise a :class:`DataError` unless ``data`` holds every observed variable of ``spec``, well typed.

    The checks :meth:`SCM.fit` runs before learning anything (columns present, numbers where numbers are
    declared, no NaN, categories declared), without fitting.

    Examples
    --------
    >>> import causaltrust as ct
    >>> from causaltrust.scm import check_data
    >>> check_data(ct.datasets.spec("german"), ct.datasets.load("german"))
    """
    meta = {
        n: VariableMeta(n, v.type, tuple(v.categories or ()), v.observed) for n, v in spec.variables.items()
    }
    frame_to_columns(data, meta, spec.observed, context=context)


def _column(df: pd.DataFrame, name: str, m: VariableMeta, context: str) -> Array:
    if int((df.columns == name).sum()) > 1:
        raise DataError(f"{context}: column {name!r} appears more than once")
    s = df[name]
    if m.vtype == "categorical":
        return _categorical_codes(s, m, context)
    if not (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)):
        _mixed_types(s, name, m, context)
        sample = s.head(3).tolist()
        raise DataError(
            f"{context}: column {name!r} is {m.vtype} but holds {s.dtype} values (e.g. {sample}); convert it "
            "to numbers, or declare the variable categorical with its categories"
        )
    if isinstance(s.dtype, np.dtype) and s.dtype.kind in "biu":
        # Integers and bools are finite: two reductions check a binary column (no per-row masks).
        ints = s.to_numpy()
        if m.vtype != "binary" or len(ints) == 0 or (ints.min() >= 0 and ints.max() <= 1):
            return s.to_numpy(dtype=np.float64)
    values = s.to_numpy(dtype=np.float64, na_value=np.nan)
    if (
        len(values)
        and m.vtype == "continuous"
        and not getattr(m, "count", False)  # counts also need the integer check below
        and -MAX_ABS_VALUE <= values.min() <= values.max() <= MAX_ABS_VALUE
    ):
        return values  # two reductions: a NaN makes them NaN, failing the test, so the checks below run
    bad = ~np.isfinite(values)
    if bad.any():
        raise DataError(
            f"{context}: column {name!r} has NaN or infinite values in {_rows(s.index, bad)}; drop or impute "
            "them first"
        )
    big = np.abs(values) > MAX_ABS_VALUE
    if big.any():
        raise DataError(
            f"{context}: column {name!r} holds values as large as {values[big][0]:.3g}; above "
            f"{MAX_ABS_VALUE:.0e} sums of squares overflow to inf and every fit turns to NaN "
            f"({_rows(s.index, big)}). Rescale the column (e.g. to standard units or a log scale)"
        )
    if getattr(m, "count", False):
        bad = (values < 0) | (values != np.floor(values))
        if bad.any():
            raise DataError(
                f"{context}: count column {name!r} has values that are not non-negative integers (e.g. "
                f"{values[bad][0]!r}) in {_rows(s.index, bad)}; declare it continuous or fix the values"
            )
    if m.vtype == "binary":
        bad = (values != 0.0) & (values != 1.0)
        if bad.any():
            raise DataError(
                f"{context}: binary column {name!r} has values other than 0/1 (e.g. {values[bad][0]!r}) in "
                f"{_rows(s.index, bad)}"
            )
    return values


def _mixed_types(s: pd.Series, name: str, m: VariableMeta, context: str) -> None:
    """DataError naming the entries that are not numbers when a column mixes numbers and text.

    A CSV column with one stray word (``"n/a"``, ``"unknown"``) is read as text as a whole; saying which
    entries broke it is the useful message.
    """
    present = s.notna().to_numpy()
    numeric = pd.to_numeric(s, errors="coerce").notna().to_numpy()
    bad = present & ~numeric
    if numeric.any() and bad.any():
        examples = pd.unique(s[bad].astype(object))[:5].tolist()
        raise DataError(
            f"{context}: column {name!r} is {m.vtype} but mixes numbers and text: {examples} in "
            f"{_rows(s.index, bad)} are not numbers; fix or drop those entries (or read the file with "
            "na_values=[...] for missing-value markers), or declare the variable categorical"
        )


def _categorical_codes(s: pd.Series, m: VariableMeta, context: str) -> Array:
    cats = m.categories
    if pd.api.types.is_integer_dtype(s.dtype) and cats == tuple(range(len(cats))):
        # Categories 0..K-1 stored as integers: the values are the codes (the common, hot case).
        ints = s.to_numpy(dtype=np.int64)
        if len(ints) == 0 or (ints.min() >= 0 and ints.max() < len(cats)):
            return ints
    if m.numeric_categories and (
        pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)
    ):
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
        cat_arr = np.asarray(cats, dtype=np.float64)
        order = np.argsort(cat_arr, kind="stable")
        idx = np.clip(np.searchsorted(cat_arr[order], values), 0, len(cats) - 1)
        ok = cat_arr[order][idx] == values
        codes = order[idx]
    else:
        lookup = {c: i for i, c in enumerate(cats)}
        raw = s.to_numpy(dtype=object)
        codes = np.fromiter(
            (lookup.get(v, -1) if v == v else -1 for v in raw), dtype=np.int64, count=len(raw)
        )
        ok = codes >= 0
    if not ok.all():
        bad_values = pd.unique(s[~ok].astype(object))[:5].tolist()
        raise DataError(
            f"{context}: column {m.name!r} has values {bad_values} that are not among its declared "
            "categories "
            f"{list(cats)} in {_rows(s.index, ~ok)}; declare them under 'categories:' (or drop NaN rows)"
        )
    return codes.astype(np.int64, copy=False)


def codes_to_values(codes: Array, m: VariableMeta) -> Array:
    """Category values (numbers or strings) of internal codes."""
    if m.numeric_categories:
        cats = np.asarray(m.categories)
        return cats[codes]
    return np.asarray(m.categories, dtype=object)[codes]


def columns_to_frame(
    cols: Mapping[str, Array],
    meta: Mapping[str, VariableMeta],
    names: Iterable[str],
    index: pd.Index | None,
    *,
    given: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Build the user-facing DataFrame: binary as int64, categorical as category values.

    ``given`` maps names to finished output columns (the caller's own copies) used as they are.
    """
    data: dict[str, Any] = {}
    for name in names:
        if given and name in given:
            data[name] = given[name]
            continue
        v = cols[name]
        m = meta[name]
        if m.vtype == "binary":
            data[name] = v.astype(np.int64)
        elif m.vtype == "categorical":
            data[name] = codes_to_values(v, m)
        else:
            data[name] = v
        if not data[name].flags.writeable:
            # A read-only view of the caller's frame (pandas copy-on-write): the result must be its own.
            data[name] = data[name].copy()
    return pd.DataFrame(data, index=index, copy=False)


def value_to_internal(value: Any, m: VariableMeta, n: int, where: str) -> float | Array:
    """A ``do()`` value (scalar or per-unit array) in the internal representation."""
    if isinstance(value, pd.Series | np.ndarray | list):
        arr = np.asarray(value.to_numpy() if isinstance(value, pd.Series) else value)
        if arr.shape != (n,):
            raise DataError(f"{where}: a per-unit value needs {n} entries, got shape {arr.shape}")
        frame = pd.DataFrame({m.name: arr})
        return _column(frame, m.name, m, where)
    if m.vtype == "categorical":
        for i, c in enumerate(m.categories):
            if c == value and not isinstance(value, bool):
                return i
        raise DataError(f"{where}: {value!r} is not a category of {m.name!r} ({list(m.categories)})")
    if isinstance(value, bool):
        value = int(value)
    if not isinstance(value, int | float | np.integer | np.floating) or not np.isfinite(value):
        raise DataError(f"{where}: {m.name!r} is {m.vtype}; {value!r} is not a finite number")
    if m.vtype == "binary" and value not in (0, 1):
        raise DataError(f"{where}: {m.name!r} is binary; set it to 0 or 1, not {value!r}")
    return float(value)
