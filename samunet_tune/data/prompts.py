"""Prompt simulation from masks: boxes with jitter, point samples, and corrective clicks.

Conventions: coordinates are (x, y) = (column, row) in pixels of the mask they come from; a box
is ``[x_min, y_min, x_max, y_max]`` with inclusive pixel maxima (the SAM-Med2D / MedSAM
convention); connected components use 8-connectivity (pixels touching at a corner are one
region), as the spec's evaluation does. Every random choice takes a ``numpy.random.Generator``
so that results are reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)
PADDING_LABEL = -1  # SAM's label for "no point here", used when a mask leaves no background


def largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 8-connected region of a binary mask (ties: the first in scan order)."""
    labels, count = ndimage.label(np.asarray(mask, dtype=bool), structure=EIGHT_CONNECTED)
    if count <= 1:
        return labels > 0
    sizes = np.bincount(labels.ravel())[1:]
    return labels == (int(np.argmax(sizes)) + 1)


def box_from_mask(mask: np.ndarray) -> np.ndarray:
    """Tight box ``[x_min, y_min, x_max, y_max]`` (float) of the mask's largest component."""
    region = largest_component(mask)
    rows, cols = np.nonzero(region)
    if rows.size == 0:
        raise ValueError("cannot make a box from an empty mask")
    return np.array([cols.min(), rows.min(), cols.max(), rows.max()], dtype=np.float32)


def clip_box(box: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """Clip a box to the pixels of an image of (height, width)."""
    height, width = image_size
    box = np.asarray(box, dtype=np.float32).copy()
    box[[0, 2]] = np.clip(box[[0, 2]], 0, width - 1)
    box[[1, 3]] = np.clip(box[[1, 3]], 0, height - 1)
    return box


@dataclass(frozen=True)
class BoxJitter:
    """How a training box deviates from the tight box.

    Args:
        mode: "spec": SAM-UNet / SAM-Med2D: one random integer offset per axis in [-m, m),
            m = min(max_shift, int(relative * min(w, h))) with (w, h) the box size, added to both
            corners (the box moves, its size stays); "range": MedSAM: each side moves outwards
            by its own random integer in [low, high] pixels (both inclusive); "none".
        max_shift: the spec's cap on m (5 pixels).
        relative: the spec's 0.5: m is at most half the box's shorter side.
        pixel_range: (low, high) of the "range" mode (MedSAM: 0, 20).
    """

    mode: str = "spec"
    max_shift: int = 5
    relative: float = 0.5
    pixel_range: tuple[int, int] = (0, 20)

    def __post_init__(self) -> None:
        if self.mode not in ("spec", "range", "none"):
            raise ValueError(f"BoxJitter mode {self.mode!r}: expected 'spec', 'range' or 'none'")
        if self.pixel_range[0] > self.pixel_range[1] or self.pixel_range[0] < 0:
            raise ValueError(f"BoxJitter pixel_range {self.pixel_range}: expected 0 <= low <= high")

    @classmethod
    def medsam(cls, high: int = 20) -> "BoxJitter":
        return cls(mode="range", pixel_range=(0, high))

    @classmethod
    def from_options(cls, options: "BoxJitter | dict | str | None") -> "BoxJitter":
        """A BoxJitter from a recipe value: "spec", "medsam", "none", None (no jitter), or a dict
        of the fields (``{mode: range, pixel_range: [0, 10]}``)."""
        if isinstance(options, cls):
            return options
        if options is None or options == "none":
            return cls(mode="none")
        if options == "spec":
            return cls()
        if options == "medsam":
            return cls.medsam()
        if isinstance(options, dict):
            settings = dict(options)
            if "pixel_range" in settings:
                settings["pixel_range"] = tuple(settings["pixel_range"])
            return cls(**settings)
        raise ValueError(f"jitter={options!r}: expected 'spec', 'medsam', 'none' or a map of BoxJitter fields")

    def spec_limit(self, box: np.ndarray) -> int:
        """m for this box in "spec" mode."""
        width, height = box[2] - box[0], box[3] - box[1]
        return min(self.max_shift, int(self.relative * min(width, height)))

    def __call__(self, box: np.ndarray, image_size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
        """A jittered copy of `box`, clipped to an image of (height, width)."""
        box = np.asarray(box, dtype=np.float32).copy()
        if self.mode == "spec":
            limit = self.spec_limit(box)
            if limit > 0:
                shift_x, shift_y = rng.integers(-limit, limit, size=2)
                box += np.array([shift_x, shift_y, shift_x, shift_y], dtype=np.float32)
        elif self.mode == "range":
            low, high = self.pixel_range
            grow = rng.integers(low, high + 1, size=4).astype(np.float32)
            box += np.array([-grow[0], -grow[1], grow[2], grow[3]], dtype=np.float32)
        return clip_box(box, image_size)


def _pick_pixels(region: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    rows, cols = np.nonzero(region)
    chosen = rng.integers(0, rows.size, size=count)
    return np.stack([cols[chosen], rows[chosen]], axis=1).astype(np.float32)


def sample_points(mask: np.ndarray, rng: np.random.Generator, num_positive: int = 1,
                  num_negative: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points drawn uniformly from the mask (label 1) and from the background (label 0).

    Returns (coords (P, 2) as x, y; labels (P,)). If the mask covers the whole image, the
    negative points become padding points (label -1 at 0, 0), which SAM ignores.
    """
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        raise ValueError("cannot sample positive points from an empty mask")
    coords = [_pick_pixels(mask, num_positive, rng)]
    labels = [np.ones(num_positive, dtype=np.int64)]
    if num_negative:
        if (~mask).any():
            coords.append(_pick_pixels(~mask, num_negative, rng))
            labels.append(np.zeros(num_negative, dtype=np.int64))
        else:
            coords.append(np.zeros((num_negative, 2), dtype=np.float32))
            labels.append(np.full(num_negative, PADDING_LABEL, dtype=np.int64))
    return np.concatenate(coords), np.concatenate(labels)


def region_centre(region: np.ndarray) -> tuple[float, float]:
    """The pixel of `region` farthest from its border (image edges count as border), as (x, y)."""
    distance = ndimage.distance_transform_edt(np.pad(region, 1))[1:-1, 1:-1]
    row, col = np.unravel_index(int(np.argmax(distance)), distance.shape)
    return float(col), float(row)


def next_click(prediction: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, int] | None:
    """The corrective click an annotator would make after `prediction`, or None if it is perfect.

    The click goes to the centre (see `region_centre`) of the largest 8-connected error region:
    positive (1) in a missed region (false negative), negative (0) in a spurious one (false
    positive).
    """
    prediction, target = np.asarray(prediction, dtype=bool), np.asarray(target, dtype=bool)
    best_size, best_region, best_label = 0, None, 0
    for error, label in ((target & ~prediction, 1), (prediction & ~target, 0)):
        if not error.any():
            continue
        region = largest_component(error)
        size = int(region.sum())
        if size > best_size:
            best_size, best_region, best_label = size, region, label
    if best_region is None:
        return None
    return np.array(region_centre(best_region), dtype=np.float32), best_label
