"""Fixtures for the metric tests: seeded random blobs, real Kvasir masks, and MONAI as an oracle."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage
from scipy.spatial.distance import cdist

KVASIR = "kvasir-seg-mini"


def random_blob(
    shape: Sequence[int], seed: int, foreground_fraction: float = 0.3, smoothness: float = 3.0
) -> np.ndarray:
    """Smoothed noise thresholded to a given foreground fraction: irregular, often several parts."""
    noise = np.random.default_rng(seed).standard_normal(shape)
    smooth = ndimage.gaussian_filter(noise, smoothness)
    return smooth > np.quantile(smooth, 1.0 - foreground_fraction)


@pytest.fixture
def blob() -> Callable[..., np.ndarray]:
    """blob(shape, seed, foreground_fraction=0.3, smoothness=3.0) -> bool mask."""
    return random_blob


@pytest.fixture
def monai_oracle() -> Iterator[SimpleNamespace]:
    """MONAI's functional metrics on one 2D/3D numpy mask pair, returning Python floats."""
    metrics = pytest.importorskip("monai.metrics", reason="MONAI is the oracle (pip install -e .[dev])")
    import torch

    def batched(mask: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.asarray(mask, dtype=np.float32)[None, None])

    def call(function, pred, target, **kwargs) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # MONAI warns on every empty mask, which we test on purpose
            return float(function(batched(pred), batched(target), include_background=True, **kwargs).item())

    # MONAI's calls are tiny torch ops; with the default thread pool on a busy 2-core machine they
    # spend seconds waiting on each other, so the oracle runs single-threaded.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield SimpleNamespace(
        dice=lambda pred, target: call(metrics.compute_dice, pred, target),
        iou=lambda pred, target: call(metrics.compute_iou, pred, target),
        hd95=lambda pred, target, spacing: call(
            metrics.compute_hausdorff_distance, pred, target, percentile=95, spacing=list(spacing)
        ),
        nsd=lambda pred, target, tolerance, spacing: call(
            metrics.compute_surface_dice, pred, target, class_thresholds=[tolerance], spacing=list(spacing)
        ),
    )
    torch.set_num_threads(threads)


def boundary_by_neighbours(mask: np.ndarray) -> np.ndarray:
    """2D: foreground pixels with an up/down/left/right neighbour that is background or off the image."""
    padded = np.pad(mask, 1, constant_values=False)
    all_neighbours_inside = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return mask & ~all_neighbours_inside


def brute_force_distances(pred, target, spacing) -> tuple[np.ndarray, np.ndarray]:
    """Directed boundary distances from every pairwise distance (2D, both masks non-empty)."""
    pred_points = np.argwhere(boundary_by_neighbours(pred)) * np.asarray(spacing)
    target_points = np.argwhere(boundary_by_neighbours(target)) * np.asarray(spacing)
    pairwise = cdist(pred_points, target_points)
    return pairwise.min(axis=1), pairwise.min(axis=0)


def brute_force_hd95(pred, target, spacing) -> float:
    pred_to_target, target_to_pred = brute_force_distances(pred, target, spacing)
    return float(max(np.percentile(pred_to_target, 95), np.percentile(target_to_pred, 95)))


def brute_force_nsd(pred, target, tolerance, spacing) -> float:
    pred_to_target, target_to_pred = brute_force_distances(pred, target, spacing)
    within = (pred_to_target <= tolerance).sum() + (target_to_pred <= tolerance).sum()
    return float(within / (pred_to_target.size + target_to_pred.size))


@pytest.fixture
def brute_force() -> SimpleNamespace:
    """An independent 2D reference: neighbour-test boundaries and all pairwise distances (cdist)."""
    return SimpleNamespace(boundary=boundary_by_neighbours, hd95=brute_force_hd95, nsd=brute_force_nsd)


_mask_cache: dict[Path, np.ndarray] = {}


def load_kvasir_mask(path: Path) -> np.ndarray:
    """A Kvasir mask JPEG (3-channel, lossy) as bool, thresholded at 128."""
    if path not in _mask_cache:
        _mask_cache[path] = np.asarray(Image.open(path).convert("L")) >= 128
    return _mask_cache[path]


@pytest.fixture
def kvasir_masks(shared_dataset) -> Callable[[int], list[tuple[str, np.ndarray]]]:
    """kvasir_masks(n) -> the first n (name, bool mask) pairs in name order; skips without the data."""
    folder = shared_dataset(KVASIR) / "masks"
    paths = sorted(folder.glob("*.jpg"))
    if not paths:
        pytest.skip(f"no *.jpg masks in {folder}")

    def first(count: int) -> list[tuple[str, np.ndarray]]:
        return [(path.stem, load_kvasir_mask(path)) for path in paths[:count]]

    return first
