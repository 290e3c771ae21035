"""Components: ``{_component_: NAME_OR_DOTTED_PATH, **kwargs}`` mappings, resolved and checked.

A name is looked up in the `Registry` given (models, strategies, dataset plugins); otherwise,
or when the registry does not hold it and it contains a dot, it is imported as a dotted path
(``torch.optim.Adam``, ``my_pkg.losses:MyLoss``). Arguments are checked against the signature
without building anything.
"""

from __future__ import annotations

import copy
import importlib
import inspect
from typing import Any, Iterable, Mapping, Sequence

from samunet_tune.config.errors import Problem, RecipeError, did_you_mean, finish
from samunet_tune.config.keys import KeyPath, dotted, get_at, key_path
from samunet_tune.config.locations import SourceLines, where
from samunet_tune.config.schema import COMPONENT_KEY
from samunet_tune.registry import Registry, RegistryError


def is_component(value: Any) -> bool:
    return isinstance(value, dict) and COMPONENT_KEY in value


def _component_name(spec: Any) -> Any:
    return spec.get(COMPONENT_KEY) if isinstance(spec, dict) else spec


def import_dotted(name: str) -> Any:
    """``"torch.optim.Adam"`` or ``"pkg.module:Attr"`` -> the object; ImportError says what failed."""
    if ":" in name:
        module_name, _, attribute = name.partition(":")
        parts = [module_name] + attribute.split(".")
        module_parts = 1
        module = importlib.import_module(module_name)
    else:
        parts = name.split(".")
        module = None
        for module_parts in range(len(parts), 0, -1):
            try:
                module = importlib.import_module(".".join(parts[:module_parts]))
                break
            except ModuleNotFoundError as error:
                if error.name is None or not ".".join(parts[:module_parts]).startswith(error.name):
                    raise  # a module that exists but fails to import itself
        if module is None:
            raise ImportError(f"no module named {parts[0]!r}")
        parts = [".".join(parts[:module_parts])] + parts[module_parts:]
    obj = module
    for depth, attribute in enumerate(parts[1:], start=1):
        if not hasattr(obj, attribute):
            owner = ".".join(parts[:depth]) if depth > 1 else parts[0]
            hint = did_you_mean(attribute, [n for n in dir(obj) if not n.startswith("_")])
            raise ImportError(f"{owner!r} has no attribute {attribute!r}{hint}")
        obj = getattr(obj, attribute)
    return obj


def resolve_component(spec: Any, registry: Registry | None = None, *, path: str | Sequence[object] = (),
                      lines: SourceLines | None = None) -> Any:
    """The class or function a component names (a spec mapping or the bare name), unbuilt.

    Raises RecipeError with the key path and line when the name is unknown or cannot be imported.
    """
    path = key_path(path)
    name = _component_name(spec)
    name_path = path + (COMPONENT_KEY,) if isinstance(spec, dict) else path

    def fail(message: str) -> RecipeError:
        return RecipeError([Problem(name_path, message, where(lines, name_path))])

    if not isinstance(name, str) or not name:
        raise fail(f"a component needs '{COMPONENT_KEY}: NAME_OR_DOTTED_PATH', got {name!r}")
    if registry is not None and (name in registry or "." not in name and ":" not in name):
        try:
            return registry.get(name)
        except RegistryError as error:
            raise fail(f"{error}{did_you_mean(name, registry.names())}") from error
    try:
        return import_dotted(name)
    except Exception as error:  # ImportError, or a module that breaks while importing
        known = f" (nor a registered {registry.kind}: {', '.join(registry.names())})" if registry else ""
        raise fail(f"cannot import {name!r}{known}: {error}") from error


def _signature(target: Any) -> inspect.Signature | None:
    try:
        return inspect.signature(target)
    except (TypeError, ValueError):  # some builtins have no introspectable signature
        return None


def check_component_args(spec: Mapping[str, Any], registry: Registry | None = None, *,
                         path: str | Sequence[object] = (), lines: SourceLines | None = None,
                         provided: Iterable[str] = (), problems: list[Problem] | None = None) -> None:
    """Check a component's arguments against its signature, building nothing.

    Unknown arguments (with the closest accepted name), missing required ones, and arguments
    the code supplies at build time (`provided`, e.g. ``("params",)`` for an optimizer) but the
    recipe also sets are reported with key path and line. A ``**kwargs`` target accepts any name.
    Raises RecipeError, or appends to `problems` when given.
    """
    path = key_path(path)
    own: list[Problem] = []
    try:
        target = resolve_component(spec, registry, path=path, lines=lines)
    except RecipeError as error:
        own.extend(error.problems)
        return finish(own, problems)
    signature = _signature(target)
    if signature is None:
        return finish(own, problems)
    name = spec[COMPONENT_KEY]
    provided = set(provided)
    params = signature.parameters
    open_kwargs = any(p.kind is p.VAR_KEYWORD for p in params.values())
    by_keyword = [n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]

    def report(key: KeyPath, message: str) -> None:
        own.append(Problem(key, message, where(lines, key)))

    for arg in spec:
        if arg == COMPONENT_KEY:
            continue
        arg_path = path + (str(arg),)
        if arg in provided:
            report(arg_path, f"{name} gets {arg!r} from the code at build time; remove it from the recipe")
        elif arg in params and params[arg].kind is inspect.Parameter.POSITIONAL_ONLY:
            report(arg_path, f"{name} takes {arg!r} by position only; it cannot be set in a recipe")
        elif arg not in by_keyword and not open_kwargs:
            accepted = [n for n in by_keyword if n not in provided]
            report(arg_path, f"{name} has no argument {arg!r}{did_you_mean(arg, accepted)}"
                             f" (it accepts: {', '.join(accepted) or 'no arguments'})")
    for param_name, param in params.items():
        required = param.default is inspect.Parameter.empty and param.kind not in (
            param.VAR_POSITIONAL, param.VAR_KEYWORD)
        if not required or param_name in spec or param_name in provided:
            continue
        if param.kind is param.POSITIONAL_ONLY:
            report(path, f"{name} needs {param_name!r} by position; the code that builds it must pass it")
        else:
            report(path, f"{name} needs argument {param_name!r}; add it under {dotted(path) or 'the component'}")
    finish(own, problems)


def check_all_components(config: Any, *, registries: Mapping[str, Registry] | None = None,
                         provided: Mapping[str, Iterable[str]] | None = None,
                         lines: SourceLines | None = None, problems: list[Problem] | None = None) -> None:
    """Check every component mapping in `config`, nested ones included.

    `registries` and `provided` are keyed by dotted key path (``{"model": MODELS}``,
    ``{"optimizer": ("params",)}``); components elsewhere are dotted import paths. Arguments
    that are themselves components count as set.
    """
    own: list[Problem] = []
    registries = {key_path(k): v for k, v in (registries or {}).items()}
    provided = {key_path(k): tuple(v) for k, v in (provided or {}).items()}

    def visit(node: Any, path: KeyPath) -> None:
        if is_component(node):
            check_component_args(node, registries.get(path), path=path, lines=lines,
                                 provided=provided.get(path, ()), problems=own)
        children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in children:
            if key != COMPONENT_KEY:
                visit(child, path + (str(key),))

    visit(config, ())
    finish(own, problems)


def check_name(config: Any, key: str | Sequence[object], registry: Registry, *,
               lines: SourceLines | None = None, problems: list[Problem] | None = None) -> None:
    """A plain string setting (``strategy: conv-branch``) must name something in `registry`."""
    path = key_path(key)
    own: list[Problem] = []
    name = get_at(config, path, None)
    if name is not None and name not in registry:
        names = registry.names()
        own.append(Problem(path, f"unknown {registry.kind} {name!r} (known: {', '.join(names) or 'none'})"
                                 f"{did_you_mean(name, names)}", where(lines, path)))
    finish(own, problems)


def instantiate(spec: Any, *args: Any, registry: Registry | None = None, path: str | Sequence[object] = (),
                lines: SourceLines | None = None, **extra: Any) -> Any:
    """Build a component: resolve it, build nested components, call it with `args` and the
    recipe's arguments updated by `extra` (build-time values such as ``params``).

    An error raised while building gets a note naming the component and its recipe line.
    """
    path = key_path(path)
    target = resolve_component(spec, registry, path=path, lines=lines)
    kwargs = {}
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key != COMPONENT_KEY:
                kwargs[key] = _build_nested(value, registry, path + (str(key),), lines)
    kwargs.update(extra)
    try:
        return target(*args, **kwargs)
    except Exception as error:
        place = where(lines, path)
        error.add_note(f"while building {_component_name(spec)} for {dotted(path) or 'the recipe'}"
                       + (f" ({place})" if place else ""))
        raise


def _build_nested(value: Any, registry: Registry | None, path: KeyPath, lines: SourceLines | None) -> Any:
    if is_component(value):
        return instantiate(value, registry=registry, path=path, lines=lines)
    if isinstance(value, dict):
        return {k: _build_nested(v, registry, path + (str(k),), lines) for k, v in value.items()}
    if isinstance(value, list):
        return [_build_nested(v, registry, path + (str(i),), lines) for i, v in enumerate(value)]
    return copy.deepcopy(value)
