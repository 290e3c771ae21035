"""`samunet-tune push`: publish a training run or a model folder to the Hugging Face Hub."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click


def _read_card_info(path: Path | None) -> dict:
    if path is None:
        return {}
    import yaml

    from samunet_tune.hub.card import check_card_info

    try:
        info = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise click.BadParameter(f"{path}: not valid YAML ({error})", param_hint="--card-info") from error
    if not isinstance(info, dict):
        raise click.BadParameter(f"{path}: expected a mapping of card fields", param_hint="--card-info")
    try:
        return check_card_info(info, str(path))
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--card-info") from error


def _print_staged(staged) -> None:
    for origin, reason in staged.skipped:
        click.echo(f"skipped {origin}: {reason}", err=True)
    click.echo(f"{len(staged.files)} files in {staged.folder}:")
    for name in staged.files:
        size = (staged.folder / name).stat().st_size
        click.echo(f"  {name}  ({size:,} bytes)")


@click.command(name="push")
@click.argument("source", metavar="OUTPUT_OR_MODEL_DIR", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--repo-id", required=True, help="Hub repository ORG/NAME (naming scheme: hub/README.md).")
@click.option("--private", is_flag=True, help="Create the repository private (an existing repo keeps its visibility).")
@click.option("--dry-run", is_flag=True, help="Write the exact upload folder and list it; upload nothing.")
@click.option("--revision", default=None, help="Branch to commit to (created if missing); default main.")
@click.option("--commit-message", default=None, help="Commit message (default: 'Upload SAM-UNet with samunet-tune push').")
@click.option("--create-pr", is_flag=True, help="Open a pull request instead of committing to the branch.")
@click.option("--checkpoint", type=click.Choice(["final", "best"]), default="final", show_default=True,
              help="For a training output directory: publish its final/ or best/ weights.")
@click.option("--eval", "eval_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="A `samunet-tune eval --out` folder for the evaluation table and plots (default: RUN/eval if present).")
@click.option("--base-model", default=None,
              help="Hub id (or registered name) of the base model; required for an adapter whose base is a local folder.")
@click.option("--card-info", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="YAML of card fields to add or replace (title, summary, training_text, data, ...; see docs/hub.md).")
@click.option("--template", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A model-card template instead of hub/model_card_template.md.")
@click.option("--staging-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the upload folder (default with --dry-run: hub-upload/ORG--NAME; else a temporary folder).")
def push_command(source: Path, repo_id: str, private: bool, dry_run: bool, revision: str | None,
                 commit_message: str | None, create_pr: bool, checkpoint: str, eval_dir: Path | None,
                 base_model: str | None, card_info: Path | None, template: Path | None, staging_dir: Path | None) -> None:
    """Publish OUTPUT_OR_MODEL_DIR to the Hub as --repo-id.

    \b
    OUTPUT_OR_MODEL_DIR: a training output directory (its final/ or best/, with
    recipe.yaml, metrics.json, logs/plots and eval/), a save_pretrained folder, or a
    LoRA adapter folder. Uploaded: config.json, model.safetensors (or the adapter
    files), recipe.yaml, metrics.json, plots, eval/ and a model card (README.md)
    from hub/model_card_template.md. Only safetensors, JSON, YAML, Markdown and
    PNG files are uploaded; pickles never. Log in first: `hf auth login` (or HF_TOKEN).

    \b
    Examples:
      samunet-tune push outputs/polyp --repo-id me/samunet_vit_b_res34-kvasir-seg-conv-branch --dry-run
      samunet-tune push outputs/polyp --repo-id me/samunet_vit_b_res34-kvasir-seg-conv-branch --private
      samunet-tune push outputs/polyp-lora --repo-id me/samunet_vit_b_res34-kvasir-seg-lora-vit --checkpoint best
      samunet-tune push out/samunet_vit_b_res34 --repo-id samunet-tune/samunet_vit_b_res34 --card-info hub/reference_card.yaml
    """
    from samunet_tune.hub.files import UnpublishableFileError
    from samunet_tune.hub.source import find_source
    from samunet_tune.hub.staging import stage_upload

    info = _read_card_info(card_info)
    if not dry_run:
        from huggingface_hub import constants

        if constants.is_offline_mode():
            raise click.ClickException(
                f"HF_HUB_OFFLINE is set, so nothing can be uploaded to {repo_id}; unset it to push, or use --dry-run"
            )
    if dry_run and staging_dir is None:
        staging_dir = Path("hub-upload") / repo_id.replace("/", "--")
    with tempfile.TemporaryDirectory(prefix="samunet-tune-push-") as scratch:
        folder = staging_dir or Path(scratch) / "upload"
        try:
            found = find_source(source, checkpoint=checkpoint, eval_dir=eval_dir)
            staged = stage_upload(found, repo_id, folder, base_model=base_model, card_info=info, template=template)
        except (FileNotFoundError, FileExistsError, UnpublishableFileError, ValueError) as error:
            raise click.ClickException(str(error)) from error
        _print_staged(staged)
        if dry_run:
            click.echo(f"dry run: nothing uploaded. Look at {staged.folder}, then run the same command without --dry-run.")
            return
        _push(staged.folder, repo_id, private, revision, commit_message, create_pr)


def _push(folder: Path, repo_id: str, private: bool, revision: str | None, commit_message: str | None, create_pr: bool) -> None:
    from huggingface_hub.errors import HfHubHTTPError

    from samunet_tune.hub.upload import push_folder
    from samunet_tune.modeling.weights_io import HubUnavailableError

    try:
        commit = push_folder(folder, repo_id, private=private, revision=revision, commit_message=commit_message,
                             create_pr=create_pr)
    except HfHubHTTPError as error:
        status = getattr(getattr(error, "response", None), "status_code", None)
        hint = " Log in with `hf auth login` (a token with write access) or set HF_TOKEN." if status in (401, 403) else ""
        raise click.ClickException(f"the Hub refused the upload to {repo_id}: {error}.{hint}") from error
    except HubUnavailableError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"pushed {repo_id}: {getattr(commit, 'pr_url', None) or commit.commit_url}")
