"""Reading weights safely: safetensors only, strict key matching, errors that say what to do."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

import torch
from torch import nn

WEIGHTS_NAME = "model.safetensors"


class WeightsError(RuntimeError):
    """Weights that cannot be used as they are: corrupt file, missing or unexpected keys."""


class HubUnavailableError(ConnectionError):
    """A Hub download was needed and could not happen (offline, HF_HUB_OFFLINE, no cache)."""


def offline_message(repo_id: str, filename: str) -> str:
    return (
        f"could not get {filename!r} of {repo_id!r} from the Hugging Face Hub: the Hub is unreachable "
        "or HF_HUB_OFFLINE is set, and the local cache has no copy. On a connected machine run "
        f"`hf download {repo_id}` (or save the model with save_pretrained) and pass the local folder "
        "instead, e.g. SamUNet.from_pretrained('path/to/folder') or model.pretrained=path/to/folder."
    )


@contextlib.contextmanager
def hub_errors_explained(repo_id: str) -> Iterator[None]:
    """Turn huggingface_hub's network/cache-miss exceptions into one clear HubUnavailableError."""
    from huggingface_hub.errors import (
        EntryNotFoundError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
    )

    try:
        yield
    except (LocalEntryNotFoundError, OfflineModeIsEnabled) as error:
        raise HubUnavailableError(offline_message(repo_id, _filename_of(error))) from error
    except RepositoryNotFoundError as error:
        raise HubUnavailableError(
            f"{repo_id!r} is neither a local folder nor a Hub repository you can access "
            "(check the spelling, or log in with `hf auth login` for a private repo)"
        ) from error
    except EntryNotFoundError as error:
        raise WeightsError(
            f"{repo_id!r} has no {WEIGHTS_NAME}: samunet-tune loads safetensors only, never pickles"
        ) from error
    except ConnectionError as error:  # httpx/requests connection failures subclass it
        raise HubUnavailableError(offline_message(repo_id, WEIGHTS_NAME)) from error


def _filename_of(error: BaseException) -> str:
    text = str(error)
    return "config.json" if "config.json" in text else WEIGHTS_NAME


def resolve_weights_file(model_id: str, **download_kwargs) -> Path:
    """model.safetensors of a local folder, or downloaded (or cached) from the Hub."""
    folder = Path(model_id)
    if folder.is_dir():
        path = folder / WEIGHTS_NAME
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: a model folder needs config.json and {WEIGHTS_NAME}")
        return path
    from huggingface_hub import hf_hub_download

    with hub_errors_explained(model_id):
        return Path(hf_hub_download(repo_id=model_id, filename=WEIGHTS_NAME, **download_kwargs))


def read_safetensors(path: str | Path, device: str = "cpu") -> dict[str, torch.Tensor]:
    """All tensors of a safetensors file; a truncated or corrupt file is a WeightsError naming it."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device=device)
    except (SafetensorError, OSError, ValueError, RuntimeError) as error:
        raise WeightsError(
            f"{path}: not a readable safetensors file ({error}). It may be truncated or corrupted: "
            "download or save it again."
        ) from error


def load_state_dict_strict(model: nn.Module, path: str | Path, device: str = "cpu") -> None:
    """Load every tensor of `path` into `model`; any missing, unexpected or mis-shaped key fails."""
    state = read_safetensors(path, device=device)
    check_state_dict_matches(model, state, source=str(path))
    model.load_state_dict(state, strict=True)


def describe_mismatch(expected: dict[str, torch.Tensor], state: dict[str, torch.Tensor]) -> str | None:
    """'missing: ...; unexpected: ...; wrong shape: ...' between two state dicts, or None if they fit."""
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    mis_shaped = sorted(
        f"{key} {tuple(state[key].shape)} != {tuple(expected[key].shape)}"
        for key in set(state) & set(expected)
        if state[key].shape != expected[key].shape
    )
    parts = []
    for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", mis_shaped)):
        if keys:
            shown = ", ".join(keys[:8]) + (f", ... ({len(keys)} in all)" if len(keys) > 8 else "")
            parts.append(f"{label}: {shown}")
    return "; ".join(parts) or None


def check_state_dict_matches(model: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    mismatch = describe_mismatch(model.state_dict(), state)
    if mismatch:
        raise WeightsError(
            f"{source} does not match the model architecture ({mismatch}). "
            "Check that config.json belongs to these weights."
        )
