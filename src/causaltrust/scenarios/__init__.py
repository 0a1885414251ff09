"""Built-in scenarios: a trust spec with true equations, ready to simulate.

``ct.scenarios.load(name)`` returns ``(spec, scm)``; the same YAML files are under ``examples/``.
"""

from __future__ import annotations

from importlib import resources

from causaltrust.exceptions import SpecError, did_you_mean
from causaltrust.scm import SCM
from causaltrust.spec import TrustSpec, load_spec

__all__ = ["available", "load", "path"]


def available() -> list[str]:
    """Names of the built-in scenarios."""
    files = resources.files(__package__)
    return sorted(p.name.removesuffix(".yaml") for p in files.iterdir() if p.name.endswith(".yaml"))


def path(name: str) -> str:
    """Filesystem path of a built-in scenario's YAML."""
    if name not in available():
        hint = did_you_mean(name, available())
        raise SpecError(f"unknown scenario {name!r}{hint}; built in: {', '.join(available())}")
    return str(resources.files(__package__).joinpath(f"{name}.yaml"))


def load(name: str) -> tuple[TrustSpec, SCM]:
    """``(spec, scm)`` of a built-in scenario.

    Examples
    --------
    >>> import causaltrust as ct
    >>> spec, scm = ct.scenarios.load("readmission")
    >>> spec.target, spec.protected, spec.environment
    ('Y', 'A', 'E')
    """
    spec = load_spec(path(name))
    return spec, SCM.from_spec(spec)
