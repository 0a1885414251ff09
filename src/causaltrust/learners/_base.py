"""The one base of spec-aware estimators: settings, the fit preamble, encoding, per-row randomness.

Every causaltrust learner that reads a trust spec derives from :class:`SpecEstimator`. Its settings are
declared in scikit-learn's ``_parameter_constraints`` and checked by ``_fit_context`` (a bad setting raises
scikit-learn's ``InvalidParameterError``, a ``ValueError``); :meth:`SpecEstimator._prepare` is the one fit
preamble (resolve the spec, check the frame, check the target, derive the seed, record the inputs), and a
learner implements only its core step. Bad data raises :class:`~causaltrust.exceptions.DataError`.

``random_state`` has scikit-learn's meaning everywhere: an int gives the same bytes every time, a NumPy
``Generator`` or ``RandomState`` is drawn from once per fit, and None means fresh OS entropy per fit (not
reproducible). The seed actually used is stored as ``seed_`` so that predictions of a fitted estimator are
deterministic and batch-invariant whatever ``random_state`` was.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from numbers import Integral
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

import numpy as np
import pandas as pd
from sklearn.base import _fit_context, clone
from sklearn.exceptions import DataConversionWarning
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted

from causaltrust.exceptions import DataError, SpecError
from causaltrust.scm import SCM
from causaltrust.scm._data import VariableMeta, frame_to_columns
from causaltrust.spec import TrustSpec, load_spec

if TYPE_CHECKING:
    # What mypy sees of scikit-learn's untyped bases: known where we call them, Any for everything else.
    # Bases typed Any would make mypy give every dataclass learner's generated __init__ a catch-all
    # ``*args, **kwargs``, so a misspelled parameter would pass type checking (DESIGN, "Issue 29:
    # parameters declared once"). At run time these are scikit-learn's own classes.
    class _Untyped:
        def __sklearn_tags__(self) -> Any: ...
        def __getattr__(self, name: str) -> Any: ...
        def __setattr__(self, name: str, value: Any) -> None: ...

    class BaseEstimator(_Untyped):
        def get_params(self, deep: bool = True) -> dict[str, Any]: ...
        def set_params(self, **params: Any) -> Any: ...

    class ClassifierMixin(_Untyped): ...

    class RegressorMixin(_Untyped): ...

else:  # the names other learner modules import from here, re-exported
    from sklearn.base import BaseEstimator as BaseEstimator
    from sklearn.base import ClassifierMixin as ClassifierMixin
    from sklearn.base import RegressorMixin as RegressorMixin

__all__ = [
    "BinaryClassifierMixin",
    "Design",
    "RowStream",
    "SaveMixin",
    "SpecEstimator",
    "check_frame",
    "check_target",
    "columns_with_unseen",
    "derive_seed",
    "fit_context",
    "pooled",
    "resolve_spec",
    "row_keys",
    "sigmoid",
    "spec_meta",
]

Array = np.ndarray
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
# Beyond this magnitude squares and exponentials overflow in every learner (1e308 trained to NaN).
MAX_ABS_VALUE = 1e100
#: The constraint of every ``spec`` parameter: a TrustSpec, its dict or a YAML path.
SPEC_CONSTRAINT: list[Any] = [TrustSpec, dict, str, os.PathLike, None]
#: scikit-learn's ``random_state`` values, and a NumPy Generator.
SEED_CONSTRAINT: list[Any] = ["random_state", np.random.Generator]
ESTIMATOR_CONSTRAINT: list[Any] = [HasMethods(["fit", "predict"]), None]


_Fit = TypeVar("_Fit", bound=Callable[..., Any])


def fit_context(*, nested: bool) -> Callable[[_Fit], _Fit]:
    """scikit-learn's ``_fit_context`` for a ``fit`` method: the settings are validated against
    ``_parameter_constraints`` first; ``nested=True`` when the estimator fits user-given estimators whose
    own settings scikit-learn should validate too."""

    def wrap(fit: _Fit) -> _Fit:
        return cast(_Fit, _fit_context(prefer_skip_nested_validation=not nested)(fit))

    return wrap


def resolve_spec(spec: Any, owner: str) -> TrustSpec:
    """The estimator's spec, validated; a clear error when it was not given."""
    if spec is None:
        raise DataError(
            f"{owner} needs a trust spec: pass spec=ct.load_spec(...) (or a dict / YAML path) to the "
            "constructor"
        )
    return load_spec(spec)


def derive_seed(random_state: Any) -> int:
    """A 63-bit seed with scikit-learn's meaning of ``random_state`` (None: fresh OS entropy).

    Global NumPy state is never read or advanced: None draws from a new ``default_rng()``.
    """
    if random_state is None:
        return int(np.random.default_rng().integers(0, 2**63 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    return int(random_state) & 0x7FFFFFFFFFFFFFFF


def spec_meta(
    spec: TrustSpec, names: Sequence[str] | None = None, *, fit: bool = True
) -> dict[str, VariableMeta]:
    """Variable metadata from the spec (as an SCM built from it holds); ``fit=False`` adds the categories
    the spec's shifts introduce (a new hospital is valid when predicting in a shifted world)."""
    out = {}
    for f in spec.variables if names is None else names:
        var = spec.variables[f]
        cats = tuple(var.categories or ())
        if not fit:
            for shift in spec.shifts:
                extra = spec.shift_categories(shift).get(f, ())
                cats = cats + tuple(c for c in extra if c not in cats)
        out[f] = VariableMeta(f, var.type, cats, var.observed)
    return out


def _canonical_codes(X: pd.DataFrame, meta: Mapping[str, VariableMeta]) -> pd.DataFrame:
    """Binary and integer-coded categorical columns given as floats or bools become int64, so that a
    column of 1.0 / 0.0 gives the same predictions (row keys included) as one of 1 / 0."""
    fix = {}
    for f, m in meta.items():
        s = X[f]
        if m.vtype == "continuous" or not (pd.api.types.is_float_dtype(s) or pd.api.types.is_bool_dtype(s)):
            continue
        if m.vtype == "categorical" and not all(
            isinstance(c, Integral) and not isinstance(c, bool) for c in m.categories
        ):
            continue
        v = s.to_numpy(dtype=np.float64)
        if np.all(v == np.round(v)):  # validated finite by frame_to_columns
            fix[f] = v.astype(np.int64)
    return X.assign(**fix) if fix else X


def check_frame(
    X: Any,
    features: Sequence[str],
    owner: str,
    *,
    spec: TrustSpec | None = None,
    fit: bool = True,
    arrays: bool = False,
    described: str = "the spec's features",
) -> pd.DataFrame:
    """``X`` as a DataFrame holding every feature (extra columns are ignored).

    With ``arrays=True`` (every SpecEstimator), a 2-D array with one column per feature is read in the order
    of ``features``; otherwise only DataFrames are taken. ``described`` names ``features`` in the errors
    (an estimator that reads fewer columns than the spec's features says which and why). With ``spec``, every
    feature is checked by the validator ``ct.audit`` uses (``frame_to_columns``): types, NaN and inf, 0/1
    binaries, declared categories (an environment given as the strings "0", "1" when the spec declares
    integers is refused, not silently re-coded), duplicate column names; numbers must stay below 1e100 in
    magnitude. Binary and integer categorical columns given as floats are read as integers. ``fit=False``
    also accepts the categories the spec's shifts add.
    """
    features = list(features)
    if hasattr(X, "tocsr") or type(X).__module__.startswith("scipy.sparse"):
        raise DataError(
            f"{owner}: sparse input is not supported; pass a pandas DataFrame with {described} {features}"
        )
    if not features:
        raise DataError(f"{owner}: the spec has no features (every variable but the target is latent)")
    if not isinstance(X, pd.DataFrame):
        if not arrays:  # a learner not on SpecEstimator yet (learners/_regressors.py)
            raise DataError(
                f"{owner} reads per-row information from named columns: pass a pandas DataFrame with the "
                f"spec's features {features}, not {type(X).__name__}"
            )
        X = _array_frame(X, features, owner, described)
    if isinstance(X.columns, pd.MultiIndex) or not all(isinstance(c, str) for c in X.columns):
        bad = [c for c in X.columns if not isinstance(c, str)][:5]
        got = bad or "a MultiIndex"
        raise DataError(f"{owner}: X's column names must be strings (the spec's variable names); got {got}")
    missing = [f for f in features if f not in X.columns]
    if missing:
        raise DataError(f"{owner}: X lacks the spec's feature column(s) {missing}")
    if len(X) == 0:
        raise DataError(f"{owner}: X has no rows")
    if X.columns.duplicated().any():
        dups = sorted({str(c) for c in X.columns[X.columns.duplicated()]})
        raise DataError(f"{owner}: X has duplicate column names {dups}; every column needs its own name")
    if spec is not None:
        meta = spec_meta(spec, features, fit=fit)
        cols = frame_to_columns(X, meta, features, context=owner)
        for f, values in cols.items():
            if values.dtype.kind == "f" and len(values) and np.abs(values).max() > MAX_ABS_VALUE:
                raise DataError(
                    f"{owner}: column {f!r} holds values as large as {np.abs(values).max():.3g}; above "
                    f"{MAX_ABS_VALUE:.0e} the learners overflow. Rescale it (e.g. to standard units)"
                )
        X = _canonical_codes(X, meta)
    return X


def _array_frame(X: Any, features: list[str], owner: str, described: str) -> pd.DataFrame:
    """A 2-D array read as ``features`` in order; anything else is refused with the fix."""
    hint = f"pass a pandas DataFrame with {described} {features}, or a 2-D array in that order"
    if isinstance(X, str | bytes) or (not hasattr(X, "__len__") and not hasattr(X, "__array__")):
        raise DataError(f"{owner} reads {described} from named columns: {hint}, not {type(X).__name__}")
    try:
        arr = np.asarray(X)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{owner}: X could not be read as an array ({exc}); {hint}") from None
    if arr.ndim != 2:
        raise DataError(f"{owner}: X must be 2-D (rows x {described}), got shape {arr.shape}; {hint}")
    if arr.dtype.kind == "c":
        raise DataError(f"{owner}: Complex data not supported; the spec's variables are real or categorical")
    if arr.shape[1] == 0:
        raise DataError(
            f"{owner}: X has 0 feature(s) (shape={arr.shape}) while a minimum of {len(features)} is required "
            f"({described}); {hint}"
        )
    if arr.shape[1] != len(features):
        raise DataError(
            f"{owner}: X has {arr.shape[1]} feature(s) (columns) but reads {len(features)}: {described} "
            f"{features}; pass a pandas DataFrame with these columns, or a 2-D array in that order"
        )
    frame = pd.DataFrame(arr, columns=features)
    # A mixed table as an object array (text categories beside numbers): numbers become numbers again.
    return frame.infer_objects() if arr.dtype == object else frame


def _num_rows(X: Any) -> int:
    return len(X) if isinstance(X, pd.DataFrame) else len(np.asarray(X))


def _not_a_table(X: Any, features: list[str], owner: str, described: str) -> None:
    """Raise for sparse, complex or non-tabular input (before the target is read)."""
    if isinstance(X, pd.DataFrame):
        return
    if hasattr(X, "tocsr") or type(X).__module__.startswith("scipy.sparse"):
        check_frame(X, features, owner, arrays=True, described=described)
    try:
        arr = np.asarray(X)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.dtype.kind == "c" or arr.ndim != 2:
        check_frame(X, features, owner, arrays=True, described=described)


def check_target(y: Any, n_rows: int, owner: str, kind: str = "binary") -> Array:
    """``y`` as 0/1 integers with both classes (``kind="binary"``), or as finite floats (``"continuous"``)."""
    if y is None:
        raise DataError(f"{owner} requires y to be passed, but the target y is None (one value per row of X)")
    y_arr = np.asarray(y)
    if y_arr.ndim == 2 and y_arr.shape[1] == 1:
        warnings.warn(
            f"A column-vector y was passed when a 1d array was expected; {owner} reads it as 1-D",
            DataConversionWarning,
            stacklevel=3,
        )
        y_arr = y_arr[:, 0]
    if y_arr.ndim != 1 or len(y_arr) != n_rows:
        raise DataError(
            f"{owner}.fit: y must be 1-D with one value per row of X ({n_rows}), got {y_arr.shape}"
        )
    if pd.isna(pd.Series(y_arr)).any():
        raise DataError(f"{owner}.fit: y has missing values")
    if kind == "continuous":
        try:
            out = y_arr.astype(np.float64)
        except (TypeError, ValueError):
            raise DataError(f"{owner} predicts a continuous target; y holds {y_arr[:5].tolist()}") from None
        if not np.all(np.isfinite(out)):
            raise DataError(f"{owner}.fit: y has infinite values")
        return out
    labels = pd.unique(pd.Series(y_arr)).tolist()
    if not set(labels) <= {0, 1} or y_arr.dtype.kind not in "biuf":
        kind = "continuous values" if y_arr.dtype.kind == "f" else "labels"
        only = " Only binary classification is supported." if len(labels) > 2 else ""
        raise DataError(
            f"{owner} predicts a binary target coded 0/1 (Unknown label type: y holds {kind} "
            f"{sorted(map(str, labels))[:5]}).{only}"
        )
    if len(labels) < 2:
        raise DataError(
            f"{owner}.fit: y holds a single class ({labels}); the training rows need both 0 and 1 (one class "
            "cannot be learned)"
        )
    return y_arr.astype(np.int64)


def sigmoid(z: Array) -> Array:
    """The logistic function, without overflow for large |z|."""
    return np.asarray(np.exp(-np.logaddexp(0.0, -np.asarray(z, dtype=np.float64))))


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

    @property
    def numeric(self) -> Array:
        """Per encoded column: True for a number, False for a one-hot indicator."""
        widths = [
            len(self.meta[f].categories) if self.meta[f].vtype == "categorical" else 1 for f in self.features
        ]
        kinds = [self.meta[f].vtype != "categorical" for f in self.features]
        return np.repeat(np.array(kinds, dtype=bool), widths)

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
        if not blocks:  # no inputs (Fair Add where every feature descends from the protected attribute)
            return np.empty((len(next(iter(cols.values()))), 0))
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
            if pd.isna(s).any():
                raise DataError(f"{owner}: column {name!r} has missing values")
            lookup = {c: i for i, c in enumerate(m.categories)}
            raw = s.to_numpy(dtype=object)
            out[name] = np.fromiter((lookup.get(v, -1) for v in raw), dtype=np.int64, count=len(raw))
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


Scores = Callable[[pd.DataFrame, dict[str, Array]], Array]


def pooled(
    fn: Scores,
    X: pd.DataFrame,
    cols: dict[str, Array],
    meta: Mapping[str, VariableMeta],
    freq: Mapping[str, Array],
) -> Array:
    """``fn`` on rows with known categories; a row with an unseen category (code -1) gets the average of
    ``fn`` over the known categories weighted by their training frequency ``freq`` (the pooled effect,
    never a crash). A categorical column without frequencies is not an input: its value is never read."""
    for f, v in cols.items():
        m = meta[f]
        if m.vtype != "categorical" or not (v < 0).any():
            continue
        bad = v < 0
        if f not in freq:
            return pooled(fn, X, {**cols, f: np.where(bad, 0, v)}, meta, freq)
        out = np.empty(len(X))
        if (~bad).any():
            out[~bad] = pooled(fn, X[~bad], {k: c[~bad] for k, c in cols.items()}, meta, freq)
        acc = np.zeros(int(bad.sum()))
        for code, w in enumerate(freq[f]):
            if w == 0:
                continue
            sub = {k: c[bad] for k, c in cols.items()}
            sub[f] = np.full(int(bad.sum()), code, dtype=np.int64)
            acc += w * pooled(fn, X[bad].assign(**{f: m.categories[code]}), sub, meta, freq)
        out[bad] = acc
        return out
    return fn(X, cols)


class SaveMixin:
    """``save(path)``: the estimator as a data-only model file (``ct.load_model`` reads it, no pickles)."""

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the estimator to ``path`` (conventionally ``*.ctm``) as data only: JSON and arrays.

        Its fitted SCM and spec, scikit-learn parts (skops, with an explicit list of trusted types), torch
        weights (NumPy arrays) and fairlearn parts are stored as data; ``ct.load_model(path)`` rebuilds it
        without unpickling or running stored code, and predicts bit-identically.

        Parameters
        ----------
        path : str or path-like
            Where to write (atomically).
        """
        from causaltrust.scm import save_model

        save_model(self, path)


class SpecEstimator(SaveMixin, BaseEstimator):
    """Base of every spec-aware causaltrust estimator (the scikit-learn contract plus the trust spec).

    Subclasses declare their parameters once, as the fields of a ``@dataclass(eq=False, repr=False)``
    (a ``KW_ONLY`` marker before the keyword-only ones; no ``__init__`` or ``__post_init__`` of their own:
    the generated ``__init__`` only stores them, as scikit-learn requires), their settings' constraints in
    ``_parameter_constraints`` (merged with this class's ``spec`` and ``random_state``), decorate ``fit``
    with ``sklearn.base._fit_context``, call :meth:`_prepare` first and then do only their own step.
    ``_target`` is ``"binary"`` or ``"continuous"``.

    Fitted attributes set by :meth:`_prepare`: ``spec_``, ``meta_`` (variable metadata), ``seed_`` (the
    seed derived from ``random_state``), ``n_features_in_``, ``feature_names_in_`` and, for a binary
    target, ``classes_``.
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "spec": SPEC_CONSTRAINT,
        "random_state": SEED_CONSTRAINT,
    }
    _target: ClassVar[str] = "binary"

    spec: Any
    random_state: Any

    # -- hooks ----------------------------------------------------------------------------------------
    def _check_spec(self, spec: TrustSpec) -> None:
        """Raise a SpecError when the spec lacks what the method needs (subclasses)."""

    def _required(self, spec: TrustSpec) -> list[str]:
        """The columns ``fit`` and ``predict`` read (default: the spec's features)."""
        return list(spec.features)

    def _described(self, spec: TrustSpec) -> str:
        """What :meth:`_required`'s columns are, in error messages."""
        return "the spec's features"

    # -- the fit preamble -----------------------------------------------------------------------------
    def _prepare(self, X: Any, y: Any) -> tuple[pd.DataFrame, Array]:
        """Resolve the spec, check the frame and the target, derive the seed; returns ``(X, y)``."""
        name = type(self).__name__
        spec = resolve_spec(self.spec, name)
        self._check_spec(spec)
        required = self._required(spec)
        # The target first (it needs only the number of rows): a one-class or continuous y is the error
        # that says the most.
        described = self._described(spec)
        _not_a_table(X, required, name, described)
        y_arr = check_target(y, _num_rows(X), name, self._target)
        X = check_frame(X, required, name, spec=spec, arrays=True, described=described)
        self.spec_ = spec
        self.meta_ = spec_meta(spec)
        self.seed_ = derive_seed(self.random_state)
        self.n_features_in_ = len(required)
        self.feature_names_in_ = np.asarray(required, dtype=object)
        if self._target == "binary":
            self.classes_ = np.array([0, 1])
        return X, y_arr

    def _columns(self, X: pd.DataFrame, names: Sequence[str] | None = None) -> dict[str, Array]:
        names = list(self.feature_names_in_) if names is None else names
        return columns_with_unseen(X, self.meta_, names, type(self).__name__)

    def _predict_frame(self, X: Any, what: str = "predict") -> tuple[pd.DataFrame, dict[str, Array]]:
        """``X`` checked for prediction (shifted worlds' categories allowed) and its internal columns."""
        check_is_fitted(self, "seed_")
        features = list(self.feature_names_in_)
        owner, described = f"{type(self).__name__}.{what}", self._described(self.spec_)
        X = check_frame(X, features, owner, spec=self.spec_, fit=False, arrays=True, described=described)
        return X, self._columns(X, features)

    def _fit_scm(
        self, X: pd.DataFrame, y: Array, *, scm_data: pd.DataFrame | None = None, mechanisms: Any = "auto"
    ) -> SCM:
        """The given ``scm``, or one learned from the training rows or ``scm_data`` (sets ``scm_source_``)."""
        spec, name = self.spec_, type(self).__name__
        scm = getattr(self, "scm", None)
        if scm is not None and hasattr(scm, "fit_private"):  # a DP fitting recipe (scm.DPLinearFit), issue 33
            self.scm_source_ = "scm_data" if scm_data is not None else "dp"
            frame = scm_data if scm_data is not None else X.assign(**{spec.target: y})
            return scm.fit_private(spec, frame[list(spec.observed)], random_state=self.seed_)
        if scm is not None:
            if set(scm.variables) != set(spec.variables):
                raise SpecError(f"{name}: the SCM's variables {scm.variables} differ from the spec's")
            self.scm_source_ = "given"
            return scm
        frame = scm_data if scm_data is not None else X.assign(**{spec.target: y})
        missing = [v for v in spec.observed if v not in frame.columns]
        if missing:
            raise DataError(
                f"{name}: learning the SCM needs every observed variable; missing {missing}. Pass scm=..., "
                "or scm_data= with those columns"
            )
        self.scm_source_ = "scm_data" if scm_data is not None else "training rows"
        return SCM.fit(spec, frame[list(spec.observed)], random_state=self.seed_, mechanisms=mechanisms)

    def _clone(self, estimator: Any, default: Callable[[], Any]) -> Any:
        """A fresh clone of ``estimator`` (or ``default()``), seeded with ``seed_`` if its own is unset."""
        est = clone(estimator) if estimator is not None else default()
        params = est.get_params(deep=False)
        if "random_state" in params and params["random_state"] is None and self.random_state is not None:
            est.set_params(random_state=self.seed_ & 0xFFFFFFFF)
        return est

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags


class BinaryClassifierMixin(ClassifierMixin):
    """scikit-learn's ClassifierMixin for the spec's binary target (coded 0/1): not multi-class."""

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags
