"""Data-only model files (``.ctm``): any fitted causaltrust estimator, saved and loaded without pickles.

The SCM format (:mod:`causaltrust.scm._persist`) extended to estimators: one ``.npz`` archive holding a JSON
tree of tagged values and the arrays it points to. A causaltrust estimator is stored as its class name and
its attributes (hyperparameters and fitted state): its fitted SCM and spec as in ``SCM.save``, scikit-learn
parts as skops blobs (loaded with an explicit list of trusted types), torch weights as the NumPy arrays the
estimators keep, fairlearn's fitted post-processors and reductions as their attributes, pandas objects as
arrays. Loading rebuilds objects of an allow-list of modules (no ``__init__``, no ``__setstate__``, no
unpickling) and refuses anything else by name, so a model file from someone else is data, not a program.
"""

from __future__ import annotations

import importlib
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from causaltrust._files import atomic_write
from causaltrust.exceptions import DataError
from causaltrust.scm import _persist
from causaltrust.spec import TrustSpec
from causaltrust.spec._equations import CompiledEquation

__all__ = ["MODEL_SUFFIX", "is_model_file", "load_model", "load_model_file", "save_model"]

FORMAT = "causaltrust-model"
VERSION = 1
MODEL_SUFFIX = ".ctm"
_DOC = "model.json"
# Modules whose classes a model file may name: causaltrust's estimators and everything they hold, and the
# fitted parts of the two fairlearn mitigators the baselines wrap. A class must be defined in its module.
_PREFIXES = (
    "causaltrust.bench._baselines",
    "causaltrust.bench._estimators",
    "causaltrust.graph.",
    "causaltrust.learners.",
    "causaltrust.scm.",
    "causaltrust.spec._equations",
    "causaltrust.text.",
    "fairlearn.postprocessing.",
    "fairlearn.reductions.",
)


def _allowed(module: str) -> bool:
    return any(module == p or (p.endswith(".") and module.startswith(p)) for p in _PREFIXES)


def _skops_types_allowed(name: str) -> bool:
    """A type in a skops blob: scikit-learn's extra SCM types, or a causaltrust class of an allowed module."""
    if name in _persist.SKOPS_TRUSTED:
        return True
    module, _, qualname = name.rpartition(".")
    return _allowed(module) and module.startswith("causaltrust.") and qualname.isidentifier()


class _ModelEncoder(_persist._Encoder):
    def __call__(self, obj: Any) -> Any:
        if isinstance(obj, pd.MultiIndex):
            return {"$": "multiindex", "tuples": self(list(obj)), "names": self(list(obj.names))}
        if isinstance(obj, pd.RangeIndex):
            return {"$": "rangeindex", "v": [obj.start, obj.stop, obj.step], "name": self(obj.name)}
        if isinstance(obj, pd.Index):
            return {"$": "index", "values": self.array(obj.to_numpy()), "name": self(obj.name)}
        if isinstance(obj, pd.Series):
            return {
                "$": "series",
                "values": self.array(obj.to_numpy()),
                "index": self(obj.index),
                "name": self(obj.name),
            }
        if isinstance(obj, pd.DataFrame):
            columns = [self.array(obj.iloc[:, i].to_numpy()) for i in range(obj.shape[1])]
            return {"$": "frame", "columns": self(obj.columns), "index": self(obj.index), "data": columns}
        module = type(obj).__module__
        if module == "sklearn.utils._bunch" and isinstance(obj, dict):
            return {"$": "bunch", "v": self(dict(obj))}
        if isinstance(obj, CompiledEquation | TrustSpec):
            return super().__call__(obj)  # stored as text / as the spec's dict
        if _allowed(module) and not isinstance(obj, type):
            state = _persist._state(obj)
            return {"$": "object", "class": f"{module}:{type(obj).__qualname__}", "state": self(state)}
        if module.split(".")[0] not in ("sklearn", "numpy", "builtins"):
            raise DataError(
                f"save: cannot store a {module}.{type(obj).__qualname__} in a data-only model file; it holds "
                "causaltrust estimators and SCMs, scikit-learn estimators, fairlearn's mitigators, NumPy and "
                "pandas data"
            )
        return super().__call__(obj)


class _ModelDecoder(_persist._Decoder):
    def fail(self, what: str) -> DataError:
        return DataError(f"{self.origin!r} is not a valid causaltrust model file: {what}")

    def __call__(self, node: Any) -> Any:
        tag = node.get("$") if isinstance(node, dict) else None
        if tag == "multiindex":
            return pd.MultiIndex.from_tuples(self(node["tuples"]), names=self(node["names"]))
        if tag == "rangeindex":
            start, stop, step = (int(v) for v in node["v"])
            return pd.RangeIndex(start, stop, step, name=self(node["name"]))
        if tag == "index":
            return pd.Index(self.array(node["values"]), name=self(node["name"]))
        if tag == "series":
            return pd.Series(self.array(node["values"]), index=self(node["index"]), name=self(node["name"]))
        if tag == "frame":
            columns = self(node["columns"])
            data = {i: self.array(col) for i, col in enumerate(node["data"])}
            frame = pd.DataFrame(data, index=self(node["index"]))
            frame.columns = columns
            return frame
        if tag == "bunch":
            from sklearn.utils import Bunch

            return Bunch(**{str(k): v for k, v in self(node["v"]).items()})
        if tag == "skops":
            return _skops_load(self.array(node["array"]).tobytes(), self.origin)
        return super().__call__(node)

    def instance(self, name: str, state: Any) -> Any:
        module, _, qualname = name.partition(":")
        if not _allowed(module) or not qualname.isidentifier():
            raise self.fail(f"class {name!r} is not one a causaltrust model is made of; refused")
        try:
            cls = getattr(importlib.import_module(module), qualname, None)
        except ImportError:
            cls = None
        if not isinstance(cls, type) or cls.__module__ != module or not isinstance(state, dict):
            raise self.fail(f"class {name!r} is not one a causaltrust model is made of; refused")
        obj: Any = object.__new__(cls)
        for key, value in state.items():
            object.__setattr__(obj, str(key), value)
        return obj


def _skops_load(blob: bytes, origin: str) -> Any:
    import skops.io as sio

    untrusted = sio.get_untrusted_types(data=blob)
    refused = sorted(t for t in untrusted if not _skops_types_allowed(t))
    if refused:
        raise DataError(
            f"{origin!r} holds types that are not trusted: {', '.join(refused)}; a model file loads "
            "scikit-learn estimators and causaltrust classes only"
        )
    return sio.loads(blob, trusted=list(untrusted))


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("causaltrust", "scikit-learn", "skops", "fairlearn", "numpy", "pandas"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return out


def save_model(estimator: Any, path: str | os.PathLike[str]) -> None:
    """Write a fitted (or unfitted) causaltrust estimator to ``path`` as a data-only model file.

    Parameters
    ----------
    estimator : estimator
        A causaltrust learner, a scikit-learn estimator or pipeline holding causaltrust parts, or an SCM.
    path : str or path-like
        Where to write (conventionally ``*.ctm``); written atomically.

    Examples
    --------
    >>> import os, tempfile
    >>> import causaltrust as ct
    >>> spec, scm = ct.scenarios.load("readmission")
    >>> df = scm.sample(500, random_state=0)
    >>> clf = ct.learners.ERMClassifier(spec=spec).fit(df[spec.features], df["Y"])
    >>> path = os.path.join(tempfile.mkdtemp(), "erm.ctm")
    >>> clf.save(path)
    >>> back = ct.load_model(path)
    >>> bool((back.predict_proba(df) == clf.predict_proba(df)).all())
    True
    """
    enc = _ModelEncoder()
    cls = type(estimator)
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "class": f"{cls.__module__}:{cls.__qualname__}",
        "versions": _versions(),
        "model": enc(estimator),
    }
    arrays = {_DOC: np.frombuffer(json.dumps(doc, allow_nan=False).encode(), dtype=np.uint8), **enc.arrays}
    with atomic_write(path) as tmp, open(tmp, "wb") as fh:  # never leave a half-written model behind
        np.savez_compressed(fh, allow_pickle=False, **arrays)


def is_model_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a zip archive holding a causaltrust model document."""
    p = Path(path)
    if not (p.is_file() and zipfile.is_zipfile(p)):
        return False
    with zipfile.ZipFile(p) as zf:
        return f"{_DOC}.npy" in zf.namelist()


def load_model_file(path: str | os.PathLike[str]) -> Any:
    """Read a model written by :func:`save_model`; nothing is unpickled and no stored code runs."""
    p = Path(path)
    origin = str(p)
    if not p.is_file():
        raise _persist.not_a_file(p, "model file")
    if not zipfile.is_zipfile(p):
        raise DataError(
            f"{origin!r} is not a causaltrust model file (not a zip archive); write one with "
            "estimator.save(path)"
        )
    arrays, doc = _persist.read_document(p, origin, "model", doc_name=_DOC, fmt=FORMAT, version=VERSION)
    dec = _ModelDecoder(arrays, origin)
    try:
        return dec(doc["model"])
    except DataError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise dec.fail(f"{type(exc).__name__}: {exc}") from None


def load_model(path: str | os.PathLike[str], *, allow_pickle: bool = False) -> Any:
    """Load a fitted estimator: a model file or a ``.skops`` file safely, a pickle only when allowed.

    Model files (``.ctm``, written by ``estimator.save(path)`` for every causaltrust estimator) hold data
    only and are rebuilt without unpickling (:mod:`causaltrust.scm._model_file`). ``.skops`` files are
    read with skops and an explicit list of trusted types: scikit-learn's estimators (skops' defaults)
    plus ``SKOPS_TRUSTED``; a file asking for anything else (a function, a class of another package)
    raises :class:`DataError` naming it. Pickles (``.joblib``, ``.pkl``) run code while
    they load, so they are refused unless the caller says the file is trusted.

    Examples
    --------
    >>> import os, tempfile
    >>> import skops.io as sio
    >>> from sklearn.linear_model import LogisticRegression
    >>> from causaltrust.scm import load_model
    >>> path = os.path.join(tempfile.mkdtemp(), "model.skops")
    >>> sio.dump(LogisticRegression().fit([[0.0], [1.0]], [0, 1]), path)
    >>> type(load_model(path)).__name__
    'LogisticRegression'
    """
    p = Path(path)
    origin = str(p)
    if not p.is_file():
        raise _persist.not_a_file(p, "model file")
    suffix = p.suffix.lower()
    if suffix == MODEL_SUFFIX or is_model_file(p):  # estimator.save(path): data only, never unpickled
        return load_model_file(p)
    if zipfile.is_zipfile(p):  # an SCM file under any name is named as one, before skops reads it
        _persist.check_archive_kind(p, origin, "model", _DOC)
    if suffix == ".skops":
        if not zipfile.is_zipfile(p):
            raise DataError(
                f"model file {origin!r} is not a skops file; write one with skops.io.dump(model, path)"
            )
        try:
            return _persist._skops_load(p.read_bytes(), origin)
        except DataError:
            raise
        except Exception as exc:  # skops raises a zoo of types for damaged files
            raise DataError(
                f"model file {origin!r} could not be read by skops ({type(exc).__name__}: {exc})"
            ) from None
    if suffix not in _persist._PICKLE_SUFFIXES:
        raise DataError(
            f"model file {origin!r}: unknown format {p.suffix or '(none)'!r}; use .ctm (estimator.save) or "
            ".skops (safe) or, for a file you trust, .joblib / .pkl"
        )
    if not allow_pickle:
        raise DataError(
            f"model file {origin!r} is a pickle, which runs code when loaded; save a causaltrust learner"
            " with model.save('model.ctm'), any other scikit-learn model with skops (skops.io.dump(model, "
            "'model.skops')), or, if you trust the file, allow pickles (--allow-pickle)"
        )
    import joblib

    try:
        return joblib.load(p)
    except Exception as exc:  # a damaged or foreign file: whatever the unpickler raises
        raise DataError(
            f"model file {origin!r} could not be unpickled ({type(exc).__name__}: {exc})"
        ) from None
