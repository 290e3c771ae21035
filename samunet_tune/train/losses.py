"""Segmentation losses on logits upsampled to the model input, selectable by name in a recipe.

The spec's loss is focal (alpha 0.25, gamma 2, mean over pixels) + 20 x Dice (smooth 1).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from samunet_tune.registry import Registry

LOSSES: Registry = Registry("loss", entry_point_group="samunet_tune.losses")


def focal_loss(logits: torch.Tensor, targets: torch.Tensor, alpha: float = 0.25, gamma: float = 2.0) -> torch.Tensor:
    """Sigmoid focal loss, mean over all pixels of all masks."""
    probabilities = torch.sigmoid(logits)
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    p_t = probabilities * targets + (1 - probabilities) * (1 - targets)
    loss = ce * (1 - p_t) ** gamma
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
    return (alpha_t * loss).mean()


def dice_loss(logits: torch.Tensor, targets: torch.Tensor, smooth: float = 1.0) -> torch.Tensor:
    """1 - soft Dice per mask, averaged over masks."""
    probabilities = torch.sigmoid(logits).flatten(1)
    targets = targets.flatten(1)
    intersection = (probabilities * targets).sum(1)
    dice = (2 * intersection + smooth) / (probabilities.sum(1) + targets.sum(1) + smooth)
    return (1 - dice).mean()


def soft_iou_loss(logits: torch.Tensor, targets: torch.Tensor, smooth: float = 1.0) -> torch.Tensor:
    probabilities = torch.sigmoid(logits).flatten(1)
    targets = targets.flatten(1)
    intersection = (probabilities * targets).sum(1)
    union = probabilities.sum(1) + targets.sum(1) - intersection
    return (1 - (intersection + smooth) / (union + smooth)).mean()


class FocalDiceLoss:
    """The reference loss: focal_weight x focal + dice_weight x Dice."""

    def __init__(self, focal_weight: float = 1.0, dice_weight: float = 20.0, alpha: float = 0.25, gamma: float = 2.0) -> None:
        self.focal_weight, self.dice_weight, self.alpha, self.gamma = focal_weight, dice_weight, alpha, gamma

    def __call__(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return self.focal_weight * focal_loss(logits, targets, self.alpha, self.gamma) + self.dice_weight * dice_loss(logits, targets)


class DiceBCELoss:
    """Dice + binary cross-entropy, optionally + soft IoU (iou_weight > 0)."""

    def __init__(self, dice_weight: float = 1.0, bce_weight: float = 1.0, iou_weight: float = 0.0) -> None:
        self.dice_weight, self.bce_weight, self.iou_weight = dice_weight, bce_weight, iou_weight

    def __call__(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        loss = self.dice_weight * dice_loss(logits, targets) + self.bce_weight * F.binary_cross_entropy_with_logits(logits, targets)
        if self.iou_weight:
            loss = loss + self.iou_weight * soft_iou_loss(logits, targets)
        return loss


LOSSES.register("focal_dice", FocalDiceLoss)
LOSSES.register("dice_bce", DiceBCELoss)
