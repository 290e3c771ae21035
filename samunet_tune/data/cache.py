"""An on-disk cache of decoded samples, so the second epoch does not decode JPEGs (or gunzip
NIfTI volumes, or parse DICOM) again.

Each sample is one ``.npz`` file (image, bit-packed masks, a JSON header) in a folder named by the
plugin and a hash of its options (`PluginDataset.cache_key`), written atomically so that several
DataLoader workers can fill the cache at once; a damaged file is decoded again. The cache does not
watch the source files: delete its folder after editing data in place.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from samunet_tune.data.sample import MaskAnnotation, Sample
from samunet_tune.modeling.transforms import resized_shape


def shrink_sample(sample: Sample, max_side: int) -> Sample:
    """`sample` with its longest side at most `max_side` (image bilinear, masks nearest, spacing
    scaled); the image keeps its dtype."""
    height, width = sample.size
    if max(height, width) <= max_side:
        return sample
    new_h, new_w = resized_shape(height, width, max_side)
    image = torch.from_numpy(np.ascontiguousarray(sample.image, dtype=np.float32))
    image = image[None, None] if image.ndim == 2 else image.permute(2, 0, 1)[None]
    resized = F.interpolate(image, size=(new_h, new_w), mode="bilinear", align_corners=False, antialias=True)[0]
    array = resized[0].numpy() if sample.image.ndim == 2 else resized.permute(1, 2, 0).numpy()
    if np.issubdtype(sample.image.dtype, np.integer):
        info = np.iinfo(sample.image.dtype)
        array = np.clip(np.rint(array), info.min, info.max)
    masks = []
    for annotation in sample.masks:
        mask = torch.from_numpy(annotation.mask).float()[None, None]
        small = F.interpolate(mask, size=(new_h, new_w), mode="nearest-exact")[0, 0].numpy() > 0.5
        masks.append(MaskAnnotation(small, annotation.class_name, annotation.source))
    spacing = None
    if sample.spacing is not None:
        spacing = (sample.spacing[0] * height / new_h, sample.spacing[1] * width / new_w)
    return Sample(image=array.astype(sample.image.dtype), masks=masks, sample_id=sample.sample_id, spacing=spacing,
                  modality=sample.modality, source=sample.source,
                  meta={**sample.meta, "cached_from_size": [height, width]})


def save_sample(sample: Sample, path: Path) -> None:
    """Write `sample` to `path` (.npz) atomically."""
    masks = np.stack([m.mask for m in sample.masks]) if sample.masks else np.zeros((0, *sample.size), bool)
    header = {"sample_id": sample.sample_id, "class_names": sample.class_names,
              "mask_sources": [m.source for m in sample.masks], "spacing": sample.spacing,
              "modality": sample.modality, "source": sample.source, "meta": sample.meta}
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(descriptor, "wb") as handle:
        np.savez(handle, image=sample.image, masks=np.packbits(masks, axis=-1), mask_shape=np.array(masks.shape),
                 header=np.array(json.dumps(header, default=str)))
    os.replace(temporary, path)


def load_sample(path: Path) -> Sample:
    """Read a sample written by `save_sample`."""
    with np.load(path, allow_pickle=False) as data:
        header = json.loads(str(data["header"]))
        shape = tuple(int(v) for v in data["mask_shape"])
        masks = np.unpackbits(data["masks"], axis=-1, count=shape[-1]).astype(bool).reshape(shape)
        image = data["image"]
    annotations = [MaskAnnotation(mask, name, source)
                   for mask, name, source in zip(masks, header["class_names"], header["mask_sources"])]
    spacing = tuple(header["spacing"]) if header["spacing"] is not None else None
    return Sample(image=image, masks=annotations, sample_id=header["sample_id"], spacing=spacing,
                  modality=header["modality"], source=header["source"], meta=header["meta"])


class CachedDataset(Sequence):
    """Wrap a dataset so each sample is decoded once and then read back from an .npz file.

    Args:
        dataset: a plugin dataset, or any Sequence of Samples (then `key` is needed).
        cache_dir: the folder that holds caches; this dataset's files go in ``cache_dir/<key>``.
        key: the cache's name; default ``dataset.cache_key()`` (plugin name + options hash).
        max_side: if set, samples are shrunk to this longest side before caching (smaller, faster
            cache; use a value >= the model's image size).
    """

    def __init__(self, dataset: Sequence[Sample], cache_dir: str | Path, key: str | None = None,
                 max_side: int | None = None) -> None:
        if key is None:
            if not hasattr(dataset, "cache_key"):
                raise ValueError("CachedDataset needs key= for a dataset without cache_key() (not a plugin)")
            key = dataset.cache_key()
        if max_side is not None:
            key = f"{key}-max{max_side}"
        self.dataset, self.max_side = dataset, max_side
        self.folder = Path(cache_dir) / key
        self.folder.mkdir(parents=True, exist_ok=True)
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self.dataset)

    def path_of(self, index: int) -> Path:
        return self.folder / f"{index:07d}.npz"

    def __getitem__(self, index: int) -> Sample:  # type: ignore[override]
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for a dataset of length {len(self)}")
        index %= len(self)
        path = self.path_of(index)
        if path.is_file():
            try:
                sample = load_sample(path)
                self.hits += 1
                return sample
            except (OSError, ValueError, KeyError, json.JSONDecodeError):
                pass  # a damaged or foreign file: decode again and overwrite it
        self.misses += 1
        sample = self.dataset[index]
        if self.max_side is not None:
            sample = shrink_sample(sample, self.max_side)
        save_sample(sample, path)
        return sample

    def num_masks(self, index: int) -> int | None:
        counter = getattr(self.dataset, "num_masks", None)
        return counter(index) if counter is not None else None

    def __getattr__(self, name: str) -> Any:  # describe(), skipped, options of the wrapped plugin
        if name == "dataset":
            raise AttributeError(name)
        return getattr(self.dataset, name)
