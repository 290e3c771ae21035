"""MaskDecoder: SAM's two-way transformer with one HQ-SAM-style output token per prompt.

Unlike SAM there is no IoU head and no multimask output: a single learned token is read out by
an MLP into `feature_dim` channels and dotted with a feature map that adds SAM's upscaled
embedding (refined by a small conv stack) to the multi-scale feature from the image encoder.
"""

from __future__ import annotations

import torch
from torch import nn
from segment_anything.modeling.common import LayerNorm2d
from segment_anything.modeling.mask_decoder import MLP


class MaskDecoder(nn.Module):
    """Args:
    transformer_dim: channels of the image embedding and prompt tokens.
    transformer: segment-anything's TwoWayTransformer.
    feature_dim: channels of the S/4 feature map the mask is read from.
    """

    def __init__(self, transformer_dim: int, transformer: nn.Module, feature_dim: int = 32) -> None:
        super().__init__()
        self.transformer = transformer
        self.mask_token = nn.Embedding(1, transformer_dim)
        # SAM's output_upscaling layout (and its weights, when converted from SAM).
        self.output_upscaling = nn.Sequential(
            nn.ConvTranspose2d(transformer_dim, transformer_dim // 4, kernel_size=2, stride=2),
            LayerNorm2d(transformer_dim // 4),
            nn.GELU(),
            nn.ConvTranspose2d(transformer_dim // 4, feature_dim, kernel_size=2, stride=2),
            nn.GELU(),
        )
        self.feature_refiner = nn.Sequential(
            nn.Conv2d(feature_dim, feature_dim * 2, kernel_size=3, padding=1),
            LayerNorm2d(feature_dim * 2),
            nn.GELU(),
            nn.Conv2d(feature_dim * 2, feature_dim, kernel_size=3, padding=1),
        )
        self.token_mlp = MLP(transformer_dim, transformer_dim, feature_dim, 3)

    def forward(
        self,
        image_embeddings: torch.Tensor,
        image_pe: torch.Tensor,
        sparse_prompt_embeddings: torch.Tensor,
        dense_prompt_embeddings: torch.Tensor,
        multi_scale_features: torch.Tensor,
    ) -> torch.Tensor:
        """One low-res logit map per prompt.

        Args:
            image_embeddings: (N, C, h, w), already gathered so row n is prompt n's image.
            image_pe: (1, C, h, w) dense positional encoding.
            sparse_prompt_embeddings: (N, T, C) point/box tokens.
            dense_prompt_embeddings: (N, C, h, w) mask-prompt embedding.
            multi_scale_features: (N, feature_dim, 4h, 4w), gathered like image_embeddings.

        Returns:
            (N, 1, 4h, 4w) mask logits.
        """
        num_prompts = sparse_prompt_embeddings.shape[0]
        output_token = self.mask_token.weight.unsqueeze(0).expand(num_prompts, -1, -1)
        tokens = torch.cat([output_token, sparse_prompt_embeddings], dim=1)

        src = image_embeddings + dense_prompt_embeddings
        pos_src = image_pe.expand(num_prompts, -1, -1, -1)
        channels, height, width = src.shape[1:]
        token_out, src = self.transformer(src, pos_src, tokens)

        src = src.transpose(1, 2).reshape(num_prompts, channels, height, width)
        features = self.feature_refiner(self.output_upscaling(src)) + multi_scale_features
        weights = self.token_mlp(token_out[:, 0, :])  # (N, feature_dim)
        logits = torch.einsum("nc,nchw->nhw", weights, features)
        return logits.unsqueeze(1)
