"""SamUNetPredictor: encode an image once, then answer any number of prompts with the decoder only."""

from __future__ import annotations

import numpy as np
import torch

from samunet_tune.modeling.prompts import Prompts
from samunet_tune.modeling.sam_unet import ImageEncoding, SamUNet
from samunet_tune.modeling.transforms import postprocess_logits, preprocess_image, scale_boxes, scale_coords


class SamUNetPredictor:
    """Interactive use of a SamUNet on numpy images, in the image's own pixel coordinates.

    Args:
        model: a SamUNet (put in eval mode here).
        mask_threshold: logit above which a pixel is foreground (0.0 = probability 0.5).
    """

    def __init__(self, model: SamUNet, mask_threshold: float = 0.0) -> None:
        self.model = model.eval()
        self.mask_threshold = mask_threshold
        self.reset_image()

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def reset_image(self) -> None:
        self._encoding: ImageEncoding | None = None
        self.original_size: tuple[int, int] | None = None
        self.input_size: tuple[int, int] | None = None

    @torch.inference_mode()
    def set_image(self, image: np.ndarray) -> None:
        """Encode an HxWx3 uint8 (or HxW grey, or any-dtype) image; prompts then reuse it."""
        image = np.asarray(image)
        if image.ndim not in (2, 3) or min(image.shape[:2]) == 0:
            raise ValueError(f"set_image expects an HxW or HxWx3 image, got shape {image.shape}")
        size = self.model.config.image_size
        tensor, self.input_size = preprocess_image(image, size)
        self.original_size = (int(image.shape[0]), int(image.shape[1]))
        self._encoding = self.model.encode_image(tensor.unsqueeze(0).to(self.device))

    @property
    def is_image_set(self) -> bool:
        return self._encoding is not None

    @torch.inference_mode()
    def predict(
        self,
        box: np.ndarray | list | None = None,
        points: np.ndarray | list | None = None,
        point_labels: np.ndarray | list | None = None,
        mask_input: np.ndarray | torch.Tensor | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Masks for one or several prompts on the image given to `set_image`.

        Args:
            box: (4,) or (K, 4) xyxy in original pixel coordinates; clipped to the image.
            points: (P, 2) or (K, P, 2) xy in original pixel coordinates.
            point_labels: (P,) or (K, P); 1 foreground, 0 background.
            mask_input: (S/4, S/4) or (K, S/4, S/4) low-res logits from a previous call.

        Returns:
            masks: bool (H, W) for a single prompt, (K, H, W) for K prompts.
            low_res_logits: float32 (S/4, S/4) or (K, S/4, S/4), usable as `mask_input`.
        """
        if self._encoding is None:
            raise RuntimeError("call set_image(image) before predict(...)")
        prompts, single = self._prompts(box, points, point_labels, mask_input)
        low_res = self.model.decode(self._encoding, prompts).float()
        logits = postprocess_logits(low_res, self.input_size, self.original_size, self.model.config.image_size)
        masks = (logits[:, 0] > self.mask_threshold).cpu().numpy()
        low_res_np = low_res[:, 0].cpu().numpy()
        return (masks[0], low_res_np[0]) if single else (masks, low_res_np)

    def _prompts(self, box, points, point_labels, mask_input) -> tuple[Prompts, bool]:
        size = self.model.config.image_size
        single = True
        boxes_t = points_t = labels_t = masks_t = None
        if box is not None:
            boxes = np.asarray(box, dtype=np.float32)
            single = boxes.ndim == 1
            boxes_t = scale_boxes(self._checked_boxes(boxes.reshape(-1, 4)), self.original_size, size)
        if points is not None:
            if point_labels is None:
                raise ValueError("points need point_labels (1 = foreground, 0 = background)")
            coords = np.asarray(points, dtype=np.float32)
            labels = np.asarray(point_labels)
            single = single and coords.ndim == 2
            coords = coords.reshape(-1, *coords.shape[-2:])
            labels = labels.reshape(-1, labels.shape[-1])
            if coords.shape[:2] != labels.shape:
                raise ValueError(f"points {coords.shape} and point_labels {labels.shape} do not match")
            points_t = scale_coords(coords, self.original_size, size)
            labels_t = torch.as_tensor(labels, dtype=torch.int64)
        if mask_input is not None:
            masks_t = torch.as_tensor(np.asarray(mask_input), dtype=torch.float32)
            single = single and masks_t.dim() == 2
            masks_t = masks_t.reshape(-1, 1, *masks_t.shape[-2:])
        if boxes_t is None and points_t is None and masks_t is None:
            raise ValueError("predict needs a box, points or a mask_input")
        prompts = Prompts(boxes=boxes_t, points=points_t, point_labels=labels_t, masks=masks_t)
        return prompts.to(self.device), single

    def _checked_boxes(self, boxes: np.ndarray) -> np.ndarray:
        """Clip boxes to the image; an inverted box (x1 < x0 or y1 < y0) is the caller's error."""
        inverted = (boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])
        if inverted.any():
            raise ValueError(f"inverted box(es) {boxes[inverted].tolist()}: boxes are x0, y0, x1, y1 with x1 >= x0, y1 >= y0")
        height, width = self.original_size
        clipped = boxes.copy()
        clipped[:, [0, 2]] = clipped[:, [0, 2]].clip(0, width - 1)
        clipped[:, [1, 3]] = clipped[:, [1, 3]].clip(0, height - 1)
        return clipped
