"""The `dicom` plugin on the dcmqi 3-slice CT with its liver SEG and NRRD label map."""

from __future__ import annotations

import nibabel as nib
import nrrd
import numpy as np
import pydicom
import pytest

from samunet_tune.data import build_dataset
from samunet_tune.data.errors import DataError
from samunet_tune.data.intensity import apply_window


def test_three_slices_sorted_along_the_slice_normal(dicom_root):
    dataset = build_dataset("dicom", root=dicom_root)
    assert len(dataset) == 3
    heights = [float(pydicom.dcmread(path, stop_before_pixels=True).ImagePositionPatient[2])
               for path in dataset.series.paths]
    assert heights == sorted(heights)  # feet to head, whatever the file names or InstanceNumbers say
    assert [dataset[i].sample_id for i in range(3)] == ["03", "02", "01"]
    assert [p.name for p in dataset.ignored_files] == ["liver_seg.nrrd"]


def test_rescale_gives_plausible_hounsfield_units(dicom_root):
    dataset = build_dataset("dicom", root=dicom_root, window=None)
    for index in range(len(dataset)):
        sample = dataset[index]
        raw = pydicom.dcmread(dataset.series.paths[index])
        assert np.array_equal(sample.image, raw.pixel_array * float(raw.RescaleSlope) + float(raw.RescaleIntercept))
        hu = sample.image
        assert -3100 <= hu.min() and hu.max() <= 3100
        air = (hu > -1100) & (hu < -900)
        assert air.mean() > 0.05  # air around the patient and in the lungs
        liver = np.median(hu[sample.masks[0].mask])
        assert 20 < liver < 90, liver  # liver parenchyma: the mask sits on the liver and HU are HU
        assert sample.spacing == pytest.approx((0.810547, 0.810547)) and sample.modality == "ct"


def test_header_window_and_presets(dicom_root):
    hu = build_dataset("dicom", root=dicom_root, window=None)[0].image
    header = build_dataset("dicom", root=dicom_root)[0].image
    assert header.dtype == np.uint8 and np.array_equal(header, apply_window(hu, 40, 400))  # WindowCenter 40 / Width 400
    bone = build_dataset("dicom", root=dicom_root, window="bone")[0].image
    assert np.array_equal(bone, apply_window(hu, 400, 1800))


def test_seg_and_nrrd_give_the_same_masks(dicom_root):
    from_seg = build_dataset("dicom", root=dicom_root, seg="liver.dcm")
    from_nrrd = build_dataset("dicom", root=dicom_root, labels="liver_seg.nrrd", classes={1: "Liver"})
    assert len(from_seg) == len(from_nrrd) == 3
    for index in range(3):
        a, b = from_seg[index], from_nrrd[index]
        assert a.class_names == b.class_names == ["Liver"]
        assert a.masks[0].mask.sum() > 30000
        assert np.array_equal(a.masks[0].mask, b.masks[0].mask)


def test_nifti_label_file_is_placed_by_patient_coordinates(dicom_root, tmp_path):
    """The NRRD label written as NIfTI (RAS): the same masks must come out."""
    values, header = nrrd.read(str(dicom_root / "liver_seg.nrrd"))
    lps = np.eye(4)
    lps[:3, :3] = np.asarray(header["space directions"]).T
    lps[:3, 3] = header["space origin"]
    ras = np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps
    nib.save(nib.Nifti1Image(values.astype(np.int16), ras), tmp_path / "liver.nii.gz")
    from_nifti = build_dataset("dicom", root=dicom_root, labels=str(tmp_path / "liver.nii.gz"), classes={1: "Liver"})
    from_seg = build_dataset("dicom", root=dicom_root)
    for index in range(3):
        assert np.array_equal(from_nifti[index].masks[0].mask, from_seg[index].masks[0].mask)


def test_label_file_from_another_place_is_refused(dicom_root, tmp_path):
    values, header = nrrd.read(str(dicom_root / "liver_seg.nrrd"))
    header["space origin"] = np.asarray(header["space origin"]) + np.array([0.0, 0.0, 500.0])  # half a metre up
    nrrd.write(str(tmp_path / "elsewhere.nrrd"), values, header)
    with pytest.raises(DataError, match="does not overlap the DICOM series"):
        build_dataset("dicom", root=dicom_root, labels=str(tmp_path / "elsewhere.nrrd"))
