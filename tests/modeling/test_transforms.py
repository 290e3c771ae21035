"""The model frame: resize longest side, SAM mean/std, pad bottom/right, and back."""

import numpy as np
import torch

from samunet_tune.modeling.transforms import (
    PIXEL_MEAN,
    postprocess_logits,
    preprocess_image,
    resize_mask,
    resized_shape,
    scale_boxes,
)


def test_resized_shape_matches_segment_anything():
    from segment_anything.utils.transforms import ResizeLongestSide

    for h, w in [(180, 310), (1080, 1920), (333, 332), (256, 256), (17, 999)]:
        assert resized_shape(h, w, 256) == ResizeLongestSide.get_preprocess_shape(h, w, 256)


def test_preprocess_pads_bottom_right_with_zero_after_normalising():
    image = np.full((100, 200, 3), 200, dtype=np.uint8)
    tensor, input_size = preprocess_image(image, 256)
    assert tensor.shape == (3, 256, 256) and input_size == (128, 256)
    assert torch.all(tensor[:, 128:, :] == 0)
    expected = (200 - PIXEL_MEAN[0]) / 58.395
    assert torch.allclose(tensor[0, :128, :], torch.tensor(expected), atol=1e-4)


def test_float_images_are_rescaled_to_8_bit_range():
    ct = np.linspace(-1000, 2000, 64 * 64, dtype=np.float32).reshape(64, 64)
    tensor, _ = preprocess_image(ct, 64)
    unnormalised = tensor[0] * 58.395 + PIXEL_MEAN[0]
    assert abs(unnormalised.min().item()) < 1e-3 and abs(unnormalised.max().item() - 255) < 1e-3


def test_mask_survives_the_round_trip_through_the_model_frame():
    mask = np.zeros((180, 310), dtype=bool)
    mask[40:120, 60:200] = True
    framed = resize_mask(mask, 256)
    logits = (framed * 20 - 10)[None, None]
    low_res = torch.nn.functional.interpolate(logits, size=(64, 64), mode="bilinear", align_corners=False)
    back = postprocess_logits(low_res, resized_shape(180, 310, 256), (180, 310), 256)[0, 0] > 0
    agreement = (back.numpy() == mask).mean()
    assert agreement > 0.98


def test_boxes_scale_with_the_image():
    boxes = scale_boxes(np.array([[0.0, 0, 310, 180]]), (180, 310), 256)
    h, w = resized_shape(180, 310, 256)
    torch.testing.assert_close(boxes, torch.tensor([[0.0, 0, w, h]]))
