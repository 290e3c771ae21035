"""YAML in and out, with line numbers and YAML 1.2 scalar rules.

PyYAML follows YAML 1.1: ``1e-4`` is a string, ``yes``/``on`` are booleans, ``010`` is octal and
``2024-01-01`` a date. Recipes use the YAML 1.2 core rules instead: ``1e-4`` is a float, only
``true``/``false`` are booleans, integers are decimal (or ``0x``/``0o``), dates stay strings.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from pathlib import PurePath
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from samunet_tune.config.errors import Problem, RecipeError
from samunet_tune.config.keys import KeyPath
from samunet_tune.config.locations import SourceLines

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^(?:[-+]?[0-9][0-9_]*|0o[0-7_]+|0x[0-9a-fA-F_]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_TAG = "tag:yaml.org,2002:"


def _install_resolvers(cls: type) -> None:
    cls.yaml_implicit_resolvers = {}
    # Order matters: the first matching rule wins, so int comes before float.
    cls.add_implicit_resolver(_TAG + "null", _NULL, ["~", "n", "N", ""])
    cls.add_implicit_resolver(_TAG + "bool", _BOOL, list("tTfF"))
    cls.add_implicit_resolver(_TAG + "int", _INT, list("-+0123456789"))
    cls.add_implicit_resolver(_TAG + "float", _FLOAT, list("-+0123456789."))
    cls.add_implicit_resolver(_TAG + "merge", re.compile(r"^(?:<<)$"), ["<"])


class RecipeLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 scalars that rejects duplicate keys."""

    def construct_yaml_int(self, node: ScalarNode) -> int:
        text = self.construct_scalar(node).replace("_", "")
        sign = -1 if text.startswith("-") else 1
        text = text.lstrip("+-")
        if text.startswith(("0x", "0o")):
            return sign * int(text[2:], 16 if text[1] == "x" else 8)
        return sign * int(text, 10)

    def construct_mapping(self, node: Node, deep: bool = False) -> dict:
        if isinstance(node, MappingNode):
            first_line: dict[object, int] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, ScalarNode) or key_node.tag == _TAG + "merge":
                    continue
                key = (key_node.tag, key_node.value)
                if key in first_line:
                    raise ConstructorError(
                        None, None,
                        f"duplicate key {key_node.value!r} (first on line {first_line[key]}); keep one",
                        key_node.start_mark,
                    )
                first_line[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


_install_resolvers(RecipeLoader)
RecipeLoader.add_constructor(_TAG + "int", RecipeLoader.construct_yaml_int)


class RecipeDumper(yaml.SafeDumper):
    """Quotes a string whenever YAML 1.1 or 1.2 readers would take it for something else."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        ours = super().resolve(kind, value, implicit)
        if kind is ScalarNode and ours == _TAG + "str" and implicit[0]:
            yaml11 = yaml.SafeDumper.yaml_implicit_resolvers
            for tag, regexp in yaml11.get(value[:1], []) + yaml11.get(None, []):
                if regexp.match(value):
                    return tag
        return ours

    def ignore_aliases(self, data: Any) -> bool:
        return True


_install_resolvers(RecipeDumper)


def _yaml_problem(error: yaml.YAMLError, source: str) -> RecipeError:
    mark = getattr(error, "problem_mark", None)
    where = f"{source}:{mark.line + 1}" if mark is not None else source
    text = getattr(error, "problem", None) or str(error)
    context, context_mark = getattr(error, "context", None), getattr(error, "context_mark", None)
    if context and context_mark is not None and (mark is None or context_mark.line != mark.line):
        text += f" ({context} that starts on line {context_mark.line + 1})"
    return RecipeError([Problem((), f"invalid YAML: {text}", where)])


def parse_yaml(text: str, source: str = "<recipe>") -> tuple[Any, SourceLines]:
    """Parse YAML text; return the data and the line of every mapping key and list item."""
    lines = SourceLines(source)
    loader = RecipeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
        if node is not None:
            _record(loader, node, (), lines, set())
    except yaml.YAMLError as error:
        raise _yaml_problem(error, source) from None
    finally:
        loader.dispose()
    return data, lines


def _record(loader: RecipeLoader, node: Node, path: KeyPath, lines: SourceLines, active: set[int]) -> None:
    if id(node) in active:  # a recursive alias
        return
    active.add(id(node))
    if isinstance(node, MappingNode):  # merge keys were already flattened in place
        children = [(str(loader.construct_object(key, deep=True)), key, value) for key, value in node.value]
    elif isinstance(node, SequenceNode):
        children = [(str(index), item, item) for index, item in enumerate(node.value)]
    else:
        children = []
    for name, key_node, value_node in children:
        child = path + (name,)
        lines.record(child, key_node.start_mark.line + 1, value_node.start_mark.line + 1)
        _record(loader, value_node, child, lines, active)
    active.discard(id(node))


def parse_value(text: str) -> Any:
    """A command-line value: a YAML scalar (``true``, ``1e-4``, ``null``, ``'3'``) or flow
    collection (``[1, 2]``, ``{a: 1}``); anything else, ``a=b`` or ``x: y`` included, is a string."""
    stripped = text.strip()
    quoted = len(stripped) >= 2 and stripped[0] == stripped[-1] and stripped[0] in "'\""
    if stripped[:1] in ("[", "{") or quoted:
        try:
            return yaml.load(stripped, Loader=RecipeLoader)
        except yaml.YAMLError as error:
            raise ValueError(f"cannot parse {text!r}: {getattr(error, 'problem', error)}") from None
    if text == "":
        return ""
    loader = RecipeLoader("")
    try:
        tag = loader.resolve(ScalarNode, text, (True, False))
        return loader.construct_object(ScalarNode(tag, text))
    finally:
        loader.dispose()


def to_plain(value: Any) -> Any:
    """Dataclasses, tuples, paths and enums as the dicts, lists and strings YAML holds."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: to_plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {key: to_plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(item) for item in value]
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, enum.Enum):
        return to_plain(value.value)
    return value


def dump_config(config: Any, header: str | None = None) -> str:
    """The recipe as YAML, keys in their original order; `header` becomes leading ``#`` lines.

    Loading the result gives back an equal config (what ``--print-config`` shows and
    ``OUTPUT/recipe.yaml`` holds).
    """
    text = yaml.dump(
        to_plain(config), Dumper=RecipeDumper, sort_keys=False, default_flow_style=False,
        allow_unicode=True, width=4096,
    )
    if header:
        comment = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
        text = comment + text
    return text
