"""`sa-med2d`: the SA-Med2D-16M / SAM-Med2D json layout.

``image2label_train.json`` maps image -> [masks] (split "train"); ``label2image_test.json`` maps
mask -> image (split "test"). Paths in both are relative to `root`; the json files sit in
`root` or in one folder below it (the demo keeps them in ``data_demo/``).

Class names come from mask file names, ``<image stem>_<class>_<NNN>.png``: the image stem and
the instance number are removed, the rest (underscores included) is the class, or its entry in
`class_map`. Modality is the file-name prefix before the first ``_`` (``ct_00--...`` -> "ct"),
kept only when it is a known SA-Med2D modality: the demo's names (``amos_0004_75.png``,
``s0114_111.png``) start with a source data-set name instead, so their modality is None
unless the `modality` option sets it; the prefix is kept in ``meta["name_prefix"]``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from samunet_tune.data import image_files
from samunet_tune.data.base import PluginDataset
from samunet_tune.data.errors import (IMAGE_WITHOUT_MASK, MASK_WITHOUT_IMAGE, MISSING_FILE, OUTSIDE_ROOT,
                                      DataError)
from samunet_tune.data.masks import masks_from_file
from samunet_tune.data.sample import Sample

JSON_FILES = {"train": "image2label_train.json", "test": "label2image_test.json"}
KNOWN_MODALITIES = {"ct", "mr", "pet", "x", "us", "ultrasound", "endoscopy", "fundus", "dermoscopy", "microscopy"}
_INSTANCE_SUFFIX = re.compile(r"[_-]+\d+$")


def class_from_mask_name(mask_stem: str, image_stem: str) -> str:
    """``amos_0004_75_inferior_vena_cava_000`` with image ``amos_0004_75`` -> "inferior_vena_cava"."""
    rest = mask_stem[len(image_stem):] if mask_stem.startswith(image_stem) else mask_stem
    rest = _INSTANCE_SUFFIX.sub("", rest).strip("_-")
    return rest or "foreground"


class SaMed2dDataset(PluginDataset):
    """SA-Med2D-16M / SAM-Med2D data: images, masks and the two json index files.

    Args:
        root: the folder the json paths are relative to (``sa-med2d-demo`` for the demo).
        split: "train" (image2label_train.json) or "test" (label2image_test.json).
        json_file: another index file (relative to `root`), in the layout of `split`.
        modality: the modality of every sample, overriding the file-name prefix.
        class_map: rename classes taken from file names (``{"0000": "liver"}``).
        threshold: masks are 0/255 PNGs; values >= threshold are foreground.
        on_error: "raise" or "skip" (see samunet_tune.data.errors).
        verify: decode every sample while indexing (see samunet_tune.data.base).
    """

    plugin_name = "sa-med2d"

    def __init__(self, root: str | Path, split: str = "train", json_file: str | None = None,
                 modality: str | None = None, class_map: dict[str, str] | None = None,
                 threshold: float = 128, on_error: str = "raise", verify: bool = False) -> None:
        options = {k: v for k, v in locals().items() if k not in ("self", "__class__")}
        options["root"] = str(root)
        super().__init__(on_error=on_error, verify=verify, options=options)
        if split not in JSON_FILES:
            raise ValueError(f"split={split!r}: expected one of {sorted(JSON_FILES)}")
        self.root, self.modality, self.threshold = Path(root), modality, threshold
        self.class_map = {str(k): str(v) for k, v in (class_map or {}).items()}
        self.index_path = self.root / json_file if json_file else self._find_json(JSON_FILES[split])
        entries = json.loads(self.index_path.read_text())
        if split == "test":  # mask -> image; regroup by image, keeping the file's order
            grouped: dict[str, list[str]] = {}
            for mask, image in entries.items():
                grouped.setdefault(image, []).append(mask)
            entries = grouped
        self._set_records([r for image, masks in entries.items() if (r := self._record(image, masks))])

    def _find_json(self, name: str) -> Path:
        found = [self.root / name] if (self.root / name).is_file() else sorted(self.root.glob(f"*/{name}"))
        if len(found) != 1:
            where = "several places: " + ", ".join(map(str, found)) if found else "neither it nor a subfolder"
            raise DataError(MISSING_FILE, self.root / name, f"index file not found uniquely ({where})",
                            "pass root= the folder the json paths are relative to, or json_file=")
        return found[0]

    def _inside_root(self, entry: str) -> Path | None:
        path = (self.root / entry).resolve()
        if path.is_relative_to(self.root.resolve()):
            return path
        self.errors.handle(DataError(OUTSIDE_ROOT, f"{self.index_path} entry {entry!r}",
                                     f"points outside the root {self.root}",
                                     "keep every path relative to the root, without '..'; move the file in"))
        return None

    def _record(self, image_entry: str, mask_entries: list[str]) -> tuple | None:
        image = self._inside_root(image_entry)
        if image is None:
            return None
        if not mask_entries:
            self.errors.handle(DataError(IMAGE_WITHOUT_MASK, image, f"has no masks in {self.index_path}",
                                         "add its masks to the json, or remove the image entry"))
            return None
        masks = [m for m in map(self._inside_root, mask_entries) if m is not None]
        if not image.is_file():
            self.errors.handle(DataError(MASK_WITHOUT_IMAGE, image, f"is listed in {self.index_path} with "
                                         f"{len(masks)} mask(s) but does not exist", "add the image or fix the json"))
            return None
        for missing in [m for m in masks if not m.is_file()]:
            self.errors.handle(DataError(MISSING_FILE, missing, f"is listed in {self.index_path} but does not exist",
                                         "add the mask file or remove it from the json"))
            masks.remove(missing)
        return (image, masks) if masks else None

    def _record_mask_count(self, record: Any) -> int | None:
        return len(record[1])

    def _load(self, record: Any) -> Sample:
        image_path, mask_paths = record
        image = image_files.read_image(image_path)
        prefix = image_path.stem.split("_", 1)[0]
        modality = self.modality or (prefix.lower() if prefix.lower() in KNOWN_MODALITIES else None)
        masks = []
        for mask_path in mask_paths:
            raw_class = class_from_mask_name(mask_path.stem, image_path.stem)
            masks += masks_from_file(mask_path, image_size=image.shape[:2], policy=self.errors,
                                     threshold=self.threshold, class_name=self.class_map.get(raw_class, raw_class),
                                     source=mask_path.relative_to(self.root.resolve()).as_posix())
        return Sample(image=image, masks=masks, sample_id=image_path.stem, modality=modality,
                      source=image_path.relative_to(self.root.resolve()).as_posix(),
                      meta={"name_prefix": prefix})
