"""The common form every dataset plugin yields: one image and its binary masks, each with a class.

Everything after a plugin (resize, normalise, prompts, batching, caching, inspection) works on
`Sample` only, so a new source of data needs nothing but a plugin that produces these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class MaskAnnotation:
    """One binary mask on the image of its sample.

    Args:
        mask: bool HxW, the same H and W as the image.
        class_name: what the mask outlines ("liver", "polyp").
        source: where it came from (a file name, "label 3 of case.nii.gz"), for messages.
    """

    mask: np.ndarray
    class_name: str
    source: str | None = None

    def __post_init__(self) -> None:
        self.mask = np.asarray(self.mask, dtype=bool)
        if self.mask.ndim != 2:
            raise ValueError(f"mask {self.source or self.class_name!r} must be HxW, got shape {self.mask.shape}")


@dataclass
class Sample:
    """One image with its masks, as every plugin produces it.

    Args:
        image: HxW or HxWx3 array of any dtype (uint8 photos, windowed CT as uint8, raw HU as
            int16, z-scored MR as float32). Non-uint8 images are min-max rescaled by the model
            transforms, so plugins that know a better mapping (CT windows) apply it themselves.
        masks: the binary masks on this image; may be empty (an image without annotations).
        sample_id: a stable, unique name within the dataset (file stem, "case/axis2_075").
        spacing: pixel size (row, column) in mm, when known; needed for HD95 and NSD.
        modality: "ct", "mr", "endoscopy", ... when known.
        source: the file the image came from, for messages.
        meta: anything else a plugin wants to carry (slice index, header values).
    """

    image: np.ndarray
    masks: list[MaskAnnotation]
    sample_id: str
    spacing: tuple[float, float] | None = None
    modality: str | None = None
    source: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.image = np.asarray(self.image)
        if self.image.ndim not in (2, 3) or (self.image.ndim == 3 and self.image.shape[2] != 3):
            raise ValueError(f"sample {self.sample_id!r}: image must be HxW or HxWx3, got shape {self.image.shape}")
        for annotation in self.masks:
            if annotation.mask.shape != self.image.shape[:2]:
                raise ValueError(
                    f"sample {self.sample_id!r}: mask {annotation.source or annotation.class_name!r} has shape "
                    f"{annotation.mask.shape}, image has {self.image.shape[:2]}"
                )
        if self.spacing is not None:
            self.spacing = (float(self.spacing[0]), float(self.spacing[1]))

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) of the image."""
        return int(self.image.shape[0]), int(self.image.shape[1])

    @property
    def class_names(self) -> list[str]:
        return [annotation.class_name for annotation in self.masks]
