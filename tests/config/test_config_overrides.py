"""Command-line overrides: first-'=' split, dotted keys, YAML typing, ~ deletes, list indices."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import pytest

from samunet_tune.config import RecipeError, apply_overrides, parse_recipe, parse_value

RECIPE = """\
name: base
optimizer:
  _component_: torch.optim.Adam
  lr: 1e-4
scheduler:
  milestones: [10, 20, 30]
  gamma: 0.1
ema: null
"""


@dataclass
class Ema:
    decay: float = 0.999


@dataclass
class Scheduler:
    milestones: list[int] = field(default_factory=list)
    gamma: float = 0.1


@dataclass
class Schema:
    name: str
    optimizer: dict
    scheduler: Scheduler
    ema: Optional[Ema] = None
    max_steps: Optional[int] = None
    output_dir: str = "out"


@pytest.fixture
def recipe():
    return parse_recipe(RECIPE, "r.yaml")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True), ("1e-4", 1e-4), ("null", None), ("~", None), ("3", 3), ("-2.5", -2.5),
        ("[1,2]", [1, 2]), ("{a: 1, b: [x]}", {"a": 1, "b": ["x"]}), ("'3'", "3"), ('"true"', "true"),
        ("", ""), ("a=b", "a=b"), ("x: y", "x: y"), ("/data/kvasir seg", "/data/kvasir seg"), ("yes", "yes"),
    ],
)
def test_values_are_yaml(text, value):
    parsed = parse_value(text)
    assert parsed == value and type(parsed) is type(value)


def test_split_on_first_equals_only(recipe):
    assert apply_overrides(recipe.config, ["name=a=b"])["name"] == "a=b"


def test_dotted_keys_and_provenance(recipe):
    config = apply_overrides(recipe.config, ["optimizer.lr=3e-4", "scheduler.gamma=0.5"], lines=recipe.lines)
    assert config["optimizer"]["lr"] == 3e-4 and config["scheduler"]["gamma"] == 0.5
    assert recipe.lines.where("optimizer.lr") == "command line override 'optimizer.lr=3e-4'"
    assert recipe.lines.where("optimizer._component_") == "r.yaml:3"


def test_input_is_not_mutated(recipe):
    apply_overrides(recipe.config, ["scheduler.milestones.0=1", "~name"])
    assert recipe.config["scheduler"]["milestones"][0] == 10 and "name" in recipe.config


def test_delete(recipe):
    config = apply_overrides(recipe.config, ["~scheduler.gamma", "~ema"], lines=recipe.lines)
    assert config["scheduler"] == {"milestones": [10, 20, 30]} and "ema" not in config
    assert "scheduler.gamma" not in recipe.lines


def test_delete_absent_key_suggests(recipe):
    with pytest.raises(RecipeError, match=r"'~schedular': schedular: not in the recipe; did you mean 'scheduler'\?"):
        apply_overrides(recipe.config, ["~schedular"])


def test_list_index_set_and_delete(recipe):
    lines = recipe.lines
    config = apply_overrides(recipe.config, ["scheduler.milestones.2=99", "~scheduler.milestones.0"], lines=lines)
    assert config["scheduler"]["milestones"] == [20, 99]
    assert lines.where("scheduler.milestones.1") == "command line override 'scheduler.milestones.2=99'"
    assert lines.where("scheduler.milestones.0") == "r.yaml:6"


def test_list_index_out_of_range(recipe):
    with pytest.raises(RecipeError, match=r"scheduler.milestones.3: scheduler.milestones is a list; valid indices: 0..2"):
        apply_overrides(recipe.config, ["scheduler.milestones.3=1"])


def test_unknown_key_suggests_closest(recipe):
    with pytest.raises(RecipeError) as caught:
        apply_overrides(recipe.config, ["scheduler.gama=0.5"], schema=Schema)
    assert str(caught.value) == (
        "command line override 'scheduler.gama=0.5': scheduler.gama: "
        "not in the recipe and not a known option; did you mean 'scheduler.gamma'?"
    )


def test_schema_known_keys_can_be_added(recipe):
    config = apply_overrides(recipe.config, ["max_steps=5", "output_dir=/tmp/x", "ema.decay=0.9"], schema=Schema)
    assert config["max_steps"] == 5 and config["output_dir"] == "/tmp/x"
    assert config["ema"] == {"decay": 0.9}  # a null optional section becomes a mapping


def test_new_keys_need_a_schema(recipe):
    with pytest.raises(RecipeError, match="max_steps: not in the recipe"):
        apply_overrides(recipe.config, ["max_steps=5"])


def test_component_arguments_can_be_added(recipe):
    config = apply_overrides(recipe.config, ["optimizer.weight_decay=0.01"])
    assert config["optimizer"]["weight_decay"] == 0.01  # checked against the signature later


def test_replacing_a_section_drops_its_lines(recipe):
    apply_overrides(recipe.config, ["scheduler={milestones: [5]}"], lines=recipe.lines)
    assert recipe.lines.where("scheduler.milestones.0") == "command line override 'scheduler={milestones: [5]}'"


def test_every_bad_override_is_reported_at_once(recipe):
    with pytest.raises(RecipeError) as caught:
        apply_overrides(recipe.config, ["nme=x", "lr", "~optimizer.lr=1", "name.first=x", "name=ok"], lines=recipe.lines)
    messages = [str(problem) for problem in caught.value.problems]
    assert messages == [
        "command line override 'nme=x': nme: not in the recipe and not a known option; did you mean 'name'?",
        "command line override 'lr': an override is KEY=VALUE (or ~KEY to delete a key)",
        "command line override '~optimizer.lr=1': '~KEY' deletes a key and takes no value; write ~KEY or KEY=VALUE",
        "command line override 'name.first=x': name.first: name is 'base', not a mapping or list",
    ]
    assert str(caught.value).startswith("4 problems in the recipe:\n  - ")
    assert recipe.lines.where("name") == "r.yaml:1"  # nothing recorded when overrides fail


def test_recipe_override_keeps_the_original(recipe):
    changed = recipe.override(["name=other"])
    assert changed.config["name"] == "other" and recipe.config["name"] == "base"
    assert changed.overrides == ("name=other",) and recipe.lines.where("name") == "r.yaml:1"
