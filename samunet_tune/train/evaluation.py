"""Validation during training: one tight box per mask (no jitter), Dice and IoU per mask.

Measured in the model frame (masks resized with the shared transforms, padding cropped away);
`samunet-tune eval` measures at the original resolution. Each process validates its own slice
of the samples (no duplicates), and the sums are reduced across processes.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from samunet_tune.modeling.prompts import Prompts
from samunet_tune.modeling.transforms import preprocess_image, resize_mask, scale_boxes


def _baseline_dice(mask: np.ndarray, box: np.ndarray) -> tuple[float, float]:
    """Dice of the two trivial baselines (box filled, inscribed ellipse) on the original mask."""
    from samunet_tune.eval.baselines import box_fill_mask, inscribed_ellipse_mask
    from samunet_tune.eval.metrics import dice

    return dice(box_fill_mask(box, mask.shape), mask), dice(inscribed_ellipse_mask(box, mask.shape), mask)


@torch.no_grad()
def validate_masks(accelerator, module, dataset, batch_size: int, image_size: int) -> dict[str, float]:
    """Mean Dice/IoU over every mask of `dataset` (a Sequence[Sample]) with box prompts, beside
    the box-fill and inscribed-ellipse baselines on the same masks and boxes."""
    from samunet_tune.data.prompts import box_from_mask

    module.eval()
    device = accelerator.device
    sums = torch.zeros(5, dtype=torch.float64, device=device)  # dice, iou, box, ellipse, count
    indices = list(range(accelerator.process_index, len(dataset), accelerator.num_processes))
    for start in range(0, len(indices), batch_size):
        images, input_sizes, original_sizes = [], [], []
        boxes, targets, owners, baselines = [], [], [], []  # one entry per mask
        for row, index in enumerate(indices[start : start + batch_size]):
            sample = dataset[index]
            tensor, input_size = preprocess_image(sample.image, image_size)
            images.append(tensor)
            input_sizes.append(input_size)
            original_sizes.append(sample.image.shape[:2])
            for annotation in sample.masks:
                if not annotation.mask.any():
                    continue
                box = np.asarray(box_from_mask(annotation.mask), dtype=np.float32)
                baselines.append(_baseline_dice(annotation.mask, box))
                boxes.append(box)
                targets.append(resize_mask(annotation.mask, image_size))
                owners.append(row)
        if not boxes:
            continue
        framed_boxes = torch.stack([scale_boxes(box, original_sizes[o], image_size) for box, o in zip(boxes, owners)])
        prompts = Prompts(boxes=framed_boxes.to(device), image_index=torch.tensor(owners, device=device))
        with accelerator.autocast():
            logits = module(torch.stack(images).to(device), prompts)
        logits = F.interpolate(logits.float(), size=(image_size, image_size), mode="bilinear", align_corners=False)[:, 0]
        for n, owner in enumerate(owners):
            height, width = input_sizes[owner]
            predicted = logits[n, :height, :width] > 0
            target = targets[n][:height, :width].to(device) > 0.5
            intersection = (predicted & target).sum().item()
            total = predicted.sum().item() + target.sum().item()
            union = (predicted | target).sum().item()
            box_dice, ellipse_dice = baselines[n]
            sums += torch.tensor([2 * intersection / total, intersection / union, box_dice, ellipse_dice, 1.0], dtype=torch.float64, device=device)
    sums = accelerator.reduce(sums, reduction="sum")
    count = max(sums[4].item(), 1.0)
    names = ("dice", "iou", "baseline_box_dice", "baseline_ellipse_dice")
    return {**{name: sums[i].item() / count for i, name in enumerate(names)}, "count": int(sums[4].item())}
