"""From stored mask values to checked binary `MaskAnnotation`s, the same way for every plugin.

Two readings of a mask file or label array:

* binary (no ``classes`` map): one mask per file. 0/1 masks (maximum 1) are read as is, float
  masks in [0, 1] at 0.5, anything else (0/255, JPEG compression noise, 16-bit) at
  `threshold`; for colour masks the brightest channel counts, so a pure red mask is not lost.
* label (a ``classes`` map ``{value: name}``): one mask per label value present; 0 is
  background unless listed. A value outside the map is an "unknown class value" error.
  Label masks must be lossless (PNG, TIFF, NIfTI): JPEG noise invents values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np

from samunet_tune.data.errors import (
    BAD_LABEL,
    EMPTY_MASK,
    SIZE_MISMATCH,
    UNKNOWN_CLASS,
    DataError,
    ErrorPolicy,
)
from samunet_tune.data.image_files import read_mask_values
from samunet_tune.data.sample import MaskAnnotation


def normalize_classes(classes: Mapping[Any, str] | list[str] | None) -> dict[int, str] | None:
    """``{1: "liver"}`` (keys may be strings, as YAML gives them) or ``["liver", ...]`` (values
    1, 2, ...) -> ``{int: str}``."""
    if classes is None:
        return None
    if isinstance(classes, (list, tuple)):
        return {index + 1: str(name) for index, name in enumerate(classes)}
    try:
        return {int(float(value)): str(name) for value, name in dict(classes).items()}
    except (TypeError, ValueError) as error:
        raise ValueError(f"classes={classes!r}: expected a map of integer label values to class names") from error


def binary_mask(values: np.ndarray, threshold: float = 128) -> np.ndarray:
    """Stored mask values -> bool HxW (see the module docstring for the rule)."""
    values = np.asarray(values)
    if values.ndim == 3:
        values = values.max(axis=2)
    if values.dtype == np.bool_:
        return values
    maximum = values.max() if values.size else 0
    if np.issubdtype(values.dtype, np.floating) and maximum <= 1:
        return values >= 0.5
    if maximum <= 1:
        return values > 0
    return values >= threshold


def integer_labels(values: np.ndarray, path: str | Path) -> np.ndarray:
    """Label values (2D or 3D) as integers; float labels (BraTS stores float32) must be whole numbers."""
    values = np.asarray(values)
    if np.issubdtype(values.dtype, np.floating):
        rounded = np.rint(values)
        if not np.allclose(values, rounded, atol=1e-3):
            raise DataError(
                BAD_LABEL, path, "holds non-integer label values (a probability map?)",
                "threshold or argmax it into integer class ids first",
            )
        return rounded.astype(np.int32)
    return values  # already integers: no copy (label volumes can be large)


def unknown_class_error(path: str | Path, unknown: list[int], classes: Mapping[int, str]) -> DataError:
    return DataError(
        UNKNOWN_CLASS, path, f"has label value(s) {unknown} that are not in classes {dict(classes)}",
        "add them to the classes option (value: name), or pass on_error='skip' to drop those masks",
    )


def check_mask(mask: np.ndarray, image_size: tuple[int, int], path: str | Path) -> None:
    """Raise a DataError if `mask` does not match the image size or is empty."""
    if tuple(mask.shape[:2]) != tuple(image_size):
        raise DataError(
            SIZE_MISMATCH, path,
            f"mask is {mask.shape[0]}x{mask.shape[1]} but its image is {image_size[0]}x{image_size[1]}",
            "pair the mask with the right image (check the name pattern) or resize it with nearest-neighbour",
        )
    if not mask.any():
        raise DataError(EMPTY_MASK, path, "mask has no foreground pixel",
                        "remove the file, or check the threshold option")


def masks_from_values(
    values: np.ndarray,
    *,
    image_size: tuple[int, int],
    path: str | Path,
    policy: ErrorPolicy,
    classes: Mapping[int, str] | None = None,
    threshold: float = 128,
    class_name: str = "foreground",
    source: str | None = None,
) -> list[MaskAnnotation]:
    """Checked masks from stored values; bad masks are raised or skipped by `policy`."""
    source = source or str(path)
    try:
        if tuple(np.shape(values)[:2]) != tuple(image_size):
            check_mask(np.asarray(values), image_size, path)  # raises the size mismatch
        if classes is None:
            mask = binary_mask(values, threshold)
            check_mask(mask, image_size, path)
            return [MaskAnnotation(mask, class_name, source)]
        values = np.asarray(values)
        if values.ndim == 3:  # colour label images are fine when grey (channels equal)
            if not (values == values[..., :1]).all():
                raise DataError(
                    BAD_LABEL, path, "is a colour-coded label image (channels differ)",
                    "save labels as a single-channel or palette image whose values are class ids",
                )
            values = values[..., 0]
        labels = integer_labels(values, path)
        present = [int(value) for value in np.unique(labels) if value in classes or value != 0]
        unknown = [value for value in present if value not in classes]
        if unknown:
            policy.handle(unknown_class_error(path, unknown, classes), warn_now=True)
        known = [value for value in present if value in classes]
        if not known:
            check_mask(np.zeros(image_size, dtype=bool), image_size, path)  # raises "empty"
        return [MaskAnnotation(labels == value, classes[value], f"{source} (label {value})") for value in known]
    except DataError as error:
        policy.handle(error, warn_now=True)
        return []


def masks_from_file(path: str | Path, *, image_size: tuple[int, int], policy: ErrorPolicy,
                    **options: Any) -> list[MaskAnnotation]:
    """Decode a mask file and turn it into checked masks (see `masks_from_values`)."""
    try:
        values = read_mask_values(path)
    except DataError as error:
        policy.handle(error, warn_now=True)
        return []
    return masks_from_values(values, image_size=image_size, path=path, policy=policy, **options)
