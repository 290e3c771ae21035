"""The pieces that join the two branches: fusion adapters, bridges and the neck upsampler.

All are small conv stacks kept as nn.Sequential so their parameter layout is the reference
checkpoint's (the converter renames prefixes only).
"""

from __future__ import annotations

from torch import nn
from segment_anything.modeling.common import LayerNorm2d


def _downsample_round(channels: int) -> list[nn.Module]:
    """3x3 stride-2 conv doubling channels, LayerNorm2d, GELU."""
    return [nn.Conv2d(channels, channels * 2, kernel_size=3, stride=2, padding=1), LayerNorm2d(channels * 2), nn.GELU()]


def _upsample_round(in_channels: int, out_channels: int) -> list[nn.Module]:
    """2x2 stride-2 transposed conv, LayerNorm2d, GELU."""
    return [nn.ConvTranspose2d(in_channels, out_channels, kernel_size=2, stride=2), LayerNorm2d(out_channels), nn.GELU()]


class FusionAdapter(nn.Sequential):
    """Maps conv stage feature F(i+1) onto the ViT token grid, to be added before global block i.

    Stage 0 (S/4) takes two downsampling rounds, stage 1 (S/8) one, stage 2 (S/16) is already
    on the grid, stage 3 (S/32) is upsampled once; a 1x1 conv then projects to the ViT width.

    Args:
        stage: conv stage index 0..3.
        in_channels: channels of that stage's feature.
        vit_dim: ViT embedding width.
    """

    def __init__(self, stage: int, in_channels: int, vit_dim: int) -> None:
        layers: list[nn.Module] = []
        channels = in_channels
        if stage in (0, 1):
            for _ in range(2 - stage):
                layers += _downsample_round(channels)
                channels *= 2
        elif stage == 3:
            layers += _upsample_round(channels, channels // 2)
            channels //= 2
        layers.append(nn.Conv2d(channels, vit_dim, kernel_size=1))
        super().__init__(*layers)
        self.apply(_kaiming_init)

    @property
    def projection(self) -> nn.Conv2d:
        """The final 1x1 conv; zeroing it removes this adapter's contribution."""
        return self[-1]


def _kaiming_init(module: nn.Module) -> None:
    # The spec's init for the adapters: Kaiming-normal (fan_out, relu), zero bias.
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        if module.bias is not None:
            nn.init.zeros_(module.bias)


class FeatureBridge(nn.Sequential):
    """Token map after a global block (vit_dim at S/16) -> feature_dim at S/4 for the decoder."""

    def __init__(self, vit_dim: int, hidden_dim: int, feature_dim: int) -> None:
        super().__init__(
            *_upsample_round(vit_dim, hidden_dim),
            nn.ConvTranspose2d(hidden_dim, feature_dim, kernel_size=2, stride=2),
        )


class NeckUpsampler(nn.Sequential):
    """Neck output (prompt_embed_dim at S/16) -> feature_dim at S/4 (the reference's
    `embedding_encoder`); same layout as SAM's output_upscaling minus the last GELU."""

    def __init__(self, embed_dim: int, feature_dim: int) -> None:
        super().__init__(
            *_upsample_round(embed_dim, embed_dim // 4),
            nn.ConvTranspose2d(embed_dim // 4, feature_dim, kernel_size=2, stride=2),
        )
