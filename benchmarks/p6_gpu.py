"""P6 (GPU): training images/s and peak memory per strategy, predictor latency, attention speed-up.

    python benchmarks/p6_gpu.py --out p6_gpu.json          # on a CUDA GPU, ~2 minutes on an H100
    python benchmarks/p6_gpu.py --smoke --out /tmp/p6.json # CPU code path check on samunet_tiny

Everything is samunet_vit_b_res34 at 256 with random weights (speed does not depend on the
values), bf16 autocast over fp32 master weights, AdamW, box prompts, BCE on the low-res logits:
- training: images/s and peak memory for each strategy (conv-branch, lora-vit, decoder-only, full),
  plus conv-branch variants: ViT activation checkpointing, segment-anything's attention, a
  channels-last conv branch. decoder-only runs the whole image side every step here (no feature
  cache), as the other strategies do.
- predictor: SamUNetPredictor latency per image (`set_image` on a 512x512 uint8 image) and per
  extra prompt (`predict` with K boxes vs 1 box).
- attention: the ViT-B image encoder forward with sdpa vs segment-anything's attention, at 256
  (batch 16) and 1024 (batch 1).
Every row is written to the JSON as soon as it is measured, so a run cut short keeps what it
finished; a failing row records its error and the run goes on. Without a GPU (and without
--smoke) it prints why and exits 0.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shlex
import statistics
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_line

from samunet_tune import Prompts, SamUNetPredictor, create_model
from samunet_tune.modeling.attention import set_attention_backend
from samunet_tune.modeling.memory import set_activation_checkpointing, set_channels_last
from samunet_tune.strategies import build_strategy

STRATEGIES = ("conv-branch", "lora-vit", "decoder-only", "full")


class Run:
    """Settings for a real GPU run or the CPU smoke run."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.smoke = args.smoke
        self.device = torch.device("cpu" if args.smoke else "cuda")
        self.model = "samunet_tiny" if args.smoke else "samunet_vit_b_res34"
        self.images = 2 if args.smoke else args.images
        self.masks = 2 if args.smoke else args.masks
        self.warmup = 1 if args.smoke else args.warmup
        self.steps = 2 if args.smoke else args.steps
        self.prompts_per_predict = 4 if args.smoke else 16
        self.big_size = 192 if args.smoke else 1024


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def autocast(device: torch.device):
    return torch.autocast(device.type, dtype=torch.bfloat16)


def random_batch(run: Run, size: int, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(run.images, 3, size, size, generator=generator)
    corners = torch.rand(run.images * run.masks, 2, 2, generator=generator) * (size - 1)
    boxes = torch.cat([corners.min(1).values, corners.max(1).values], dim=1)
    index = torch.arange(run.images).repeat_interleave(run.masks)
    target = (torch.rand(run.images * run.masks, 1, size // 4, size // 4, generator=generator) > 0.5).float()
    prompts = Prompts(boxes=boxes, image_index=index).to(run.device)
    return images.to(run.device), prompts, target.to(run.device)


def training_row(run: Run, strategy_name: str, variant: str) -> dict:
    """Images/s and peak memory of `steps` training steps after `warmup` ones."""
    torch.manual_seed(0)
    model = create_model(run.model, vit_attention="reference" if variant == "reference-attention" else "sdpa")
    strategy = build_strategy(strategy_name)
    module = strategy.apply(model).to(run.device)
    if variant == "checkpointing":
        set_activation_checkpointing(module, True)
    if variant == "channels-last":
        set_channels_last(module, True)
    trainable = [p for p in module.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-4)
    images, prompts, target = random_batch(run, model.config.image_size)
    module.train()
    for frozen in strategy.frozen_eval_modules(module):
        frozen.eval()

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with autocast(run.device):
            logits = module(images, prompts)
        F.binary_cross_entropy_with_logits(logits.float(), target).backward()
        optimizer.step()

    for _ in range(run.warmup):
        step()
    sync(run.device)
    if run.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
        start_memory = torch.cuda.memory_allocated()
    start = time.perf_counter()
    for _ in range(run.steps):
        step()
    sync(run.device)
    seconds = (time.perf_counter() - start) / run.steps
    row = {
        "strategy": strategy_name,
        "variant": variant,
        "images_per_step": run.images,
        "masks_per_image": run.masks,
        "step_ms": 1000 * seconds,
        "images_per_s": run.images / seconds,
        "trainable_parameters": sum(p.numel() for p in trainable),
    }
    if run.device.type == "cuda":
        peak = torch.cuda.max_memory_allocated()
        row["peak_memory_gib"] = peak / 2**30
        row["peak_above_step_start_gib"] = (peak - start_memory) / 2**30
    return row


def predictor_row(run: Run) -> dict:
    torch.manual_seed(0)
    model = create_model(run.model).to(run.device)
    predictor = SamUNetPredictor(model)
    image = np.random.default_rng(0).integers(0, 256, (512, 512, 3), dtype=np.uint8)
    count = run.prompts_per_predict
    corners = np.random.default_rng(1).uniform(0, 511, (count, 2, 2))
    boxes = np.concatenate([corners.min(1), corners.max(1)], axis=1).astype(np.float32)
    rounds = 3 if run.smoke else 20

    def timed(function) -> float:
        times = []
        for _ in range(rounds + 2):
            sync(run.device)
            start = time.perf_counter()
            with autocast(run.device):
                function()
            sync(run.device)
            times.append(time.perf_counter() - start)
        return statistics.median(times[2:])  # first two: warm-up

    set_image = timed(lambda: predictor.set_image(image))
    one = timed(lambda: predictor.predict(box=boxes[0]))
    many = timed(lambda: predictor.predict(box=boxes))
    return {
        "set_image_ms": 1000 * set_image,
        "predict_1_box_ms": 1000 * one,
        f"predict_{count}_boxes_ms": 1000 * many,
        "per_extra_prompt_ms": 1000 * (many - one) / (count - 1),
        "image": "512x512x3 uint8 (preprocessing included)",
    }


def attention_row(run: Run, image_size: int, batch: int) -> dict:
    torch.manual_seed(0)
    overrides = {} if image_size == 256 and not run.smoke else {"image_size": image_size}
    encoder = create_model(run.model, **overrides).image_encoder.to(run.device).eval()
    images = torch.randn(batch, 3, image_size, image_size, device=run.device)
    rounds = 2 if run.smoke else 10
    times = {"reference": [], "sdpa": []}
    with torch.inference_mode(), autocast(run.device):
        for backend in ("reference", "sdpa"):  # warm-up, cudnn/sdpa kernel selection
            set_attention_backend(encoder, backend)
            encoder(images)
        for index in range(rounds):
            for backend in ("reference", "sdpa") if index % 2 == 0 else ("sdpa", "reference"):
                set_attention_backend(encoder, backend)
                sync(run.device)
                start = time.perf_counter()
                encoder(images)
                sync(run.device)
                times[backend].append(time.perf_counter() - start)
    reference, sdpa = statistics.median(times["reference"]), statistics.median(times["sdpa"])
    return {
        "image_size": image_size,
        "batch": batch,
        "reference_ms": 1000 * reference,
        "sdpa_ms": 1000 * sdpa,
        "speedup": statistics.median(a / b for a, b in zip(times["reference"], times["sdpa"])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="p6_gpu.json", help="JSON results file (rewritten after every row)")
    parser.add_argument("--smoke", action="store_true", help="run the code path on CPU with samunet_tiny")
    parser.add_argument("--images", type=int, default=16, help="images per training step")
    parser.add_argument("--masks", type=int, default=4, help="box prompts per image")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    if not args.smoke and not torch.cuda.is_available():
        print("P6 needs a CUDA GPU and none is visible; skipping (use --smoke to check the code path on CPU).")
        return
    run = Run(args)
    if run.device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    results = {
        "benchmark": "P6",
        "command": f"python {shlex.join(sys.argv)}",
        "machine": machine_line(),
        "device": torch.cuda.get_device_name() if run.device.type == "cuda" else "cpu (smoke run)",
        "torch": torch.__version__,
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "model": run.model,
        "precision": "bf16 autocast, fp32 weights",
        "smoke": run.smoke,
        "training": [],
        "predictor": None,
        "attention": [],
        "errors": [],
    }
    out = Path(args.out)

    def save() -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2))

    def attempt(label: str, function, sink) -> None:
        started = time.perf_counter()
        try:
            row = function()
            row["seconds_to_measure"] = round(time.perf_counter() - started, 2)
            sink(row)
            print(f"{label}: {json.dumps(row)}", flush=True)
        except Exception as error:  # noqa: BLE001 -- one failing row must not lose the others
            results["errors"].append({"row": label, "error": f"{type(error).__name__}: {error}"})
            print(f"{label}: FAILED {type(error).__name__}: {error}", flush=True)
            traceback.print_exc()
        finally:
            if run.device.type == "cuda":
                torch.cuda.empty_cache()
            save()

    print(f"P6 on {results['device']}; {results['machine']}", flush=True)
    rows = [(name, "default") for name in STRATEGIES]
    rows += [("conv-branch", "checkpointing"), ("conv-branch", "reference-attention"), ("conv-branch", "channels-last")]
    for name, variant in rows:
        attempt(f"train {name} {variant}", lambda n=name, v=variant: training_row(run, n, v), results["training"].append)
    attempt("predictor", lambda: predictor_row(run), lambda row: results.__setitem__("predictor", row))
    for size, batch in ((256, 2 if run.smoke else 16), (run.big_size, 1)):
        attempt(f"attention @{size}", lambda s=size, b=batch: attention_row(run, s, b), results["attention"].append)
    print(f"wrote {out}" + (f" ({len(results['errors'])} row(s) failed)" if results["errors"] else ""))


if __name__ == "__main__":
    main()
