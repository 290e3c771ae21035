"""Metrics on real Kvasir-SEG polyp masks against shifted and eroded copies of themselves."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from samunet_tune.eval.metrics import dice, hd95, iou, nsd

pytestmark = pytest.mark.shared_data


def shifted(mask: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """The mask moved by (rows, cols), filling with background (no wrap-around)."""
    moved = np.zeros_like(mask)
    source = mask[max(0, -rows) : mask.shape[0] - max(0, rows), max(0, -cols) : mask.shape[1] - max(0, cols)]
    moved[max(0, rows) : max(0, rows) + source.shape[0], max(0, cols) : max(0, cols) + source.shape[1]] = source
    return moved


def eroded(mask: np.ndarray, iterations: int) -> np.ndarray:
    return ndimage.binary_erosion(mask, iterations=iterations)


@pytest.mark.parametrize("spacing", [(1.0, 1.0), (0.7, 1.3)])
def test_real_masks_match_monai(kvasir_masks, monai_oracle, spacing):
    for name, target in kvasir_masks(4):
        for pred in (shifted(target, 5, -7), eroded(target, 3), shifted(eroded(target, 2), -12, 4)):
            assert dice(pred, target) == pytest.approx(monai_oracle.dice(pred, target), abs=1e-6), name
            assert iou(pred, target) == pytest.approx(monai_oracle.iou(pred, target), abs=1e-6), name
            assert hd95(pred, target, spacing) == pytest.approx(
                monai_oracle.hd95(pred, target, spacing), rel=1e-5
            ), name
            # 2.05 and 4.1 mm sit off the lattice of pixel distances for both spacings (no ties).
            for tolerance in (2.05, 4.1):
                assert nsd(pred, target, tolerance, spacing) == pytest.approx(
                    monai_oracle.nsd(pred, target, tolerance, spacing), abs=1e-6
                ), name


def test_a_shifted_mask_is_within_the_shift(kvasir_masks):
    # A translation maps each boundary pixel to one exactly |shift| = 5 px away, so no directed
    # distance exceeds it; clipping at the image border would break that, hence the margin.
    checked = 0
    for name, target in kvasir_masks(12):
        rows, cols = np.nonzero(target)
        height, width = target.shape
        if min(rows.min(), cols.min()) < 10 or rows.max() >= height - 10 or cols.max() >= width - 10:
            continue
        pred = shifted(target, 3, -4)
        assert hd95(pred, target) <= 5.0 + 1e-9, name
        assert nsd(pred, target, tolerance_mm=5.0) == 1.0, name
        assert dice(pred, target) < 1.0
        checked += 1
    if checked == 0:
        pytest.skip("no mask clear of the image border among the first 12")


def test_erosion_lowers_every_score_monotonically(kvasir_masks):
    for name, target in kvasir_masks(3):
        preds = [eroded(target, k) for k in (1, 4, 10)]
        dices = [dice(pred, target) for pred in preds]
        surface_dices = [nsd(pred, target, tolerance_mm=2.5) for pred in preds]
        distances = [hd95(pred, target) for pred in preds]
        assert dices == sorted(dices, reverse=True), name
        assert surface_dices == sorted(surface_dices, reverse=True), name
        assert distances == sorted(distances), name


def test_real_mask_hd95_and_nsd_match_brute_force(kvasir_masks, brute_force):
    # The Kvasir check that does not lean on MONAI: all pairwise boundary distances (about 1500
    # boundary pixels a side on the smaller masks, so the distance matrix stays a few MB).
    spacing = (0.7, 1.3)
    masks = sorted(kvasir_masks(6), key=lambda item: item[1].sum())[:2]
    for name, target in masks:
        pred = shifted(eroded(target, 2), 6, 3)
        expected_hd95 = brute_force.hd95(pred, target, spacing)
        expected_nsd = brute_force.nsd(pred, target, 3.05, spacing)
        assert hd95(pred, target, spacing) == pytest.approx(expected_hd95, rel=1e-12), name
        assert nsd(pred, target, 3.05, spacing) == pytest.approx(expected_nsd, abs=1e-12), name
