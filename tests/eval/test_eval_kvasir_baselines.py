"""The baselines an eval run reports on real Kvasir masks equal Dice computed here, independently."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import ndimage

from samunet_tune.data import build_dataset
from samunet_tune.eval.cli import eval_command
from tests.inference.helpers import one_torch_thread, save_tiny_model, strict_json

COUNT = 4


single_torch_thread = pytest.fixture(autouse=True)(one_torch_thread)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("model") / "tiny")


def independent_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """Box of the largest 8-connected region: x0, y0, x1, y1 with inclusive maxima."""
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    sizes = [(labels == i).sum() for i in range(1, count + 1)]
    rows, cols = np.nonzero(labels == 1 + int(np.argmax(sizes)))
    return int(cols.min()), int(rows.min()), int(cols.max()), int(rows.max())


def independent_dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b))


def filled_box(box, shape) -> np.ndarray:
    x0, y0, x1, y1 = box
    rows, cols = np.indices(shape)
    return (cols >= x0) & (cols <= x1) & (rows >= y0) & (rows <= y1)


def ellipse_in_box(box, shape) -> np.ndarray:
    """Pixel centres inside the ellipse touching the box's outer pixel edges (docs/metrics.md),
    tested in exact integers: ((2x - x0 - x1) h)^2 + ((2y - y0 - y1) w)^2 <= (w h)^2."""
    x0, y0, x1, y1 = box
    width, height = x1 - x0 + 1, y1 - y0 + 1
    rows, cols = np.indices(shape, dtype=np.int64)
    return ((2 * cols - x0 - x1) * height) ** 2 + ((2 * rows - y0 - y1) * width) ** 2 <= (width * height) ** 2


def test_reported_baselines_equal_independent_dice_on_kvasir(shared_dataset, model_dir, tmp_path):
    root = shared_dataset("kvasir-seg-mini")
    out = tmp_path / "eval"
    result = CliRunner().invoke(eval_command, [str(model_dir), f"kvasir-seg:{root}", "--limit", str(COUNT),
                                               "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    report = strict_json(out / "metrics.json")

    samples = build_dataset("kvasir-seg", str(root))
    expected = {"box_fill": [], "inscribed_ellipse": []}
    for index in range(COUNT):
        sample = samples[index]
        (entry,) = [s for s in report["samples"] if s["sample_id"] == sample.sample_id]
        (mask_entry,) = entry["masks"]
        target = sample.masks[0].mask
        box = independent_box(target)
        assert tuple(mask_entry["box"]) == box
        box_dice = independent_dice(filled_box(box, target.shape), target)
        ellipse_dice = independent_dice(ellipse_in_box(box, target.shape), target)
        assert mask_entry["baselines"]["box_fill"]["dice"] == pytest.approx(box_dice, abs=1e-12)
        assert mask_entry["baselines"]["inscribed_ellipse"]["dice"] == pytest.approx(ellipse_dice, abs=1e-12)
        expected["box_fill"].append(box_dice)
        expected["inscribed_ellipse"].append(ellipse_dice)
        assert 0.6 < box_dice < ellipse_dice < 1.0  # polyps are roundish: the ellipse fits better
    for name, values in expected.items():
        summary = report["baselines"][name]["per_class"]["polyp"]["dice"]
        assert summary["mean"] == pytest.approx(np.mean(values), abs=1e-12) and summary["count"] == COUNT
    assert "| all | 4 |" in (out / "summary.md").read_text()
