"""Validation against dataclass schemas: every problem at once, each with key path and line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional

import pytest

from samunet_tune.config import Component, RecipeError, parse_recipe, validate


@dataclass
class Optimizer:
    lr: float
    betas: tuple[float, float] = (0.9, 0.999)


@dataclass
class Train:
    root: Path
    split: Literal["train", "val"] = "train"
    sizes: list[int] = field(default_factory=lambda: [256])


@dataclass
class Schema:
    seed: int
    optimizer: Optimizer
    train: Train
    strategy: str = "conv-branch"
    loss: Optional[Component] = None
    max_steps: Optional[int] = None
    mixed_precision: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    milestones: int | list[int] = 0


@dataclass
class Positive:
    steps: int

    def __post_init__(self) -> None:
        if self.steps <= 0:
            raise ValueError(f"steps must be positive, got {self.steps}")


GOOD = """\
seed: 1
optimizer:
  lr: 1
  betas: [0.8, 0.9]
train:
  root: data/kvasir
  sizes: [128, 256]
loss:
  _component_: my.Loss
  weight: 20
milestones: [3, 6]
"""


def check(text: str, schema: type = Schema):
    recipe = parse_recipe(text, "r.yaml")
    return validate(recipe.config, schema, recipe.lines)


def problems_of(text: str, schema: type = Schema) -> list[str]:
    with pytest.raises(RecipeError) as caught:
        check(text, schema)
    return [str(problem) for problem in caught.value.problems]


def test_valid_recipe_builds_the_dataclasses():
    settings = check(GOOD)
    assert settings.optimizer == Optimizer(lr=1.0, betas=(0.8, 0.9))
    assert isinstance(settings.optimizer.lr, float)  # int accepted for float
    assert settings.train == Train(root=Path("data/kvasir"), sizes=[128, 256])
    assert settings.loss == {"_component_": "my.Loss", "weight": 20} and settings.milestones == [3, 6]


def test_wrong_type_names_file_line_and_key():
    text = GOOD.replace("lr: 1", "lr: fast")
    assert problems_of(text) == ["r.yaml:3: optimizer.lr: expected float, got 'fast'"]


def test_float_written_as_1e_4_is_a_float():
    assert check(GOOD.replace("lr: 1", "lr: 1e-4")).optimizer.lr == 1e-4


def test_unknown_key_suggests_closest():
    text = GOOD.replace("  lr: 1\n", "  lrr: 1\n")
    assert problems_of(text) == [
        "r.yaml:3: optimizer.lrr: unknown key; did you mean 'optimizer.lr'? (known here: lr, betas)",
        "r.yaml:2: optimizer: missing required key 'lr'; add it to the recipe or pass optimizer.lr=VALUE",
    ]


def test_unknown_top_level_key_with_suggestion():
    assert problems_of(GOOD + "sed: 3\n") == [
        "r.yaml:12: sed: unknown key; did you mean 'seed'? (known here: seed, optimizer, train, strategy, loss, "
        "max_steps, mixed_precision, extra, milestones)"
    ]


def test_literal_choices():
    text = GOOD.replace("  sizes", "  split: vall\n  sizes")
    assert problems_of(text) == ["r.yaml:7: train.split: expected one of 'train', 'val', got 'vall'; did you mean 'val'?"]


def test_missing_required_key_points_at_its_parent():
    text = GOOD.replace("  root: data/kvasir\n", "")
    assert problems_of(text) == [
        "r.yaml:5: train: missing required key 'root'; add it to the recipe or pass train.root=VALUE"
    ]


def test_all_problems_are_reported_together():
    text = """\
    optimizer:
      lr: [1]
      betas: [0.9]
    train:
      root: 3
      sizes: [1, two]
    loss: {weight: 2}
    mixed_precision: yes
    max_steps: 2.5
    bogus: 1
    milestones: x
    """.replace("\n    ", "\n").lstrip()
    assert problems_of(text) == [
        "r.yaml:10: bogus: unknown key (known here: seed, optimizer, train, strategy, loss, max_steps, "
        "mixed_precision, extra, milestones)",
        "r.yaml: missing required key 'seed'; add it to the recipe or pass seed=VALUE",
        "r.yaml:2: optimizer.lr: expected float, got a list",
        "r.yaml:3: optimizer.betas: expected 2 items, got 1",
        "r.yaml:5: train.root: expected a path, got 3",
        "r.yaml:6: train.sizes.1: expected int, got 'two'",
        "r.yaml:7: loss: a component needs '_component_: NAME_OR_DOTTED_PATH'",
        "r.yaml:9: max_steps: expected int, got 2.5",
        "r.yaml:8: mixed_precision: expected bool, got 'yes'; write true or false",
        "r.yaml:11: milestones: expected int or list of int, got 'x'",
    ]


def test_nested_union_reports_the_matching_arm():
    text = GOOD.replace("milestones: [3, 6]", "milestones: [3, x]")
    assert problems_of(text) == ["r.yaml:11: milestones.1: expected int, got 'x'"]


def test_null_for_optional_and_not_for_required():
    assert check(GOOD + "max_steps: null\n").max_steps is None
    assert problems_of(GOOD.replace("seed: 1", "seed: null")) == ["r.yaml:1: seed: expected int, got null"]


def test_post_init_errors_are_reported_with_the_line():
    assert problems_of("steps: -1\n", Positive) == ["r.yaml: steps must be positive, got -1"]


def test_problems_can_be_collected_instead_of_raised():
    problems = []
    recipe = parse_recipe(GOOD.replace("seed: 1", "seed: one"), "r.yaml")
    assert validate(recipe.config, Schema, recipe.lines, problems=problems) is None
    assert [str(problem) for problem in problems] == ["r.yaml:1: seed: expected int, got 'one'"]


def test_without_lines_messages_still_name_the_key():
    with pytest.raises(RecipeError, match=r"^optimizer.lr: expected float, got 'x'$"):
        validate({"seed": 1, "optimizer": {"lr": "x"}, "train": {"root": "r"}}, Schema)
