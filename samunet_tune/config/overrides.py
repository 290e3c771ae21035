"""Command-line overrides: ``key=value`` (split on the first ``=``), dotted keys, ``~key`` deletes."""

from __future__ import annotations

import copy
from typing import Any, Sequence

from samunet_tune.config.errors import Problem, RecipeError, did_you_mean
from samunet_tune.config.keys import KeyPath, dotted, key_path
from samunet_tune.config.locations import SourceLines
from samunet_tune.config.schema import COMPONENT_KEY, container_kind, schema_child, schema_keys
from samunet_tune.config.yaml_io import parse_value

_ABSENT = object()  # a key the override creates


class _Rejected(Exception):
    def __init__(self, path: KeyPath, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def parse_override(text: str) -> tuple[KeyPath, Any, bool]:
    """``"a.b=3"`` -> ``(("a", "b"), 3, False)``; ``"~a.b"`` -> ``(("a", "b"), None, True)``."""
    delete = text.startswith("~")
    if delete:
        if "=" in text:
            raise _Rejected((), "'~KEY' deletes a key and takes no value; write ~KEY or KEY=VALUE")
        key, raw = text[1:], None
    else:
        key, sep, raw = text.partition("=")
        if not sep:
            raise _Rejected((), "an override is KEY=VALUE (or ~KEY to delete a key)")
    path = key_path(key.strip())
    if not path or any(not part for part in path):
        raise _Rejected((), f"{key!r} is not a key path; use dotted keys such as optimizer.lr")
    if delete:
        return path, None, True
    try:
        return path, parse_value(raw), False
    except ValueError as error:
        raise _Rejected(path, str(error)) from None


def _missing(path: KeyPath, candidates: list[str], creating: bool) -> _Rejected:
    parent = dotted(path[:-1])
    hint = did_you_mean(path[-1], candidates, parent + "." if parent else "")
    what = "not in the recipe and not a known option" if creating else "not in the recipe"
    return _Rejected(path, f"{what}{hint}")


def _walk(config: dict, path: KeyPath, schema: Any, creating: bool) -> None:
    """Raise _Rejected unless `path` can be set (creating=True) or deleted in `config`."""
    node: Any = config
    tp = schema
    for depth, part in enumerate(path):
        here = path[: depth + 1]
        in_component = isinstance(node, dict) and COMPONENT_KEY in node
        allowed, child_tp = schema_child(tp, part) if tp is not None else (False, None)
        if in_component:
            allowed, child_tp = True, Any  # its arguments are checked against the signature later
        if isinstance(node, dict):
            if part in node:
                node = node[part]
            elif creating and allowed:
                node = _ABSENT
            else:
                raise _missing(here, [str(key) for key in node] + schema_keys(tp), creating)
        elif isinstance(node, list):
            if not (part.isdigit() and int(part) < len(node)):
                span = f"0..{len(node) - 1}" if node else "none: it is empty"
                raise _Rejected(here, f"{dotted(path[:depth])} is a list; valid indices: {span}")
            node = node[int(part)]
        elif (node is _ABSENT or node is None) and creating and allowed:
            if container_kind(tp) == "list":
                raise _Rejected(here, f"{dotted(path[:depth])} is not a list yet; set it whole, e.g. KEY=[...]")
            node = _ABSENT
        else:
            shown = "null" if node is None or node is _ABSENT else repr(node)
            raise _Rejected(here, f"{dotted(path[:depth])} is {shown}, not a mapping or list")
        tp = child_tp if allowed else None


def _set(config: dict, path: KeyPath, value: Any) -> None:
    node: Any = config
    for part in path[:-1]:
        if isinstance(node, list):
            node = node[int(part)]
        else:
            if not isinstance(node.get(part), (dict, list)):
                node[part] = {}
            node = node[part]
    if isinstance(node, list):
        node[int(path[-1])] = value
    else:
        node[path[-1]] = value


def apply_overrides(config: dict, overrides: Sequence[str], *, lines: SourceLines | None = None,
                    schema: type | None = None) -> dict:
    """A copy of `config` with ``key=value`` / ``~key`` overrides applied, in order.

    Values are YAML scalars or flow collections (`parse_value`). A key the recipe lacks may only
    be set when `schema` knows it or it is an argument of a component (checked against the
    signature later). Every bad override is reported in one RecipeError; `lines` records the
    keys that now come from the command line.
    """
    result = copy.deepcopy(config)
    problems: list[Problem] = []
    done: list[tuple[str, KeyPath, str]] = []
    for text in overrides:
        try:
            path, value, delete = parse_override(text)
            _walk(result, path, schema, creating=not delete)
        except _Rejected as rejected:
            problems.append(Problem(rejected.path, rejected.message, f"command line override {text!r}"))
            continue
        if delete:
            parent = result if len(path) == 1 else _get(result, path[:-1])
            if isinstance(parent, list):
                parent.pop(int(path[-1]))
                done.append(("list-delete", path, text))
            else:
                del parent[path[-1]]
                done.append(("delete", path, text))
        else:
            _set(result, path, value)
            done.append(("set", path, text))
    RecipeError.raise_if_any(problems)
    if lines is not None:
        for action, path, text in done:
            if action == "set":
                lines.record_override(path, text)
            elif action == "delete":
                lines.forget(path)
            else:
                lines.remove_list_item(path[:-1], int(path[-1]))
    return result


def _get(config: Any, path: KeyPath) -> Any:
    node = config
    for part in path:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node
