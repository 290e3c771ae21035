"""Summaries of per-mask metric records: overall, per image, per class, per modality, per dataset.

A record is one predicted mask scored against its reference::

    {"sample_id": "img_001", "class_name": "polyp", "modality": "endoscopy",
     "dataset": "kvasir-seg", "dice": 0.91, "iou": 0.83, "hd95": 4.2, "nsd": 0.88}

Each summary of a metric is ``{"mean", "median", "std", "count", "undefined", "infinite"}``:
the statistics are over the finite values only (``std`` is the population std, ``ddof=0``),
``count`` is how many finite values they used, ``undefined`` how many were NaN or None (e.g.
Dice with both masks empty) and ``infinite`` how many were inf (e.g. HD95 of a missed object).
Nothing is dropped silently: ``count + undefined + infinite`` is always the number of values.
With no finite value the statistics are ``None``. The result holds only str keys, ints, floats
and None, so ``json.dumps(result, allow_nan=False)`` works and round-trips unchanged.

Images are told apart by ``(dataset, sample_id)``, since two data sets may reuse a file name.
An image's value for a metric is the mean of its masks' values that are not NaN (an inf stays
inf, so a missed object is not averaged away); NaN when all of them are NaN.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["aggregate_metrics", "image_means", "summarise", "IDENTITY_FIELDS", "GROUPING_FIELDS"]

IDENTITY_FIELDS = ("sample_id", "class_name", "modality", "dataset")
GROUPING_FIELDS = {"per_class": "class_name", "per_modality": "modality", "per_dataset": "dataset"}


def summarise(values: Iterable[float | None]) -> dict[str, float | int | None]:
    """Mean, median, std over the finite values, with counts of the finite, NaN/None and inf ones.

    Args:
        values: metric values; None is treated like NaN (undefined).
    """
    array = np.array([math.nan if value is None else float(value) for value in values], dtype=float)
    finite = array[np.isfinite(array)]
    has_values = finite.size > 0
    return {
        "mean": float(finite.mean()) if has_values else None,
        "median": float(np.median(finite)) if has_values else None,
        "std": float(finite.std()) if has_values else None,
        "count": int(finite.size),
        "undefined": int(np.isnan(array).sum()),
        "infinite": int(np.isinf(array).sum()),
    }


def _metric_value(record: Mapping[str, Any], metric: str, index: int) -> float:
    if metric not in record:
        raise KeyError(
            f"record {index} ({record.get('sample_id')!r}) has no {metric!r} value; "
            "give every record every metric (None where it is undefined)"
        )
    value = record[metric]
    if value is None:
        return math.nan
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(
            f"record {index} ({record.get('sample_id')!r}) has {metric}={value!r}; expected a number or None"
        )
    return float(value)


def _checked_records(records: Sequence[Mapping[str, Any]]) -> None:
    for index, record in enumerate(records):
        for field in IDENTITY_FIELDS:
            if not isinstance(record.get(field), str):
                raise ValueError(
                    f"record {index} has {field}={record.get(field)!r}; every record needs a string "
                    f"for each of {', '.join(IDENTITY_FIELDS)}"
                )


def _metric_names_in(records: Sequence[Mapping[str, Any]]) -> list[str]:
    names: dict[str, None] = {}  # a dict keeps first-seen order
    for record in records:
        for key in record:
            if key not in IDENTITY_FIELDS:
                names[key] = None
    return list(names)


def image_means(records: Sequence[Mapping[str, Any]], metric_names: Sequence[str]) -> list[dict[str, Any]]:
    """One record per image: identity of the image, mask count, and the mean of each metric.

    Args:
        records: per-mask records (module docstring).
        metric_names: the metrics to average.
    """
    masks_by_image: dict[tuple[str, str], list[int]] = {}
    for index, record in enumerate(records):
        masks_by_image.setdefault((record["dataset"], record["sample_id"]), []).append(index)
    images = []
    for (dataset, sample_id), indices in masks_by_image.items():
        image: dict[str, Any] = {"dataset": dataset, "sample_id": sample_id, "n_masks": len(indices)}
        for metric in metric_names:
            values = np.array([_metric_value(records[i], metric, i) for i in indices])
            defined = values[~np.isnan(values)]
            image[metric] = float(defined.mean()) if defined.size else math.nan
        images.append(image)
    return images


def _summaries(
    records: Sequence[Mapping[str, Any]], metric_names: Sequence[str], indices: Sequence[int]
) -> dict[str, Any]:
    summary: dict[str, Any] = {"n_masks": len(indices)}
    for metric in metric_names:
        summary[metric] = summarise(_metric_value(records[i], metric, i) for i in indices)
    return summary


def aggregate_metrics(
    records: Sequence[Mapping[str, Any]], metric_names: Sequence[str] | None = None
) -> dict[str, Any]:
    """Summaries per mask (overall), per image, per class, per modality and per dataset.

    Returns ``{"metrics": [...], "per_mask": {...}, "per_image": {...}, "per_class": {name: {...}},
    "per_modality": {...}, "per_dataset": {...}}``. Each summary block has ``n_masks`` (or
    ``n_images``) and one :func:`summarise` result per metric. Class, modality and dataset
    summaries are over masks; groups are sorted by name.

    Args:
        records: per-mask records with ``sample_id``, ``class_name``, ``modality``, ``dataset``
            and one number (or None) per metric.
        metric_names: metrics to summarise; by default every non-identity key, in first-seen order.
    """
    records = list(records)
    _checked_records(records)
    metrics = list(metric_names) if metric_names is not None else _metric_names_in(records)
    all_indices = list(range(len(records)))

    images = image_means(records, metrics)
    per_image: dict[str, Any] = {"n_images": len(images)}
    for metric in metrics:
        per_image[metric] = summarise(image[metric] for image in images)

    result: dict[str, Any] = {
        "metrics": metrics,
        "per_mask": _summaries(records, metrics, all_indices),
        "per_image": per_image,
    }
    for block_name, field in GROUPING_FIELDS.items():
        groups: dict[str, list[int]] = {}
        for index, record in enumerate(records):
            groups.setdefault(record[field], []).append(index)
        result[block_name] = {name: _summaries(records, metrics, groups[name]) for name in sorted(groups)}
    return result
