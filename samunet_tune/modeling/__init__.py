"""The SAM-UNet model: configuration, parts, registry of named sizes, predictor."""

from samunet_tune.modeling.builders import MODELS, PretrainedCfg, create_model, list_models, register_model
from samunet_tune.modeling.config import SamUNetConfig
from samunet_tune.modeling.predictor import SamUNetPredictor
from samunet_tune.modeling.prompts import Prompts
from samunet_tune.modeling.sam_unet import ImageEncoding, SamUNet

__all__ = [
    "MODELS",
    "ImageEncoding",
    "PretrainedCfg",
    "Prompts",
    "SamUNet",
    "SamUNetConfig",
    "SamUNetPredictor",
    "create_model",
    "list_models",
    "register_model",
]
