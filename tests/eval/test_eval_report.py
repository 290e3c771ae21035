"""Reports from constructed rows: strict JSON with flags, counts of odd values, the verdict."""

from __future__ import annotations

import json
import math

import pytest

from samunet_tune.eval.protocols import Protocol
from samunet_tune.eval.report import build_report, summary_markdown
from samunet_tune.eval.runner import EvalRun


def row(sample_id: str, class_name: str, model: dict, box_dice: float = 0.8, ellipse_dice: float = 0.85,
        rounds: list[float] | None = None) -> dict:
    result = {**model, "empty_prediction": model["dice"] == 0.0}
    if rounds is not None:
        result["dice_per_round"] = rounds
        result["iou_per_round"] = [r / 2 for r in rounds]
    name = "clicks:2" if rounds is not None else "box"
    return {"dataset": "d", "sample_id": sample_id, "class_name": class_name, "modality": "ct", "source": None,
            "mask_index": 0, "box": [1, 2, 3, 4], "spacing": [1.0, 1.0], "surface_unit": "mm",
            "results": {name: result},
            "baselines": {"box_fill": {"dice": box_dice, "iou": 0.7, "hd95": 3.0, "nsd": 0.5},
                          "inscribed_ellipse": {"dice": ellipse_dice, "iou": 0.75, "hd95": 2.0, "nsd": 0.6}}}


def run_of(rows: list[dict], protocol: str = "box") -> EvalRun:
    run = EvalRun(protocols=[Protocol.parse(protocol)], nsd_tolerance=2.0, rows=rows, images=len(rows))
    run.datasets = [{"name": "d", "samples": len(rows), "evaluated": len(rows)}]
    return run


def test_missed_objects_become_null_with_a_flag_and_are_counted():
    missed = {"dice": 0.0, "iou": 0.0, "hd95": math.inf, "nsd": 0.0}
    good = {"dice": 0.9, "iou": 0.82, "hd95": 1.5, "nsd": 0.95}
    report = build_report(run_of([row("a", "liver", good), row("b", "liver", missed)]), model="m")
    text = json.dumps(report, allow_nan=False)  # strict JSON
    assert "Infinity" not in text and "NaN" not in text
    masks = {s["sample_id"]: s["masks"][0] for s in report["samples"]}
    assert masks["b"]["results"]["box"]["hd95"] is None
    assert masks["b"]["flags"] == ["box:hd95=infinite", "box:empty_prediction"] and masks["a"]["flags"] == []
    hd95 = report["protocols"]["box"]["per_mask"]["hd95"]
    assert (hd95["count"], hd95["infinite"], hd95["mean"]) == (1, 1, 1.5)
    assert report["protocols"]["box"]["per_mask"]["dice"]["mean"] == pytest.approx(0.45)
    notes = summary_markdown(report)
    assert "`box` hd95: 0 undefined, 1 infinite" in notes


def test_verdict_warns_only_when_the_model_does_not_beat_the_baselines():
    good = {"dice": 0.95, "iou": 0.9, "hd95": 1.0, "nsd": 0.99}
    poor = {"dice": 0.5, "iou": 0.33, "hd95": 9.0, "nsd": 0.3}
    winning = build_report(run_of([row("a", "liver", good)]), model="m")
    assert winning["verdict"]["box"] == {"model_dice": 0.95, "best_baseline": "inscribed_ellipse",
                                         "best_baseline_dice": 0.85, "beats_baselines": True}
    assert "WARNING" not in summary_markdown(winning) and "by +0.100" in summary_markdown(winning)
    losing = build_report(run_of([row("a", "liver", poor)]), model="m")
    assert losing["verdict"]["box"]["beats_baselines"] is False
    assert "**WARNING** `box`: mean Dice 0.500 does not beat the trivial ellipse baseline" in summary_markdown(losing)


def test_click_curve_summarises_each_round():
    first = {"dice": 0.7, "iou": 0.5, "hd95": 2.0, "nsd": 0.8}
    rows = [row("a", "liver", first, rounds=[0.5, 0.6, 0.7]), row("b", "spleen", first, rounds=[0.3, math.nan, 0.7])]
    report = build_report(run_of(rows, "clicks:2"), model="m")
    curve = report["protocols"]["clicks:2"]["curve"]
    assert [p["dice"]["mean"] for p in curve] == pytest.approx([0.4, 0.6, 0.7])
    assert curve[1]["dice"]["undefined"] == 1
    assert report["samples"][1]["masks"][0]["results"]["clicks:2"]["dice_per_round"] == [0.3, None, 0.7]
    assert "| 1 | 1 | 0.600 | 0.300 |" in summary_markdown(report)


def test_no_scored_mask_is_an_error_not_an_empty_report():
    run = run_of([])
    run.images, run.images_without_masks = 3, 3
    with pytest.raises(ValueError, match="nothing to evaluate: 3 image"):
        build_report(run, model="m")
