"""Module-level lazy exports: names whose modules (torch, peft, ...) load on first access."""

from __future__ import annotations

import importlib
import sys
from typing import Any, Callable


def lazy_getattr(module_name: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` that imports `exports[name]` the first time `name` is read."""

    def __getattr__(name: str) -> Any:
        if name in exports:
            value = getattr(importlib.import_module(exports[name]), name)
            setattr(sys.modules[module_name], name, value)
            return value
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    return __getattr__
