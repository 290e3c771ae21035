"""`samunet-tune predict MODEL INPUT OUTPUT`."""

from __future__ import annotations

import warnings
from pathlib import Path

import click


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def check_device(device: str) -> None:
    """A device string torch understands and this machine has, or a ClickException."""
    import torch

    try:
        kind = torch.device(device).type
    except (RuntimeError, ValueError) as error:
        raise click.ClickException(f"--device {device!r} is not a torch device (e.g. cpu, cuda, cuda:1, mps)") from error
    if kind == "cuda" and not torch.cuda.is_available():
        raise click.ClickException(f"--device {device}: no CUDA GPU is available here; use --device cpu")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise click.ClickException(f"--device {device}: MPS is not available here; use --device cpu")


def check_model_files(model: str, checkpoint: str) -> None:
    """Fail on missing model files before any data is read (the weights load later)."""
    from samunet_tune.inference.loading import ModelLoadError, resolve_model_folder

    try:
        resolve_model_folder(model, checkpoint)
    except (ModelLoadError, FileNotFoundError) as error:
        raise click.ClickException(f"cannot load MODEL {model}: {error}") from error


def load_predictor(model: str, checkpoint: str, base_model: str | None, device: str):
    """A SamUNetPredictor for MODEL, or a ClickException saying why it cannot be loaded."""
    from samunet_tune.inference.loading import ModelLoadError, load_model_for_inference
    from samunet_tune.modeling.predictor import SamUNetPredictor
    from samunet_tune.modeling.weights_io import HubUnavailableError, WeightsError

    check_device(device)
    try:
        loaded = load_model_for_inference(model, checkpoint=checkpoint, base_model=base_model, device=device)
    except (ModelLoadError, FileNotFoundError, HubUnavailableError, WeightsError, ValueError) as error:
        raise click.ClickException(f"cannot load MODEL {model}: {error}") from error
    return SamUNetPredictor(loaded)


def _window(text: str | None):
    if text is None:
        return None
    if "," in text:
        try:
            return [float(v) for v in text.split(",")]
        except ValueError as error:
            raise click.BadParameter(f"{text!r}: a window is a preset name or LEVEL,WIDTH", param_hint="--window") from error
    return text


@click.command(name="predict")
@click.argument("model")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.argument("output", type=click.Path(file_okay=False, path_type=Path))
@click.option("--prompts", "prompt_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="JSON or CSV file of boxes/points per image (per slice for volumes).")
@click.option("--prompts-from-masks", "mask_path", type=click.Path(path_type=Path), default=None,
              help="Ground-truth mask file or folder: one tight box per object; metrics are reported too.")
@click.option("--clip-boxes", is_flag=True, help="Clip boxes that stick out of the image (with a warning) instead of failing.")
@click.option("--axis", type=click.IntRange(0, 2), default=2, show_default=True, help="NIfTI: the voxel axis to slice along.")
@click.option("--window", default=None, help="Volumes: CT window preset (abdomen, lung, bone, brain, ...) or LEVEL,WIDTH; "
              "default: the DICOM header window, else the 0.5-99.5 percentiles.")
@click.option("--nsd-tolerance", type=float, default=2.0, show_default=True, help="NSD tolerance in mm (with masks).")
@click.option("--batch-prompts", type=click.IntRange(min=1), default=64, show_default=True,
              help="Most prompts decoded per call (all prompts of an image share one image encoding).")
@click.option("--checkpoint", type=click.Choice(["final", "best"]), default="final", show_default=True,
              help="For a training output directory: its final/ or best/ model.")
@click.option("--base-model", default=None, help="Base model of a LoRA adapter, instead of the one it records.")
@click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists (once the new one is complete).")
@click.option("--device", default=None, help="torch device (default: cuda when available, else cpu).")
@click.option("--progress/--no-progress", default=True, show_default=True, help="Show a progress bar.")
def predict_command(model: str, input_path: Path, output: Path, prompt_file: Path | None, mask_path: Path | None,
                    clip_boxes: bool, axis: int, window: str | None, nsd_tolerance: float, batch_prompts: int,
                    checkpoint: str, base_model: str | None, overwrite: bool, device: str | None,
                    progress: bool) -> None:
    """Segment INPUT with MODEL from given prompts; write masks and overlays to OUTPUT.

    \b
    MODEL: a save_pretrained folder, a LoRA adapter folder, a training output
    directory or a Hub repo id. INPUT: an image, a folder of images, a NIfTI
    volume (.nii/.nii.gz) or a DICOM series folder.
    Prompts: --prompts FILE (JSON or CSV, see docs/evaluation.md), or
    --prompts-from-masks (ground truth -> one tight box per object).

    \b
    OUTPUT holds masks/ (a PNG per prompt label for images, a NIfTI label volume
    with the input's affine for volumes), overlays/ (image + mask outline +
    prompt) and predictions.json (prompts, areas, metrics against the masks).
    It appears only when complete.

    \b
    Examples:
      samunet-tune predict outputs/polyp polyp.jpg out/ --prompts boxes.json
      samunet-tune predict outputs/polyp ../shared/data/kvasir-seg-mini/images out/ --prompts-from-masks ../shared/data/kvasir-seg-mini/masks
      samunet-tune predict model/ case.nii.gz out/ --prompts-from-masks labels.nii.gz --axis 2
      samunet-tune predict model/ ct_series/ out/ --prompts slices.csv --window abdomen
    """
    from samunet_tune.data.errors import DataError
    from samunet_tune.inference.inputs import InputError, read_input
    from samunet_tune.inference.mask_prompts import prompts_from_masks
    from samunet_tune.inference.prompt_files import PromptError, read_prompt_file
    from samunet_tune.inference.staging import check_output_free, staged_output

    if (prompt_file is None) == (mask_path is None):
        raise click.UsageError("give the prompts: --prompts FILE or --prompts-from-masks MASKS (one of them)")
    check_model_files(model, checkpoint)
    try:
        check_output_free(output, overwrite)
        source = read_input(input_path, axis=axis, window=_window(window))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            if prompt_file is not None:
                prompts = read_prompt_file(prompt_file, source, clip_boxes)
            else:
                prompts = prompts_from_masks(mask_path, source)
        for warning in caught:
            click.echo(f"warning: {warning.message}", err=True)
        if mask_path is not None and source.is_volume and source.spacing is None:
            raise InputError(f"{input_path}: the volume has no valid in-plane spacing (header pixdim/PixelSpacing is "
                             "zero or missing), so HD95 and NSD against the masks cannot be in mm; fix the header")
    except (InputError, PromptError, DataError, FileExistsError, ValueError) as error:
        raise click.ClickException(str(error)) from error
    from samunet_tune.inference.predict import run_prediction

    predictor = load_predictor(model, checkpoint, base_model, device or default_device())
    with staged_output(output, overwrite) as staging:
        manifest = run_prediction(predictor, source, prompts, staging, batch_prompts, nsd_tolerance, model, progress)
    count = sum(len(frame["prompts"]) for frame in manifest["frames"])
    click.echo(f"{count} mask(s) on {manifest['frames_with_prompts']} {'slice' if source.is_volume else 'image'}(s) "
               f"-> {output}" + (f" ({manifest['volume_mask']})" if manifest["volume_mask"] else ""))
