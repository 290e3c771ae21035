"""The `synthetic` phantom plugin: deterministic, plausible intensities, fast."""

from __future__ import annotations

import time

import numpy as np
import pytest

from samunet_tune.data import build_dataset
from samunet_tune.data.phantoms import MODALITY_CLASSES


def same_sample(a, b) -> bool:
    return (a.sample_id == b.sample_id and a.image.dtype == b.image.dtype and np.array_equal(a.image, b.image)
            and a.class_names == b.class_names and all(np.array_equal(x.mask, y.mask) for x, y in zip(a.masks, b.masks)))


def test_same_seed_same_samples_in_any_order():
    first = build_dataset("synthetic", num_samples=6, image_size=64, modality="mixed", seed=5)
    second = build_dataset("synthetic", num_samples=6, image_size=64, modality="mixed", seed=5)
    for index in reversed(range(6)):  # another order: each sample has its own generator
        assert same_sample(first[index], second[index])
    other = build_dataset("synthetic", num_samples=6, image_size=64, modality="mixed", seed=6)
    assert not np.array_equal(first[0].image, other[0].image)
    assert not np.array_equal(first[0].image, first[3].image)  # two CT phantoms differ


@pytest.mark.parametrize("modality,dtype,low,high", [
    ("ct", np.int16, -1024, 3071),
    ("mr", np.float32, 0.0, 5000.0),
    ("endoscopy", np.uint8, 0, 255),
])
def test_intensity_ranges_and_classes_by_modality(modality, dtype, low, high):
    dataset = build_dataset("synthetic", num_samples=8, image_size=[96, 128], modality=modality)
    seen = set()
    for sample in dataset:
        assert sample.image.dtype == dtype and sample.image.shape[:2] == (96, 128)
        assert low <= sample.image.min() and sample.image.max() <= high
        assert sample.masks and all(m.mask.any() for m in sample.masks)
        assert sample.modality == modality
        seen.update(sample.class_names)
    assert seen <= set(MODALITY_CLASSES[modality]) and len(seen) >= 1
    if modality == "endoscopy":
        assert sample.image.ndim == 3 and sample.spacing is None
    else:
        assert sample.spacing == (1.0, 1.0)


def test_ct_phantom_tissues_have_ct_values():
    sample = build_dataset("synthetic", num_samples=1, modality="ct")[0]
    liver = next(m.mask for m in sample.masks if m.class_name == "liver")
    assert 40 < np.median(sample.image[liver]) < 80  # enhanced liver parenchyma
    assert np.median(sample.image[0:5, 0:5]) < -900  # air in the corner


def test_64_samples_at_256_are_fast():
    dataset = build_dataset("synthetic", num_samples=64, image_size=256, modality="mixed")
    started = time.perf_counter()
    for sample in dataset:
        assert sample.image.shape[:2] == (256, 256)
    per_sample = (time.perf_counter() - started) / 64
    assert per_sample < 0.25, f"{per_sample:.3f} s per sample"


def test_ct_window_option_gives_uint8():
    hu = build_dataset("synthetic", num_samples=1, image_size=64)[0].image
    windowed = build_dataset("synthetic", num_samples=1, image_size=64, window="abdomen")[0].image
    from samunet_tune.data.intensity import apply_window

    assert windowed.dtype == np.uint8 and np.array_equal(windowed, apply_window(hu, 40, 400))
