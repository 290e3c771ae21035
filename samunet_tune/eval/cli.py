"""`samunet-tune eval MODEL DATA...` and `samunet-tune plot OUTPUT`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click

# A comma starts a new option only when "key=" follows, so list values like classes=[1,2] survive.
_OPTION_SPLIT = re.compile(r",(?=\s*[A-Za-z_][A-Za-z0-9_]*=)")
DEFAULT_PROTOCOLS = ("box",)


def parse_data_spec(text: str) -> tuple[str, str | None, dict[str, Any]]:
    """``"kvasir-seg:data/kvasir,split=val"`` -> ("kvasir-seg", "data/kvasir", {"split": "val"}).

    ``PLUGIN[:PATH][,key=value...]``. Values are read as YAML (numbers, lists, maps, true/false);
    a value that is not valid YAML (a glob like ``*/img.nii.gz``) stays a string.
    ``PLUGIN:key=value,...`` (no PATH) suits plugins without a location, e.g. synthetic.
    """
    import yaml

    plugin, _, rest = text.partition(":")
    plugin = plugin.strip()
    if not plugin:
        raise click.BadParameter(f"{text!r}: a data spec starts with the plugin name, e.g. kvasir-seg:PATH",
                                 param_hint="DATA")
    parts = [part for part in _OPTION_SPLIT.split(rest) if part.strip()] if rest else []
    location = None
    if parts and not re.match(r"\s*[A-Za-z_][A-Za-z0-9_]*=", parts[0]):
        location = parts.pop(0).strip()
    options: dict[str, Any] = {}
    for part in parts:
        key, _, value = part.partition("=")
        key = key.strip()
        if key in options:
            raise click.BadParameter(f"{text!r}: option {key!r} is given twice", param_hint="DATA")
        try:
            options[key] = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError:
            options[key] = value
    return plugin, location, options


def _dataset_name(plugin: str, location: str | None, options: dict[str, Any], taken: set[str]) -> str:
    name = plugin if location is None else f"{plugin}:{Path(location).name or location}"
    if options.get("split"):
        name += f"[{options['split']}]"
    unique, number = name, 2
    while unique in taken:
        unique, number = f"{name}#{number}", number + 1
    taken.add(unique)
    return unique


def _recipe_section(recipe: str, split: str) -> tuple[dict[str, Any], str]:
    from samunet_tune.config import load_recipe

    config = load_recipe(recipe).config
    data = config.get("data") if isinstance(config.get("data"), dict) else {}
    chosen = split
    if split == "auto":
        chosen = "val" if isinstance(data.get("val"), dict) else "train"
        if chosen == "train":
            click.echo(f"note: {recipe} has no data.val; evaluating on data.train (the training data)", err=True)
    section = data.get(chosen)
    if not isinstance(section, dict) or "plugin" not in section:
        raise click.ClickException(f"{recipe}: has no data.{chosen} section with a plugin to evaluate on")
    return section, chosen


def build_eval_datasets(specs: tuple[str, ...], recipe: str | None, recipe_split: str) -> list:
    """The datasets DATA and --data-recipe name; an empty one is an error."""
    from samunet_tune.data import build_dataset
    from samunet_tune.eval.runner import EvalDataset

    wanted: list[tuple[str, str | None, dict[str, Any], str]] = []
    for spec in specs:
        plugin, location, options = parse_data_spec(spec)
        wanted.append((plugin, location, options, spec))
    if recipe is not None:
        section, split = _recipe_section(recipe, recipe_split)
        options = dict(section.get("options") or {})
        location = options.pop("root", None)
        wanted.append((section["plugin"], location, options, f"{recipe} data.{split}"))
    datasets, taken = [], set()
    for plugin, location, options, origin in wanted:
        samples = build_dataset(plugin, *(() if location is None else (location,)), **options)
        if len(samples) == 0:
            raise click.ClickException(f"{origin}: the dataset is empty (no samples); check the path and options")
        info = {"plugin": plugin, "location": location, "options": options, "spec": origin}
        datasets.append(EvalDataset(_dataset_name(plugin, location, options, taken), samples, info))
    return datasets


def _default_out(model: str) -> Path:
    name = Path(model).name or "model"
    return Path(f"eval-{name.replace('/', '_')}")


@click.command(name="eval")
@click.argument("model")
@click.argument("data", nargs=-1, metavar="[DATA]...")
@click.option("--data-recipe", "recipe", default=None, metavar="RECIPE",
              help="Also evaluate on a recipe's data section (a .yaml path or shipped recipe name).")
@click.option("--recipe-split", type=click.Choice(["auto", "val", "train"]), default="auto", show_default=True,
              help="Which section of --data-recipe: auto is data.val, or data.train when there is no val.")
@click.option("--protocol", "protocols", multiple=True, metavar="PROTOCOL",
              help="box, point, points:K or clicks:N; repeat for several (default: box).")
@click.option("--nsd-tolerance", type=float, default=2.0, show_default=True,
              help="NSD tolerance in mm (in pixels for images without spacing).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: eval-<model name>).")
@click.option("--overwrite", is_flag=True, help="Replace --out if it exists (once the new results are complete).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Evaluate the first N images of each dataset.")
@click.option("--batch-prompts", type=click.IntRange(min=1), default=64, show_default=True,
              help="Most masks decoded per call (all masks of an image share one image encoding).")
@click.option("--checkpoint", type=click.Choice(["final", "best"]), default="final", show_default=True,
              help="For a training output directory: its final/ or best/ model.")
@click.option("--base-model", default=None, help="Base model of a LoRA adapter, instead of the one it records.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random points of points:K.")
@click.option("--device", default=None, help="torch device (default: cuda when available, else cpu).")
@click.option("--progress/--no-progress", default=True, show_default=True, help="Show a progress bar.")
def eval_command(model: str, data: tuple[str, ...], recipe: str | None, recipe_split: str, protocols: tuple[str, ...],
                 nsd_tolerance: float, out: Path | None, overwrite: bool, limit: int | None, batch_prompts: int,
                 checkpoint: str, base_model: str | None, seed: int, device: str | None, progress: bool) -> None:
    """Evaluate MODEL with prompts made from the ground truth, beside trivial baselines.

    \b
    MODEL: a save_pretrained folder, a LoRA adapter folder, a training output
    directory (its final/, or best/ with --checkpoint best) or a Hub repo id.
    DATA: PLUGIN:PATH[,key=value...], plugin options as in `samunet-tune data
    inspect` (values read as YAML). Without DATA, the recipe.yaml of a training
    output directory gives the data (its data.val).

    \b
    Writes to --out: metrics.json (overall, per class/modality/dataset/image,
    per sample), summary.md (model vs box-fill and ellipse baselines per class),
    dice_per_class.png, dice_histogram.png and, for clicks:N, click_curve.png.

    \b
    Examples:
      samunet-tune eval outputs/polyp kvasir-seg:../shared/data/kvasir-seg-mini,split=val,val_fraction=0.2
      samunet-tune eval outputs/polyp --data-recipe recipes/polyp.yaml --checkpoint best
      samunet-tune eval path/to/model 'nifti:../shared/data/brats-nifti-mini,images=*/Flair_subtrMeanDivStd.nii.gz,labels={dir}/OTMultiClass.nii.gz,modality=mr'
      samunet-tune eval path/to/model synthetic:num_samples=20,modality=mixed --protocol box --protocol clicks:5
    """
    from samunet_tune.config import RecipeError
    from samunet_tune.data.errors import DataError
    from samunet_tune.eval.protocols import Protocol
    from samunet_tune.inference.cli import check_model_files, default_device, load_predictor
    from samunet_tune.inference.staging import check_output_free, staged_output
    from samunet_tune.registry import RegistryError

    try:
        chosen = [Protocol.parse(text, seed) for text in (protocols or DEFAULT_PROTOCOLS)]
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--protocol") from error
    if len({p.name for p in chosen}) != len(chosen):
        raise click.BadParameter("the same protocol is given twice", param_hint="--protocol")
    out = out or _default_out(model)
    try:
        check_output_free(out, overwrite)
    except FileExistsError as error:
        raise click.ClickException(str(error)) from error
    check_model_files(model, checkpoint)
    if not data and recipe is None:
        recipe = _recipe_of_run(model)
    try:
        datasets = build_eval_datasets(data, recipe, recipe_split)
    except (RegistryError, RecipeError, DataError, TypeError, ValueError, FileNotFoundError) as error:
        raise click.ClickException(str(error)) from error
    predictor = load_predictor(model, checkpoint, base_model, device or default_device())
    report = _run(predictor, datasets, chosen, nsd_tolerance, limit, batch_prompts, progress, model,
                  {"checkpoint": checkpoint, "limit": limit, "batch_prompts": batch_prompts, "seed": seed})
    from samunet_tune.eval.plots import plot_report
    from samunet_tune.eval.report import summary_markdown, write_report

    with staged_output(out, overwrite) as staging:
        names = [p.name for p in write_report(report, staging) + plot_report(report, staging)]
    click.echo(summary_markdown(report))
    click.echo(f"wrote {', '.join(names)} to {out}")


def _recipe_of_run(model: str) -> str:
    from samunet_tune.inference.loading import is_run_directory

    recipe = Path(model) / "recipe.yaml"
    if is_run_directory(Path(model)) and recipe.is_file():
        click.echo(f"no DATA given: using the data of {recipe}", err=True)
        return str(recipe)
    raise click.UsageError("no data to evaluate on: give DATA (e.g. kvasir-seg:PATH) or --data-recipe RECIPE")


def _run(predictor, datasets, protocols, nsd_tolerance, limit, batch_prompts, progress, model, settings) -> dict:
    from samunet_tune.data.errors import DataError
    from samunet_tune.eval.report import build_report
    from samunet_tune.eval.runner import EvaluationInputError, evaluate

    try:
        run = evaluate(predictor, datasets, protocols, nsd_tolerance, limit, batch_prompts, progress)
        return build_report(run, model, settings)
    except (DataError, EvaluationInputError) as error:
        raise click.ClickException(str(error)) from error


@click.command(name="plot")
@click.argument("output", type=click.Path(file_okay=False, path_type=Path))
def plot_command(output: Path) -> None:
    """Draw the training curves of a run directory into OUTPUT/logs/plots/.

    \b
    loss.png (training loss per step) and, when validation ran, val_dice.png
    (validation Dice/IoU with the box-fill and ellipse baselines).
    Example:
      samunet-tune plot outputs/quickstart
    """
    from samunet_tune.eval.plots import plot_run

    try:
        written = plot_run(output)
    except (FileNotFoundError, ValueError) as error:
        raise click.ClickException(str(error)) from error
    for path in written:
        click.echo(str(path))
