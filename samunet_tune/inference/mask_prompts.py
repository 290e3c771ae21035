"""`--prompts-from-masks`: ground-truth masks -> one tight box per object, kept for metrics.

Objects are found the way evaluation finds them: a binary mask is one object; a label image or
volume gives one object per label value (per slice for volumes); the box is the tight box of
the object's largest 8-connected component. The mask files must match INPUT:

* an image: one mask image of the same size;
* a folder of images: a folder with a mask per image, at the same relative path or the same
  stem with any image suffix (images without a mask are left out, masks without an image are
  an error);
* a NIfTI volume: a label volume of the same shape;
* a DICOM series: an NRRD/NIfTI label volume drawn on it, or a DICOM SEG.

Mask images that are JPEG, colour, or hold one non-zero value are binary (threshold 128 for
0-255 masks, as the Kvasir masks need); lossless masks with several values are label maps.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from samunet_tune.data.prompts import box_from_mask
from samunet_tune.inference.inputs import NIFTI_SUFFIXES, PredictInput
from samunet_tune.inference.prompt_files import Prompt, PromptError

LOSSY_SUFFIXES = (".jpg", ".jpeg")


def mask_objects(values: np.ndarray, path: Path) -> list[tuple[int, np.ndarray]]:
    """(label value, bool mask) for each object of a 2D mask image's values."""
    from samunet_tune.data.masks import binary_mask, integer_labels

    values = np.asarray(values)
    nonzero = np.unique(values[values != 0]) if values.ndim == 2 else np.array([])
    if values.ndim == 3 or path.suffix.lower() in LOSSY_SUFFIXES or nonzero.size <= 1:
        mask = binary_mask(values)
        return [(1, mask)] if mask.any() else []
    labels = integer_labels(values, path)
    return [(int(v), labels == v) for v in np.unique(labels) if v != 0]


def _prompts(objects: list[tuple[int, np.ndarray]], origin: str) -> list[Prompt]:
    return [Prompt(origin=f"{origin} label {label}", label=label, box=box_from_mask(mask).astype(np.float64),
                   target=mask) for label, mask in objects if mask.any()]


def prompts_from_masks(mask_path: str | Path, source: PredictInput) -> dict[str, list[Prompt]]:
    """Prompts (with their target masks) per frame key; raises when nothing usable is found."""
    mask_path = Path(mask_path)
    if not mask_path.exists():
        raise PromptError(f"{mask_path} does not exist: --prompts-from-masks takes the ground-truth mask file or folder")
    if source.kind == "image":
        prompts = {next(iter(source.frames)): _image_prompts(mask_path, source, next(iter(source.frames)))}
    elif source.kind == "folder":
        prompts = _folder_prompts(mask_path, source)
    elif source.kind == "nifti":
        prompts = _volume_prompts(_nifti_labels(mask_path, source), mask_path)
    else:
        prompts = _volume_prompts(_dicom_labels(mask_path, source), mask_path)
    prompts = {key: found for key, found in prompts.items() if found}
    if not prompts:
        raise PromptError(f"{mask_path}: no mask has a foreground pixel, so there is nothing to prompt with")
    return prompts


def _image_prompts(mask_file: Path, source: PredictInput, key: str) -> list[Prompt]:
    from samunet_tune.data.image_files import image_file_size, read_mask_values

    if mask_file.is_dir():
        raise PromptError(f"{mask_file} is a folder; for the single image {source.path} give its mask file")
    values = read_mask_values(mask_file)
    size = image_file_size(source.frames[key].path)
    if tuple(values.shape[:2]) != tuple(size):
        raise PromptError(f"{mask_file}: the mask is {values.shape[0]}x{values.shape[1]} but its image "
                          f"{source.frames[key].path} is {size[0]}x{size[1]}")
    return _prompts(mask_objects(values, mask_file), mask_file.name)


def _folder_prompts(mask_folder: Path, source: PredictInput) -> dict[str, list[Prompt]]:
    from samunet_tune.data.image_files import list_image_files

    if not mask_folder.is_dir():
        raise PromptError(f"{mask_folder} is not a folder; for a folder of images give a folder of masks")
    masks = list_image_files(mask_folder, recursive=True)
    by_stem = {m.relative_to(mask_folder).with_suffix("").as_posix(): m for m in masks}
    if len(by_stem) < len(masks):
        raise PromptError(f"{mask_folder}: several masks share a name with different suffixes; keep one per image")
    image_stems = {frame.output_stem: key for key, frame in source.frames.items()}
    orphans = sorted(set(by_stem) - set(image_stems))
    if orphans:
        raise PromptError(f"{mask_folder}: mask(s) {orphans[:5]} have no image in {source.path} (same relative "
                          "path and stem); remove them or fix the names")
    return {key: _image_prompts(by_stem[stem], source, key) for stem, key in image_stems.items() if stem in by_stem}


def _nifti_labels(mask_path: Path, source: PredictInput) -> np.ndarray:
    import nibabel as nib

    from samunet_tune.data.masks import integer_labels

    if not mask_path.name.lower().endswith(NIFTI_SUFFIXES):
        raise PromptError(f"{mask_path}: for a NIfTI volume give a NIfTI label volume (.nii or .nii.gz)")
    try:
        image = nib.load(mask_path)
        labels = np.asarray(image.dataobj)
    except Exception as error:
        raise PromptError(f"{mask_path}: cannot be read as NIfTI ({error})") from error
    labels = labels[..., 0] if labels.ndim == 4 and labels.shape[3] == 1 else labels
    if tuple(labels.shape) != tuple(source.volume_shape):
        raise PromptError(f"{mask_path}: the label volume has shape {labels.shape} but {source.path} has "
                          f"{source.volume_shape}; give the labels drawn on this volume")
    if not np.allclose(image.affine, source.meta["image"].affine, atol=1e-3):
        raise PromptError(f"{mask_path}: its affine differs from {source.path}'s; the labels lie on another grid")
    return np.moveaxis(integer_labels(labels, mask_path), source.meta["axis"], 0)


def _dicom_labels(mask_path: Path, source: PredictInput) -> np.ndarray:
    from samunet_tune.data.dicom_series import read_label_volume, read_seg, sample_on_series
    from samunet_tune.data.errors import DataError
    from samunet_tune.data.masks import integer_labels

    series = source.meta["series"]
    try:
        if mask_path.suffix.lower() == ".dcm":
            segments = read_seg(mask_path, series)
            labels = np.zeros((len(series.paths), *series.shape), dtype=np.int32)
            for value, per_slice in enumerate(segments.values(), start=1):
                for k, plane in per_slice.items():
                    labels[k][plane] = value
            return labels
        values, affine = read_label_volume(mask_path)
        return integer_labels(sample_on_series(values, affine, series, mask_path), mask_path)
    except DataError as error:
        raise PromptError(str(error)) from error


def _volume_prompts(labels: np.ndarray, mask_path: Path) -> dict[str, list[Prompt]]:
    prompts = {}
    for k, plane in enumerate(labels):
        objects = [(int(v), plane == v) for v in np.unique(plane) if v != 0]
        prompts[str(k)] = _prompts(objects, f"{mask_path.name} slice {k}")
    return prompts
