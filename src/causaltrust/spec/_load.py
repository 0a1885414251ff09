"""Loading trust specs from YAML files, YAML text or dicts, with errors that point at the line."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from causaltrust.exceptions import CausalTrustError, SpecError, did_you_mean
from causaltrust.spec._schema import MAX_VARIABLES, TrustSpec

__all__ = ["MAX_SPEC_CHARS", "MAX_VARIABLES", "dump_spec", "load_spec"]

# Documented limit (DESIGN.md "Spec schema"): loading is linear in the spec's size; this keeps it short.
MAX_SPEC_CHARS = 10_000_000
MAX_NESTING = 100  # levels of mappings and lists (a real spec has fewer than 10)


class _DuplicateKeyError(Exception):
    pass


# libyaml's parser when PyYAML was built with it (about 10x faster on large specs); same safe constructor.
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeLoader):
    """Safe YAML that refuses a key given twice in one mapping (YAML's "last one wins" hides mistakes)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the base class reports it
                continue
            if first is not None:
                raise _DuplicateKeyError(
                    f"key {key!r} appears twice in one mapping (lines {first} and {line}); keep one"
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def load_spec(source: str | os.PathLike[str] | Mapping[str, Any] | TrustSpec) -> TrustSpec:
    """Load and validate a trust spec.

    Parameters
    ----------
    source : path, YAML text, dict or TrustSpec
        A path to a ``.yaml``/``.yml`` file, a YAML document as a string, or the same content as a dict.

    Returns
    -------
    TrustSpec

    Raises
    ------
    SpecError
        For anything malformed, naming the key, the line (for YAML) and the fix. Graph problems (cycles,
        paths along missing edges) raise :class:`~causaltrust.exceptions.GraphError`, a SpecError.

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec = ct.load_spec('''
    ... target: Y
    ... variables:
    ...   X: {type: continuous, equation: "normal(0, 1)"}
    ...   Y: {type: continuous, equation: "2*X + normal(0, 1)"}
    ... ''')
    >>> spec.features
    ['X']
    """
    if isinstance(source, TrustSpec):
        return source
    text: str | None = None
    origin = "spec"
    if isinstance(source, Mapping):
        data: Any = dict(source)
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        if isinstance(source, os.PathLike) or _is_name_or_path(source):
            if isinstance(source, str) and not path.is_file():
                builtin = _scenario_file(source)
                if builtin is not None:
                    path = builtin
                elif path.exists():
                    raise SpecError(f"spec {source!r} is a folder, not a YAML file")
                else:
                    names = ", ".join(_scenario_names())
                    hint = did_you_mean(source, _scenario_names())
                    raise SpecError(
                        f"spec file {source!r} does not exist and is not a built-in scenario{hint} ({names})"
                    )
            text = _read_text(path)
            origin = str(path)
        else:
            text = str(source)
        if len(text) > MAX_SPEC_CHARS:
            raise SpecError(
                f"{origin}: the spec is {len(text):,} characters long; the limit is {MAX_SPEC_CHARS:,}"
            )
        try:
            data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
        except RecursionError:
            raise SpecError(f"{origin}: the YAML is nested too deeply to read") from None
        except _DuplicateKeyError as exc:
            raise SpecError(f"{origin}: {exc}") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise SpecError(f"{origin}:{where}: not valid YAML ({problem})") from None
    else:
        raise SpecError(f"load_spec expects a YAML path, YAML text or a dict, got {type(source).__name__}")
    if _too_deep(data):
        raise SpecError(f"{origin}: the YAML is nested too deeply to read (more than {MAX_NESTING} levels)")
    if not isinstance(data, Mapping):
        raise SpecError(f"{origin}: the spec must be a mapping with 'target:' and 'variables:' at the top")
    variables = data.get("variables")
    if isinstance(variables, Mapping) and len(variables) > MAX_VARIABLES:
        raise SpecError(
            f"{origin}: {len(variables):,} variables; the limit is {MAX_VARIABLES:,} (split the model, or "
            "leave out variables that do not bear on the target)"
        )
    data = _reject_unoriented(dict(data), origin)
    try:
        return TrustSpec.model_validate(data)
    except ValidationError as exc:
        raise _to_spec_error(exc, text, origin) from None


def _too_deep(data: Any) -> bool:
    # Iterative: a spec nested thousands of levels deep must not exhaust the stack of whoever walks it.
    stack = [(data, 0)]
    while stack:
        obj, depth = stack.pop()
        if depth > MAX_NESTING:
            return True
        if isinstance(obj, Mapping):
            stack.extend((v, depth + 1) for v in obj.values())
        elif isinstance(obj, list | tuple):
            stack.extend((v, depth + 1) for v in obj)
    return False


def _is_name_or_path(text: str) -> bool:
    # YAML text has a newline, a "key: value" or a flow mapping; a file name or scenario name has none.
    return "\n" not in text and ": " not in text and not text.lstrip().startswith(("{", "[", "#"))


def _scenario_names() -> list[str]:
    from importlib import resources

    files = resources.files("causaltrust").joinpath("scenarios")
    return sorted(p.name.removesuffix(".yaml") for p in files.iterdir() if p.name.endswith(".yaml"))


def _scenario_file(name: str) -> Path | None:
    """The built-in scenario YAML of that name (a data file: the scenarios package is not imported)."""
    if name not in _scenario_names():
        return None
    from importlib import resources

    return Path(str(resources.files("causaltrust").joinpath("scenarios", f"{name}.yaml")))


def _read_text(path: Path) -> str:
    if path.is_dir():
        raise SpecError(f"spec {str(path)!r} is a folder, not a YAML file")
    if not path.is_file():
        raise SpecError(f"spec file {str(path)!r} does not exist")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"{str(path)!r} is not UTF-8 text (byte {exc.start}: {exc.reason}); save the spec as UTF-8"
        ) from None


def _reject_unoriented(data: dict[str, Any], origin: str) -> dict[str, Any]:
    """A skeleton from ``causaltrust discover`` lists edges the data could not orient: refuse until done."""
    edges = data.pop("unoriented_edges", None)
    if edges:
        listed = "; ".join(str(e) for e in edges) if isinstance(edges, list) else str(edges)
        raise SpecError(
            f"{origin}: unoriented_edges: causal discovery left these edges unoriented: {listed}. Orient "
            "each one (list one endpoint under the other's 'parents:', or leave the edge out), then delete "
            "'unoriented_edges:'"
        )
    return data


def _to_spec_error(exc: ValidationError, text: str | None, origin: str) -> CausalTrustError:
    lines = []
    for err in exc.errors():
        original = err.get("ctx", {}).get("error")
        loc = ".".join(str(p) for p in err["loc"])
        if isinstance(original, CausalTrustError):
            if len(exc.errors()) == 1:
                return type(original)(f"{origin}: {original}")
            lines.append(str(original))
            continue
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown key {err['loc'][-1]!r} (check its spelling against the spec schema in DESIGN.md)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        line = _line_of(text, err["loc"]) if text else None
        where = f" (line {line})" if line else ""
        lines.append(f"{loc or '<top>'}{where}: {msg}")
    return SpecError(f"{origin}: " + "\n  ".join(lines))


def _line_of(text: str, loc: tuple[int | str, ...]) -> int | None:
    """1-based line of the deepest YAML node along ``loc`` that exists."""
    try:
        node: Any = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if k.value == str(key):
                    line, nxt = k.start_mark.line + 1, v
                    break
            if nxt is None:
                return line if line is not None else node.start_mark.line + 1
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line


def dump_spec(spec: TrustSpec, path: str | os.PathLike[str] | None = None) -> str:
    """Write ``spec`` as YAML (to ``path`` when given) and return the text."""
    text = yaml.safe_dump(spec.to_dict(), sort_keys=False, default_flow_style=None, width=110)
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text
