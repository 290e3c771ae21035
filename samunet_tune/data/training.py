"""Samples -> training items with prompts in the model frame, and batching of a variable number of
masks per image.

Per item (the spec's recipe): decode the sample, bring the image and its masks into the model
frame with samunet_tune.modeling.transforms, augment image and masks together, draw
`masks_per_image` masks with replacement, simulate each mask's prompt (box of its largest
component with jitter, and/or points), normalise and pad. With ``prompt_frame="model"`` (the
spec, SAM-Med2D) prompts are simulated on the resized masks, so jitter is in model-frame
pixels; ``"original"`` simulates them on the original masks and maps them with `scale_boxes` /
`scale_coords` (jitter in original pixels, as a user clicking on the full image would).

Randomness comes from ``numpy.random.default_rng((seed, epoch, index))``: an item depends only
on the seed, the epoch (`set_epoch`) and its index, not on worker count or order.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from samunet_tune.data.augment import Augment
from samunet_tune.data.prompts import BoxJitter, box_from_mask, sample_points
from samunet_tune.data.sample import Sample
from samunet_tune.modeling import transforms

PROMPTS = ("box", "point", "box+point")


def collate_prompted(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Batch items with different numbers of masks: masks and prompts are concatenated, and
    ``image_index[n]`` says which image prompt n belongs to.

    Returns images (B, 3, S, S), masks (N, S, S), boxes (N, 4), points (N, P, 2) and
    point_labels (N, P) or None, image_index (N,) long, and per-image lists original_sizes,
    input_sizes, sample_ids, plus class_names (N,).
    """
    if not items:
        raise ValueError("collate_prompted got an empty batch")
    has_points = ["points" in item for item in items]
    if any(has_points) and not all(has_points):
        raise ValueError("collate_prompted: some items have points and some do not; use one prompt setting")
    counts = torch.tensor([item["masks"].shape[0] for item in items])
    return {
        "images": torch.stack([item["image"] for item in items]),
        "masks": torch.cat([item["masks"] for item in items]),
        "boxes": torch.cat([item["boxes"] for item in items]),
        "points": torch.cat([item["points"] for item in items]) if all(has_points) else None,
        "point_labels": torch.cat([item["point_labels"] for item in items]) if all(has_points) else None,
        "image_index": torch.repeat_interleave(torch.arange(len(items)), counts),
        "original_sizes": [tuple(item["original_size"]) for item in items],
        "input_sizes": [tuple(item["input_size"]) for item in items],
        "sample_ids": [item["sample_id"] for item in items],
        "class_names": [name for item in items for name in item["class_names"]],
    }


class PromptedDataset(Dataset):
    """Training items with simulated prompts from any dataset of `Sample`s.

    Args:
        dataset: a Sequence of Samples (a plugin dataset, CachedDataset, a list).
        image_size: side S of the square model input.
        masks_per_image: masks drawn per image, with replacement (the spec: 5); None takes each
            mask once, in order (evaluation).
        prompt: "box", "point" or "box+point".
        jitter: box jitter: a BoxJitter, or "spec" (default), "medsam", "none", or a dict of
            BoxJitter fields (see BoxJitter.from_options).
        num_points: positive points per mask when points are asked for.
        num_negative_points: negative (background) points per mask.
        augment: an Augment, a dict of its fields, "standard", or None (see Augment.from_options).
        seed: base seed of every random choice.
        prompt_frame: "model" or "original" (see the module docstring).
        on_empty: a sample without usable masks is "skip"ped (counted in `skipped_empty`, with a
            warning) or "raise"s.
    """

    def __init__(self, dataset: Sequence[Sample], image_size: int = 256, masks_per_image: int | None = 5,
                 prompt: str = "box", jitter: BoxJitter | dict | str | None = "spec", num_points: int = 1,
                 num_negative_points: int = 0, augment: Augment | dict | str | None = None, seed: int = 0,
                 prompt_frame: str = "model", on_empty: str = "skip") -> None:
        if prompt not in PROMPTS or prompt_frame not in ("model", "original") or on_empty not in ("skip", "raise"):
            raise ValueError(f"prompt={prompt!r} (one of {PROMPTS}), prompt_frame={prompt_frame!r} ('model' or "
                             f"'original'), on_empty={on_empty!r} ('skip' or 'raise')")
        if masks_per_image is not None and masks_per_image < 1:
            raise ValueError(f"masks_per_image={masks_per_image} must be >= 1 or None")
        self.dataset, self.image_size, self.masks_per_image = dataset, image_size, masks_per_image
        self.prompt, self.jitter = prompt, BoxJitter.from_options(jitter)
        self.num_points, self.num_negative_points = num_points, num_negative_points
        self.augment = Augment.from_options(augment)
        self.seed, self.prompt_frame, self.on_empty = seed, prompt_frame, on_empty
        self.epoch = 0
        self.skipped_empty: list[str] = []
        self._indices = self._indices_with_masks()

    def _indices_with_masks(self) -> list[int]:
        """Indices to serve: samples the index knows to be maskless are left out (or raise) here."""
        counter = getattr(self.dataset, "num_masks", None)
        kept = [i for i in range(len(self.dataset)) if counter is None or counter(i) != 0]
        for index in sorted(set(range(len(self.dataset))) - set(kept)):
            self._empty(index, "has no masks")
        if self.skipped_empty:
            warnings.warn(f"PromptedDataset: {len(self.skipped_empty)} sample(s) without masks left out; "
                          "`skipped_empty` lists them", stacklevel=3)
        return kept

    def _empty(self, index: int, why: str) -> bool:
        """Raise, or record the maskless sample; True if it was not recorded before."""
        what = f"sample {index} {why}"
        if self.on_empty == "raise":
            raise ValueError(f"{what}. Fix: remove it from the dataset, or pass on_empty='skip'")
        if what not in self.skipped_empty:
            self.skipped_empty.append(what)
            return True
        return False

    # The batching function that goes with these items (DataLoader(collate_fn=dataset.collate)).
    collate = staticmethod(collate_prompted)

    def set_epoch(self, epoch: int) -> None:
        """Change the random draws (masks, jitter, augmentation) for a new epoch."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self._indices)

    def __getitem__(self, position: int) -> dict[str, Any]:
        # A sample found maskless only when decoded is replaced by the next one, and counted.
        for step in range(len(self._indices)):
            index = self._indices[(position + step) % len(self._indices)]
            item = self.make_item(self.dataset[index], np.random.default_rng((self.seed, self.epoch, index)))
            if item is not None:
                return item
            if self._empty(index, "has no usable mask after decoding and resizing"):
                warnings.warn(f"PromptedDataset: sample {index} has no usable mask; serving the next sample "
                              "instead (`skipped_empty` lists such samples)", stacklevel=2)
        raise ValueError("PromptedDataset: no sample has a usable mask")

    def make_item(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any] | None:
        """One training item from `sample` (None if no mask survives resizing)."""
        size = self.image_size
        image = transforms.image_to_float_rgb(sample.image)
        masks = torch.zeros(0, *sample.size)
        if sample.masks:
            masks = torch.from_numpy(np.stack([m.mask for m in sample.masks])).float()
        names = sample.class_names
        if self.prompt_frame == "model" and len(masks):  # into the frame first, then augment and prompt there
            image = transforms.resize_longest_side(image, size)
            height, width = image.shape[-2:]
            masks = torch.stack([transforms.resize_mask(m, size)[:height, :width] for m in masks])
        image, masks = self._augment_keeping_masks(image, masks, rng)
        usable = [k for k in range(masks.shape[0]) if masks[k].any()]
        if not usable:
            return None
        chosen = usable
        if self.masks_per_image is not None:  # the spec: drawn with replacement
            chosen = [usable[i] for i in rng.integers(0, len(usable), self.masks_per_image)]
        frame_size = (int(image.shape[-2]), int(image.shape[-1]))
        picked = masks.index_select(0, torch.as_tensor(chosen, dtype=torch.long))  # fancy indexing is slow here
        boxes, points, labels = self._prompts(picked.numpy() > 0.5, frame_size, rng)
        if self.prompt_frame == "original":
            boxes = transforms.scale_boxes(boxes, frame_size, size)
            points = transforms.scale_coords(points, frame_size, size) if points is not None else None
            image = transforms.resize_longest_side(image, size)
            target = torch.stack([transforms.resize_mask(mask, size) for mask in picked])
        else:
            target = F.pad(picked, (0, size - frame_size[1], 0, size - frame_size[0]))
        item = {
            "image": transforms.normalize_and_pad(image, size),
            "masks": target.float(),
            "boxes": torch.as_tensor(boxes, dtype=torch.float32),
            "original_size": (frame_size if self.prompt_frame == "original"
                              else _original_size(sample, frame_size, size)),
            "input_size": (int(image.shape[-2]), int(image.shape[-1])),
            "sample_id": sample.sample_id,
            "class_names": [names[k] for k in chosen],
        }
        if points is not None:
            item["points"], item["point_labels"] = torch.as_tensor(points, dtype=torch.float32), torch.as_tensor(labels)
        return item

    def _augment_keeping_masks(self, image: torch.Tensor, masks: torch.Tensor,
                               rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Augment; if that pushes every mask out of the frame, keep the un-augmented pair."""
        if self.augment is None or masks.shape[0] == 0:
            return image, masks
        augmented, moved = self.augment(image, masks, rng)
        if moved.flatten(1).any(dim=1).any():
            return augmented, moved
        return image, masks

    def _prompts(self, masks: np.ndarray, frame_size: tuple[int, int], rng: np.random.Generator):
        boxes = np.stack([self.jitter(box_from_mask(m), frame_size, rng) for m in masks])
        if self.prompt == "box":
            return boxes, None, None
        pairs = [sample_points(m, rng, self.num_points, self.num_negative_points) for m in masks]
        return boxes, np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def _original_size(sample: Sample, frame_size: tuple[int, int], image_size: int) -> tuple[int, int]:
    """The sample's (height, width), swapped when a 90-degree turn swapped the frame's sides, so
    that resizing it to the model frame gives `frame_size` (what postprocess_logits expects)."""
    height, width = sample.size
    if transforms.resized_shape(height, width, image_size) != tuple(frame_size):
        return width, height
    return height, width
