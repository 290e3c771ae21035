"""The one place that maps images, masks and prompt coordinates into and out of the model frame.

Model frame (the spec's "Input"): the longest side resized to `image_size` (bilinear), SAM's
pixel mean/std on a 0-255 scale, zero padding at the bottom/right to `image_size` square.
Training data, the predictor and evaluation all go through these functions, so a box drawn on
the original image lands on the same pixels the model sees.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

PIXEL_MEAN = (123.675, 116.28, 103.53)
PIXEL_STD = (58.395, 57.12, 57.375)


def resized_shape(height: int, width: int, long_side: int) -> tuple[int, int]:
    """(h, w) after scaling the longest side to `long_side`, rounded as segment-anything does."""
    scale = long_side / max(height, width)
    return int(height * scale + 0.5), int(width * scale + 0.5)


def image_to_float_rgb(image: np.ndarray) -> torch.Tensor:
    """HxW or HxWx{1,3,4} of any dtype -> float 3xHxW on SAM's 0-255 scale.

    uint8 is taken as is; bool becomes 0/255; any other dtype (CT in HU, z-scored MR, uint16
    microscopy) is min-max rescaled per image, because the model was trained on 8-bit images.
    Plugins that know a better mapping (CT windows) apply it and hand over uint8.
    """
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ValueError(f"expected an HxW or HxWx3 image, got shape {tuple(np.asarray(image).shape)}")
    array = array[..., :3]  # RGBA: the alpha channel carries no anatomy
    if array.dtype == np.uint8:
        values = array.astype(np.float32)
    elif array.dtype == np.bool_:
        values = array.astype(np.float32) * 255.0
    else:
        values = array.astype(np.float32)
        finite = np.isfinite(values)
        if not finite.all():
            values = np.where(finite, values, 0.0)
        low, high = float(values.min()), float(values.max())
        values = (values - low) * (255.0 / (high - low)) if high > low else np.zeros_like(values)
    return torch.from_numpy(np.ascontiguousarray(values.transpose(2, 0, 1)))


def resize_longest_side(image: torch.Tensor, long_side: int) -> torch.Tensor:
    """Bilinear resize of a float (..., C, H, W) tensor so that max(H, W) == long_side.

    Antialiased like PIL's bilinear resize, which segment-anything's ResizeLongestSide uses.
    """
    height, width = image.shape[-2:]
    new_h, new_w = resized_shape(height, width, long_side)
    if (new_h, new_w) == (height, width):
        return image
    batched = image if image.dim() == 4 else image.unsqueeze(0)
    out = F.interpolate(batched, size=(new_h, new_w), mode="bilinear", align_corners=False, antialias=True)
    return out if image.dim() == 4 else out[0]


def normalize_and_pad(image: torch.Tensor, image_size: int) -> torch.Tensor:
    """Float 3xhxw on 0-255 (already resized) -> normalised, zero-padded 3xSxS."""
    mean = torch.tensor(PIXEL_MEAN, dtype=image.dtype, device=image.device).view(3, 1, 1)
    std = torch.tensor(PIXEL_STD, dtype=image.dtype, device=image.device).view(3, 1, 1)
    image = (image - mean) / std
    height, width = image.shape[-2:]
    return F.pad(image, (0, image_size - width, 0, image_size - height))


def preprocess_image(image: np.ndarray, image_size: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """numpy image -> (normalised 3xSxS tensor, input_size (h, w) of the un-padded region)."""
    rgb = image_to_float_rgb(image)
    resized = resize_longest_side(rgb, image_size)
    return normalize_and_pad(resized, image_size), (int(resized.shape[-2]), int(resized.shape[-1]))


def resize_mask(mask: np.ndarray | torch.Tensor, image_size: int) -> torch.Tensor:
    """Binary HxW mask -> float SxS in the model frame (nearest, then zero padding)."""
    tensor = torch.as_tensor(np.asarray(mask) > 0, dtype=torch.float32)[None, None]
    new_h, new_w = resized_shape(tensor.shape[-2], tensor.shape[-1], image_size)
    resized = F.interpolate(tensor, size=(new_h, new_w), mode="nearest-exact")
    return F.pad(resized, (0, image_size - new_w, 0, image_size - new_h))[0, 0]


def scale_coords(coords: np.ndarray | torch.Tensor, original_size: tuple[int, int], image_size: int) -> torch.Tensor:
    """(..., 2) xy pixel coordinates on the original image -> the model frame."""
    height, width = original_size
    new_h, new_w = resized_shape(height, width, image_size)
    coords = torch.as_tensor(coords, dtype=torch.float32).clone()
    coords[..., 0] = coords[..., 0] * (new_w / width)
    coords[..., 1] = coords[..., 1] * (new_h / height)
    return coords


def scale_boxes(boxes: np.ndarray | torch.Tensor, original_size: tuple[int, int], image_size: int) -> torch.Tensor:
    """(..., 4) xyxy boxes on the original image -> the model frame."""
    boxes = torch.as_tensor(boxes, dtype=torch.float32)
    return scale_coords(boxes.reshape(*boxes.shape[:-1], 2, 2), original_size, image_size).reshape(boxes.shape)


def postprocess_logits(
    low_res_logits: torch.Tensor,
    input_size: tuple[int, int],
    original_size: tuple[int, int],
    image_size: int,
) -> torch.Tensor:
    """(N, 1, S/4, S/4) logits -> (N, 1, H, W) logits at the original image size.

    Upsample to the padded model frame, crop the padding away, then resize to the original size:
    the order matters, cropping first would stretch the padding into the image.
    """
    logits = F.interpolate(low_res_logits, size=(image_size, image_size), mode="bilinear", align_corners=False)
    logits = logits[..., : input_size[0], : input_size[1]]
    return F.interpolate(logits, size=tuple(original_size), mode="bilinear", align_corners=False)
