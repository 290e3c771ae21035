"""`samunet-tune RECIPE [key=value ...]`: validate, print or run a training recipe."""

from __future__ import annotations

import sys

import click


@click.command(name="train", context_settings={"ignore_unknown_options": False})
@click.argument("recipe")
@click.argument("overrides", nargs=-1)
@click.option("--validate", "validate_only", is_flag=True, help="Check the recipe (types, names, paths) and exit.")
@click.option("--print-config", is_flag=True, help="Print the fully resolved recipe and exit.")
def train_command(recipe: str, overrides: tuple[str, ...], validate_only: bool, print_config: bool) -> None:
    """Train with RECIPE (a .yaml path or a shipped recipe name) and key=value overrides.

    \b
    Overrides: split on the first '=', nested keys with dots, '~key' deletes.
    Examples:
      samunet-tune recipes/quickstart.yaml
      samunet-tune quickstart max_steps=20 output_dir=outputs/try
      samunet-tune recipes/polyp.yaml model.pretrained=path/to/samunet_vit_b_res34 optimizer.lr=3e-4
      samunet-tune recipes/polyp.yaml --validate
      accelerate launch --multi_gpu --num_processes 2 -m samunet_tune recipes/polyp.yaml
    """
    from samunet_tune.config import RecipeError, dump_config
    from samunet_tune.train.recipe import load_train_recipe

    bad = [item for item in overrides if "=" not in item and not item.startswith("~")]
    if bad:
        raise click.UsageError(f"overrides must be key=value or ~key, got {bad}")
    try:
        loaded, settings = load_train_recipe(recipe, list(overrides))
    except (RecipeError, FileNotFoundError) as error:
        raise click.ClickException(str(error)) from error
    if print_config:
        click.echo(dump_config(loaded.config, header=loaded.header))
        return
    if validate_only:
        click.echo(f"{recipe}: valid")
        return
    from samunet_tune.train.build import PretrainedWeightsMissing
    from samunet_tune.train.trainer import Trainer

    try:
        Trainer(loaded, settings).fit()
    except PretrainedWeightsMissing as error:
        raise click.ClickException(str(error)) from error
    except KeyboardInterrupt:
        sys.exit(130)
