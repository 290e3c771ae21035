"""Fixtures for the predict tests: a saved tiny model (once per session) and small volumes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.inference.helpers import one_torch_thread, rotated_affine, save_tiny_model

single_torch_thread = pytest.fixture(autouse=True)(one_torch_thread)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    return save_tiny_model(tmp_path_factory.mktemp("model") / "tiny")


@pytest.fixture
def nifti_pair(tmp_path):
    """nifti_pair(zooms=...) -> (image.nii.gz, labels.nii.gz): 40x36x6 int16 image, two label
    values as discs on slices 2-4 (axis 2), a rotated anisotropic affine, qform and sform set;
    no_spacing=True zeroes pixdim (a volume without spacing)."""
    import nibabel as nib

    def make(zooms=(0.8, 1.1, 2.5), name: str = "case", no_spacing: bool = False) -> tuple[Path, Path]:
        shape = (40, 36, 6)
        rows, cols = np.mgrid[: shape[0], : shape[1]]
        image = np.random.default_rng(0).normal(100, 20, shape).astype(np.int16)
        labels = np.zeros(shape, dtype=np.uint8)
        for k in (2, 3, 4):
            labels[..., k][(rows - 12) ** 2 + (cols - 10) ** 2 <= 30] = 1
            labels[..., k][(rows - 28) ** 2 + (cols - 24) ** 2 <= 20 + 4 * k] = 2
        image[labels > 0] += 120
        affine = rotated_affine(zooms)
        paths = []
        for suffix, data in (("", image), ("_labels", labels)):
            volume = nib.Nifti1Image(data, affine)
            volume.set_qform(affine, code=1)
            volume.set_sform(affine, code=2)
            if no_spacing:  # a damaged header: pixdim zero
                volume.header["pixdim"][1:4] = 0.0
            paths.append(tmp_path / f"{name}{suffix}.nii.gz")
            nib.save(volume, paths[-1])
        return paths[0], paths[1]

    return make
