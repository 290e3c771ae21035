"""The `samunet-tune` command. Subcommands load lazily so `--help` answers at once."""

from __future__ import annotations

import importlib

import click

# name -> "module:click object"; each area of the toolkit owns its own CLI module.
SUBCOMMANDS = {
    "convert": "samunet_tune.convert.cli:convert_group",
}


class LazyGroup(click.Group):
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
    Examples:
      samunet-tune convert --help
      samunet-tune data inspect folder ../shared/data/kvasir-seg-mini
    """


def main() -> None:
    cli()
