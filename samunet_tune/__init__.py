"""samunet-tune: fine-tune, evaluate and publish SAM-UNet for medical image segmentation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from samunet_tune.lazy import lazy_getattr

__version__ = "0.1.0"

# Heavy modules (torch, segment-anything) load on first use, so `samunet-tune --help` and the
# plugin registries stay quick to import.
_LAZY = {
    "SamUNet": "samunet_tune.modeling.sam_unet",
    "SamUNetConfig": "samunet_tune.modeling.config",
    "SamUNetPredictor": "samunet_tune.modeling.predictor",
    "Prompts": "samunet_tune.modeling.prompts",
    "create_model": "samunet_tune.modeling.builders",
    "list_models": "samunet_tune.modeling.builders",
}

__all__ = ["__version__", *_LAZY]

if TYPE_CHECKING:  # pragma: no cover
    from samunet_tune.modeling.builders import create_model, list_models
    from samunet_tune.modeling.config import SamUNetConfig
    from samunet_tune.modeling.predictor import SamUNetPredictor
    from samunet_tune.modeling.prompts import Prompts
    from samunet_tune.modeling.sam_unet import SamUNet


__getattr__ = lazy_getattr(__name__, _LAZY)
