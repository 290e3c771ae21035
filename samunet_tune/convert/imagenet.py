"""ImageNet initialisation of the conv branch from torchvision's ResNet weights."""

from __future__ import annotations

from pathlib import Path

import torch

from samunet_tune.convert.torch_files import load_torch_file, unwrap_state_dict
from samunet_tune.modeling.conv_branch import imagenet_weights_enum, torchvision_key_to_conv_branch


class PretrainedWeightsUnavailable(ConnectionError):
    """Weights that must be downloaded could not be (offline, firewall)."""


def imagenet_state_dict(layout: str) -> dict[str, torch.Tensor]:
    """torchvision's IMAGENET1K_V1 weights for `layout`, from its cache or the download."""
    weights = imagenet_weights_enum(layout)
    try:
        return weights.get_state_dict(progress=False, check_hash=False)
    except (OSError, RuntimeError) as error:  # URLError is an OSError
        cache = Path(torch.hub.get_dir()) / "checkpoints"
        raise PretrainedWeightsUnavailable(
            f"could not download torchvision {weights} ({weights.url}): {error}. "
            f"Offline? Download that file on a connected machine and either put it in {cache} "
            "or pass its path (conv_branch_weights=PATH, --conv-branch-weights PATH)."
        ) from error


def load_conv_branch_imagenet(model, source: str | Path, model_name: str | None = None) -> None:
    """Load ImageNet ResNet weights into model.conv_branch.

    Args:
        source: "imagenet" for torchvision's download/cache, or a local torchvision .pth file.
    """
    layout = model.config.conv_branch
    if str(source) == "imagenet":
        state = imagenet_state_dict(layout)
    else:
        state = unwrap_state_dict(load_torch_file(source), source)
    converted = {}
    for key, tensor in state.items():
        ours = torchvision_key_to_conv_branch(key)
        if ours is not None:
            converted[ours] = tensor
    expected = model.conv_branch.state_dict()
    missing = sorted(set(expected) - set(converted))
    wrong = sorted(k for k in set(expected) & set(converted) if expected[k].shape != converted[k].shape)
    if missing or wrong or set(converted) - set(expected):
        raise ValueError(
            f"{source} is not a torchvision {layout} state dict "
            f"(missing {missing[:4]}, wrong shape {wrong[:4]}); use the {layout} ImageNet file"
        )
    model.conv_branch.load_state_dict(converted, strict=True)
