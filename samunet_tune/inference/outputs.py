"""Writing predictions in the input's own format, and overlays people can look at.

* images: one binary PNG (0/255) per prompt label, ``masks/<image stem>_<label>.png``;
* NIfTI volumes: one label volume ``masks/<stem>.nii.gz`` with the input's affine and header
  (data type set to the labels'), voxel value = the prompt's label;
* DICOM series: the same as NIfTI, with the affine of the series (patient LPS turned to
  NIfTI's RAS), array axes (column, row, slice) as dcm2niix writes them;
* overlays: ``overlays/<stem>.png``, the image with each mask tinted and outlined in its
  colour, the ground truth (when known) outlined in white, and each box and point (green
  positive, red negative) drawn on top.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from samunet_tune.data.inspect import MASK_COLOURS, display_image

POSITIVE, NEGATIVE = (0, 220, 0), (230, 0, 0)
RAS_FROM_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def colour_of(number: int) -> tuple[int, int, int]:
    """The overlay colour of the number-th mask of an image (the first is magenta)."""
    return _rgb(MASK_COLOURS[number % len(MASK_COLOURS)])


def _outline(mask: np.ndarray, thickness: int) -> np.ndarray:
    outline = mask & ~ndimage.binary_erosion(mask, border_value=0)
    return ndimage.binary_dilation(outline, iterations=thickness - 1) if thickness > 1 else outline


def draw_overlay(image: np.ndarray, masks: list[np.ndarray], prompts: list,
                 targets: list[np.ndarray | None] | None = None) -> Image.Image:
    """The image (grey or colour, any dtype) with masks tinted and outlined, and their prompts.

    Args:
        image: HxW or HxWx3.
        masks: bool HxW per prompt.
        prompts: objects with `box` ((4,) or None), `points` ((P, 2) or None), `point_labels`.
        targets: ground-truth masks (or None) per prompt, outlined in white.
    """
    canvas = (display_image(image) * 255.0).round().astype(np.uint8)
    height, width = canvas.shape[:2]
    thickness = max(1, round(max(height, width) / 400))
    for number, mask in enumerate(masks):
        colour = np.array(colour_of(number), dtype=np.float32)
        mask = np.asarray(mask, dtype=bool)
        canvas[mask] = (0.65 * canvas[mask] + 0.35 * colour).astype(np.uint8)
        canvas[_outline(mask, thickness)] = colour.astype(np.uint8)
    for target in targets or ():
        if target is not None:
            canvas[_outline(np.asarray(target, dtype=bool), thickness)] = 255
    picture = Image.fromarray(canvas)
    draw = ImageDraw.Draw(picture)
    radius = 2 + 2 * thickness
    for number, prompt in enumerate(prompts):
        if prompt.box is not None:
            draw.rectangle([float(v) for v in prompt.box], outline=colour_of(number), width=thickness)
        if prompt.points is not None:
            for (x, y), label in zip(prompt.points, prompt.point_labels):
                if label < 0:
                    continue
                draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=POSITIVE if label else NEGATIVE,
                             outline=(0, 0, 0))
    return picture


def write_binary_png(path: Path, mask: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(mask, dtype=np.uint8) * 255).save(path)
    return path


def label_dtype(labels: np.ndarray) -> type:
    return np.uint8 if int(labels.max(initial=0)) <= 255 else np.uint16


def write_nifti_labels(path: Path, labels: np.ndarray, reference) -> Path:
    """A label volume on the grid of the nibabel image `reference` (same affine, header copied)."""
    import nibabel as nib

    labels = labels.astype(label_dtype(labels))
    header = reference.header.copy()
    header.set_data_dtype(labels.dtype)
    header.set_slope_inter(1.0, 0.0)  # the image may scale its values; labels must not be
    output = nib.Nifti1Image(labels, reference.affine, header)
    output.set_qform(reference.get_qform(), code=int(reference.header["qform_code"]))
    output.set_sform(reference.get_sform(), code=int(reference.header["sform_code"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(output, path)
    return path


def dicom_affine(series) -> np.ndarray:
    """4x4 RAS affine of a DICOM series for arrays indexed (column, row, slice)."""
    lps = np.eye(4)
    lps[:3, 0] = series.row_cosine * series.pixel_spacing[1]
    lps[:3, 1] = series.column_cosine * series.pixel_spacing[0]
    if len(series.positions) > 1:
        lps[:3, 2] = (series.positions[-1] - series.positions[0]) / (len(series.positions) - 1)
    else:
        lps[:3, 2] = series.normal
    lps[:3, 3] = series.positions[0]
    return RAS_FROM_LPS @ lps


def write_dicom_labels(path: Path, labels: np.ndarray, series) -> Path:
    """Labels indexed (slice, row, column) on a DICOM series -> NIfTI (column, row, slice)."""
    import nibabel as nib

    volume = np.ascontiguousarray(labels.transpose(2, 1, 0)).astype(label_dtype(labels))
    image = nib.Nifti1Image(volume, dicom_affine(series))
    image.header.set_xyzt_units("mm")
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(image, path)
    return path
