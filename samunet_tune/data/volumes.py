"""Helpers for plugins that serve 3D volumes (NIfTI, DICOM) as 2D slices."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from samunet_tune.data.errors import ErrorPolicy
from samunet_tune.data.intensity import apply_window, percentile_range, rescale_to_uint8
from samunet_tune.data.masks import unknown_class_error


def label_values(label: np.ndarray, classes: Mapping[int, str] | None, path: str | Path,
                 policy: ErrorPolicy) -> list[int]:
    """The label values of an integer volume that become classes (0 is background unless listed).

    Values outside `classes` are raised or, when skipping, left out with a record.
    """
    values = [int(v) for v in np.unique(label) if v != 0 or (classes and 0 in classes)]
    unknown = [v for v in values if classes is not None and v not in classes]
    if unknown:
        policy.handle(unknown_class_error(path, unknown, classes))
    return [v for v in values if v not in unknown]


def slices_with_labels(label: np.ndarray, values: Sequence[int], min_pixels: int = 1,
                       keep_empty: bool = False) -> list[tuple[int, tuple[int, ...]]]:
    """For a label volume sliced along axis 0: [(slice, values with >= min_pixels pixels there)].

    Slices with no such value are left out unless `keep_empty`.
    """
    counts = {v: (label == v).reshape(label.shape[0], -1).sum(axis=1) for v in values}
    kept = []
    for k in range(label.shape[0]):
        present = tuple(v for v in values if counts[v][k] >= min_pixels)
        if present or keep_empty:
            kept.append((k, present))
    return kept


def map_intensities(volume: np.ndarray, window: tuple[float, float] | None,
                    percentiles: Sequence[float] | None) -> np.ndarray:
    """Whole-volume intensity mapping: a CT window, else percentiles, else the raw values."""
    if window is not None:
        return apply_window(volume, *window)
    if percentiles is not None:
        return rescale_to_uint8(volume, *percentile_range(volume, *percentiles))
    return volume


class VolumeCache:
    """The last few decoded volumes, so a slice-by-slice pass decodes each volume once.

    Random access over many volumes thrashes it; wrap the dataset in CachedDataset for that.
    Pickling (DataLoader workers) drops the cached arrays.

    Args:
        load: function from a key to the decoded volume(s).
        size: how many keys to keep.
    """

    def __init__(self, load: Callable[[Any], Any], size: int = 2) -> None:
        self.load, self.size = load, size
        self._items: OrderedDict[Any, Any] = OrderedDict()

    def __call__(self, key: Any) -> Any:
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = self.load(key)
        self._items[key] = value
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return value

    def __getstate__(self) -> dict[str, Any]:
        return {"load": self.load, "size": self.size, "_items": OrderedDict()}
