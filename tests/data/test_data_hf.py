"""The `hf` plugin on real Arrow datasets written here with `datasets`."""

from __future__ import annotations

import io
import time

import datasets
import numpy as np
import pytest
from PIL import Image

from samunet_tune.data import build_dataset
from samunet_tune.data.errors import CORRUPT_FILE, DataError, DataSkipWarning

SHAPE = (24, 32)


def label_map(shift: int) -> np.ndarray:
    label = np.zeros(SHAPE, np.uint8)
    label[2:8, 3 + shift : 9 + shift] = 1
    label[12:20, 10:26] = 2
    return label


def images(count: int) -> list[Image.Image]:
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 255, (*SHAPE, 3), dtype=np.uint8)) for _ in range(count)]


@pytest.fixture
def label_image_dataset(tmp_path):
    table = datasets.Dataset.from_dict(
        {"pixels": images(3), "annotation": [Image.fromarray(label_map(i)) for i in range(3)], "name": ["a", "b", "c"]},
        features=datasets.Features({"pixels": datasets.Image(), "annotation": datasets.Image(),
                                    "name": datasets.Value("string")}))
    splits = datasets.DatasetDict({"train": table, "validation": table.select([0])})
    splits.save_to_disk(str(tmp_path / "saved"))
    return tmp_path / "saved"


def test_label_image_column_with_id2label(label_image_dataset):
    dataset = build_dataset("hf", path=label_image_dataset, column_map={"image": "pixels", "mask": "annotation", "id": "name"},
                            id2label={1: "polyp", 2: "instrument"}, modality="endoscopy")
    assert len(dataset) == 3
    sample = dataset[2]
    assert sample.sample_id == "c" and sample.modality == "endoscopy"
    assert sample.image.shape == (*SHAPE, 3)
    assert sample.class_names == ["polyp", "instrument"]
    assert np.array_equal(sample.masks[0].mask, label_map(2) == 1)
    assert len(build_dataset("hf", path=label_image_dataset, split="validation",
                             column_map={"image": "pixels", "mask": "annotation"}, id2label={1: "p", 2: "q"})) == 1


def test_unknown_split_and_column_are_clear(label_image_dataset):
    with pytest.raises(ValueError, match=r"splits \['train', 'validation'\], not 'test'"):
        build_dataset("hf", path=label_image_dataset, split="test")
    with pytest.raises(ValueError, match=r"no column\(s\) \[\"image='image'\", \"mask='mask'\"\]; columns are"):
        build_dataset("hf", path=label_image_dataset)


def test_list_of_binary_masks_with_label_ids(tmp_path):
    masks = [[Image.fromarray((label_map(i) == v).astype(np.uint8) * 255) for v in (2, 1)] for i in range(2)]
    table = datasets.Dataset.from_dict(
        {"image": images(2), "masks": masks, "classes": [[2, 1], [2, 1]]},
        features=datasets.Features({"image": datasets.Image(), "masks": datasets.List(datasets.Image()),
                                    "classes": datasets.List(datasets.Value("int64"))}))
    table.save_to_disk(str(tmp_path / "saved"))
    dataset = build_dataset("hf", path=tmp_path / "saved", column_map={"mask": "masks", "label": "classes"},
                            id2label={1: "polyp", 2: "instrument"})
    sample = dataset[1]
    assert sample.class_names == ["instrument", "polyp"]
    assert np.array_equal(sample.masks[1].mask, label_map(1) == 1)


def test_binary_masks_without_id2label(tmp_path):
    masks = [Image.fromarray((label_map(0) > 0).astype(np.uint8) * 255)]
    datasets.Dataset.from_dict({"image": images(1), "mask": masks},
                               features=datasets.Features({"image": datasets.Image(), "mask": datasets.Image()})
                               ).save_to_disk(str(tmp_path / "saved"))
    sample = build_dataset("hf", path=tmp_path / "saved", class_name="lesion")[0]
    assert sample.class_names == ["lesion"] and sample.masks[0].mask.sum() == (label_map(0) > 0).sum()


def test_a_folder_of_parquet_files_goes_through_load_dataset(tmp_path):
    masks = [Image.fromarray(label_map(i)) for i in range(2)]
    datasets.Dataset.from_dict({"image": images(2), "mask": masks},
                               features=datasets.Features({"image": datasets.Image(), "mask": datasets.Image()})
                               ).to_parquet(str(tmp_path / "parquet" / "train.parquet"))
    dataset = build_dataset("hf", path=tmp_path / "parquet", id2label={1: "polyp", 2: "instrument"},
                            cache_dir=tmp_path / "hf-cache")
    assert len(dataset) == 2 and dataset[1].class_names == ["polyp", "instrument"]
    assert np.array_equal(dataset[1].masks[0].mask, label_map(1) == 1)


def test_a_broken_image_cell_names_its_row(tmp_path):
    good = io.BytesIO()
    images(1)[0].save(good, format="PNG")
    mask = io.BytesIO()
    Image.fromarray(label_map(0)).save(mask, format="PNG")
    cells = [{"bytes": good.getvalue(), "path": None}, {"bytes": good.getvalue()[:40], "path": None}]
    datasets.Dataset.from_dict({"image": cells, "mask": [{"bytes": mask.getvalue(), "path": None}] * 2},
                               features=datasets.Features({"image": datasets.Image(), "mask": datasets.Image()})
                               ).save_to_disk(str(tmp_path / "saved"))
    with pytest.raises(DataError) as raised:
        build_dataset("hf", path=tmp_path / "saved", id2label={1: "a", 2: "b"})[1]
    assert raised.value.kind == CORRUPT_FILE and "[train][1].image" in str(raised.value)
    with pytest.warns(DataSkipWarning, match="1 corrupt"):
        skipping = build_dataset("hf", path=tmp_path / "saved", id2label={1: "a", 2: "b"}, on_error="skip", verify=True)
    assert len(skipping) == 1


def test_hub_id_fails_fast_and_clearly_when_offline(monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    started = time.monotonic()
    with pytest.raises(DataError) as raised:
        build_dataset("hf", path="some-user/some-medical-dataset")
    assert time.monotonic() - started < 5
    message = str(raised.value)
    assert "some-user/some-medical-dataset" in message and "Hugging Face Hub cannot be reached" in message
    assert "save_to_disk" in message
