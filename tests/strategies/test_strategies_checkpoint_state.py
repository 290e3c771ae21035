"""trainable_state_dict: what checkpoints of frozen-backbone runs hold, and a strict round trip."""

from __future__ import annotations

import re

import pytest
import torch
from safetensors.torch import load_file, save_file

from samunet_tune.modeling.weights_io import WeightsError
from samunet_tune.strategies import build_strategy

FROZEN_VIT_WEIGHT = re.compile(r"image_encoder\.blocks\.\d+\.(?!.*\.lora_[AB]\.)")

CASES = [
    ("conv-branch", {}, ("conv_branch", "fusion", "bridges", "neck_upsampler", "prompt_encoder", "mask_decoder")),
    ("lora-vit", {"train_also": ["conv_branch", "mask_decoder"]}, ("image_encoder", "conv_branch", "mask_decoder")),
    ("decoder-only", {}, ("prompt_encoder", "mask_decoder")),
]


@pytest.mark.parametrize(("strategy_name", "options", "parts"), CASES, ids=[case[0] for case in CASES])
def test_trainable_state_holds_no_frozen_vit_weights(tiny_model, strategy_name, options, parts):
    strategy = build_strategy(strategy_name, **options)
    module = strategy.apply(tiny_model)
    state = strategy.trainable_state_dict(module)

    assert not [key for key in state if FROZEN_VIT_WEIGHT.search(key)]
    assert {key.removeprefix("base_model.model.").split(".")[0] for key in state} == set(parts)
    trainable = {name for name, p in module.named_parameters() if p.requires_grad}
    assert trainable <= set(state)
    buffers = set(state) - trainable
    # Only BatchNorm statistics of a trained ResNet ride along (not the prompt encoder's fixed matrix).
    assert all(re.search(r"\.(running_mean|running_var|num_batches_tracked)$", key) for key in buffers)
    assert bool(buffers) == ("conv_branch" in parts)


@pytest.mark.parametrize(("strategy_name", "options", "parts"), CASES, ids=[case[0] for case in CASES])
def test_trainable_state_round_trip_restores_it(tiny_model, adam_steps, tmp_path, strategy_name, options, parts):
    strategy = build_strategy(strategy_name, **options)
    module = strategy.apply(tiny_model)
    save_file(strategy.trainable_state_dict(module), tmp_path / "trainable.safetensors")  # as checkpoints do
    saved = load_file(tmp_path / "trainable.safetensors")
    everything_before = {key: value.clone() for key, value in module.state_dict().items()}

    adam_steps(module, strategy.frozen_eval_modules(module))  # parameters and BN statistics move
    assert any(not torch.equal(saved[key], value) for key, value in strategy.trainable_state_dict(module).items())

    strategy.load_trainable_state_dict(module, saved)
    restored = module.state_dict()
    assert all(torch.equal(restored[key], value) for key, value in everything_before.items())


def test_loading_a_state_of_another_strategy_names_the_keys(tiny_model):
    conv = build_strategy("conv-branch")
    module = conv.apply(tiny_model)
    state = dict(conv.trainable_state_dict(module))
    state.pop("mask_decoder.mask_token.weight")
    state["image_encoder.blocks.0.attn.qkv.weight"] = torch.zeros(1)
    with pytest.raises(WeightsError, match=r"missing: mask_decoder\.mask_token\.weight.*unexpected: image_encoder"):
        conv.load_trainable_state_dict(module, state)


def test_loading_a_mis_shaped_tensor_is_an_error(tiny_model):
    strategy = build_strategy("decoder-only")
    module = strategy.apply(tiny_model)
    state = dict(strategy.trainable_state_dict(module))
    state["mask_decoder.mask_token.weight"] = torch.zeros(2, 2)
    with pytest.raises(WeightsError, match=r"wrong shape: mask_decoder\.mask_token\.weight \(2, 2\)"):
        strategy.load_trainable_state_dict(module, state)
