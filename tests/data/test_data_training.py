"""Training items: prompts in the model frame that agree with the masks, determinism, batching."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from samunet_tune.data import PromptedDataset, build_dataset, collate_prompted
from samunet_tune.data.augment import Augment
from samunet_tune.data.prompts import BoxJitter, box_from_mask
from samunet_tune.data.sample import MaskAnnotation, Sample
from samunet_tune.modeling.transforms import PIXEL_MEAN, PIXEL_STD, scale_boxes
from tests.data.data_helpers import disc


def synthetic(count=4, size=(96, 128), modality="ct"):
    return build_dataset("synthetic", num_samples=count, image_size=list(size), modality=modality, seed=1)


def test_item_layout_and_model_frame():
    prompted = PromptedDataset(synthetic(), image_size=64, prompt="box+point", num_points=2, num_negative_points=1)
    item = prompted[0]
    assert item["image"].shape == (3, 64, 64) and item["image"].dtype == torch.float32
    assert item["masks"].shape == (5, 64, 64) and set(item["masks"].unique().tolist()) <= {0.0, 1.0}
    assert item["boxes"].shape == (5, 4)
    assert item["points"].shape == (5, 3, 2) and item["point_labels"].tolist() == [[1, 1, 0]] * 5
    assert item["original_size"] == (96, 128) and item["input_size"] == (48, 64)
    assert len(item["class_names"]) == 5 and item["sample_id"] == "synthetic-ct-00000"
    padding = item["image"][:, 48:, :]  # below the resized image: zeros after normalisation
    assert torch.all(padding == 0) and not torch.all(item["masks"][:, 48:, :].bool())
    assert not torch.any(item["masks"][:, 48:, :].bool())


def test_image_is_normalised_with_sam_statistics():
    image = np.full((32, 32, 3), 200, np.uint8)
    sample = Sample(image=image, masks=[MaskAnnotation(disc((32, 32), (16, 16), 5), "x")], sample_id="flat")
    item = PromptedDataset([sample], image_size=32)[0]
    expected = (200 - torch.tensor(PIXEL_MEAN)) / torch.tensor(PIXEL_STD)
    assert torch.allclose(item["image"][:, 10, 10], expected)


@pytest.mark.parametrize("augment", [None, Augment(horizontal_flip=0.5, rotate90=0.5, max_rotation=20, scale=(0.8, 1.2))])
def test_boxes_and_points_agree_with_the_masks_they_came_from(augment):
    prompted = PromptedDataset(synthetic(6), image_size=96, prompt="box+point", jitter=BoxJitter(mode="none"),
                               num_points=3, num_negative_points=2, augment=augment)
    for index in range(len(prompted)):
        item = prompted[index]
        for mask, box, points, labels in zip(item["masks"], item["boxes"], item["points"], item["point_labels"]):
            assert box.tolist() == box_from_mask(mask.numpy() > 0).tolist()
            inside = mask[points[:, 1].long(), points[:, 0].long()]
            assert inside[labels == 1].all() and not inside[labels == 0].any()


def test_spec_jitter_in_the_model_frame_stays_within_m():
    prompted = PromptedDataset(synthetic(3), image_size=96, masks_per_image=8)
    tight = PromptedDataset(synthetic(3), image_size=96, masks_per_image=8, jitter=BoxJitter(mode="none"))
    for index in range(3):
        jittered, exact = prompted[index], tight[index]
        assert torch.equal(jittered["masks"], exact["masks"])  # same seed: same masks drawn
        shift = jittered["boxes"] - exact["boxes"]
        assert shift.abs().max() <= 5


def test_original_frame_prompts_are_scaled_into_the_model_frame():
    data = synthetic(2, size=(200, 300))
    model = PromptedDataset(data, image_size=96, jitter=BoxJitter(mode="none"), masks_per_image=None)
    original = PromptedDataset(data, image_size=96, jitter=BoxJitter(mode="none"), masks_per_image=None,
                               prompt_frame="original")
    a, b = model[0], original[0]
    assert torch.equal(a["masks"], b["masks"])
    assert (a["boxes"] - b["boxes"]).abs().max() <= 1.5  # the same boxes up to resizing round-off
    sample = data[0]
    expected = scale_boxes(np.stack([box_from_mask(m.mask) for m in sample.masks]), sample.size, 96)
    assert torch.allclose(b["boxes"], expected)


def test_masks_are_drawn_with_replacement_and_uniformly():
    sample = Sample(image=np.zeros((40, 40), np.uint8), sample_id="three",
                    masks=[MaskAnnotation(disc((40, 40), (10 + 10 * k, 20), 4), f"class{k}") for k in range(3)])
    prompted = PromptedDataset([sample], image_size=40, masks_per_image=5)
    drawn = Counter()
    repeats = 0
    for epoch in range(300):
        prompted.set_epoch(epoch)
        names = prompted[0]["class_names"]
        drawn.update(names)
        repeats += len(set(names)) < len(names)
    assert repeats == 300  # 5 draws from 3 masks always repeat one
    assert all(abs(drawn[f"class{k}"] / 1500 - 1 / 3) < 0.05 for k in range(3))


def test_same_seed_and_epoch_same_item_other_epoch_other_item():
    make = lambda: PromptedDataset(synthetic(2), image_size=64, augment=Augment.standard(), seed=3)  # noqa: E731
    first, second = make(), make()
    for key in ("image", "masks", "boxes"):
        assert torch.equal(first[1][key], second[1][key])
    second.set_epoch(1)
    assert not torch.equal(first[1]["boxes"], second[1]["boxes"])


def test_collate_a_variable_number_of_masks_per_image(sa_med2d_root):
    prompted = PromptedDataset(build_dataset("sa-med2d", root=sa_med2d_root), image_size=64, masks_per_image=None,
                               prompt="point")
    batch = collate_prompted([prompted[0], prompted[1]])
    assert batch["images"].shape == (2, 3, 64, 64)
    assert batch["masks"].shape[0] == batch["boxes"].shape[0] == batch["points"].shape[0] == 19
    assert batch["image_index"].dtype == torch.long and batch["image_index"].tolist() == [0] * 4 + [1] * 15
    assert batch["sample_ids"] == ["amos_0006_90", "s0114_111"] and len(batch["class_names"]) == 19
    assert batch["original_sizes"] == [(512, 512), (181, 258)]


def test_data_loader_batches_kvasir(kvasir_root):
    prompted = PromptedDataset(build_dataset("kvasir-seg", root=kvasir_root), image_size=64, masks_per_image=2)
    batch = next(iter(DataLoader(prompted, batch_size=3, collate_fn=collate_prompted)))
    assert batch["images"].shape == (3, 3, 64, 64) and batch["masks"].shape == (6, 64, 64)
    assert batch["points"] is None and batch["image_index"].tolist() == [0, 0, 1, 1, 2, 2]


def test_samples_without_masks_are_skipped_with_a_count_or_raise(make_folder_dataset):
    root = make_folder_dataset(3)
    (root / "masks" / "case1.png").unlink()
    dataset = build_dataset("folder", root=root, require_masks=False)
    with pytest.warns(UserWarning, match="1 sample"):
        prompted = PromptedDataset(dataset, image_size=32)
    assert len(prompted) == 2 and prompted.skipped_empty == ["sample 1 has no masks"]
    with pytest.raises(ValueError, match="sample 1 has no masks"):
        PromptedDataset(dataset, image_size=32, on_empty="raise")


def test_a_mask_that_vanishes_when_resized_is_replaced_and_counted():
    tiny = np.zeros((400, 400), bool)
    tiny[201, 201] = True  # one pixel: gone at 32 x 32
    samples = [Sample(image=np.zeros((400, 400), np.uint8), masks=[MaskAnnotation(tiny, "dot")], sample_id="dot"),
               Sample(image=np.zeros((400, 400), np.uint8), masks=[MaskAnnotation(disc((400, 400), (200, 200), 80), "disc")],
                      sample_id="disc")]
    prompted = PromptedDataset(samples, image_size=32)
    with pytest.warns(UserWarning, match="sample 0 has no usable mask"):
        assert prompted[0]["sample_id"] == "disc"
    assert prompted.skipped_empty == ["sample 0 has no usable mask after decoding and resizing"]
