"""`npz-folder`: a samunet-tune dataset plugin, registered through an entry point.

Reads a folder of ``.npz`` files, each holding an ``image`` array (HxW or HxWx3) and a ``label``
array (HxW integer class ids, 0 = background), plus an optional ``classes.json`` in the folder
mapping ids to names (``{"1": "liver"}``). One file is one sample.

It shows the three things a plugin does: take keyword options (the location first), build a
cheap index in the constructor, and return `Sample`s from ``__getitem__``. It reuses
samunet-tune's shared helpers so that bad input is reported like in the built-ins.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from samunet_tune.data.base import PluginDataset
from samunet_tune.data.errors import CORRUPT_FILE, MISSING_FILE, DataError
from samunet_tune.data.masks import masks_from_values, normalize_classes
from samunet_tune.data.sample import Sample


class NpzFolderDataset(PluginDataset):
    """One sample per ``.npz`` file in a folder.

    Args:
        root: the folder.
        modality: the modality of every sample ("ct", "mr", ...).
        on_error: "raise" (default) or "skip" bad files, counting them.
        verify: decode every file while indexing.
    """

    plugin_name = "npz-folder"

    def __init__(self, root: str | Path, modality: str | None = None, on_error: str = "raise",
                 verify: bool = False) -> None:
        super().__init__(on_error=on_error, verify=verify,
                         options={"root": str(root), "modality": modality, "on_error": on_error, "verify": verify})
        self.root, self.modality = Path(root), modality
        files = sorted(self.root.glob("*.npz"))
        if not files:
            raise DataError(MISSING_FILE, self.root, "holds no .npz file", "check the folder")
        classes_file = self.root / "classes.json"
        self.classes = normalize_classes(json.loads(classes_file.read_text())) if classes_file.is_file() else None
        self._set_records(files)  # the index: just the file paths

    def _load(self, record: Path) -> Sample:
        try:
            with np.load(record, allow_pickle=False) as arrays:
                image, label = arrays["image"], arrays["label"]
        except (OSError, ValueError, KeyError) as error:
            raise DataError(CORRUPT_FILE, record, f"cannot be read as image + label ({error!r})",
                            "write it with np.savez(path, image=..., label=...)") from error
        masks = masks_from_values(label, image_size=image.shape[:2], path=record, policy=self.errors,
                                  classes=self.classes or {int(v): f"label_{int(v)}" for v in np.unique(label) if v})
        return Sample(image=image, masks=masks, sample_id=record.stem, modality=self.modality, source=record.name)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "classes": self.classes}
