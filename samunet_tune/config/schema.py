"""Check a recipe mapping against a schema written as dataclasses, reporting every problem.

Supported annotations: nested dataclasses, ``X | None`` / Optional / Union, ``list[X]``,
``tuple[X, ...]``, ``dict[K, V]``, ``Literal[...]``, int/float/str/bool, ``Path`` (from a string),
``Any`` and `Component` (a ``{_component_: ..., **kwargs}`` mapping whose arguments
`check_component_args` checks against the signature).
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from samunet_tune.config.errors import Problem, did_you_mean, finish
from samunet_tune.config.keys import KeyPath, dotted
from samunet_tune.config.locations import SourceLines, where

COMPONENT_KEY = "_component_"


class _ComponentMarker:
    def __repr__(self) -> str:
        return "component"


Component = Annotated[dict[str, Any], _ComponentMarker()]
"""Schema type of a component: a mapping with ``_component_`` (registered name or dotted path)."""

_INVALID = object()  # a value with problems; never reaches a dataclass constructor


@functools.lru_cache(maxsize=None)
def _field_types(schema: type) -> dict[str, Any]:
    return typing.get_type_hints(schema, include_extras=True)


def _init_fields(schema: type) -> list[dataclasses.Field]:
    return [field for field in dataclasses.fields(schema) if field.init]


def _is_component_type(tp: Any) -> bool:
    return typing.get_origin(tp) is Annotated and any(isinstance(m, _ComponentMarker) for m in tp.__metadata__)


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (Union, types.UnionType)


def type_name(tp: Any) -> str:
    """How a schema type reads in messages: ``float``, ``list of int``, ``one of 'a', 'b'``."""
    if tp is Any or tp is object:
        return "anything"
    if tp is type(None):
        return "null"
    if _is_component_type(tp):
        return "a component mapping with _component_"
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if _is_union(tp):
        return " or ".join(type_name(arg) for arg in args)
    if origin is Literal:
        return "one of " + ", ".join(repr(arg) for arg in args)
    if origin in (list, tuple) and args:
        return f"list of {type_name(args[0])}"
    if origin is dict or tp is dict:
        return "a mapping"
    if dataclasses.is_dataclass(tp):
        return f"a mapping ({tp.__name__})"
    if tp is Path:
        return "a path"
    return getattr(tp, "__name__", str(tp))


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return repr(value)


class _Checker:
    def __init__(self, lines: SourceLines | None) -> None:
        self.lines = lines
        self.problems: list[Problem] = []

    def report(self, path: KeyPath, message: str) -> object:
        self.problems.append(Problem(path, message, where(self.lines, path)))
        return _INVALID

    def wrong_type(self, path: KeyPath, tp: Any, value: Any) -> object:
        hint = ""
        if isinstance(value, str) and value.lower() in ("yes", "no", "on", "off") and tp is bool:
            hint = "; write true or false"
        return self.report(path, f"expected {type_name(tp)}, got {_describe(value)}{hint}")

    def check(self, value: Any, tp: Any, path: KeyPath) -> Any:
        if tp is Any or tp is object:
            return value
        if _is_component_type(tp):
            return self.component(value, tp, path)
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if origin is Annotated:
            return self.check(value, args[0], path)
        if _is_union(tp):
            return self.union(value, tp, path)
        if origin is Literal:
            if any(value == choice and type(value) is type(choice) for choice in args):
                return value
            return self.report(path, f"expected {type_name(tp)}, got {_describe(value)}"
                               + did_you_mean(value, [arg for arg in args if isinstance(arg, str)]))
        if dataclasses.is_dataclass(tp):
            return self.dataclass(value, tp, path)
        if origin in (list, tuple) or tp in (list, tuple):
            return self.sequence(value, tp, path)
        if origin is dict or tp is dict:
            return self.mapping(value, tp, path)
        return self.scalar(value, tp, path)

    def scalar(self, value: Any, tp: Any, path: KeyPath) -> Any:
        if tp is type(None):
            return None if value is None else self.wrong_type(path, tp, value)
        if tp is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            return float(value) if ok else self.wrong_type(path, tp, value)
        if tp is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
            return value if ok else self.wrong_type(path, tp, value)
        if tp is Path:
            return Path(value) if isinstance(value, str) else self.wrong_type(path, tp, value)
        if isinstance(tp, type):
            return value if isinstance(value, tp) else self.wrong_type(path, tp, value)
        return value  # an annotation we cannot check cheaply

    def union(self, value: Any, tp: Any, path: KeyPath) -> Any:
        arms = typing.get_args(tp)
        if value is None:
            return None if type(None) in arms else self.wrong_type(path, tp, value)
        real = [arm for arm in arms if arm is not type(None)]
        if len(real) == 1:
            return self.check(value, real[0], path)
        for arm in real:
            trial = _Checker(self.lines)
            result = trial.check(value, arm, path)
            if not trial.problems:
                return result
        same_shape = [arm for arm in real if container_kind(arm) == container_kind(value)]
        if len(same_shape) == 1 and container_kind(value) != "scalar":
            return self.check(value, same_shape[0], path)  # its detailed problems
        return self.wrong_type(path, tp, value)

    def sequence(self, value: Any, tp: Any, path: KeyPath) -> Any:
        if not isinstance(value, list):
            return self.wrong_type(path, tp, value)
        args = typing.get_args(tp)
        if typing.get_origin(tp) is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                return self.report(path, f"expected {len(args)} items, got {len(value)}")
            item_types = list(args)
        else:
            item_types = [args[0] if args else Any] * len(value)
        items = [self.check(item, item_tp, path + (str(i),)) for i, (item, item_tp) in enumerate(zip(value, item_types))]
        return tuple(items) if typing.get_origin(tp) is tuple or tp is tuple else items

    def mapping(self, value: Any, tp: Any, path: KeyPath) -> Any:
        if not isinstance(value, dict):
            return self.wrong_type(path, tp, value)
        key_tp, value_tp = typing.get_args(tp) or (Any, Any)
        checked = {}
        for key, item in value.items():
            if self.check(key, key_tp, path + (str(key),)) is not _INVALID:
                checked[key] = self.check(item, value_tp, path + (str(key),))
        return checked

    def component(self, value: Any, tp: Any, path: KeyPath) -> Any:
        if not isinstance(value, dict):
            return self.wrong_type(path, tp, value)
        name = value.get(COMPONENT_KEY)
        if not isinstance(name, str) or not name:
            return self.report(path, f"a component needs '{COMPONENT_KEY}: NAME_OR_DOTTED_PATH'"
                               + (f", got {_describe(name)}" if COMPONENT_KEY in value else ""))
        return value

    def dataclass(self, value: Any, schema: type, path: KeyPath) -> Any:
        if not isinstance(value, dict):
            return self.wrong_type(path, schema, value)
        fields = _init_fields(schema)
        hints = _field_types(schema)
        names = [field.name for field in fields]
        before = len(self.problems)
        for key in value:
            if key not in names:
                self.report(path + (str(key),), f"unknown key{did_you_mean(key, names, _prefix(path))}"
                            f" (known here: {', '.join(names)})")
        kwargs = {}
        for field in fields:
            if field.name in value:
                kwargs[field.name] = self.check(value[field.name], hints[field.name], path + (field.name,))
            elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                full = dotted(path + (field.name,))
                self.report(path, f"missing required key {field.name!r}; add it to the recipe or pass {full}=VALUE")
        if len(self.problems) > before:
            return _INVALID
        try:
            return schema(**kwargs)
        except (TypeError, ValueError) as error:  # a __post_init__ check
            return self.report(path, str(error))


def container_kind(value_or_type: Any) -> str:
    tp = value_or_type
    if typing.get_origin(tp) is Annotated:
        tp = typing.get_args(tp)[0]
    origin = typing.get_origin(tp)
    if isinstance(value_or_type, dict) or origin is dict or tp is dict or dataclasses.is_dataclass(tp):
        return "mapping"
    if isinstance(value_or_type, list) or origin in (list, tuple) or tp in (list, tuple):
        return "list"
    return "scalar"


def _prefix(path: KeyPath) -> str:
    return dotted(path) + "." if path else ""


def validate(config: Any, schema: type, lines: SourceLines | None = None,
             *, problems: list[Problem] | None = None) -> Any:
    """`config` converted to an instance of the dataclass `schema`, checked all at once.

    Every problem (unknown key, missing key, wrong type, bad Literal) is reported with its key
    path and line in one RecipeError; with `problems` given they are appended there instead and
    None is returned when there were any.
    """
    checker = _Checker(lines)
    result = checker.check(config, schema, ())
    finish(checker.problems, problems)
    return None if result is _INVALID else result


def schema_child(tp: Any, key: str) -> tuple[bool, Any]:
    """Whether the schema type `tp` admits `key` below it, and the type found there."""
    if tp is Any or tp is object or _is_component_type(tp):
        return True, Any
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Annotated:
        return schema_child(args[0], key)
    if _is_union(tp):
        for arm in args:
            found, child = schema_child(arm, key)
            if found:
                return True, child
        return False, None
    if dataclasses.is_dataclass(tp):
        hints = _field_types(tp)
        names = [field.name for field in _init_fields(tp)]
        return (True, hints[key]) if key in names else (False, None)
    if origin is dict or tp is dict:
        return True, (args[1] if args else Any)
    if origin in (list, tuple) or tp in (list, tuple):
        return key.isdigit(), (args[0] if args else Any)
    return False, None


def schema_keys(tp: Any) -> list[str]:
    """The field names a schema type offers (for suggestions)."""
    if typing.get_origin(tp) is Annotated:
        return schema_keys(typing.get_args(tp)[0])
    if _is_union(tp):
        return [name for arm in typing.get_args(tp) for name in schema_keys(arm)]
    if dataclasses.is_dataclass(tp):
        return [field.name for field in _init_fields(tp)]
    return []
