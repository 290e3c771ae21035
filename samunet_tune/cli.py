"""The `samunet-tune` command. Subcommands load lazily so `--help` answers at once."""

from __future__ import annotations

import importlib

import click

# name -> "module:click object"; each area of the toolkit owns its own CLI module.
SUBCOMMANDS = {
    "convert": "samunet_tune.convert.cli:convert_group",
    "data": "samunet_tune.data.cli:data_group",
    "eval": "samunet_tune.eval.cli:eval_command",
    "plot": "samunet_tune.eval.cli:plot_command",
    "predict": "samunet_tune.inference.cli:predict_command",
    "push": "samunet_tune.hub.cli:push_command",
    "train": "samunet_tune.train.cli:train_command",
}


class LazyGroup(click.Group):
    """Subcommands imported on first use; a first argument that is no subcommand is a recipe,
    so `samunet-tune RECIPE key=value ...` means `samunet-tune train RECIPE key=value ...`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.list_commands(ctx):
            args = ["train", *args]
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(SUBCOMMANDS))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in SUBCOMMANDS:
            module_name, _, attribute = SUBCOMMANDS[name].partition(":")
            return getattr(importlib.import_module(module_name), attribute)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="samunet-tune")
def cli() -> None:
    """samunet-tune: fine-tune, evaluate and publish SAM-UNet for medical image segmentation.

    \b
    Train with `samunet-tune RECIPE [key=value ...]` (see `samunet-tune train --help`).

    \b
    Examples:
      samunet-tune recipes/quickstart.yaml
      samunet-tune recipes/polyp.yaml max_steps=100 output_dir=outputs/polyp
      samunet-tune convert --help
      samunet-tune data inspect folder ../shared/data/kvasir-seg-mini
    """


def main() -> None:
    cli()
