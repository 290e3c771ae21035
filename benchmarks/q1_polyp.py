"""Q1 real-data learning: the polyp recipe trained from scratch on kvasir-seg-mini.

160 train / 40 val images (the folder plugin's seeded split), a small SAM-UNet from random
weights (no pretrained weights exist offline), box prompts. Prints the validation Dice with
tight boxes beside the box-fill and inscribed-ellipse baselines on the same masks.

    python benchmarks/q1_polyp.py [--minutes-budget 10] [--model samunet_tiny] [--epochs 40]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="samunet_tiny")
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "kvasir-seg-mini"))
    parser.add_argument("--output", default="outputs/bench-q1")
    args = parser.parse_args()

    from samunet_tune.train.recipe import load_train_recipe
    from samunet_tune.train.trainer import Trainer

    split = "val_fraction: 0.2, test_fraction: 0.0, seed: 0"
    overrides = [
        f"output_dir={args.output}",
        f"model.name={args.model}",
        "model.pretrained=null",
        f"model.overrides={{image_size: {args.image_size}}}",
        f"data.train.options={{root: {args.data}, split: train, {split}}}",
        f"data.val.options={{root: {args.data}, split: val, {split}}}",
        f"train.epochs={args.epochs}",
        "optimizer.lr=0.001",
        f"scheduler.milestones=[{int(args.epochs * 0.6)}, {int(args.epochs * 0.85)}]",
        "validation.early_stopping_patience=null",
        "logging.progress_bar=false",
        "checkpoint.every_n_steps=100000",
    ]
    recipe, settings = load_train_recipe("polyp", overrides)
    started = time.time()
    metrics = Trainer(recipe, settings).fit()
    minutes = (time.time() - started) / 60
    validation = metrics["validation"]
    report = {
        "command": "python benchmarks/q1_polyp.py " + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()),
        "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads",
        "torch": torch.__version__,
        "date": time.strftime("%Y-%m-%d"),
        "minutes": round(minutes, 2),
        "steps": metrics["global_step"],
        "val_masks": validation["count"],
        "final_val_dice": round(validation["dice"], 4),
        "best_val_dice": round(metrics["best"]["value"], 4),
        "best_step": metrics["best"]["step"],
        "baseline_box_fill_dice": round(validation["baseline_box_dice"], 4),
        "baseline_ellipse_dice": round(validation["baseline_ellipse_dice"], 4),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
