"""Bad input: one error type that names the file and the fix, and one policy for raise-or-skip.

Every plugin reports a problem with a file by building a `DataError` and handing it to its
`ErrorPolicy`. With ``on_error="raise"`` (the default) the error is raised at once; with
``on_error="skip"`` the item is left out, the file and reason are kept in `policy.skipped`, and a
`DataSkipWarning` gives the counts per kind. Nothing is dropped without a record.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

# The kinds of bad input a plugin can meet; counts in warnings are grouped by these.
CORRUPT_FILE = "corrupt or unreadable file"
MISSING_FILE = "missing file"
SIZE_MISMATCH = "mask size differs from image size"
EMPTY_MASK = "empty mask"
MASK_WITHOUT_IMAGE = "mask without image"
IMAGE_WITHOUT_MASK = "image without mask"
UNKNOWN_CLASS = "unknown class value"
SHAPE_MISMATCH = "image/label shape mismatch"
OUTSIDE_ROOT = "path outside the root"
BAD_LABEL = "label values are not integers"

ON_ERROR_CHOICES = ("raise", "skip")


class DataError(ValueError):
    """A problem with one input file.

    Args:
        kind: one of the kind constants of this module (used to count skips).
        path: the file (or json entry) at fault.
        problem: what is wrong with it.
        fix: what the user can do about it.
    """

    def __init__(self, kind: str, path: str | Path, problem: str, fix: str) -> None:
        self.kind = kind
        self.path = str(path)
        self.problem = problem
        self.fix = fix
        super().__init__(f"{self.path}: {problem}. Fix: {fix}")


class DataSkipWarning(UserWarning):
    """Some inputs were skipped because of ``on_error="skip"``; the message gives the counts."""


@dataclass(frozen=True)
class SkippedItem:
    """One input left out under ``on_error="skip"``."""

    path: str
    kind: str
    reason: str


class ErrorPolicy:
    """Raise or record bad inputs for one dataset.

    Args:
        on_error: "raise" to stop at the first bad input, "skip" to leave it out and count it.
        owner: the name used in warnings (the plugin and its root).
    """

    def __init__(self, on_error: str = "raise", owner: str = "dataset") -> None:
        if on_error not in ON_ERROR_CHOICES:
            raise ValueError(f"on_error={on_error!r} is not one of {ON_ERROR_CHOICES}")
        self.on_error = on_error
        self.owner = owner
        self.skipped: list[SkippedItem] = []
        self._seen: set[tuple[str, str]] = set()
        self._reported = 0

    def handle(self, error: DataError, warn_now: bool = False) -> None:
        """Raise `error`, or record it (once per file and kind) when skipping.

        Args:
            error: the problem found.
            warn_now: warn immediately (problems found while loading a sample) instead of
                waiting for `report()` (problems found while indexing).
        """
        if self.on_error == "raise":
            raise error
        key = (error.path, error.kind)
        if key in self._seen:
            return
        self._seen.add(key)
        self.skipped.append(SkippedItem(error.path, error.kind, str(error)))
        if warn_now:
            self.report()

    def report(self) -> None:
        """Warn once about everything skipped since the last report, with counts per kind."""
        new = self.skipped[self._reported :]
        if not new:
            return
        self._reported = len(self.skipped)
        counts = Counter(item.kind for item in new)
        summary = ", ".join(f"{count} {kind}" for kind, count in sorted(counts.items()))
        example = new[0].reason
        warnings.warn(
            f"{self.owner}: skipped {len(new)} input(s) ({summary}); total skipped so far "
            f"{len(self.skipped)}. First: {example}. The `skipped` attribute lists every file and reason.",
            DataSkipWarning,
            stacklevel=3,
        )

    def counts(self) -> dict[str, int]:
        """Skipped inputs per kind."""
        return dict(Counter(item.kind for item in self.skipped))
