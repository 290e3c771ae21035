"""Small builders that turn validated recipe sections into objects."""

from __future__ import annotations

from samunet_tune.train.recipe import ModelSection, TrainRecipe


class PretrainedWeightsMissing(RuntimeError):
    """The recipe asks for pretrained weights that cannot be had here."""


def build_model_for_recipe(section: ModelSection):
    """The recipe's model; pretrained weights that cannot be fetched stop us before training."""
    from samunet_tune.modeling.builders import MODELS, create_model
    from samunet_tune.modeling.weights_io import HubUnavailableError

    if section.pretrained is None:
        return create_model(section.name, **section.overrides)
    source = True if section.pretrained == "hub" else section.pretrained
    try:
        return create_model(section.name, pretrained=source)
    except (HubUnavailableError, FileNotFoundError, OSError) as error:
        hub_id = MODELS.get(section.name).pretrained.hf_hub_id
        raise PretrainedWeightsMissing(
            f"model.pretrained={section.pretrained}: the pretrained SAM-UNet weights for {section.name!r} "
            f"({hub_id if source is True else source}) could not be loaded: {error}\n"
            f"Point the recipe at a local copy: model.pretrained=PATH (a save_pretrained folder, e.g. made with "
            f"`samunet-tune convert reference|sam ...`), or train from random weights with model.pretrained=null."
        ) from error


def build_plugin_dataset(section):
    from samunet_tune.data import build_dataset

    return build_dataset(section.plugin, **section.options)


def build_datasets(settings: TrainRecipe, image_size: int):
    """(prompted training set, validation Sequence[Sample] or None)."""
    from samunet_tune.data.training import PromptedDataset

    data = settings.data
    train = PromptedDataset(
        build_plugin_dataset(data.train),
        image_size=image_size,
        masks_per_image=data.masks_per_image,
        prompt=data.prompt,
        augment=data.augment,
        seed=settings.seed,
        **data.prompt_options,
    )
    val = None
    if data.val is not None:
        val = build_plugin_dataset(data.val)
        if data.val_max_samples is not None and len(val) > data.val_max_samples:
            from torch.utils.data import Subset

            val = Subset(val, range(data.val_max_samples))  # the validation budget: first n samples
    return train, val

