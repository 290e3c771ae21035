"""Named SAM-UNet configurations (timm-style registry) and `create_model`.

Where weights live (`PretrainedCfg`) is kept apart from what the model is (`SamUNetConfig`).
`create_model(name)` builds random weights and never touches the network; pretrained weights are
asked for explicitly with `pretrained=True` (the Hub) or `pretrained=PATH` (a local folder).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from samunet_tune.modeling.config import SamUNetConfig
from samunet_tune.registry import Registry


@dataclass(frozen=True)
class PretrainedCfg:
    """Where a named model's weights come from.

    Args:
        hf_hub_id: Hub repository of the converted SAM-UNet weights (naming scheme in hub/).
        sam_checkpoint: the SAM release its ViT is initialised from, for the record.
        conv_branch_weights: torchvision weights enum name for the ResNet's ImageNet init.
    """

    hf_hub_id: str | None = None
    sam_checkpoint: str | None = None
    conv_branch_weights: str | None = None


@dataclass(frozen=True)
class ModelEntry:
    build_config: Callable[..., SamUNetConfig]
    pretrained: PretrainedCfg


MODELS: Registry[ModelEntry] = Registry("model", entry_point_group="samunet_tune.models")


def register_model(pretrained: PretrainedCfg = PretrainedCfg()) -> Callable:
    """Decorator: register a function returning a SamUNetConfig under the function's name."""

    def decorator(build_config: Callable[..., SamUNetConfig]) -> Callable[..., SamUNetConfig]:
        MODELS.register(build_config.__name__, ModelEntry(build_config, pretrained))
        return build_config

    return decorator


def _with_overrides(config: SamUNetConfig, overrides: dict[str, Any]) -> SamUNetConfig:
    try:
        return replace(config, **overrides)
    except TypeError as error:
        known = sorted(config.to_dict())
        raise TypeError(f"unknown model override in {sorted(overrides)}; known fields: {known}") from error


@register_model(
    PretrainedCfg(
        hf_hub_id="samunet-tune/samunet_vit_b_res34",
        sam_checkpoint="sam_vit_b_01ec64.pth",
        conv_branch_weights="ResNet34_Weights.IMAGENET1K_V1",
    )
)
def samunet_vit_b_res34(**overrides: Any) -> SamUNetConfig:
    """The paper's model: SAM ViT-B at 256 + ResNet-34 (116,019,884 parameters)."""
    return _with_overrides(SamUNetConfig(conv_branch="resnet34"), overrides)


@register_model(
    PretrainedCfg(
        hf_hub_id="samunet-tune/samunet_vit_b_res50",
        sam_checkpoint="sam_vit_b_01ec64.pth",
        conv_branch_weights="ResNet50_Weights.IMAGENET1K_V1",
    )
)
def samunet_vit_b_res50(**overrides: Any) -> SamUNetConfig:
    """SAM ViT-B at 256 + ResNet-50 (138,428,204 parameters)."""
    return _with_overrides(SamUNetConfig(conv_branch="resnet50"), overrides)


@register_model()
def samunet_tiny(**overrides: Any) -> SamUNetConfig:
    """A few narrow blocks on every code path of the real model: the one tests use."""
    tiny = SamUNetConfig(
        image_size=128,
        vit_embed_dim=64,
        vit_depth=8,
        vit_num_heads=2,
        vit_window_size=4,
        vit_global_attn_indexes=[1, 3, 5, 7],
        conv_branch="resnet10",
        prompt_embed_dim=64,
        mask_in_chans=8,
        decoder_depth=2,
        decoder_num_heads=2,
        decoder_mlp_dim=128,
        feature_dim=8,  # prompt_embed_dim // 8, as SAM's output_upscaling
    )
    return _with_overrides(tiny, overrides)


def list_models(pattern: str | None = None) -> list[str]:
    """Registered model names, optionally filtered by an fnmatch pattern like '*res*'."""
    return MODELS.names(pattern)


def model_config(name: str, **overrides: Any) -> SamUNetConfig:
    return MODELS.get(name).build_config(**overrides)


def create_model(name: str, pretrained: bool | str | Path = False, **overrides: Any):
    """Build a registered SAM-UNet.

    Args:
        name: a name from `list_models()`.
        pretrained: False for random weights (no network); True for the name's Hub weights;
            a path or repo id to load a `save_pretrained` folder from.
        overrides: SamUNetConfig fields to change (e.g. image_size=1024); random weights only.
    """
    from samunet_tune.modeling.sam_unet import SamUNet

    entry = MODELS.get(name)
    if not pretrained:
        return SamUNet(entry.build_config(**overrides))
    if overrides:
        raise ValueError(
            f"create_model({name!r}, pretrained=...) takes no architecture overrides {sorted(overrides)}: "
            "pretrained weights fix the architecture"
        )
    source = entry.pretrained.hf_hub_id if pretrained is True else str(pretrained)
    if source is None:
        raise ValueError(f"model {name!r} has no published weights; pass pretrained=PATH to a local folder")
    model = SamUNet.from_pretrained(source)
    expected = entry.build_config()
    if model.config.conv_branch != expected.conv_branch or model.config.vit_depth != expected.vit_depth:
        raise ValueError(f"{source} holds a {model.config.conv_branch} model, not {name!r}")
    return model
