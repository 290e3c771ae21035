"""`dicom`: one DICOM image series (pydicom), masks from a DICOM SEG or an NRRD/NIfTI label file.

Slices are sorted along the slice normal (ImagePositionPatient, then InstanceNumber), the modality
LUT (RescaleSlope/Intercept) turns stored values into HU, and a window maps HU to uint8. Masks
are placed on slices by patient coordinates (see samunet_tune.data.dicom_series).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from samunet_tune.data.base import PluginDataset
from samunet_tune.data.dicom_series import read_label_volume, read_seg, read_series, sample_on_series
from samunet_tune.data.errors import IMAGE_WITHOUT_MASK, DataError
from samunet_tune.data.intensity import apply_window, resolve_window
from samunet_tune.data.masks import integer_labels, normalize_classes
from samunet_tune.data.sample import MaskAnnotation, Sample
from samunet_tune.data.volumes import label_values


class DicomDataset(PluginDataset):
    """The slices of one DICOM series, with masks from a SEG or a label file.

    Args:
        root: the series folder (other files in it, such as the SEG or an NRRD, are allowed).
        seg: a DICOM SEG file (relative to `root`); unset, a single SEG in `root` is used.
        labels: an NRRD or NIfTI label volume (relative to `root`) drawn on this series; used
            instead of a SEG.
        classes: `labels` only: ``{value: class name}``; unset, value v is class "label_v".
        series_uid: which series, when `root` holds several.
        window: "header" (WindowCenter/Width of the first slice), a preset ("abdomen", "lung",
            "bone", "brain", ...), [level, width], or None to keep HU as float32.
        slices: "foreground" keeps slices with a mask; "all" keeps every slice.
        min_foreground_pixels: smallest mask kept.
        on_error: "raise" or "skip" (see samunet_tune.data.errors).
        verify: decode every sample while indexing (see samunet_tune.data.base).
    """

    plugin_name = "dicom"

    def __init__(self, root: str | Path, seg: str | None = None, labels: str | None = None,
                 classes: dict | list | None = None, series_uid: str | None = None,
                 window: str | list | None = "header", slices: str = "foreground",
                 min_foreground_pixels: int = 1, on_error: str = "raise", verify: bool = False) -> None:
        options = {k: v for k, v in locals().items() if k not in ("self", "__class__")}
        options["root"] = str(root)
        super().__init__(on_error=on_error, verify=verify, options=options)
        self.root = Path(root)
        self.series, segs, self.ignored_files = read_series(self.root, self.errors, series_uid)
        self.window = self._resolve_window(window)
        self.masks = self._read_masks(seg, labels, normalize_classes(classes), segs, slices == "all")
        records = []
        for k in range(len(self.series.paths)):
            present = tuple(name for name, per_slice in self.masks.items()
                            if k in per_slice and per_slice[k].sum() >= min_foreground_pixels)
            if present or slices == "all":
                records.append((k, present))
        self._set_records(records)

    def _resolve_window(self, window: Any) -> tuple[float, float] | None:
        if window != "header":
            return None if window is None else resolve_window(window)
        if self.series.header_window is None:
            raise ValueError(f"{self.series.paths[0]}: has no WindowCenter/WindowWidth for window='header'. "
                             "Fix: pass window='abdomen' (or another preset), [level, width], or None")
        return self.series.header_window

    def _read_masks(self, seg: str | None, labels: str | None, classes: dict | None,
                    segs: list[Path], masks_optional: bool) -> dict[str, dict[int, np.ndarray]]:
        if labels is not None:
            path = self.root / labels
            values, affine = read_label_volume(path)
            on_series = integer_labels(sample_on_series(values, affine, self.series, path), path)
            masks: dict[str, dict[int, np.ndarray]] = {}
            for value in label_values(on_series, classes, path, self.errors):
                per_slice = {k: plane == value for k, plane in enumerate(on_series)}
                masks[classes[value] if classes else f"label_{value}"] = {k: m for k, m in per_slice.items() if m.any()}
            return masks
        if seg is None:
            if not segs and masks_optional:
                return {}
            if len(segs) != 1:
                raise DataError(IMAGE_WITHOUT_MASK, self.root, f"has {len(segs)} DICOM SEG files and no labels= given",
                                "pass seg= the SEG file or labels= an NRRD/NIfTI label volume")
            return read_seg(segs[0], self.series)
        return read_seg(self.root / seg, self.series)

    def _record_mask_count(self, record: Any) -> int | None:
        return len(record[1])

    def _load(self, record: Any) -> Sample:
        k, present = record
        hounsfield = self.series.hounsfield(k)
        image = apply_window(hounsfield, *self.window) if self.window is not None else hounsfield
        masks = [MaskAnnotation(self.masks[name][k], name, f"{name} on {self.series.paths[k].name}")
                 for name in present]
        modality = self.series.modality.lower() if self.series.modality else None
        return Sample(image=image, masks=masks, sample_id=self.series.paths[k].stem, spacing=self.series.pixel_spacing,
                      modality=modality, source=str(self.series.paths[k]),
                      meta={"slice_index": k, "sop_instance_uid": self.series.sop_uids[k]})
