"""The top-level parts of a SamUNet, and how to find them inside training wrappers.

Strategies speak in parts ("conv_branch trains, image_encoder is frozen"); the trainer may hand
them the model wrapped by DDP, `torch.compile` or peft, so every strategy unwraps first.
"""

from __future__ import annotations

from torch import nn

# In the order data flows through SamUNet (the parameter table prints them in this order).
MODEL_PARTS = (
    "image_encoder",
    "conv_branch",
    "fusion",
    "bridges",
    "neck_upsampler",
    "prompt_encoder",
    "mask_decoder",
)

# What `SamUNet.encode_image` runs: when none of these trains, image features can be cached.
IMAGE_SIDE_PARTS = ("image_encoder", "conv_branch", "fusion", "bridges", "neck_upsampler")

# peft's wrappers prefix every name with this and keep trained copies of `modules_to_save` under
# `<module>.modules_to_save.<adapter>` beside the frozen `<module>.original_module`.
PEFT_PREFIX = "base_model.model."
ADAPTER_NAME = "default"


def check_choices(values: tuple[str, ...] | list[str] | str, allowed: tuple[str, ...], where: str) -> tuple[str, ...]:
    """`values` as a tuple without duplicates; anything outside `allowed` is a ValueError."""
    if isinstance(values, str):
        values = [values]  # `train_also=mask_decoder` on the command line arrives as a string
    unknown = [value for value in values if value not in allowed]
    if unknown:
        raise ValueError(f"{where}: {unknown} not recognised; choose from {list(allowed)}")
    return tuple(dict.fromkeys(values))


def unwrap_parallel(module: nn.Module) -> nn.Module:
    """Strip DDP/DataParallel and torch.compile wrappers (never peft: its names are the contract)."""
    while True:
        if isinstance(module, (nn.parallel.DistributedDataParallel, nn.DataParallel)):
            module = module.module
        elif hasattr(module, "_orig_mod"):  # torch.compile's OptimizedModule
            module = module._orig_mod
        else:
            return module


def base_samunet(module: nn.Module) -> nn.Module:
    """The SamUNet inside any wrapper, peft included (its parts may hold peft layers)."""
    module = unwrap_parallel(module)
    get_base_model = getattr(module, "get_base_model", None)  # peft.PeftModel
    if callable(get_base_model):
        module = get_base_model()
    missing = [part for part in MODEL_PARTS if not hasattr(module, part)]
    if missing:
        raise TypeError(
            f"expected a SamUNet (parts {list(MODEL_PARTS)}), got {type(module).__name__} "
            f"without {missing}; build the model with samunet_tune.create_model"
        )
    return module


def logical_parameter_name(name: str) -> str | None:
    """A parameter name of a possibly peft-wrapped SamUNet, as the plain SamUNet spells it.

    LoRA weights keep their `lora_A`/`lora_B` names; None marks peft's frozen originals of
    `modules_to_save`, which no longer take part in the forward pass.
    """
    if name.startswith(PEFT_PREFIX):
        name = name[len(PEFT_PREFIX) :]
    if ".original_module." in name:
        return None
    return name.replace(f".modules_to_save.{ADAPTER_NAME}.", ".")
