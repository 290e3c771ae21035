"""Augmentations keep image and masks in agreement, and are reproducible."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from samunet_tune.data.augment import Augment
from tests.data.data_helpers import disc


def image_showing_its_masks(shape=(60, 80)):
    """An image whose bright pixels are exactly mask 0, and a second, smaller mask."""
    first = torch.from_numpy(disc(shape, (20, 30), 12)).float()
    second = torch.from_numpy(disc(shape, (40, 60), 6)).float()
    image = first.expand(3, *shape) * 255.0
    return image.clone(), torch.stack([first, second])


def bright(image: torch.Tensor) -> torch.Tensor:
    return image[0] > 127


def iou(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.bool(), b.bool()
    return float((a & b).sum() / (a | b).sum())


@pytest.mark.parametrize("augment", [
    Augment(horizontal_flip=1.0),
    Augment(vertical_flip=1.0),
    Augment(rotate90=1.0),
    Augment(horizontal_flip=1.0, vertical_flip=1.0, rotate90=1.0),
], ids=["hflip", "vflip", "rot90", "all"])
def test_flips_and_quarter_turns_are_exact(augment):
    image, masks = image_showing_its_masks()
    out_image, out_masks = augment(image, masks, np.random.default_rng(3))
    assert torch.equal(bright(out_image), out_masks[0].bool())
    assert out_masks.sum(dim=(1, 2)).tolist() == masks.sum(dim=(1, 2)).tolist()  # nothing lost
    assert not torch.equal(out_masks, masks) or out_masks.shape != masks.shape


def test_quarter_turns_swap_the_sides_of_a_non_square_image():
    image, masks = image_showing_its_masks((60, 80))
    shapes = {Augment(rotate90=1.0)(image, masks, np.random.default_rng(seed))[1].shape[1:] for seed in range(20)}
    assert shapes == {(60, 80), (80, 60)}


@pytest.mark.parametrize("seed", range(5))
def test_rotation_and_scale_move_image_and_masks_together(seed):
    image, masks = image_showing_its_masks()
    augment = Augment(max_rotation=25.0, scale=(0.8, 1.2))
    out_image, out_masks = augment(image, masks, np.random.default_rng(seed))
    assert out_image.shape == image.shape and out_masks.shape == masks.shape
    assert set(out_masks.unique().tolist()) <= {0.0, 1.0}  # masks stay binary
    assert iou(bright(out_image), out_masks[0]) > 0.9
    assert not torch.equal(out_masks, masks)  # it really moved


def test_intensity_changes_leave_masks_alone_and_stay_in_range():
    rng = np.random.default_rng(0)
    image = torch.from_numpy(rng.uniform(0, 255, (3, 32, 32)).astype(np.float32))
    masks = torch.from_numpy(disc((32, 32), (16, 16), 7))[None].float()
    out_image, out_masks = Augment(brightness=0.3, contrast=0.5, gamma=0.5)(image, masks, np.random.default_rng(1))
    assert torch.equal(out_masks, masks)
    assert not torch.allclose(out_image, image)
    assert out_image.min() >= 0 and out_image.max() <= 255


def test_same_generator_state_same_result():
    image, masks = image_showing_its_masks()
    augment = Augment.standard()
    first = augment(image, masks, np.random.default_rng(11))
    second = augment(image, masks, np.random.default_rng(11))
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])


def test_recipe_values_become_augment_settings():
    assert Augment.from_options({"hflip": 0.5, "vflip": 0.5}) == Augment(horizontal_flip=0.5, vertical_flip=0.5)
    assert Augment.from_options({"scale": [0.9, 1.1], "max_rotation": 10}).scale == (0.9, 1.1)
    assert Augment.from_options("standard") == Augment.standard()
    assert Augment.from_options(None) is None and Augment.from_options("none") is None
    with pytest.raises(ValueError, match=r"unknown setting\(s\) \['spin'\]; known: horizontal_flip"):
        Augment.from_options({"spin": 1.0})
