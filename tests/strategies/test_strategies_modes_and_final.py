"""Frozen parts stay in eval mode during training; the final artefact of whole-part strategies."""

from __future__ import annotations

import pytest
import torch

from samunet_tune import SamUNet
from samunet_tune.strategies import build_strategy


def _running_means(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: m.running_mean.clone() for name, m in module.named_modules() if isinstance(m, torch.nn.BatchNorm2d)}


def _train_forward(module, frozen, images, prompts):
    module.train()
    for part in frozen:
        part.eval()  # what the trainer does after every model.train()
    module(images, prompts)


def test_decoder_only_keeps_frozen_batchnorm_statistics(tiny_model, adam_steps, sample_batch):
    strategy = build_strategy("decoder-only")
    module = strategy.apply(tiny_model)
    frozen = strategy.frozen_eval_modules(module)
    assert tiny_model.conv_branch in frozen and strategy.image_encoder_trainable is False

    before = _running_means(tiny_model.conv_branch)
    _train_forward(module, frozen, *sample_batch())
    adam_steps(module, frozen)
    assert all(torch.equal(before[name], value) for name, value in _running_means(tiny_model.conv_branch).items())

    _train_forward(module, [], *sample_batch())  # without the eval() call they would drift: the check can fail
    assert any(not torch.equal(before[name], value) for name, value in _running_means(tiny_model.conv_branch).items())


def test_conv_branch_trains_its_batchnorm_and_freezes_only_the_vit(tiny_model, sample_batch):
    strategy = build_strategy("conv-branch")
    module = strategy.apply(tiny_model)
    frozen = strategy.frozen_eval_modules(module)
    assert frozen == [tiny_model.image_encoder]
    before = _running_means(tiny_model.conv_branch)
    _train_forward(module, frozen, *sample_batch())
    assert all(not torch.equal(before[name], value) for name, value in _running_means(tiny_model.conv_branch).items())


def test_full_freezes_nothing(tiny_model):
    strategy = build_strategy("full")
    assert strategy.frozen_eval_modules(strategy.apply(tiny_model)) == []


@pytest.mark.parametrize("name", ["conv-branch", "decoder-only", "full"])
def test_final_folder_is_a_save_pretrained_model(tiny_model, adam_steps, outputs_of, tmp_path, name):
    strategy = build_strategy(name)
    module = strategy.apply(tiny_model)
    adam_steps(module, strategy.frozen_eval_modules(module))
    strategy.save_final(module, tmp_path / "final", base_model="samunet-tune/samunet_tiny")

    assert {p.name for p in (tmp_path / "final").iterdir()} == {"config.json", "model.safetensors", "README.md"}
    loaded = SamUNet.from_pretrained(tmp_path / "final")
    assert torch.equal(outputs_of(loaded), outputs_of(module))
