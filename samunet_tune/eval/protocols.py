"""Prompted evaluation protocols: which prompts a mask gets, and the predictions they give.

Every protocol starts from the masks of one image whose image the predictor has already encoded
(`SamUNetPredictor.set_image`): all masks of the image are answered by one `predict` call per
round (in chunks of `batch_prompts`), so the image encoder runs once per image. Predictions are
at the image's original resolution, thresholded at logit 0 (probability 0.5).

Protocols (the names `--protocol` takes):

* ``box``: one tight box per mask around its largest 8-connected component, no jitter (the
  reference evaluation of SAM-UNet / SAM-Med2D).
* ``point``: one positive click at the centre of the mask's largest component (its pixel
  farthest from the border), deterministic.
* ``points:K``: K positive points drawn uniformly from the mask, seeded per image and mask
  (``seed``, sample id, mask index), so a rerun or a ``--limit`` gives the same points.
* ``clicks:N``: interactive correction. Round 0 is the ``box`` prediction; each of the N rounds
  then adds one click at the centre of the largest error region of the previous prediction
  (positive in a missed region, negative in a spurious one), keeps the box and the earlier
  clicks, and feeds the previous low-resolution logits back as the mask prompt, as SAM's
  interactive loop does. The curve has N + 1 points: rounds 0..N. A mask predicted perfectly
  gets a padding click (label -1, ignored by the model) so all masks of the image stay batched.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field

import numpy as np

from samunet_tune.data.prompts import (
    PADDING_LABEL,
    box_from_mask,
    largest_component,
    next_click,
    region_centre,
    sample_points,
)

PROTOCOL_KINDS = ("box", "point", "points", "clicks")
PROTOCOL_SYNTAX = "box, point, points:K or clicks:N"


@dataclass(frozen=True)
class Protocol:
    """One way of prompting every mask.

    Args:
        kind: "box", "point", "points" or "clicks".
        count: K for "points", N (correction rounds) for "clicks"; 1 otherwise.
        seed: seed of the random points of "points".
    """

    kind: str
    count: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in PROTOCOL_KINDS:
            raise ValueError(f"unknown protocol {self.kind!r}: use {PROTOCOL_SYNTAX}")
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 1:
            raise ValueError(f"protocol {self.kind}: the count must be a whole number >= 1, got {self.count!r}")
        if self.kind in ("box", "point") and self.count != 1:
            raise ValueError(f"protocol {self.kind!r} takes no count; use points:K or clicks:N for several prompts")

    @classmethod
    def parse(cls, text: str, seed: int = 0) -> Protocol:
        """``"box"``, ``"point"``, ``"points:3"``, ``"clicks:5"`` -> Protocol."""
        match = re.fullmatch(r"\s*([a-z]+)\s*(?::\s*(\d+)\s*)?", str(text))
        if match is None or match.group(1) not in PROTOCOL_KINDS:
            raise ValueError(f"unknown protocol {text!r}: use {PROTOCOL_SYNTAX} (e.g. --protocol clicks:5)")
        kind, count = match.group(1), match.group(2)
        if kind in ("points", "clicks") and count is None:
            raise ValueError(f"protocol {text!r} needs a count: {kind}:K, e.g. {kind}:3")
        return cls(kind, int(count) if count is not None else 1, seed)

    @property
    def name(self) -> str:
        return self.kind if self.kind in ("box", "point") else f"{self.kind}:{self.count}"

    @property
    def has_curve(self) -> bool:
        return self.kind == "clicks"

    def describe(self) -> str:
        return {
            "box": "one tight box per mask (largest 8-connected component, no jitter)",
            "point": "one positive click at the centre of the mask's largest component",
            "points": f"{self.count} positive points drawn uniformly from the mask (seed {self.seed})",
            "clicks": f"box, then {self.count} correction clicks at the centre of the largest error region",
        }[self.kind]


@dataclass
class MaskPrediction:
    """What one mask got and gave under a protocol.

    Attributes:
        mask: the final bool prediction (H, W).
        rounds: for "clicks", the prediction after each round 0..N (rounds[-1] is `mask`).
        box: the box prompt (x0, y0, x1, y1, inclusive), or None.
        points: (P, 2) xy of the point prompts (clicks in order), labels (P,): 1, 0 or -1 padding.
    """

    mask: np.ndarray
    rounds: list[np.ndarray] = field(default_factory=list)
    box: np.ndarray | None = None
    points: np.ndarray | None = None
    labels: np.ndarray | None = None


def mask_seed(seed: int, sample_id: str, mask_index: int) -> np.random.Generator:
    """The generator of one mask's random points: independent of order, limit and batching."""
    return np.random.default_rng([seed, zlib.crc32(sample_id.encode("utf-8")), mask_index])


def centre_click(mask: np.ndarray) -> np.ndarray:
    """(x, y) of the pixel of the mask's largest component farthest from its border."""
    return np.asarray(region_centre(largest_component(mask)), dtype=np.float32)


def tight_boxes(targets: list[np.ndarray]) -> np.ndarray:
    """(K, 4) tight boxes of the targets' largest components (inclusive max coordinates)."""
    return np.stack([box_from_mask(target) for target in targets]).astype(np.float32)


def run_protocol(predictor, protocol: Protocol, targets: list[np.ndarray], sample_id: str = "",
                 batch_prompts: int = 64) -> list[MaskPrediction]:
    """Prompt every target mask of the image set on `predictor` and return its predictions.

    Args:
        predictor: a SamUNetPredictor with the image already set.
        protocol: how to prompt.
        targets: the non-empty bool masks (H, W) of this image.
        sample_id: names the image in the seed of random points.
        batch_prompts: most prompts per `predict` call.
    """
    if batch_prompts < 1:
        raise ValueError(f"batch_prompts={batch_prompts} must be >= 1")
    results: list[MaskPrediction] = []
    for start in range(0, len(targets), batch_prompts):
        chunk = targets[start : start + batch_prompts]
        indices = list(range(start, start + len(chunk)))
        results += _run_chunk(predictor, protocol, chunk, indices, sample_id)
    return results


def _run_chunk(predictor, protocol: Protocol, targets: list[np.ndarray], indices: list[int],
               sample_id: str) -> list[MaskPrediction]:
    if protocol.kind == "box":
        boxes = tight_boxes(targets)
        masks, _ = predictor.predict(box=boxes)
        return [MaskPrediction(mask=m, box=b) for m, b in zip(masks, boxes)]
    if protocol.kind in ("point", "points"):
        if protocol.kind == "point":
            points = np.stack([centre_click(t)[None] for t in targets])
            labels = np.ones(points.shape[:2], dtype=np.int64)
        else:
            drawn = [sample_points(t, mask_seed(protocol.seed, sample_id, i), protocol.count, 0)
                     for t, i in zip(targets, indices)]
            points = np.stack([coords for coords, _ in drawn])
            labels = np.stack([point_labels for _, point_labels in drawn])
        masks, _ = predictor.predict(points=points, point_labels=labels)
        return [MaskPrediction(mask=m, points=p, labels=l) for m, p, l in zip(masks, points, labels)]
    return _run_clicks(predictor, protocol.count, targets)


def _run_clicks(predictor, rounds: int, targets: list[np.ndarray]) -> list[MaskPrediction]:
    boxes = tight_boxes(targets)
    masks, logits = predictor.predict(box=boxes)
    history = [masks]
    points = np.zeros((len(targets), 0, 2), dtype=np.float32)
    labels = np.zeros((len(targets), 0), dtype=np.int64)
    for _ in range(rounds):
        new_points, new_labels = [], []
        for prediction, target in zip(masks, targets):
            click = next_click(prediction, target)
            if click is None:  # already perfect: a padding point keeps the batch rectangular
                new_points.append(np.zeros(2, dtype=np.float32))
                new_labels.append(PADDING_LABEL)
            else:
                new_points.append(click[0])
                new_labels.append(click[1])
        points = np.concatenate([points, np.stack(new_points)[:, None]], axis=1)
        labels = np.concatenate([labels, np.asarray(new_labels, dtype=np.int64)[:, None]], axis=1)
        masks, logits = predictor.predict(box=boxes, points=points, point_labels=labels, mask_input=logits)
        history.append(masks)
    return [
        MaskPrediction(mask=history[-1][k], rounds=[round_masks[k] for round_masks in history], box=boxes[k],
                       points=points[k], labels=labels[k])
        for k in range(len(targets))
    ]
