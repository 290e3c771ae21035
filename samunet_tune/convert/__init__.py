"""Bring outside weights into SamUNet: the reference SAM-UNet release, SAM's own checkpoints,
torchvision's ImageNet ResNets. The outside world's parameter names live only in this package."""

from samunet_tune.convert.imagenet import load_conv_branch_imagenet
from samunet_tune.convert.reference import convert_reference_checkpoint, reference_key_to_ours
from samunet_tune.convert.sam_checkpoint import convert_sam_checkpoint, load_sam_weights

__all__ = [
    "convert_reference_checkpoint",
    "convert_sam_checkpoint",
    "load_conv_branch_imagenet",
    "load_sam_weights",
    "reference_key_to_ours",
]
