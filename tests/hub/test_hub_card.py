"""The model card of a real tiny training run: metrics and baselines in the text, model-index in
the metadata, and huggingface_hub's own (offline) reading of the card accepts it."""

from __future__ import annotations

import json

import pytest
import yaml
from huggingface_hub import ModelCard, metadata_load
from huggingface_hub.repocard_data import model_index_to_eval_results
from PIL import Image

from samunet_tune.hub.card import check_card
from samunet_tune.hub.source import find_source
from samunet_tune.hub.staging import stage_upload
from samunet_tune.train.recipe import load_train_recipe
from samunet_tune.train.trainer import Trainer
from tests.train.helpers import write_recipe

REPO = "samunet-tune-test/samunet_tiny-synthetic-decoder-only"


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A real run: 1 step of decoder-only on synthetic data, validated, with a training plot."""
    folder = tmp_path_factory.mktemp("run")
    tiny = {"num_samples": 2, "image_size": 64, "seed": 0}
    recipe_path = write_recipe(
        folder,
        strategy={"name": "decoder-only"},
        data={"train": {"plugin": "synthetic", "options": {**tiny, "modality": "ct"}},
              "val": {"plugin": "synthetic", "options": {**tiny, "seed": 9}}, "masks_per_image": 1},
        validation={"every_epoch": True},
        checkpoint={"every_n_steps": 100, "keep_last": 1},
        logging={"progress_bar": False, "tensorboard": False},
        max_steps=1,
    )
    recipe, settings = load_train_recipe(str(recipe_path), [])
    Trainer(recipe, settings).fit()
    run = folder / "run"
    plots = run / "logs" / "plots"  # `samunet-tune plot` (or the trainer itself) draws the curves here
    plots.mkdir(parents=True, exist_ok=True)
    if not (plots / "loss.png").is_file():
        Image.new("RGB", (8, 8), "white").save(plots / "loss.png")
    return run


def _eval_report(dice: float, box: float, ellipse: float) -> dict:
    def block(value, n=6):
        return {"n_masks": n, "dice": {"mean": value, "count": n}, "iou": {"mean": value / 2, "count": n}}

    return {
        "model": "run", "datasets": [{"name": "kvasir-seg-mini", "plugin": "kvasir-seg", "location": "/data/kvasir-seg-mini",
                                      "options": {"split": "val"}}],
        "counts": {"images": 3, "images_evaluated": 3, "masks": 6},
        "protocols": {"box": {"description": "one tight box per mask", "per_mask": block(dice),
                              "per_class": {"polyp": block(dice, 4), "tool": block(dice, 2)}}},
        "baselines": {"box_fill": {"per_mask": block(box), "per_class": {"polyp": block(box, 4), "tool": block(box, 2)}},
                      "inscribed_ellipse": {"per_mask": block(ellipse), "per_class": {"polyp": block(ellipse, 4),
                                                                                         "tool": block(ellipse, 2)}}},
    }


def test_card_carries_the_runs_validation_metrics_and_baselines(trained_run, tmp_path):
    metrics = json.loads((trained_run / "metrics.json").read_text())["validation"]
    staged = stage_upload(find_source(trained_run), REPO, tmp_path / "staged")
    expected = {"README.md", "config.json", "metrics.json", "model.safetensors", "plots/loss.png", "recipe.yaml"}
    assert expected <= set(staged.files) and all(name.startswith("plots/") for name in set(staged.files) - expected)
    text = (tmp_path / "staged" / "README.md").read_text()
    for value in (metrics["dice"], metrics["iou"], metrics["baseline_box_dice"], metrics["baseline_ellipse_dice"]):
        assert f"{value:.4f}" in text
    assert "not a medical device" in text and "clinical decisions" in text
    assert "`decoder-only`" in text and "synthetic shapes** (training)" in text
    assert "2408.09886v1" in text and "@inproceedings{kirillov2023segment" in text
    assert "![loss](plots/loss.png)" in text and 'SamUNet.from_pretrained("' + REPO + '")' in text

    card = check_card(text)  # huggingface_hub's own parse, model-index round trip, save/load
    assert card.data.library_name == "samunet-tune" and card.data.pipeline_tag == "image-segmentation"
    assert card.data.license == "apache-2.0" and "medical-imaging" in card.data.tags
    name, results = model_index_to_eval_results(metadata_load(tmp_path / "staged" / "README.md")["model-index"])
    assert name == REPO.split("/")[1]
    assert {(r.metric_type, r.metric_value) for r in results} == {("dice", round(metrics["dice"], 4)),
                                                                 ("iou", round(metrics["iou"], 4))}
    assert all(r.task_type == "image-segmentation" and r.dataset_type == "synthetic" for r in results)


def test_best_checkpoint_reports_the_validation_at_the_best_step(trained_run, tmp_path):
    best = json.loads((trained_run / "metrics.json").read_text())["best"]
    stage_upload(find_source(trained_run, checkpoint="best"), REPO, tmp_path / "staged")
    text = (tmp_path / "staged" / "README.md").read_text()
    assert f"`best/` (best validation dice {best['value']:.4f} at step {best['step']})" in text


def test_an_evaluation_report_gives_the_table_per_class(trained_run, tmp_path):
    eval_dir = tmp_path / "eval"
    eval_dir.mkdir()
    (eval_dir / "metrics.json").write_text(json.dumps(_eval_report(0.91, 0.80, 0.85)))
    (eval_dir / "summary.md").write_text("| model | 0.91 |\n")
    (eval_dir / "per_sample.csv").write_text("id,dice\n")
    staged = stage_upload(find_source(trained_run, eval_dir=eval_dir), REPO, tmp_path / "staged")
    assert {"eval/metrics.json", "eval/summary.md"} <= set(staged.files)
    assert any(origin.endswith("per_sample.csv") for origin, _ in staged.skipped)
    text = (tmp_path / "staged" / "README.md").read_text()
    assert "| box: all masks | Dice | **0.9100** | 0.8000 | 0.8500 | 6 |" in text
    assert "| box: tool | IoU | **0.4550** | 0.4000 | 0.4250 | 2 |" in text
    assert "beats both trivial baselines" in text and "Kvasir-SEG** (evaluation)" in text
    assert "@inproceedings{jha2020kvasir" in text
    data = ModelCard(text).data
    assert [r.metric_value for r in data.eval_results] == [0.91, 0.455]


def test_a_model_that_does_not_beat_the_baselines_is_flagged(trained_run, tmp_path):
    eval_dir = tmp_path / "eval"
    eval_dir.mkdir()
    (eval_dir / "metrics.json").write_text(json.dumps(_eval_report(0.40, 0.80, 0.85)))
    stage_upload(find_source(trained_run, eval_dir=eval_dir), REPO, tmp_path / "staged")
    assert '**Warning** `box`: mean Dice 0.4000 does not beat the trivial "ellipse in box" baseline (0.8500)' in (
        tmp_path / "staged" / "README.md").read_text()


def test_card_info_adds_data_and_reported_results(tiny_model, tmp_path):
    tiny_model.save_pretrained(tmp_path / "model")
    info = yaml.safe_load((_reference_card_info()).read_text())
    stage_upload(find_source(tmp_path / "model"), "samunet-tune/samunet_vit_b_res34", tmp_path / "staged", card_info=info)
    card = check_card((tmp_path / "staged" / "README.md").read_text())
    assert "SA-Med2D" in card.text and info["reported_results"].strip().splitlines()[0] in card.text
    with pytest.raises(ValueError, match="unknown key"):
        stage_upload(find_source(tmp_path / "model"), "a/b", tmp_path / "staged2", card_info={"titel": "typo"})


def _reference_card_info():
    from pathlib import Path

    return Path(__file__).resolve().parents[2] / "hub" / "reference_card.yaml"


VALID = "library_name: samunet-tune\npipeline_tag: image-segmentation\nlicense: apache-2.0\ntags: [a]\n"
NO_DATASET = "model-index:\n- name: x\n  results:\n  - task: {type: image-segmentation}\n    metrics: [{type: dice, value: 1}]\n"


@pytest.mark.parametrize(
    ("metadata", "problem"),
    [
        (VALID + NO_DATASET, "does not parse"),  # a model-index result without its dataset
        ("pipeline_tag: image-segmentation\nlicense: apache-2.0\ntags: [a]\n", "library_name is missing"),
        ("library_name: x\npipeline_tag: image-segmentation\nlicense: other\ntags: [a]\n", "license 'other' needs"),
        ("library_name: [unclosed\n", "does not parse"),
    ],
)
def test_metadata_check_rejects_what_huggingface_hub_rejects(metadata, problem):
    with pytest.raises(ValueError, match=problem):
        check_card(f"---\n{metadata}---\n\n# card\n")
