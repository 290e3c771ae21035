"""The training recipe's schema: every key a recipe may hold, with its type and default.

Recipes are data (YAML); this file is the one description of their shape, checked with
line numbers by `samunet_tune.config.validate` before anything heavy is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from samunet_tune.config import Component, Recipe, RecipeError, check_all_components, check_name, check_paths, load_recipe, validate
from samunet_tune.config.errors import Problem


@dataclass
class ModelSection:
    """name: a registered model; pretrained: null (random), "hub" (the name's Hub weights),
    or a save_pretrained folder / repo id; overrides: SamUNetConfig fields (random weights only)."""

    name: str = "samunet_tiny"
    pretrained: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass
class StrategySection:
    name: str = "conv-branch"
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class DatasetSection:
    """plugin: a registered dataset plugin; options: its keyword options (root, split, ...)."""

    plugin: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class DataSection:
    train: DatasetSection
    val: DatasetSection | None = None
    batch_size: int = 4
    masks_per_image: int = 5
    prompt: Literal["box", "point", "box+point"] = "box"
    prompt_options: dict[str, Any] = field(default_factory=dict)
    augment: dict[str, Any] | None = None
    num_workers: int = 0
    val_max_samples: int | None = None


@dataclass
class TrainSection:
    epochs: int = 12
    gradient_accumulation_steps: int = 1
    mixed_precision: Literal["no", "bf16", "fp16"] = "no"
    clip_grad_norm: float | None = None
    scheduler_interval: Literal["epoch", "step"] = "epoch"
    feature_cache: Literal["off", "memory", "disk"] = "off"
    cpu: bool = False
    sync_batchnorm: bool = True
    activation_checkpointing: bool = False
    channels_last: bool = False
    compile: bool = False


@dataclass
class ValidationSection:
    every_n_steps: int | None = None
    every_epoch: bool = True
    metric: Literal["dice", "iou"] = "dice"
    early_stopping_patience: int | None = None


@dataclass
class CheckpointSection:
    every_n_steps: int = 100
    keep_last: int = 2


@dataclass
class LoggingSection:
    every_n_steps: int = 1
    tensorboard: bool = True
    progress_bar: bool = True
    sample_ids: bool = False


@dataclass
class TrainRecipe:
    output_dir: str
    data: DataSection
    seed: int = 0
    max_steps: int | None = None
    resume: str | None = None
    model: ModelSection = field(default_factory=ModelSection)
    strategy: StrategySection = field(default_factory=StrategySection)
    loss: Component | None = None
    optimizer: Component | None = None
    scheduler: Component | None = None
    train: TrainSection = field(default_factory=TrainSection)
    validation: ValidationSection = field(default_factory=ValidationSection)
    checkpoint: CheckpointSection = field(default_factory=CheckpointSection)
    logging: LoggingSection = field(default_factory=LoggingSection)


DEFAULT_LOSS = {"_component_": "focal_dice"}
DEFAULT_OPTIMIZER = {"_component_": "torch.optim.Adam", "lr": 1e-4}


def load_train_recipe(path_or_name: str, overrides: list[str] | None = None) -> tuple[Recipe, TrainRecipe]:
    """Load, override and check a recipe; every problem is reported at once with its line."""
    from samunet_tune.data import DATASETS
    from samunet_tune.modeling.builders import MODELS
    from samunet_tune.strategies import STRATEGIES
    from samunet_tune.train.losses import LOSSES

    recipe = load_recipe(path_or_name).override(list(overrides or []), schema=TrainRecipe)
    problems: list[Problem] = []
    settings = validate(recipe.config, TrainRecipe, recipe.lines, problems=problems)
    config = recipe.config
    check_name(config, "model.name", MODELS, lines=recipe.lines, problems=problems)
    check_name(config, "strategy.name", STRATEGIES, lines=recipe.lines, problems=problems)
    for split in ("train", "val"):
        section = (config.get("data") or {}).get(split)
        if isinstance(section, dict):
            check_name(config, f"data.{split}.plugin", DATASETS, lines=recipe.lines, problems=problems)
            _check_plugin_options(section, split, recipe, problems)
    check_all_components(
        config, registries={"loss": LOSSES}, provided={"optimizer": ("params",), "scheduler": ("optimizer",)},
        lines=recipe.lines, problems=problems,
    )
    _check_strategy_options(config, recipe, problems)
    check_paths(config, ["data.train.options.root", "data.val.options.root"], recipe.lines, problems=problems)
    if problems:
        raise RecipeError(problems)
    return recipe, settings


def _check_strategy_options(config: dict, recipe: Recipe, problems: list[Problem]) -> None:
    """Option names and values of the strategy, checked without building a model."""
    from samunet_tune.strategies import STRATEGIES, strategy_class

    section = config.get("strategy") or {}
    name, options = section.get("name", "conv-branch"), section.get("options") or {}
    if name not in STRATEGIES or not isinstance(options, dict):
        return
    try:
        strategy_class(name).check_options(**options)
    except (TypeError, ValueError) as error:
        problems.append(Problem(("strategy", "options"), str(error), recipe.lines.where("strategy.options")))


def _check_plugin_options(section: dict, split: str, recipe: Recipe, problems: list[Problem]) -> None:
    """Option names of a dataset plugin, checked against its constructor without reading data."""
    from samunet_tune.data import DATASETS, check_plugin_options

    name, options = section.get("plugin"), section.get("options") or {}
    if name not in DATASETS or not isinstance(options, dict):
        return
    try:
        check_plugin_options(name, DATASETS.get(name), options)
    except (TypeError, ValueError) as error:
        problems.append(Problem(("data", split, "options"), str(error), recipe.lines.where(f"data.{split}.options")))
