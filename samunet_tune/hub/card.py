"""The model card: metadata (huggingface_hub ModelCardData + EvalResult) and the text rendered
from hub/model_card_template.md, and an offline check of the metadata.

The Hub's own validation (`ModelCard.validate`, POST /api/validate-yaml) needs the network; it
also runs inside `HfApi.create_commit` when README.md is uploaded. Offline, `check_card` runs
what huggingface_hub itself does when it reads a card: parse the YAML block, build
ModelCardData (`ignore_metadata_errors=False`: a malformed model-index raises), turn model-index
back into EvalResults, and check that a save/load round trip keeps the metadata.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path
from typing import Any

from samunet_tune.hub.datasets import dataset_entries, hub_dataset_ids
from samunet_tune.hub.evaluation import (
    EvaluationSummary,
    eval_results,
    summarise_evaluation,
)
from samunet_tune.hub.files import tensor_count
from samunet_tune.hub.source import ADAPTER_WEIGHTS_NAME, PublishSource
from samunet_tune.modeling.weights_io import WEIGHTS_NAME

TEMPLATE_NAME = "model_card_template.md"
LIBRARY_NAME = "samunet-tune"
BASE_TAGS = ["medical-imaging", "image-segmentation", "segment-anything", "sam-unet", "samunet-tune"]

SAM_UNET_CITATION = """@article{yang2024samunet,
  title   = {{SAM-UNet}: Enhancing Zero-Shot Segmentation of {SAM} for Universal Medical Images},
  author  = {Yang, Sihan and Bi, Haixia and Zhang, Hai and Sun, Jian},
  journal = {arXiv preprint arXiv:2408.09886v1},
  year    = {2024},
  url     = {https://arxiv.org/abs/2408.09886v1}
}"""
SAM_CITATION = """@inproceedings{kirillov2023segment,
  title     = {Segment Anything},
  author    = {Kirillov, Alexander and Mintun, Eric and Ravi, Nikhila and Mao, Hanzi and Rolland, Chloe and Gustafson, Laura and Xiao, Tete and Whitehead, Spencer and Berg, Alexander C. and Lo, Wan-Yen and Doll{\\'a}r, Piotr and Girshick, Ross},
  booktitle = {Proceedings of the IEEE/CVF International Conference on Computer Vision (ICCV)},
  year      = {2023}
}"""
DEFAULT_LICENSE_TEXT = (
    "The weights are released under the Apache License 2.0, like samunet-tune and Segment Anything. "
    "The data they were trained and evaluated on have their own terms (see Training), which may restrict "
    "what you may do with the model: check them before any use."
)
STRATEGY_SUMMARIES = {
    "conv-branch": "the ViT keeps SAM's weights (frozen); the ResNet branch, fusion adapters, bridges, neck "
    "upsampler, prompt encoder and mask decoder are trained (the paper's setup)",
    "lora-vit": "LoRA adapters (peft) in the frozen ViT's linear layers, plus the parts named in `train_also`",
    "decoder-only": "the whole image side is frozen; the prompt encoder and mask decoder are trained",
    "full": "every parameter is trained",
}
# Keys a --card-info YAML file may set; anything else is a typo and is refused.
CARD_INFO_KEYS = (
    "title", "summary", "training_text", "reported_results", "extra_notes", "datasets", "data",
    "license", "license_name", "license_link", "license_text", "tags", "base_model", "citations",
)


def template_text(path: str | Path | None = None) -> str:
    """The card template: `path`, else hub/model_card_template.md (installed as samunet_tune.hub.templates)."""
    if path is not None:
        return Path(path).read_text(encoding="utf-8")
    try:
        return importlib.resources.files("samunet_tune.hub.templates").joinpath(TEMPLATE_NAME).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        # A source checkout whose editable install predates the package mapping.
        return (Path(__file__).resolve().parents[2] / "hub" / TEMPLATE_NAME).read_text(encoding="utf-8")


def check_card_info(info: dict[str, Any], where: str = "card info") -> dict[str, Any]:
    unknown = sorted(set(info) - set(CARD_INFO_KEYS))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; allowed: {', '.join(CARD_INFO_KEYS)}")
    return info


def _architecture_rows(config: dict[str, Any], source: PublishSource, base_reference: str | None) -> list[tuple[str, str]]:
    from samunet_tune.modeling.builders import MODELS

    size = config.get("image_size")
    quarter = size // 4 if isinstance(size, int) else "?"
    registered = [name for name in MODELS.names() if MODELS.get(name).build_config().to_dict() == config]
    architecture = f"SAM-UNet: SAM ViT image encoder + `{config.get('conv_branch')}` convolutional branch"
    if registered:
        architecture += f" (registered as `{registered[0]}`)"
    vit = (
        f"width {config.get('vit_embed_dim')}, {config.get('vit_depth')} blocks, {config.get('vit_num_heads')} heads, "
        f"windows of {config.get('vit_window_size')}, global attention in blocks "
        + ", ".join(str(i) for i in config.get("vit_global_attn_indexes", []))
    )
    decoder = (
        f"two-way transformer (depth {config.get('decoder_depth')}), one output token, "
        f"multi-scale features at {quarter}x{quarter}"
    )
    rows = [
        ("Architecture", architecture),
        ("Input", f"{size}x{size} RGB, longest side resized and zero-padded, SAM pixel normalisation; box or point prompts"),
        ("Vision transformer", vit),
        ("Mask decoder", decoder),
        ("Output", "one mask logit map per prompt at a quarter of the input size, upsampled to the image"),
    ]
    if source.is_adapter:
        adapter = (
            f"{tensor_count(source.weights_dir / ADAPTER_WEIGHTS_NAME):,} values (LoRA matrices and the parts "
            f"trained in full) on top of `{base_reference}`"
        )
        rows.append(("Adapter", adapter))
    else:
        rows.append(("Weights", f"{tensor_count(source.weights_dir / WEIGHTS_NAME):,} values (parameters and buffers)"))
    return rows


def _strategy_text(name: str | None, options: dict[str, Any]) -> str:
    if not name:
        return "not recorded"
    summary = STRATEGY_SUMMARIES.get(name)
    if summary is None:
        from samunet_tune.strategies import strategy_class

        try:
            summary = ((strategy_class(name).__doc__ or "").strip().splitlines() or [""])[0]
        except (KeyError, TypeError, ImportError):  # a third-party strategy that is not installed here
            summary = ""
    shown = ", ".join(f"{key}={value}" for key, value in options.items())
    return f"`{name}`" + (f" ({shown})" if shown else "") + (f": {summary}" if summary else "")


def _training_rows(source: PublishSource, base_model: str | None) -> list[tuple[str, str]]:
    recipe, metrics = source.recipe or {}, source.train_metrics or {}
    if not recipe and not metrics:
        return []
    model, data, train = recipe.get("model") or {}, recipe.get("data") or {}, recipe.get("train") or {}
    strategy = recipe.get("strategy") or {}
    pretrained = model.get("pretrained")
    if pretrained in (None, "null"):
        start = "random initialisation"
    elif base_model:
        start = f"[{base_model}](https://huggingface.co/{base_model})"
    else:
        start = f"local weights (`{pretrained}`)"
    prompts = f"{data.get('prompt', 'box')} prompts, masks per image: {data.get('masks_per_image', '?')}"
    if data.get("augment"):
        prompts += f", augmentation {data['augment']}"
    steps = (
        f"{metrics.get('global_step', '?')} (epochs completed: {metrics.get('epochs_completed', '?')}); batch of "
        f"{data.get('batch_size', '?')} images per process, processes: {metrics.get('world_size', 1)}, "
        f"gradient accumulation: {train.get('gradient_accumulation_steps', 1)}"
    )
    rows = [
        ("Started from", f"`{model.get('name', '?')}`, {start}"),
        ("Strategy", _strategy_text(strategy.get("name") or metrics.get("strategy"), strategy.get("options") or {})),
        ("Prompts", prompts),
        ("Optimizer steps", steps),
        ("Optimizer", _component(recipe.get("optimizer"))),
        ("Schedule", _component(recipe.get("scheduler")) if recipe.get("scheduler") else "constant"),
        ("Loss", _component(recipe.get("loss")) if recipe.get("loss") else "default"),
        ("Precision", str(train.get("mixed_precision", "no"))),
        ("Seed", str(recipe.get("seed", "?"))),
        ("Checkpoint", f"`{source.checkpoint}/`" + (" (best validation " + _best_text(metrics) + ")"
                                                   if source.checkpoint == "best" else " (end of training)")),
        ("Recipe", "`recipe.yaml` in this repository (rerun: `samunet-tune recipe.yaml`)"),
    ]
    return rows


def _best_text(metrics: dict[str, Any]) -> str:
    best = metrics.get("best") or {}
    value = best.get("value")
    shown = f"{value:.4f}" if isinstance(value, (int, float)) else "?"
    return f"{best.get('metric', '?')} {shown} at step {best.get('step', '?')}"


def _component(section: Any) -> str:
    if not isinstance(section, dict):
        return str(section)
    arguments = ", ".join(f"{key}={value}" for key, value in section.items() if key != "_component_")
    return f"`{section.get('_component_', '?')}`" + (f" ({arguments})" if arguments else "")


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.4f}"


def _evaluation_context(summary: EvaluationSummary | None) -> dict[str, Any] | None:
    if summary is None:
        return None
    rows = [
        {"group": row.group, "metric": "Dice" if row.metric == "dice" else "IoU", "model": _number(row.model),
         "box": _number(row.box), "ellipse": _number(row.ellipse), "count": "–" if row.count is None else row.count}
        for row in summary.rows
    ]
    return {"description": summary.description, "group_label": summary.group_label, "rows": rows,
            "verdicts": [_verdict(row) for row in summary.rows if row.headline and row.metric == "dice"]}


def _verdict(row) -> str:
    """One sentence per headline Dice: does the model beat the better trivial baseline?"""
    baselines = [(value, name) for value, name in ((row.box, "box filled"), (row.ellipse, "ellipse in box")) if value is not None]
    where = row.group.split(":")[0]
    if row.model is None or not baselines:
        return f"`{where}`: no baseline was recorded next to the model's Dice."
    best, name = max(baselines)
    if row.model > best:
        return f"`{where}`: mean Dice {row.model:.4f} beats both trivial baselines (the better one, {name}, scores {best:.4f})."
    return (
        f"**Warning** `{where}`: mean Dice {row.model:.4f} does not beat the trivial \"{name}\" baseline ({best:.4f}); "
        "on this data the model does no better than painting the prompt box."
    )


def load_snippet(repo_id: str, is_adapter: bool) -> str:
    if is_adapter:
        return (
            "from samunet_tune import SamUNetPredictor\n"
            "from samunet_tune.hub import load_pretrained\n\n"
            f'model = load_pretrained("{repo_id}", merge=True)  # loads the base model first, then the adapter\n'
            "predictor = SamUNetPredictor(model)\n"
            "predictor.set_image(image)  # HxWx3 uint8 RGB\n"
            "mask, low_res_logits = predictor.predict(box=[x0, y0, x1, y1])"
        )
    return (
        "from samunet_tune import SamUNet, SamUNetPredictor\n\n"
        f'model = SamUNet.from_pretrained("{repo_id}")\n'
        "predictor = SamUNetPredictor(model)\n"
        "predictor.set_image(image)  # HxWx3 uint8 RGB\n"
        "mask, low_res_logits = predictor.predict(box=[x0, y0, x1, y1])"
    )


def build_model_card(
    source: PublishSource,
    repo_id: str,
    files: list[tuple[str, str]],
    *,
    base_model: str | None = None,
    base_reference: str | None = None,
    card_info: dict[str, Any] | None = None,
    template: str | Path | None = None,
):
    """The rendered huggingface_hub ModelCard.

    Args:
        files: (path in the repo, description) of every other file uploaded beside the card.
        base_model: Hub id of the model this one derives from (metadata `base_model`).
        base_reference: what an adapter loads as its base (its adapter_config.json value).
        card_info: values from --card-info (CARD_INFO_KEYS) that replace or add to what the run says
            (its `base_model` is resolved by the caller, see `staging.resolve_base_model`).
    """
    from huggingface_hub import ModelCard, ModelCardData

    import samunet_tune

    info = check_card_info(dict(card_info or {}))
    summary = summarise_evaluation(source)
    config = source.model_config
    strategy = ((source.recipe or {}).get("strategy") or {}).get("name") or (source.train_metrics or {}).get("strategy")
    datasets = dataset_entries(source, info.get("data"))
    tags = BASE_TAGS + ([strategy] if strategy else []) + (["lora", "peft"] if source.is_adapter else [])
    tags += list(info.get("tags") or [])
    results = eval_results(summary)
    data = ModelCardData(
        library_name=LIBRARY_NAME,
        pipeline_tag="image-segmentation",
        license=info.get("license", "apache-2.0"),
        license_name=info.get("license_name"),
        license_link=info.get("license_link"),
        tags=tags,
        base_model=base_model,
        datasets=hub_dataset_ids(source, info.get("datasets")) or None,
        metrics=sorted({result.metric_type for result in results}) or None,
        model_name=repo_id.split("/")[-1] if results else None,  # only the model-index uses it
        eval_results=results or None,
    )
    if base_model:
        data["base_model_relation"] = "adapter" if source.is_adapter else "finetune"
    name = repo_id.split("/")[-1]
    default_summary = (
        f"`{name}`: a SAM-UNet for promptable medical image segmentation"
        + (f", fine-tuned with the `{strategy}` strategy" if strategy else "")
        + (f" from [{base_model}](https://huggingface.co/{base_model})" if base_model else "")
        + ", published with [samunet-tune](https://pypi.org/project/samunet-tune/)."
    )
    plots = [
        {"title": Path(path).stem.replace("_", " "), "path": path} for path, _ in files if path.endswith(".png")
    ]
    citations = [SAM_UNET_CITATION, SAM_CITATION] + [d["citation"] for d in datasets if d.get("citation")]
    citations += list(info.get("citations") or [])
    context = {
        "title": info.get("title", f"SAM-UNet: {name}"),
        "summary": _text(info.get("summary")) or default_summary,
        "repo_id": repo_id,
        "is_adapter": source.is_adapter,
        "base_reference": base_reference or base_model,
        "architecture_rows": _architecture_rows(config, source, base_reference or base_model),
        "training_text": _text(info.get("training_text")),
        "training_rows": _training_rows(source, base_model),
        "datasets": datasets,
        "evaluation": _evaluation_context(summary),
        "reported_results": _text(info.get("reported_results")),
        "plots": plots,
        "load_snippet": load_snippet(repo_id, source.is_adapter),
        "files": [{"path": path, "description": description} for path, description in files],
        "license_text": info.get("license_text", DEFAULT_LICENSE_TEXT),
        "citations": list(dict.fromkeys(citations)),
        "extra_notes": _text(info.get("extra_notes")),
        "samunet_tune_version": samunet_tune.__version__,
    }
    card = ModelCard(render_template(template_text(template), card_data=data.to_yaml(), **context))
    check_card(str(card))
    return card


def _text(value: Any) -> str | None:
    """Markdown from card info without the trailing newline YAML block scalars keep."""
    if value is None:
        return None
    return str(value).strip() or None


def render_template(text: str, **context: Any) -> str:
    """Jinja rendering as ModelCard.from_template does it, but block tags leave no blank lines
    behind and an unknown variable is an error (a typo in a custom template shows at once)."""
    import jinja2

    environment = jinja2.Environment(
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined
    )
    try:
        return environment.from_string(text).render(**context)
    except jinja2.TemplateError as error:
        raise ValueError(f"model card template: {error}") from error


def check_card(text: str):
    """huggingface_hub's offline reading of a card; raises ValueError naming what is wrong."""
    import tempfile

    from huggingface_hub import ModelCard, metadata_load
    from huggingface_hub.repocard_data import (
        eval_results_to_model_index,
        model_index_to_eval_results,
    )

    try:
        card = ModelCard(text, ignore_metadata_errors=False)
    except Exception as error:  # yaml errors, ValueError from ModelCardData
        raise ValueError(f"model card metadata does not parse: {error}") from error
    data = card.data
    problems = []
    for key in ("library_name", "pipeline_tag", "license", "tags"):
        if not data.get(key):
            problems.append(f"{key} is missing")
    if data.get("license") == "other" and not (data.get("license_name") and data.get("license_link")):
        problems.append("license 'other' needs license_name and license_link")
    if data.eval_results:
        model_index = eval_results_to_model_index(data.model_name, data.eval_results)
        name, results = model_index_to_eval_results(model_index)
        if name != data.model_name or len(results) != len(data.eval_results):
            problems.append("model-index does not survive a round trip")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "README.md"
        card.save(path)
        if metadata_load(path) != data.to_dict():
            problems.append("metadata changes when the card is saved and read back")
    if problems:
        raise ValueError("model card metadata: " + "; ".join(problems))
    return card
