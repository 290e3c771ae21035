"""Train/val/test splits of a plugin's index: from a split file, or drawn with a seed."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, TypeVar

import numpy as np

from samunet_tune.data.errors import MISSING_FILE, DataError, ErrorPolicy

SPLITS = ("train", "val", "test")
Record = TypeVar("Record")


def seeded_split(records: list[Record], split: str, val_fraction: float, test_fraction: float,
                 seed: int) -> list[Record]:
    """The `split` part of a random partition of `records` (kept in their order).

    The same records, fractions and seed always give the same partition; the three parts are
    disjoint and cover every record. "test" takes round(test_fraction * n) records, "val"
    round(val_fraction * n), "train" the rest.
    """
    if split not in SPLITS:
        raise ValueError(f"split={split!r}: expected one of {SPLITS} or None")
    if not (0 <= val_fraction <= 1 and 0 <= test_fraction <= 1 and val_fraction + test_fraction <= 1):
        raise ValueError(f"val_fraction={val_fraction} and test_fraction={test_fraction} "
                         "must be in [0, 1] and sum to at most 1")
    order = np.random.default_rng(seed).permutation(len(records))
    n_test, n_val = int(round(test_fraction * len(records))), int(round(val_fraction * len(records)))
    parts = {"test": order[:n_test], "val": order[n_test:n_test + n_val], "train": order[n_test + n_val:]}
    return [records[i] for i in sorted(parts[split])]


def split_from_file(records: list[Record], path: Path, names_of: Callable[[Record], tuple[str, ...]],
                    policy: ErrorPolicy) -> list[Record]:
    """The records listed in the text file `path` (one name per line; blank lines and ``#``
    comments ignored), matched against any of `names_of(record)` (file name, stem, ...).

    A listed name with no record is a "missing file" error (raised or skipped by `policy`).
    """
    if not path.is_file():
        raise DataError(MISSING_FILE, path, "split file does not exist", "check split_file (relative to the root)")
    wanted = [line.strip() for line in path.read_text().splitlines()]
    wanted = [name for name in wanted if name and not name.startswith("#")]
    position = {name: i for i, record in enumerate(records) for name in names_of(record)}
    chosen = set()
    for name in wanted:
        if name in position:
            chosen.add(position[name])
        else:
            policy.handle(DataError(MISSING_FILE, f"{path} entry {name!r}", "names no image of the dataset",
                                    "fix the split file, or add the image (and its mask)"))
    return [records[i] for i in sorted(chosen)]
