"""Look at a dataset: counts and ranges as text, and a contact sheet with masks and prompts drawn.

The contact sheet shows what training will see: each mask's outline in its own colour, the box
the prompt simulator makes from it (jittered as in training, dashed) and one positive point.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from samunet_tune.data.prompts import BoxJitter, box_from_mask, sample_points
from samunet_tune.data.sample import Sample

# Saturated colours that do not occur in grey medical images; the first one is what tests look for.
MASK_COLOURS = ("#ff00ff", "#00ffff", "#ffff00", "#00ff00", "#ff8000", "#0080ff", "#ff0060", "#a0ff00")


@dataclass
class DatasetSummary:
    """What `summarize` found."""

    samples: int = 0
    masks: int = 0
    classes: Counter = field(default_factory=Counter)
    modalities: Counter = field(default_factory=Counter)
    dtypes: Counter = field(default_factory=Counter)
    min_size: tuple[int, int] | None = None
    max_size: tuple[int, int] | None = None
    without_masks: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    looked_at: int = 0

    def format(self) -> str:
        def counts(counter: Counter) -> str:
            return ", ".join(f"{name} {count}" for name, count in sorted(counter.items(), key=str)) or "(none)"

        partial = f" (summary of the first {self.looked_at})" if self.looked_at < self.samples else ""
        maskless = f" ({self.without_masks} sample(s) without masks)" if self.without_masks else ""
        heights = _range(self.min_size, self.max_size, 0)
        widths = _range(self.min_size, self.max_size, 1)
        lines = [f"samples: {self.samples}{partial}", f"masks: {self.masks}{maskless}",
                 f"classes: {counts(self.classes)}", f"modalities: {counts(self.modalities)}",
                 f"image dtypes: {counts(self.dtypes)}", f"image height: {heights}, width: {widths}"]
        if self.skipped:
            lines.append(f"skipped: {counts(Counter(self.skipped))}")
        return "\n".join(lines)


def _range(low: tuple[int, int] | None, high: tuple[int, int] | None, axis: int) -> str:
    if low is None or high is None:
        return "-"
    return str(low[axis]) if low[axis] == high[axis] else f"{low[axis]}-{high[axis]}"


def summarize(dataset: Sequence[Sample], limit: int | None = None) -> DatasetSummary:
    """Decode the samples (the first `limit` if given) and count what is in them."""
    summary = DatasetSummary(samples=len(dataset))
    count = len(dataset) if limit is None else min(limit, len(dataset))
    for index in range(count):
        sample = dataset[index]
        summary.masks += len(sample.masks)
        summary.without_masks += not sample.masks
        summary.classes.update(sample.class_names)
        summary.modalities[sample.modality or "unknown"] += 1
        summary.dtypes[str(sample.image.dtype)] += 1
        height, width = sample.size
        low, high = summary.min_size or (height, width), summary.max_size or (height, width)
        summary.min_size = (min(low[0], height), min(low[1], width))
        summary.max_size = (max(high[0], height), max(high[1], width))
    summary.looked_at = count
    errors = getattr(dataset, "errors", None)
    summary.skipped = errors.counts() if errors is not None else {}
    return summary


def display_image(image: np.ndarray) -> np.ndarray:
    """HxWx3 float in [0, 1] for showing (non-uint8 images min-max scaled, as the model sees them)."""
    from samunet_tune.modeling.transforms import image_to_float_rgb

    return image_to_float_rgb(image).numpy().transpose(1, 2, 0) / 255.0


def contact_sheet(dataset: Sequence[Sample], out: str | Path, num: int = 8, seed: int = 0,
                  jitter: BoxJitter = BoxJitter(), columns: int = 4) -> Path:
    """Write a PNG grid of `num` samples (evenly spread over the dataset) with masks and prompts."""
    from matplotlib.figure import Figure  # no pyplot: no global backend or figure state is touched
    from matplotlib.patches import Rectangle

    rng = np.random.default_rng(seed)
    indices = sorted(set(np.linspace(0, len(dataset) - 1, min(num, len(dataset))).round().astype(int).tolist()))
    rows, columns = max(1, -(-len(indices) // columns)), max(1, min(columns, len(indices)))
    figure = Figure(figsize=(3.2 * columns, 3.6 * rows))
    axes = figure.subplots(rows, columns, squeeze=False)
    for axis in axes.ravel():
        axis.axis("off")
    for axis, index in zip(axes.ravel(), indices):
        sample = dataset[index]
        axis.imshow(display_image(sample.image), interpolation="nearest")
        for number, annotation in enumerate(sample.masks):
            colour = MASK_COLOURS[number % len(MASK_COLOURS)]
            axis.contour(annotation.mask.astype(np.uint8), levels=[0.5], colors=[colour], linewidths=1.6)
            box = jitter(box_from_mask(annotation.mask), sample.size, rng)
            axis.add_patch(Rectangle((box[0], box[1]), box[2] - box[0], box[3] - box[1], fill=False,
                                     edgecolor=colour, linestyle="--", linewidth=1.0))
            points, _ = sample_points(annotation.mask, rng, 1, 0)
            axis.plot(points[:, 0], points[:, 1], marker="*", markersize=9, color=colour, markeredgecolor="black",
                      linestyle="none")
        names = ", ".join(sorted(set(sample.class_names))) or "no masks"
        size = f"{sample.size[0]}x{sample.size[1]}"
        axis.set_title(f"{sample.sample_id[-28:]}\n{sample.modality or ''} {size}: {names[:40]}",
                       fontsize=7)
    figure.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=100)
    return out
