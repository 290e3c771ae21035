"""Augmentations that move image and masks together, applied before prompts are derived.

Because boxes and points are simulated from the augmented masks afterwards, prompts agree with
the image by construction. Inputs are torch tensors: the image float (3, H, W) on the 0-255
scale (what samunet_tune.modeling.transforms produces before normalising) and the masks
(K, H, W). Geometry uses bilinear sampling for the image and nearest for masks; 90-degree
rotations of a non-square image swap H and W.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Augment:
    """Random flips, rotations, scaling and intensity changes (all off by default).

    Args:
        horizontal_flip: probability of a left-right flip.
        vertical_flip: probability of an up-down flip.
        rotate90: probability of a rotation by a random multiple of 90 degrees.
        max_rotation: small-angle rotation, uniform in [-max_rotation, max_rotation] degrees.
        scale: zoom factor range (low, high); > 1 zooms in.
        brightness: shift uniform in [-brightness, brightness] of the full range.
        contrast: factor uniform in [1 - contrast, 1 + contrast] around the image mean.
        gamma: exponent log-uniform in [1 / (1 + gamma), 1 + gamma].
    """

    horizontal_flip: float = 0.0
    vertical_flip: float = 0.0
    rotate90: float = 0.0
    max_rotation: float = 0.0
    scale: tuple[float, float] = (1.0, 1.0)
    brightness: float = 0.0
    contrast: float = 0.0
    gamma: float = 0.0

    @classmethod
    def from_options(cls, options: "Augment | dict | str | None") -> "Augment | None":
        """An Augment from a recipe value: a dict of the fields above ("hflip"/"vflip" are
        accepted for the flips), "standard", "none", or None."""
        if options is None or isinstance(options, cls):
            return options
        if isinstance(options, str):
            if options not in ("standard", "none"):
                raise ValueError(f"augment={options!r}: expected 'standard', 'none' or a map of {_field_names()}")
            return cls.standard() if options == "standard" else None
        renamed = {_ALIASES.get(key, key): value for key, value in dict(options).items()}
        unknown = sorted(set(renamed) - set(_field_names()))
        if unknown:
            raise ValueError(f"augment has unknown setting(s) {unknown}; known: {', '.join(_field_names())}")
        if "scale" in renamed:
            renamed["scale"] = tuple(renamed["scale"])
        return cls(**renamed)

    @classmethod
    def standard(cls) -> "Augment":
        """Mild settings that suit most 2D medical data (no anatomy-breaking 90-degree turns)."""
        return cls(horizontal_flip=0.5, max_rotation=10.0, scale=(0.9, 1.1), brightness=0.1, contrast=0.2, gamma=0.2)

    def __call__(self, image: torch.Tensor, masks: torch.Tensor,
                 rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        # Draw every number in a fixed order, whatever is switched on, so a seed means one thing.
        draws = rng.random(3)
        quarter_turns = int(rng.integers(1, 4))
        angle = rng.uniform(-self.max_rotation, self.max_rotation)
        zoom = rng.uniform(*self.scale)
        shift, factor = rng.uniform(-1, 1) * self.brightness, 1 + rng.uniform(-1, 1) * self.contrast
        exponent = math.exp(rng.uniform(-1, 1) * math.log1p(self.gamma))
        masks = masks.float()
        if draws[0] < self.horizontal_flip:
            image, masks = image.flip(-1), masks.flip(-1)
        if draws[1] < self.vertical_flip:
            image, masks = image.flip(-2), masks.flip(-2)
        if draws[2] < self.rotate90:
            image, masks = image.rot90(quarter_turns, (-2, -1)), masks.rot90(quarter_turns, (-2, -1))
        if angle != 0.0 or zoom != 1.0:
            image, masks = rotate_and_scale(image, masks, angle, zoom)
        if self.brightness or self.contrast or self.gamma:
            image = adjust_intensity(image, shift, factor, exponent)
        return image.contiguous(), masks.contiguous()


_ALIASES = {"hflip": "horizontal_flip", "vflip": "vertical_flip"}


def _field_names() -> list[str]:
    return list(Augment.__dataclass_fields__)


def rotate_and_scale(image: torch.Tensor, masks: torch.Tensor, degrees: float,
                     zoom: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotate by `degrees` (counter-clockwise on screen) and zoom about the centre, same size out."""
    height, width = image.shape[-2:]
    radians = math.radians(degrees)
    cos, sin = math.cos(radians) / zoom, math.sin(radians) / zoom
    # affine_grid maps output to input in normalised coordinates; scaling x and y by the image
    # half-sizes keeps the rotation rigid on non-square images.
    theta = torch.tensor([[cos, sin * height / width, 0.0], [-sin * width / height, cos, 0.0]], dtype=torch.float32)
    grid = F.affine_grid(theta[None], [1, 1, height, width], align_corners=False)
    image = F.grid_sample(image[None].float(), grid, mode="bilinear", padding_mode="zeros", align_corners=False)[0]
    if masks.shape[0]:
        masks = F.grid_sample(masks[None], grid, mode="nearest", padding_mode="zeros", align_corners=False)[0]
    return image, masks


def adjust_intensity(image: torch.Tensor, shift: float, factor: float, exponent: float) -> torch.Tensor:
    """Contrast around the mean, brightness shift, then gamma, on the 0-255 scale (clipped)."""
    values = image / 255.0
    values = (values - values.mean()) * factor + values.mean() + shift
    return values.clamp(0.0, 1.0).pow(exponent) * 255.0
