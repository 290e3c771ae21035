"""What training changes, as a state dict: checkpoints of frozen-backbone runs stay small.

Trainable parameters change by the optimizer; the only buffers that change are the BatchNorm
running statistics of trained modules, which sit in the same module as the trained affine
parameters. So a buffer belongs here when its own module owns a trainable parameter. Fixed
buffers (the prompt encoder's random positional matrix) and everything frozen stay out: they come
back from the base model.
"""

from __future__ import annotations

import torch
from torch import nn

from samunet_tune.modeling.weights_io import WeightsError, describe_mismatch
from samunet_tune.strategies.parts import unwrap_parallel


def trainable_state_keys(module: nn.Module) -> list[str]:
    """state_dict keys of trainable parameters and of the persistent buffers beside them."""
    keys = []
    for prefix, submodule in unwrap_parallel(module).named_modules():
        own_parameters = dict(submodule.named_parameters(recurse=False))
        if not any(p.requires_grad for p in own_parameters.values()):
            continue
        dot = f"{prefix}." if prefix else ""
        keys += [dot + name for name, p in own_parameters.items() if p.requires_grad]
        keys += [
            dot + name
            for name, buffer in submodule.named_buffers(recurse=False)
            if buffer is not None and name not in submodule._non_persistent_buffers_set
        ]
    return keys


def trainable_state_dict(module: nn.Module) -> dict[str, torch.Tensor]:
    """Detached tensors sharing storage with the module, like `nn.Module.state_dict`."""
    full = unwrap_parallel(module).state_dict()
    return {key: full[key] for key in trainable_state_keys(module)}


def load_trainable_state_dict(module: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Restore `trainable_state_dict` output; missing, unexpected or mis-shaped keys fail."""
    target = unwrap_parallel(module)
    current = target.state_dict()
    mismatch = describe_mismatch({key: current[key] for key in trainable_state_keys(target)}, state)
    if mismatch:
        raise WeightsError(
            f"trainable state does not match this model and strategy ({mismatch}). "
            "Resume with the same recipe (model, strategy and its options) that wrote the checkpoint."
        )
    target.load_state_dict(state, strict=False)
