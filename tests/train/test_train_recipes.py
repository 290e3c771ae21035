"""Shipped recipes validate; bad recipes are reported with key path and YAML line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from samunet_tune.config import RecipeError, shipped_recipes
from samunet_tune.train.recipe import load_train_recipe
from tests.conftest import shared_data_root

ROOT = Path(__file__).resolve().parents[2]


def test_the_expected_recipes_ship():
    assert {"quickstart", "polyp", "polyp-lora", "polyp-decoder", "sa-med2d", "brats-nifti"} <= set(shipped_recipes())


@pytest.mark.parametrize("name", sorted(shipped_recipes()))
def test_every_shipped_recipe_validates(name, tmp_path):
    overrides = []
    if not shared_data_root().is_dir():  # a user's clone without ../shared: point roots anywhere real
        recipe, _ = load_train_recipe("quickstart")
        overrides = [f"data.{s}.options.root={tmp_path}" for s in ("train", "val") if s in _roots_of(name)]
    _, settings = load_train_recipe(name, overrides)
    assert settings.output_dir and settings.data.train.plugin


def _roots_of(name: str) -> list[str]:
    import yaml

    from samunet_tune.config import find_recipe

    data = yaml.safe_load(find_recipe(name).read_text())["data"]
    return [s for s in ("train", "val") if isinstance(data.get(s), dict) and "root" in data[s].get("options", {})]


def test_every_recipe_opens_with_its_command():
    for path in sorted((ROOT / "recipes").glob("*.yaml")):
        header = path.read_text().splitlines()[:12]
        assert any(f"samunet-tune recipes/{path.name}" in line for line in header), path.name
        assert any("=" in line and "samunet-tune" in line for line in header), path.name


def _bad(recipe_in, *overrides):
    with pytest.raises(RecipeError) as caught:
        load_train_recipe(str(recipe_in()), list(overrides))
    return str(caught.value)


@pytest.mark.parametrize(
    "overrides,expected",
    [
        (["train.epochz=3"], "train.epochz"),
        (["train.epochs=many"], "train.epochs: expected int"),
        (["data.train.plugin=kvasir"], "unknown dataset plugin 'kvasir'"),
        (["strategy.name=lora"], "unknown strategy 'lora'"),
        (["strategy.options={rank: 4}"], "rank"),
        (["optimizer.lrr=0.1"], "lrr"),
        (["data.train.plugin=folder", "data.train.options={root: /no/such/folder}"], "/no/such/folder does not exist"),
        (["data.train.options.num_sample=3"], "num_sample"),
        (["train.mixed_precision=fp8"], "mixed_precision"),
    ],
)
def test_bad_recipes_name_the_key_and_line(recipe_in, overrides, expected):
    message = _bad(recipe_in, *overrides)
    assert expected in message
    assert "recipe.yaml:" in message or "command line override" in message


def test_problems_are_reported_together(recipe_in):
    message = _bad(recipe_in, "train.epochs=many", "strategy.name=lora")
    assert "train.epochs" in message and "strategy" in message


def test_unknown_key_in_the_file_points_at_its_line(tmp_path):
    from tests.train.helpers import write_recipe

    path = write_recipe(tmp_path)
    text = path.read_text().replace("\nseed: 0\n", "\nseed: 0\nsede: 1\n", 1)
    path.write_text(text)
    line = text.splitlines().index("sede: 1") + 1
    with pytest.raises(RecipeError, match=f"recipe.yaml:{line}: sede"):
        load_train_recipe(str(path))


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "samunet_tune", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **(env or {})}, timeout=300)


def test_cli_validate_and_print_config():
    result = _cli("recipes/quickstart.yaml", "--validate")
    assert result.returncode == 0 and "valid" in result.stdout
    printed = _cli("quickstart", "max_steps=7", "~scheduler", "--print-config")
    assert printed.returncode == 0
    assert "max_steps: 7" in printed.stdout and "scheduler" not in printed.stdout.split("output_dir")[1]
    bad = _cli("quickstart", "train.epochs=x")
    assert bad.returncode != 0 and "train.epochs" in bad.stderr


def test_polyp_offline_stops_before_training_with_the_fix(tmp_path, shared_dataset):
    shared_dataset("kvasir-seg-mini")
    result = _cli("recipes/polyp.yaml", f"output_dir={tmp_path / 'out'}",
                  env={"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")})
    assert result.returncode != 0
    message = result.stderr
    assert "samunet-tune/samunet_vit_b_res34" in message and "model.pretrained=PATH" in message
    assert "HF_HUB_OFFLINE" in message
    assert not (tmp_path / "out" / "checkpoints").exists()


def test_quickstart_from_the_command_line(tmp_path):
    result = _cli("recipes/quickstart.yaml", "max_steps=3", f"output_dir={tmp_path / 'qs'}", "logging.progress_bar=false")
    assert result.returncode == 0, result.stderr[-2000:]
    out = tmp_path / "qs"
    for name in ("final/config.json", "final/model.safetensors", "final/README.md", "metrics.json", "recipe.yaml", "logs/scalars.csv"):
        assert (out / name).is_file(), name
    assert (out / "checkpoints" / "step-000003" / "trainer_state.json").is_file()
