"""lora-vit: the target pattern, and adapters that save, load and merge with identical outputs."""

from __future__ import annotations

import json
import re

import pytest
import torch
from peft import LoraConfig
from peft.tuners.lora import LoraLayer
from peft.tuners.tuners_utils import check_target_module_exists
from safetensors import safe_open

from samunet_tune import Prompts, SamUNet, create_model
from samunet_tune.strategies import build_strategy, load_lora_adapter, merge_lora
from samunet_tune.strategies.lora_vit import lora_target_pattern

TARGET_CASES = [
    (["qkv"], None, ["attn.qkv"], range(8)),
    (["proj"], [2], ["attn.proj"], [2]),
    (["qkv", "proj", "mlp"], [0, 7], ["attn.qkv", "attn.proj", "mlp.lin1", "mlp.lin2"], [0, 7]),
    (["mlp"], [1, 1], ["mlp.lin1", "mlp.lin2"], [1]),  # duplicates are harmless
]


@pytest.mark.parametrize(("targets", "blocks", "layers", "expected_blocks"), TARGET_CASES)
def test_target_pattern_catches_exactly_the_chosen_linears(tiny_model, targets, blocks, layers, expected_blocks):
    expected = {f"image_encoder.blocks.{b}.{layer}" for b in expected_blocks for layer in layers}
    pattern = lora_target_pattern(targets, blocks)
    matched = {name for name, _ in tiny_model.named_modules() if re.fullmatch(pattern, name)}
    assert matched == expected
    assert all(isinstance(tiny_model.get_submodule(name), torch.nn.Linear) for name in matched)

    module = build_strategy("lora-vit", targets=targets, blocks=blocks).apply(tiny_model)
    adapted = {
        name.removeprefix("base_model.model.")
        for name, layer in module.named_modules()
        if isinstance(layer, LoraLayer)
    }
    assert adapted == expected  # what peft actually wrapped, not only what the regex says
    assert not any("patch_embed" in name or "mask_decoder" in name for name in adapted)


def test_a_bare_proj_target_would_catch_patch_embed(tiny_model):
    # Why the pattern is anchored: peft's list form matches suffixes, and SAM's patch embedding
    # is a Conv2d named `proj` too; the decoder's attention projections end in `_proj`.
    assert check_target_module_exists(LoraConfig(target_modules=["proj"]), "image_encoder.patch_embed.proj")
    every = lora_target_pattern(["qkv", "proj", "mlp"])
    assert not re.fullmatch(every, "image_encoder.patch_embed.proj")
    decoder_projections = [n for n, _ in tiny_model.named_modules() if n.startswith("mask_decoder") and "proj" in n]
    assert decoder_projections and not any(re.fullmatch(every, name) for name in decoder_projections)


def test_blocks_beyond_the_vit_are_an_error(tiny_model):
    with pytest.raises(ValueError, match=r"blocks=\[3, 8\].*blocks 0\.\.7"):
        build_strategy("lora-vit", blocks=[3, 8]).apply(tiny_model)


def _trained_adapter(tiny_model):
    """An adapter whose LoRA and saved parts hold non-trivial values (B = 0 would hide bugs)."""
    strategy = build_strategy(
        "lora-vit",
        targets=["qkv", "proj", "mlp"],
        blocks=[1, 3, 6],
        train_also=["mask_decoder", "fusion", "conv_branch"],
    )
    module = strategy.apply(tiny_model)
    torch.manual_seed(5)
    with torch.no_grad():
        for parameter in module.parameters():
            if parameter.requires_grad:
                parameter.add_(0.05 * torch.randn_like(parameter))
        module.train()(torch.randn(2, 3, 128, 128), _any_prompts())  # moves the trained ResNet's BN statistics
    return strategy, module


def _any_prompts():
    return Prompts(boxes=torch.tensor([[4.0, 4, 60, 60], [10, 20, 100, 120]]))


def test_adapter_saves_loads_and_merges_with_identical_outputs(tiny_model, outputs_of, tmp_path):
    base_weights = {key: value.clone() for key, value in tiny_model.state_dict().items()}
    strategy, module = _trained_adapter(tiny_model)
    reference = outputs_of(module)
    assert not torch.allclose(reference, outputs_of(_fresh_base(base_weights)))  # the adapter matters

    adapter_dir = tmp_path / "final"
    strategy.save_final(module, adapter_dir, base_model="samunet-tune/samunet_tiny")

    loaded = load_lora_adapter(_fresh_base(base_weights), adapter_dir)
    assert torch.equal(outputs_of(loaded), reference)

    merged = merge_lora(loaded)
    assert type(merged) is SamUNet
    assert set(merged.state_dict()) == set(base_weights)
    merged.save_pretrained(tmp_path / "merged")
    reloaded = SamUNet.from_pretrained(tmp_path / "merged")  # strict: every key must match
    torch.testing.assert_close(outputs_of(reloaded), reference, atol=1e-5, rtol=0)


def test_adapter_folder_holds_adapters_and_trained_parts_only(tiny_model, tmp_path):
    strategy, module = _trained_adapter(tiny_model)
    strategy.save_final(module, tmp_path, base_model="samunet-tune/samunet_tiny")

    assert {"adapter_config.json", "adapter_model.safetensors", "config.json", "README.md"} <= {
        p.name for p in tmp_path.iterdir()
    }
    assert not (tmp_path / "model.safetensors").exists()
    adapter_config = json.loads((tmp_path / "adapter_config.json").read_text())
    assert adapter_config["base_model_name_or_path"] == "samunet-tune/samunet_tiny"
    assert adapter_config["target_modules"] == strategy.target_pattern()
    assert json.loads((tmp_path / "config.json").read_text()) == tiny_model.config.to_dict()

    with safe_open(str(tmp_path / "adapter_model.safetensors"), framework="pt") as handle:
        keys = set(handle.keys())
    vit_keys = {k for k in keys if ".image_encoder." in k}
    assert vit_keys and all(".lora_A." in k or ".lora_B." in k for k in vit_keys)  # no frozen ViT weight
    parts = {k.removeprefix("base_model.model.").split(".")[0] for k in keys}
    assert parts == {"image_encoder", "mask_decoder", "fusion", "conv_branch"}
    assert "base_model.model.conv_branch.stem.1.running_mean" in keys  # BN statistics of the trained ResNet
    assert (tmp_path / "README.md").read_text().count("base_model: samunet-tune/samunet_tiny") == 1


def test_adapter_refuses_a_base_of_another_architecture(tiny_model, tmp_path):
    strategy, module = _trained_adapter(tiny_model)
    strategy.save_final(module, tmp_path, base_model=None)
    other = create_model("samunet_tiny", conv_branch="resnet18")
    with pytest.raises(ValueError, match="conv_branch: adapter 'resnet10' vs base 'resnet18'"):
        load_lora_adapter(other, tmp_path)


def test_loading_a_folder_without_adapter_config_says_what_it_needs(tiny_model, tmp_path):
    with pytest.raises(FileNotFoundError, match="adapter_config.json is missing"):
        load_lora_adapter(tiny_model, tmp_path)


def _fresh_base(weights):
    model = create_model("samunet_tiny")
    model.load_state_dict(weights)
    return model
