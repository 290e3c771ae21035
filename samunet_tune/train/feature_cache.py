"""Frozen-encoder feature cache: image features computed once per sample, reused every epoch.

Valid only when nothing in `SamUNet.encode_image` trains (the strategy says so) and the image
is augmentation-free, so a sample id always maps to the same features.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from samunet_tune.modeling.sam_unet import ImageEncoding


class FeatureCache:
    """Args:
    folder: where to keep features on disk, or None to keep them in memory.
    """

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self._memory: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self.hits = self.misses = 0
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)

    def _path(self, sample_id: str) -> Path:
        return self.folder / (hashlib.sha1(sample_id.encode()).hexdigest() + ".pt")

    def _get(self, sample_id: str) -> tuple[torch.Tensor, torch.Tensor] | None:
        if self.folder is None:
            return self._memory.get(sample_id)
        path = self._path(sample_id)
        if path.is_file():
            return torch.load(path, weights_only=True)
        return None

    def _put(self, sample_id: str, features: tuple[torch.Tensor, torch.Tensor]) -> None:
        if self.folder is None:
            self._memory[sample_id] = features
        else:
            temporary = self._path(sample_id).with_suffix(".tmp")
            torch.save(features, temporary)
            temporary.replace(self._path(sample_id))

    @torch.no_grad()
    def encode(self, encoder, images: torch.Tensor, sample_ids: list[str]) -> ImageEncoding:
        """Features for a batch, computing only the images not seen before."""
        found = [self._get(sample_id) for sample_id in sample_ids]
        missing = [i for i, item in enumerate(found) if item is None]
        if missing:
            fresh = encoder(images[missing])
            for row, i in enumerate(missing):
                item = (fresh.embedding[row].cpu(), fresh.multi_scale[row].cpu())
                self._put(sample_ids[i], item)
                found[i] = item
        self.hits += len(sample_ids) - len(missing)
        self.misses += len(missing)
        device = images.device
        return ImageEncoding(
            embedding=torch.stack([item[0] for item in found]).to(device),
            multi_scale=torch.stack([item[1] for item in found]).to(device),
        )
