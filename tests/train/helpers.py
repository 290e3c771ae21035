"""Tiny recipes written to tmp_path, and reading back what a run logged."""

from __future__ import annotations

import csv
from pathlib import Path

import yaml


def write_recipe(folder: Path, **sections) -> Path:
    """A small recipe: tiny model, synthetic data, no progress bar; sections override."""
    recipe = {
        "output_dir": str(folder / "run"),
        "seed": 0,
        "model": {"name": "samunet_tiny"},
        "strategy": {"name": "conv-branch"},
        "data": {
            "train": {"plugin": "synthetic", "options": {"num_samples": 8, "image_size": 96, "modality": "ct", "seed": 0}},
            "batch_size": 2,
            "masks_per_image": 2,
        },
        "optimizer": {"_component_": "torch.optim.Adam", "lr": 1e-3},
        "train": {"epochs": 50},
        "validation": {"every_epoch": False},
        "checkpoint": {"every_n_steps": 2, "keep_last": 2},
        "logging": {"progress_bar": False, "tensorboard": True},
        "max_steps": 4,
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(recipe.get(key), dict):
            recipe[key] = {**recipe[key], **value}
        else:
            recipe[key] = value
    path = folder / "recipe.yaml"
    path.write_text("# test recipe\n" + yaml.safe_dump(recipe, sort_keys=False))
    return path


def losses_of(run_dir: Path) -> list[float]:
    with open(run_dir / "logs" / "scalars.csv") as handle:
        return [float(row["value"]) for row in csv.DictReader(handle) if row["name"] == "train/loss"]


