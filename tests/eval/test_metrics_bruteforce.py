"""HD95 and NSD against a brute-force computation that shares no code with MONAI or our module.

The reference (the ``brute_force`` fixture in conftest.py) finds boundary pixels by looking at the
four neighbours directly (no erosion) and measures every pairwise distance between boundary points
with scipy's cdist (no distance transform).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from samunet_tune.eval.metrics import boundary, dice, hd95, iou, nsd


@pytest.mark.parametrize("shape", [(16, 16), (23, 31), (40, 12)])
@pytest.mark.parametrize("spacing", [(1.0, 1.0), (0.7, 1.3), (2.0, 0.5)])
def test_hd95_and_nsd_match_brute_force(blob, brute_force, shape, spacing):
    for seed in range(4):
        pred = blob(shape, seed, foreground_fraction=0.35, smoothness=1.5)
        target = blob(shape, seed + 50, foreground_fraction=0.25, smoothness=1.5)
        np.testing.assert_array_equal(boundary(pred), brute_force.boundary(pred))
        expected_hd95 = brute_force.hd95(pred, target, spacing)
        assert hd95(pred, target, spacing) == pytest.approx(expected_hd95, rel=1e-12)
        # Tolerance a hair above a lattice distance, so exact ties cannot flip with rounding.
        tolerance = 2.0 * max(spacing) + 1e-9
        assert nsd(pred, target, tolerance, spacing) == pytest.approx(
            brute_force.nsd(pred, target, tolerance, spacing), abs=1e-12
        )


def test_masks_touching_the_image_border_keep_their_border_pixels_as_boundary(brute_force):
    # The crop to the union of both masks must not change which pixels are boundary pixels.
    full_rows = np.zeros((12, 10), dtype=bool)
    full_rows[:4] = True
    shifted = np.zeros_like(full_rows)
    shifted[2:7, 3:] = True
    unit = (1.0, 1.0)
    assert hd95(full_rows, shifted, unit) == pytest.approx(brute_force.hd95(full_rows, shifted, unit))
    assert nsd(full_rows, shifted, 1.0) == pytest.approx(brute_force.nsd(full_rows, shifted, 1.0 + 1e-9, unit))


def test_single_pixels_give_the_euclidean_distance_in_millimetres():
    pred = np.zeros((20, 20), dtype=bool)
    target = np.zeros_like(pred)
    pred[2, 3] = True
    target[5, 7] = True  # 3 rows and 4 columns away
    assert hd95(pred, target) == pytest.approx(5.0)
    assert hd95(pred, target, spacing=(2.0, 1.0)) == pytest.approx(math.hypot(6.0, 4.0))
    assert nsd(pred, target, tolerance_mm=5.0) == 1.0  # inclusive: d <= tolerance
    assert nsd(pred, target, tolerance_mm=4.99) == 0.0


def test_identical_masks_score_perfectly_and_metrics_are_symmetric(blob):
    a, b = blob((30, 30), 7), blob((30, 30), 8)
    assert (dice(a, a), iou(a, a), hd95(a, a), nsd(a, a, 0.0)) == (1.0, 1.0, 0.0, 1.0)
    assert dice(a, b) == dice(b, a)
    assert hd95(a, b, (0.7, 1.3)) == hd95(b, a, (0.7, 1.3))
    assert nsd(a, b, 1.5, (0.7, 1.3)) == nsd(b, a, 1.5, (0.7, 1.3))


def test_dice_and_iou_by_hand():
    pred = np.zeros((4, 4), dtype=bool)
    target = np.zeros_like(pred)
    pred[0, :3] = True  # 3 pixels
    target[0, 1:] = True  # 3 pixels, 2 shared
    assert dice(pred, target) == pytest.approx(4 / 6)
    assert iou(pred, target) == pytest.approx(2 / 4)


def test_mask_encodings_are_equivalent(blob):
    a, b = blob((25, 25), 3), blob((25, 25), 4)
    as_255 = a.astype(np.uint8) * 255
    as_float = b.astype(np.float32)
    assert dice(as_255, as_float) == dice(a, b)
    assert hd95(as_255, as_float) == hd95(a, b)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda m: dice(m * 0.6, m), "probabilities"),
        (lambda m: dice(m, m[:-1]), "shape"),
        (lambda m: hd95(m, m, spacing=(1.0, 1.0, 1.0)), "spacing"),
        (lambda m: hd95(m, m, spacing=(1.0, 0.0)), "positive"),
        (lambda m: nsd(m, m, tolerance_mm=-1.0), "tolerance"),
        (lambda m: iou(m[0], m[0]), "2D or 3D"),
    ],
)
def test_bad_input_says_what_is_wrong(call, message):
    mask = np.ones((6, 6), dtype=np.float64)
    with pytest.raises(ValueError, match=message):
        call(mask)
