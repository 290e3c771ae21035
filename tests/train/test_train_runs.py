"""The trainer end to end on tiny recipes: output layout, logs, strategies, resume, cache."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from samunet_tune.train.recipe import load_train_recipe
from samunet_tune.train.trainer import Trainer
from tests.train.helpers import losses_of


def run(recipe_path, *overrides):
    recipe, settings = load_train_recipe(str(recipe_path), list(overrides))
    return Trainer(recipe, settings).fit(), settings


def test_output_layout(recipe_in):
    metrics, settings = run(recipe_in(data={"val": {"plugin": "synthetic", "options": {"num_samples": 2, "image_size": 96, "seed": 9}}},
                                      validation={"every_epoch": True}))
    out = settings.output_dir
    from pathlib import Path

    out = Path(out)
    assert {"config.json", "model.safetensors", "README.md"} <= {p.name for p in (out / "final").iterdir()}
    assert (out / "recipe.yaml").read_text().startswith("# test recipe")
    assert json.loads((out / "metrics.json").read_text())["global_step"] == 4
    assert list((out / "logs").glob("events.out.tfevents.*"))
    assert len(losses_of(out)) == 4
    checkpoints = sorted(p.name for p in (out / "checkpoints").iterdir())
    assert checkpoints == ["step-000002", "step-000004"]
    assert metrics["validation"]["count"] > 0


def test_tensorboard_events_are_real(recipe_in):
    _, settings = run(recipe_in())
    from pathlib import Path

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(Path(settings.output_dir) / "logs"))
    events.Reload()
    assert [e.step for e in events.Scalars("train/loss")] == [1, 2, 3, 4]


def test_checkpoint_holds_only_trainable_state(recipe_in):
    _, settings = run(recipe_in())
    from pathlib import Path

    trainable = load_file(str(Path(settings.output_dir) / "checkpoints" / "step-000004" / "trainable.safetensors"))
    assert not any(key.startswith("image_encoder.blocks") for key in trainable)
    assert any(key.startswith("conv_branch.") for key in trainable)


def test_interrupted_run_resumes_to_the_same_weights(recipe_in, tmp_path, monkeypatch):
    straight, straight_settings = run(recipe_in(output_dir=str(tmp_path / "straight"), max_steps=6))

    calls = {"n": 0}
    original = Trainer._loss

    def crash_on_fifth_batch(self, batch):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return original(self, batch)

    monkeypatch.setattr(Trainer, "_loss", crash_on_fifth_batch)
    broken = recipe_in(output_dir=str(tmp_path / "resumed"), max_steps=6)
    with pytest.raises(KeyboardInterrupt):
        run(broken)
    monkeypatch.setattr(Trainer, "_loss", original)
    resumed, resumed_settings = run(broken, "resume=auto")
    assert resumed["global_step"] == 6
    a = load_file(str(tmp_path / "straight" / "final" / "model.safetensors"))
    b = load_file(str(tmp_path / "resumed" / "final" / "model.safetensors"))
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)


def test_feature_cache_gives_identical_losses(recipe_in, tmp_path):
    common = dict(strategy={"name": "decoder-only"}, max_steps=8)
    run(recipe_in(output_dir=str(tmp_path / "plain"), **common))
    metrics, _ = run(recipe_in(output_dir=str(tmp_path / "cached"), train={"epochs": 50, "feature_cache": "memory"}, **common))
    plain, cached = losses_of(tmp_path / "plain"), losses_of(tmp_path / "cached")
    assert len(plain) == len(cached) == 8
    torch.testing.assert_close(torch.tensor(cached), torch.tensor(plain), rtol=1e-5, atol=1e-6)
    # 8 images, batch 2: the first epoch computes each image once, later epochs only hit.
    assert metrics["feature_cache"] == {"hits": 8, "misses": 8}


def test_feature_cache_refuses_a_trained_encoder(recipe_in):
    with pytest.raises(ValueError, match="decoder-only"):
        run(recipe_in(train={"epochs": 50, "feature_cache": "memory"}))


def test_bf16_on_cpu_runs(recipe_in):
    metrics, _ = run(recipe_in(train={"epochs": 50, "mixed_precision": "bf16"}, max_steps=2))
    assert metrics["global_step"] == 2


def test_gradient_accumulation_counts_optimizer_steps(recipe_in):
    metrics, _ = run(recipe_in(train={"epochs": 50, "gradient_accumulation_steps": 2}, max_steps=3))
    assert metrics["global_step"] == 3


def test_memory_switches_train_to_the_same_losses(recipe_in, tmp_path):
    run(recipe_in(output_dir=str(tmp_path / "plain"), max_steps=3))
    run(recipe_in(output_dir=str(tmp_path / "saver"), max_steps=3,
                  train={"epochs": 50, "activation_checkpointing": True, "channels_last": True}))
    torch.testing.assert_close(torch.tensor(losses_of(tmp_path / "saver")), torch.tensor(losses_of(tmp_path / "plain")), rtol=1e-4, atol=1e-5)
