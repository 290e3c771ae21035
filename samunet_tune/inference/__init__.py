"""Inference: load any trained model for prediction, and `samunet-tune predict` on files.

    >>> from samunet_tune.inference import load_model_for_inference
    >>> model = load_model_for_inference("outputs/polyp")     # a run dir, model folder, adapter or Hub id

This module stays light (no torch at import) because the CLI imports it.
"""

from __future__ import annotations

from samunet_tune.lazy import lazy_getattr

_LAZY = {
    "load_model_for_inference": "samunet_tune.inference.loading",
    "resolve_model_folder": "samunet_tune.inference.loading",
    "ModelLoadError": "samunet_tune.inference.loading",
    "staged_output": "samunet_tune.inference.staging",
}

__all__ = list(_LAZY)

__getattr__ = lazy_getattr(__name__, _LAZY)
