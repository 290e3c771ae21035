"""`samunet-tune eval` and `samunet-tune plot`: the files they write, and their errors on bad input."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from PIL import Image

from samunet_tune.eval.cli import eval_command, parse_data_spec, plot_command
from tests.inference.helpers import leftovers, make_lora_run, one_torch_thread, save_tiny_model, strict_json

SYNTHETIC = "synthetic:num_samples=3,image_size=96,modality=mixed,seed=3"


single_torch_thread = pytest.fixture(autouse=True)(one_torch_thread)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("model") / "tiny")


@pytest.fixture(scope="module")
def lora_run(model_dir, tmp_path_factory):
    """A training output directory with lora-vit adapters in final/ and best/ (peft loads once)."""
    run, _ = make_lora_run(tmp_path_factory.mktemp("lora"), model_dir)
    return run


def run_eval(*arguments: str):
    return CliRunner().invoke(eval_command, [*map(str, arguments), "--no-progress"])


def open_png(path) -> tuple[int, int]:
    with Image.open(path) as image:
        assert image.format == "PNG"
        return image.size


def test_data_specs_parse_paths_options_and_globs():
    assert parse_data_spec("kvasir-seg:../data/kvasir,split=val,val_fraction=0.2") == (
        "kvasir-seg", "../data/kvasir", {"split": "val", "val_fraction": 0.2})
    assert parse_data_spec("synthetic:num_samples=4") == ("synthetic", None, {"num_samples": 4})
    plugin, root, options = parse_data_spec("nifti:/d,images=*/F.nii.gz,labels={dir}/L.nii.gz,classes={1: a, 2: b}")
    assert (plugin, root) == ("nifti", "/d")
    assert options == {"images": "*/F.nii.gz", "labels": "{dir}/L.nii.gz", "classes": {1: "a", 2: "b"}}


def test_eval_writes_metrics_summary_and_plots_on_kvasir(shared_dataset, model_dir, tmp_path):
    out = tmp_path / "eval"
    result = run_eval(model_dir, f"kvasir-seg:{shared_dataset('kvasir-seg-mini')}", "--limit", 2, "--protocol", "box",
                      "--protocol", "clicks:2", "--out", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["click_curve.png", "dice_histogram.png", "dice_per_class.png",
                                                     "metrics.json", "summary.md"]
    report = strict_json(out / "metrics.json")
    assert report["counts"]["masks"] == 2 and report["counts"]["images_evaluated"] == 2
    for block in (*report["protocols"].values(), *report["baselines"].values()):
        assert {"per_mask", "per_image", "per_class", "per_modality", "per_dataset"} <= set(block)
        assert block["per_class"]["polyp"]["dice"]["count"] == 2
    curve = report["protocols"]["clicks:2"]["curve"]
    assert [point["round"] for point in curve] == [0, 1, 2]
    assert curve[0]["dice"]["mean"] == pytest.approx(report["protocols"]["box"]["per_mask"]["dice"]["mean"])
    mask = report["samples"][0]["masks"][0]
    assert set(mask["results"]) == {"box", "clicks:2"} and len(mask["results"]["clicks:2"]["dice_per_round"]) == 3
    assert mask["surface_unit"] == "pixel"  # Kvasir has no spacing, and says so
    summary = (out / "summary.md").read_text()
    assert "box fill" in summary and "ellipse" in summary and "| polyp | 2 |" in summary
    assert "box fill (baseline)" in result.output  # the table is printed too
    for name in ("click_curve.png", "dice_histogram.png", "dice_per_class.png"):
        width, height = open_png(out / name)
        assert width >= 400 and height >= 300
    assert leftovers(tmp_path) == []


def test_eval_of_a_lora_training_run_uses_final_or_best_and_its_recipe(lora_run, tmp_path):
    run = shutil.copytree(lora_run, tmp_path / "run")
    recipe = {"output_dir": str(run), "data": {"train": {"plugin": "synthetic", "options": {"num_samples": 2}},
                                              "val": {"plugin": "synthetic",
                                                      "options": {"num_samples": 1, "image_size": 64, "seed": 5}}}}
    (run / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    out = tmp_path / "eval"
    result = run_eval(run, "--checkpoint", "best", "--protocol", "point", "--protocol", "points:2", "--out", out)
    assert result.exit_code == 0, result.output
    report = strict_json(out / "metrics.json")
    assert report["datasets"][0]["plugin"] == "synthetic" and report["datasets"][0]["options"]["seed"] == 5
    assert set(report["protocols"]) == {"point", "points:2"} and report["settings"]["checkpoint"] == "best"
    assert not (out / "click_curve.png").exists()  # no click protocol, no curve


def test_eval_on_a_recipe_s_data_section_and_two_datasets(model_dir, tmp_path):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({"data": {"train": {"plugin": "synthetic",
                                                         "options": {"num_samples": 2, "image_size": 64}}}}))
    out = tmp_path / "eval"
    result = run_eval(model_dir, SYNTHETIC, "--data-recipe", recipe, "--out", out, "--limit", 2)
    assert result.exit_code == 0, result.output
    assert "evaluating on data.train" in result.output  # no val section: said out loud
    report = strict_json(out / "metrics.json")
    assert [d["name"] for d in report["datasets"]] == ["synthetic", "synthetic#2"]
    assert set(report["protocols"]["box"]["per_dataset"]) == {"synthetic", "synthetic#2"}
    assert "Mean Dice per dataset" in (out / "summary.md").read_text()


def test_plot_draws_loss_and_validation_curves_of_a_run(tmp_path):
    logs = tmp_path / "run" / "logs"
    logs.mkdir(parents=True)
    rows = ["step,name,value"] + [f"{s},train/loss,{1.0 / s}" for s in range(1, 31)]
    for step in (10, 20, 30):
        rows += [f"{step},val/dice,{step / 40}", f"{step},val/iou,{step / 50}",
                 f"{step},val/baseline_box_dice,0.8", f"{step},val/baseline_ellipse_dice,0.85"]
    (logs / "scalars.csv").write_text("\n".join(rows) + "\n")
    result = CliRunner().invoke(plot_command, [str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    for name in ("loss.png", "val_dice.png"):
        assert open_png(logs / "plots" / name)[0] >= 400
        assert str(logs / "plots" / name) in result.output


def test_plot_without_validation_draws_only_the_loss(tmp_path):
    from samunet_tune.eval.plots import plot_run

    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "scalars.csv").write_text("step,name,value\n1,train/loss,0.9\n2,train/loss,0.7\n2,train/lr,0.001\n")
    assert [p.name for p in plot_run(tmp_path)] == ["loss.png"]


def test_plot_of_a_folder_without_logs_says_so(tmp_path):
    result = CliRunner().invoke(plot_command, [str(tmp_path)])
    assert result.exit_code != 0 and "logs/scalars.csv is missing" in result.output


# bad input: a clear error, and no output folder that looks complete ----------------------------


def test_model_folder_missing_its_weights(model_dir, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    shutil.copy(model_dir / "config.json", broken / "config.json")
    out = tmp_path / "eval"
    result = run_eval(broken, SYNTHETIC, "--out", out)
    assert result.exit_code != 0 and "model.safetensors is missing" in result.output
    assert not out.exists() and leftovers(tmp_path) == []


def test_run_directory_without_final(lora_run, tmp_path):
    run = shutil.copytree(lora_run, tmp_path / "run", ignore=shutil.ignore_patterns("final"))
    result = run_eval(run, SYNTHETIC, "--out", tmp_path / "eval")
    assert result.exit_code != 0 and "final" in result.output and "--checkpoint best" in result.output
    assert not (tmp_path / "eval").exists()


def test_empty_data_is_an_error(model_dir, tmp_path):
    (tmp_path / "data" / "images").mkdir(parents=True)
    (tmp_path / "data" / "masks").mkdir()
    result = run_eval(model_dir, f"folder:{tmp_path / 'data'}", "--out", tmp_path / "eval")
    assert result.exit_code != 0 and "holds no PNG/JPEG/BMP/TIFF image" in result.output
    result = run_eval(model_dir, "synthetic:num_samples=0", "--out", tmp_path / "eval")
    assert result.exit_code != 0 and "empty" in result.output
    assert not (tmp_path / "eval").exists()


def test_data_without_any_mask_is_an_error(model_dir, tmp_path):
    folder = tmp_path / "data" / "images"
    folder.mkdir(parents=True)
    Image.fromarray(np.full((32, 32, 3), 90, dtype=np.uint8)).save(folder / "a.png")
    result = run_eval(model_dir, f"folder:{tmp_path / 'data'},require_masks=false", "--out", tmp_path / "eval")
    assert result.exit_code != 0 and "nothing to evaluate" in result.output
    assert not (tmp_path / "eval").exists() and leftovers(tmp_path) == []


def test_a_volume_with_zero_spacing_is_refused(model_dir, tmp_path, monkeypatch):
    from samunet_tune.eval import runner

    original = runner.checked_spacing

    def zero_spacing(sample):
        sample.spacing = (0.0, 0.0)  # what a NIfTI with pixdim 0 would give
        return original(sample)

    monkeypatch.setattr(runner, "checked_spacing", zero_spacing)
    result = run_eval(model_dir, SYNTHETIC, "--out", tmp_path / "eval")
    assert result.exit_code != 0 and "has pixel spacing (0.0, 0.0)" in result.output
    assert not (tmp_path / "eval").exists() and leftovers(tmp_path) == []


def test_bad_protocol_and_existing_output(model_dir, tmp_path):
    result = run_eval(model_dir, SYNTHETIC, "--protocol", "clicks")
    assert result.exit_code != 0 and "needs a count" in result.output
    out = tmp_path / "eval"
    out.mkdir()
    (out / "metrics.json").write_text(json.dumps({"old": True}))
    result = run_eval(model_dir, SYNTHETIC, "--out", out)
    assert result.exit_code != 0 and "--overwrite" in result.output
    assert json.loads((out / "metrics.json").read_text()) == {"old": True}  # untouched


def test_no_data_at_all_is_a_usage_error(model_dir):
    result = run_eval(model_dir)
    assert result.exit_code != 0 and "no data to evaluate on" in result.output


def test_a_resumed_run_s_repeated_steps_keep_the_last_value(tmp_path):
    from samunet_tune.eval.plots import read_scalars

    path = tmp_path / "scalars.csv"
    path.write_text("step,name,value\n1,train/loss,0.9\n2,train/loss,0.8\n3,train/loss,0.7\n2,train/loss,0.75\n"
                    "3,train/loss,0.65\n")
    assert read_scalars(path) == {"train/loss": [(1, 0.9), (2, 0.75), (3, 0.65)]}
    path.write_text("step,value\n1,0.5\n")
    with pytest.raises(ValueError, match="missing column"):
        read_scalars(path)
