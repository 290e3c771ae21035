"""The `folder` plugin and its `kvasir-seg` preset, on Kvasir-SEG and on files built here."""

from __future__ import annotations

import numpy as np
import pytest

from samunet_tune.data import build_dataset

from tests.data.data_helpers import disc, write_image


def test_kvasir_through_folder_options(kvasir_root):
    dataset = build_dataset("folder", root=kvasir_root, images_dir="images", masks_dir="masks",
                            mask_pattern="{name}", threshold=128, class_name="polyp", modality="endoscopy")
    assert len(dataset) == 200
    assert dataset.skipped == []
    sample = dataset[0]
    assert sample.image.ndim == 3 and sample.image.dtype == np.uint8
    assert [m.class_name for m in sample.masks] == ["polyp"]
    assert sample.masks[0].mask.shape == sample.image.shape[:2]
    assert sample.modality == "endoscopy"


def test_kvasir_preset_equals_the_folder_configuration(kvasir_root):
    preset = build_dataset("kvasir-seg", root=kvasir_root)
    folder = build_dataset("folder", root=kvasir_root, class_name="polyp", modality="endoscopy")
    assert len(preset) == 200
    for index in (0, 57, 199):
        a, b = preset[index], folder[index]
        assert a.sample_id == b.sample_id
        assert np.array_equal(a.masks[0].mask, b.masks[0].mask)
    assert preset[0].masks[0].class_name == "polyp" and preset[0].modality == "endoscopy"


def test_kvasir_jpeg_masks_are_thresholded_not_taken_raw(kvasir_root):
    sample = build_dataset("kvasir-seg", root=kvasir_root)[3]
    from PIL import Image

    raw = np.asarray(Image.open(kvasir_root / "masks" / f"{sample.sample_id}.jpg"))
    noisy_values = np.unique(raw)
    assert len(noisy_values) > 2  # the file really is noisy
    assert np.array_equal(sample.masks[0].mask, raw.max(axis=2) >= 128)


def test_kvasir_sizes_vary_and_splits_partition_the_pairs(kvasir_root):
    parts = {s: build_dataset("kvasir-seg", root=kvasir_root, split=s, seed=7) for s in ("train", "val", "test")}
    ids = {s: {r[2] for r in d._records} for s, d in parts.items()}
    assert [len(ids[s]) for s in ("train", "val", "test")] == [160, 20, 20]
    assert not (ids["train"] & ids["val"]) and not (ids["train"] & ids["test"]) and not (ids["val"] & ids["test"])
    assert len(ids["train"] | ids["val"] | ids["test"]) == 200
    again = build_dataset("kvasir-seg", root=kvasir_root, split="val", seed=7)
    assert {r[2] for r in again._records} == ids["val"]
    other_seed = build_dataset("kvasir-seg", root=kvasir_root, split="val", seed=8)
    assert {r[2] for r in other_seed._records} != ids["val"]


@pytest.mark.parametrize("suffix,mode", [(".png", "L"), (".png", "RGB"), (".png", "RGBA"), (".jpg", "RGB"),
                                         (".bmp", "RGB"), (".tif", "L"), (".tiff", "RGB")])
def test_image_formats_and_modes(tmp_path, suffix, mode):
    rng = np.random.default_rng(1)
    channels = {"L": (), "RGB": (3,), "RGBA": (4,)}[mode]
    array = rng.integers(0, 255, (30, 36, *channels), dtype=np.uint8)
    write_image(tmp_path / "images" / f"a{suffix}", array)
    write_image(tmp_path / "masks" / "a.png", disc((30, 36), (15, 18), 6).astype(np.uint8) * 255)
    sample = build_dataset("folder", root=tmp_path, mask_pattern="{stem}.png")[0]
    expected_shape = (30, 36) if mode == "L" else (30, 36, 3)
    assert sample.image.shape == expected_shape and sample.image.dtype == np.uint8
    if suffix != ".jpg":  # lossless: the pixels come back exactly (alpha dropped)
        assert np.array_equal(sample.image, array[..., :3] if mode == "RGBA" else array)
    assert sample.masks[0].mask.sum() == disc((30, 36), (15, 18), 6).sum()


@pytest.mark.parametrize("pattern,masks_dir,mask_name", [
    ("{stem}_mask.png", "masks", "b_mask.png"),
    ("{stem}_mask.png", "images", "b_mask.png"),  # masks beside the images
    ("{stem}/{stem}.png", "annotations", "b/b.png"),  # another folder, one subfolder per case
])
def test_mask_name_patterns(tmp_path, pattern, masks_dir, mask_name):
    write_image(tmp_path / "images" / "b.jpg", np.full((20, 20, 3), 90, np.uint8))
    write_image(tmp_path / masks_dir / mask_name, disc((20, 20), (10, 10), 4).astype(np.uint8))
    dataset = build_dataset("folder", root=tmp_path, masks_dir=masks_dir, mask_pattern=pattern)
    assert len(dataset) == 1 and dataset[0].sample_id == "b"
    assert dataset[0].masks[0].mask.sum() == disc((20, 20), (10, 10), 4).sum()


@pytest.mark.parametrize("values", ["zero_one", "zero_255", "jpeg_noise"])
def test_binary_mask_encodings(tmp_path, values):
    truth = disc((64, 64), (30, 34), 15)
    write_image(tmp_path / "images" / "c.png", np.zeros((64, 64), np.uint8))
    if values == "jpeg_noise":
        write_image(tmp_path / "masks" / "c.jpg", np.repeat(truth[..., None] * 255, 3, 2).astype(np.uint8), quality=60)
        pattern = "{stem}.jpg"
    else:
        write_image(tmp_path / "masks" / "c.png", truth.astype(np.uint8) * (1 if values == "zero_one" else 255))
        pattern = "{name}"
    mask = build_dataset("folder", root=tmp_path, mask_pattern=pattern)[0].masks[0].mask
    agreement = (mask == truth).mean()
    assert agreement == 1.0 if values != "jpeg_noise" else agreement > 0.995


def test_multi_label_masks_become_one_mask_per_class(tmp_path):
    label = np.zeros((32, 32), np.uint8)
    label[2:10, 2:10] = 1
    label[15:30, 15:30] = 3
    write_image(tmp_path / "images" / "d.png", np.zeros((32, 32, 3), np.uint8))
    write_image(tmp_path / "masks" / "d.png", label)
    sample = build_dataset("folder", root=tmp_path, classes={1: "kidney", 3: "tumor", 4: "cyst"})[0]
    assert sample.class_names == ["kidney", "tumor"]
    assert [int(m.mask.sum()) for m in sample.masks] == [64, 225]
    # YAML gives string keys: they work too
    assert build_dataset("folder", root=tmp_path, classes={"1": "kidney", "3": "tumor"})[0].class_names == ["kidney", "tumor"]


def test_split_file(make_folder_dataset):
    root = make_folder_dataset(4)
    (root / "val.txt").write_text("# validation cases\ncase1\ncase3.png\n\n")
    dataset = build_dataset("folder", root=root, split="val", split_file="val.txt")
    assert [dataset[i].sample_id for i in range(len(dataset))] == ["case1", "case3"]


def test_images_without_masks_kept_when_masks_are_optional(make_folder_dataset):
    root = make_folder_dataset(3)
    (root / "masks" / "case2.png").unlink()
    dataset = build_dataset("folder", root=root, require_masks=False)
    assert len(dataset) == 3
    assert [dataset.num_masks(i) for i in range(3)] == [1, 1, 0]
    assert dataset[2].masks == []
