"""The reference SAM-UNet checkpoint ({"model": state_dict, "optimizer": ...}) -> SamUNet.

Each reference key maps to exactly one of ours by a prefix rename (the bridges' index order is
reversed: the reference feeds global block 2 through `adapters_bridge.2`). The mapping is total
both ways: a key we do not know, or one of ours left unfilled, is an error.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from samunet_tune.convert.torch_files import load_torch_file, unwrap_state_dict
from samunet_tune.modeling.weights_io import check_state_dict_matches

# (reference prefix, our prefix); first match wins, so longer prefixes come first.
_PREFIXES = [
    ("image_encoder.sam_img_encoder.", "image_encoder."),
    ("prompt_encoder.sam_prompt_encoder.", "prompt_encoder."),
    ("mask_decoder.sam_mask_decoder.transformer.", "mask_decoder.transformer."),
    ("mask_decoder.sam_mask_decoder.output_upscaling.", "mask_decoder.output_upscaling."),
    ("mask_decoder.med_token.", "mask_decoder.mask_token."),
    ("mask_decoder.hf_mlp.", "mask_decoder.token_mlp."),
    ("mask_decoder.embedding_maskfeature.", "mask_decoder.feature_refiner."),
    ("resnet.stage0.", "conv_branch.stem."),
    ("embedding_encoder.", "neck_upsampler."),
]
_RESNET_STAGE = re.compile(r"^resnet\.stage([1-4])\.(.*)$")
_ADAPTER_IN = re.compile(r"^adapters_in\.(\d)\.reshaper\.(.*)$")
_ADAPTER_BRIDGE = re.compile(r"^adapters_bridge\.(\d)\.(.*)$")


def reference_key_to_ours(key: str) -> str:
    """Our name for one reference key; KeyError for a key the reference format does not have."""
    for reference_prefix, our_prefix in _PREFIXES:
        if key.startswith(reference_prefix):
            return our_prefix + key[len(reference_prefix) :]
    if match := _RESNET_STAGE.match(key):
        return f"conv_branch.stages.{int(match[1]) - 1}.{match[2]}"
    if match := _ADAPTER_IN.match(key):
        return f"fusion.{match[1]}.{match[2]}"
    if match := _ADAPTER_BRIDGE.match(key):
        return f"bridges.{2 - int(match[1])}.{match[2]}"
    raise KeyError(f"{key!r} is not a key of the reference SAM-UNet checkpoint format")


def convert_reference_state_dict(reference: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename every tensor; values are passed through untouched (same storage)."""
    unknown = []
    ours: dict[str, torch.Tensor] = {}
    for key, tensor in reference.items():
        try:
            ours[reference_key_to_ours(key)] = tensor
        except KeyError:
            unknown.append(key)
    if unknown:
        shown = ", ".join(unknown[:8]) + (f" ... ({len(unknown)} in all)" if len(unknown) > 8 else "")
        raise KeyError(f"keys that are not in the reference SAM-UNet format: {shown}")
    return ours


def infer_conv_branch(reference: dict[str, torch.Tensor]) -> str:
    """resnet34 or resnet50, from the state dict itself (bottleneck blocks have conv3)."""
    return "resnet50" if "resnet.stage1.0.conv3.weight" in reference else "resnet34"


def convert_reference_checkpoint(path: str | Path, trust_pickle: bool = False, model_name: str | None = None):
    """Read a reference checkpoint and return a SamUNet holding exactly its tensors."""
    from samunet_tune.modeling.builders import create_model

    reference = unwrap_state_dict(load_torch_file(path, trust_pickle=trust_pickle), path, key="model")
    model_name = model_name or f"samunet_vit_b_{infer_conv_branch(reference).replace('resnet', 'res')}"
    model = create_model(model_name)
    ours = convert_reference_state_dict(reference)
    check_state_dict_matches(model, ours, source=f"{path} (converted)")
    model.load_state_dict(ours, strict=True)
    return model.eval()
