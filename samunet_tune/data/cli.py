"""`samunet-tune data ...`: commands to look at datasets before training on them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from samunet_tune.data import build_dataset


def parse_plugin_arguments(arguments: tuple[str, ...]) -> tuple[str | None, dict[str, Any]]:
    """``("data/kvasir", "threshold=100", "classes={1: polyp}")`` -> (location, options).

    The one argument without ``=`` is the data location; ``key=value`` pairs (split on the first
    ``=``) become plugin options, values read as YAML (numbers, lists, maps, true/false, null).
    """
    import yaml

    location, options = None, {}
    for argument in arguments:
        if "=" not in argument:
            if location is not None:
                raise click.BadParameter(f"two data locations given ({location!r} and {argument!r}); "
                                         "options are written key=value", param_hint="PATH")
            location = argument
            continue
        key, _, text = argument.partition("=")
        if not key.isidentifier():
            raise click.BadParameter(f"{argument!r}: option names are identifiers, as in threshold=100")
        try:
            options[key] = yaml.safe_load(text) if text else ""
        except yaml.YAMLError as error:
            raise click.BadParameter(f"{argument!r}: the value is not valid YAML ({error})") from error
    return location, options


@click.group(name="data")
def data() -> None:
    """Look at and check datasets."""


@data.command("inspect")
@click.argument("plugin")
@click.argument("arguments", nargs=-1, metavar="[PATH] [KEY=VALUE]...")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Contact sheet PNG to write (default: inspect-PLUGIN.png).")
@click.option("--num", type=int, default=8, show_default=True, help="Samples on the contact sheet.")
@click.option("--limit", type=int, default=None, help="Summarise only the first N samples.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the simulated prompts.")
def inspect_command(plugin: str, arguments: tuple[str, ...], out: Path | None, num: int, limit: int | None,
                    seed: int) -> None:
    """Summarise a dataset and draw a contact sheet of it.

    PLUGIN is a dataset plugin name (folder, kvasir-seg, sa-med2d, nifti, dicom, hf, synthetic,
    or one installed by another package); PATH is the data location; KEY=VALUE pairs are plugin
    options, e.g.

        samunet-tune data inspect kvasir-seg ../shared/data/kvasir-seg-mini split=val
    """
    from samunet_tune.data.inspect import contact_sheet, summarize
    from samunet_tune.registry import RegistryError

    location, options = parse_plugin_arguments(arguments)
    args = () if location is None else (location,)
    try:
        dataset = build_dataset(plugin, *args, **options)
    except (RegistryError, TypeError, ValueError, FileNotFoundError) as error:
        raise click.ClickException(str(error)) from error
    if len(dataset) == 0:
        raise click.ClickException(f"{plugin} {location or ''}: the dataset is empty")
    click.echo(f"{plugin} {location or ''}".rstrip())
    click.echo(summarize(dataset, limit=limit).format())
    written = contact_sheet(dataset, out or Path(f"inspect-{plugin}.png"), num=num, seed=seed)
    click.echo(f"contact sheet: {written}")


# The name the main CLI attaches (samunet_tune.cli.SUBCOMMANDS["data"]).
data_group = data
