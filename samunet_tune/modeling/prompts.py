"""Prompts: a batch of box/point/mask prompts, each tied to one image of the batch."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import torch


@dataclass
class Prompts:
    """N prompts for a batch of B images, all coordinates in the model frame (0..S pixels).

    Args:
        boxes: (N, 4) xyxy, or None.
        points: (N, P, 2) xy, or None; `point_labels` (N, P) with 1 = foreground,
            0 = background, -1 = padding.
        masks: (N, 1, S/4, S/4) mask logits from a previous round, or None.
        image_index: (N,) index of each prompt's image in the batch. None means prompt i belongs
            to image i (N == B), or to the single image when B == 1. Several prompts per image,
            in any number per image, is what training uses.
    """

    boxes: torch.Tensor | None = None
    points: torch.Tensor | None = None
    point_labels: torch.Tensor | None = None
    masks: torch.Tensor | None = None
    image_index: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if (self.points is None) != (self.point_labels is None):
            raise ValueError("points and point_labels must be given together")
        if self.boxes is None and self.points is None and self.masks is None:
            raise ValueError("a prompt needs at least one of boxes, points or masks")
        counts = {len(t) for t in (self.boxes, self.points, self.point_labels, self.masks) if t is not None}
        if len(counts) != 1:
            raise ValueError(f"boxes/points/masks disagree on the number of prompts: {sorted(counts)}")
        if self.boxes is not None and (self.boxes.dim() != 2 or self.boxes.shape[-1] != 4):
            raise ValueError(f"boxes must be (N, 4) xyxy, got {tuple(self.boxes.shape)}")
        if self.points is not None and (self.points.dim() != 3 or self.points.shape[-1] != 2):
            raise ValueError(f"points must be (N, P, 2), got {tuple(self.points.shape)}")

    def __len__(self) -> int:
        for tensor in (self.boxes, self.points, self.masks):
            if tensor is not None:
                return len(tensor)
        return 0

    def resolve_image_index(self, num_images: int) -> torch.Tensor:
        """The (N,) image index, filled in for the two implicit layouts."""
        device = next(t for t in (self.boxes, self.points, self.masks) if t is not None).device
        if self.image_index is not None:
            index = self.image_index.to(device=device, dtype=torch.long)
            if len(index) != len(self) or (len(index) and (index.min() < 0 or index.max() >= num_images)):
                raise ValueError(f"image_index must hold {len(self)} indexes in [0, {num_images})")
            return index
        if num_images == 1:
            return torch.zeros(len(self), dtype=torch.long, device=device)
        if num_images == len(self):
            return torch.arange(num_images, device=device)
        raise ValueError(
            f"{len(self)} prompts for {num_images} images: pass image_index to say which image each prompt is for"
        )

    def to(self, device: torch.device | str) -> "Prompts":
        moved = {f.name: getattr(self, f.name) for f in fields(self)}
        return replace(self, **{k: v.to(device) for k, v in moved.items() if v is not None})
