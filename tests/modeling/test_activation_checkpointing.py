"""ViT activation checkpointing changes what is stored, never the loss or the gradients."""

import copy

import pytest
import torch
import torch.nn.functional as F

from samunet_tune import Prompts, create_model
from samunet_tune.modeling.memory import set_activation_checkpointing, set_channels_last
from samunet_tune.strategies import build_strategy
from samunet_tune.strategies.parts import base_samunet

IMAGE_SIZE = 128  # samunet_tiny


def _batch():
    generator = torch.Generator().manual_seed(0)
    images = torch.randn(2, 3, IMAGE_SIZE, IMAGE_SIZE, generator=generator)
    prompts = Prompts(
        boxes=torch.tensor([[8.0, 8, 60, 70], [30, 20, 110, 100], [0, 0, 127, 127]]),
        image_index=torch.tensor([0, 1, 1]),
    )
    target = (torch.rand(3, 1, IMAGE_SIZE // 4, IMAGE_SIZE // 4, generator=generator) > 0.5).float()
    return images, prompts, target


def _loss_and_grads(module, seed=0):
    images, prompts, target = _batch()
    module.train()
    module.zero_grad()
    torch.manual_seed(seed)  # LoRA dropout draws: checkpointing must replay the same ones
    loss = F.binary_cross_entropy_with_logits(module(images, prompts), target)
    loss.backward()
    return loss.detach(), {name: p.grad.clone() for name, p in module.named_parameters() if p.grad is not None}


STRATEGIES = [
    ("conv-branch", {}),  # ViT frozen: gradients reach the fusion adapters through its later blocks
    ("full", {}),
    ("lora-vit", {"dropout": 0.2, "targets": ["qkv", "mlp"]}),
]


@pytest.mark.parametrize("backend", ["sdpa", "reference"])
@pytest.mark.parametrize("strategy, options", STRATEGIES, ids=[name for name, _ in STRATEGIES])
def test_checkpointing_gives_identical_loss_and_grads(strategy, options, backend):
    torch.manual_seed(0)
    base = create_model("samunet_tiny", vit_attention=backend)
    twin = copy.deepcopy(base)  # before apply: peft injects its layers in place
    torch.manual_seed(1)  # LoRA draws its A matrices in apply
    plain = build_strategy(strategy, **options).apply(base)
    torch.manual_seed(1)
    checkpointed = build_strategy(strategy, **options).apply(twin)
    assert set_activation_checkpointing(checkpointed, True) is checkpointed

    loss, grads = _loss_and_grads(plain)
    loss_ckpt, grads_ckpt = _loss_and_grads(checkpointed)
    assert torch.equal(loss_ckpt, loss)
    assert grads_ckpt.keys() == grads.keys()
    assert any(name.startswith(("fusion.", "base_model.model.fusion.", "conv_branch.")) or "lora_" in name for name in grads)
    for name, grad in grads.items():
        torch.testing.assert_close(grads_ckpt[name], grad, rtol=1e-6, atol=1e-7, msg=lambda m, n=name: f"{n}: {m}")


def _bytes_saved_inside_vit_blocks(model) -> int:
    """Bytes autograd keeps for backward from inside the ViT blocks during one training forward."""
    blocks = base_samunet(model).image_encoder.blocks
    inside = []
    handles = [block.register_forward_pre_hook(lambda *_: inside.append(True)) for block in blocks]
    handles += [block.register_forward_hook(lambda *_: inside.pop() and None) for block in blocks]
    parameters = {p.untyped_storage().data_ptr() for p in model.parameters()}
    storages = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        if inside and storage.data_ptr() not in parameters:
            storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    images, prompts, _ = _batch()
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
            model.train()(images, prompts)
    finally:
        for handle in handles:
            handle.remove()
    return sum(storages.values())


def test_checkpointed_blocks_store_no_activations():
    """A deterministic stand-in for the memory benchmark (P5): what autograd keeps, not RSS."""
    torch.manual_seed(0)
    module = build_strategy("conv-branch").apply(create_model("samunet_tiny"))
    assert _bytes_saved_inside_vit_blocks(module) > 1_000_000  # attention, MLP, norms of blocks 1..7
    set_activation_checkpointing(module, True)
    assert _bytes_saved_inside_vit_blocks(module) == 0  # only each block's input, held by checkpoint


def test_switch_is_off_by_default_and_keeps_state_dict_and_inference(tiny_model):
    assert tiny_model.activation_checkpointing is False
    images, prompts, _ = _batch()
    keys = list(tiny_model.state_dict())
    with torch.no_grad():
        expected = tiny_model.eval()(images, prompts)
        set_activation_checkpointing(tiny_model, True)
        assert torch.equal(tiny_model(images, prompts), expected)  # no_grad: blocks run plainly
    assert list(tiny_model.state_dict()) == keys
    set_activation_checkpointing(tiny_model, False)
    assert tiny_model.activation_checkpointing is False


def test_channels_last_conv_branch_same_outputs(tiny_model):
    images, prompts, _ = _batch()
    with torch.no_grad():
        expected = tiny_model.eval()(images, prompts)
        set_channels_last(tiny_model, True)
        assert tiny_model.conv_branch.stem[0].weight.is_contiguous(memory_format=torch.channels_last)
        torch.testing.assert_close(tiny_model(images, prompts), expected, rtol=1e-4, atol=1e-5)
        set_channels_last(tiny_model, False)
        assert tiny_model.conv_branch.stem[0].weight.is_contiguous()
