"""One table, one body: each strategy trains exactly the parameters it names, and nothing else moves.

Names are compared as the plain SamUNet spells them: peft's `base_model.model.` prefix and the
`modules_to_save.default` copy are folded back, its frozen `original_module` is left out.
"""

from __future__ import annotations

import pytest
import torch

from samunet_tune import create_model
from samunet_tune.strategies import build_strategy

PARTS = ("image_encoder", "conv_branch", "fusion", "bridges", "neck_upsampler", "prompt_encoder", "mask_decoder")
IMAGE_SIDE = {"image_encoder", "conv_branch", "fusion", "bridges", "neck_upsampler"}
CONV_BRANCH_PARTS = {"conv_branch", "fusion", "bridges", "neck_upsampler", "prompt_encoder", "mask_decoder"}
ALL_BLOCKS = tuple(range(8))  # samunet_tiny has 8 ViT blocks
QKV, PROJ, MLP = ("attn.qkv",), ("attn.proj",), ("mlp.lin1", "mlp.lin2")

# (strategy, options, parts trained in full, LoRA layers, LoRA blocks)
CASES = [
    ("conv-branch", {}, CONV_BRANCH_PARTS, (), ()),
    ("decoder-only", {}, {"prompt_encoder", "mask_decoder"}, (), ()),
    ("full", {}, set(PARTS), (), ()),
    ("lora-vit", {}, {"prompt_encoder", "mask_decoder"}, QKV, ALL_BLOCKS),
    (
        "lora-vit",
        {"targets": ["qkv", "proj", "mlp"], "blocks": [0, 5], "train_also": []},
        set(),
        QKV + PROJ + MLP,
        (0, 5),
    ),
    (
        "lora-vit",
        {"targets": ["proj"], "rank": 2, "train_also": ["conv_branch", "fusion", "bridges", "neck_upsampler"]},
        {"conv_branch", "fusion", "bridges", "neck_upsampler"},
        PROJ,
        ALL_BLOCKS,
    ),
]
IDS = ["conv-branch", "decoder-only", "full", "lora-default", "lora-qkv-proj-mlp-blocks-0-5", "lora-proj-image-side"]


def plain_name(peft_or_plain_name: str) -> str | None:
    name = peft_or_plain_name.removeprefix("base_model.model.")
    if ".original_module." in name:
        return None
    return name.replace(".modules_to_save.default.", ".")


def expected_trainable(parts: set[str], layers: tuple[str, ...], blocks: tuple[int, ...]) -> set[str]:
    plain = {name for name, _ in create_model("samunet_tiny").named_parameters()}
    whole = {name for name in plain if name.split(".", 1)[0] in parts}
    lora = {
        f"image_encoder.blocks.{block}.{layer}.lora_{matrix}.default.weight"
        for block in blocks
        for layer in layers
        for matrix in "AB"
    }
    return whole | lora


@pytest.mark.parametrize(("strategy_name", "options", "parts", "layers", "blocks"), CASES, ids=IDS)
def test_strategy_trains_exactly_its_parameters(tiny_model, adam_steps, strategy_name, options, parts, layers, blocks):
    strategy = build_strategy(strategy_name, **options)
    module = strategy.apply(tiny_model)

    trainable = {plain_name(n) for n, p in module.named_parameters() if p.requires_grad}
    assert trainable == expected_trainable(parts, layers, blocks)
    assert strategy.image_encoder_trainable == bool(layers or parts & IMAGE_SIDE)

    base = module.get_base_model() if hasattr(module, "get_base_model") else module
    frozen = [part for part in PARTS if part not in parts and not (layers and part == "image_encoder")]
    assert [id(m) for m in strategy.frozen_eval_modules(module)] == [id(getattr(base, part)) for part in frozen]

    before = {name: p.detach().clone() for name, p in module.named_parameters()}
    adam_steps(module, strategy.frozen_eval_modules(module))
    after = dict(module.named_parameters())
    changed = {plain_name(name) for name in before if not torch.equal(before[name], after[name])}
    assert changed == trainable, (
        f"trained but unchanged: {sorted(trainable - changed)[:5]}; "
        f"changed but frozen: {sorted(changed - trainable)[:5]}"
    )
