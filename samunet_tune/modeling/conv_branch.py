"""ConvBranch: the ResNet that runs beside the frozen ViT and feeds it local detail."""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

# name -> (block, blocks per stage); resnet10 is the tiny test configuration's branch.
RESNET_LAYOUTS: dict[str, tuple[type[nn.Module], list[int]]] = {
    "resnet10": (BasicBlock, [1, 1, 1, 1]),
    "resnet18": (BasicBlock, [2, 2, 2, 2]),
    "resnet34": (BasicBlock, [3, 4, 6, 3]),
    "resnet50": (Bottleneck, [3, 4, 6, 3]),
}


class ConvBranch(nn.Module):
    """A torchvision ResNet without its head, returning the four stage outputs F1..F4.

    For an SxS input the stages come out at S/4, S/8, S/16 and S/32. Module names follow
    torchvision inside each stage, so ImageNet weights load by a prefix rename only
    (`conv1`/`bn1` -> `stem.0`/`stem.1`, `layerN` -> `stages.N-1`).

    Args:
        layout: one of RESNET_LAYOUTS.
    """

    def __init__(self, layout: str = "resnet34") -> None:
        super().__init__()
        block, layers = RESNET_LAYOUTS[layout]
        resnet = ResNet(block, layers)
        self.layout = layout
        self.stem = nn.Sequential(resnet.conv1, resnet.bn1, resnet.relu, resnet.maxpool)
        self.stages = nn.ModuleList([resnet.layer1, resnet.layer2, resnet.layer3, resnet.layer4])
        expansion = block.expansion
        self.channels = [64 * expansion, 128 * expansion, 256 * expansion, 512 * expansion]

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        features = []
        x = self.stem(images)
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        return features


def torchvision_key_to_conv_branch(key: str) -> str | None:
    """Map a torchvision ResNet state-dict key to ours; None for the classifier head (`fc`)."""
    if key.startswith("fc."):
        return None
    if key.startswith("conv1."):
        return "stem.0." + key[len("conv1.") :]
    if key.startswith("bn1."):
        return "stem.1." + key[len("bn1.") :]
    if key.startswith("layer"):
        index, _, rest = key[len("layer") :].partition(".")
        return f"stages.{int(index) - 1}.{rest}"
    raise KeyError(f"unexpected torchvision ResNet key {key!r}")


def imagenet_weights_enum(layout: str):
    """torchvision's IMAGENET1K_V1 weights enum for a layout (resnet10 has none)."""
    from torchvision.models import ResNet18_Weights, ResNet34_Weights, ResNet50_Weights

    table = {"resnet18": ResNet18_Weights, "resnet34": ResNet34_Weights, "resnet50": ResNet50_Weights}
    if layout not in table:
        raise ValueError(f"torchvision publishes no ImageNet weights for {layout!r}; use one of {sorted(table)}")
    return table[layout].IMAGENET1K_V1
