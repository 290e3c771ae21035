"""`predict` on volumes: NIfTI out with the input's geometry; DICOM masks land back on their slices."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from click.testing import CliRunner

from samunet_tune.inference.cli import predict_command
from tests.inference.helpers import leftovers, magenta_pixels, strict_json


def run_predict(*arguments):
    return CliRunner().invoke(predict_command, [*map(str, arguments), "--no-progress"])


def assert_same_grid(output: Path, reference: Path) -> np.ndarray:
    written, source = nib.load(output), nib.load(reference)
    assert written.shape == source.shape
    np.testing.assert_allclose(written.affine, source.affine, atol=1e-5)
    np.testing.assert_allclose(written.get_qform(), source.get_qform(), atol=1e-5)
    np.testing.assert_allclose(written.get_sform(), source.get_sform(), atol=1e-5)
    assert int(written.header["qform_code"]) == int(source.header["qform_code"])
    assert int(written.header["sform_code"]) == int(source.header["sform_code"])
    np.testing.assert_allclose(written.header.get_zooms(), source.header.get_zooms())
    values = np.asarray(written.dataobj)
    assert values.dtype == np.uint8
    return values


@pytest.mark.parametrize("axis", [2, 0])
def test_nifti_masks_keep_the_input_affine_and_shape(nifti_pair, tiny_model_dir, tmp_path, axis):
    image, labels = nifti_pair()
    out = tmp_path / "out"
    result = run_predict(tiny_model_dir, image, out, "--prompts-from-masks", labels, "--axis", axis)
    assert result.exit_code == 0, result.output
    values = assert_same_grid(out / "masks" / "case.nii.gz", image)
    assert set(np.unique(values)) <= {0, 1, 2}
    manifest = strict_json(out / "predictions.json")
    assert manifest["axis"] == axis and manifest["volume_mask"] == "masks/case.nii.gz"
    truth = np.moveaxis(np.asarray(nib.load(labels).dataobj), axis, 0)
    prompted = sorted(int(frame["key"]) for frame in manifest["frames"])
    assert prompted == [k for k in range(truth.shape[0]) if truth[k].any()]
    moved = np.moveaxis(values, axis, 0)
    for k in range(moved.shape[0]):
        if k not in prompted:
            assert not moved[k].any()  # slices without prompts stay empty
    spacing = [0.8, 1.1, 2.5]
    del spacing[axis]
    assert manifest["spacing"] == pytest.approx(spacing) and manifest["surface_unit"] == "mm"
    frame = manifest["frames"][0]
    assert magenta_pixels(out / frame["overlay"]) > 0 or frame["prompts"][0]["area_pixels"] == 0


def test_nifti_prompt_file_per_slice(nifti_pair, tiny_model_dir, tmp_path):
    image, _ = nifti_pair()
    (tmp_path / "slices.json").write_text(json.dumps({"3": [{"box": [5, 4, 20, 18], "label": 5}],
                                                      "slice_004": [{"points": [[24, 28]], "point_labels": [1]}]}))
    out = tmp_path / "out"
    result = run_predict(tiny_model_dir, image, out, "--prompts", tmp_path / "slices.json")
    assert result.exit_code == 0, result.output
    values = assert_same_grid(out / "masks" / "case.nii.gz", image)
    manifest = strict_json(out / "predictions.json")
    areas = {frame["key"]: frame["prompts"][0]["area_pixels"] for frame in manifest["frames"]}
    assert (values[..., 3] == 5).sum() == areas["3"] and (values[..., 4] == 1).sum() == areas["4"]
    assert not values[..., :3].any() and not values[..., 5].any()


def test_brats_volume_geometry(shared_dataset, tiny_model_dir, tmp_path):
    case = shared_dataset("brats-nifti-mini") / "brats_2013_pat0005_1"
    image = case / "Flair_subtrMeanDivStd.nii.gz"
    labels = np.asarray(nib.load(case / "OTMultiClass.nii.gz").dataobj)
    slices = [k for k in range(labels.shape[2]) if (labels[..., k] == 2).sum() > 200][:2]
    prompts = {}
    for k in slices:
        rows, cols = np.nonzero(labels[..., k] == 2)
        prompts[str(k)] = [{"box": [int(cols.min()), int(rows.min()), int(cols.max()), int(rows.max())], "label": 2}]
    (tmp_path / "prompts.json").write_text(json.dumps(prompts))
    out = tmp_path / "out"
    result = run_predict(tiny_model_dir, image, out, "--prompts", tmp_path / "prompts.json")
    assert result.exit_code == 0, result.output
    values = assert_same_grid(out / "masks" / "Flair_subtrMeanDivStd.nii.gz", image)
    assert set(np.unique(values)) <= {0, 2}
    assert set(np.nonzero(values.reshape(-1, values.shape[2]).any(axis=0))[0]) <= set(slices)


def test_dicom_masks_sample_back_onto_their_slices(shared_dataset, tiny_model_dir, tmp_path):
    from samunet_tune.data.dicom_series import read_label_volume, read_series, sample_on_series
    from samunet_tune.data.errors import ErrorPolicy

    root = shared_dataset("dicom-ct-3slice")
    out = tmp_path / "out"
    result = run_predict(tiny_model_dir, root, out, "--prompts-from-masks", root / "liver_seg.nrrd")
    assert result.exit_code == 0, result.output
    manifest = strict_json(out / "predictions.json")
    assert manifest["kind"] == "dicom" and manifest["frames_with_prompts"] == 3
    series, _, _ = read_series(root, ErrorPolicy())
    values, affine = read_label_volume(out / manifest["volume_mask"])
    assert values.shape == (series.shape[1], series.shape[0], len(series.paths))
    on_series = sample_on_series(values, affine, series, out / manifest["volume_mask"])
    for frame in manifest["frames"]:
        k = int(frame["key"])
        assert (on_series[k] > 0).sum() == frame["prompts"][0]["area_pixels"]
    np.testing.assert_array_equal(on_series.transpose(2, 1, 0), values)  # the affine maps voxel to voxel
    assert leftovers(tmp_path) == []
