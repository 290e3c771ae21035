"""The box-fill and inscribed-ellipse baselines, on real Kvasir masks and on synthetic boxes.

Each baseline's Dice is recomputed here without the baseline functions: the box from slice
arithmetic and the box's known area, the ellipse row by row from an integer square root.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

from samunet_tune.eval.baselines import BASELINES, box_fill_mask, inscribed_ellipse_mask
from samunet_tune.eval.metrics import dice

pytestmark = pytest.mark.shared_data  # most tests use real masks; the synthetic ones run anyway


def largest_component_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1), inclusive, of the largest 8-connected component: the reference's box prompt."""
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    sizes = ndimage.sum_labels(mask, labels, index=range(1, count + 1))
    rows, cols = np.nonzero(labels == 1 + int(np.argmax(sizes)))
    return int(cols.min()), int(rows.min()), int(cols.max()), int(rows.max())


def ellipse_rows(box: tuple[int, int, int, int]) -> dict[int, tuple[int, int]]:
    """Row -> inclusive column range of the inscribed ellipse, from the half-width on each row.

    In doubled coordinates u = 2x - (x0 + x1), v = 2y - (y0 + y1) the ellipse is
    u^2 H^2 + v^2 W^2 <= W^2 H^2, so on row v the largest |u| is isqrt(W^2 (H^2 - v^2) // H^2),
    lowered by one when its parity cannot occur (u always has the parity of x0 + x1).
    """
    x0, y0, x1, y1 = box
    width, height = x1 - x0 + 1, y1 - y0 + 1
    ranges = {}
    for y in range(y0, y1 + 1):
        v = 2 * y - (y0 + y1)
        u_max = math.isqrt(width**2 * (height**2 - v**2) // height**2)
        if (u_max - (x0 + x1)) % 2:
            u_max -= 1
        if u_max >= 0:
            ranges[y] = ((x0 + x1 - u_max) // 2, (x0 + x1 + u_max) // 2)
    return ranges



def test_box_fill_dice_on_kvasir_equals_the_area_formula(kvasir_masks):
    for name, mask in kvasir_masks(20):
        x0, y0, x1, y1 = largest_component_box(mask)
        box_area = (x1 - x0 + 1) * (y1 - y0 + 1)
        overlap = int(mask[y0 : y1 + 1, x0 : x1 + 1].sum())
        expected = 2 * overlap / (int(mask.sum()) + box_area)
        box_fill = box_fill_mask((x0, y0, x1, y1), mask.shape)
        assert dice(box_fill, mask) == pytest.approx(expected, abs=1e-12), name


def test_ellipse_dice_on_kvasir_equals_the_row_by_row_count(kvasir_masks):
    for name, mask in kvasir_masks(20):
        box = largest_component_box(mask)
        rows = ellipse_rows(box)
        ellipse_area = sum(last - first + 1 for first, last in rows.values())
        overlap = sum(int(mask[y, first : last + 1].sum()) for y, (first, last) in rows.items())
        expected = 2 * overlap / (int(mask.sum()) + ellipse_area)
        ellipse = inscribed_ellipse_mask(box, mask.shape)
        assert dice(ellipse, mask) == pytest.approx(expected, abs=1e-12), name


def test_ellipse_is_inscribed_in_kvasir_boxes(kvasir_masks):
    for name, mask in kvasir_masks(20):
        box = x0, y0, x1, y1 = largest_component_box(mask)
        ellipse = inscribed_ellipse_mask(box, mask.shape)
        assert not (ellipse & ~box_fill_mask(box, mask.shape)).any(), f"{name}: ellipse leaves its box"
        rows, cols = np.nonzero(ellipse)
        if min(x1 - x0, y1 - y0) >= 10:  # tangent to all four sides unless the box is a sliver
            assert (cols.min(), rows.min(), cols.max(), rows.max()) == box, name


BOXES = [(0, 0, 99, 99), (10, 20, 209, 79), (5, 3, 64, 204), (100, 40, 131, 71), (7, 9, 256, 58)]


@pytest.mark.parametrize("box", BOXES)
def test_ellipse_area_is_close_to_pi_over_four_of_the_box(box):
    x0, y0, x1, y1 = box
    width, height = x1 - x0 + 1, y1 - y0 + 1
    area = int(inscribed_ellipse_mask(box, (300, 300)).sum())
    assert area == pytest.approx(math.pi / 4 * width * height, rel=0.02)
    assert area == sum(last - first + 1 for first, last in ellipse_rows(box).values())


def test_small_boxes_are_never_empty_and_a_rectangle_fills_its_own_box():
    for box in [(3, 4, 3, 4), (3, 4, 4, 4), (0, 0, 1, 7), (2, 2, 4, 3)]:
        assert inscribed_ellipse_mask(box, (10, 10)).any(), box
    rectangle = np.zeros((30, 40), dtype=bool)
    rectangle[5:12, 8:31] = True  # rows 5..11, cols 8..30
    assert largest_component_box(rectangle) == (8, 5, 30, 11)
    assert dice(box_fill_mask((8, 5, 30, 11), rectangle.shape), rectangle) == 1.0


@pytest.mark.parametrize(
    "box, message",
    [
        ((0, 0, 10, 5), "does not fit"),  # x1 = 10 is one past the last column of a 10-wide image
        ((4, 0, 3, 5), "does not fit"),
        ((-1, 0, 3, 3), "does not fit"),
        ((0, 0, 2.5, 3), "whole pixel"),
        ((0, 0, 3), "x0, y0, x1, y1"),
    ],
)
def test_bad_boxes_are_rejected_with_the_convention(box, message):
    for baseline in BASELINES.values():
        with pytest.raises(ValueError, match=message):
            baseline(box, (8, 10))
