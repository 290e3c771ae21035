"""One registry mechanism for every pluggable kind: models, dataset plugins, strategies.

A `Registry` maps names to objects. Names arrive three ways, all resolved lazily:

* ``@REGISTRY.register("name")`` on an object defined in our own code;
* ``REGISTRY.register_lazy("name", "package.module:attribute")`` for built-ins that should not be
  imported until asked for (heavy optional dependencies such as nibabel or pydicom);
* the entry-point group given to the registry (``samunet_tune.datasets``, ...), for third-party
  packages. Setting ``SAMUNET_TUNE_NO_ENTRY_POINTS=1`` turns entry-point discovery off.

A third-party plugin that fails to import warns with its name and never breaks
``import samunet_tune``; asking for it by name raises with the import error attached.
"""

from __future__ import annotations

import fnmatch
import importlib
import os
import re
import warnings
from importlib import metadata
from typing import Any, Callable, Generic, Iterable, TypeVar

T = TypeVar("T")

DISABLE_ENTRY_POINTS_ENV = "SAMUNET_TUNE_NO_ENTRY_POINTS"
_VALID_NAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")


class RegistryError(KeyError):
    """An unknown, duplicate or broken registry name. The message says what exists."""

    def __str__(self) -> str:  # KeyError would print the message with quotes around it
        return str(self.args[0]) if self.args else ""


def _import_reference(reference: str) -> Any:
    module_name, _, attribute = reference.partition(":")
    obj = importlib.import_module(module_name)
    for part in filter(None, attribute.split(".")):
        obj = getattr(obj, part)
    return obj


class Registry(Generic[T]):
    """Named components of one kind.

    Args:
        kind: what the registry holds, used in messages ("dataset plugin", "strategy").
        entry_point_group: the importlib.metadata group third parties register under, or None.
    """

    def __init__(self, kind: str, entry_point_group: str | None = None) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._objects: dict[str, T] = {}
        self._lazy: dict[str, str] = {}
        self._entry_points: dict[str, metadata.EntryPoint] | None = None
        self._broken: dict[str, BaseException] = {}

    # registration -------------------------------------------------------------------------
    def register(self, name: str, obj: T | None = None) -> Any:
        """Register `obj` under `name`; without `obj`, return a decorator that does it."""
        if obj is None:

            def decorator(target: T) -> T:
                self._add(name, target)
                return target

            return decorator
        self._add(name, obj)
        return obj

    def register_lazy(self, name: str, reference: str) -> None:
        """Register ``"module:attribute"`` to be imported the first time `name` is asked for."""
        self._check_new_name(name)
        if ":" not in reference:
            raise ValueError(f"lazy {self.kind} {name!r}: reference {reference!r} must be 'module:attribute'")
        self._lazy[name] = reference

    def unregister(self, name: str) -> None:
        """Remove a name (tests and interactive sessions that re-register)."""
        self._objects.pop(name, None)
        self._lazy.pop(name, None)

    def _add(self, name: str, obj: T) -> None:
        if name in self._lazy and self._lazy_target_is(name, obj):
            # The lazy built-in is being imported and registers itself: that is the same entry.
            del self._lazy[name]
        else:
            self._check_new_name(name)
        self._objects[name] = obj

    def _lazy_target_is(self, name: str, obj: Any) -> bool:
        module_name = self._lazy[name].partition(":")[0]
        return getattr(obj, "__module__", None) == module_name

    def _check_new_name(self, name: str) -> None:
        if not isinstance(name, str) or not _VALID_NAME.match(name):
            raise ValueError(
                f"invalid {self.kind} name {name!r}: use lower-case letters, digits, '_', '-' or '.'"
            )
        if name in self._objects or name in self._lazy:
            raise ValueError(
                f"duplicate {self.kind} name {name!r}: it is already registered; "
                "choose another name or unregister the existing one first"
            )

    # lookup -------------------------------------------------------------------------------
    def get(self, name: str) -> T:
        """The object registered as `name`, importing it if it is lazy or an entry point."""
        if name in self._objects:
            return self._objects[name]
        if name in self._lazy:
            reference = self._lazy[name]
            obj = _import_reference(reference)
            self._lazy.pop(name, None)  # importing may already have registered it
            self._objects.setdefault(name, obj)
            return self._objects[name]
        entry_point = self._discover().get(name)
        if entry_point is not None:
            try:
                obj = entry_point.load()
            except Exception as error:  # a broken third-party package must not look like ours
                self._broken[name] = error
                raise RegistryError(
                    f"{self.kind} {name!r} comes from entry point {entry_point.value!r} "
                    f"(group {self.entry_point_group}) and failed to import: {error!r}. "
                    "Reinstall or fix that package."
                ) from error
            self._objects[name] = obj
            return obj
        raise RegistryError(self._unknown_message(name))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.names()

    def names(self, pattern: str | None = None) -> list[str]:
        """Sorted names (built-in, lazy and entry points); `pattern` is an fnmatch filter."""
        every = set(self._objects) | set(self._lazy) | set(self._discover())
        if pattern:
            every = {name for name in every if fnmatch.fnmatch(name, pattern)}
        return sorted(every)

    def items(self) -> Iterable[tuple[str, T]]:
        for name in self.names():
            yield name, self.get(name)

    def _unknown_message(self, name: str) -> str:
        known = ", ".join(self.names()) or "(none)"
        return f"unknown {self.kind} {name!r}. Known: {known}"

    # entry points -------------------------------------------------------------------------
    def _discover(self) -> dict[str, metadata.EntryPoint]:
        """Entry points of our group by name, read once, never imported here."""
        if self.entry_point_group is None or os.environ.get(DISABLE_ENTRY_POINTS_ENV, "") not in ("", "0"):
            return {}
        if self._entry_points is None:
            found: dict[str, metadata.EntryPoint] = {}
            for entry_point in metadata.entry_points(group=self.entry_point_group):
                name = entry_point.name
                if name in self._objects or name in self._lazy or name in found:
                    warnings.warn(
                        f"{self.kind} {name!r} from entry point {entry_point.value!r} duplicates an "
                        "existing name and is ignored; rename it in that package",
                        stacklevel=3,
                    )
                    continue
                found[name] = entry_point
            self._entry_points = found
        return self._entry_points

    def refresh_entry_points(self) -> None:
        """Forget what was discovered (after installing a plugin package in the same process)."""
        self._entry_points = None

    def load_all(self, on_error: Callable[[str, BaseException], None] | None = None) -> dict[str, T]:
        """Import everything; a broken entry point warns (or calls `on_error`) and is skipped."""
        loaded: dict[str, T] = {}
        for name in self.names():
            try:
                loaded[name] = self.get(name)
            except RegistryError as error:
                cause = error.__cause__ or error
                if on_error is not None:
                    on_error(name, cause)
                else:
                    warnings.warn(f"{self.kind} {name!r} could not be loaded: {cause!r}", stacklevel=2)
        return loaded
