"""Overlap and surface metrics for one binary mask against its reference.

All functions take numpy arrays of the same shape, 2D ``(rows, cols)`` or 3D. A mask is the set of
pixels that are ``True`` (bool arrays) or ``> 0`` (numeric arrays); float arrays holding values
strictly between 0 and 1 are rejected because they are probabilities that need a threshold first.
``spacing`` gives the physical size of a pixel along each array axis, in the axis order of the
array (``(row_spacing, col_spacing)`` for 2D), in millimetres; surface metrics are in those units.

Definitions (``P`` prediction, ``T`` target, ``|.|`` pixel count):

- ``dice = 2|P ∩ T| / (|P| + |T|)``, ``iou = |P ∩ T| / |P ∪ T|``.
- Boundary of a mask: its pixels with at least one face-neighbour (4-connectivity in 2D,
  6-connectivity in 3D) outside the mask or outside the array, i.e. ``mask & ~binary_erosion(mask)``
  with scipy's default cross-shaped structure and zero border. Same edges as MONAI.
- Directed surface distances ``d(P→T)``: for every boundary pixel of ``P``, the Euclidean distance
  (scaled by ``spacing``) from its centre to the nearest boundary pixel centre of ``T``, computed with
  ``scipy.ndimage.distance_transform_edt(sampling=spacing)``.
- ``hd95 = max(percentile95(d(P→T)), percentile95(d(T→P)))``: the larger of the two directed 95th
  percentiles, numpy's default linear interpolation. This is MONAI's and DeepMind's definition; it
  differs from medpy's, which takes one percentile over the pooled distances.
- ``nsd`` (normalised surface Dice, Nikolov et al. 2021) at tolerance ``τ`` mm:
  ``(#{d(P→T) <= τ} + #{d(T→P) <= τ}) / (#boundary(P) + #boundary(T))``. Boundary pixels are
  counted, not weighted by surface area, as MONAI does with ``use_subvoxels=False``; DeepMind's
  ``surface-distance`` package weights by surfel area and can differ by a few per cent.

Empty masks (the same table is in docs/metrics.md):

==================  ===================  ========  ========
case                dice / iou           hd95      nsd
==================  ===================  ========  ========
both empty          NaN (undefined)      NaN       NaN
prediction empty    0.0                  inf       0.0
target empty        0.0                  inf       0.0
==================  ===================  ========  ========

Both empty is NaN, not 1: scoring a correct "nothing here" as a perfect 1 inflates means, and
there is no surface to measure. ``dice``, ``iou`` and ``nsd`` take ``score_if_both_empty`` for
protocols that do want to reward it. When only one mask is empty there is a real error, so overlap
scores are 0 and the Hausdorff distance is infinite (no finite distance bounds a missing surface).
The aggregation in :mod:`samunet_tune.eval.aggregate` excludes NaN and counts it as "undefined",
and keeps inf out of means but counts it as "infinite", so neither disappears from a report.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import ndimage

__all__ = ["dice", "iou", "hd95", "nsd", "mask_metrics", "surface_distances", "boundary", "as_binary_mask"]


def as_binary_mask(mask: np.ndarray, name: str = "mask") -> np.ndarray:
    """The mask as a bool array: bool kept, numbers ``> 0`` are foreground.

    Args:
        mask: array of bools, 0/1 integers, or 0/255 values.
        name: what to call the array in error messages.
    """
    mask = np.asarray(mask)
    if mask.dtype == bool:
        return mask
    if not (np.issubdtype(mask.dtype, np.number)):
        raise TypeError(f"{name} has dtype {mask.dtype}; pass a bool or numeric mask")
    if np.issubdtype(mask.dtype, np.floating) and np.any((mask > 0) & (mask < 1)):
        raise ValueError(
            f"{name} holds values strictly between 0 and 1, which look like probabilities; "
            "threshold it first (e.g. mask >= 0.5)"
        )
    return mask > 0


def _checked_pair(pred: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pred = as_binary_mask(pred, "pred")
    target = as_binary_mask(target, "target")
    if pred.shape != target.shape:
        raise ValueError(f"pred has shape {pred.shape} but target has shape {target.shape}; they must match")
    if pred.ndim not in (2, 3):
        raise ValueError(f"masks must be 2D or 3D, got shape {pred.shape}")
    return pred, target


def _checked_spacing(spacing: Sequence[float], ndim: int) -> tuple[float, ...]:
    spacing = tuple(float(s) for s in spacing)
    if len(spacing) != ndim:
        raise ValueError(f"spacing {spacing} has {len(spacing)} values but the masks have {ndim} axes")
    if not all(math.isfinite(s) and s > 0 for s in spacing):
        raise ValueError(f"spacing {spacing} must be finite and positive (mm per pixel along each axis)")
    return spacing


def dice(pred: np.ndarray, target: np.ndarray, score_if_both_empty: float = math.nan) -> float:
    """Dice coefficient ``2|P ∩ T| / (|P| + |T|)``.

    Args:
        pred: predicted binary mask.
        target: reference binary mask of the same shape.
        score_if_both_empty: returned when neither mask has a foreground pixel; NaN (undefined) by
            default so that empty-vs-empty never passes for a perfect score unnoticed.
    """
    pred, target = _checked_pair(pred, target)
    total = int(pred.sum()) + int(target.sum())
    if total == 0:
        return float(score_if_both_empty)
    return 2.0 * int(np.logical_and(pred, target).sum()) / total


def iou(pred: np.ndarray, target: np.ndarray, score_if_both_empty: float = math.nan) -> float:
    """Intersection over union (Jaccard index) ``|P ∩ T| / |P ∪ T|``.

    Args:
        pred: predicted binary mask.
        target: reference binary mask of the same shape.
        score_if_both_empty: returned when neither mask has a foreground pixel (NaN by default).
    """
    pred, target = _checked_pair(pred, target)
    union = int(np.logical_or(pred, target).sum())
    if union == 0:
        return float(score_if_both_empty)
    return int(np.logical_and(pred, target).sum()) / union


def boundary(mask: np.ndarray) -> np.ndarray:
    """Foreground pixels with a face-neighbour (4- or 6-connectivity) outside the mask or the array.

    Args:
        mask: bool array, 2D or 3D.
    """
    face_neighbours = ndimage.generate_binary_structure(mask.ndim, 1)
    return mask & ~ndimage.binary_erosion(mask, structure=face_neighbours, border_value=0)


def _crop_to_union(pred: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Distances between boundary pixels do not change when the empty margin is cut away, and the
    # erosion treats outside-the-array as background either way, so cropping is exact and makes
    # the distance transform cost scale with the objects rather than the image.
    union = pred | target
    if not union.any():
        return pred, target
    slices = ndimage.find_objects(union.astype(np.uint8))[0]
    return pred[slices], target[slices]


def surface_distances(
    pred: np.ndarray, target: np.ndarray, spacing: Sequence[float] = (1.0, 1.0)
) -> tuple[np.ndarray, np.ndarray]:
    """The directed surface distances ``d(P→T)`` and ``d(T→P)`` in the units of ``spacing``.

    Both arrays are empty when both masks are empty. When only one mask is empty, the other
    mask's boundary pixels have no surface to reach, and each of them gets distance ``inf``.

    Args:
        pred: predicted binary mask, 2D or 3D.
        target: reference binary mask of the same shape.
        spacing: pixel size along each array axis (mm).
    """
    pred, target = _checked_pair(pred, target)
    spacing = _checked_spacing(spacing, pred.ndim)
    pred, target = _crop_to_union(pred, target)
    pred_boundary, target_boundary = boundary(pred), boundary(target)
    return (
        _distances_to(target_boundary, pred_boundary, spacing),
        _distances_to(pred_boundary, target_boundary, spacing),
    )


def _distances_to(
    reference_boundary: np.ndarray, query_boundary: np.ndarray, spacing: tuple[float, ...]
) -> np.ndarray:
    if not query_boundary.any():
        return np.zeros(0)
    if not reference_boundary.any():
        return np.full(int(query_boundary.sum()), np.inf)
    distance_map = ndimage.distance_transform_edt(~reference_boundary, sampling=spacing)
    return distance_map[query_boundary]


def _hd95_from_distances(pred_to_target: np.ndarray, target_to_pred: np.ndarray) -> float:
    if pred_to_target.size == 0 and target_to_pred.size == 0:
        return math.nan
    if pred_to_target.size == 0 or target_to_pred.size == 0:
        return math.inf  # one mask is empty: the other's distances are all inf anyway
    return float(max(np.percentile(pred_to_target, 95), np.percentile(target_to_pred, 95)))


def _nsd_from_distances(
    pred_to_target: np.ndarray, target_to_pred: np.ndarray, tolerance_mm: float, score_if_both_empty: float
) -> float:
    boundary_pixels = pred_to_target.size + target_to_pred.size
    if boundary_pixels == 0:
        return float(score_if_both_empty)
    within = int((pred_to_target <= tolerance_mm).sum()) + int((target_to_pred <= tolerance_mm).sum())
    return within / boundary_pixels


def _checked_tolerance(tolerance_mm: float) -> float:
    tolerance_mm = float(tolerance_mm)
    if not (math.isfinite(tolerance_mm) and tolerance_mm >= 0):
        raise ValueError(f"tolerance_mm={tolerance_mm} must be a finite distance >= 0 in mm")
    return tolerance_mm


def hd95(pred: np.ndarray, target: np.ndarray, spacing: Sequence[float] = (1.0, 1.0)) -> float:
    """95th-percentile Hausdorff distance: the larger of the two directed 95th percentiles.

    NaN when both masks are empty, inf when exactly one is (see the module docstring).

    Args:
        pred: predicted binary mask, 2D or 3D.
        target: reference binary mask of the same shape.
        spacing: pixel size along each array axis (mm); the result is in the same unit.
    """
    return _hd95_from_distances(*surface_distances(pred, target, spacing))


def nsd(
    pred: np.ndarray,
    target: np.ndarray,
    tolerance_mm: float,
    spacing: Sequence[float] = (1.0, 1.0),
    score_if_both_empty: float = math.nan,
) -> float:
    """Normalised surface Dice: the fraction of both boundaries within ``tolerance_mm`` of the other.

    Args:
        pred: predicted binary mask, 2D or 3D.
        target: reference binary mask of the same shape.
        tolerance_mm: largest boundary deviation still counted as correct, inclusive (``d <= τ``).
        spacing: pixel size along each array axis (mm).
        score_if_both_empty: returned when neither mask has a foreground pixel (NaN by default).
    """
    tolerance_mm = _checked_tolerance(tolerance_mm)
    return _nsd_from_distances(*surface_distances(pred, target, spacing), tolerance_mm, score_if_both_empty)


def mask_metrics(
    pred: np.ndarray, target: np.ndarray, nsd_tolerance_mm: float, spacing: Sequence[float] = (1.0, 1.0)
) -> dict[str, float]:
    """Dice, IoU, HD95 and NSD of one mask, computing the surface distances once.

    Empty cases follow the module docstring's table (no ``score_if_both_empty`` override here,
    so a report built from this never counts empty-vs-empty as a success).

    Args:
        pred: predicted binary mask, 2D or 3D.
        target: reference binary mask of the same shape.
        nsd_tolerance_mm: NSD tolerance in mm.
        spacing: pixel size along each array axis (mm).
    """
    pred, target = _checked_pair(pred, target)
    tolerance_mm = _checked_tolerance(nsd_tolerance_mm)
    distances = surface_distances(pred, target, spacing)
    return {
        "dice": dice(pred, target),
        "iou": iou(pred, target),
        "hd95": _hd95_from_distances(*distances),
        "nsd": _nsd_from_distances(*distances, tolerance_mm, math.nan),
    }
