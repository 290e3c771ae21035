"""Fine-tuning strategies: which parts of SAM-UNet train, and what the final artefact is.

Built-ins register lazily (peft loads only when `lora-vit` is asked for); third parties join
through the `samunet_tune.strategies` entry-point group with a `Strategy` subclass.

    strategy = build_strategy("lora-vit", rank=8, targets=["qkv", "proj"])
    module = strategy.apply(model)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from samunet_tune.lazy import lazy_getattr
from samunet_tune.registry import Registry

if TYPE_CHECKING:  # pragma: no cover
    from samunet_tune.strategies.base import Strategy

STRATEGIES: Registry[type["Strategy"]] = Registry("strategy", entry_point_group="samunet_tune.strategies")

STRATEGIES.register_lazy("conv-branch", "samunet_tune.strategies.conv_branch:ConvBranchStrategy")
STRATEGIES.register_lazy("lora-vit", "samunet_tune.strategies.lora_vit:LoraViTStrategy")
STRATEGIES.register_lazy("decoder-only", "samunet_tune.strategies.decoder_only:DecoderOnlyStrategy")
STRATEGIES.register_lazy("full", "samunet_tune.strategies.full:FullStrategy")


def list_strategies(pattern: str | None = None) -> list[str]:
    """Registered strategy names, optionally filtered by an fnmatch pattern."""
    return STRATEGIES.names(pattern)


def strategy_class(name: str) -> type["Strategy"]:
    """The class registered as `name`; an unknown name raises listing the known ones."""
    from samunet_tune.strategies.base import Strategy

    cls = STRATEGIES.get(name)
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise TypeError(f"strategy {name!r} is registered as {cls!r}, which is not a Strategy subclass")
    return cls


def build_strategy(name: str, **options: Any) -> "Strategy":
    """Build the strategy `name` with the recipe's options (unknown options raise TypeError)."""
    return strategy_class(name)(**options)


_LAZY = {
    "Strategy": "samunet_tune.strategies.base",
    "load_lora_adapter": "samunet_tune.strategies.lora_vit",
    "merge_lora": "samunet_tune.strategies.lora_vit",
}

__all__ = ["STRATEGIES", "build_strategy", "list_strategies", "strategy_class", *_LAZY]


__getattr__ = lazy_getattr(__name__, _LAZY)
