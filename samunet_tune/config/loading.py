"""Find and read a recipe: a path to a .yaml file, or the name of a shipped recipe."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

from samunet_tune.config.errors import Problem, RecipeError, did_you_mean
from samunet_tune.config.locations import SourceLines
from samunet_tune.config.yaml_io import parse_yaml

SHIPPED_RECIPES_PACKAGE = "samunet_tune.recipes"


@dataclass
class Recipe:
    """A loaded recipe: plain data plus where each key came from.

    Args:
        config: the YAML mapping (dicts, lists, scalars), overrides applied.
        lines: key path -> file line or command-line override.
        source: the file as shown in messages.
        overrides: the ``key=value`` / ``~key`` arguments applied so far.
        header: the comment lines that open the file, ``#`` removed (the command to run it).
    """

    config: dict[str, Any]
    lines: SourceLines
    source: str
    overrides: tuple[str, ...] = field(default=())
    header: str = ""

    def override(self, overrides: Sequence[str], schema: type | None = None) -> Recipe:
        """A new Recipe with `overrides` applied (see `apply_overrides`)."""
        from samunet_tune.config.overrides import apply_overrides

        lines = self.lines.copy()
        config = apply_overrides(self.config, overrides, lines=lines, schema=schema)
        return Recipe(config, lines, self.source, self.overrides + tuple(overrides), self.header)


def shipped_recipes() -> list[str]:
    """Names of the recipes installed with the package (``quickstart``, ``polyp``, ...)."""
    folder = resources.files(SHIPPED_RECIPES_PACKAGE)
    return sorted(entry.name[: -len(".yaml")] for entry in folder.iterdir() if entry.name.endswith(".yaml"))


def parse_recipe(text: str, source: str = "<recipe>") -> Recipe:
    """A Recipe from YAML text; the top level must be a mapping (an empty text is ``{}``)."""
    data, lines = parse_yaml(text, source)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RecipeError([Problem((), f"a recipe is a mapping of keys, not a {type(data).__name__}", source)])
    return Recipe(data, lines, source, header=_leading_comment(text))


def _leading_comment(text: str) -> str:
    comment = []
    for line in text.lstrip("\ufeff").splitlines():
        if not line.startswith("#"):
            break
        comment.append(line[1:].removeprefix(" "))
    return "\n".join(comment)


def _display(path: Path) -> str:
    """`path` relative to the working directory when it lies below it (shorter messages)."""
    try:
        return os.path.relpath(path) if Path(path).resolve().is_relative_to(Path.cwd()) else str(path)
    except ValueError:
        return str(path)


def find_recipe(path_or_name: str | os.PathLike[str]) -> Path:
    """The file for a path, or for a shipped recipe name such as ``quickstart`` or ``polyp.yaml``.

    ``recipes/NAME.yaml`` falls back to the shipped copy when there is no such file here, so the
    README command also works outside a clone.
    """
    given = Path(path_or_name)
    if given.is_file():
        return given
    if given.parent in (Path("."), Path("recipes")):
        name = given.name if given.suffix in (".yaml", ".yml") else given.name + ".yaml"
        shipped = resources.files(SHIPPED_RECIPES_PACKAGE) / name
        if shipped.is_file():
            return Path(str(shipped))
    names = shipped_recipes()
    listing = ", ".join(names) or "(none)"
    hint = did_you_mean(given.stem, names)
    raise RecipeError(
        f"recipe {str(path_or_name)!r} not found: no such file and no shipped recipe of that name"
        f"{hint}. Shipped recipes: {listing}"
    )


def load_recipe(path_or_name: str | os.PathLike[str]) -> Recipe:
    """Read a recipe file (or shipped recipe by name), keeping the line of every key."""
    path = find_recipe(path_or_name)
    return parse_recipe(path.read_text(encoding="utf-8"), _display(path))
