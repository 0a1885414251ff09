"""Input resolution and atomic file output for the command line."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from causaltrust._files import atomic_write
from causaltrust.exceptions import DataError, SpecError, did_you_mean

if TYPE_CHECKING:  # imported lazily: every CLI call would pay for pandas and the SCM engine
    import pandas as pd

    from causaltrust.scm import EffectDecomposition
    from causaltrust.spec import TrustSpec

__all__ = [
    "atomic_write",
    "check_frame_path",
    "check_suffix",
    "effects_payload",
    "parse_do",
    "parse_value",
    "read_frame",
    "resolve_spec",
    "write_frame",
    "write_json",
    "write_text",
]

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")
_FRAME_SUFFIXES = (".parquet", ".csv")


def resolve_spec(source: str) -> TrustSpec:
    """Load ``source``: a spec file if one exists there, else the built-in scenario or dataset so named.

    Files and scenario names go through :func:`causaltrust.load_spec`, the one resolver; dataset names
    (which need the datasets package) are looked up here.
    """
    from causaltrust.spec import load_spec

    path = Path(source)
    if path.is_file() or path.exists():
        return load_spec(path)
    if source.replace("_", "").replace("-", "").isalnum():
        from causaltrust import datasets

        if source in datasets.available():
            return datasets.spec(source)
        try:
            return load_spec(source)  # a built-in scenario name
        except SpecError:
            from causaltrust import scenarios

            if source in scenarios.available():
                raise
            hint = did_you_mean(source, [*scenarios.available(), *datasets.available()])
            raise SpecError(
                f"spec file {source!r} does not exist and is not a built-in scenario or dataset{hint} "
                f"(scenarios: {', '.join(scenarios.available())}; "
                f"datasets: {', '.join(datasets.available())})"
            ) from None
    raise SpecError(f"spec file {source!r} does not exist")


def parse_value(text: str) -> int | float | str:
    """``"1"`` → 1, ``"0.5"`` → 0.5, anything that does not look like a number stays a string."""
    s = text.strip()
    if _INT.fullmatch(s):
        return int(s)
    if _FLOAT.fullmatch(s):
        return float(s)
    return s


def parse_do(items: Sequence[str], spec: TrustSpec) -> dict[str, int | float | str]:
    """``["A=1", "E=2"]`` → ``{"A": 1, "E": 2}``, checking that each variable exists."""
    out: dict[str, int | float | str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name or not value.strip():
            raise SpecError(f"--do {item!r}: expected VARIABLE=VALUE, e.g. --do A=1")
        if name not in spec.variables:
            raise SpecError(
                f"--do {item!r}: {name!r} is not a variable of the spec ({', '.join(spec.variables)})"
            )
        if name in out:
            raise SpecError(f"--do: {name!r} is set twice")
        out[name] = parse_value(value)
    return out


def check_suffix(path: Path | None, option: str, suffixes: Sequence[str]) -> None:
    """Refuse an output file (``option``, as typed) whose extension is not one of ``suffixes``.

    Every command checks its output names with this before any work, so no format is guessed and no run
    ends in a file the user cannot open.
    """
    if path is not None and path.suffix.lower() not in suffixes:
        raise DataError(
            f"{option} {str(path)!r}: unknown format {path.suffix or '(none)'!r}; use {' or '.join(suffixes)}"
        )


def check_frame_path(path: Path, option: str = "output") -> None:
    """Raise unless ``path`` ends in a table format we write."""
    check_suffix(path, option, _FRAME_SUFFIXES)


def write_frame(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` as Parquet or CSV (by extension), atomically."""
    check_frame_path(path)
    if path.suffix.lower() == ".csv":
        with atomic_write(path) as tmp:
            df.to_csv(tmp, index=False)
    else:
        with atomic_write(path) as tmp:
            df.to_parquet(tmp, index=False, engine="pyarrow")


def read_frame(path: Path, option: str) -> pd.DataFrame:
    """Read a .parquet or .csv table named on the command line, or the rows of a shipped dataset by name.

    Any unreadable file is a DataError naming the option and the file.
    """
    import pandas as pd

    where = f"{option}: {str(path)!r}"
    if not path.is_file():
        from causaltrust import datasets

        if str(path) in datasets.available():
            return datasets.load(str(path))
        raise DataError(
            f"{where} does not exist (and is not a shipped dataset: {', '.join(datasets.available())})"
        )
    suffix = path.suffix.lower()
    if suffix not in _FRAME_SUFFIXES:
        raise DataError(f"{where} must end in .parquet or .csv")
    if path.stat().st_size == 0:
        raise DataError(f"{where} is empty (0 bytes)")
    try:
        if suffix == ".parquet":
            df = pd.read_parquet(path)
        else:
            with path.open(newline="", encoding="utf-8") as fh:
                header = fh.readline()
            df = pd.read_csv(path)
            names = [c.strip().strip('"') for c in header.rstrip("\r\n").split(",")]
            if len(set(names)) != len(names):
                dups = sorted({c for c in names if names.count(c) > 1})
                raise DataError(f"{where} has duplicate column names {dups}; every column needs its own name")
    except DataError:
        raise
    except UnicodeDecodeError as exc:
        raise DataError(f"{where} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except Exception as exc:  # pandas / pyarrow raise many types for damaged files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{where} could not be read as {suffix[1:]} ({first})") from None
    if df.columns.duplicated().any():
        dups = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        raise DataError(f"{where} has duplicate column names {dups}; every column needs its own name")
    if df.empty:
        raise DataError(f"{where} has no rows")
    return df


def write_text(text: str, path: Path) -> None:
    """Write UTF-8 text atomically."""
    with atomic_write(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(obj: Any, path: Path) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    write_text(json.dumps(obj, indent=2, allow_nan=False) + "\n", path)


def _num(x: float) -> float | None:
    return None if math.isnan(x) else x


def effects_payload(spec: TrustSpec, dec: EffectDecomposition, *, seed: int | None) -> dict[str, Any]:
    """The JSON document of an effect decomposition (``effects --json`` and the demo's effects.json)."""
    return {
        "spec": spec.name,
        "target": dec.target,
        "protected": spec.protected,
        "environment": spec.environment,
        "n": dec.n,
        "seed": seed,
        "interval": "95% Monte-Carlo (normal, over simulated units)",
        "effects": [
            {
                "name": e.name,
                "estimate": e.estimate,
                "low": _num(e.low),
                "high": _num(e.high),
                "paths": [list(p) for p in e.paths],
            }
            for e in dec.effects
        ],
    }
