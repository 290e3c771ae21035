"""`nifti`: 3D image volumes and label volumes (nibabel), served as 2D slices along one axis.

Slices are taken in voxel order as stored (no reorientation). Intensities are mapped per volume:
a CT window when `window` is given, else the `percentiles` of the volume (MR); both give uint8.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np

from samunet_tune.data.base import PluginDataset
from samunet_tune.data.errors import CORRUPT_FILE, IMAGE_WITHOUT_MASK, SHAPE_MISMATCH, DataError
from samunet_tune.data.intensity import resolve_window
from samunet_tune.data.masks import integer_labels, normalize_classes
from samunet_tune.data.sample import MaskAnnotation, Sample
from samunet_tune.data.volumes import VolumeCache, label_values, map_intensities, slices_with_labels


def _stem(name: str) -> str:
    return re.sub(r"\.nii(\.gz)?$", "", name)


class NiftiDataset(PluginDataset):
    """Image volumes with label volumes, one sample per kept slice.

    Args:
        root: the dataset folder.
        images: glob of the image volumes, relative to `root` ("imagesTr/*.nii.gz", MSD layout).
        labels: the label volume of an image, relative to `root`. Fields: ``{name}`` (image file
            name), ``{stem}`` (without .nii/.nii.gz), ``{case}`` (stem without an nnU-Net
            ``_0000`` channel suffix), ``{dir}`` (the image's folder relative to `root`).
        axis: the voxel axis to slice along (2 for axial in most files).
        slices: "foreground" keeps slices with at least `min_foreground_pixels` labelled
            pixels; "all" keeps every slice (those without labels have no masks).
        min_foreground_pixels: smallest mask kept, per class and slice.
        classes: ``{label value: class name}``; other non-zero values are unknown-class errors.
            Unset: every non-zero value v becomes class "label_v".
        window: CT window, a preset name ("abdomen", "lung", "bone", "brain", ...) or [level, width].
        percentiles: without `window`, map these percentiles of the volume to 0 and 255;
            None keeps the raw values (float).
        modality: the modality of every sample; default "ct" with a window, else None.
        on_error: "raise" or "skip" (see samunet_tune.data.errors).
        verify: decode every sample while indexing (see samunet_tune.data.base).
    """

    plugin_name = "nifti"

    def __init__(self, root: str | Path, images: str = "imagesTr/*.nii.gz", labels: str = "labelsTr/{name}",
                 axis: int = 2, slices: str = "foreground", min_foreground_pixels: int = 1,
                 classes: dict | list | None = None, window: str | list | None = None,
                 percentiles: list | tuple | None = (0.5, 99.5), modality: str | None = None,
                 on_error: str = "raise", verify: bool = False) -> None:
        options = {k: v for k, v in locals().items() if k not in ("self", "__class__")}
        options["root"] = str(root)
        super().__init__(on_error=on_error, verify=verify, options=options)
        if slices not in ("foreground", "all") or axis not in (0, 1, 2):
            raise ValueError(f"slices={slices!r} must be 'foreground' or 'all' and axis={axis!r} 0, 1 or 2")
        self.root, self.axis, self.classes = Path(root), axis, normalize_classes(classes)
        self.window = resolve_window(window) if window is not None else None
        self.percentiles = percentiles
        self.modality = modality or ("ct" if window is not None else None)
        self._cases: list[dict[str, Any]] = []
        self._volumes = VolumeCache(self._load_case)
        image_paths = sorted(self.root.glob(images))
        if not image_paths:
            raise DataError(IMAGE_WITHOUT_MASK, self.root / images, "matches no image volume", "check root and images")
        records = []
        for image_path in image_paths:
            records += self._index_case(image_path, labels, slices, min_foreground_pixels)
        self._set_records(records)

    def _index_case(self, image_path: Path, labels: str, slices: str, min_pixels: int) -> list[tuple]:
        relative = image_path.relative_to(self.root)
        stem = _stem(image_path.name)
        label_path = self.root / labels.format(name=image_path.name, stem=stem, case=re.sub(r"_\d{4}$", "", stem),
                                               dir=relative.parent.as_posix())
        try:
            if not label_path.is_file():
                raise DataError(IMAGE_WITHOUT_MASK, image_path, f"has no label volume (looked for {label_path})",
                                f"add it, fix the labels pattern (now {labels!r}), or on_error='skip'")
            image_shape = nib.load(image_path).shape
            label_image = nib.load(label_path)
            if tuple(image_shape) != tuple(label_image.shape):
                raise DataError(SHAPE_MISMATCH, label_path, f"has shape {label_image.shape} but its image "
                                f"{image_path.name} has {image_shape}", "pair each image with its own label volume "
                                "(check the labels pattern) or resample the label onto the image grid")
            label = np.moveaxis(integer_labels(np.asarray(label_image.dataobj), label_path), self.axis, 0)
        except DataError as error:
            self.errors.handle(error)
            return []
        except Exception as error:  # nibabel's many ways to fail on a damaged file
            self.errors.handle(DataError(CORRUPT_FILE, image_path, f"or its label cannot be read ({error})",
                                         "re-export the volumes, or on_error='skip'"))
            return []
        values = label_values(label, self.classes, label_path, self.errors)
        zooms = label_image.header.get_zooms()[:3]
        row_axis, col_axis = [a for a in range(3) if a != self.axis]
        case_id = relative.parent.as_posix() if relative.parent.as_posix() != "." else stem
        self._cases.append({"image": image_path, "label": label_path, "id": case_id,
                            "spacing": (float(zooms[row_axis]), float(zooms[col_axis]))})
        case_index = len(self._cases) - 1
        kept = slices_with_labels(label, values, min_pixels, keep_empty=slices == "all")
        return [(case_index, k, present) for k, present in kept]

    def _record_mask_count(self, record: Any) -> int | None:
        return len(record[2])

    def _class_name(self, value: int) -> str:
        return self.classes[value] if self.classes is not None else f"label_{value}"

    def _load_case(self, case_index: int) -> tuple[np.ndarray, np.ndarray]:
        case = self._cases[case_index]
        try:
            image = np.moveaxis(np.asarray(nib.load(case["image"]).dataobj), self.axis, 0)
            label = np.moveaxis(np.asarray(nib.load(case["label"]).dataobj), self.axis, 0)
        except Exception as error:
            raise DataError(CORRUPT_FILE, case["image"], f"or its label cannot be read ({error})",
                            "re-export the volumes") from error
        return map_intensities(image, self.window, self.percentiles), integer_labels(label, case["label"])

    def _load(self, record: Any) -> Sample:
        case_index, k, present = record
        case = self._cases[case_index]
        image, label = self._volumes(case_index)
        masks = [MaskAnnotation(label[k] == v, self._class_name(v), f"{case['label'].name} label {v} slice {k}")
                 for v in present]
        return Sample(image=image[k], masks=masks, sample_id=f"{case['id']}/axis{self.axis}_{k:03d}",
                      spacing=case["spacing"], modality=self.modality, source=str(case["image"]),
                      meta={"case": case["id"], "slice_index": k, "axis": self.axis})
