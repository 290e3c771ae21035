"""Predict masks for prompted frames and write them, with overlays and a manifest, into a folder.

`run_prediction` expects checked prompts (`prompt_files`, `mask_prompts`) and an output folder
that is still private (the CLI hands it a staging folder it renames when everything is written).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from samunet_tune.data.prompts import PADDING_LABEL
from samunet_tune.inference.inputs import PredictInput
from samunet_tune.inference.outputs import (
    draw_overlay,
    write_binary_png,
    write_dicom_labels,
    write_nifti_labels,
)
from samunet_tune.inference.prompt_files import Prompt

MANIFEST = "predictions.json"


def predict_prompts(predictor, image: np.ndarray, prompts: list[Prompt], batch_prompts: int = 64) -> list[np.ndarray]:
    """One bool mask per prompt: the image is encoded once, prompts decoded in batches.

    Prompts with a box and prompts with points only go in separate calls; within a call, point
    lists are padded with SAM's "no point" label so that they share one length.
    """
    predictor.set_image(image)
    masks: list[np.ndarray | None] = [None] * len(prompts)
    for with_box in (True, False):
        indices = [i for i, p in enumerate(prompts) if (p.box is not None) == with_box]
        for start in range(0, len(indices), batch_prompts):
            chunk = indices[start : start + batch_prompts]
            for index, mask in zip(chunk, _predict_chunk(predictor, [prompts[i] for i in chunk], with_box)):
                masks[index] = mask
    return masks


def _predict_chunk(predictor, prompts: list[Prompt], with_box: bool) -> np.ndarray:
    boxes = np.stack([p.box for p in prompts]).astype(np.float32) if with_box else None
    longest = max((0 if p.points is None else len(p.points)) for p in prompts)
    points = labels = None
    if longest:
        points = np.zeros((len(prompts), longest, 2), dtype=np.float32)
        labels = np.full((len(prompts), longest), PADDING_LABEL, dtype=np.int64)
        for row, prompt in enumerate(prompts):
            if prompt.points is not None:
                points[row, : len(prompt.points)] = prompt.points
                labels[row, : len(prompt.points)] = prompt.point_labels
    masks, _ = predictor.predict(box=boxes, points=points, point_labels=labels)
    return masks


def _metrics(mask: np.ndarray, target: np.ndarray | None, spacing, nsd_tolerance: float) -> dict[str, Any] | None:
    from samunet_tune.eval.metrics import mask_metrics

    if target is None:
        return None
    values = mask_metrics(mask, target, nsd_tolerance, spacing)
    return {name: (value if np.isfinite(value) else None) for name, value in values.items()} | {
        "flags": [f"{name}={'undefined' if np.isnan(v) else 'infinite'}" for name, v in values.items() if not np.isfinite(v)]
    }


def run_prediction(predictor, source: PredictInput, prompts: dict[str, list[Prompt]], out: Path,
                   batch_prompts: int = 64, nsd_tolerance: float = 2.0, model: str = "", progress: bool = True
                   ) -> dict[str, Any]:
    """Predict every prompted frame of `source` and write masks, overlays and predictions.json.

    Returns the manifest (also written to ``out/predictions.json``).
    """
    from tqdm.auto import tqdm

    has_targets = any(p.target is not None for found in prompts.values() for p in found)
    spacing = source.spacing or (1.0, 1.0)
    labels = None
    if source.is_volume:
        labels = np.zeros((len(source.frames), *source.frame_size), dtype=np.uint16)  # labels are 1..65535
    entries = []
    for key in tqdm([k for k in source.frames if prompts.get(k)], desc="predict", unit="frame", disable=not progress):
        frame, frame_prompts = source.frames[key], prompts[key]
        image = frame.load()
        masks = predict_prompts(predictor, image, frame_prompts, batch_prompts)
        outputs = []
        if labels is not None:
            for prompt, mask in zip(frame_prompts, masks):
                labels[frame.slice_index][mask] = prompt.label
        else:
            for label in sorted({p.label for p in frame_prompts}):
                merged = np.logical_or.reduce([m for p, m in zip(frame_prompts, masks) if p.label == label])
                path = write_binary_png(out / "masks" / f"{frame.output_stem}_{label}.png", merged)
                outputs.append(path.relative_to(out).as_posix())
        overlay = out / "overlays" / f"{frame.output_stem}.png"
        overlay.parent.mkdir(parents=True, exist_ok=True)
        draw_overlay(image, masks, frame_prompts, [p.target for p in frame_prompts]).save(overlay)
        entries.append({
            "key": key, "overlay": overlay.relative_to(out).as_posix(), "masks": outputs,
            "prompts": [{**p.to_json(), "area_pixels": int(m.sum()),
                         **({"metrics": _metrics(m, p.target, spacing, nsd_tolerance)} if has_targets else {})}
                        for p, m in zip(frame_prompts, masks)],
        })
    volume_file = _write_volume(source, labels, out) if labels is not None else None
    manifest = {
        "model": model, "input": str(source.path), "kind": source.kind,
        "volume_mask": volume_file, "axis": source.meta.get("axis"),
        "spacing": list(source.spacing) if source.spacing else None,
        "surface_unit": "mm" if source.spacing else "pixel",
        "frames_with_prompts": len(entries), "frames_without_prompts": len(source.frames) - len(entries),
        "frames": entries,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, allow_nan=False))
    return manifest


def _write_volume(source: PredictInput, labels: np.ndarray, out: Path) -> str:
    path = out / "masks" / f"{source.meta['stem']}.nii.gz"
    if source.kind == "nifti":
        write_nifti_labels(path, np.moveaxis(labels, 0, source.meta["axis"]), source.meta["image"])
    else:
        write_dicom_labels(path, labels, source.meta["series"])
    return path.relative_to(out).as_posix()
