"""`samunet-tune predict` on images: PNG masks, overlays that show them, prompts from files or masks."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from samunet_tune.inference.cli import predict_command
from tests.inference.helpers import copy_kvasir, leftovers, magenta_pixels, strict_json


def run_predict(*arguments):
    return CliRunner().invoke(predict_command, [*map(str, arguments), "--no-progress"])


@pytest.fixture
def kvasir_pair(shared_dataset, tmp_path):
    return copy_kvasir(shared_dataset("kvasir-seg-mini"), tmp_path / "kvasir", 2)


@pytest.fixture
def small_images(tmp_path):
    """Two 48x64 RGB images in a folder (one in a subfolder)."""
    folder = tmp_path / "images"
    (folder / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in ("a.png", "sub/b.png"):
        Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(folder / name)
    return folder


def test_predict_kvasir_folder_from_ground_truth_masks(kvasir_pair, tiny_model_dir, tmp_path):
    images, masks = kvasir_pair
    out = tmp_path / "out"
    result = run_predict(tiny_model_dir, images, out, "--prompts-from-masks", masks)
    assert result.exit_code == 0, result.output
    assert "2 mask(s) on 2 image(s)" in result.output
    manifest = strict_json(out / "predictions.json")
    assert manifest["kind"] == "folder" and manifest["frames_with_prompts"] == 2
    for frame in manifest["frames"]:
        stem = frame["key"].rsplit(".", 1)[0]
        assert frame["masks"] == [f"masks/{stem}_1.png"]
        with Image.open(images / frame["key"]) as source, Image.open(out / frame["masks"][0]) as mask:
            values = np.asarray(mask)
            assert mask.size == source.size and mask.mode == "L"
        assert set(np.unique(values)) <= {0, 255} and (values > 0).sum() == frame["prompts"][0]["area_pixels"] > 0
        (prompt,) = frame["prompts"]
        assert set(prompt["metrics"]) == {"dice", "iou", "hd95", "nsd", "flags"} and 0 <= prompt["metrics"]["dice"] <= 1
        assert magenta_pixels(out / frame["overlay"]) > 100  # the predicted mask is drawn
    assert leftovers(tmp_path) == []


def test_json_and_csv_prompts_give_the_same_masks(small_images, tiny_model_dir, tmp_path):
    prompts = {"a.png": [{"box": [4, 5, 40, 30]}, {"points": [[20, 20], [50, 40]], "point_labels": [1, 0], "label": 7}],
               "sub/b": [{"box": [10, 10, 60, 44], "points": [[30, 30]], "point_labels": [1], "name": "blob"}]}
    (tmp_path / "prompts.json").write_text(json.dumps(prompts))
    (tmp_path / "prompts.csv").write_text(
        "image,prompt,x0,y0,x1,y1,x,y,point_label,label,name\n"
        "a.png,1,4,5,40,30,,,,,\n"
        "a.png,2,,,,,20,20,1,7,\n"
        "a.png,2,,,,,50,40,0,7,\n"
        "sub/b.png,1,10,10,60,44,30,30,1,,blob\n")
    arrays = {}
    for kind in ("json", "csv"):
        out = tmp_path / f"out_{kind}"
        result = run_predict(tiny_model_dir, small_images, out, "--prompts", tmp_path / f"prompts.{kind}")
        assert result.exit_code == 0, result.output
        files = sorted(p.relative_to(out).as_posix() for p in (out / "masks").rglob("*.png"))
        assert files == ["masks/a_1.png", "masks/a_7.png", "masks/sub/b_1.png"]
        assert sorted(p.relative_to(out).as_posix() for p in (out / "overlays").rglob("*.png")) == [
            "overlays/a.png", "overlays/sub/b.png"]
        arrays[kind] = {name: np.asarray(Image.open(out / name)) for name in files}
        manifest = strict_json(out / "predictions.json")
        assert manifest["frames"][0]["prompts"][1]["point_labels"] == [1, 0]
        assert "metrics" not in manifest["frames"][0]["prompts"][0]  # no ground truth, no metrics
    for name in arrays["json"]:
        np.testing.assert_array_equal(arrays["json"][name], arrays["csv"][name])


def test_a_single_image_with_its_mask(kvasir_pair, tiny_model_dir, tmp_path):
    images, masks = kvasir_pair
    image = min(images.iterdir())
    out = tmp_path / "single"
    result = run_predict(tiny_model_dir, image, out, "--prompts-from-masks", masks / image.name)
    assert result.exit_code == 0, result.output
    assert (out / "masks" / f"{image.stem}_1.png").is_file() and (out / "overlays" / f"{image.stem}.png").is_file()


def test_masks_of_a_predictor_call_match_the_written_png(small_images, tiny_model_dir, tmp_path):
    from samunet_tune import SamUNet, SamUNetPredictor

    (tmp_path / "p.json").write_text(json.dumps({"a.png": [{"box": [4, 5, 40, 30]}]}))
    out = tmp_path / "out"
    assert run_predict(tiny_model_dir, small_images, out, "--prompts", tmp_path / "p.json").exit_code == 0
    predictor = SamUNetPredictor(SamUNet.from_pretrained(tiny_model_dir))
    predictor.set_image(np.asarray(Image.open(small_images / "a.png")))
    expected, _ = predictor.predict(box=np.array([4, 5, 40, 30]))
    np.testing.assert_array_equal(np.asarray(Image.open(out / "masks" / "a_1.png")) > 0, expected)
