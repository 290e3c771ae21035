"""Prompt simulation: boxes, jitter statistics, points and corrective clicks match their settings."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from samunet_tune.data.prompts import (PADDING_LABEL, BoxJitter, box_from_mask, largest_component, next_click,
                                       sample_points)

DRAWS = 20_000


def square_mask(shape=(100, 120), top=30, left=40, height=40, width=40) -> np.ndarray:
    mask = np.zeros(shape, bool)
    mask[top : top + height, left : left + width] = True
    return mask


def test_box_of_the_largest_component_with_inclusive_maxima():
    mask = square_mask()
    mask[2:5, 2:5] = True  # a small separate blob is ignored
    assert box_from_mask(mask).tolist() == [40, 30, 79, 69]


def test_components_are_eight_connected():
    mask = np.zeros((20, 20), bool)
    mask[2:6, 2:6] = True
    mask[6:12, 6:12] = True  # touches the first square only at a corner: one region under 8-connectivity
    assert largest_component(mask).sum() == 16 + 36
    assert box_from_mask(mask).tolist() == [2, 2, 11, 11]


def jitter_offsets(jitter: BoxJitter, box: np.ndarray, image_size=(100, 120), seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([jitter(box, image_size, rng) - box for _ in range(DRAWS)])


def test_spec_jitter_is_one_uniform_integer_per_axis_in_minus_m_to_m():
    box = box_from_mask(square_mask())  # 39 x 39: m = min(5, int(0.5 * 39)) = 5
    jitter = BoxJitter()
    assert jitter.spec_limit(box) == 5
    offsets = jitter_offsets(jitter, box)
    assert np.array_equal(offsets[:, 0], offsets[:, 2]) and np.array_equal(offsets[:, 1], offsets[:, 3])  # both corners
    for axis in (0, 1):
        values, counts = np.unique(offsets[:, axis], return_counts=True)
        assert values.tolist() == list(range(-5, 5))  # [-m, m): -5 .. 4, never 5, never outside
        assert stats.chisquare(counts).pvalue > 1e-3  # uniform
    assert abs(np.corrcoef(offsets[:, 0], offsets[:, 1])[0, 1]) < 0.05  # x and y drawn independently


@pytest.mark.parametrize("width,height,limit", [(4, 10, 2), (9, 30, 4), (1, 20, 0), (300, 200, 5)])
def test_spec_jitter_limit_follows_the_box_size(width, height, limit):
    box = np.array([100, 100, 100 + width, 100 + height], np.float32)
    jitter = BoxJitter()
    assert jitter.spec_limit(box) == limit
    offsets = jitter_offsets(jitter, box, image_size=(1000, 1000))[:2000]
    assert offsets.min() >= -limit and offsets.max() <= max(limit - 1, 0)
    if limit:
        assert offsets.min() == -limit and offsets.max() == limit - 1


def test_jittered_boxes_are_clipped_to_the_image():
    box = np.array([0, 0, 30, 30], np.float32)
    jittered = jitter_offsets(BoxJitter(), box, image_size=(31, 31)) + box
    assert jittered.min() >= 0 and jittered[:, [0, 2]].max() <= 30 and jittered[:, [1, 3]].max() <= 30


def test_medsam_range_moves_each_side_outwards_independently():
    box = np.array([100, 100, 150, 160], np.float32)
    offsets = jitter_offsets(BoxJitter.medsam(20), box, image_size=(1000, 1000))
    grow = offsets * np.array([-1, -1, 1, 1])  # outwards is positive for every side
    for side in range(4):
        values, counts = np.unique(grow[:, side], return_counts=True)
        assert values.tolist() == list(range(0, 21))  # 0-20 px, both ends included
        assert stats.chisquare(counts).pvalue > 1e-3
    assert np.abs(np.corrcoef(grow.T) - np.eye(4)).max() < 0.05


def test_no_jitter_gives_the_tight_box():
    box = box_from_mask(square_mask())
    assert np.array_equal(BoxJitter(mode="none")(box, (100, 120), np.random.default_rng(0)), box)


def test_points_fall_inside_and_outside_the_mask_and_cover_it():
    mask = square_mask(height=10, width=10)
    rng = np.random.default_rng(0)
    coords, labels = sample_points(mask, rng, num_positive=3000, num_negative=3000)
    cols, rows = coords[:, 0].astype(int), coords[:, 1].astype(int)
    assert mask[rows[labels == 1], cols[labels == 1]].all()
    assert not mask[rows[labels == 0], cols[labels == 0]].any()
    inside = set(zip(rows[labels == 1].tolist(), cols[labels == 1].tolist()))
    assert len(inside) == 100  # every mask pixel is reachable
    assert labels.tolist().count(1) == 3000 and labels.tolist().count(0) == 3000


def test_negative_points_pad_when_there_is_no_background():
    coords, labels = sample_points(np.ones((8, 8), bool), np.random.default_rng(0), 1, 2)
    assert labels.tolist() == [1, PADDING_LABEL, PADDING_LABEL]
    with pytest.raises(ValueError, match="empty mask"):
        sample_points(np.zeros((8, 8), bool), np.random.default_rng(0))


def test_click_goes_to_the_centre_of_the_largest_missed_region():
    target = square_mask(shape=(80, 80), top=10, left=10, height=50, width=50)
    prediction = target.copy()
    prediction[20:31, 20:31] = False  # an 11 x 11 hole missed: centre (x=25, y=25)
    prediction[70:73, 70:73] = True  # a 3 x 3 spurious blob: smaller
    point, label = next_click(prediction, target)
    assert label == 1 and point.tolist() == [25.0, 25.0]


def test_click_goes_to_the_centre_of_the_largest_spurious_region():
    target = square_mask(shape=(80, 80), top=10, left=10, height=30, width=30)
    prediction = target.copy()
    prediction[20:23, 20:23] = False  # a 3 x 3 miss: smaller
    prediction[50:65, 55:70] = True  # a 15 x 15 false positive: centre (x=62, y=57)
    point, label = next_click(prediction, target)
    assert label == 0 and point.tolist() == [62.0, 57.0]


def test_click_at_the_image_edge_stays_away_from_the_edge():
    target = np.zeros((40, 40), bool)
    target[:, :9] = True  # a 9-pixel-wide strip along the left edge, entirely missed
    point, label = next_click(np.zeros_like(target), target)
    assert label == 1 and point[0] == 4.0  # the middle column of the strip, not column 0


def test_no_click_when_the_prediction_is_perfect():
    mask = square_mask()
    assert next_click(mask, mask) is None


def test_tight_boxes_agree_with_the_published_kvasir_boxes(kvasir_root):
    """Kvasir-SEG ships its own bounding boxes: ours, from the thresholded JPEG masks, match them."""
    import json

    from samunet_tune.data import build_dataset

    published = json.loads((kvasir_root / "kavsir_bboxes.json").read_text())
    dataset = build_dataset("kvasir-seg", root=kvasir_root)
    errors = []
    for index in range(0, len(dataset), 4):
        sample = dataset[index]
        entry = published[sample.sample_id]
        assert (entry["height"], entry["width"]) == sample.size
        if len(entry["bbox"]) == 1:  # one polyp: one box to compare with
            box = entry["bbox"][0]
            reference = np.array([box["xmin"], box["ymin"], box["xmax"], box["ymax"]])
            errors.append(np.abs(box_from_mask(sample.masks[0].mask) - reference).max())
    assert len(errors) >= 40
    assert np.mean(np.array(errors) <= 2) >= 0.9


def test_recipe_values_become_jitter_settings():
    assert BoxJitter.from_options("spec") == BoxJitter()
    assert BoxJitter.from_options("medsam") == BoxJitter(mode="range", pixel_range=(0, 20))
    assert BoxJitter.from_options(None).mode == "none" == BoxJitter.from_options("none").mode
    assert BoxJitter.from_options({"mode": "range", "pixel_range": [0, 10]}).pixel_range == (0, 10)
    with pytest.raises(ValueError, match="jitter='wobbly'"):
        BoxJitter.from_options("wobbly")
