"""`conv-branch`, the paper's fine-tuning: the SAM ViT stays frozen, everything around it trains."""

from __future__ import annotations

from samunet_tune.strategies.base import Strategy


class ConvBranchStrategy(Strategy):
    """Trains the ResNet branch, the fusion adapters, the bridges, the neck upsampler, the prompt
    encoder and the mask decoder; the ViT, neck included, keeps SAM's weights (29,347,244
    trainable parameters of 116,019,884 for samunet_vit_b_res34)."""

    name = "conv-branch"
    trained_parts = ("conv_branch", "fusion", "bridges", "neck_upsampler", "prompt_encoder", "mask_decoder")
