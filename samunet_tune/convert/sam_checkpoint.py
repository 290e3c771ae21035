"""SAM's own checkpoints (sam_vit_b_01ec64.pth layout, 1024 input) -> SamUNet's shared parts.

Initialises the ViT, prompt encoder, two-way transformer and output upscaling. Sizes that depend
on the input resolution are resized as the spec says: `pos_embed` bilinearly (64x64 -> S/16) and
the global blocks' relative-position tables linearly (127 -> 2*S/16-1); windowed blocks keep
theirs. SAM's mask tokens, hypernetwork MLPs, IoU token and IoU head have no place in SAM-UNet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from samunet_tune.convert.torch_files import load_torch_file, unwrap_state_dict

# SAM parts SAM-UNet does not use; everything else in a SAM checkpoint must find a home.
UNUSED_SAM_PREFIXES = (
    "mask_decoder.iou_token.",
    "mask_decoder.mask_tokens.",
    "mask_decoder.output_hypernetworks_mlps.",
    "mask_decoder.iou_prediction_head.",
)
SHARED_PREFIXES = ("image_encoder.", "prompt_encoder.", "mask_decoder.transformer.", "mask_decoder.output_upscaling.")


@dataclass
class SamConversionReport:
    loaded: list[str] = field(default_factory=list)
    resized: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    left_at_init: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.loaded)} tensors loaded from SAM ({len(self.resized)} resized), "
            f"{len(self.unused)} SAM tensors unused by SAM-UNet, "
            f"{len(self.left_at_init)} SAM-UNet tensors left at their initialisation "
            "(conv branch, fusion, bridges, neck upsampler, decoder token/MLP/refiner)"
        )


def resize_pos_embed(pos_embed: torch.Tensor, grid: int) -> torch.Tensor:
    """(1, H, W, C) absolute position embedding -> (1, grid, grid, C), bilinear."""
    if pos_embed.shape[1] == grid and pos_embed.shape[2] == grid:
        return pos_embed
    resized = F.interpolate(pos_embed.permute(0, 3, 1, 2).float(), size=(grid, grid), mode="bilinear", align_corners=False)
    return resized.permute(0, 2, 3, 1).to(pos_embed.dtype)


def resize_rel_pos(rel_pos: torch.Tensor, length: int) -> torch.Tensor:
    """(L, head_dim) relative-position table -> (length, head_dim), linear as SAM's get_rel_pos."""
    if rel_pos.shape[0] == length:
        return rel_pos
    resized = F.interpolate(rel_pos.float().t().unsqueeze(0), size=length, mode="linear", align_corners=False)
    return resized[0].t().to(rel_pos.dtype)


def load_sam_weights(model, sam_state: dict[str, torch.Tensor], source: str = "SAM checkpoint") -> SamConversionReport:
    """Copy SAM's tensors into `model` (a SamUNet), resizing where the input size differs."""
    report = SamConversionReport()
    ours = model.state_dict()
    updates: dict[str, torch.Tensor] = {}
    problems = []
    for key, tensor in sam_state.items():
        if key.startswith(UNUSED_SAM_PREFIXES):
            report.unused.append(key)
            continue
        if not key.startswith(SHARED_PREFIXES):
            problems.append(f"{key} (not a SAM checkpoint key)")
            continue
        if key not in ours:
            problems.append(f"{key} (no such tensor in SAM-UNet: is the ViT depth the same?)")
            continue
        target_shape = ours[key].shape
        if key == "image_encoder.pos_embed":
            tensor = resize_pos_embed(tensor, target_shape[1])
        elif key.endswith(("attn.rel_pos_h", "attn.rel_pos_w")):
            tensor = resize_rel_pos(tensor, target_shape[0])
        if tensor.shape != target_shape:
            problems.append(f"{key} {tuple(tensor.shape)} != SAM-UNet {tuple(target_shape)}")
            continue
        if tensor.shape != sam_state[key].shape:
            report.resized.append(key)
        updates[key] = tensor
        report.loaded.append(key)
    missing_shared = [k for k in ours if k.startswith(SHARED_PREFIXES) and k not in updates]
    if missing_shared:
        problems.append(f"SAM-UNet tensors the checkpoint lacks: {', '.join(missing_shared[:8])}")
    if problems:
        raise ValueError(f"{source} does not fit this SAM-UNet: " + "; ".join(problems[:12]))
    model.load_state_dict(updates, strict=False)
    report.left_at_init = sorted(set(ours) - set(updates))
    return report


def convert_sam_checkpoint(
    path: str | Path,
    model_name: str = "samunet_vit_b_res34",
    conv_branch_weights: str | Path | None = None,
    **overrides,
):
    """A SamUNet initialised from a SAM checkpoint file (and optionally ImageNet ResNet weights).

    Args:
        path: SAM checkpoint (`sam_vit_b_01ec64.pth` layout; plain state dict, read weights-only).
        model_name: registered SAM-UNet to build.
        conv_branch_weights: None (random ResNet), "imagenet" (torchvision download), or a local
            .pth file of torchvision ResNet weights.
    """
    from samunet_tune.convert.imagenet import load_conv_branch_imagenet
    from samunet_tune.modeling.builders import create_model

    sam_state = unwrap_state_dict(load_torch_file(path), path)
    model = create_model(model_name, **overrides)
    report = load_sam_weights(model, sam_state, source=str(path))
    if conv_branch_weights is not None:
        load_conv_branch_imagenet(model, conv_branch_weights, model_name=model_name)
    return model.eval(), report
