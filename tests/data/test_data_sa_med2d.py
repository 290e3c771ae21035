"""The `sa-med2d` plugin on the SAM-Med2D demo data, read as it is."""

from __future__ import annotations

import json

import numpy as np
import pytest

from samunet_tune.data import build_dataset
from samunet_tune.plugins.sa_med2d import class_from_mask_name


def json_counts(root):
    train = json.loads((root / "data_demo" / "image2label_train.json").read_text())
    test = json.loads((root / "data_demo" / "label2image_test.json").read_text())
    return train, test


def test_train_split_has_2_images_and_19_masks(sa_med2d_root):
    train, _ = json_counts(sa_med2d_root)
    assert len(train) == 2 and sum(map(len, train.values())) == 19  # the files say so, too
    dataset = build_dataset("sa-med2d", root=sa_med2d_root, split="train")
    assert len(dataset) == 2
    assert sum(dataset.num_masks(i) for i in range(2)) == 19
    assert sum(len(sample.masks) for sample in dataset) == 19
    assert dataset.skipped == []


def test_test_split_has_11_masks_on_2_images(sa_med2d_root):
    _, test = json_counts(sa_med2d_root)
    assert len(test) == 11
    dataset = build_dataset("sa-med2d", root=sa_med2d_root, split="test")
    assert sum(len(sample.masks) for sample in dataset) == 11
    assert sorted(sample.sample_id for sample in dataset) == ["amos_0004_75", "s0619_32"]


def test_image_without_masks_is_in_neither_split(sa_med2d_root):
    assert (sa_med2d_root / "data_demo" / "images" / "amos_0507_31.png").is_file()
    ids = {s.sample_id for split in ("train", "test") for s in build_dataset("sa-med2d", root=sa_med2d_root, split=split)}
    assert "amos_0507_31" not in ids and len(ids) == 4


def test_class_names_keep_their_underscores(sa_med2d_root):
    sample = next(s for s in build_dataset("sa-med2d", root=sa_med2d_root) if s.sample_id == "s0114_111")
    assert "lung_middle_lobe_right" in sample.class_names
    assert "rib_left_9" in sample.class_names and "vertebrae_T9" in sample.class_names
    assert all(m.mask.shape == sample.image.shape[:2] and m.mask.any() for m in sample.masks)
    test = next(s for s in build_dataset("sa-med2d", root=sa_med2d_root, split="test") if s.sample_id == "s0619_32")
    assert test.class_names.count("hip_right") == 2  # hip_right_000 and _001: two instances, one class


def test_modality_from_prefix_only_when_it_is_a_modality(sa_med2d_root):
    sample = build_dataset("sa-med2d", root=sa_med2d_root)[0]
    assert sample.modality is None and sample.meta["name_prefix"] == "amos"  # a data-set name, not a modality
    assert build_dataset("sa-med2d", root=sa_med2d_root, modality="ct")[0].modality == "ct"


@pytest.mark.parametrize("mask_stem,image_stem,expected", [
    ("amos_0004_75_inferior_vena_cava_000", "amos_0004_75", "inferior_vena_cava"),
    ("s0114_111_rib_left_9_000", "s0114_111", "rib_left_9"),
    ("ct_00--AbdomenCT1K--Case_00011--x_0040--0000_001", "ct_00--AbdomenCT1K--Case_00011--x_0040", "0000"),
])
def test_class_from_mask_name(mask_stem, image_stem, expected):
    assert class_from_mask_name(mask_stem, image_stem) == expected


def test_sa_med2d_16m_names_give_the_modality(tmp_path):
    from tests.data.data_helpers import disc, write_image

    stem = "mr_t1--BraTS--Case_00001--z_0077"
    write_image(tmp_path / "images" / f"{stem}.png", np.zeros((24, 24, 3), np.uint8))
    write_image(tmp_path / "masks" / f"{stem}--0003_000.png", disc((24, 24), (12, 12), 5).astype(np.uint8) * 255)
    (tmp_path / "image2label_train.json").write_text(json.dumps(
        {f"images/{stem}.png": [f"masks/{stem}--0003_000.png"]}))
    sample = build_dataset("sa-med2d", root=tmp_path, class_map={"0003": "tumor"})[0]
    assert sample.modality == "mr" and sample.class_names == ["tumor"]
