"""Helpers for strategy tests: real forwards of samunet_tiny with box prompts, real Adam steps."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from samunet_tune import Prompts

IMAGE_SIZE = 128  # samunet_tiny
BOXES = torch.tensor([[8.0, 8.0, 60.0, 70.0], [30.0, 20.0, 110.0, 100.0]])


def batch(seed: int = 0) -> tuple[torch.Tensor, Prompts]:
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(2, 3, IMAGE_SIZE, IMAGE_SIZE, generator=generator)
    return images, Prompts(boxes=BOXES.clone())


def _prompt_rounds() -> list[Prompts]:
    # Boxes alone leave some prompt-encoder parameters without a gradient: point labels 1/0/-1
    # reach point_embeddings[0..1] and not_a_point_embed, a mask prompt reaches mask_downscaling
    # (and no_mask_embed is used only without one). Two rounds touch every parameter.
    points = torch.tensor([[[20.0, 30.0], [40.0, 40.0], [0.0, 0.0]]]).repeat(2, 1, 1)
    labels = torch.tensor([[1, 0, -1]]).repeat(2, 1)
    masks = torch.randn(2, 1, IMAGE_SIZE // 4, IMAGE_SIZE // 4, generator=torch.Generator().manual_seed(3))
    return [
        Prompts(boxes=BOXES.clone(), points=points, point_labels=labels),
        Prompts(boxes=BOXES.clone(), masks=masks),
    ]


def run_adam_steps(module: torch.nn.Module, frozen_eval_modules=()) -> None:
    """Two real forward/backward/Adam steps (LoRA's A matrices get a gradient only once B != 0)."""
    images, _ = batch()
    target = (torch.rand(2, 1, IMAGE_SIZE // 4, IMAGE_SIZE // 4, generator=torch.Generator().manual_seed(1)) > 0.5)
    optimizer = torch.optim.Adam([p for p in module.parameters() if p.requires_grad], lr=1e-3)
    module.train()
    for frozen in frozen_eval_modules:
        frozen.eval()
    for prompts in _prompt_rounds():
        optimizer.zero_grad()
        logits = module(images, prompts)
        assert logits.shape == (2, 1, IMAGE_SIZE // 4, IMAGE_SIZE // 4)
        F.binary_cross_entropy_with_logits(logits, target.float()).backward()
        optimizer.step()


def eval_outputs(module: torch.nn.Module, seed: int = 0) -> torch.Tensor:
    images, prompts = batch(seed)
    module.eval()
    with torch.no_grad():
        return module(images, prompts)


@pytest.fixture
def adam_steps():
    return run_adam_steps


@pytest.fixture
def outputs_of():
    return eval_outputs


@pytest.fixture
def sample_batch():
    return batch
