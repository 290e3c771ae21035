"""Check that the files and folders a recipe names exist, before anything is built."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Literal, Sequence

from samunet_tune.config.errors import Problem, finish
from samunet_tune.config.keys import KeyPath, dotted, key_path
from samunet_tune.config.locations import SourceLines, where


def _expand(config: Any, pattern: KeyPath, prefix: KeyPath = ()) -> list[tuple[KeyPath, Any]]:
    """Every (path, value) matching `pattern`; ``*`` matches any key or list index."""
    if not pattern:
        return [(prefix, config)]
    part, rest = pattern[0], pattern[1:]
    if isinstance(config, dict):
        children = [(str(k), v) for k, v in config.items()]
    elif isinstance(config, list):
        children = [(str(i), v) for i, v in enumerate(config)]
    else:
        return []
    found = []
    for name, child in children:
        if part in ("*", name):
            found.extend(_expand(child, rest, prefix + (name,)))
    return found


def check_paths(config: Any, keys: Iterable[str | Sequence[object]], lines: SourceLines | None = None, *,
                kind: Literal["any", "file", "dir"] = "any", root: str | Path | None = None,
                problems: list[Problem] | None = None) -> None:
    """Each key in `keys` (dotted, ``*`` for any key or index) that is set must name an existing
    path (a file or folder when `kind` says so); relative paths are taken from `root` or the
    working directory. Absent or null keys are left to the schema. Raises RecipeError, or
    appends to `problems` when given.
    """
    own: list[Problem] = []
    wanted = {"file": "a file", "dir": "a folder", "any": "a path"}[kind]
    for key in keys:
        for path, value in _expand(config, key_path(key)):
            if value is None:
                continue
            if not isinstance(value, (str, Path)):
                own.append(Problem(path, f"expected {wanted}, got {value!r}", where(lines, path)))
                continue
            target = Path(value).expanduser()
            if root is not None and not target.is_absolute():
                target = Path(root) / target
            exists = {"file": target.is_file, "dir": target.is_dir, "any": target.exists}[kind]()
            if not exists:
                state = "does not exist" if not target.exists() else f"is not {wanted}"
                own.append(Problem(path, f"{target} {state}; pass {dotted(path)}=PATH", where(lines, path)))
    finish(own, problems)
