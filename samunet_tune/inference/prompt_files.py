"""Prompts for `predict`: from a JSON or CSV file, or from ground-truth masks; all checked.

JSON: a map from image (or slice) to a list of prompts::

    {"cju0qkwl35piu0993l0dewei2.jpg": [{"box": [120, 80, 340, 300]},
                                       {"points": [[200, 150], [60, 40]], "point_labels": [1, 0]}],
     "sub/other.png": [{"box": [10, 10, 90, 70], "points": [[50, 40]], "point_labels": [1], "label": 2}]}

For a volume the keys are slice indices along the axis: ``{"70": [{"box": [...], "label": 1}]}``.

CSV: one row per prompt, a header naming the columns; ``image`` (or ``slice``) is required,
``x0,y0,x1,y1`` give a box, ``x,y,point_label`` one point; rows sharing an ``image`` and a
``prompt`` id are one prompt (a box and several points); ``label`` and ``name`` are optional.

Coordinates are pixels of the original image, x = column, y = row, box maxima inclusive
(x1 <= width - 1). ``label`` (a whole number >= 1, default the prompt's 1-based position) is
the value the prompt's mask gets in a label volume and the number in its PNG file name.
"""

from __future__ import annotations

import csv
import json
import math
import warnings
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from samunet_tune.inference.inputs import PredictInput

PROMPT_KEYS = {"box", "points", "point_labels", "label", "name"}
CSV_COLUMNS = {"image", "slice", "prompt", "x0", "y0", "x1", "y1", "x", "y", "point_label", "label", "name"}


@dataclass
class Prompt:
    """One object to segment on one frame, checked against the frame's size.

    Args:
        origin: where it was given ("prompts.json: 'a.png' prompt 2"), for messages.
        label: output value / file number (>= 1).
        box: (4,) x0, y0, x1, y1 (inclusive), or None.
        points: (P, 2) xy, or None.
        point_labels: (P,) 1 foreground / 0 background, or None.
        name: an optional name, kept in predictions.json.
        target: the ground-truth mask it was made from (prompts from masks), for metrics.
    """

    origin: str
    label: int
    box: np.ndarray | None = None
    points: np.ndarray | None = None
    point_labels: np.ndarray | None = None
    name: str | None = None
    target: np.ndarray | None = None

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"label": self.label}
        if self.name is not None:
            entry["name"] = self.name
        if self.box is not None:
            entry["box"] = [float(v) for v in self.box]
        if self.points is not None:
            entry["points"] = self.points.tolist()
            entry["point_labels"] = [int(v) for v in self.point_labels]
        return entry


class PromptError(ValueError):
    """A prompt that cannot be used; the message names the file, the image and the prompt."""


def _number_list(value: Any, length: int | None, what: str, origin: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise PromptError(f"{origin}: {what} {value!r} is not a list of numbers") from error
    if (length is not None and array.shape != (length,)) or not np.isfinite(array).all():
        raise PromptError(f"{origin}: {what} {value!r} must be {length or 'some'} finite numbers")
    return array


def check_prompt(prompt: Prompt, size: tuple[int, int], clip_boxes: bool = False) -> Prompt:
    """Raise PromptError for an inverted box, a box or point outside the image, bad point labels.

    Args:
        prompt: the prompt to check (its box may be clipped in place).
        size: (height, width) of its frame.
        clip_boxes: clip a box that sticks out of the image (with a warning) instead of failing;
            a box entirely outside is an error either way.
    """
    height, width = size
    limits = f"the image is {width} wide and {height} high: 0 <= x <= {width - 1}, 0 <= y <= {height - 1}"
    if prompt.box is None and prompt.points is None:
        raise PromptError(f"{prompt.origin}: has neither a box nor points")
    if prompt.box is not None:
        x0, y0, x1, y1 = prompt.box
        if x1 < x0 or y1 < y0:
            raise PromptError(f"{prompt.origin}: inverted box {prompt.box.tolist()}; boxes are [x0, y0, x1, y1] "
                              "with x1 >= x0 and y1 >= y0")
        inside = x0 >= 0 and y0 >= 0 and x1 <= width - 1 and y1 <= height - 1
        if not inside:
            if not clip_boxes or x0 > width - 1 or y0 > height - 1 or x1 < 0 or y1 < 0:
                hint = " (or pass --clip-boxes to clip boxes that stick out)" if not clip_boxes else ""
                raise PromptError(f"{prompt.origin}: box {prompt.box.tolist()} lies outside the image; {limits}{hint}")
            clipped = prompt.box.copy()
            clipped[[0, 2]] = clipped[[0, 2]].clip(0, width - 1)
            clipped[[1, 3]] = clipped[[1, 3]].clip(0, height - 1)
            warnings.warn(f"{prompt.origin}: box {prompt.box.tolist()} clipped to {clipped.tolist()}", stacklevel=2)
            prompt.box = clipped
    if prompt.points is not None:
        outside = ((prompt.points[:, 0] < 0) | (prompt.points[:, 0] > width - 1) | (prompt.points[:, 1] < 0)
                   | (prompt.points[:, 1] > height - 1))
        if outside.any():
            raise PromptError(f"{prompt.origin}: point(s) {prompt.points[outside].tolist()} lie outside the image; {limits}")
    return prompt


def _prompt_from_json(entry: Any, origin: str, position: int) -> Prompt:
    if not isinstance(entry, dict):
        raise PromptError(f"{origin}: a prompt is an object like {{\"box\": [x0, y0, x1, y1]}}, got {entry!r}")
    unknown = sorted(set(entry) - PROMPT_KEYS)
    if unknown:
        raise PromptError(f"{origin}: unknown key(s) {unknown}; a prompt has {', '.join(sorted(PROMPT_KEYS))}")
    box = _number_list(entry["box"], 4, "box", origin) if entry.get("box") is not None else None
    points = labels = None
    if entry.get("points") is not None:
        try:
            points = np.asarray(entry["points"], dtype=np.float64).reshape(-1, 2)
        except (TypeError, ValueError) as error:
            raise PromptError(f"{origin}: points {entry['points']!r} must be a list of [x, y] pairs") from error
        labels = entry.get("point_labels", [1] * len(points))
        labels = _number_list(labels, len(points), f"point_labels (one per point, {len(points)})", origin)
        if not np.isin(labels, (0, 1)).all() or not np.isfinite(points).all():
            raise PromptError(f"{origin}: point_labels must be 1 (foreground) or 0 (background), got {labels.tolist()}")
        labels = labels.astype(np.int64)
    label = entry.get("label", position)
    if isinstance(label, bool) or not isinstance(label, (int, float)) or label != int(label) or not 1 <= label <= 65535:
        raise PromptError(f"{origin}: label {label!r} must be a whole number from 1 to 65535")
    name = entry.get("name")
    return Prompt(origin=origin, label=int(label), box=box, points=points, point_labels=labels,
                  name=None if name is None else str(name))


def read_prompt_file(path: str | Path, source: PredictInput, clip_boxes: bool = False) -> dict[str, list[Prompt]]:
    """Prompts per frame key from a .json or .csv file, checked against `source`'s frames."""
    path = Path(path)
    if not path.is_file():
        raise PromptError(f"{path} does not exist: --prompts takes a .json or .csv prompt file")
    if path.suffix.lower() == ".json":
        raw = _read_json(path)
    elif path.suffix.lower() == ".csv":
        raw = _read_csv(path)
    else:
        raise PromptError(f"{path}: prompt files are .json or .csv")
    prompts: dict[str, list[Prompt]] = {}
    for name, entries in raw.items():
        key = source.resolve(name, f"{path.name}")
        size = _frame_size(source, key)
        prompts.setdefault(key, []).extend(check_prompt(p, size, clip_boxes) for p in entries)
    if not any(prompts.values()):
        raise PromptError(f"{path}: holds no prompts; give at least one box or point")
    return prompts


def _frame_size(source: PredictInput, key: str) -> tuple[int, int]:
    from samunet_tune.data.image_files import image_file_size

    if source.frame_size is not None:
        return source.frame_size
    return image_file_size(source.frames[key].path)  # from the header: nothing decoded twice


def _read_json(path: Path) -> dict[str, list[Prompt]]:
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise PromptError(f"{path}: not valid JSON ({error})") from error
    if not isinstance(data, dict):
        raise PromptError(f"{path}: the top level must map image names (or slice indices) to lists of prompts")
    result = {}
    for name, entries in data.items():
        entries = [entries] if isinstance(entries, dict) else entries
        if not isinstance(entries, list):
            raise PromptError(f"{path}: {name!r} must map to a list of prompts")
        result[str(name)] = [_prompt_from_json(e, f"{path.name}: {name!r} prompt {i + 1}", i + 1)
                             for i, e in enumerate(entries)]
    return result


def _cell(row: dict, column: str) -> str | None:
    value = row.get(column)
    return None if value is None or not str(value).strip() else str(value).strip()


def _read_csv(path: Path) -> dict[str, list[Prompt]]:
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        columns = set(reader.fieldnames or ())
        unknown = sorted(columns - CSV_COLUMNS)
        if unknown or not columns & {"image", "slice"}:
            raise PromptError(f"{path}: columns {sorted(columns)}; expected 'image' (or 'slice') and some of "
                              f"{sorted(CSV_COLUMNS - {'image', 'slice'})}" + (f" (unknown: {unknown})" if unknown else ""))
        grouped: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        for line, row in enumerate(reader, start=2):
            name = _cell(row, "image") or _cell(row, "slice")
            if name is None:
                raise PromptError(f"{path}, line {line}: no image/slice given")
            prompt_id = _cell(row, "prompt") or f"line {line}"
            entry = grouped[name].setdefault(prompt_id, {"line": line})
            box = [_cell(row, c) for c in ("x0", "y0", "x1", "y1")]
            if any(v is not None for v in box):
                if None in box:
                    raise PromptError(f"{path}, line {line}: a box needs all of x0, y0, x1, y1")
                if "box" in entry and entry["box"] != box:
                    raise PromptError(f"{path}, line {line}: prompt {prompt_id!r} has two different boxes")
                entry["box"] = box
            point = [_cell(row, "x"), _cell(row, "y")]
            if any(v is not None for v in point):
                if None in point:
                    raise PromptError(f"{path}, line {line}: a point needs both x and y")
                entry.setdefault("points", []).append(point)
                entry.setdefault("point_labels", []).append(_cell(row, "point_label") or "1")
            for column in ("label", "name"):
                if _cell(row, column) is not None:
                    entry[column] = _cell(row, column)
    result = {}
    for name, entries in grouped.items():
        result[name] = [_prompt_from_csv(entry, f"{path.name}, line {entry['line']}", i + 1)
                        for i, entry in enumerate(entries.values())]
    return result


def _prompt_from_csv(entry: dict, origin: str, position: int) -> Prompt:
    def number(text: str) -> float:
        try:
            return float(text)
        except ValueError as error:
            raise PromptError(f"{origin}: {text!r} is not a number") from error

    converted: dict[str, Any] = {}
    if "box" in entry:
        converted["box"] = [number(v) for v in entry["box"]]
    if "points" in entry:
        converted["points"] = [[number(x), number(y)] for x, y in entry["points"]]
        converted["point_labels"] = [number(v) for v in entry["point_labels"]]
    if "label" in entry:
        value = number(entry["label"])
        converted["label"] = int(value) if math.isfinite(value) and value == int(value) else value
    if "name" in entry:
        converted["name"] = entry["name"]
    return _prompt_from_json(converted, origin, position)
