"""Memory savers for training: ViT activation checkpointing and a channels-last conv branch.

Activation checkpointing matters even when the ViT is frozen: with the `conv-branch` strategy the
gradient reaches the fusion adapters by flowing back through every ViT block after them, so each
block keeps its attention and MLP activations for backward. Checkpointed, a block keeps only its
input and recomputes the rest during backward (one extra ViT forward per step).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint


def set_activation_checkpointing(model: nn.Module, enabled: bool = True) -> nn.Module:
    """Recompute each ViT block in backward instead of storing its activations.

    Args:
        model: a SamUNet, possibly wrapped (DDP, torch.compile, peft).
        enabled: True to checkpoint every ViT block in `encode_image`, False to store activations.

    Returns:
        the same model, for chaining.
    """
    from samunet_tune.strategies.parts import base_samunet

    base_samunet(model).activation_checkpointing = bool(enabled)
    return model


def run_checkpointed(block: nn.Module, tokens: torch.Tensor) -> torch.Tensor:
    """`block(tokens)`, checkpointed when autograd is recording (inference runs it plainly)."""
    if not torch.is_grad_enabled():
        return block(tokens)
    return checkpoint(block, tokens, use_reentrant=False)


def set_channels_last(model: nn.Module, enabled: bool = True) -> nn.Module:
    """Store the conv branch's weights channels-last (NHWC), or back to contiguous (NCHW).

    Convolutions then run in NHWC, which cuDNN's tensor-core kernels prefer under bf16/fp16.
    Off by default: on 2 CPU cores it made the ResNet-34 branch 1.29x faster in inference and
    1.09x in training, but the whole SAM-UNet forward only 1.01x (the ViT dominates); P6 measures
    it on a GPU (BENCHMARKS.md). Inputs need no change: a conv with channels-last weights returns
    channels-last activations.

    Args:
        model: a SamUNet, possibly wrapped (DDP, torch.compile, peft).
        enabled: True for torch.channels_last, False for torch.contiguous_format.
    """
    from samunet_tune.strategies.parts import base_samunet

    memory_format = torch.channels_last if enabled else torch.contiguous_format
    base_samunet(model).conv_branch.to(memory_format=memory_format)
    return model
