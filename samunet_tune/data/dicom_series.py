"""DICOM series geometry, DICOM SEG frames and label files (NRRD, NIfTI) placed on a series.

Everything is matched in patient coordinates (LPS, mm), not by file order: slices are sorted
along the slice normal, SEG frames find their slice by referenced SOP instance UID (or, failing
that, by position), and label volumes are sampled (nearest voxel) at each pixel's position.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.pixels import apply_modality_lut

from samunet_tune.data.errors import CORRUPT_FILE, MISSING_FILE, SHAPE_MISMATCH, DataError, ErrorPolicy

NOT_IMAGES = {"SEG", "RTSTRUCT", "RTPLAN", "RTDOSE", "SR", "PR", "KO", "REG"}
_RAS_TO_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])


@dataclass
class DicomSeries:
    """The sorted slices of one image series and its geometry."""

    paths: list[Path]
    sop_uids: list[str]
    positions: np.ndarray  # (n, 3) ImagePositionPatient, mm
    row_cosine: np.ndarray  # direction of increasing column index
    column_cosine: np.ndarray  # direction of increasing row index
    pixel_spacing: tuple[float, float]  # (between rows, between columns), mm
    shape: tuple[int, int]  # (rows, columns)
    series_uid: str
    frame_of_reference: str | None
    modality: str | None
    header_window: tuple[float, float] | None

    @property
    def normal(self) -> np.ndarray:
        return np.cross(self.row_cosine, self.column_cosine)

    def slice_at(self, position: np.ndarray) -> int | None:
        """Index of the slice through `position` (within half the slice gap), or None."""
        along = self.positions @ self.normal
        distance = np.abs(along - float(np.asarray(position, dtype=float) @ self.normal))
        gap = np.min(np.diff(along)) if len(along) > 1 else 1.0
        best = int(np.argmin(distance))
        return best if distance[best] <= max(gap / 2.0, 1e-3) else None

    def hounsfield(self, index: int) -> np.ndarray:
        """Slice `index` with RescaleSlope/Intercept (or the modality LUT) applied, float32."""
        try:
            dataset = pydicom.dcmread(self.paths[index])
            return np.asarray(apply_modality_lut(dataset.pixel_array, dataset), dtype=np.float32)
        except Exception as error:
            raise DataError(CORRUPT_FILE, self.paths[index], f"pixel data cannot be decoded ({error})",
                            "re-export the series") from error


def _first(value) -> float:
    return float(value[0]) if isinstance(value, pydicom.multival.MultiValue) else float(value)


def read_series(folder: Path, policy: ErrorPolicy,
                series_uid: str | None = None) -> tuple[DicomSeries, list[Path], list[Path]]:
    """Headers of the image series in `folder` -> (series, DICOM SEG files, other files not in it)."""
    headers, segs, others = [], [], []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        try:
            header = pydicom.dcmread(path, stop_before_pixels=True)
        except InvalidDicomError:
            others.append(path)  # an NRRD, a README: not part of the series
            continue
        except Exception as error:
            policy.handle(DataError(CORRUPT_FILE, path, f"is not a readable DICOM file ({error})",
                                    "remove or re-export it, or on_error='skip'"))
            continue
        if header.get("Modality") == "SEG":
            segs.append(path)
        elif header.get("Modality") in NOT_IMAGES or "ImagePositionPatient" not in header or "Rows" not in header:
            others.append(path)
        else:
            headers.append((path, header))
    uids = sorted({h.SeriesInstanceUID for _, h in headers})
    if not headers or (series_uid is None and len(uids) > 1) or (series_uid and series_uid not in uids):
        raise DataError(MISSING_FILE, folder, f"holds {len(uids)} image series {uids}"
                        + (f", none is {series_uid!r}" if series_uid else ""), "pass series_uid= one of them")
    chosen = series_uid or uids[0]
    others += [p for p, h in headers if h.SeriesInstanceUID != chosen]
    headers = [(p, h) for p, h in headers if h.SeriesInstanceUID == chosen]
    orientation = np.asarray(headers[0][1].ImageOrientationPatient, dtype=float)
    normal = np.cross(orientation[:3], orientation[3:])
    headers.sort(key=lambda item: (float(np.asarray(item[1].ImagePositionPatient, float) @ normal),
                                   int(item[1].get("InstanceNumber", 0) or 0)))
    first = headers[0][1]
    window = None
    if "WindowCenter" in first and "WindowWidth" in first:
        window = (_first(first.WindowCenter), _first(first.WindowWidth))
    series = DicomSeries(
        paths=[p for p, _ in headers], sop_uids=[str(h.SOPInstanceUID) for _, h in headers],
        positions=np.asarray([h.ImagePositionPatient for _, h in headers], dtype=float),
        row_cosine=orientation[:3], column_cosine=orientation[3:],
        pixel_spacing=(float(first.PixelSpacing[0]), float(first.PixelSpacing[1])),
        shape=(int(first.Rows), int(first.Columns)), series_uid=chosen,
        frame_of_reference=first.get("FrameOfReferenceUID"), modality=first.get("Modality"), header_window=window)
    return series, segs, others


def read_seg(path: Path, series: DicomSeries) -> dict[str, dict[int, np.ndarray]]:
    """A DICOM SEG on `series` -> {segment label: {slice index: bool mask}}."""
    seg = pydicom.dcmread(path)
    if seg.get("Modality") != "SEG":
        raise DataError(CORRUPT_FILE, path, "is not a DICOM SEG (Modality is not SEG)", "pass the SEG file as seg=")
    reference = seg.get("FrameOfReferenceUID")
    if reference and series.frame_of_reference and reference != series.frame_of_reference:
        raise DataError(SHAPE_MISMATCH, path, "belongs to another frame of reference than the series",
                        "pair the SEG with the series it was drawn on")
    frames = seg.pixel_array.reshape(-1, int(seg.Rows), int(seg.Columns))
    if frames.shape[1:] != series.shape:
        raise DataError(SHAPE_MISMATCH, path, f"frames are {frames.shape[1:]}, the series is {series.shape}",
                        "pair the SEG with the series it was drawn on")
    threshold = 0
    if seg.get("SegmentationType") == "FRACTIONAL":
        threshold = float(seg.get("MaximumFractionalValue", 255)) / 2.0
    names = {int(s.SegmentNumber): str(s.get("SegmentLabel", f"segment_{s.SegmentNumber}"))
             for s in seg.SegmentSequence}
    by_uid = {uid: i for i, uid in enumerate(series.sop_uids)}
    masks: dict[str, dict[int, np.ndarray]] = {}
    for f, group in enumerate(seg.PerFrameFunctionalGroupsSequence):
        number = int(group.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        index = None
        for derivation in group.get("DerivationImageSequence", []):
            for source in derivation.get("SourceImageSequence", []):
                index = by_uid.get(str(source.ReferencedSOPInstanceUID), index)
        if index is None and "PlanePositionSequence" in group:
            index = series.slice_at(group.PlanePositionSequence[0].ImagePositionPatient)
        if index is None:
            raise DataError(SHAPE_MISMATCH, path, f"frame {f} lies on no slice of the series",
                            "pair the SEG with the series it was drawn on")
        per_slice = masks.setdefault(names.get(number, f"segment_{number}"), {})
        per_slice[index] = per_slice.get(index, False) | (frames[f] > threshold)
    return masks


def read_label_volume(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """An NRRD or NIfTI label volume -> (values indexed i, j, k; 4x4 voxel -> LPS mm affine)."""
    name = path.name.lower()
    if name.endswith((".nrrd", ".nhdr")):
        import nrrd

        values, header = nrrd.read(str(path))
        affine = np.eye(4)
        affine[:3, :3] = np.asarray(header["space directions"], dtype=float).T
        affine[:3, 3] = np.asarray(header.get("space origin", np.zeros(3)), dtype=float)
        space = str(header.get("space", "left-posterior-superior")).lower()
        if space in ("right-anterior-superior", "ras"):
            affine = _RAS_TO_LPS @ affine
        elif space not in ("left-posterior-superior", "lps"):
            raise DataError(SHAPE_MISMATCH, path, f"uses space {space!r}", "save it in LPS or RAS space")
        return np.asarray(values), affine
    if name.endswith((".nii", ".nii.gz")):
        import nibabel as nib

        image = nib.load(path)
        return np.asarray(image.dataobj), _RAS_TO_LPS @ image.affine
    raise DataError(CORRUPT_FILE, path, "is neither NRRD nor NIfTI", "give a .nrrd, .nhdr, .nii or .nii.gz label file")


def sample_on_series(values: np.ndarray, affine: np.ndarray, series: DicomSeries, path: Path) -> np.ndarray:
    """The label value at every pixel of every slice (nearest voxel; 0 outside the volume)."""
    inverse = np.linalg.inv(affine)
    linear, offset = inverse[:3, :3], inverse[:3, 3]
    rows, columns = series.shape
    step_down = linear @ (series.column_cosine * series.pixel_spacing[0])
    step_right = linear @ (series.row_cosine * series.pixel_spacing[1])
    grid = (np.arange(rows)[:, None, None] * step_down + np.arange(columns)[None, :, None] * step_right)
    out = np.zeros((len(series.paths), rows, columns), dtype=values.dtype)
    for k, position in enumerate(series.positions):
        index = np.rint(grid + (linear @ position + offset)).astype(np.int64)
        inside = np.all((index >= 0) & (index < np.asarray(values.shape[:3])), axis=-1)
        out[k][inside] = values[index[inside][:, 0], index[inside][:, 1], index[inside][:, 2]]
    if not out.any() and values.any():
        raise DataError(SHAPE_MISMATCH, path, "does not overlap the DICOM series (no labelled voxel lies on a slice)",
                        "check that the label file was made on this series")
    return out
