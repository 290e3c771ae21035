"""Every strategy trains a few steps and lowers the loss on real Kvasir polyps."""

from __future__ import annotations

import pytest

from samunet_tune.train.recipe import load_train_recipe
from samunet_tune.train.trainer import Trainer
from tests.train.helpers import losses_of

STRATEGIES = [
    ("conv-branch", {}),
    ("lora-vit", {"rank": 4, "train_also": ["prompt_encoder", "mask_decoder"]}),
    ("decoder-only", {}),
    ("full", {}),
]


@pytest.mark.parametrize("name,options", STRATEGIES, ids=[s[0] for s in STRATEGIES])
def test_strategy_lowers_the_loss_on_kvasir(name, options, recipe_in, shared_dataset, tmp_path):
    root = shared_dataset("kvasir-seg-mini")
    # The same 4 polyps every step (batch 4 of 4 images, no augmentation, no jitter): the loss must fall.
    path = recipe_in(
        output_dir=str(tmp_path / name),
        strategy={"name": name, "options": options},
        data={
            "train": {"plugin": "kvasir-seg", "options": {"root": str(root), "split": "test", "val_fraction": 0.0, "test_fraction": 0.02}},
            "batch_size": 4,
            "masks_per_image": 1,
            "prompt_options": {"jitter": "none"},
        },
        optimizer={"_component_": "torch.optim.Adam", "lr": 3e-3},
        max_steps=12,
        checkpoint={"every_n_steps": 100, "keep_last": 1},
    )
    recipe, settings = load_train_recipe(str(path))
    Trainer(recipe, settings).fit()
    losses = losses_of(tmp_path / name)
    assert len(losses) == 12
    first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
    assert last < 0.9 * first, losses  # a clear fall, not noise
    if name == "lora-vit":
        assert {"adapter_config.json", "adapter_model.safetensors"} <= {p.name for p in (tmp_path / name / "final").iterdir()}
