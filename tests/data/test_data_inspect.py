"""`data inspect`: the summary it prints and the contact sheet PNG it writes."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from samunet_tune.data import build_dataset
from samunet_tune.data.cli import data, parse_plugin_arguments
from samunet_tune.data.inspect import contact_sheet, summarize
from samunet_tune.data.sample import Sample


def first_colour_pixels(path) -> int:
    """Pixels of the first mask colour (magenta), which grey images never contain."""
    rgb = np.asarray(Image.open(path).convert("RGB")).astype(int)
    return int(((rgb[..., 0] > 200) & (rgb[..., 1] < 70) & (rgb[..., 2] > 200)).sum())


def test_inspect_writes_a_png_with_masks_drawn(tmp_path):
    out = tmp_path / "sheet.png"
    result = CliRunner().invoke(data, ["inspect", "synthetic", "num_samples=6", "modality=ct", "image_size=128",
                                       "--out", str(out), "--num", "4"])
    assert result.exit_code == 0, result.output
    assert "samples: 6" in result.output and "modalities: ct 6" in result.output
    assert "image dtypes: int16 6" in result.output and "image height: 128, width: 128" in result.output
    with Image.open(out) as image:
        assert image.format == "PNG" and image.size[0] >= 400 and image.size[1] >= 200
    assert first_colour_pixels(out) > 100


def test_contact_sheet_without_masks_has_no_mask_colour(tmp_path):
    plain = [Sample(image=s.image, masks=[], sample_id=s.sample_id, modality="ct")
             for s in build_dataset("synthetic", num_samples=2, image_size=64)]
    path = contact_sheet(plain, tmp_path / "plain.png", num=2)
    assert first_colour_pixels(path) == 0  # so the pixels counted above come from the masks


def test_inspect_real_kvasir(kvasir_root, tmp_path):
    out = tmp_path / "kvasir.png"
    result = CliRunner().invoke(data, ["inspect", "kvasir-seg", str(kvasir_root), "--limit", "10", "--num", "3",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "samples: 200 (summary of the first 10)" in result.output and "classes: polyp 10" in result.output
    assert out.stat().st_size > 10_000


def test_inspect_real_sa_med2d_counts(sa_med2d_root, tmp_path):
    result = CliRunner().invoke(data, ["inspect", "sa-med2d", str(sa_med2d_root), "split=train", "--num", "2",
                                       "--out", str(tmp_path / "sa.png")])
    assert result.exit_code == 0, result.output
    assert "samples: 2\nmasks: 19" in result.output and "lung_middle_lobe_right 1" in result.output
    assert "image height: 181-512, width: 258-512" in result.output


def test_summary_counts_classes_and_sizes():
    summary = summarize(build_dataset("synthetic", num_samples=9, image_size=[48, 64], modality="mixed"))
    assert summary.samples == 9 and summary.modalities == {"ct": 3, "mr": 3, "endoscopy": 3}
    assert summary.masks == sum(summary.classes.values()) and summary.classes["polyp"] == 3
    assert summary.min_size == summary.max_size == (48, 64)


def test_key_value_arguments_are_read_as_yaml():
    location, options = parse_plugin_arguments(
        ("data/x", "threshold=100", "classes={1: polyp, 2: 'in strument'}", "window=[40, 400]", "split=val",
         "verify=true", "masks_dir=", "json_file=a=b.json"))
    assert location == "data/x"
    assert options == {"threshold": 100, "classes": {1: "polyp", 2: "in strument"}, "window": [40, 400],
                       "split": "val", "verify": True, "masks_dir": "", "json_file": "a=b.json"}


@pytest.mark.parametrize("arguments,message", [
    (["inspect", "no-such-plugin", "x"], "unknown dataset plugin 'no-such-plugin'"),
    (["inspect", "synthetic", "colour=red"], "no option(s) ['colour']"),
    (["inspect", "synthetic", "a", "b"], "two data locations"),
    (["inspect", "synthetic", "num_samples=0"], "the dataset is empty"),
])
def test_inspect_errors_are_messages_not_tracebacks(arguments, message):
    result = CliRunner().invoke(data, arguments)
    assert result.exit_code != 0 and message in result.output
