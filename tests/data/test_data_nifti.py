"""The `nifti` plugin on the BraTS examples, and on small volumes written here."""

from __future__ import annotations

from collections import Counter

import nibabel as nib
import numpy as np
import pytest

from samunet_tune.data import build_dataset
from samunet_tune.data.errors import BAD_LABEL, SHAPE_MISMATCH, UNKNOWN_CLASS, DataError, DataSkipWarning
from samunet_tune.data.intensity import CT_WINDOWS, apply_window
from tests.data.conftest import BRATS_CLASSES, BRATS_OPTIONS


def test_brats_slices_with_foreground_classes_and_spacing(brats_root):
    dataset = build_dataset("nifti", root=brats_root, **BRATS_OPTIONS)
    # Counted independently: axial slices of OTMultiClass with any label > 0, per subject.
    expected = 0
    for label_file in sorted(brats_root.glob("*/OTMultiClass.nii.gz")):
        label = np.asarray(nib.load(label_file).dataobj)
        assert label.dtype == np.float32  # BraTS stores labels as float
        expected += int((label > 0).any(axis=(0, 1)).sum())
    assert len(dataset) == expected == 160
    classes = Counter()
    for sample in dataset:
        classes.update(sample.class_names)
        assert sample.spacing == (1.0, 1.0)
        assert sample.image.shape == (240, 240) and sample.image.dtype == np.uint8
        assert sample.masks and all(m.mask.any() for m in sample.masks)
    assert set(classes) == set(BRATS_CLASSES.values())
    assert classes["edema"] == 159
    first = dataset[0]
    assert first.modality == "mr" and first.meta["case"] == "brats_2013_pat0005_1"


def test_brats_masks_match_the_label_volume(brats_root):
    dataset = build_dataset("nifti", root=brats_root, **BRATS_OPTIONS)
    sample = dataset[40]
    label = np.asarray(nib.load(brats_root / sample.meta["case"] / "OTMultiClass.nii.gz").dataobj)
    plane = label[:, :, sample.meta["slice_index"]]
    for annotation in sample.masks:
        value = next(v for v, name in BRATS_CLASSES.items() if name == annotation.class_name)
        assert np.array_equal(annotation.mask, plane == value)


def test_brats_other_axis_and_all_slices(brats_root):
    sagittal = build_dataset("nifti", root=brats_root, **{**BRATS_OPTIONS, "axis": 0})
    assert len(sagittal) == 61 + 79
    assert sagittal[0].image.shape == (240, 155)
    everything = build_dataset("nifti", root=brats_root, **{**BRATS_OPTIONS, "slices": "all"})
    assert len(everything) == 2 * 155
    assert sum(everything.num_masks(i) == 0 for i in range(len(everything))) == 2 * 155 - 160


def write_case(root, name, image, label, zooms=(0.7, 0.8, 2.5)):
    folder = root / name
    folder.mkdir(parents=True)
    affine = np.diag([*zooms, 1.0])
    nib.save(nib.Nifti1Image(image, affine), folder / "image.nii.gz")
    nib.save(nib.Nifti1Image(label, affine), folder / "label.nii.gz")


CASE_OPTIONS = {"images": "*/image.nii.gz", "labels": "{dir}/label.nii.gz"}


def ct_volume(shape=(32, 32, 6)):
    rng = np.random.default_rng(0)
    image = rng.integers(-1000, 1500, shape).astype(np.int16)
    label = np.zeros(shape, np.uint8)
    label[5:15, 5:15, 1:4] = 1
    label[20:25, 20:30, 3:5] = 2
    return image, label


def test_ct_window_presets_and_spacing(tmp_path):
    image, label = ct_volume()
    write_case(tmp_path, "case", image, label)
    dataset = build_dataset("nifti", root=tmp_path, window="lung", classes={1: "liver", 2: "kidney"}, **CASE_OPTIONS)
    assert len(dataset) == 4  # slices 1-4 have labels
    sample = dataset[0]
    assert np.array_equal(sample.image, apply_window(image[:, :, 1], *CT_WINDOWS["lung"]))
    assert sample.spacing == pytest.approx((0.7, 0.8)) and sample.modality == "ct"
    level_width = build_dataset("nifti", root=tmp_path, window=[40, 400], **CASE_OPTIONS)[0]
    assert np.array_equal(level_width.image, apply_window(image[:, :, 1], 40, 400))
    assert build_dataset("nifti", root=tmp_path, window="abdomen", **CASE_OPTIONS)[0].class_names == ["label_1"]


def test_window_maps_level_and_width_to_the_8_bit_range():
    hu = np.array([-1000, -160, 40, 240, 3000])
    assert apply_window(hu, 40, 400).tolist() == [0, 0, 128, 255, 255]
    with pytest.raises(ValueError, match="Presets: abdomen"):
        build_dataset("nifti", root=".", window="kidney-ish")


def test_mr_percentile_normalisation(tmp_path):
    rng = np.random.default_rng(1)
    image = rng.normal(0, 1, (16, 16, 3)).astype(np.float32)  # z-scored, like the BraTS files
    image[0, 0, 1] = 50.0  # one outlier must not squash the contrast
    label = np.zeros((16, 16, 3), np.float32)
    label[4:8, 4:8, 1] = 1.0
    write_case(tmp_path, "mr", image, label)
    sample = build_dataset("nifti", root=tmp_path, percentiles=[1, 99], **CASE_OPTIONS)[0]
    low, high = np.percentile(image, [1, 99])
    expected = np.clip(np.rint((image[:, :, 1] - low) * 255 / (high - low)), 0, 255).astype(np.uint8)
    assert np.array_equal(sample.image, expected)
    assert sample.image[0, 0] == 255 and 60 < np.median(sample.image) < 200
    raw = build_dataset("nifti", root=tmp_path, percentiles=None, **CASE_OPTIONS)[0]
    assert raw.image.dtype == np.float32 and np.array_equal(raw.image, image[:, :, 1])


def test_image_and_label_shape_mismatch(tmp_path):
    image, label = ct_volume()
    write_case(tmp_path, "bad", image, label[:, :, :5])
    write_case(tmp_path, "good", image, label)
    with pytest.raises(DataError) as raised:
        build_dataset("nifti", root=tmp_path, **CASE_OPTIONS)
    assert raised.value.kind == SHAPE_MISMATCH and "bad/label.nii.gz" in str(raised.value)
    assert "(32, 32, 5)" in str(raised.value) and "Fix:" in str(raised.value)
    with pytest.warns(DataSkipWarning, match="1 image/label shape mismatch"):
        skipping = build_dataset("nifti", root=tmp_path, on_error="skip", **CASE_OPTIONS)
    assert {s.meta["case"] for s in skipping} == {"good"}


def test_unknown_label_value_raises_or_is_dropped(tmp_path):
    image, label = ct_volume()
    write_case(tmp_path, "case", image, label)
    with pytest.raises(DataError, match=r"label value\(s\) \[2\]") as raised:
        build_dataset("nifti", root=tmp_path, classes={1: "liver"}, **CASE_OPTIONS)
    assert raised.value.kind == UNKNOWN_CLASS
    with pytest.warns(DataSkipWarning, match="1 unknown class value"):
        dataset = build_dataset("nifti", root=tmp_path, classes={1: "liver"}, on_error="skip", **CASE_OPTIONS)
    assert {name for s in dataset for name in s.class_names} == {"liver"}
    assert len(dataset) == 3


def test_non_integer_float_labels_are_refused(tmp_path):
    image, label = ct_volume()
    write_case(tmp_path, "case", image, label.astype(np.float32) * 0.5)
    with pytest.raises(DataError) as raised:
        build_dataset("nifti", root=tmp_path, **CASE_OPTIONS)
    assert raised.value.kind == BAD_LABEL and "probability map" in str(raised.value)
