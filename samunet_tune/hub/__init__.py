"""The Hugging Face Hub: publish (`samunet-tune push`) and pull SAM-UNet models and LoRA adapters.

    from samunet_tune.hub import load_pretrained
    model = load_pretrained("samunet-tune/samunet_vit_b_res34")   # full model or adapter

    from samunet_tune.hub import find_source, stage_upload, push_folder
    staged = stage_upload(find_source("outputs/polyp"), "me/name", "hub-upload/me--name")
    push_folder(staged.folder, "me/name")

Pulling a plain model is `SamUNet.from_pretrained`; the naming scheme and the reference release
procedure are in the top-level hub/ folder; docs/hub.md explains the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from samunet_tune.lazy import lazy_getattr

_LAZY = {
    "load_pretrained": "samunet_tune.hub.loading",
    "find_source": "samunet_tune.hub.source",
    "stage_upload": "samunet_tune.hub.staging",
    "push_folder": "samunet_tune.hub.upload",
    "build_model_card": "samunet_tune.hub.card",
    "check_card": "samunet_tune.hub.card",
}

__all__ = list(_LAZY)

if TYPE_CHECKING:  # pragma: no cover
    from samunet_tune.hub.card import build_model_card, check_card
    from samunet_tune.hub.loading import load_pretrained
    from samunet_tune.hub.source import find_source
    from samunet_tune.hub.staging import stage_upload
    from samunet_tune.hub.upload import push_folder

__getattr__ = lazy_getattr(__name__, _LAZY)
