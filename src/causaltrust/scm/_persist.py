"""Data-only persistence of SCMs: JSON plus NumPy arrays in one ``.npz`` file; loading never unpickles.

A pickle (joblib) runs code while it loads, so a model file from someone else is a program. This format
holds only data: the spec as its plain dict, every mechanism as a tree of tagged JSON values whose leaves
are numbers, strings and arrays, and fitted scikit-learn estimators as skops blobs. Loading rebuilds
objects of an explicit allow-list of causaltrust classes (no ``__init__``, no ``__setstate__`` run),
recompiles equations from their text and loads estimators with skops and an explicit list of trusted
types; anything else is refused with the name of the type. An object's stored state is its attributes, or
what its class's own ``__getstate__`` returns (a cache it would not pickle is not stored either).
"""

from __future__ import annotations

import importlib
import json
import math
import os
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from causaltrust._files import atomic_write
from causaltrust.exceptions import DataError
from causaltrust.spec import TrustSpec, load_spec
from causaltrust.spec._equations import CompiledEquation, VarInfo, compile_equation

if TYPE_CHECKING:
    from causaltrust.scm._model import SCM

__all__ = ["MAX_ARCHIVE_BYTES", "SKOPS_TRUSTED", "load_scm", "save_scm"]

FORMAT = "causaltrust-scm"
VERSION = 2  # 1 was the joblib pickle, which is no longer read
_DOC = "scm.json"
# Classes a file may ask for: mechanisms and their fitted parts, nothing else. Resolved by module and name,
# so a file cannot reach a builtin, os, subprocess, or any class outside these modules.
_MODULES = (
    "causaltrust.scm._data",
    "causaltrust.scm._dp_fit",
    "causaltrust.scm._factor",
    "causaltrust.scm._fit",
    "causaltrust.scm._mechanisms",
    "causaltrust.spec._equations",
)
# scikit-learn types a fitted SCM holds beyond skops' default-trusted estimators.
SKOPS_TRUSTED: tuple[str, ...] = (
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.utils._bunch.Bunch",
)
_PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")
_MAX_DEPTH = 200  # JSON nesting an SCM file may have (save_scm writes fewer than 20 levels)
# An SCM file never needs more than this unpacked (1e6 rows of residuals per node is 8 MB): larger archives
# are refused from their headers, before anything is decompressed.
MAX_ARCHIVE_BYTES = 512 * 2**20
_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
_SCALARS = (np.bool_, np.integer, np.floating)


def _float(x: float) -> Any:
    return x if math.isfinite(x) else {"$": "float", "v": repr(x)}


class _Encoder:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def array(self, arr: np.ndarray) -> dict[str, Any]:
        if arr.dtype.kind == "O":
            return {"$": "objarray", "shape": list(arr.shape), "items": [self(x) for x in arr.ravel()]}
        key = f"a{len(self.arrays)}"
        self.arrays[key] = arr
        return {"$": "array", "key": key}

    def __call__(self, obj: Any) -> Any:
        if obj is None or isinstance(obj, bool | str):
            return obj
        if isinstance(obj, int):
            return obj if abs(obj) < 2**53 else {"$": "int", "v": str(obj)}
        if isinstance(obj, float):
            return _float(obj)
        if isinstance(obj, np.ndarray):
            return self.array(obj)
        if isinstance(obj, _SCALARS):
            return {"$": "scalar", "dtype": obj.dtype.str, "v": self(obj.item())}
        if isinstance(obj, list):
            return [self(x) for x in obj]
        if isinstance(obj, tuple):
            return {"$": "tuple", "v": [self(x) for x in obj]}
        if isinstance(obj, frozenset | set):
            items = sorted((self(x) for x in obj), key=lambda v: json.dumps(v, sort_keys=True))
            return {"$": "frozenset" if isinstance(obj, frozenset) else "set", "v": items}
        if isinstance(obj, dict):
            return {"$": "dict", "v": [[self(k), self(v)] for k, v in obj.items()]}
        if isinstance(obj, CompiledEquation):
            # Compiled trees hold closures: store the text and recompile (same checks, same tree).
            infos = [[n, i.type, self(tuple(i.categories))] for n, i in obj.infos]
            return {"$": "equation", "variable": obj.variable, "text": obj.text, "infos": infos}
        if isinstance(obj, TrustSpec):
            return {"$": "spec", "v": self(obj.to_dict())}
        module = type(obj).__module__
        if module.split(".")[0] == "sklearn":
            import skops.io as sio

            return {"$": "skops", "array": self.array(np.frombuffer(sio.dumps(obj), dtype=np.uint8))}
        if module in _MODULES:
            return {"$": "object", "class": f"{module}:{type(obj).__qualname__}", "state": self(_state(obj))}
        raise DataError(
            f"SCM.save: cannot store a {module}.{type(obj).__qualname__} in the data-only format; it holds "
            "mechanisms built from equations, causaltrust's fitted mechanisms and scikit-learn estimators"
        )


def _state(obj: Any) -> dict[str, Any]:
    custom = getattr(type(obj), "__getstate__", None)
    if custom is not None and custom is not getattr(object, "__getstate__", None):
        # A class that says what it pickles (e.g. without a cache of torch modules) stores the same here;
        # loading sets these attributes without running __setstate__, as the default protocol does.
        state = custom(obj)
        if not isinstance(state, dict):
            raise DataError(f"cannot store a {type(obj).__qualname__}: its __getstate__ is not a mapping")
        return dict(state)
    state = dict(getattr(obj, "__dict__", {}))
    for klass in type(obj).__mro__:
        for slot in getattr(klass, "__slots__", ()):
            if hasattr(obj, slot):
                state[slot] = getattr(obj, slot)
    return state


class _Decoder:
    def __init__(self, arrays: dict[str, np.ndarray], origin: str) -> None:
        self.arrays = arrays
        self.origin = origin
        self.depth = 0  # nesting of the JSON being decoded: a crafted file must not exhaust the stack

    def fail(self, what: str) -> DataError:
        return DataError(f"{self.origin!r} is not a valid causaltrust SCM file: {what}")

    def array(self, node: Any) -> np.ndarray:
        if not isinstance(node, dict):
            raise self.fail("an array entry is not an object")
        if node.get("$") == "objarray":
            items = [self(x) for x in node["items"]]
            out = np.empty(len(items), dtype=object)
            out[:] = items
            return out.reshape(tuple(node["shape"]))
        key = node.get("key")
        if key not in self.arrays:
            raise self.fail(f"array {key!r} is missing")
        out = self.arrays[key]
        if not isinstance(out, np.ndarray):  # a member that is not a .npy array (raw bytes, a pickle)
            raise self.fail(f"array {key!r} is not a NumPy array member")
        return out

    def __call__(self, node: Any) -> Any:
        if node is None or isinstance(node, bool | int | float | str):
            return node
        self.depth += 1
        try:
            if self.depth > _MAX_DEPTH:
                raise self.fail(f"its JSON is nested more than {_MAX_DEPTH} levels deep")
            return self._decode(node)
        finally:
            self.depth -= 1

    def _decode(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self(x) for x in node]
        if not isinstance(node, dict):
            raise self.fail(f"unexpected JSON value {type(node).__name__}")
        tag = node.get("$")
        if tag in ("array", "objarray"):
            return self.array(node)
        if tag == "float":
            return float(node["v"])
        if tag == "int":
            return int(node["v"])
        if tag == "scalar":
            try:
                dtype = np.dtype(str(node["dtype"]))
            except TypeError:
                raise self.fail(f"unknown scalar dtype {str(node['dtype'])[:40]!r}") from None
            if dtype.kind not in "biuf":  # save_scm writes booleans and numbers only
                raise self.fail(f"scalar dtype {dtype.str!r} is not a boolean or number")
            return dtype.type(self(node["v"]))
        if tag == "tuple":
            return tuple(self(x) for x in node["v"])
        if tag in ("frozenset", "set"):
            items = [self(x) for x in node["v"]]
            return frozenset(items) if tag == "frozenset" else set(items)
        if tag == "dict":
            return {self(k): self(v) for k, v in node["v"]}
        if tag == "equation":
            infos = {str(n): VarInfo(t, tuple(self(c))) for n, t, c in node["infos"]}
            variable = str(node["variable"])
            try:
                return compile_equation(variable, str(node["text"]), infos)
            except KeyError as exc:  # the text names a variable its stored list does not declare
                raise self.fail(
                    f"the stored equation of {variable[:40]!r} refers to {exc}, which its own variable list "
                    "does not declare (a tampered file?); refused"
                ) from None
        if tag == "spec":
            return load_spec(self(node["v"]))
        if tag == "skops":
            return _skops_load(self.array(node["array"]).tobytes(), self.origin)
        if tag == "object":
            return self.instance(str(node["class"]), self(node["state"]))
        raise self.fail(f"unknown tag {tag!r}")

    def instance(self, name: str, state: Any) -> Any:
        module, _, qualname = name.partition(":")
        if module not in _MODULES or not qualname.isidentifier():
            raise self.fail(f"class {name!r} is not one an SCM is made of; refused")
        cls = getattr(importlib.import_module(module), qualname, None)
        if not isinstance(cls, type) or cls.__module__ != module or not isinstance(state, dict):
            raise self.fail(f"class {name!r} is not one an SCM is made of; refused")
        obj: Any = object.__new__(cls)
        for key, value in state.items():
            object.__setattr__(obj, str(key), value)  # frozen dataclasses and __slots__ alike
        return obj


def _check_skops_types(untrusted: list[str], origin: str) -> list[str]:
    """The types of a skops file to trust: raise naming any outside :data:`SKOPS_TRUSTED`."""
    refused = sorted(set(untrusted) - set(SKOPS_TRUSTED))
    if refused:
        raise DataError(
            f"{origin!r} holds types that are not trusted: {', '.join(refused)}; only scikit-learn "
            "estimators are loaded from skops files"
        )
    return list(untrusted)


def _skops_load(blob: bytes, origin: str) -> Any:
    import skops.io as sio

    trusted = _check_skops_types(sio.get_untrusted_types(data=blob), origin)
    return sio.loads(blob, trusted=trusted)


def save_scm(scm: SCM, path: str | os.PathLike[str]) -> None:
    """Write ``scm`` to ``path`` in the data-only format, atomically (see :meth:`SCM.save`)."""
    enc = _Encoder()
    state = {k: v for k, v in vars(scm).items() if k not in ("spec",)}
    doc = {"format": FORMAT, "version": VERSION, "spec": enc(scm.spec.to_dict()), "state": enc(state)}
    arrays = {_DOC: np.frombuffer(json.dumps(doc, allow_nan=False).encode(), dtype=np.uint8), **enc.arrays}
    with atomic_write(path) as tmp, open(tmp, "wb") as fh:  # never leave a half-written model behind
        np.savez_compressed(fh, allow_pickle=False, **arrays)


def _read_arrays(p: Path, origin: str) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` archive, with every size checked before anything is decompressed.

    A zip bomb declares small members that inflate to gigabytes, and an ``.npy`` header can declare a shape
    far larger than its member: both are refused from the headers alone (:data:`MAX_ARCHIVE_BYTES` in all).
    """
    with zipfile.ZipFile(p) as zf:
        infos = zf.infolist()
        total = sum(info.file_size for info in infos)
        if total > MAX_ARCHIVE_BYTES:
            raise DataError(
                f"{origin!r} would unpack to {total:,} bytes, over the limit of {MAX_ARCHIVE_BYTES:,} for an "
                "SCM file: refused before decompressing (a damaged or hostile archive)"
            )
        arrays: dict[str, np.ndarray] = {}
        for info in infos:
            if not info.filename.endswith(".npy"):
                raise DataError(
                    f"{origin!r} is not a causaltrust SCM file: it holds {info.filename!r}, not an array"
                )
            with zf.open(info) as fh:
                version = np.lib.format.read_magic(fh)
                if version not in _HEADERS:
                    raise DataError(f"{origin!r}: member {info.filename!r} has .npy format {version}")
                shape, _, dtype = _HEADERS[version](fh)
                if dtype.hasobject:
                    raise DataError(f"{origin!r}: member {info.filename!r} holds Python objects: refused")
                declared = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
                if declared > info.file_size:
                    raise DataError(
                        f"{origin!r}: member {info.filename!r} declares {declared:,} bytes in a "
                        f"{info.file_size:,}-byte entry: refused"
                    )
            with zf.open(info) as fh:
                arrays[info.filename[: -len(".npy")]] = np.lib.format.read_array(fh, allow_pickle=False)
    return arrays


def read_document(
    p: Path, origin: str, kind: str, *, doc_name: str, fmt: str, version: int
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The arrays and the JSON header of a causaltrust archive (an SCM or a model file), checked.

    One :class:`DataError` for anything that is not such a file: damaged archives, oversized members
    (:func:`_read_arrays`), undecodable or deeply nested JSON, a foreign format tag or another version.
    """
    try:
        arrays = _read_arrays(p, origin)
        doc = json.loads(arrays.pop(doc_name).tobytes().decode("utf-8"))
    except DataError:
        raise
    except (KeyError, ValueError, OSError, zipfile.BadZipFile, UnicodeDecodeError, RecursionError) as exc:
        why = f"{type(exc).__name__}: {exc}"
        raise DataError(f"{origin!r} is not a causaltrust {kind} file ({why})") from None
    if not isinstance(doc, dict) or doc.get("format") != fmt:
        raise DataError(f"{origin!r} is not a causaltrust {kind} file (no {fmt!r} header)")
    if doc.get("version") != version:
        raise DataError(
            f"{origin!r} was written in {kind} format version {doc.get('version')!r}; this causaltrust reads "
            f"version {version}"
        )
    return arrays, doc


def load_scm(cls: type[SCM], path: str | os.PathLike[str]) -> SCM:
    """Read an SCM written by :func:`save_scm` without unpickling anything (see :meth:`SCM.load`)."""
    p = Path(path)
    origin = str(p)
    if not p.is_file():
        raise DataError(f"SCM file {origin!r} does not exist")
    if not zipfile.is_zipfile(p):
        with open(p, "rb") as fh:
            head = fh.read(2)
        kind = "a pickle, which runs code when loaded: refused" if head[:1] == b"\x80" else "something else"
        raise DataError(
            f"{origin!r} is not a causaltrust SCM file ({kind}); SCM files are written by SCM.save (JSON + "
            "arrays): re-create the SCM (ct.SCM.fit or ct.SCM.from_spec) and save it again"
        )
    arrays, doc = read_document(p, origin, "SCM", doc_name=_DOC, fmt=FORMAT, version=VERSION)
    dec = _Decoder(arrays, origin)
    try:
        spec = load_spec(dec(doc["spec"]))
        state = dec(doc["state"])
    except (KeyError, TypeError, AttributeError) as exc:
        raise dec.fail(f"{type(exc).__name__}: {exc}") from None
    if not isinstance(state, dict):
        raise dec.fail("the SCM state is not a mapping")
    scm = cls.__new__(cls)
    scm.spec = spec
    for key, value in state.items():
        setattr(scm, str(key), value)
    return scm
