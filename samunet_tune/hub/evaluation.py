"""The model card's evaluation table, from `samunet-tune eval` or from validation during training.

Every row puts the model next to the two trivial baselines scored on the same masks with the same
box: the box filled, and the ellipse inscribed in it. The headline numbers also become the card's
`model-index` (huggingface_hub `EvalResult`s).

Sources, in order of preference:
1. an evaluation folder's metrics.json (`samunet-tune eval --out DIR`; see
   `samunet_tune.eval.report`): `protocols.<name>.per_mask|per_class`, `baselines.box_fill|
   inscribed_ellipse`, `datasets`, `counts`;
2. the training run: `metrics.json` `validation` (the last validation) or, for best/, the val/*
   rows of logs/scalars.csv at `best.step`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from samunet_tune.hub.source import PublishSource

TASK_TYPE = "image-segmentation"
TASK_NAME = "Promptable medical image segmentation"
BASELINE_KEYS = {"box": "box_fill", "ellipse": "inscribed_ellipse"}


@dataclass
class EvalRow:
    group: str
    metric: str
    model: float | None
    box: float | None = None
    ellipse: float | None = None
    count: int | None = None
    headline: bool = False  # goes into the card's model-index


@dataclass
class EvaluationSummary:
    description: str
    group_label: str
    rows: list[EvalRow]
    dataset_type: str
    dataset_name: str
    dataset_split: str | None = None
    protocol_names: dict[str, str] = field(default_factory=dict)


def _mean(block: Any, metric: str) -> float | None:
    value = block.get(metric) if isinstance(block, dict) else None
    if isinstance(value, dict):
        value = value.get("mean")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def summarise_evaluation(source: PublishSource) -> EvaluationSummary | None:
    if source.eval_metrics is not None:
        return _from_eval_report(source.eval_metrics, str(source.eval_dir))
    return _from_training(source)


def _from_eval_report(report: dict[str, Any], where: str) -> EvaluationSummary:
    protocols, baselines = report.get("protocols"), report.get("baselines")
    if not isinstance(protocols, dict) or not protocols or not isinstance(baselines, dict):
        raise ValueError(
            f"{where}/metrics.json is not a `samunet-tune eval` report: it needs `protocols` (with per_mask "
            "summaries) and `baselines` (box_fill, inscribed_ellipse)"
        )
    rows = []
    for index, (name, block) in enumerate(protocols.items()):
        groups = [("all masks", block.get("per_mask", {}), lambda b: b.get("per_mask", {}))]
        classes = block.get("per_class") or {}
        if index == 0 and len(classes) > 1:
            groups += [(cls, classes[cls], lambda b, c=cls: (b.get("per_class") or {}).get(c, {})) for cls in classes]
        for group, summary, pick in groups:
            for metric in ("dice", "iou"):
                rows.append(EvalRow(
                    group=f"{name}: {group}", metric=metric, model=_mean(summary, metric),
                    box=_mean(pick(baselines.get(BASELINE_KEYS["box"], {})), metric),
                    ellipse=_mean(pick(baselines.get(BASELINE_KEYS["ellipse"], {})), metric),
                    count=summary.get("n_masks"), headline=group == "all masks",
                ))
    datasets = [d for d in report.get("datasets", []) if isinstance(d, dict)]
    names = ", ".join(str(d.get("name")) for d in datasets) or "unnamed data"
    counts = report.get("counts", {})
    described = "; ".join(f"{name}: {block.get('description', name)}" for name, block in protocols.items())
    hub_ids = [str(d.get("location")) for d in datasets if d.get("plugin") == "hf" and d.get("location")]
    return EvaluationSummary(
        description=(
            f"Measured with `samunet-tune eval` on {names} ({counts.get('masks', '?')} masks in "
            f"{counts.get('images_evaluated', '?')} images), each prediction at the image's original resolution "
            f"and thresholded at probability 0.5. Prompts ({described})."
        ),
        group_label="protocol: masks",
        rows=rows,
        dataset_type=hub_ids[0] if len(datasets) == 1 and hub_ids else names,
        dataset_name=names,
        dataset_split=_split_of(datasets[0].get("options")) if len(datasets) == 1 else None,
        protocol_names={name: block.get("description", name) for name, block in protocols.items()},
    )


def _split_of(options: Any) -> str | None:
    split = options.get("split") if isinstance(options, dict) else None
    return str(split) if split else None


def _from_training(source: PublishSource) -> EvaluationSummary | None:
    metrics, recipe = source.train_metrics or {}, source.recipe or {}
    validation = metrics.get("validation")
    if not isinstance(validation, dict):
        return None
    steps = sorted(source.validation_by_step)
    step = steps[-1] if steps else None
    values = dict(validation)
    if source.checkpoint == "best":
        best = metrics.get("best") or {}
        step = best.get("step")
        if step in source.validation_by_step:
            values = source.validation_by_step[step]
        else:  # scalars.csv lost: only the tracked metric is known at the best step
            values = {best.get("metric", "dice"): best.get("value")}
    val_section = (recipe.get("data") or {}).get("val") or {}
    plugin, options = val_section.get("plugin", "?"), val_section.get("options") or {}
    image_size = None
    try:
        image_size = source.model_config.get("image_size")
    except ValueError:
        pass
    at_step = f" at step {step} of {metrics.get('global_step')}" if step is not None else ""
    description = (
        f"Validation during training{at_step}, the checkpoint published here ({source.checkpoint}/): one tight "
        f"box per mask, no jitter, Dice/IoU of the mask thresholded at probability 0.5 in the model's "
        f"{image_size}x{image_size} frame (`samunet-tune eval` measures at the original resolution). "
        f"Data: the `{plugin}` plugin"
        + (f" ({', '.join(f'{k}={v}' for k, v in options.items())})" if options else "")
        + "."
    )
    count = validation.get("count")
    rows = [
        EvalRow("validation: all masks", "dice", values.get("dice"), values.get("baseline_box_dice"),
                values.get("baseline_ellipse_dice"), count, headline=True),
        EvalRow("validation: all masks", "iou", values.get("iou"), values.get("baseline_box_iou"),
                values.get("baseline_ellipse_iou"), count, headline=True),
    ]
    rows = [row for row in rows if row.model is not None]
    if not rows:
        return None
    hub_id = options.get("path") if plugin == "hf" else None
    return EvaluationSummary(
        description=description,
        group_label="data: masks",
        rows=rows,
        dataset_type=str(hub_id or plugin),
        dataset_name=str(hub_id or plugin),
        dataset_split=_split_of(options) or "validation",
        protocol_names={"validation": "one tight box per mask"},
    )


def eval_results(summary: EvaluationSummary | None):
    """The headline rows as huggingface_hub EvalResults (the card's model-index)."""
    from huggingface_hub import EvalResult

    if summary is None:
        return []
    return [
        EvalResult(
            task_type=TASK_TYPE,
            task_name=TASK_NAME,
            dataset_type=summary.dataset_type,
            dataset_name=summary.dataset_name,
            dataset_split=summary.dataset_split,
            metric_type=row.metric,
            metric_name=f"{'Dice' if row.metric == 'dice' else 'IoU'} ({row.group.split(':')[0]})",
            metric_value=round(row.model, 4),
        )
        for row in summary.rows
        if row.headline and row.model is not None
    ]
