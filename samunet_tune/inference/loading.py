"""One way to get a ready-to-predict SamUNet from whatever a user points at.

MODEL may be:

* a ``save_pretrained`` folder (``config.json`` + ``model.safetensors``);
* a LoRA adapter folder (``adapter_config.json`` + ``adapter_model.safetensors``); its base is
  the ``base_model_name_or_path`` it records (a folder, a Hub id or a registered model name),
  or the ``base_model`` argument;
* a training output directory (``final/``, ``best/``, ``checkpoints/``, ``metrics.json``):
  its ``final/`` (or ``best/``) folder, which is one of the two above;
* a Hugging Face Hub repo id (``owner/name``).

Adapters are merged, so the caller always gets a plain SamUNet in eval mode without gradients.
"""

from __future__ import annotations

import json
from pathlib import Path

from samunet_tune.modeling.sam_unet import SamUNet

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
MODEL_CONFIG = "config.json"
MODEL_WEIGHTS = "model.safetensors"
CHECKPOINT_CHOICES = ("final", "best")
RUN_MARKERS = ("final", "best", "checkpoints", "metrics.json", "recipe.yaml")


class ModelLoadError(ValueError):
    """MODEL does not name something this toolkit can load; the message says what to give instead."""


def is_run_directory(folder: Path) -> bool:
    """A training output directory (what `samunet-tune train` writes), not a model folder itself."""
    folder = Path(folder)
    return (
        folder.is_dir()
        and not (folder / MODEL_CONFIG).is_file()
        and not (folder / ADAPTER_CONFIG).is_file()
        and any((folder / marker).exists() for marker in RUN_MARKERS)
    )


def resolve_model_folder(spec: str | Path, checkpoint: str = "final") -> Path | str:
    """The folder (or Hub id) that holds the weights MODEL means: a run directory becomes its
    `checkpoint` subfolder. Raises ModelLoadError / FileNotFoundError naming what is missing."""
    if checkpoint not in CHECKPOINT_CHOICES:
        raise ModelLoadError(f"checkpoint={checkpoint!r}: choose one of {', '.join(CHECKPOINT_CHOICES)}")
    text = str(spec)
    folder = Path(text).expanduser()
    if folder.is_file():
        raise ModelLoadError(
            f"{folder} is a file; MODEL is a folder (save_pretrained folder, LoRA adapter folder or "
            "training output directory) or a Hub repo id"
        )
    if not folder.exists():
        if _looks_like_path(text):
            raise FileNotFoundError(f"{folder} does not exist (MODEL looks like a path, not a Hub repo id 'owner/name')")
        return text  # a Hub id; SamUNet.from_pretrained explains an unreachable or unknown repo
    if is_run_directory(folder):
        chosen = folder / checkpoint
        if not chosen.is_dir():
            present = [name for name in CHECKPOINT_CHOICES if (folder / name).is_dir()]
            hint = (f"use --checkpoint {present[0]}" if present else
                    "the run has not finished (no final/ or best/ yet); let it finish, or resume it")
            raise FileNotFoundError(f"{chosen} is missing: the training output {folder} has no {checkpoint}/ folder; {hint}")
        folder = chosen
    if (folder / ADAPTER_CONFIG).is_file():
        _require(folder, ADAPTER_WEIGHTS, "a LoRA adapter folder needs adapter_config.json and adapter_model.safetensors")
        return folder
    if (folder / MODEL_CONFIG).is_file():
        _require(folder, MODEL_WEIGHTS, "a save_pretrained folder needs config.json and model.safetensors")
        return folder
    raise FileNotFoundError(
        f"{folder / MODEL_CONFIG} is missing: {folder} is not a model folder. MODEL must hold "
        f"{MODEL_CONFIG} + {MODEL_WEIGHTS} (save_pretrained), {ADAPTER_CONFIG} + {ADAPTER_WEIGHTS} "
        "(LoRA adapter), or final/ (a training output directory)"
    )


def _looks_like_path(text: str) -> bool:
    # Hub ids are "owner/name"; anything else with a slash, or starting like a path, is a path.
    return text.startswith((".", "/", "~")) or text.count("/") != 1 or "\\" in text


def _require(folder: Path, name: str, why: str) -> None:
    if not (folder / name).is_file():
        raise FileNotFoundError(f"{folder / name} is missing: {why}")


def load_model_for_inference(
    spec: str | Path, checkpoint: str = "final", base_model: str | Path | None = None, device: str = "cpu"
) -> SamUNet:
    """A plain SamUNet (adapters merged) in eval mode, gradients off, on `device`.

    Args:
        spec: MODEL as described in the module docstring.
        checkpoint: for a training output directory, "final" or "best".
        base_model: the base of a LoRA adapter, overriding the one the adapter records.
        device: torch device to put the model on.
    """
    source = resolve_model_folder(spec, checkpoint)
    if isinstance(source, Path) and (source / ADAPTER_CONFIG).is_file():
        model = _load_adapter(source, base_model)
    elif isinstance(source, Path):
        model = SamUNet.from_pretrained(str(source))
    else:  # a Hub id: a full model or an adapter repo, which samunet_tune.hub tells apart
        from samunet_tune.hub import load_pretrained

        model = load_pretrained(source, base_model=base_model, merge=True)
    model.requires_grad_(False)
    return model.to(device).eval()


def _load_adapter(folder: Path, base_model: str | Path | None) -> SamUNet:
    from samunet_tune.hub import load_pretrained

    try:
        recorded = json.loads((folder / ADAPTER_CONFIG).read_text()).get("base_model_name_or_path")
    except json.JSONDecodeError as error:
        raise ModelLoadError(f"{folder / ADAPTER_CONFIG} is not valid JSON ({error}); save the adapter again") from error
    name = base_model if base_model is not None else recorded
    if not name:
        raise ModelLoadError(
            f"{folder / ADAPTER_CONFIG} records no base_model_name_or_path: say which model it adapts "
            "with --base-model (a save_pretrained folder, a Hub id or a registered model name)"
        )
    base = _load_base(str(name), folder, given=base_model is not None)
    return load_pretrained(folder, base_model=base, merge=True)


def _load_base(name: str, adapter_folder: Path, given: bool) -> SamUNet:
    """The adapter's base, by samunet_tune.hub's rules, plus paths relative to the adapter."""
    from samunet_tune.hub.loading import load_base_model
    from samunet_tune.modeling.builders import list_models

    where = "--base-model" if given else f"base_model_name_or_path in {adapter_folder / ADAPTER_CONFIG}"
    # A relative base path may have been written from another working directory: also try it
    # beside the adapter and beside the run directory.
    for candidate in (Path(name), adapter_folder / name, adapter_folder.parent / name):
        if candidate.is_dir():
            return load_model_for_inference(candidate)
    registered = name in list_models()
    if not registered and _looks_like_path(name):
        raise FileNotFoundError(f"{where} is {name!r}, which does not exist; pass --base-model with the base folder")
    try:
        return load_base_model(name)
    except ValueError as error:
        if not registered:
            raise
        raise ModelLoadError(
            f"{where} is the model name {name!r}, which has no published weights to adapt ({error}). "
            "Pass --base-model with the save_pretrained folder the adapter was trained on"
        ) from error
