"""Where each key of a recipe came from: a file line, or a command-line override."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

from samunet_tune.config.keys import KeyPath, key_path


@dataclass(frozen=True)
class Location:
    """The source of one key.

    Args:
        source: the recipe file as shown in messages.
        line: 1-based line of the key (of the item, for list items); None if unknown.
        value_line: 1-based line where the value starts (differs for block mappings/lists).
        override: the ``key=value`` text when the key was set on the command line.
    """

    source: str
    line: int | None = None
    value_line: int | None = None
    override: str | None = None

    def __str__(self) -> str:
        if self.override is not None:
            return f"command line override {self.override!r}"
        return f"{self.source}:{self.line}" if self.line else self.source


class SourceLines:
    """Side table ``key path -> Location`` filled while loading a recipe and applying overrides."""

    def __init__(self, source: str = "<recipe>") -> None:
        self.source = source
        self._locations: dict[KeyPath, Location] = {}

    def record(self, path: str | Sequence[object], line: int | None, value_line: int | None = None) -> None:
        self._locations[key_path(path)] = Location(self.source, line, value_line or line)

    def record_override(self, path: str | Sequence[object], text: str) -> None:
        """`path` now comes from the command line; what was below it in the file is gone."""
        path = key_path(path)
        self.forget(path)
        self._locations[path] = Location(self.source, override=text)

    def forget(self, path: str | Sequence[object]) -> None:
        """Drop `path` and everything below it (a deleted or replaced key)."""
        path = key_path(path)
        for known in [known for known in self._locations if known[: len(path)] == path]:
            del self._locations[known]

    def remove_list_item(self, list_path: str | Sequence[object], index: int) -> None:
        """Item `index` of the list at `list_path` was deleted: later items move up by one."""
        base = key_path(list_path)
        self.forget(base + (str(index),))
        moved = {}
        for known in list(self._locations):
            if known[: len(base)] == base and len(known) > len(base) and known[len(base)].isdigit():
                position = int(known[len(base)])
                if position > index:
                    moved[base + (str(position - 1),) + known[len(base) + 1 :]] = self._locations.pop(known)
        self._locations.update(moved)

    def location(self, path: str | Sequence[object]) -> Location | None:
        """The location of `path`, or of its nearest recorded parent; None when nothing is known."""
        path = key_path(path)
        while path:
            if path in self._locations:
                return self._locations[path]
            path = path[:-1]
        return None

    def line(self, path: str | Sequence[object]) -> int | None:
        """The line of exactly this key (None if it was not in the file)."""
        found = self._locations.get(key_path(path))
        return found.line if found else None

    def where(self, path: str | Sequence[object]) -> str:
        """``"recipes/polyp.yaml:12"``, ``"command line override 'a=1'"`` or the file name."""
        found = self.location(path)
        return str(found) if found else self.source

    def copy(self) -> SourceLines:
        twin = SourceLines(self.source)
        twin._locations = dict(self._locations)
        return twin

    def __iter__(self) -> Iterator[KeyPath]:
        return iter(self._locations)

    def __len__(self) -> int:
        return len(self._locations)

    def __contains__(self, path: object) -> bool:
        return isinstance(path, (str, tuple, list)) and key_path(path) in self._locations


def where(lines: SourceLines | None, path: str | Sequence[object]) -> str | None:
    return lines.where(path) if lines is not None else None
