"""Protocols: prompts made from constructed masks, click placement, one decoder call per round."""

from __future__ import annotations

import numpy as np
import pytest

from samunet_tune.eval.protocols import Protocol, run_protocol


class ScriptedPredictor:
    """Stands in for SamUNetPredictor: returns scripted masks, records every predict call."""

    def __init__(self, rounds: list[np.ndarray]) -> None:
        self.rounds = rounds  # (K, H, W) per call
        self.calls: list[dict] = []

    def predict(self, box=None, points=None, point_labels=None, mask_input=None):
        self.calls.append({"box": box, "points": points, "labels": point_labels, "mask_input": mask_input})
        masks = self.rounds[min(len(self.calls) - 1, len(self.rounds) - 1)]
        return masks, np.full((len(masks), 8, 8), float(len(self.calls)), dtype=np.float32)


def square(shape, top, left, size) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[top : top + size, left : left + size] = True
    return mask


@pytest.mark.parametrize(("text", "name", "count"), [("box", "box", 1), ("point", "point", 1), ("points:3", "points:3", 3),
                                                     ("clicks:5", "clicks:5", 5), (" clicks : 2 ", "clicks:2", 2)])
def test_protocol_names_parse(text, name, count):
    protocol = Protocol.parse(text)
    assert protocol.name == name and protocol.count == count


@pytest.mark.parametrize("text", ["boxes", "clicks", "points:0", "box:2", "clicks:-1", ""])
def test_bad_protocol_names_are_refused_with_the_syntax(text):
    with pytest.raises(ValueError, match="box, point, points:K or clicks:N|count|takes no count"):
        Protocol.parse(text)


def test_box_protocol_is_one_call_with_the_tight_box_of_the_largest_component():
    shape = (40, 50)
    big = square(shape, 5, 6, 10)
    big[30:32, 40:42] = True  # a smaller second component the box must ignore
    small = square(shape, 20, 30, 4)
    predictor = ScriptedPredictor([np.stack([big, small])])
    results = run_protocol(predictor, Protocol("box"), [big, small])
    assert len(predictor.calls) == 1  # every mask of the image in one decoder call
    np.testing.assert_array_equal(predictor.calls[0]["box"], [[6, 5, 15, 14], [30, 20, 33, 23]])
    np.testing.assert_array_equal(results[0].box, [6, 5, 15, 14])
    assert results[0].mask is not None and results[1].rounds == []


def test_point_protocol_clicks_the_centre_of_the_largest_component():
    target = square((40, 40), 10, 4, 9)  # rows 10..18, cols 4..12: centre (8, 14)
    predictor = ScriptedPredictor([target[None]])
    run_protocol(predictor, Protocol("point"), [target])
    np.testing.assert_array_equal(predictor.calls[0]["points"], [[[8, 14]]])
    np.testing.assert_array_equal(predictor.calls[0]["labels"], [[1]])
    assert predictor.calls[0]["box"] is None


def test_points_protocol_draws_k_points_inside_the_mask_reproducibly():
    target = square((30, 30), 3, 3, 6)
    first, second = ScriptedPredictor([target[None]]), ScriptedPredictor([target[None]])
    run_protocol(first, Protocol("points", 4, seed=7), [target], sample_id="img")
    run_protocol(second, Protocol("points", 4, seed=7), [target], sample_id="img")
    points = first.calls[0]["points"][0]
    assert points.shape == (4, 2) and target[points[:, 1].astype(int), points[:, 0].astype(int)].all()
    np.testing.assert_array_equal(points, second.calls[0]["points"][0])


def test_clicks_land_at_the_centre_of_the_largest_error_region_with_the_right_sign():
    shape = (60, 60)
    target = square(shape, 10, 10, 21)  # rows/cols 10..30
    missed = target.copy()
    missed[22:31, 22:31] = False  # false negative: rows/cols 22..30 -> centre (26, 26)
    spurious = target | square(shape, 40, 40, 15)  # false positive rows/cols 40..54 -> centre (47, 47)
    perfect = target.copy()
    predictor = ScriptedPredictor([missed[None], spurious[None], perfect[None], perfect[None]])
    (result,) = run_protocol(predictor, Protocol("clicks", 3), [target])

    assert len(predictor.calls) == 4  # round 0 (box) + 3 correction rounds
    first, second, third = predictor.calls[1], predictor.calls[2], predictor.calls[3]
    np.testing.assert_array_equal(first["points"], [[[26, 26]]])
    np.testing.assert_array_equal(first["labels"], [[1]])  # missed region: positive click
    np.testing.assert_array_equal(second["points"], [[[26, 26], [47, 47]]])
    np.testing.assert_array_equal(second["labels"], [[1, 0]])  # spurious region: negative click
    np.testing.assert_array_equal(third["labels"], [[1, 0, -1]])  # perfect: a padding click
    for call in predictor.calls[1:]:
        np.testing.assert_array_equal(call["box"], [[10, 10, 30, 30]])  # the box stays
        assert call["mask_input"] is not None  # the previous logits are fed back
    assert predictor.calls[2]["mask_input"][0, 0, 0] == 2.0  # ... from the call just before
    assert len(result.rounds) == 4  # the curve has N + 1 points, round 0 = box only
    np.testing.assert_array_equal(result.rounds[0], missed)
    np.testing.assert_array_equal(result.mask, perfect)


def test_the_larger_error_region_wins_whatever_its_sign():
    shape = (50, 50)
    target = square(shape, 5, 5, 20)
    prediction = target.copy()
    prediction[5:8, 5:25] = False  # 60 missed pixels
    prediction |= square(shape, 30, 30, 10)  # 100 spurious pixels: the click goes here, negative
    predictor = ScriptedPredictor([prediction[None], target[None]])
    run_protocol(predictor, Protocol("clicks", 1), [target])
    assert predictor.calls[1]["labels"].tolist() == [[0]]
    x, y = predictor.calls[1]["points"][0, 0]
    assert 30 <= x <= 39 and 30 <= y <= 39


def test_batch_prompts_splits_an_image_s_masks_into_chunks():
    shape = (20, 20)
    targets = [square(shape, i, i, 3) for i in range(5)]
    predictor = ScriptedPredictor([np.stack(targets[:2])])
    predictor.rounds = [np.stack(targets[:2]), np.stack(targets[2:4]), np.stack(targets[4:])]
    results = run_protocol(predictor, Protocol("box"), targets, batch_prompts=2)
    assert [len(call["box"]) for call in predictor.calls] == [2, 2, 1] and len(results) == 5
