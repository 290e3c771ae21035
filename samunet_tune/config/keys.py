"""Key paths: ``"data.train.root"`` <-> ``("data", "train", "root")``; list items by index."""

from __future__ import annotations

from typing import Any, Sequence

KeyPath = tuple[str, ...]


def key_path(path: str | Sequence[object]) -> KeyPath:
    """A dotted string or a sequence of keys/indices as a tuple of strings."""
    if isinstance(path, str):
        return tuple(path.split(".")) if path else ()
    return tuple(str(part) for part in path)


def dotted(path: str | Sequence[object]) -> str:
    return ".".join(key_path(path))


_MISSING = object()


def get_at(config: Any, path: str | Sequence[object], default: Any = _MISSING) -> Any:
    """The value at `path` (mapping keys, list indices); `default` or KeyError when absent."""
    node = config
    for part in key_path(path):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif default is not _MISSING:
            return default
        else:
            raise KeyError(dotted(path))
    return node
