"""Strategy: which parts of a SamUNet train, and how the result is saved.

A strategy is built from the recipe's `strategy:` section (`build_strategy(name, **options)`),
then the trainer asks it, in order:

    module = strategy.apply(model)              # freezes, maybe wraps (peft); optimise `module`
    strategy.print_parameter_table(module)
    for frozen in strategy.frozen_eval_modules(module): frozen.eval()  # after every .train()
    strategy.image_encoder_trainable            # False: image features may be cached
    strategy.trainable_state_dict(module)       # checkpoints without the frozen ViT
    strategy.save_final(module, output_dir, base_model)

The base class implements all of it for strategies that train whole parts; a subclass names its
`name` and `trained_parts`. Options are declared in `default_options`, so a recipe can be checked
with `check_options` before any model is built.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, ClassVar

import torch
from torch import nn

from samunet_tune.strategies import trainable_state
from samunet_tune.strategies.parameter_table import count_parameters, format_parameter_table
from samunet_tune.strategies.parts import IMAGE_SIDE_PARTS, MODEL_PARTS, base_samunet, unwrap_parallel


class Strategy:
    """Base class. Subclasses set `name`, `trained_parts`, and optionally `default_options`.

    Args:
        options: the recipe's `strategy:` arguments; each must be a key of `default_options`.
    """

    name: ClassVar[str] = ""
    trained_parts: ClassVar[tuple[str, ...]] = ()
    default_options: ClassVar[dict[str, Any]] = {}

    def __init__(self, **options: Any) -> None:
        self.options = self.check_options(**options)

    @classmethod
    def check_options(cls, **options: Any) -> dict[str, Any]:
        """All options with defaults filled in; unknown names are a TypeError, bad values ValueError."""
        unknown = sorted(set(options) - set(cls.default_options))
        if unknown:
            accepted = ", ".join(sorted(cls.default_options)) or "none"
            raise TypeError(f"strategy {cls.name!r} got unknown option(s) {unknown}; accepted options: {accepted}")
        return {**cls.default_options, **options}

    def __repr__(self) -> str:
        arguments = ", ".join(f"{key}={value!r}" for key, value in self.options.items())
        return f"{type(self).__name__}({arguments})"

    # what trains --------------------------------------------------------------------------
    def parts_to_train(self) -> tuple[str, ...]:
        """Whole parts that train (LoRA adds adapters inside the frozen image encoder too)."""
        return self.trained_parts

    @property
    def image_encoder_trainable(self) -> bool:
        """Whether anything `SamUNet.encode_image` runs trains; False allows a feature cache."""
        return any(part in IMAGE_SIDE_PARTS for part in self.parts_to_train())

    def apply(self, model: nn.Module) -> nn.Module:
        """Freeze what does not train; return the module to optimise, called as module(images, prompts)."""
        model = base_samunet(model)
        model.requires_grad_(False)
        for part in self.parts_to_train():
            getattr(model, part).requires_grad_(True)
        return model

    def frozen_eval_modules(self, model: nn.Module) -> list[nn.Module]:
        """Fully frozen parts: kept in eval mode so BatchNorm statistics (and cached features) hold."""
        model = base_samunet(model)
        return [getattr(model, part) for part in self.frozen_parts()]

    def frozen_parts(self) -> tuple[str, ...]:
        return tuple(part for part in MODEL_PARTS if part not in self.parts_to_train())

    # checkpoints --------------------------------------------------------------------------
    def trainable_state_dict(self, module: nn.Module) -> dict[str, torch.Tensor]:
        """What training changed (trainable parameters, BN statistics beside them), no frozen weights."""
        return trainable_state.trainable_state_dict(module)

    def load_trainable_state_dict(self, module: nn.Module, state: dict[str, torch.Tensor]) -> None:
        """Restore `trainable_state_dict` output strictly (a WeightsError names what does not match)."""
        trainable_state.load_trainable_state_dict(module, state)

    def save_final(self, module: nn.Module, output_dir: Path, base_model: str | None) -> None:
        """A `SamUNet.save_pretrained` folder: config.json, model.safetensors and the model card.

        Args:
            module: what `apply` returned (possibly wrapped for distributed training).
            output_dir: the folder to write; created if needed.
            base_model: the hub id or path training started from; a complete model folder does not
                need it, adapter strategies record it.
        """
        if hasattr(unwrap_parallel(module), "peft_config"):
            # Its state_dict keys are peft's, which SamUNet.from_pretrained would reject.
            raise TypeError(
                f"strategy {self.name!r} got a peft model; save it with the lora-vit strategy, or merge it "
                "first with samunet_tune.strategies.merge_lora"
            )
        base_samunet(module).save_pretrained(Path(output_dir))

    # reporting ----------------------------------------------------------------------------
    def parameter_table(self, module: nn.Module) -> str:
        """Trainable and total parameters per part, with totals."""
        return format_parameter_table(count_parameters(module), title=f"strategy {self.name}: {self!r}")

    def print_parameter_table(self, module: nn.Module, print_fn: Callable[[str], Any] = print) -> None:
        print_fn(self.parameter_table(unwrap_parallel(module)))
