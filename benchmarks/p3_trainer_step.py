"""P3: a trainer step vs a bare PyTorch loop on the same model, data and batches (goal <= 1.05x).

Both consume the same DataLoader over the same PromptedDataset and run the same forward, loss,
backward and Adam step; the difference is what the trainer adds (accelerate's wrappers and
gradient-accumulation context, loss reduction, CSV/tensorboard logging, progress bar).
Measured side by side in one process, alternating, median of the per-step times.

    python benchmarks/p3_trainer_step.py [--model samunet_tiny] [--image-size 256] [--steps 20]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
import yaml


def recipe_file(folder: Path, args) -> Path:
    recipe = {
        "output_dir": str(folder / "run"),
        "model": {"name": args.model, "overrides": {"image_size": args.image_size}},
        "strategy": {"name": "conv-branch"},
        "data": {"train": {"plugin": "synthetic", "options": {"num_samples": 64, "image_size": args.image_size, "seed": 0}},
                 "batch_size": args.batch_size, "masks_per_image": 5},
        "optimizer": {"_component_": "torch.optim.Adam", "lr": 1e-4},
        "train": {"epochs": 1000},
        "validation": {"every_epoch": False},
        "checkpoint": {"every_n_steps": 10**9},
        "logging": {"progress_bar": True, "tensorboard": True},
        "max_steps": args.steps,
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


class StepTimer:
    """Wraps Trainer._loss to time whole optimizer steps from one loss call to the next."""

    def __init__(self) -> None:
        self.stamps: list[float] = []

    def per_step(self) -> list[float]:
        return [b - a for a, b in zip(self.stamps, self.stamps[1:])]


def trainer_step_times(args, folder: Path) -> list[float]:
    from samunet_tune.train.recipe import load_train_recipe
    from samunet_tune.train.trainer import Trainer

    timer = StepTimer()
    original = Trainer._loss

    def timed(self, batch):
        timer.stamps.append(time.perf_counter())
        return original(self, batch)

    Trainer._loss = timed
    try:
        recipe, settings = load_train_recipe(str(recipe_file(folder, args)))
        Trainer(recipe, settings).fit()
    finally:
        Trainer._loss = original
    return timer.per_step()[2:]  # the first steps warm up allocators and caches


def bare_step_times(args) -> list[float]:
    from samunet_tune import Prompts, create_model
    from samunet_tune.data import build_dataset
    from samunet_tune.data.training import PromptedDataset
    from samunet_tune.strategies import build_strategy
    from samunet_tune.train.losses import FocalDiceLoss

    torch.manual_seed(0)
    model = create_model(args.model, image_size=args.image_size)
    strategy = build_strategy("conv-branch")
    module = strategy.apply(model)
    dataset = PromptedDataset(build_dataset("synthetic", num_samples=64, image_size=args.image_size, seed=0),
                              image_size=args.image_size, masks_per_image=5, seed=0)
    loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch_size, shuffle=True, collate_fn=dataset.collate)
    optimizer = torch.optim.Adam([p for p in module.parameters() if p.requires_grad], lr=1e-4)
    loss_fn = FocalDiceLoss()
    module.train()
    for frozen in strategy.frozen_eval_modules(module):
        frozen.eval()
    stamps = []
    for step, batch in enumerate(loader):
        if step >= args.steps:
            break
        stamps.append(time.perf_counter())
        prompts = Prompts(boxes=batch["boxes"], image_index=batch["image_index"])
        logits = F.interpolate(module(batch["images"], prompts), size=(args.image_size,) * 2, mode="bilinear", align_corners=False)
        loss = loss_fn(logits[:, 0], batch["masks"].float())
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        loss.item()
    stamps.append(time.perf_counter())
    return [b - a for a, b in zip(stamps, stamps[1:])][2:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="samunet_tiny")
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    trainer, bare = [], []
    with tempfile.TemporaryDirectory() as folder:
        for round_index in range(args.rounds):  # alternate so drift on the machine hits both
            bare += bare_step_times(args)
            trainer += trainer_step_times(args, Path(folder) / f"r{round_index}")
    t, b = statistics.median(trainer), statistics.median(bare)
    print(f"command: python benchmarks/p3_trainer_step.py --model {args.model} --image-size {args.image_size} "
          f"--batch-size {args.batch_size} --steps {args.steps} --rounds {args.rounds}")
    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, {time.strftime('%Y-%m-%d')}")
    print(f"bare loop    median {b * 1000:8.1f} ms/step over {len(bare)} steps")
    print(f"trainer      median {t * 1000:8.1f} ms/step over {len(trainer)} steps")
    print(f"P3 ratio trainer/bare = {t / b:.3f}  (goal <= 1.05)")


if __name__ == "__main__":
    main()
