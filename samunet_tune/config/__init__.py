"""Recipes as data: loading with line numbers, overrides, validation, components, printing.

    recipe = load_recipe("polyp").override(["optimizer.lr=3e-4", "~scheduler"], schema=TrainRecipe)
    settings = validate(recipe.config, TrainRecipe, recipe.lines)          # raises RecipeError
    check_all_components(recipe.config, registries={"model": MODELS}, lines=recipe.lines,
                         provided={"optimizer": ("params",)})
    optimizer = instantiate(recipe.config["optimizer"], model.parameters(), path="optimizer")
    print(dump_config(recipe.config))
"""

from samunet_tune.config.components import (
    check_all_components,
    check_component_args,
    check_name,
    import_dotted,
    instantiate,
    is_component,
    resolve_component,
)
from samunet_tune.config.errors import Problem, RecipeError
from samunet_tune.config.keys import KeyPath, dotted, get_at, key_path
from samunet_tune.config.loading import Recipe, find_recipe, load_recipe, parse_recipe, shipped_recipes
from samunet_tune.config.locations import Location, SourceLines
from samunet_tune.config.overrides import apply_overrides, parse_override
from samunet_tune.config.path_checks import check_paths
from samunet_tune.config.schema import COMPONENT_KEY, Component, validate
from samunet_tune.config.yaml_io import RecipeDumper, RecipeLoader, dump_config, parse_value, parse_yaml

__all__ = [
    "COMPONENT_KEY",
    "Component",
    "KeyPath",
    "Location",
    "Problem",
    "Recipe",
    "RecipeDumper",
    "RecipeError",
    "RecipeLoader",
    "SourceLines",
    "apply_overrides",
    "check_all_components",
    "check_component_args",
    "check_name",
    "check_paths",
    "dotted",
    "dump_config",
    "find_recipe",
    "get_at",
    "import_dotted",
    "instantiate",
    "is_component",
    "key_path",
    "load_recipe",
    "parse_override",
    "parse_recipe",
    "parse_value",
    "parse_yaml",
    "resolve_component",
    "shipped_recipes",
    "validate",
]
