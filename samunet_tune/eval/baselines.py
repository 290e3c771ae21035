"""The two trivial baselines every report shows next to the model: the box filled, and its ellipse.

A box prompt already says where the object is; a model that scores no better than painting the
box (or the ellipse inscribed in it) has learnt nothing from the image. Both baselines take the
same box the model was prompted with.

Box convention: ``(x0, y0, x1, y1)`` in pixel indices, ``x`` the column and ``y`` the row, with
``x1, y1`` the *inclusive* last column and row, i.e. the box of a mask is
``(cols.min(), rows.min(), cols.max(), rows.max())``. The box covers the pixels
``mask[y0:y1 + 1, x0:x1 + 1]``, a region ``x1 - x0 + 1`` pixels wide.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["box_fill_mask", "inscribed_ellipse_mask", "BASELINES"]


def _checked_box(box: Sequence[float], shape: Sequence[int]) -> tuple[int, int, int, int]:
    if len(shape) != 2:
        raise ValueError(f"image shape must be (rows, cols), got {tuple(shape)}")
    if len(box) != 4:
        raise ValueError(f"box must be (x0, y0, x1, y1), got {tuple(box)}")
    if any(float(value) != int(value) for value in box):
        raise ValueError(f"box {tuple(box)} must hold whole pixel indices (x1, y1 inclusive)")
    x0, y0, x1, y1 = (int(value) for value in box)
    rows, cols = int(shape[0]), int(shape[1])
    if not (0 <= x0 <= x1 < cols and 0 <= y0 <= y1 < rows):
        raise ValueError(
            f"box (x0={x0}, y0={y0}, x1={x1}, y1={y1}) does not fit an image of {rows} rows x {cols} cols; "
            "need 0 <= x0 <= x1 < cols and 0 <= y0 <= y1 < rows (x1, y1 are inclusive)"
        )
    return x0, y0, x1, y1


def box_fill_mask(box: Sequence[float], shape: Sequence[int]) -> np.ndarray:
    """Every pixel of the box, as a bool mask of ``shape``.

    Args:
        box: ``(x0, y0, x1, y1)`` with inclusive ``x1, y1`` (module docstring).
        shape: image shape ``(rows, cols)``.
    """
    x0, y0, x1, y1 = _checked_box(box, shape)
    mask = np.zeros((int(shape[0]), int(shape[1])), dtype=bool)
    mask[y0 : y1 + 1, x0 : x1 + 1] = True
    return mask


def inscribed_ellipse_mask(box: Sequence[float], shape: Sequence[int]) -> np.ndarray:
    """The pixels whose centres lie in the ellipse inscribed in the box, as a bool mask of ``shape``.

    The ellipse touches the outer edges of the box's pixels: centre ``((x0 + x1) / 2, (y0 + y1) / 2)``,
    semi-axes ``(x1 - x0 + 1) / 2`` and ``(y1 - y0 + 1) / 2``, so its area is ``π/4`` of the box's
    pixel count and every selected pixel is inside the box. Never empty: the centre pixel is in.

    Args:
        box: ``(x0, y0, x1, y1)`` with inclusive ``x1, y1`` (module docstring).
        shape: image shape ``(rows, cols)``.
    """
    x0, y0, x1, y1 = _checked_box(box, shape)
    width, height = x1 - x0 + 1, y1 - y0 + 1
    # In doubled coordinates u = 2x - (x0 + x1), v = 2y - (y0 + y1) the test
    # (u / width)^2 + (v / height)^2 <= 1 becomes exact integer arithmetic, so pixels lying
    # exactly on the ellipse (e.g. 3-4-5 triangles in a square box) are always kept, never lost
    # to rounding.
    u = 2 * np.arange(x0, x1 + 1, dtype=np.int64) - (x0 + x1)
    v = 2 * np.arange(y0, y1 + 1, dtype=np.int64) - (y0 + y1)
    inside = (u[None, :] * height) ** 2 + (v[:, None] * width) ** 2 <= (width * height) ** 2
    mask = np.zeros((int(shape[0]), int(shape[1])), dtype=bool)
    mask[y0 : y1 + 1, x0 : x1 + 1] = inside
    return mask


BASELINES: dict[str, Callable[[Sequence[float], Sequence[int]], np.ndarray]] = {
    "box_fill": box_fill_mask,
    "inscribed_ellipse": inscribed_ellipse_mask,
}
"""Name -> function(box, shape) for each baseline, in the order reports list them."""
