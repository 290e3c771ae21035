"""Assemble the exact folder `samunet-tune push` uploads (what `--dry-run` leaves to look at).

Repo layout:

    README.md                  model card (hub/model_card_template.md)
    config.json                architecture (for an adapter: its base's architecture)
    model.safetensors          full model weights, or
    adapter_config.json        LoRA adapter (peft), base_model_name_or_path = the base's Hub id
    adapter_model.safetensors
    recipe.yaml, metrics.json  the training run's resolved recipe and metrics
    plots/*.png                training curves (RUN/logs/plots, from `samunet-tune plot`)
    eval/metrics.json, eval/summary.md, eval/*.png   an evaluation (`samunet-tune eval --out`)
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samunet_tune.hub.files import (
    ALLOWED_SUFFIXES,
    PICKLE_SUFFIXES,
    check_publishable,
    publishable_files,
)
from samunet_tune.hub.source import ADAPTER_WEIGHTS_NAME, PublishSource
from samunet_tune.modeling.weights_io import (
    ADAPTER_CONFIG_NAME,
    CONFIG_NAME,
    WEIGHTS_NAME,
)

CARD_MARKER = "Written by `samunet-tune push`"
FILE_DESCRIPTIONS = {
    CONFIG_NAME: "architecture (SamUNetConfig)",
    WEIGHTS_NAME: "weights (safetensors)",
    ADAPTER_CONFIG_NAME: "LoRA configuration (peft); `base_model_name_or_path` names the base model",
    ADAPTER_WEIGHTS_NAME: "LoRA matrices and the parts trained in full (safetensors)",
    "recipe.yaml": "the resolved training recipe",
    "metrics.json": "training metrics: steps, best and last validation, with baselines",
    "eval/metrics.json": "evaluation report (`samunet-tune eval`)",
    "eval/summary.md": "evaluation summary table",
}


@dataclass
class StagedUpload:
    """The staged folder: `files` (README.md included) is exactly what will be uploaded."""

    folder: Path
    files: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    base_model: str | None = None


def check_repo_name(repo_id: str) -> str:
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as error:
        raise ValueError(f"--repo-id {repo_id!r} is not a valid Hub repo id: {error}") from error
    if repo_id.count("/") != 1:
        raise ValueError(f"--repo-id {repo_id!r}: give ORG/NAME (user or organisation, then the model name)")
    return repo_id


def _hub_id(reference: str, what: str) -> str:
    """A registered model name becomes its published Hub id; a Hub id stays; anything else raises."""
    from samunet_tune.modeling.builders import MODELS

    if reference in MODELS.names():
        hub_id = MODELS.get(reference).pretrained.hf_hub_id
        if hub_id is None:
            raise ValueError(
                f"{what} is the registered model {reference!r}, which has no published weights, so nobody could "
                "load the same base. Publish the exact base first (samunet-tune push BASE_FOLDER --repo-id "
                "ORG/BASE) and pass --base-model ORG/BASE"
            )
        return hub_id
    if Path(reference).exists():
        raise ValueError(
            f"{what} is the local folder {reference!r}, which nobody else can load. Publish it first "
            "(samunet-tune push FOLDER --repo-id ORG/BASE) and pass --base-model ORG/BASE"
        )
    try:
        return check_repo_name(reference)
    except ValueError as error:
        raise ValueError(f"{what} {reference!r} is neither a registered model name nor a Hub repo id ORG/NAME") from error


def resolve_base_model(source: PublishSource, override: str | None = None) -> str | None:
    """The Hub id of the model `source` derives from (required for an adapter; None if unknown)."""
    if override:
        return _hub_id(override, "--base-model")
    if source.is_adapter:
        recorded = (source.adapter_config or {}).get("base_model_name_or_path")
        if not recorded:
            raise ValueError(
                f"{source.weights_dir / ADAPTER_CONFIG_NAME} names no base model; pass --base-model ORG/NAME"
            )
        return _hub_id(str(recorded), f"the adapter's base ({ADAPTER_CONFIG_NAME} base_model_name_or_path)")
    model = (source.recipe or {}).get("model") or {}
    pretrained = model.get("pretrained")
    if pretrained == "hub":
        return _hub_id(str(model.get("name")), "model.name")
    if isinstance(pretrained, str) and not Path(pretrained).exists():
        try:
            return check_repo_name(pretrained)
        except ValueError:
            return None
    return None  # random init, or a local folder: the card says so in words


def _prepare_folder(folder: Path) -> None:
    if folder.exists() and any(folder.iterdir()):
        card = folder / "README.md"
        if not (card.is_file() and CARD_MARKER in card.read_text(encoding="utf-8", errors="replace")):
            raise FileExistsError(
                f"{folder} exists and is not a folder staged by samunet-tune push; remove it or choose another --staging-dir"
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)


def _skip_reason(path: Path) -> str:
    if path.suffix.lower() in PICKLE_SUFFIXES:
        return "a pickle: samunet-tune never publishes pickles"
    if path.suffix.lower() not in ALLOWED_SUFFIXES:
        return f"only {', '.join(ALLOWED_SUFFIXES)} files are published"
    return "not part of the published model"


def stage_upload(
    source: PublishSource,
    repo_id: str,
    staging_dir: str | Path,
    *,
    base_model: str | None = None,
    card_info: dict[str, Any] | None = None,
    template: str | Path | None = None,
) -> StagedUpload:
    """Write the upload folder for `source` into `staging_dir` (replacing an earlier staging)."""
    from samunet_tune.hub.card import build_model_card

    check_repo_name(repo_id)
    hub_base = resolve_base_model(source, base_model or (card_info or {}).get("base_model"))
    folder = Path(staging_dir)
    _prepare_folder(folder)
    staged = StagedUpload(folder=folder, files=[], base_model=hub_base)
    copies: list[tuple[Path, str]] = []

    weights_names = (ADAPTER_WEIGHTS_NAME, CONFIG_NAME) if source.is_adapter else (CONFIG_NAME, WEIGHTS_NAME)
    copies += [(source.weights_dir / name, name) for name in weights_names]
    for path in sorted(source.weights_dir.iterdir()):
        if path.name not in weights_names + (ADAPTER_CONFIG_NAME, "README.md"):
            staged.skipped.append((str(path), _skip_reason(path)))
    if source.run_dir is not None:
        copies += [(source.run_dir / name, name) for name in ("recipe.yaml", "metrics.json") if (source.run_dir / name).is_file()]
        plots = source.run_dir / "logs" / "plots"
        copies += [(path, f"plots/{path.name}") for path in sorted(plots.glob("*.png"))] if plots.is_dir() else []
    if source.eval_dir is not None:
        for path in sorted(source.eval_dir.iterdir()):
            if path.is_file() and path.suffix.lower() in (".json", ".md", ".png"):
                copies.append((path, f"eval/{path.name}"))
            else:
                staged.skipped.append((str(path), _skip_reason(path)))

    for origin, name in copies:
        check_publishable(origin)  # a pickle renamed .safetensors stops here, before anything is written
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(origin, target)
    if source.is_adapter:
        adapter_config = dict(source.adapter_config or {})
        adapter_config["base_model_name_or_path"] = hub_base
        (folder / ADAPTER_CONFIG_NAME).write_text(json.dumps(adapter_config, indent=2, sort_keys=True) + "\n")

    described = [
        (name, _describe(name, source.is_adapter)) for name in publishable_files(folder)
    ]
    card = build_model_card(
        source, repo_id, described, base_model=hub_base, base_reference=hub_base, card_info=card_info, template=template
    )
    card.save(folder / "README.md")
    staged.files = publishable_files(folder)
    return staged


def _describe(name: str, is_adapter: bool) -> str:
    if name == CONFIG_NAME and is_adapter:
        return "the base model's architecture (what the adapter applies to)"
    if name in FILE_DESCRIPTIONS:
        return FILE_DESCRIPTIONS[name]
    if name.startswith("plots/"):
        return "training curve"
    if name.startswith("eval/") and name.endswith(".png"):
        return "evaluation plot"
    return "evaluation file" if name.startswith("eval/") else "file"
