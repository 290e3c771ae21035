"""`lora-vit`: LoRA adapters (peft) inside the SAM ViT, plus whichever parts the recipe also trains.

The adapters target segment-anything's own module names, by one full-match regex:
`image_encoder.blocks.N.attn.qkv` (the fused q/k/v Linear), `attn.proj`, `mlp.lin1`/`lin2`.
peft's list form matches name suffixes, so a bare "proj" would also catch the Conv2d
`image_encoder.patch_embed.proj`, and a loose regex like ".*proj" the mask decoder's
`q_proj`/`out_proj`; the anchored pattern catches only the chosen blocks' Linear layers.

Parts that train whole (`train_also`) go to peft's `modules_to_save`, so the adapter folder
holds them and `PeftModel.from_pretrained` restores them; the frozen ViT never leaves the base.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Sequence

from torch import nn

from samunet_tune.strategies.base import Strategy
from samunet_tune.strategies.parts import ADAPTER_NAME, base_samunet, check_choices, unwrap_parallel

# option value -> the Linear layers it adapts inside each ViT block
LORA_TARGET_LAYERS = {"qkv": ("attn.qkv",), "proj": ("attn.proj",), "mlp": ("mlp.lin1", "mlp.lin2")}
TRAIN_ALSO_CHOICES = ("conv_branch", "fusion", "bridges", "neck_upsampler", "prompt_encoder", "mask_decoder")
ADAPTER_CONFIG_NAME = "adapter_config.json"
ADAPTER_WEIGHTS_NAME = "adapter_model.safetensors"
BASE_CONFIG_NAME = "config.json"


def lora_target_pattern(targets: Sequence[str] = ("qkv",), blocks: Sequence[int] | None = None) -> str:
    """The regex peft full-matches against module names (every block when `blocks` is None)."""
    layers = [layer for target in targets for layer in LORA_TARGET_LAYERS[target]]
    block = r"\d+" if blocks is None else "(?:" + "|".join(str(int(index)) for index in blocks) + ")"
    return rf"image_encoder\.blocks\.{block}\.(?:{'|'.join(re.escape(layer) for layer in layers)})"


class LoraViTStrategy(Strategy):
    """LoRA on the ViT's attention (and optionally MLP) Linear layers.

    Options:
        rank: LoRA rank r.
        alpha: LoRA alpha; the update is scaled by alpha / rank.
        dropout: dropout on the LoRA input path.
        targets: any of "qkv", "proj" (attention output), "mlp" (lin1 and lin2).
        blocks: ViT block indexes to adapt; None adapts every block.
        train_also: parts trained in full beside the adapters (saved with the adapter).
    """

    name = "lora-vit"
    default_options = {
        "rank": 8,
        "alpha": 16,
        "dropout": 0.0,
        "targets": ("qkv",),
        "blocks": None,
        "train_also": ("prompt_encoder", "mask_decoder"),
    }

    @classmethod
    def check_options(cls, **options: Any) -> dict[str, Any]:
        resolved = super().check_options(**options)
        where = f"strategy {cls.name!r} option"
        rank, alpha, dropout = resolved["rank"], resolved["alpha"], resolved["dropout"]
        if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
            raise ValueError(f"{where} rank={rank!r} must be a positive integer")
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or alpha <= 0:
            raise ValueError(f"{where} alpha={alpha!r} must be a positive number")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"{where} dropout={dropout!r} must be in [0, 1)")
        resolved["targets"] = check_choices(resolved["targets"], tuple(LORA_TARGET_LAYERS), f"{where} targets")
        if not resolved["targets"]:
            raise ValueError(f"{where} targets is empty; choose some of {list(LORA_TARGET_LAYERS)}")
        resolved["blocks"] = _check_blocks(resolved["blocks"], where)
        resolved["train_also"] = check_choices(resolved["train_also"], TRAIN_ALSO_CHOICES, f"{where} train_also")
        return resolved

    def parts_to_train(self) -> tuple[str, ...]:
        return self.options["train_also"]

    @property
    def image_encoder_trainable(self) -> bool:
        return True  # the adapters live inside the ViT

    def frozen_parts(self) -> tuple[str, ...]:
        # The ViT holds trained adapters (and their dropout), so it follows model.train().
        return tuple(part for part in super().frozen_parts() if part != "image_encoder")

    def target_pattern(self) -> str:
        return lora_target_pattern(self.options["targets"], self.options["blocks"])

    def lora_config(self, model: nn.Module):
        """The peft LoraConfig for this model (ModuleList parts are listed element by element)."""
        from peft import LoraConfig

        model = base_samunet(model)
        depth = len(model.image_encoder.blocks)
        blocks = self.options["blocks"]
        if blocks is not None and max(blocks) >= depth:
            raise ValueError(
                f"strategy {self.name!r} option blocks={list(blocks)}: this model's ViT has blocks 0..{depth - 1}"
            )
        return LoraConfig(
            r=self.options["rank"],
            lora_alpha=self.options["alpha"],
            lora_dropout=float(self.options["dropout"]),
            target_modules=self.target_pattern(),
            modules_to_save=_modules_to_save(model, self.options["train_also"]) or None,
            bias="none",
        )

    def apply(self, model: nn.Module) -> nn.Module:
        """Freeze the base, inject the adapters, wrap `train_also` parts; returns a peft.PeftModel."""
        from peft import get_peft_model

        model = base_samunet(model)
        _refuse_if_adapted(model)
        model.requires_grad_(False)
        return get_peft_model(model, self.lora_config(model), adapter_name=ADAPTER_NAME)

    def save_final(self, module: nn.Module, output_dir: Path, base_model: str | None) -> None:
        """adapter_config.json + adapter_model.safetensors (+ README.md), and the base's config.json."""
        save_lora_adapter(module, output_dir, base_model)


def _check_blocks(blocks: Any, where: str) -> tuple[int, ...] | None:
    if blocks is None:
        return None
    if isinstance(blocks, int) and not isinstance(blocks, bool):
        blocks = [blocks]
    if (
        not isinstance(blocks, (list, tuple))
        or not blocks
        or any(isinstance(b, bool) or not isinstance(b, int) or b < 0 for b in blocks)
    ):
        raise ValueError(f"{where} blocks={blocks!r} must be null (every block) or a non-empty list of block indexes")
    return tuple(sorted(set(blocks)))


def _modules_to_save(model: nn.Module, parts: Sequence[str]) -> list[str]:
    # peft wraps each named module in a ModulesToSaveWrapper, which cannot be indexed; SamUNet
    # indexes `fusion[i]` and `bridges[i]`, so a ModuleList is wrapped element by element.
    names = []
    for part in parts:
        module = getattr(model, part)
        if isinstance(module, nn.ModuleList):
            names += [f"{part}.{index}" for index in range(len(module))]
        else:
            names.append(part)
    return names


def _refuse_if_adapted(model: nn.Module) -> None:
    from peft.tuners.tuners_utils import BaseTunerLayer

    if any(isinstance(module, BaseTunerLayer) for module in model.modules()):
        raise ValueError(
            "this SamUNet already holds LoRA layers; build a fresh base model, or merge them first "
            "with samunet_tune.strategies.merge_lora"
        )


def _peft_model(module: nn.Module):
    from peft import PeftModel

    module = unwrap_parallel(module)
    if not isinstance(module, PeftModel):
        raise TypeError(
            f"expected the peft.PeftModel that LoraViTStrategy.apply or load_lora_adapter returned, "
            f"got {type(module).__name__}"
        )
    return module


def save_lora_adapter(module: nn.Module, output_dir: Path | str, base_model: str | None) -> None:
    """Write the adapter folder; `base_model` is recorded as the adapter's base_model_name_or_path."""
    peft_model = _peft_model(module)
    output_dir = Path(output_dir)
    config = peft_model.peft_config[ADAPTER_NAME]
    previous = config.base_model_name_or_path
    config.base_model_name_or_path = None if base_model is None else str(base_model)
    try:
        # save_embedding_layers=False: "auto" looks the base up on the Hub for a vocabulary.
        peft_model.save_pretrained(str(output_dir), save_embedding_layers=False)
    finally:
        config.base_model_name_or_path = previous
    _write_adapter_card(output_dir, base_model)  # replaces peft's empty transformers template
    base_config = base_samunet(peft_model).config.to_dict()
    # The base's architecture beside the adapter says what it adapts (same format as save_pretrained).
    (output_dir / BASE_CONFIG_NAME).write_text(json.dumps(base_config, sort_keys=True, indent=2))


ADAPTER_CARD_TEXT = """
# SAM-UNet LoRA adapter

A LoRA adapter (peft) for the SAM-UNet `{base}`, saved by
[samunet-tune](https://pypi.org/project/samunet-tune/)'s `lora-vit` strategy. It holds the
low-rank updates of the ViT and the parts trained in full beside them; `config.json` is the base
model's architecture.

```python
from samunet_tune import SamUNet
from samunet_tune.strategies import load_lora_adapter, merge_lora
model = load_lora_adapter(SamUNet.from_pretrained("{base}"), "path/to/this/folder")
plain = merge_lora(model)  # optional: a plain SamUNet for save_pretrained
```

Research use only: not a medical device, not for clinical decisions.

Framework versions: PEFT {peft_version}
"""


def _write_adapter_card(output_dir: Path, base_model: str | None) -> None:
    import peft
    from huggingface_hub import ModelCard, ModelCardData

    data = ModelCardData(
        library_name="peft",
        license="apache-2.0",
        pipeline_tag="image-segmentation",
        tags=["lora", "peft", "sam-unet", "segment-anything", "medical-imaging"],
        # The Hub reads base_model as a repo id, so a local path is only named in the text.
        base_model=str(base_model) if base_model and not Path(base_model).exists() else None,
    )
    text = ADAPTER_CARD_TEXT.format(base=base_model or "path/to/base/model", peft_version=peft.__version__)
    ModelCard(f"---\n{data.to_yaml()}\n---\n{text}").save(output_dir / "README.md")


def load_lora_adapter(base_model: nn.Module, adapter_dir: Path | str, is_trainable: bool = False):
    """Load a `lora-vit` adapter folder onto `base_model` (modified in place); returns a peft.PeftModel.

    The adapters and the saved `train_also` parts are restored; every tensor in the file must
    find its place (a WeightsError says what did not).
    """
    from peft import PeftModel

    adapter_dir = Path(adapter_dir)
    if not (adapter_dir / ADAPTER_CONFIG_NAME).is_file():
        raise FileNotFoundError(
            f"{adapter_dir / ADAPTER_CONFIG_NAME} is missing: {adapter_dir} is not a LoRA adapter folder "
            f"(it needs {ADAPTER_CONFIG_NAME} and {ADAPTER_WEIGHTS_NAME}); "
            "a full model folder loads with SamUNet.from_pretrained"
        )
    base = base_samunet(base_model)
    _refuse_if_adapted(base)
    _check_same_architecture(base, adapter_dir)
    model = PeftModel.from_pretrained(base, str(adapter_dir), adapter_name=ADAPTER_NAME, is_trainable=is_trainable)
    _check_every_tensor_loaded(model, adapter_dir / ADAPTER_WEIGHTS_NAME)
    return model


def _check_same_architecture(base: nn.Module, adapter_dir: Path) -> None:
    config_path = adapter_dir / BASE_CONFIG_NAME
    if not config_path.is_file():
        return  # an adapter written by plain peft; the tensor shapes still have to match
    saved = json.loads(config_path.read_text())
    current = base.config.to_dict()
    differing = sorted(key for key in set(saved) | set(current) if saved.get(key) != current.get(key))
    if differing:
        details = ", ".join(f"{key}: adapter {saved.get(key)!r} vs base {current.get(key)!r}" for key in differing)
        raise ValueError(
            f"{adapter_dir} adapts a different SamUNet ({details}); load it onto the base model named "
            f"in {ADAPTER_CONFIG_NAME} (base_model_name_or_path)"
        )


def _check_every_tensor_loaded(model, weights_path: Path) -> None:
    from peft.utils import get_peft_model_state_dict
    from safetensors import safe_open

    from samunet_tune.modeling.weights_io import WeightsError

    with safe_open(str(weights_path), framework="pt") as handle:
        in_file = set(handle.keys())
    # save_embedding_layers=False: "auto" would look the base up on the Hub (a network call).
    expected = set(get_peft_model_state_dict(model, adapter_name=ADAPTER_NAME, save_embedding_layers=False))
    missing, unexpected = sorted(expected - in_file), sorted(in_file - expected)
    if missing or unexpected:
        raise WeightsError(
            f"{weights_path} does not match its {ADAPTER_CONFIG_NAME}: missing {missing[:6]}, "
            f"unexpected {unexpected[:6]}. Save the adapter again with LoraViTStrategy.save_final."
        )


def merge_lora(module: nn.Module) -> nn.Module:
    """Fold the adapters into the ViT weights and unwrap `train_also` parts: a plain SamUNet.

    Works in place on the peft model's base. The result has the normal state_dict keys, so it
    saves with `save_pretrained` and loads strictly with `SamUNet.from_pretrained`.
    """
    merged = _peft_model(module).merge_and_unload()
    leftovers = [
        key
        for key in merged.state_dict()
        if any(marker in key for marker in ("lora_", "base_layer", "modules_to_save", "original_module"))
    ]
    if leftovers:
        raise RuntimeError(f"peft left adapter tensors behind after merging: {leftovers[:6]}")
    merged.requires_grad_(True)  # as create_model or from_pretrained would give it
    return merged
