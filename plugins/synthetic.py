"""`synthetic`: seeded phantoms (samunet_tune.data.phantoms), the project's embedded default data.

Sample `i` is drawn from its own generator seeded with ``(seed, i)``, so any sample can be made
alone, in any order, in any worker, and is the same every time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from samunet_tune.data.base import PluginDataset
from samunet_tune.data.intensity import apply_window, resolve_window
from samunet_tune.data.phantoms import GENERATORS, make_phantom
from samunet_tune.data.sample import MaskAnnotation, Sample

MODALITIES = tuple(GENERATORS)


class SyntheticDataset(PluginDataset):
    """Deterministic phantom images with organ-like masks.

    Args:
        root: ignored (the data is generated); accepted so every plugin takes a location first.
        num_samples: how many samples.
        image_size: side of square images, or [height, width].
        modality: "ct" (int16 HU), "mr" (float32), "endoscopy" (RGB uint8), or "mixed" (cycles
            through the three).
        seed: same seed, same samples.
        spacing: pixel size in mm reported for CT and MR.
        window: CT only: map HU to uint8 with this window (a preset such as "abdomen", or
            [level, width]); unset keeps int16 HU.
    """

    plugin_name = "synthetic"

    def __init__(self, root: str | Path | None = None, num_samples: int = 64, image_size: int | list[int] = 256,
                 modality: str = "ct", seed: int = 0, spacing: float = 1.0, window: str | list | None = None) -> None:
        options = {k: v for k, v in locals().items() if k not in ("self", "__class__", "root")}
        super().__init__(options=options)
        if modality not in MODALITIES + ("mixed",):
            raise ValueError(f"modality={modality!r}: expected one of {MODALITIES + ('mixed',)}")
        if num_samples < 0:
            raise ValueError(f"num_samples={num_samples} must be >= 0")
        size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
        if len(size) != 2 or min(size) < 16:
            raise ValueError(f"image_size={image_size!r}: expected a side or [height, width], at least 16 pixels")
        self.shape, self.modality, self.seed, self.spacing = (int(size[0]), int(size[1])), modality, seed, spacing
        self.window = resolve_window(window) if window is not None else None
        self._set_records(list(range(num_samples)))

    def modality_of(self, index: int) -> str:
        return MODALITIES[index % len(MODALITIES)] if self.modality == "mixed" else self.modality

    def _load(self, record: Any) -> Sample:
        modality = self.modality_of(record)
        rng = np.random.default_rng([self.seed, record])
        image, masks = make_phantom(modality, self.shape, rng)
        if modality == "ct" and self.window is not None:
            image = apply_window(image, *self.window)
        annotations = [MaskAnnotation(mask, name, f"phantom {record} {name}") for name, mask in masks.items()]
        spacing = None if modality == "endoscopy" else (self.spacing, self.spacing)
        return Sample(image=image, masks=annotations, sample_id=f"synthetic-{modality}-{record:05d}",
                      spacing=spacing, modality=modality, meta={"seed": self.seed, "index": record})
