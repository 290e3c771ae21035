"""Bad input to `predict`: a clear error naming what is wrong, and no output that looks complete."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from samunet_tune.inference.cli import predict_command
from tests.inference.helpers import leftovers


@pytest.fixture
def images(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    Image.fromarray(np.full((40, 50, 3), 120, dtype=np.uint8)).save(folder / "a.png")
    return folder


def fails(tmp_path, *arguments, message: str):
    """Run predict into tmp_path/out, expect failure with `message`, and nothing left behind."""
    out = tmp_path / "out"
    result = CliRunner().invoke(predict_command, [*map(str, arguments[:2]), str(out), *map(str, arguments[2:]),
                                                  "--no-progress"])
    assert result.exit_code != 0, result.output
    assert message in result.output, result.output
    assert not out.exists() and leftovers(tmp_path) == []
    return result.output


def write_prompts(tmp_path, prompts, name="prompts.json"):
    path = tmp_path / name
    path.write_text(json.dumps(prompts) if name.endswith(".json") else prompts)
    return path


def test_prompts_for_an_image_that_does_not_exist(tiny_model_dir, images, tmp_path):
    prompts = write_prompts(tmp_path, {"missing.png": [{"box": [1, 1, 5, 5]}]})
    output = fails(tmp_path, tiny_model_dir, images, "--prompts", prompts, message="'missing.png', which does not exist")
    assert "a.png" in output  # lists the images there are


def test_box_outside_the_image(tiny_model_dir, images, tmp_path):
    prompts = write_prompts(tmp_path, {"a.png": [{"box": [10, 10, 50, 20]}]})  # x1 = width: one past the edge
    fails(tmp_path, tiny_model_dir, images, "--prompts", prompts,
          message="box [10.0, 10.0, 50.0, 20.0] lies outside the image; the image is 50 wide and 40 high")
    far = write_prompts(tmp_path, {"a.png": [{"box": [60, 10, 70, 20]}]}, "far.json")
    fails(tmp_path, tiny_model_dir, images, "--prompts", far, "--clip-boxes", message="lies outside the image")


def test_clip_boxes_clips_with_a_warning(tiny_model_dir, images, tmp_path):
    prompts = write_prompts(tmp_path, {"a.png": [{"box": [-5, 10, 60, 20]}]})
    result = CliRunner().invoke(predict_command, [str(tiny_model_dir), str(images), str(tmp_path / "out"),
                                                  "--prompts", str(prompts), "--clip-boxes", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "clipped to [0.0, 10.0, 49.0, 20.0]" in result.output
    manifest = json.loads((tmp_path / "out" / "predictions.json").read_text())
    assert manifest["frames"][0]["prompts"][0]["box"] == [0.0, 10.0, 49.0, 20.0]


def test_inverted_box_and_bad_points(tiny_model_dir, images, tmp_path):
    inverted = write_prompts(tmp_path, {"a.png": [{"box": [30, 10, 20, 20]}]})
    fails(tmp_path, tiny_model_dir, images, "--prompts", inverted, message="inverted box [30.0, 10.0, 20.0, 20.0]")
    point = write_prompts(tmp_path, {"a.png": [{"points": [[5, 45]]}]}, "point.json")
    fails(tmp_path, tiny_model_dir, images, "--prompts", point, message="point(s) [[5.0, 45.0]] lie outside the image")
    label = write_prompts(tmp_path, {"a.png": [{"points": [[5, 5]], "point_labels": [2]}]}, "label.json")
    fails(tmp_path, tiny_model_dir, images, "--prompts", label, message="point_labels must be 1 (foreground) or 0")
    typo = write_prompts(tmp_path, {"a.png": [{"bx": [1, 1, 4, 4]}]}, "typo.json")
    fails(tmp_path, tiny_model_dir, images, "--prompts", typo, message="unknown key(s) ['bx']")
    csv = write_prompts(tmp_path, "image,x0,y0,x1\na.png,1,2,3\n", "half.csv")
    fails(tmp_path, tiny_model_dir, images, "--prompts", csv, message="line 2: a box needs all of x0, y0, x1, y1")


def test_empty_inputs(tiny_model_dir, images, tmp_path):
    empty_folder = tmp_path / "empty"
    empty_folder.mkdir()
    prompts = write_prompts(tmp_path, {"a.png": [{"box": [1, 1, 5, 5]}]})
    fails(tmp_path, tiny_model_dir, empty_folder, "--prompts", prompts, message="holds no image")
    nothing = write_prompts(tmp_path, {"a.png": []}, "nothing.json")
    fails(tmp_path, tiny_model_dir, images, "--prompts", nothing, message="holds no prompts")
    masks = tmp_path / "masks"
    masks.mkdir()
    Image.fromarray(np.zeros((40, 50), dtype=np.uint8)).save(masks / "a.png")
    fails(tmp_path, tiny_model_dir, images, "--prompts-from-masks", masks, message="no mask has a foreground pixel")
    fails(tmp_path, tiny_model_dir, tmp_path / "nowhere", "--prompts", prompts, message="does not exist")


def test_masks_without_images_and_masks_of_another_size(tiny_model_dir, images, tmp_path):
    masks = tmp_path / "masks"
    masks.mkdir()
    Image.fromarray(np.full((40, 50), 255, dtype=np.uint8)).save(masks / "other.png")
    fails(tmp_path, tiny_model_dir, images, "--prompts-from-masks", masks, message="['other'] have no image")
    (masks / "other.png").unlink()
    Image.fromarray(np.full((20, 50), 255, dtype=np.uint8)).save(masks / "a.png")
    fails(tmp_path, tiny_model_dir, images, "--prompts-from-masks", masks, message="the mask is 20x50 but its image")


def test_volume_without_spacing_cannot_be_scored(nifti_pair, tiny_model_dir, tmp_path):
    image, labels = nifti_pair(no_spacing=True)
    fails(tmp_path, tiny_model_dir, image, "--prompts-from-masks", labels, message="has no valid in-plane spacing")


def test_label_volume_on_another_grid(nifti_pair, tiny_model_dir, tmp_path):
    image, _ = nifti_pair()
    _, other = nifti_pair(zooms=(1.0, 1.0, 1.0), name="other")
    fails(tmp_path, tiny_model_dir, image, "--prompts-from-masks", other, message="its affine differs")


def test_model_missing_a_file(tiny_model_dir, images, tmp_path):
    broken = shutil.copytree(tiny_model_dir, tmp_path / "broken")
    (broken / "model.safetensors").unlink()
    prompts = write_prompts(tmp_path, {"a.png": [{"box": [1, 1, 5, 5]}]})
    fails(tmp_path, broken, images, "--prompts", prompts, message="model.safetensors is missing")


def test_existing_output_is_kept_without_overwrite(tiny_model_dir, images, tmp_path):
    prompts = write_prompts(tmp_path, {"a.png": [{"box": [1, 1, 5, 5]}]})
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = CliRunner().invoke(predict_command, [str(tiny_model_dir), str(images), str(out), "--prompts", str(prompts)])
    assert result.exit_code != 0 and "--overwrite" in result.output and (out / "keep.txt").read_text() == "mine"
    result = CliRunner().invoke(predict_command, [str(tiny_model_dir), str(images), str(out), "--prompts", str(prompts),
                                                  "--overwrite", "--no-progress"])
    assert result.exit_code == 0 and not (out / "keep.txt").exists() and (out / "predictions.json").is_file()
    assert leftovers(tmp_path) == []


def test_a_failure_midway_leaves_no_output(tiny_model_dir, images, tmp_path, monkeypatch):
    from samunet_tune.inference import predict

    def broken_writer(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(predict, "draw_overlay", broken_writer)  # after the masks are written
    prompts = write_prompts(tmp_path, {"a.png": [{"box": [1, 1, 5, 5]}]})
    out = tmp_path / "out"
    result = CliRunner().invoke(predict_command, [str(tiny_model_dir), str(images), str(out), "--prompts", str(prompts)])
    assert result.exit_code != 0 and isinstance(result.exception, OSError)
    assert not out.exists() and leftovers(tmp_path) == []


def test_no_prompts_given_is_a_usage_error(tiny_model_dir, images, tmp_path):
    fails(tmp_path, tiny_model_dir, images, message="give the prompts")
