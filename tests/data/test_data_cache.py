"""The sample cache: the second pass decodes nothing and returns identical arrays."""

from __future__ import annotations

import numpy as np
import pytest

from samunet_tune.data import CachedDataset, PromptedDataset, build_dataset
from samunet_tune.data import image_files


@pytest.fixture
def counted_decodes(monkeypatch):
    """Count calls of the image decoder that every 2D plugin goes through."""
    calls = []
    original = image_files.read_image

    def counting(path):
        calls.append(path)
        return original(path)

    monkeypatch.setattr(image_files, "read_image", counting)
    return calls


def assert_same(a, b):
    assert a.sample_id == b.sample_id and a.class_names == b.class_names
    assert a.image.dtype == b.image.dtype and np.array_equal(a.image, b.image)
    assert all(np.array_equal(x.mask, y.mask) for x, y in zip(a.masks, b.masks))
    assert a.spacing == b.spacing and a.modality == b.modality


def test_second_pass_reads_the_cache_not_the_jpegs(kvasir_root, tmp_path, counted_decodes):
    dataset = build_dataset("kvasir-seg", root=kvasir_root, split="val")
    cached = CachedDataset(dataset, tmp_path)
    first = [cached[i] for i in range(len(cached))]
    assert len(counted_decodes) == len(dataset) == 20
    second = [cached[i] for i in range(len(cached))]
    assert len(counted_decodes) == 20  # no decode at all on the second pass
    for a, b in zip(first, second):
        assert_same(a, b)
    assert (cached.hits, cached.misses) == (20, 20)
    # A new process (here: a new wrapper over a new plugin instance) finds the same cache.
    again = CachedDataset(build_dataset("kvasir-seg", root=kvasir_root, split="val"), tmp_path)
    assert_same(again[3], first[3])
    assert len(counted_decodes) == 20


def test_cache_key_follows_the_options(kvasir_root, tmp_path):
    val = CachedDataset(build_dataset("kvasir-seg", root=kvasir_root, split="val"), tmp_path)
    test = CachedDataset(build_dataset("kvasir-seg", root=kvasir_root, split="test"), tmp_path)
    assert val.folder != test.folder and val.folder.name.startswith("kvasir-seg-")
    assert val[0].sample_id != test[0].sample_id


def test_shrunk_cache_keeps_dtype_masks_and_scales_spacing(tmp_path):
    dataset = build_dataset("synthetic", num_samples=2, image_size=[200, 100], modality="ct")
    cached = CachedDataset(dataset, tmp_path, max_side=50)
    sample, original = cached[0], dataset[0]
    assert sample.size == (50, 25) and sample.image.dtype == np.int16
    assert sample.spacing == pytest.approx((4.0, 4.0))
    assert [m.mask.shape for m in sample.masks] == [(50, 25)] * len(original.masks)
    assert_same(cached[0], sample)


def test_a_damaged_cache_file_is_decoded_again(tmp_path):
    cached = CachedDataset(build_dataset("synthetic", num_samples=1, image_size=32), tmp_path)
    good = cached[0]
    cached.path_of(0).write_bytes(b"not an npz")
    assert_same(cached[0], good)
    assert cached.misses == 2


def test_prompted_items_from_the_cache_equal_those_from_the_plugin(tmp_path):
    dataset = build_dataset("synthetic", num_samples=3, image_size=64, modality="mr")
    direct = PromptedDataset(dataset, image_size=32, seed=4)
    through_cache = PromptedDataset(CachedDataset(dataset, tmp_path), image_size=32, seed=4)
    for index in range(3):
        for key in ("image", "masks", "boxes"):
            assert (direct[index][key] == through_cache[index][key]).all()


def test_plain_sequences_need_a_key(tmp_path):
    with pytest.raises(ValueError, match="key="):
        CachedDataset([], tmp_path)
