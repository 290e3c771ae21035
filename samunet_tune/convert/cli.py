"""`samunet-tune convert`: outside checkpoints -> a save_pretrained folder."""

from __future__ import annotations

from pathlib import Path

import click


@click.group(name="convert")
def convert_group() -> None:
    """Convert outside checkpoints into a SAM-UNet folder (config.json + model.safetensors).

    \b
    Two source formats:
      reference  the SAM-UNet reference release: torch.save({"model": state_dict,
                 "optimizer": <pickled optimizer>}), keys like
                 image_encoder.sam_img_encoder.*, resnet.stage0.*, adapters_in.*,
                 adapters_bridge.*, embedding_encoder.*, mask_decoder.med_token ...
                 Every key maps 1:1; the ResNet size is read from the keys.
      sam        Segment Anything's own ViT-B checkpoint (sam_vit_b_01ec64.pth, 1024
                 input): initialises the ViT, prompt encoder and decoder transformer,
                 resizing pos_embed and the global blocks' relative positions to the
                 SAM-UNet input size; the conv branch starts random or from ImageNet.

    \b
    Examples:
      samunet-tune convert reference samunet_res34.pth out/samunet_vit_b_res34 --trust-pickle
      samunet-tune convert sam sam_vit_b_01ec64.pth out/init --conv-branch-weights imagenet
    """


@convert_group.command(name="reference")
@click.argument("checkpoint", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("output_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--trust-pickle", is_flag=True, help="Allow unpickling the file (it holds a pickled optimizer; only do this for files you trust).")
@click.option("--model", "model_name", default=None, help="Registered model to build (default: inferred, samunet_vit_b_res34 or _res50).")
def convert_reference(checkpoint: Path, output_dir: Path, trust_pickle: bool, model_name: str | None) -> None:
    """Convert a reference SAM-UNet checkpoint (all keys map 1:1)."""
    from samunet_tune.convert.reference import convert_reference_checkpoint
    from samunet_tune.convert.torch_files import UnsafeCheckpointError

    try:
        model = convert_reference_checkpoint(checkpoint, trust_pickle=trust_pickle, model_name=model_name)
    except UnsafeCheckpointError as error:
        raise click.ClickException(str(error)) from error
    model.save_pretrained(output_dir)
    click.echo(f"converted {len(model.state_dict())} tensors from {checkpoint} -> {output_dir}")


@convert_group.command(name="sam")
@click.argument("checkpoint", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("output_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--model", "model_name", default="samunet_vit_b_res34", show_default=True, help="Registered SAM-UNet to build.")
@click.option("--image-size", type=int, default=None, help="Model input size (default: the model's, 256).")
@click.option(
    "--conv-branch-weights",
    default="none",
    show_default=True,
    help="'imagenet' (torchvision download or cache), a local torchvision ResNet .pth, or 'none' (random).",
)
def convert_sam(checkpoint: Path, output_dir: Path, model_name: str, image_size: int | None, conv_branch_weights: str) -> None:
    """Initialise SAM-UNet from a Segment Anything checkpoint."""
    from samunet_tune.convert.imagenet import PretrainedWeightsUnavailable
    from samunet_tune.convert.sam_checkpoint import convert_sam_checkpoint

    overrides = {} if image_size is None else {"image_size": image_size}
    weights = None if conv_branch_weights == "none" else conv_branch_weights
    try:
        model, report = convert_sam_checkpoint(checkpoint, model_name, conv_branch_weights=weights, **overrides)
    except (PretrainedWeightsUnavailable, ValueError) as error:
        raise click.ClickException(str(error)) from error
    model.save_pretrained(output_dir)
    click.echo(report.summary())
    click.echo(f"saved -> {output_dir}")
