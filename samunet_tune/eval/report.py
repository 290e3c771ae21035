"""An evaluation's rows -> metrics.json (strict JSON) and a Markdown table people read at a glance.

metrics.json::

    {"model": ..., "settings": {...}, "datasets": [...], "counts": {...},
     "protocols": {"box": {"description", "metrics", "per_mask", "per_image", "per_class",
                           "per_modality", "per_dataset"[, "curve"]}, ...},
     "baselines": {"box_fill": {...same blocks...}, "inscribed_ellipse": {...}},
     "verdict": {"box": {"model_dice", "best_baseline", "best_baseline_dice", "beats_baselines"}},
     "samples": [{"dataset", "sample_id", "modality", "source", "masks": [...]}]}

Summaries come from `aggregate_metrics` (NaN counted as "undefined", inf as "infinite", never
averaged). In `samples`, a NaN or infinite value is written as null and named in the mask's
``flags`` ("box:hd95=infinite", "clicks:3:dice=undefined", "box:empty_prediction").
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from samunet_tune.eval.aggregate import aggregate_metrics, summarise
from samunet_tune.eval.baselines import BASELINES

METRICS = ("dice", "iou", "hd95", "nsd")
BASELINE_LABELS = {"box_fill": "box fill", "inscribed_ellipse": "ellipse"}
BASELINE_DESCRIPTIONS = {
    "box_fill": "every pixel of the tight box",
    "inscribed_ellipse": "the ellipse inscribed in the tight box",
}
IDENTITY = ("sample_id", "class_name", "modality", "dataset")


def _records(rows: list[dict], pick) -> list[dict[str, Any]]:
    return [{**{key: row[key] for key in IDENTITY}, **{m: pick(row)[m] for m in METRICS}} for row in rows]


def _curve(rows: list[dict], name: str) -> list[dict[str, Any]]:
    rounds = len(rows[0]["results"][name]["dice_per_round"]) if rows else 0
    return [
        {
            "round": r,
            "clicks": r,
            "dice": summarise(row["results"][name]["dice_per_round"][r] for row in rows),
            "iou": summarise(row["results"][name]["iou_per_round"][r] for row in rows),
        }
        for r in range(rounds)
    ]


def _json_value(value: Any, flag: str, flags: list[str]) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        flags.append(f"{flag}={'undefined' if math.isnan(value) else 'infinite'}")
        return None
    return value


def _mask_entry(row: dict, protocol_names: list[str]) -> dict[str, Any]:
    flags: list[str] = []
    results: dict[str, Any] = {}
    for name in protocol_names:
        result = row["results"][name]
        entry = {m: _json_value(result[m], f"{name}:{m}", flags) for m in METRICS}
        if result["empty_prediction"]:
            flags.append(f"{name}:empty_prediction")
        for key in ("dice_per_round", "iou_per_round"):
            if key in result:
                entry[key] = [_json_value(v, f"{name}:{key}[{r}]", flags) for r, v in enumerate(result[key])]
        results[name] = entry
    baselines = {
        name: {m: _json_value(row["baselines"][name][m], f"{name}:{m}", flags) for m in METRICS} for name in BASELINES
    }
    return {
        "mask_index": row["mask_index"], "class_name": row["class_name"], "box": row["box"],
        "surface_unit": row["surface_unit"], "spacing": row["spacing"],
        "results": results, "baselines": baselines, "flags": flags,
    }


def _samples(rows: list[dict], protocol_names: list[str]) -> list[dict[str, Any]]:
    samples: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["dataset"], row["sample_id"])
        if key not in samples:
            samples[key] = {"dataset": row["dataset"], "sample_id": row["sample_id"], "modality": row["modality"],
                            "source": row["source"], "masks": []}
        samples[key]["masks"].append(_mask_entry(row, protocol_names))
    return list(samples.values())


def _verdict(protocols: dict, baselines: dict) -> dict[str, Any]:
    verdict = {}
    for name, block in protocols.items():
        model_dice = block["per_mask"]["dice"]["mean"]
        best = max(baselines, key=lambda b: baselines[b]["per_mask"]["dice"]["mean"] or -1.0)
        best_dice = baselines[best]["per_mask"]["dice"]["mean"]
        beats = None if model_dice is None or best_dice is None else bool(model_dice > best_dice)
        verdict[name] = {"model_dice": model_dice, "best_baseline": best, "best_baseline_dice": best_dice,
                         "beats_baselines": beats}
    return verdict


def build_report(run, model: str, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """The metrics.json content of an `EvalRun` (strict JSON: no NaN or inf anywhere)."""
    from samunet_tune.eval.runner import EvaluationInputError

    if not run.rows:
        raise EvaluationInputError(
            f"nothing to evaluate: {run.images} image(s) read, none with a non-empty mask "
            f"({run.images_without_masks} without masks, {run.empty_masks} empty masks). Check the data spec"
        )
    names = [protocol.name for protocol in run.protocols]
    protocols = {}
    for protocol in run.protocols:
        block = {"description": protocol.describe(),
                 **aggregate_metrics(_records(run.rows, lambda row, n=protocol.name: row["results"][n]), METRICS)}
        if protocol.has_curve:
            block["curve"] = _curve(run.rows, protocol.name)
        protocols[protocol.name] = block
    baselines = {
        name: {"description": BASELINE_DESCRIPTIONS[name],
               **aggregate_metrics(_records(run.rows, lambda row, n=name: row["baselines"][n]), METRICS)}
        for name in BASELINES
    }
    units = sorted({row["surface_unit"] for row in run.rows})
    report = {
        "model": model,
        "settings": {**(settings or {}), "protocols": names, "nsd_tolerance": run.nsd_tolerance,
                     "mask_threshold": "logit 0 (probability 0.5)", "surface_units": units},
        "datasets": run.datasets,
        "counts": {"images": run.images, "images_evaluated": len({(r["dataset"], r["sample_id"]) for r in run.rows}),
                   "masks": len(run.rows), "images_without_masks": run.images_without_masks,
                   "empty_masks_skipped": run.empty_masks},
        "protocols": protocols,
        "baselines": baselines,
        "verdict": _verdict(protocols, baselines),
        "samples": _samples(run.rows, names),
    }
    json.dumps(report, allow_nan=False)  # fail here, not in a half-written file
    return report


def _number(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _overall_table(report: dict) -> list[str]:
    """Rows: each protocol and baseline; columns: the four metrics over all masks."""
    lines = ["| | masks | Dice mean | Dice median | IoU | HD95 | NSD | undefined / infinite |",
             "|---|---|---|---|---|---|---|---|"]
    rows = [(f"model `{name}`", block) for name, block in report["protocols"].items()]
    rows += [(BASELINE_LABELS[name] + " (baseline)", block) for name, block in report["baselines"].items()]
    for label, block in rows:
        summary = block["per_mask"]
        odd = f"{sum(summary[m]['undefined'] for m in METRICS)} / {sum(summary[m]['infinite'] for m in METRICS)}"
        lines.append(f"| {label} | {summary['n_masks']} | {_number(summary['dice']['mean'])} | "
                     f"{_number(summary['dice']['median'])} | {_number(summary['iou']['mean'])} | "
                     f"{_number(summary['hd95']['mean'], 1)} | {_number(summary['nsd']['mean'])} | {odd} |")
    return lines


def _group_table(report: dict, group: str, title: str) -> list[str]:
    """Rows: all + each member of `group`; columns: mean Dice of every protocol and baseline."""
    protocols, baselines = report["protocols"], report["baselines"]
    header = [title, "masks", *(f"`{name}`" for name in protocols), *(BASELINE_LABELS[b] for b in baselines)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    first = next(iter(protocols.values()))
    for member in ["all", *sorted(first[group])]:
        def pick(block: dict, m: str = member) -> dict:
            return block["per_mask"] if m == "all" else block[group][m]

        cells = [member, str(pick(first)["n_masks"])]
        cells += [_number(pick(protocols[name])["dice"]["mean"]) for name in protocols]
        cells += [_number(pick(baselines[b])["dice"]["mean"]) for b in baselines]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _verdict_lines(report: dict) -> list[str]:
    lines = []
    for name, verdict in report["verdict"].items():
        label = BASELINE_LABELS[verdict["best_baseline"]]
        if verdict["beats_baselines"] is None:
            lines.append(f"- `{name}`: no defined Dice to compare.")
        elif verdict["beats_baselines"]:
            gain = verdict["model_dice"] - verdict["best_baseline_dice"]
            lines.append(f"- `{name}`: mean Dice {verdict['model_dice']:.3f} beats the best trivial baseline "
                         f"({label}, {verdict['best_baseline_dice']:.3f}) by {gain:+.3f}.")
        else:
            lines.append(f"- **WARNING** `{name}`: mean Dice {verdict['model_dice']:.3f} does not beat the trivial "
                         f"{label} baseline ({verdict['best_baseline_dice']:.3f}): the model is not using the image.")
    return lines


def summary_markdown(report: dict) -> str:
    """summary.md: what was evaluated, model vs baselines per class, click curves, caveats."""
    counts, settings = report["counts"], report["settings"]
    datasets = ", ".join(f"{d['name']} ({d['evaluated']} of {d['samples']} images)" for d in report["datasets"])
    lines = [f"# Evaluation of `{report['model']}`", "",
             f"Data: {datasets}; {counts['masks']} masks on {counts['images_evaluated']} images.", ""]
    for name, block in report["protocols"].items():
        lines.append(f"- `{name}`: {block['description']}.")
    lines += ["- baselines (box fill, ellipse): computed from the same tight box of every mask.",
              (f"- threshold: {settings['mask_threshold']}; NSD tolerance {settings['nsd_tolerance']:g} "
               f"({' / '.join(settings['surface_units'])}); HD95 in the same unit."), "",
              "## Model vs trivial baselines", "", *_verdict_lines(report), "", *_overall_table(report), "",
              "## Mean Dice per class", "", *_group_table(report, "per_class", "class"), ""]
    first = next(iter(report["protocols"].values()))
    for group, title in (("per_dataset", "dataset"), ("per_modality", "modality")):
        if len(first[group]) > 1:
            lines += [f"## Mean Dice per {title}", "", *_group_table(report, group, title), ""]
    for name, block in report["protocols"].items():
        if "curve" in block:
            lines += [f"## `{name}`: Dice over correction rounds", "", "| round | clicks | mean Dice | mean IoU |",
                      "|---|---|---|---|"]
            lines += [f"| {p['round']} | {p['clicks']} | {_number(p['dice']['mean'])} | {_number(p['iou']['mean'])} |"
                      for p in block["curve"]]
            lines.append("")
    notes = _caveats(report)
    if notes:
        lines += ["## Notes", "", *notes, ""]
    return "\n".join(lines)


def _caveats(report: dict) -> list[str]:
    notes = []
    counts = report["counts"]
    if counts["images_without_masks"] or counts["empty_masks_skipped"]:
        notes.append(f"- skipped: {counts['images_without_masks']} image(s) without masks, "
                     f"{counts['empty_masks_skipped']} empty mask(s).")
    for name, block in report["protocols"].items():
        for metric in METRICS:
            summary = block["per_mask"][metric]
            if summary["undefined"] or summary["infinite"]:
                notes.append(f"- `{name}` {metric}: {summary['undefined']} undefined, {summary['infinite']} infinite "
                             "value(s) (empty predictions), left out of the means.")
    if "pixel" in report["settings"]["surface_units"]:
        notes.append("- some images have no pixel spacing: their HD95 and NSD are in pixels, not mm.")
    return notes


def write_report(report: dict, out: Path) -> list[Path]:
    """metrics.json and summary.md in `out`; returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    metrics_path, summary_path = out / "metrics.json", out / "summary.md"
    metrics_path.write_text(json.dumps(report, indent=2, allow_nan=False))
    summary_path.write_text(summary_markdown(report))
    return [metrics_path, summary_path]
