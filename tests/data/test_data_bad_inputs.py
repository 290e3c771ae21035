"""Every kind of bad input: a clear error naming the file and a fix, or a counted skip.

One table of cases, two test bodies: with on_error="raise" each case raises a DataError of its
kind that names the bad file and says "Fix:"; with on_error="skip" nothing raises, a
DataSkipWarning gives the count, and `skipped` lists the file and reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from samunet_tune.data import build_dataset
from samunet_tune.data import errors as kinds
from samunet_tune.data.errors import DataError, DataSkipWarning
from tests.data.data_helpers import disc, write_image

SHAPE = (40, 48)


def good_pair(root: Path, name: str) -> None:
    write_image(root / "images" / f"{name}.png", np.full((*SHAPE, 3), 100, np.uint8))
    write_image(root / "masks" / f"{name}.png", disc(SHAPE, (20, 24), 8).astype(np.uint8) * 255)


def truncated_jpeg(root: Path) -> str:
    good_pair(root, "good")
    path = write_image(root / "images" / "broken.jpg", np.full((*SHAPE, 3), 100, np.uint8), quality=90)
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    write_image(root / "masks" / "broken.png", disc(SHAPE, (20, 24), 8).astype(np.uint8) * 255)
    return "broken.jpg"


def not_an_image(root: Path) -> str:
    good_pair(root, "good")
    (root / "images" / "text.png").write_bytes(b"this is not a PNG")
    write_image(root / "masks" / "text.png", disc(SHAPE, (20, 24), 8).astype(np.uint8) * 255)
    return "text.png"


def size_mismatch(root: Path) -> str:
    good_pair(root, "good")
    write_image(root / "images" / "wide.png", np.full((*SHAPE, 3), 100, np.uint8))
    write_image(root / "masks" / "wide.png", np.full((SHAPE[0], SHAPE[1] + 1), 255, np.uint8))
    return "masks/wide.png"


def empty_mask(root: Path) -> str:
    good_pair(root, "good")
    write_image(root / "images" / "blank.png", np.full((*SHAPE, 3), 100, np.uint8))
    write_image(root / "masks" / "blank.png", np.zeros(SHAPE, np.uint8))
    return "masks/blank.png"


def corrupt_mask(root: Path) -> str:
    good_pair(root, "good")
    write_image(root / "images" / "m.png", np.full((*SHAPE, 3), 100, np.uint8))
    (root / "masks" / "m.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    return "masks/m.png"


def mask_without_image(root: Path) -> str:
    good_pair(root, "good")
    write_image(root / "masks" / "orphan.png", disc(SHAPE, (20, 24), 8).astype(np.uint8) * 255)
    return "orphan.png"


def image_without_mask(root: Path) -> str:
    good_pair(root, "good")
    write_image(root / "images" / "lonely.png", np.full((*SHAPE, 3), 100, np.uint8))
    return "lonely.png"


def unknown_class_value(root: Path) -> str:
    write_image(root / "images" / "good.png", np.full((*SHAPE, 3), 100, np.uint8))
    write_image(root / "masks" / "good.png", disc(SHAPE, (20, 24), 8).astype(np.uint8) * 2)
    label = np.zeros(SHAPE, np.uint8)
    label[2:10, 2:10], label[20:30, 20:30] = 1, 7
    write_image(root / "images" / "multi.png", np.full((*SHAPE, 3), 100, np.uint8))
    write_image(root / "masks" / "multi.png", label)
    return "masks/multi.png"


def sa_med2d_layout(root: Path, entries: dict) -> None:
    good_pair(root, "good")
    (root / "image2label_train.json").write_text(json.dumps({"images/good.png": ["masks/good.png"], **entries}))


def json_path_outside_root(root: Path) -> str:
    sa_med2d_layout(root, {"images/other.png": ["../secret/mask.png"]})
    write_image(root / "images" / "other.png", np.full((*SHAPE, 3), 100, np.uint8))
    return "../secret/mask.png"


def json_image_missing(root: Path) -> str:
    sa_med2d_layout(root, {"images/gone.png": ["masks/good.png"]})
    return "gone.png"


def json_image_with_no_masks(root: Path) -> str:
    sa_med2d_layout(root, {"images/good2.png": []})
    write_image(root / "images" / "good2.png", np.full((*SHAPE, 3), 100, np.uint8))
    return "good2.png"


def json_mask_missing(root: Path) -> str:
    sa_med2d_layout(root, {"images/two.png": ["masks/good.png", "masks/absent.png"]})
    write_image(root / "images" / "two.png", np.full((*SHAPE, 3), 100, np.uint8))
    return "absent.png"


FOLDER = ("folder", {"mask_pattern": "{stem}.png"})
MULTI = ("folder", {"mask_pattern": "{stem}.png", "classes": {1: "kidney", 2: "cyst"}})
SA_MED2D = ("sa-med2d", {})

# (builder, plugin and options, kind, found while "index"ing or when a sample is "load"ed)
CASES = {
    "truncated jpeg": (truncated_jpeg, FOLDER, kinds.CORRUPT_FILE, "load"),
    "not an image": (not_an_image, FOLDER, kinds.CORRUPT_FILE, "load"),
    "mask size differs": (size_mismatch, FOLDER, kinds.SIZE_MISMATCH, "load"),
    "empty mask": (empty_mask, FOLDER, kinds.EMPTY_MASK, "load"),
    "corrupt mask": (corrupt_mask, FOLDER, kinds.CORRUPT_FILE, "load"),
    "mask without image": (mask_without_image, FOLDER, kinds.MASK_WITHOUT_IMAGE, "index"),
    "image without mask": (image_without_mask, FOLDER, kinds.IMAGE_WITHOUT_MASK, "index"),
    "unknown class value": (unknown_class_value, MULTI, kinds.UNKNOWN_CLASS, "load"),
    "json path outside root": (json_path_outside_root, SA_MED2D, kinds.OUTSIDE_ROOT, "index"),
    "json image missing": (json_image_missing, SA_MED2D, kinds.MASK_WITHOUT_IMAGE, "index"),
    "json image without masks": (json_image_with_no_masks, SA_MED2D, kinds.IMAGE_WITHOUT_MASK, "index"),
    "json mask missing": (json_mask_missing, SA_MED2D, kinds.MISSING_FILE, "index"),
}


def load_everything(dataset) -> None:
    for index in range(len(dataset)):
        dataset[index]


@pytest.mark.parametrize("case", CASES)
def test_raise_names_the_file_and_the_fix(tmp_path, case):
    builder, (plugin, options), kind, _ = CASES[case]
    bad_file = builder(tmp_path)
    with pytest.raises(DataError) as raised:
        load_everything(build_dataset(plugin, root=tmp_path, **options))
    assert raised.value.kind == kind
    assert bad_file in str(raised.value)
    assert "Fix:" in str(raised.value)


@pytest.mark.parametrize("case", CASES)
def test_skip_counts_and_lists_what_it_left_out(tmp_path, case):
    builder, (plugin, options), kind, found_when = CASES[case]
    bad_file = builder(tmp_path)
    with pytest.warns(DataSkipWarning, match=rf"skipped 1 input\(s\) \(1 {kind}\)"):
        # verify=True decodes while indexing, so bad images are left out before use
        dataset = build_dataset(plugin, root=tmp_path, on_error="skip", verify=found_when == "load", **options)
        load_everything(dataset)
    assert [item.kind for item in dataset.skipped] == [kind]
    assert bad_file in dataset.skipped[0].path or bad_file in dataset.skipped[0].reason
    assert dataset.errors.counts() == {kind: 1}
    assert "good" in {dataset[i].sample_id for i in range(len(dataset))}


def test_bad_image_found_on_load_without_verify_still_raises_with_a_hint(tmp_path):
    truncated_jpeg(tmp_path)
    dataset = build_dataset("folder", root=tmp_path, on_error="skip", mask_pattern="{stem}.png")
    assert len(dataset) == 2
    with pytest.raises(DataError) as raised:
        load_everything(dataset)
    assert "verify=True" in " ".join(getattr(raised.value, "__notes__", []))


def test_bad_mask_is_dropped_from_its_sample_and_recorded_once(tmp_path):
    size_mismatch(tmp_path)
    dataset = build_dataset("folder", root=tmp_path, on_error="skip")
    wide = [record[2] for record in dataset._records].index("wide")
    with pytest.warns(DataSkipWarning):
        assert dataset[wide].masks == []
    dataset[wide]  # a second load records nothing new
    assert len(dataset.skipped) == 1


def test_several_problems_are_counted_by_kind(tmp_path):
    image_without_mask(tmp_path)
    mask_without_image(tmp_path)
    write_image(tmp_path / "images" / "lonely2.png", np.zeros((*SHAPE, 3), np.uint8))
    with pytest.warns(DataSkipWarning, match=r"skipped 3 input\(s\) \(2 image without mask, 1 mask without image\)"):
        dataset = build_dataset("folder", root=tmp_path, on_error="skip")
    assert len(dataset) == 1


def test_on_error_must_be_raise_or_skip(tmp_path):
    good_pair(tmp_path, "good")
    with pytest.raises(ValueError, match="on_error='ignore'"):
        build_dataset("folder", root=tmp_path, on_error="ignore")
