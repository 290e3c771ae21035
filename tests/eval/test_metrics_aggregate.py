"""Aggregation of per-mask records: counts, grouping, undefined/infinite handling, JSON."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from samunet_tune.eval.aggregate import aggregate_metrics, image_means, summarise


def record(sample_id, class_name, dice, hd95, dataset="kvasir", modality="endoscopy"):
    return {
        "sample_id": sample_id,
        "class_name": class_name,
        "modality": modality,
        "dataset": dataset,
        "dice": dice,
        "hd95": hd95,
    }


# Five masks on four images in two data sets. "a" is in both data sets: two different images.
RECORDS = [
    record("a", "polyp", 0.8, 4.0),
    record("a", "polyp", math.nan, math.nan),  # both empty: undefined
    record("b", "polyp", 0.0, math.inf),  # object missed
    record("a", "liver", 0.6, 2.0, dataset="ct-set", modality="ct"),
    record("c", "liver", None, None, dataset="ct-set", modality="ct"),  # undefined, as read back from JSON
]


def test_summarise_counts_what_it_leaves_out():
    assert summarise([1.0, 3.0, math.nan, None, math.inf]) == {
        "mean": 2.0,
        "median": 2.0,
        "std": 1.0,
        "count": 2,
        "undefined": 2,
        "infinite": 1,
    }
    nothing = summarise([math.nan])
    assert nothing["mean"] is None and nothing["count"] == 0 and nothing["undefined"] == 1


def test_per_mask_summary_over_all_records():
    result = aggregate_metrics(RECORDS)
    assert result["metrics"] == ["dice", "hd95"]
    per_mask = result["per_mask"]
    assert per_mask["n_masks"] == 5
    assert per_mask["dice"]["mean"] == pytest.approx((0.8 + 0.0 + 0.6) / 3)
    assert per_mask["dice"]["std"] == pytest.approx(np.std([0.8, 0.0, 0.6]))
    assert (per_mask["dice"]["count"], per_mask["dice"]["undefined"], per_mask["dice"]["infinite"]) == (3, 2, 0)
    assert (per_mask["hd95"]["count"], per_mask["hd95"]["undefined"], per_mask["hd95"]["infinite"]) == (2, 2, 1)
    assert per_mask["hd95"]["median"] == pytest.approx(3.0)


def test_images_are_keyed_by_dataset_and_sample_id_and_average_their_masks():
    images = {(image["dataset"], image["sample_id"]): image for image in image_means(RECORDS, ["dice", "hd95"])}
    assert set(images) == {("kvasir", "a"), ("kvasir", "b"), ("ct-set", "a"), ("ct-set", "c")}
    assert images[("kvasir", "a")]["n_masks"] == 2
    assert images[("kvasir", "a")]["dice"] == pytest.approx(0.8)  # the NaN mask is left out, not zero
    assert images[("kvasir", "b")]["hd95"] == math.inf  # a missed object keeps its image infinite
    assert math.isnan(images[("ct-set", "c")]["dice"])

    per_image = aggregate_metrics(RECORDS)["per_image"]
    assert per_image["n_images"] == 4
    assert per_image["dice"]["count"] == 3 and per_image["dice"]["undefined"] == 1
    assert per_image["dice"]["mean"] == pytest.approx((0.8 + 0.0 + 0.6) / 3)
    assert per_image["hd95"]["infinite"] == 1


def test_groups_per_class_modality_and_dataset():
    result = aggregate_metrics(RECORDS)
    assert list(result["per_class"]) == ["liver", "polyp"]  # sorted
    polyp = result["per_class"]["polyp"]
    assert polyp["n_masks"] == 3
    assert polyp["dice"]["mean"] == pytest.approx(0.4)
    assert polyp["dice"]["undefined"] == 1
    assert result["per_class"]["liver"]["dice"]["count"] == 1
    assert {name: block["n_masks"] for name, block in result["per_modality"].items()} == {"ct": 2, "endoscopy": 3}
    assert {name: block["n_masks"] for name, block in result["per_dataset"].items()} == {"ct-set": 2, "kvasir": 3}


def test_result_is_strict_json_and_round_trips():
    result = aggregate_metrics(RECORDS)
    text = json.dumps(result, allow_nan=False)  # raises on any NaN or inf left in
    assert json.loads(text) == result
    assert json.loads(text)["per_class"]["liver"]["hd95"]["median"] == 2.0


def test_every_value_is_accounted_for():
    result = aggregate_metrics(RECORDS)
    for block in [result["per_mask"], *result["per_class"].values(), *result["per_dataset"].values()]:
        for metric in result["metrics"]:
            summary = block[metric]
            assert summary["count"] + summary["undefined"] + summary["infinite"] == block["n_masks"]


def test_numpy_values_and_explicit_metric_list():
    records = [record("x", "polyp", np.float32(0.5), np.float64(1.5)), record("y", "polyp", np.float32(1.0), 2.5)]
    result = aggregate_metrics(records, metric_names=["dice"])
    assert result["metrics"] == ["dice"] and "hd95" not in result["per_mask"]
    assert result["per_mask"]["dice"]["mean"] == pytest.approx(0.75)
    assert type(result["per_mask"]["dice"]["count"]) is int
    json.dumps(result, allow_nan=False)


def test_no_records_gives_empty_summaries():
    result = aggregate_metrics([], metric_names=["dice"])
    assert result["per_mask"] == {"n_masks": 0, "dice": summarise([])}
    assert result["per_image"]["n_images"] == 0 and result["per_class"] == {}


def test_bad_records_name_the_field():
    good = record("a", "polyp", 1.0, 2.0)
    no_modality = {key: value for key, value in good.items() if key != "modality"}
    with pytest.raises(ValueError, match="record 0 has modality=None"):
        aggregate_metrics([no_modality])
    with pytest.raises(TypeError, match="hd95='far'"):
        aggregate_metrics([good, {**good, "hd95": "far"}])
    no_dice = {key: value for key, value in good.items() if key != "dice"}
    with pytest.raises(KeyError, match="record 1 .* no 'dice' value"):
        aggregate_metrics([good, no_dice])
