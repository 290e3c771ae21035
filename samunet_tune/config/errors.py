"""Problems found in a recipe, and the one error that reports them all at once."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable

from samunet_tune.config.keys import KeyPath, dotted


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a recipe.

    Args:
        path: the key path it concerns (``("optimizer", "lr")``); empty for the whole recipe.
        message: what is wrong and what to do.
        where: ``"recipes/polyp.yaml:12"``, ``"command line override 'lr=x'"`` or None.
    """

    path: KeyPath
    message: str
    where: str | None = None

    def __str__(self) -> str:
        parts = [self.where] if self.where else []
        if self.path:
            parts.append(dotted(self.path))
        parts.append(self.message)
        return ": ".join(parts)


class RecipeError(ValueError):
    """A recipe that cannot run; the message lists every problem, one per line."""

    def __init__(self, problems: Iterable[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem((), problems)]
        self.problems: list[Problem] = list(problems)
        super().__init__(self._format())

    def _format(self) -> str:
        if len(self.problems) == 1:
            return str(self.problems[0])
        listed = "\n".join(f"  - {problem}" for problem in self.problems)
        return f"{len(self.problems)} problems in the recipe:\n{listed}"

    @classmethod
    def raise_if_any(cls, problems: list[Problem]) -> None:
        if problems:
            raise cls(problems)


def did_you_mean(word: object, candidates: Iterable[object], prefix: str = "") -> str:
    """``"; did you mean 'lr'?"`` when a candidate is close to `word`, else ``""``."""
    names = [str(candidate) for candidate in candidates]
    close = difflib.get_close_matches(str(word), names, n=1, cutoff=0.6)
    return f"; did you mean {prefix + close[0]!r}?" if close else ""


def finish(own: list[Problem], caller: list[Problem] | None) -> None:
    """The convention of every checker: append to the caller's list, or raise when it has none."""
    if caller is None:
        RecipeError.raise_if_any(own)
    elif own is not caller:
        caller.extend(own)
