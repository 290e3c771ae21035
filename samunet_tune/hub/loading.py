"""`load_pretrained`: a full SamUNet or a LoRA adapter with its base, from a folder or the Hub.

`SamUNet.from_pretrained` returns a plain SamUNet and nothing else. A LoRA adapter needs its base
model loaded first and comes back as a peft.PeftModel (or merged into a SamUNet), so it gets this
separate, clearly named entry point. It also accepts full models, so callers that may get either
kind (`samunet-tune eval`, scripts) use it alone.
"""

from __future__ import annotations

import json
from pathlib import Path

from torch import nn

from samunet_tune.modeling.weights_io import (
    ADAPTER_CONFIG_NAME,
    CONFIG_NAME,
    hub_file,
    hub_snapshot,
)

ADAPTER_WEIGHTS_NAME = "adapter_model.safetensors"


def is_adapter_folder(folder: Path) -> bool:
    return (Path(folder) / ADAPTER_CONFIG_NAME).is_file()


def load_pretrained(
    source: str | Path,
    *,
    revision: str | None = None,
    base_model: str | Path | nn.Module | None = None,
    merge: bool = False,
    is_trainable: bool = False,
    cache_dir: str | Path | None = None,
    force_download: bool = False,
    local_files_only: bool = False,
    token: str | bool | None = None,
) -> nn.Module:
    """Load `source`, a full model or a LoRA adapter (`adapter_config.json` tells them apart).

    Args:
        source: a local folder (save_pretrained output or adapter folder) or a Hub repo id.
        revision: branch, tag or commit of a Hub repo id (the adapter's own repo, not its base).
        base_model: the adapter's base when it should not be the one `adapter_config.json` names
            (`base_model_name_or_path`): a registered model name, a folder, a repo id, or a
            SamUNet already loaded.
        merge: fold the adapter into the base and return a plain SamUNet.
        is_trainable: keep the adapter trainable (peft's `is_trainable`), e.g. to continue training.

    Returns:
        A SamUNet in eval mode for a full model or a merged adapter; a peft.PeftModel in eval
        mode for an unmerged adapter.
    """
    from samunet_tune.modeling.sam_unet import SamUNet

    download = {"cache_dir": cache_dir, "force_download": force_download, "local_files_only": local_files_only, "token": token}
    adapter_dir = _adapter_folder(source, revision, download)
    if adapter_dir is None:
        return SamUNet.from_pretrained(source, revision=revision, **download)

    from samunet_tune.strategies import load_lora_adapter, merge_lora

    base = base_model if isinstance(base_model, nn.Module) else load_base_model(base_model or adapter_base_name(adapter_dir, source), **download)
    model = load_lora_adapter(base, adapter_dir, is_trainable=is_trainable)
    if merge:
        model = merge_lora(model)
    return model.eval() if not is_trainable else model


def _adapter_folder(source: str | Path, revision: str | None, download: dict) -> Path | None:
    """The adapter's folder (local, or the cache snapshot of a repo), or None for a full model."""
    folder = Path(source)
    if folder.is_dir():
        return folder if is_adapter_folder(folder) else None
    if hub_file(str(source), ADAPTER_CONFIG_NAME, revision=revision, missing_ok=True, **download) is None:
        return None
    return hub_snapshot(str(source), (ADAPTER_CONFIG_NAME, ADAPTER_WEIGHTS_NAME, CONFIG_NAME), revision=revision, **download)


def adapter_base_name(adapter_dir: Path, source: str | Path | None = None) -> str:
    """The base model an adapter folder names in adapter_config.json (base_model_name_or_path)."""
    config = json.loads((Path(adapter_dir) / ADAPTER_CONFIG_NAME).read_text())
    base = config.get("base_model_name_or_path")
    if not base:
        raise ValueError(
            f"{source or adapter_dir}: {ADAPTER_CONFIG_NAME} names no base model (base_model_name_or_path is "
            "empty); pass base_model=... (a registered name, a folder or a Hub repo id)"
        )
    return str(base)


def load_base_model(reference: str | Path, **download) -> nn.Module:
    """A registered model name (its published weights), a save_pretrained folder or a Hub repo id."""
    from samunet_tune.modeling.builders import MODELS, create_model
    from samunet_tune.modeling.sam_unet import SamUNet

    reference = str(reference)
    if not Path(reference).exists() and reference in MODELS.names():
        return create_model(reference, pretrained=True)
    return SamUNet.from_pretrained(reference, **download)
