"""Our metrics against MONAI's on seeded random blobs, 2D and 3D, isotropic and anisotropic."""

from __future__ import annotations

import math

import numpy as np
import pytest

from samunet_tune.eval.metrics import dice, hd95, iou, mask_metrics, nsd

# (shape, spacing, smoothness): a few sizes, both anisotropy directions, fine and coarse blobs.
# NSD tolerances are chosen off the lattice of possible pixel distances, so float32 (MONAI) and
# float64 (ours) distances cannot land on different sides of "d <= tolerance".
CASES = [
    ((64, 64), (1.0, 1.0), 3.0),
    ((48, 80), (0.7, 1.3), 3.0),
    ((57, 33), (1.3, 0.7), 1.5),
    ((96, 72), (0.5, 0.5), 5.0),
    ((20, 24, 28), (2.0, 0.8, 0.8), 2.0),
]
TOLERANCES_MM = (1.05, 2.6)


@pytest.mark.parametrize("shape, spacing, smoothness", CASES, ids=[str(case[0]) for case in CASES])
def test_random_blobs_match_monai(blob, monai_oracle, shape, spacing, smoothness):
    for seed in range(3):
        target = blob(shape, seed, smoothness=smoothness)
        unrelated = blob(shape, seed + 1000, smoothness=smoothness)  # surfaces far apart
        close = blob(shape, seed, foreground_fraction=0.27, smoothness=smoothness)  # surfaces 0-2 px apart
        for pred in (unrelated, close):
            assert dice(pred, target) == pytest.approx(monai_oracle.dice(pred, target), abs=1e-6)
            assert iou(pred, target) == pytest.approx(monai_oracle.iou(pred, target), abs=1e-6)
            # MONAI returns float32; the definitions are identical, so only rounding differs.
            assert hd95(pred, target, spacing) == pytest.approx(
                monai_oracle.hd95(pred, target, spacing), rel=1e-5
            )
            for tolerance in TOLERANCES_MM:
                assert nsd(pred, target, tolerance, spacing) == pytest.approx(
                    monai_oracle.nsd(pred, target, tolerance, spacing), abs=1e-6
                )


def test_mask_metrics_equals_the_single_functions(blob):
    pred, target = blob((40, 50), 1), blob((40, 50), 2)
    spacing = (0.7, 1.3)
    assert mask_metrics(pred, target, 2.0, spacing) == {
        "dice": dice(pred, target),
        "iou": iou(pred, target),
        "hd95": hd95(pred, target, spacing),
        "nsd": nsd(pred, target, 2.0, spacing),
    }


NAN, INF = math.nan, math.inf

# case -> (ours, MONAI's), each (dice, iou, hd95, nsd). Where they differ, ours is on purpose:
# - target empty, prediction not: MONAI's dice/iou (ignore_empty=True) call any empty reference
#   undefined; we score the false positive 0, since it is a real error a mean must show.
# - one mask empty: MONAI's hd95 is NaN only because torch.quantile of all-inf distances is NaN;
#   we return inf, the distance to a surface that is not there, and the aggregation counts it.
EMPTY_CASES = {
    "both empty": ((NAN, NAN, NAN, NAN), (NAN, NAN, NAN, NAN)),
    "prediction empty": ((0.0, 0.0, INF, 0.0), (0.0, 0.0, NAN, 0.0)),
    "target empty": ((0.0, 0.0, INF, 0.0), (NAN, NAN, NAN, 0.0)),
}


def _empty_case_masks(case: str) -> tuple[np.ndarray, np.ndarray]:
    empty = np.zeros((24, 30), dtype=bool)
    square = empty.copy()
    square[5:12, 8:20] = True
    pairs = {"both empty": (empty, empty), "prediction empty": (empty, square), "target empty": (square, empty)}
    return pairs[case]


def _same(actual: float, expected: float) -> bool:
    return (math.isnan(actual) and math.isnan(expected)) or actual == expected


@pytest.mark.parametrize("case", list(EMPTY_CASES))
def test_empty_cases_follow_the_documented_table(monai_oracle, case):
    pred, target = _empty_case_masks(case)
    spacing = (0.7, 1.3)
    expected_ours, expected_monai = EMPTY_CASES[case]
    ours = (dice(pred, target), iou(pred, target), hd95(pred, target, spacing), nsd(pred, target, 1.0, spacing))
    monai = (
        monai_oracle.dice(pred, target),
        monai_oracle.iou(pred, target),
        monai_oracle.hd95(pred, target, spacing),
        monai_oracle.nsd(pred, target, 1.0, spacing),
    )
    assert all(map(_same, ours, expected_ours)), f"ours {ours} != documented {expected_ours}"
    # If this fails, MONAI changed its empty-mask behaviour: update the table and docs/metrics.md.
    assert all(map(_same, monai, expected_monai)), f"MONAI {monai} != recorded {expected_monai}"


def test_both_empty_score_is_opt_in():
    empty = np.zeros((8, 8), dtype=bool)
    assert dice(empty, empty, score_if_both_empty=1.0) == 1.0
    assert iou(empty, empty, score_if_both_empty=1.0) == 1.0
    assert nsd(empty, empty, 1.0, score_if_both_empty=1.0) == 1.0
    assert math.isnan(mask_metrics(empty, empty, 1.0)["dice"])
