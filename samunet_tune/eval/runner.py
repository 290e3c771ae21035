"""Run the protocols over datasets: one encode per image, every mask scored, baselines beside.

The result is one row per mask: who it is (dataset, sample, class, modality), the box it was
prompted with, the metrics of every protocol (Dice/IoU per round for click protocols) and of
the two trivial baselines on the same box. `samunet_tune.eval.report` summarises the rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from samunet_tune.eval.baselines import BASELINES
from samunet_tune.eval.metrics import dice, iou, mask_metrics
from samunet_tune.eval.protocols import Protocol, run_protocol, tight_boxes

PIXEL_SPACING = (1.0, 1.0)


class EvaluationInputError(ValueError):
    """Data that cannot be scored as it is: a non-positive pixel spacing, no mask to score at all."""


@dataclass
class EvalDataset:
    """A dataset to evaluate, with the name reports group it under.

    Args:
        name: the label in reports (unique among the datasets of one run).
        samples: the plugin's Sequence[Sample].
        info: how it was built (plugin, location, options), copied into metrics.json.
    """

    name: str
    samples: Sequence[Any]
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class EvalRun:
    """Everything an evaluation produced, before summarising."""

    protocols: list[Protocol]
    nsd_tolerance: float
    rows: list[dict[str, Any]] = field(default_factory=list)
    images: int = 0
    images_without_masks: int = 0
    empty_masks: int = 0
    datasets: list[dict[str, Any]] = field(default_factory=list)


def checked_spacing(sample: Any) -> tuple[tuple[float, float], str]:
    """The sample's spacing in mm and the unit surface metrics will be in ("mm" or "pixel")."""
    if sample.spacing is None:
        return PIXEL_SPACING, "pixel"
    spacing = tuple(float(value) for value in sample.spacing)
    if not all(math.isfinite(value) and value > 0 for value in spacing):
        raise EvaluationInputError(
            f"sample {sample.sample_id!r} ({sample.source or 'no file'}) has pixel spacing {spacing}: "
            "HD95 and NSD need a positive spacing in mm. Fix the file's header (NIfTI pixdim, DICOM "
            "PixelSpacing), or drop the spacing so distances are reported in pixels"
        )
    return spacing, "mm"


def evaluate(predictor, datasets: Sequence[EvalDataset], protocols: Sequence[Protocol], nsd_tolerance: float = 2.0,
             limit: int | None = None, batch_prompts: int = 64, progress: bool = True) -> EvalRun:
    """Score every mask of every dataset under each protocol, beside the baselines.

    Args:
        predictor: a SamUNetPredictor (mask threshold 0 = probability 0.5).
        datasets: what to evaluate.
        protocols: how to prompt (at least one).
        nsd_tolerance: NSD tolerance, in mm (in pixels for samples without spacing).
        limit: evaluate only the first `limit` samples of each dataset.
        batch_prompts: most prompts per decoder call.
        progress: show a tqdm progress bar.
    """
    from tqdm.auto import tqdm

    if not protocols:
        raise ValueError("no protocol to run: give at least one --protocol")
    run = EvalRun(protocols=list(protocols), nsd_tolerance=float(nsd_tolerance))
    for dataset in datasets:
        count = len(dataset.samples) if limit is None else min(limit, len(dataset.samples))
        run.datasets.append({"name": dataset.name, **dataset.info, "samples": len(dataset.samples), "evaluated": count})
        for index in tqdm(range(count), desc=f"eval {dataset.name}", unit="image", disable=not progress):
            _evaluate_sample(predictor, dataset.name, dataset.samples[index], run, batch_prompts)
    return run


def _evaluate_sample(predictor, dataset_name: str, sample: Any, run: EvalRun, batch_prompts: int) -> None:
    run.images += 1
    targets = [annotation for annotation in sample.masks if annotation.mask.any()]
    run.empty_masks += len(sample.masks) - len(targets)
    if not targets:
        run.images_without_masks += 1
        return
    spacing, unit = checked_spacing(sample)
    masks = [annotation.mask for annotation in targets]
    boxes = tight_boxes(masks)
    rows = [
        {
            "dataset": dataset_name,
            "sample_id": str(sample.sample_id),
            "class_name": annotation.class_name,
            "modality": sample.modality or "unknown",
            "source": sample.source,
            "mask_index": index,
            "box": [int(v) for v in box],
            "spacing": list(spacing) if unit == "mm" else None,
            "surface_unit": unit,
            "results": {},
            "baselines": {
                name: mask_metrics(make(box, mask.shape), mask, run.nsd_tolerance, spacing)
                for name, make in BASELINES.items()
            },
        }
        for index, (annotation, mask, box) in enumerate(zip(targets, masks, boxes))
    ]
    predictor.set_image(sample.image)
    for protocol in run.protocols:
        predictions = run_protocol(predictor, protocol, masks, str(sample.sample_id), batch_prompts)
        for row, target, prediction in zip(rows, masks, predictions):
            result = mask_metrics(prediction.mask, target, run.nsd_tolerance, spacing)
            result["empty_prediction"] = not bool(prediction.mask.any())
            if protocol.has_curve:
                result["dice_per_round"] = [dice(r, target) for r in prediction.rounds]
                result["iou_per_round"] = [iou(r, target) for r in prediction.rounds]
            row["results"][protocol.name] = result
    run.rows += rows
