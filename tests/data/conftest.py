"""Fixtures for the data tests: the real data sets by name, and small files built in tmp_path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.data.data_helpers import disc, write_image

BRATS_CLASSES = {1: "necrosis", 2: "edema", 3: "non_enhancing_tumor", 4: "enhancing_tumor"}
BRATS_OPTIONS = {"images": "*/Flair_subtrMeanDivStd.nii.gz", "labels": "{dir}/OTMultiClass.nii.gz",
                 "classes": BRATS_CLASSES, "modality": "mr"}


@pytest.fixture
def kvasir_root(shared_dataset) -> Path:
    return shared_dataset("kvasir-seg-mini")


@pytest.fixture
def sa_med2d_root(shared_dataset) -> Path:
    return shared_dataset("sa-med2d-demo")


@pytest.fixture
def brats_root(shared_dataset) -> Path:
    return shared_dataset("brats-nifti-mini")


@pytest.fixture
def dicom_root(shared_dataset) -> Path:
    return shared_dataset("dicom-ct-3slice")


@pytest.fixture
def make_folder_dataset(tmp_path):
    """make_folder_dataset(n) -> root with images/<i>.png (RGB) and masks/<i>.png (0/255 discs)."""

    def make(count: int = 4, shape: tuple[int, int] = (40, 48)) -> Path:
        rng = np.random.default_rng(0)
        root = tmp_path / "folder"
        for i in range(count):
            write_image(root / "images" / f"case{i}.png", rng.integers(0, 255, (*shape, 3), dtype=np.uint8))
            write_image(root / "masks" / f"case{i}.png", disc(shape, (20, 24), 5 + i).astype(np.uint8) * 255)
        return root

    return make
