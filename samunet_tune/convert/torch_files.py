"""Reading .pth/.pt files without running untrusted pickles by accident."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch


class UnsafeCheckpointError(RuntimeError):
    """The file needs full unpickling (arbitrary code) and the user has not allowed it."""


def load_torch_file(path: str | Path, trust_pickle: bool = False) -> Any:
    """torch.load with `weights_only=True`; full unpickling only when `trust_pickle` is set.

    The reference SAM-UNet checkpoint stores a pickled optimizer object beside the weights, so
    it cannot be read weights-only. Unpickling runs code from the file: we refuse unless the
    user says they trust it.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if not trust_pickle:
            raise UnsafeCheckpointError(
                f"{path} contains pickled Python objects besides tensors (the reference release stores "
                "its optimizer this way), and unpickling can run arbitrary code. If you trust where the "
                "file comes from, pass --trust-pickle (trust_pickle=True); only its tensors are kept."
            ) from error
    except (RuntimeError, EOFError, OSError) as error:
        raise RuntimeError(f"{path}: not a readable PyTorch checkpoint ({error}); is it truncated?") from error
    return torch.load(path, map_location="cpu", weights_only=False)


def unwrap_state_dict(checkpoint: Any, path: str | Path, key: str | None = None) -> dict[str, torch.Tensor]:
    """The state dict inside `checkpoint`: itself, or checkpoint[key] (e.g. 'model')."""
    if key is not None:
        if not isinstance(checkpoint, dict) or key not in checkpoint:
            found = sorted(checkpoint) if isinstance(checkpoint, dict) else type(checkpoint).__name__
            raise KeyError(f"{path}: expected a dict with a {key!r} entry, found {found}")
        checkpoint = checkpoint[key]
    if not isinstance(checkpoint, dict) or not all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
        raise TypeError(f"{path}: expected a state dict of tensors")
    return checkpoint
