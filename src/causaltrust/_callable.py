"""Packages that are also functions: ``ct.audit(...)`` calls the audit, ``causaltrust.audit.privacy`` imports.

A package and a function of one name cannot both be the attribute ``causaltrust.audit``: whichever it is,
the other is shadowed (a function there breaks ``import causaltrust.audit.privacy as p`` and
``causaltrust.audit._worlds.UnitWorlds``). So the attribute is the package, made callable: calling it
calls the function of the same name inside it, with that function's signature.
"""

from __future__ import annotations

import inspect
import sys
import types
from typing import Any

__all__ = ["CallableModule", "make_callable"]


class CallableModule(types.ModuleType):
    """A module that calls its function ``__call_target__`` (a name in the module) when called."""

    __call_target__: str

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return getattr(self, self.__call_target__)(*args, **kwargs)


def make_callable(module_name: str, target: str) -> None:
    """Make the loaded module ``module_name`` callable as its function ``target``."""
    module = sys.modules[module_name]
    func = getattr(module, target)
    module.__class__ = CallableModule
    module.__call_target__ = target  # type: ignore[attr-defined]
    module.__signature__ = inspect.signature(func)  # type: ignore[attr-defined]
