"""What `predict` reads: an image, a folder of images, a NIfTI volume or a DICOM series.

Each becomes a `PredictInput`: a list of 2D frames the model segments (images, or the slices of
a volume along one axis) and what is needed to write the result in the input's own format.
Prompts name frames by key: an image by its path relative to the input folder (or its stem, or
for a single image its file name), a slice by its index along the axis ("70" or "slice_070").
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from samunet_tune.data.errors import DataError

NIFTI_SUFFIXES = (".nii", ".nii.gz")


class InputError(ValueError):
    """INPUT (or what belongs to it) cannot be predicted on; the message says what to give instead."""


@dataclass
class Frame:
    """One 2D image to segment.

    Args:
        key: the name prompts use for it.
        output_stem: file name stem of its outputs (relative, may hold "/").
        load: returns the image (HxW or HxWx3) as the model should see it.
        slice_index: its index along the volume axis, for slices.
        path: the image file, for images.
    """

    key: str
    output_stem: str
    load: Callable[[], np.ndarray]
    slice_index: int | None = None
    path: Path | None = None


@dataclass
class PredictInput:
    """INPUT, read: its frames and how to write results in its format.

    Attributes:
        kind: "image", "folder", "nifti" or "dicom".
        path: INPUT as given.
        frames: frames by key.
        aliases: other accepted prompt keys -> key.
        spacing: (row, col) pixel size in mm of every frame, or None when unknown.
        volume_shape: the shape of the output volume (volumes only).
        frame_size: (H, W) of every frame (volumes only).
        meta: what the writer needs (nibabel image, DICOM series, axis, ...).
    """

    kind: str
    path: Path
    frames: dict[str, Frame]
    aliases: dict[str, str] = field(default_factory=dict)
    spacing: tuple[float, float] | None = None
    volume_shape: tuple[int, ...] | None = None
    frame_size: tuple[int, int] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def is_volume(self) -> bool:
        return self.kind in ("nifti", "dicom")

    def resolve(self, name: str, where: str) -> str:
        """The frame key a prompt's image/slice name means; unknown names raise InputError."""
        text = str(name).strip()
        if self.is_volume:
            match = re.fullmatch(r"(?:slice_?)?(\d+)", text)
            if match and str(int(match.group(1))) in self.frames:
                return str(int(match.group(1)))
            count = len(self.frames)
            raise InputError(f"{where}: prompts for slice {text!r}, which {self.path} does not have "
                             f"(it has slices 0..{count - 1} along axis {self.meta.get('axis')}); name slices by index")
        key = self.aliases.get(text, text)
        if key in self.frames:
            return key
        known = ", ".join(list(self.frames)[:5]) + (", ..." if len(self.frames) > 5 else "")
        raise InputError(f"{where}: prompts for image {text!r}, which does not exist in {self.path} "
                         f"(its images: {known}); name images by their path relative to INPUT")


def _is_nifti(path: Path) -> bool:
    return path.name.lower().endswith(NIFTI_SUFFIXES)


def _nifti_stem(path: Path) -> str:
    return re.sub(r"\.nii(\.gz)?$", "", path.name, flags=re.IGNORECASE)


def read_input(path: str | Path, axis: int = 2, window: str | list | None = None) -> PredictInput:
    """Open INPUT (nothing but headers and the volume are decoded up front).

    Args:
        path: an image file, a folder of images, a .nii/.nii.gz volume, or a DICOM series folder.
        axis: volumes: the voxel axis to slice along (NIfTI; DICOM is always sliced per file).
        window: volumes: CT window preset or [level, width]; default: DICOM header window, else
            the volume's 0.5-99.5 percentiles.
    """
    from samunet_tune.data.image_files import IMAGE_SUFFIXES

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path} does not exist: INPUT is an image, a folder of images, a NIfTI volume or a DICOM folder")
    if path.is_file():
        if _is_nifti(path):
            return _read_nifti(path, axis, window)
        if path.suffix.lower() in IMAGE_SUFFIXES:
            return _read_images(path, [path], "image")
        raise InputError(f"{path}: not an image ({', '.join(IMAGE_SUFFIXES)}) or NIfTI volume (.nii, .nii.gz); "
                         "for a DICOM series give its folder")
    return _read_folder(path, window)


def _read_folder(path: Path, window: Any) -> PredictInput:
    from samunet_tune.data.image_files import list_image_files

    images = list_image_files(path, recursive=True)
    if images:
        return _read_images(path, images, "folder")
    if any(_looks_like_dicom(p) for p in sorted(path.iterdir())[:50] if p.is_file()):
        return _read_dicom(path, window)
    volumes = [p for p in path.iterdir() if _is_nifti(p)]
    hint = f"; it holds NIfTI volumes: give one of them, e.g. {volumes[0]}" if volumes else ""
    raise InputError(f"{path} holds no image (PNG/JPEG/BMP/TIFF) and no DICOM series: nothing to predict on{hint}")


def _looks_like_dicom(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            handle.seek(128)
            return handle.read(4) == b"DICM"
    except OSError:
        return False


def _read_images(root: Path, images: list[Path], kind: str) -> PredictInput:
    from samunet_tune.data.image_files import read_image

    frames, aliases = {}, {}
    base = root.parent if kind == "image" else root
    for image in images:
        key = image.relative_to(base).as_posix()
        stem = image.relative_to(base).with_suffix("").as_posix()
        frames[key] = Frame(key=key, output_stem=stem, load=lambda p=image: read_image(p), path=image)
        aliases.setdefault(stem, key)
    return PredictInput(kind=kind, path=root, frames=frames, aliases=aliases)


def _checked_spacing(values: tuple[float, float]) -> tuple[float, float] | None:
    return values if all(math.isfinite(v) and v > 0 for v in values) else None


def _slice_frames(volume: np.ndarray, stem: str) -> dict[str, Frame]:
    # volume is already moved so that axis 0 is the slicing axis
    return {str(k): Frame(key=str(k), output_stem=f"{stem}/slice_{k:03d}", load=lambda k=k: volume[k], slice_index=k)
            for k in range(volume.shape[0])}


def _read_nifti(path: Path, axis: int, window: Any) -> PredictInput:
    import nibabel as nib

    from samunet_tune.data.intensity import resolve_window
    from samunet_tune.data.volumes import map_intensities

    try:
        image = nib.load(path)
        data = np.asarray(image.dataobj)
    except Exception as error:  # nibabel's many ways to fail on a damaged file
        raise InputError(f"{path}: cannot be read as NIfTI ({error}); re-export the volume") from error
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise InputError(f"{path}: has shape {data.shape}; predict takes one 3D volume (split 4D series first)")
    if axis not in (0, 1, 2):
        raise InputError(f"--axis {axis}: a 3D volume has axes 0, 1, 2")
    if data.size == 0 or min(data.shape) == 0:
        raise InputError(f"{path}: the volume is empty (shape {data.shape})")
    in_plane = [a for a in range(3) if a != axis]
    zooms = _stored_zooms(path)
    mapped = map_intensities(data, resolve_window(window) if window is not None else None,
                             None if window is not None else (0.5, 99.5))
    moved = np.moveaxis(mapped, axis, 0)
    return PredictInput(
        kind="nifti", path=path, frames=_slice_frames(moved, _nifti_stem(path)),
        spacing=_checked_spacing((float(zooms[in_plane[0]]), float(zooms[in_plane[1]]))),
        volume_shape=tuple(data.shape), frame_size=tuple(moved.shape[1:]),
        meta={"image": image, "axis": axis, "zooms": tuple(float(z) for z in zooms), "stem": _nifti_stem(path)},
    )


def _stored_zooms(path: Path) -> tuple[float, float, float]:
    """pixdim[1:4] as stored; nibabel's loader quietly turns a zero spacing into 1, which would
    pass a volume without spacing off as 1 mm."""
    import nibabel as nib
    from nibabel.openers import ImageOpener

    with ImageOpener(path) as handle:
        header = nib.Nifti1Header.from_fileobj(handle, check=False)
    return tuple(float(value) for value in header["pixdim"][1:4])


def _read_dicom(folder: Path, window: Any) -> PredictInput:
    from samunet_tune.data.dicom_series import read_series
    from samunet_tune.data.errors import ErrorPolicy
    from samunet_tune.data.intensity import apply_window, percentile_range, rescale_to_uint8, resolve_window

    try:
        series, _, _ = read_series(folder, ErrorPolicy("raise", owner=str(folder)))
    except DataError as error:
        raise InputError(str(error)) from error
    except (AttributeError, KeyError, IndexError, TypeError) as error:  # a header without geometry
        raise InputError(f"{folder}: the DICOM headers lack the geometry predict needs (PixelSpacing, "
                         f"ImageOrientationPatient, ImagePositionPatient): {error}") from error
    hounsfield = np.stack([series.hounsfield(k) for k in range(len(series.paths))])
    chosen = resolve_window(window) if window is not None else series.header_window
    if chosen is not None:
        volume = apply_window(hounsfield, *chosen)
    else:
        volume = rescale_to_uint8(hounsfield, *percentile_range(hounsfield))
    rows, columns = series.shape
    return PredictInput(
        kind="dicom", path=folder, frames=_slice_frames(volume, folder.name),
        spacing=_checked_spacing(series.pixel_spacing), volume_shape=(columns, rows, len(series.paths)),
        frame_size=(rows, columns), meta={"series": series, "axis": "slice", "stem": folder.name},
    )

