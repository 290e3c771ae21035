"""Reading weights safely: safetensors only, strict key matching, errors that say what to do.

Hub files come through `hub_file`. A cached copy is used the way huggingface_hub uses it. A file
that is not cached is downloaded only after one HEAD request, sent without retries, shows that the
Hub answers. Without that probe, an offline machine waits through about 25 s of huggingface_hub's
backoff; with it, the machine gets a HubUnavailableError at once. The error names the repo, the
cause (HF_HUB_OFFLINE, unreachable, no access) and how to use a local folder instead.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"
ADAPTER_CONFIG_NAME = "adapter_config.json"


class WeightsError(RuntimeError):
    """Weights that cannot be used as they are: corrupt file, missing or unexpected keys."""


class HubUnavailableError(ConnectionError):
    """A Hub download was needed and could not happen (offline, HF_HUB_OFFLINE, no cache)."""


def offline_message(repo_id: str, filename: str, cause: str | None = None, cache_dir: str | Path | None = None) -> str:
    from huggingface_hub import constants

    if cause is None:
        cause = "HF_HUB_OFFLINE is set" if constants.is_offline_mode() else "the Hugging Face Hub is unreachable"
    return (
        f"cannot get {filename!r} of {repo_id!r}: {cause}, and the local Hugging Face cache "
        f"({cache_dir or constants.HF_HUB_CACHE}) has no copy of it. Use a local folder instead: on a connected "
        f"machine run `hf download {repo_id} --local-dir FOLDER`, bring FOLDER here and pass it, e.g. "
        "SamUNet.from_pretrained('FOLDER') or model.pretrained=FOLDER (or fill this cache with "
        f"`hf download {repo_id}` and keep HF_HUB_OFFLINE=1)."
    )


def _unreachable_cause(error: BaseException) -> str:
    from huggingface_hub import constants

    return (
        f"the Hugging Face Hub ({constants.ENDPOINT}) is unreachable ({type(error).__name__}: {error}; "
        "on a machine without network set HF_HUB_OFFLINE=1 to skip the Hub at once)"
    )


def transport_errors() -> tuple[type[BaseException], ...]:
    """Connection-level failures of huggingface_hub's HTTP client (httpx2, or httpx in older releases)."""
    errors: list[type[BaseException]] = [ConnectionError, TimeoutError]
    for module_name in ("httpx2", "httpx"):
        try:
            errors.append(importlib.import_module(module_name).TransportError)
        except (ImportError, AttributeError):
            continue
    return tuple(errors)


def missing_file_error(repo_id: str, filename: str, revision: str | None = None) -> Exception:
    where = f"{repo_id!r}" + (f" at revision {revision!r}" if revision else "")
    if filename == WEIGHTS_NAME:
        return WeightsError(
            f"{where} has no {WEIGHTS_NAME}: samunet-tune loads safetensors only, never pickles. If the repo "
            f"holds {ADAPTER_CONFIG_NAME} (a LoRA adapter), load it with samunet_tune.hub.load_pretrained({repo_id!r})."
        )
    return FileNotFoundError(f"{where} has no {filename!r}: it is not a samunet-tune model repository")


@contextlib.contextmanager
def hub_errors_explained(
    repo_id: str, filename: str = WEIGHTS_NAME, revision: str | None = None, cache_dir: str | Path | None = None
) -> Iterator[None]:
    """Turn huggingface_hub's network/cache-miss exceptions into one clear error naming the repo."""
    from huggingface_hub.errors import (
        EntryNotFoundError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        yield
    except (LocalEntryNotFoundError, OfflineModeIsEnabled) as error:
        raise HubUnavailableError(offline_message(repo_id, filename, cache_dir=cache_dir)) from error
    except RepositoryNotFoundError as error:  # GatedRepoError included
        raise HubUnavailableError(
            f"{repo_id!r} is neither a local folder nor a Hub repository you can access (check the spelling; "
            "for a private or gated repo log in with `hf auth login` or set HF_TOKEN)"
        ) from error
    except RevisionNotFoundError as error:
        raise HubUnavailableError(f"{repo_id!r} has no revision {revision!r} (a branch, tag or commit)") from error
    except EntryNotFoundError as error:
        raise missing_file_error(repo_id, filename, revision) from error
    except HfHubHTTPError as error:
        status = getattr(getattr(error, "response", None), "status_code", "?")
        raise HubUnavailableError(
            offline_message(repo_id, filename, f"the Hub answered HTTP {status}", cache_dir)
        ) from error
    except transport_errors() as error:
        raise HubUnavailableError(offline_message(repo_id, filename, _unreachable_cause(error), cache_dir)) from error


def check_repo_id(text: str) -> str:
    """`text` if it can be a Hub repo id; a path that does not exist is a FileNotFoundError saying so."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    path = Path(text).expanduser()
    if path.is_file():
        raise FileNotFoundError(f"{text} is a file; pass the folder that holds {CONFIG_NAME} and {WEIGHTS_NAME}")
    file_like = path.suffix in (".safetensors", ".json", ".pth", ".pt", ".bin", ".ckpt")
    if file_like or text.startswith((".", "/", "~")) or "\\" in text or text.count("/") > 1 or text.endswith("/"):
        raise FileNotFoundError(f"{text}: no such folder (and it is not a Hub repo id of the form ORG/NAME)")
    try:
        validate_repo_id(text)
    except HFValidationError as error:
        raise FileNotFoundError(
            f"{text!r} is neither an existing folder nor a valid Hub repo id (ORG/NAME): {error}"
        ) from error
    return text


def _remote_file_exists(repo_id: str, filename: str, revision: str | None, token: str | bool | None, cache_dir) -> bool:
    """One HEAD request, no retries: does the file exist? Connection trouble raises HubUnavailableError."""
    from huggingface_hub import constants, get_hf_file_metadata, hf_hub_url
    from huggingface_hub.errors import RemoteEntryNotFoundError

    url = hf_hub_url(repo_id, filename, revision=revision)
    with hub_errors_explained(repo_id, filename, revision, cache_dir):
        try:
            get_hf_file_metadata(url, token=token, timeout=constants.HF_HUB_ETAG_TIMEOUT, retry_on_errors=False)
        except RemoteEntryNotFoundError:
            return False
    return True


def hub_file(
    repo_id: str,
    filename: str,
    *,
    revision: str | None = None,
    cache_dir: str | Path | None = None,
    force_download: bool = False,
    local_files_only: bool = False,
    token: str | bool | None = None,
    missing_ok: bool = False,
) -> Path | None:
    """`filename` of Hub repo `repo_id`, from the local cache or downloaded into it.

    With HF_HUB_OFFLINE or `local_files_only`, only the cache is read. Otherwise a file that is
    not cached is first probed with one quick HEAD request, so no network means an immediate
    HubUnavailableError, not a backoff.

    Args:
        missing_ok: return None instead of raising when the repo has no such file (offline: when
            the cache does not know the file).
    """
    from huggingface_hub import constants, hf_hub_download, try_to_load_from_cache
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError

    check_repo_id(repo_id)
    cached = try_to_load_from_cache(repo_id, filename, cache_dir=cache_dir, revision=revision or constants.DEFAULT_REVISION)
    if (local_files_only or constants.is_offline_mode()) and not force_download:
        if isinstance(cached, str):
            return Path(cached)
        if missing_ok:
            return None
        if cached is not None:  # the cache remembers that the repo lacks this file
            raise missing_file_error(repo_id, filename, revision)
        cause = "HF_HUB_OFFLINE is set" if constants.is_offline_mode() else "local_files_only=True"
        raise HubUnavailableError(offline_message(repo_id, filename, cause, cache_dir))
    if (force_download or not isinstance(cached, str)) and not _remote_file_exists(
        repo_id, filename, revision, token, cache_dir
    ):
        if missing_ok:
            return None
        raise missing_file_error(repo_id, filename, revision)
    with hub_errors_explained(repo_id, filename, revision, cache_dir):
        try:
            return Path(
                hf_hub_download(
                    repo_id=repo_id,
                    filename=filename,
                    revision=revision,
                    cache_dir=cache_dir,
                    force_download=force_download,
                    local_files_only=local_files_only,
                    token=token,
                )
            )
        except EntryNotFoundError as error:
            if missing_ok and not isinstance(error, LocalEntryNotFoundError):
                return None
            raise


def hub_snapshot(repo_id: str, filenames: tuple[str, ...], **download_kwargs) -> Path:
    """The cache snapshot folder holding `filenames`, all from one commit of `repo_id`."""
    first = hub_file(repo_id, filenames[0], **download_kwargs)
    # hf_hub_download returns .../snapshots/<commit>/<filename>: pin the others to that commit.
    download_kwargs["revision"] = first.parent.name
    for filename in filenames[1:]:
        hub_file(repo_id, filename, **download_kwargs)
    return first.parent


def hub_model_folder(repo_id: str, **download_kwargs) -> Path:
    """A full model's config.json and model.safetensors from the Hub (or its cache), as one folder."""
    try:
        return hub_snapshot(repo_id, (CONFIG_NAME, WEIGHTS_NAME), **download_kwargs)
    except (HubUnavailableError, WeightsError) as error:
        try:
            adapter = hub_file(repo_id, ADAPTER_CONFIG_NAME, missing_ok=True, **download_kwargs)
        except (HubUnavailableError, FileNotFoundError):
            adapter = None
        if adapter is None:
            raise
        raise ValueError(
            f"{repo_id!r} is a LoRA adapter repository ({ADAPTER_CONFIG_NAME}), not a full model: load it with its "
            f"base model by samunet_tune.hub.load_pretrained({repo_id!r})"
        ) from error


def resolve_weights_file(model_id: str, **download_kwargs) -> Path:
    """model.safetensors of a local folder, or downloaded (or cached) from the Hub."""
    folder = Path(model_id)
    if folder.is_dir():
        path = folder / WEIGHTS_NAME
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: a model folder needs config.json and {WEIGHTS_NAME}")
        return path
    return hub_file(model_id, WEIGHTS_NAME, **download_kwargs)


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
