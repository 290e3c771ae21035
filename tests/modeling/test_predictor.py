"""SamUNetPredictor: original-size masks, one encode per image, box checks."""

import numpy as np
import pytest
import torch

from samunet_tune import Prompts, SamUNetPredictor
from samunet_tune.modeling.transforms import postprocess_logits, preprocess_image, scale_boxes


@pytest.fixture
def predictor(tiny_model):
    return SamUNetPredictor(tiny_model)


@pytest.fixture
def image():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(180, 310, 3), dtype=np.uint8)


def test_mask_at_original_size_for_non_square_image(predictor, image):
    predictor.set_image(image)
    mask, logits = predictor.predict(box=[20, 30, 200, 150])
    assert mask.shape == (180, 310) and mask.dtype == bool
    assert logits.shape == (32, 32)
    masks, many_logits = predictor.predict(box=[[20, 30, 200, 150], [0, 0, 100, 100]])
    assert masks.shape == (2, 180, 310) and many_logits.shape == (2, 32, 32)
    np.testing.assert_array_equal(masks[0], mask)


def test_grey_image(predictor):
    predictor.set_image(np.zeros((90, 40), dtype=np.uint8))
    mask, _ = predictor.predict(points=[[10, 20]], point_labels=[1])
    assert mask.shape == (90, 40)


def test_predictor_matches_the_model_pipeline(predictor, image, tiny_model):
    box = np.array([20.0, 30, 200, 150])
    predictor.set_image(image)
    mask, _ = predictor.predict(box=box)
    size = tiny_model.config.image_size
    tensor, input_size = preprocess_image(image, size)
    with torch.no_grad():
        low_res = tiny_model(tensor[None], Prompts(boxes=scale_boxes(box[None], image.shape[:2], size)))
    expected = postprocess_logits(low_res, input_size, image.shape[:2], size)[0, 0] > 0
    np.testing.assert_array_equal(mask, expected.numpy())


def test_image_is_encoded_once_per_set_image(predictor, image, tiny_model, monkeypatch):
    calls = []
    original = tiny_model.encode_image
    monkeypatch.setattr(tiny_model, "encode_image", lambda x: calls.append(1) or original(x))
    predictor.set_image(image)
    for box in ([0, 0, 50, 50], [10, 10, 200, 170], [100, 20, 300, 100]):
        predictor.predict(box=box)
    predictor.predict(points=[[30, 40], [100, 100]], point_labels=[1, 0])
    assert len(calls) == 1


def test_box_outside_the_image_is_clipped(predictor, image):
    predictor.set_image(image)
    clipped, _ = predictor.predict(box=[-50, -20, 900, 400])
    inside, _ = predictor.predict(box=[0, 0, 309, 179])
    np.testing.assert_array_equal(clipped, inside)


def test_inverted_box_is_an_error(predictor, image):
    predictor.set_image(image)
    with pytest.raises(ValueError, match="inverted box"):
        predictor.predict(box=[100, 100, 50, 150])


def test_predict_before_set_image(predictor):
    with pytest.raises(RuntimeError, match="set_image"):
        predictor.predict(box=[0, 0, 10, 10])


def test_mask_input_round(predictor, image):
    predictor.set_image(image)
    _, logits = predictor.predict(box=[20, 30, 200, 150])
    refined, _ = predictor.predict(box=[20, 30, 200, 150], mask_input=logits)
    assert refined.shape == (180, 310)
