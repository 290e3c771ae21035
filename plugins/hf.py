"""`hf`: a Hugging Face `datasets` dataset, from a local folder or the Hub.

A local folder written by ``save_to_disk`` is opened with ``load_from_disk``; any other local
folder (parquet, imagefolder, a loading script's repo) with ``load_dataset``; anything else is a
Hub id. Image columns are decoded here (not by ``datasets``), so a broken cell is a DataError
naming its row and column.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from samunet_tune.data import image_files
from samunet_tune.data.base import PluginDataset
from samunet_tune.data.errors import MISSING_FILE, DataError
from samunet_tune.data.masks import masks_from_values, normalize_classes
from samunet_tune.data.sample import Sample

DEFAULT_COLUMNS = {"image": "image", "mask": "mask"}


def _hub_reachable(timeout: float = 3.0) -> str | None:
    """None if the Hub endpoint answers a TCP connect, else why not (instead of 20 s of retries)."""
    endpoint = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    try:
        socket.create_connection((endpoint.hostname, endpoint.port or 443), timeout=timeout).close()
    except OSError as error:
        return f"{endpoint.hostname} is unreachable ({error})"
    return None


def open_hf_dataset(path: str, split: str, revision: str | None = None, cache_dir: str | None = None) -> Any:
    """A `datasets.Dataset` for `split` of a local folder or Hub id (see the module docstring)."""
    import datasets

    local = Path(path)
    if local.exists():
        if (local / "dataset_dict.json").is_file() or (local / "state.json").is_file():
            loaded = datasets.load_from_disk(str(local))
            if isinstance(loaded, datasets.DatasetDict):
                if split not in loaded:
                    raise ValueError(f"{path}: has splits {list(loaded)}, not {split!r}. Fix: pass split= one of them")
                loaded = loaded[split]
            return loaded
        return datasets.load_dataset(str(local), split=split, cache_dir=cache_dir)
    offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
    problem = "HF_HUB_OFFLINE is set and it is not in the local cache" if offline else _hub_reachable()
    fix = (f"download it while online (datasets.load_dataset({path!r}).save_to_disk(FOLDER)) and pass that "
           "folder, or check the id")
    if problem is not None and not offline:
        raise DataError(MISSING_FILE, path,
                        f"is not a local folder and the Hugging Face Hub cannot be reached: {problem}", fix)
    try:
        return datasets.load_dataset(path, split=split, revision=revision, cache_dir=cache_dir)
    except (ConnectionError, FileNotFoundError) as error:
        raise DataError(MISSING_FILE, path, f"cannot be loaded from the Hub or the local cache ({problem or error})",
                        fix) from error


class HuggingFaceDataset(PluginDataset):
    """Rows of a `datasets` dataset: an image column and a mask column.

    Args:
        path: a local folder (``save_to_disk`` output or loadable by ``load_dataset``) or a Hub id.
        split: the split to use.
        column_map: which columns hold what: ``image``, ``mask`` (a label image, or a list of
            binary masks), optional ``label`` (class ids of a list of masks) and ``id``.
        id2label: ``{value: class name}``: the mask is a label image (one mask per value), or
            the names of the ids in the ``label`` column. Unset: binary masks of `class_name`.
        threshold: binary masks: values >= threshold are foreground (0/1 masks read as is).
        class_name: the class of binary masks.
        modality: the modality of every sample.
        revision: Hub revision (branch, tag or commit).
        cache_dir: where ``load_dataset`` keeps its Arrow files (default: the datasets cache).
        on_error: "raise" or "skip" (see samunet_tune.data.errors).
        verify: decode every sample while indexing (see samunet_tune.data.base).
    """

    plugin_name = "hf"

    def __init__(self, path: str | Path, split: str = "train", column_map: dict[str, str] | None = None,
                 id2label: dict | list | None = None, threshold: float = 128, class_name: str = "foreground",
                 modality: str | None = None, revision: str | None = None, cache_dir: str | None = None,
                 on_error: str = "raise", verify: bool = False) -> None:
        options = {k: v for k, v in locals().items() if k not in ("self", "__class__")}
        options["path"] = str(path)
        super().__init__(on_error=on_error, verify=verify, options=options)
        self.name, self.split = str(path), split
        self.columns = {**DEFAULT_COLUMNS, **(column_map or {})}
        self.id2label, self.threshold = normalize_classes(id2label), threshold
        self.class_name, self.modality = class_name, modality
        table = open_hf_dataset(str(path), split, revision, None if cache_dir is None else str(cache_dir))
        missing = [f"{role}={column!r}" for role, column in self.columns.items() if column not in table.column_names]
        if missing:
            raise ValueError(f"{path} [{split}]: no column(s) {missing}; columns are {table.column_names}. "
                             "Fix: pass column_map={'image': ..., 'mask': ...}")
        self.table = table.with_format("arrow")  # raw cells: images are decoded here, with our errors
        self._set_records(list(range(len(table))))

    def _array(self, cell: Any, where: str, mask: bool) -> np.ndarray:
        if isinstance(cell, dict) and ("bytes" in cell or "path" in cell):
            if cell.get("bytes") is not None:
                return image_files.decode_image_bytes(cell["bytes"], where, mask=mask)
            return (image_files.read_mask_values if mask else image_files.read_image)(cell["path"])
        return np.asarray(cell)

    def _load(self, record: Any) -> Sample:
        row = self.table[record].to_pylist()[0]  # a one-row pyarrow Table
        where = f"{self.name}[{self.split}][{record}]"
        image = self._array(row[self.columns["image"]], f"{where}.{self.columns['image']}", mask=False)
        cell, mask_where = row[self.columns["mask"]], f"{where}.{self.columns['mask']}"
        common = {"image_size": image.shape[:2], "policy": self.errors, "threshold": self.threshold}
        if isinstance(cell, list) and not (cell and np.isscalar(cell[0])):  # a list of binary masks
            ids = row.get(self.columns.get("label", ""), None) or [None] * len(cell)
            masks = []
            for j, (item, class_id) in enumerate(zip(cell, ids)):
                name = self.class_name if class_id is None else str(class_id)
                if self.id2label and class_id is not None:
                    name = self.id2label.get(int(class_id), name)
                where_j = f"{mask_where}[{j}]"
                values = self._array(item, where_j, mask=True)
                masks += masks_from_values(values, path=where_j, class_name=name, **common)
        else:
            masks = masks_from_values(self._array(cell, mask_where, mask=True), path=mask_where, classes=self.id2label,
                                      class_name=self.class_name, **common)
        sample_id = str(row[self.columns["id"]]) if "id" in self.columns else f"{self.split}-{record:06d}"
        return Sample(image=image, masks=masks, sample_id=sample_id, modality=self.modality, source=where)
