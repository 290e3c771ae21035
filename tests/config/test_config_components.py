"""Components: names through a Registry or dotted paths, arguments checked against signatures."""

from __future__ import annotations

import pytest

import torch  # imported at collection so no single test pays for it

from samunet_tune.config import (
    RecipeError,
    check_all_components,
    check_component_args,
    check_name,
    import_dotted,
    instantiate,
    parse_recipe,
    resolve_component,
)
from samunet_tune.registry import Registry


class Loss:
    def __init__(self, weight: float, reduction: str = "mean") -> None:
        self.weight, self.reduction = weight, reduction


class Sum:
    def __init__(self, parts: list, scale: float = 1.0) -> None:
        self.parts, self.scale = parts, scale


def open_builder(size: int, **options):
    return size, options


def positional(x, /, y=1):
    return x, y


@pytest.fixture
def losses() -> Registry:
    registry: Registry = Registry("loss")
    registry.register("dice", Loss)
    registry.register("sum", Sum)
    return registry


HERE = __name__  # how pytest imported this file, so dotted paths below resolve to it

RECIPE = f"""\
optimizer:
  _component_: torch.optim.Adam
  lrr: 1e-4
loss:
  _component_: sum
  parts:
    - _component_: dice
      weight: 20
    - _component_: {HERE}.Loss
      wieght: 1
strategy: conv-brnach
"""


@pytest.fixture
def recipe():
    return parse_recipe(RECIPE, "r.yaml")


def test_resolve_by_registry_name_and_dotted_path(losses):
    assert resolve_component({"_component_": "dice"}, losses) is Loss
    assert resolve_component({"_component_": "torch.optim.Adam"}) is torch.optim.Adam
    assert resolve_component("torch.optim.Adam", losses) is torch.optim.Adam  # not registered: imported
    assert import_dotted("torch.optim:Adam") is torch.optim.Adam
    assert import_dotted(f"{HERE}.Sum") is Sum


def test_unknown_registry_name_lists_names_with_line(losses, recipe):
    with pytest.raises(RecipeError) as caught:
        resolve_component({"_component_": "dise"}, losses, path="loss.parts.0", lines=recipe.lines)
    assert str(caught.value) == (
        "r.yaml:7: loss.parts.0._component_: unknown loss 'dise'. Known: dice, sum; did you mean 'dice'?"
    )


def test_bad_dotted_path_suggests_attribute():
    with pytest.raises(RecipeError, match=r"cannot import 'torch.optim.Adamm': 'torch.optim' has no attribute "
                                          r"'Adamm'; did you mean 'Adam'\?"):
        resolve_component({"_component_": "torch.optim.Adamm"})
    with pytest.raises(RecipeError, match="no module named 'no_such_package_xyz'"):
        resolve_component({"_component_": "no_such_package_xyz.Thing"})


def test_misspelt_kwarg_is_caught_with_its_line(recipe):
    with pytest.raises(RecipeError) as caught:
        check_component_args(recipe.config["optimizer"], path="optimizer", lines=recipe.lines, provided=("params",))
    message = str(caught.value)
    assert message.startswith("r.yaml:3: optimizer.lrr: torch.optim.Adam has no argument 'lrr'; did you mean 'lr'?")
    assert "(it accepts: lr, betas," in message and "params" not in message


def test_required_arguments(losses):
    with pytest.raises(RecipeError, match="torch.optim.Adam needs argument 'params'; add it under optimizer"):
        check_component_args({"_component_": "torch.optim.Adam"}, path="optimizer")
    check_component_args({"_component_": "torch.optim.Adam", "lr": 0.1}, provided=("params",))
    with pytest.raises(RecipeError, match="dice needs argument 'weight'"):
        check_component_args({"_component_": "dice"}, losses, path="loss")


def test_provided_arguments_must_not_be_in_the_recipe():
    with pytest.raises(RecipeError, match="optimizer.params: torch.optim.Adam gets 'params' from the code at build time"):
        check_component_args({"_component_": "torch.optim.Adam", "params": []}, path="optimizer", provided=("params",))


def test_var_kwargs_and_positional_only():
    check_component_args({"_component_": f"{HERE}.open_builder", "size": 1, "anything": 2})
    with pytest.raises(RecipeError, match="takes 'x' by position only"):
        check_component_args({"_component_": f"{HERE}.positional", "x": 1})
    check_component_args({"_component_": f"{HERE}.positional"}, provided=("x",))
    with pytest.raises(RecipeError, match="needs 'x' by position; the code that builds it must pass it"):
        check_component_args({"_component_": f"{HERE}.positional"})


def test_check_all_components_reports_everything(recipe, losses):
    with pytest.raises(RecipeError) as caught:
        check_all_components(recipe.config, registries={"loss": losses, "loss.parts.0": losses},
                             provided={"optimizer": ("params",)}, lines=recipe.lines)
    messages = [str(problem) for problem in caught.value.problems]
    assert len(messages) == 3
    assert messages[0].startswith("r.yaml:3: optimizer.lrr: torch.optim.Adam has no argument 'lrr'")
    assert messages[1].startswith(f"r.yaml:10: loss.parts.1.wieght: {HERE}.Loss "
                                  "has no argument 'wieght'; did you mean 'weight'?")
    assert messages[2] == (f"r.yaml:9: loss.parts.1: {HERE}.Loss needs argument "
                           "'weight'; add it under loss.parts.1")


def test_check_name_against_a_registry(recipe):
    strategies: Registry = Registry("strategy")
    for name in ("conv-branch", "lora-vit", "full"):
        strategies.register(name, object())
    problems = []
    check_name(recipe.config, "strategy", strategies, lines=recipe.lines, problems=problems)
    assert [str(problem) for problem in problems] == [
        "r.yaml:11: strategy: unknown strategy 'conv-brnach' (known: conv-branch, full, lora-vit); "
        "did you mean 'conv-branch'?"
    ]


def test_instantiate_builds_nested_components_with_build_time_args(losses):
    spec = {"_component_": "sum", "scale": 2.0, "parts": [{"_component_": "dice", "weight": 20}]}
    built = instantiate(spec, registry=losses)
    assert isinstance(built, Sum) and built.scale == 2.0 and built.parts[0].weight == 20
    # positional args and keyword extras come from the code; extras win over the recipe
    built = instantiate({"_component_": f"{HERE}.Sum", "scale": 2.0}, ["given"], scale=3.0)
    assert built.parts == ["given"] and built.scale == 3.0
    assert spec["parts"][0] == {"_component_": "dice", "weight": 20}  # the recipe is left as it was


def test_instantiate_failure_names_the_recipe_line(recipe):
    with pytest.raises(TypeError) as caught:
        instantiate(recipe.config["optimizer"], [torch.zeros(1, requires_grad=True)], path="optimizer",
                    lines=recipe.lines)
    assert "while building torch.optim.Adam for optimizer (r.yaml:1)" in caught.value.__notes__
